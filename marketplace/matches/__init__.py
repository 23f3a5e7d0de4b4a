"""The matcher in the product: per-process indexes kept fresh, feedback, weights."""
