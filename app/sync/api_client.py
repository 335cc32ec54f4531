"""The server's HTTP API as the desktop uses it: sign-in, token refresh, push, pull, directory.

One httpx.AsyncClient per signed-in session. The access token lives in memory; the refresh
token in the keychain (TokenStore). A 401 refreshes once, transparently; a refused refresh
raises SignInRequired and the caller asks the user to sign in again (nothing is lost).
httpx loads with the first request, not with this module: the first window does not wait for it.
"""

import asyncio
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from app.media.ice_config import IceServer
from app.sync.errors import Offline, ServerBusy, ServerRefused, SignInFailed, SignInRequired
from app.sync.token_store import TokenStore
from shared.enums import Role
from shared.group_call_protocol import GroupAdmit, GroupAdmitted, GroupJoin, GroupWaitingList
from shared.phone_call_protocol import PhoneCallStarted, PhoneEvent, PhoneEvents
from shared.records import Location, StaffMember
from shared.sync_protocol import (
    PROTOCOL_VERSION,
    MutationResult,
    PullResponse,
    PushRequest,
    PushResponse,
)

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("clinicdesk.sync")

#: Parses pull pages (one at a time: pages are applied in order anyway).
_PARSER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clinicdesk-parse")
#: Connect quickly (a hospital LAN answers fast or not at all); allow a long initial pull.
TIMEOUT_SECONDS = 30.0
CONNECT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class SignedInUser:
    id: UUID
    username: str
    full_name: str
    role: Role


def _message(response: "httpx.Response", fallback: str) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return fallback, ""
    if isinstance(body, dict):
        return str(body.get("message") or fallback), str(body.get("code") or "")
    return fallback, ""


