"""Passwords, tokens and login throttling (no HTTP here: routes and dependencies use these)."""
