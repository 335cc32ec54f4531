"""Signing in to the hosted server."""
