"""What a call session tells its owner (the Qt adapter, a test, the bench); all no-ops here."""

from aiortc import MediaStreamTrack

from app.media.call_state import CallState, EndReason
from app.media.stats import CallQuality


class CallListener:
    """Override what you need. Called on the asyncio loop's thread, never from an executor."""

    def state_changed(self, state: CallState, reason: EndReason | None) -> None:
        """The call moved to `state`; `reason` is set once it has ENDED."""

    def remote_track(self, track: MediaStreamTrack) -> None:
        """The other party's audio or video track (again after each reconnection)."""

    def chat_received(self, text: str) -> None:
        """A chat message from the other party."""

    def quality_changed(self, quality: CallQuality) -> None:
        """A new connection-quality sample (every `stats_interval`)."""