def _retry_after(response: "httpx.Response") -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class ApiClient:
    def __init__(
        self,
        server_url: str,
        username: str,
        tokens: TokenStore,
        transport: "httpx.AsyncBaseTransport | None" = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.username = username
        self._tokens = tokens
        self._access: str | None = None
        self._expires_at = 0.0  # time.monotonic() when the access token runs out
        self._refresh_lock = asyncio.Lock()
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @property
    def _http(self) -> "httpx.AsyncClient":
        """The session's HTTP client, made (and httpx imported) at the first request."""
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                base_url=self.server_url, transport=self._transport,
                timeout=httpx.Timeout(TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
                headers={"User-Agent": "ClinicDesk"},
            )
        return self._client

    @property
    def access_token(self) -> str | None:
        return self._access

    async def close(self) -> None:
        if self._client is None:
            return  # never sent anything
        # A request cancelled midway can hold its connection until the timeout: do not wait.
        await asyncio.wait({asyncio.ensure_future(self._client.aclose())}, timeout=2.0)

    # --- session ---------------------------------------------------------------------------
    async def login(self, password: str) -> None:
        response = await self._send("POST", "/auth/login",
                                    json={"username": self.username, "password": password})
        if response.status_code in (401, 422, 429):
            message, _code = _message(response, "Wrong username or password.")
            raise SignInFailed(message)
        self._check(response)
        self._take(response.json())

    async def refresh(self, stale: str | None = None) -> str:
        """A fresh access token; `stale` is the one that was refused (skip if already renewed)."""
        async with self._refresh_lock:
            if self._access is not None and self._access != stale:
                return self._access
            token = self._tokens.load(self.server_url, self.username)
            if token is None:
                raise SignInRequired("Please sign in to continue syncing.")
            response = await self._send("POST", "/auth/refresh", json={"refresh_token": token})
            if response.status_code in (401, 403, 422):
                self._access = None
                self._tokens.clear(self.server_url, self.username)
                raise SignInRequired(
                    "Your session has ended: it expired, you signed out on another computer, "
                    "or an administrator ended it. Please sign in again."
                )
            self._check(response)
            self._take(response.json())
            assert self._access is not None
            return self._access

    async def logout(self) -> None:
        token = self._tokens.load(self.server_url, self.username)
        self._access = None
        self._tokens.clear(self.server_url, self.username)
        if token is not None:
            try:
                await self._send("POST", "/auth/logout", json={"refresh_token": token})
            except Offline:
                log.info("signed out offline: the server ends the session at its expiry")

    def forget_access(self) -> None:
        self._access = None

    def seconds_left(self) -> float:
        """How long the current access token stays valid (0 when there is none)."""
        return max(0.0, self._expires_at - time.monotonic()) if self._access else 0.0

    def _take(self, pair: dict[str, Any]) -> None:
        self._access = str(pair["access_token"])
        self._expires_at = time.monotonic() + float(pair.get("expires_in", 600))
        self._tokens.save(self.server_url, self.username, str(pair["refresh_token"]))

    # --- resources -------------------------------------------------------------------------
    async def me(self) -> SignedInUser:
        body = await self._json("GET", "/users/me")
        return SignedInUser(UUID(body["id"]), body["username"], body["full_name"],
                            Role(body["role"]))

    async def directory(self) -> tuple[list[StaffMember], list[Location]]:
        staff = await self._json("GET", "/users/staff")
        locations = await self._json("GET", "/locations")
        return (
            [StaffMember(UUID(s["id"]), s["full_name"], Role(s["role"])) for s in staff],
            [Location(UUID(p["id"]), p["hospital_name"], p.get("address", ""))
             for p in locations],
        )

    async def call_ice(self, appointment_id: UUID) -> tuple[list[IceServer], bool]:
        """The call's STUN/TURN servers (TURN credentials minted for this call) and whether
        its media must go through the relay (the server's ice_relay_only)."""
        body = await self._json("GET", f"/calls/{appointment_id}/ice-servers")
        servers = [IceServer(tuple(s["urls"]), s.get("username") or None,
                             s.get("credential") or None) for s in body["ice_servers"]]
        return servers, body.get("ice_transport_policy") == "relay"

    async def group_call(self, appointment_id: UUID) -> GroupJoin:
        """This user's credential for the group appointment's call (the rooms on the SFU)."""
        body = await self._json("POST", f"/appointments/{appointment_id}/group-call")
        return GroupJoin.model_validate(body)

    async def group_control(
        self, appointment_id: UUID, control: str, body: dict[str, Any] | None = None
    ) -> str:
        """A clinician's control of the group call ("participants/guest-3/mute", "lock",
        "end"...); the server's word for what it did."""
        path = f"/appointments/{appointment_id}/group-call/{control}"
        answer = await self._json("POST", path, json=body)
        return str(answer["status"])

    async def phone_dial(self, appointment_id: UUID, sdp: str) -> PhoneCallStarted:
        """Ring the phone appointment's patient with this audio offer (ServerRefused with the
        server's sentence: no number, someone else calling; ServerBusy: the phone service)."""
        body = await self._json("POST", f"/appointments/{appointment_id}/phone-call",
                                json={"sdp": sdp})
        return PhoneCallStarted.model_validate(body)

    async def phone_events(self, call_id: UUID, after: int, wait: float) -> list[PhoneEvent]:
        """The call's events after `after`, waiting up to `wait` seconds for one (a long poll)."""
        body = await self._body("GET", f"/phone-calls/{call_id}/events",
                                params={"after": after, "wait": wait})
        return PhoneEvents.model_validate_json(body).events

    async def phone_control(self, call_id: UUID, control: str,
                            body: dict[str, Any] | None = None) -> None:
        """"hangup", "keys" ({"digits": "1#"}) or "hold" ({"hold": true}) for the call."""
        await self._body("POST", f"/phone-calls/{call_id}/{control}", json=body or {})

    async def group_waiting(self, appointment_id: UUID) -> GroupWaitingList:
        """Who waits to be admitted to the group call (their page open now), oldest first."""
        body = await self._json("GET", f"/appointments/{appointment_id}/group-call/waiting")
        return GroupWaitingList.model_validate(body)

    async def group_admit(self, appointment_id: UUID, participants: list[str]) -> list[str]:
        """Lets `participants` into the group call; who was let in."""
        body = await self._json("POST", f"/appointments/{appointment_id}/group-call/admit",
                                json=GroupAdmit(participants=participants).model_dump())
        return GroupAdmitted.model_validate(body).admitted

    async def resend_invites(self, appointment_id: UUID) -> None:
        await self._json("POST", f"/appointments/{appointment_id}/invites")

    async def patient_link(self, appointment_id: UUID, recipient: int = 0) -> str:
        """A fresh join link for the patient (or a group's participant `recipient`)."""
        body = await self._json("POST", f"/appointments/{appointment_id}/patient-link",
                                json={"recipient": recipient})
        return str(body["url"])

    async def waiting_message(self, appointment_id: UUID, text: str) -> None:
        await self._json("POST", f"/appointments/{appointment_id}/waiting-message",
                         json={"text": text})

    async def push(self, request: PushRequest) -> list[MutationResult]:
        body = await self._json("POST", "/sync/push", json=request.model_dump(mode="json"))
        return PushResponse.model_validate(body).results

    async def pull(self, cursor: int, limit: int) -> PullResponse:
        params = {"protocol": PROTOCOL_VERSION, "cursor": cursor, "limit": limit}
        content = await self._body("GET", "/sync/pull", params=params)
        # A page is up to a thousand records: parse it off the GUI thread.
        return await asyncio.get_running_loop().run_in_executor(
            _PARSER, PullResponse.model_validate_json, content
        )

    # --- plumbing --------------------------------------------------------------------------
    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return json.loads(await self._body(method, path, **kwargs))

    async def _body(self, method: str, path: str, **kwargs: Any) -> bytes:
        """An authenticated request; one transparent refresh when the access token is refused."""
        token = self._access or await self.refresh()
        response = await self._send(method, path, token=token, **kwargs)
        if response.status_code == 401:
            token = await self.refresh(stale=token)
            response = await self._send(method, path, token=token, **kwargs)
            if response.status_code == 401:
                raise SignInRequired("The server no longer accepts this session. Sign in again.")
        self._check(response)
        return response.content

    async def _send(self, method: str, path: str, token: str | None = None,
                    **kwargs: Any) -> "httpx.Response":
        import httpx  # loaded by self._http already

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            return await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as error:
            raise Offline(f"The Clinic Desk server at {self.server_url} cannot be reached."
                          ) from error

    @staticmethod
    def _check(response: "httpx.Response") -> None:
        status = response.status_code
        if status < 400:
            return
        if status >= 500 or status == 429:
            # The server's own sentence when it has one (e.g. "the group call service is not
            # answering"), else a generic one.
            message, code = _message(
                response, f"The server is busy or failing (HTTP {status}); retrying.")
            raise ServerBusy(message, _retry_after(response), code)
        message, code = _message(response, f"The server refused the request (HTTP {status}).")
        raise ServerRefused(message, status, code)
