"""Sync with the hosted backend: login, outbox push, cursor pull, realtime (sync issue)."""
