"""The states of a call and why it ended."""

from enum import StrEnum


class CallState(StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    ENDED = "ended"


class EndReason(StrEnum):
    """Why a call ended; the value is the sentence shown to the clinician."""

    HUNG_UP = "You ended the call."
    REMOTE_HUNG_UP = "The other party ended the call."
    CONNECTION_LOST = "The connection was lost and could not be restored."
    NOT_CONNECTED = "The call could not be connected."
    FAILED = "The call failed."
    RELAY_REFUSED = (
        "The hospital's relay server (TURN) refused this call's credentials: they have expired "
        "or are not valid. Try the call again; if this happens again, ask IT to check the TURN "
        "settings."
    )
    RELAY_UNREACHABLE = (
        "The call could not reach the hospital's relay server (TURN), which calls here must go "
        "through. Check the network connection, or ask IT whether the relay is running."
    )


#: The states a call may move to from each state (ENDED is final).
ALLOWED: dict[CallState, frozenset[CallState]] = {
    CallState.IDLE: frozenset({CallState.CONNECTING, CallState.ENDED}),
    CallState.CONNECTING: frozenset({CallState.CONNECTED, CallState.ENDED}),
    CallState.CONNECTED: frozenset({CallState.RECONNECTING, CallState.ENDED}),
    CallState.RECONNECTING: frozenset({CallState.CONNECTED, CallState.ENDED}),
    CallState.ENDED: frozenset(),
}
