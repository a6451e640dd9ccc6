"""Accounts: sign-up, login, tokens, profile, deletion, and the current-user dependencies."""
