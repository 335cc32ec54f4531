"""The media package's errors: a device that cannot be opened is a KnownError for the user."""

from shared.errors import Error, KnownError


class MediaError(Error):
    """Base of every app.media error."""


class DeviceUnavailable(MediaError, KnownError):
    """A camera, microphone or screen could not be opened (missing, busy, no permission)."""
