"""Explainable matching of scene opportunities and capabilities (no web framework)."""

from matching.tokenize import Tokenizer

__all__ = ["Tokenizer"]
