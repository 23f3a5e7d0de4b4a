"""Accounts: log-in, revocable sessions and API tokens, the current actor."""
