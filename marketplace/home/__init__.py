"""The front page, a user's own items, and the center's review queue."""
