"""Passwords, tokens and the login rate limiter."""
