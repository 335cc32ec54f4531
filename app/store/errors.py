"""Errors of the local store."""

from shared.errors import Error, KnownError


class StoreError(Error):
    """Base of the store's errors."""


class StoreUnavailable(StoreError, KnownError):
    """The store file cannot be opened or written (disk full, permissions, locked)."""


class NotFound(StoreError, KnownError):
    """The record asked for is not in the store (deleted meanwhile)."""


class SchemaTooNew(StoreError, KnownError):
    """The store was written by a newer Clinic Desk; this one must not touch it."""
