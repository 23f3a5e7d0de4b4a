"""Explainable matching of scene opportunities and capabilities (no web framework)."""

from matching._matcher import Match, Matcher, NotFittedError, Ranking
from matching.embed import E5Embedder, Embedder, load_embedder
from matching.items import Item
from matching.tokenize import Tokenizer
from matching.weights import (
    DEFAULT_WEIGHTS,
    FEATURES,
    STRONG_PROBABILITY,
    Calibration,
    fit_score_model,
    fit_weights,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "FEATURES",
    "STRONG_PROBABILITY",
    "Calibration",
    "E5Embedder",
    "Embedder",
    "Item",
    "Match",
    "Matcher",
    "NotFittedError",
    "Ranking",
    "Tokenizer",
    "fit_score_model",
    "fit_weights",
    "load_embedder",
]
