"""Errors of the sync: what went wrong talking to the server, each with a sentence for the user."""

from shared.errors import Error, KnownError


class SyncError(Error):
    """Base of the sync's errors."""


class Offline(SyncError, KnownError):
    """The server cannot be reached (network down, server stopped, timeout)."""


class ServerBusy(SyncError, KnownError):
    """The server answered 5xx or 429: try again later (after `retry_after` seconds if given)."""

    def __init__(self, message: str, retry_after: float | None = None, code: str = "") -> None:
        super().__init__(message)
        self.retry_after = retry_after
        #: The server's code for it when it gave one ("phone_calls_off").
        self.code = code


class SignInRequired(SyncError, KnownError):
    """The session ended (logout, revoked, refresh refused): the user must sign in again."""


class SignInFailed(SyncError, KnownError):
    """Wrong username or password, a disabled account, or too many attempts."""


class ServerRefused(SyncError, KnownError):
    """The server refused a request for good (4xx): an old protocol, a role that may not sync."""

    def __init__(self, message: str, status: int, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
