"""Explainable matching of scene opportunities and capabilities (no web framework)."""

from matching._matcher import Match, Matcher, NotFittedError, Ranking
from matching.items import Item
from matching.tokenize import Tokenizer
from matching.weights import DEFAULT_WEIGHTS, FEATURES, fit_weights

__all__ = [
    "DEFAULT_WEIGHTS",
    "FEATURES",
    "Item",
    "Match",
    "Matcher",
    "NotFittedError",
    "Ranking",
    "Tokenizer",
    "fit_weights",
]
