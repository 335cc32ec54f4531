"""The desktop's PhoneLine: a phone call's requests through the signed-in API client."""

from uuid import UUID

from app.media.phone_session import PhoneLine
from app.sync.api_client import ApiClient
from shared.phone_call_protocol import PhoneCallStarted, PhoneEvent

#: How long one events request waits on the server (under the client's 30 s timeout).
EVENTS_WAIT_SECONDS = 20.0


class ApiPhoneLine(PhoneLine):
    """Dials one appointment's patient; the server's refusals arrive as KnownError (its words)."""

    def __init__(self, api: ApiClient, appointment_id: UUID,
                 wait_seconds: float = EVENTS_WAIT_SECONDS) -> None:
        self.api = api
        self.appointment_id = appointment_id
        self.wait_seconds = wait_seconds

    async def dial(self, sdp: str) -> PhoneCallStarted:
        return await self.api.phone_dial(self.appointment_id, sdp)

    async def events(self, call_id: UUID, after: int) -> list[PhoneEvent]:
        return await self.api.phone_events(call_id, after, self.wait_seconds)

    async def hang_up(self, call_id: UUID) -> None:
        await self.api.phone_control(call_id, "hangup")

    async def keys(self, call_id: UUID, digits: str) -> None:
        await self.api.phone_control(call_id, "keys", {"digits": digits})

    async def hold(self, call_id: UUID, hold: bool) -> None:
        await self.api.phone_control(call_id, "hold", {"hold": hold})
