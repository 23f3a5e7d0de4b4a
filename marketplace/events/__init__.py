"""Matchmaking events (分领域供需对接会)."""
