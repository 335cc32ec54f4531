"""One outgoing phone call on Janus's SIP plugin, driven by the server from a thread of its own.

The thread opens a Janus session (the API secret: only the server has it), registers the trunk
line on a SIP handle (or, without an account, names the clinic's number as a guest), INVITEs
the patient's number with the desktop's SDP offer and hands each SIP event to the listener
until the call is over; then the session goes. Janus's long poll keeps the session alive.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server.janus.client import JanusClient, JanusError, JanusSession, JanusUnreachable
from server.janus.config import SIP_PLUGIN

log = logging.getLogger("clinicdesk.server.phone")

#: Registration answers that mean the account or password is wrong (904: Sofia found no
#: challenge it could answer with the credentials).
_REFUSED_CREDENTIALS = (401, 403, 407, 904)
#: The SIP plugin answers a registration within Sofia's transaction timer (T1 x 64 = 32 s).
REGISTER_SECONDS = 40.0


@dataclass(frozen=True, slots=True)
class SipLine:
    """The trunk as the server settings describe it (the secret never leaves the server)."""

    proxy: str
    domain: str
    #: The account registered; empty: no REGISTER, the clinic's number as a guest identity.
    username: str
    secret: str
    authuser: str
    #: The clinic's number (E.164): the caller ID patients see.
    caller_id: str
    display_name: str

    def target(self, e164: str) -> str:
        return f"sip:{e164}@{self.domain}"

    def register_request(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "request": "register",
            "proxy": self.proxy,
            "display_name": self.display_name,
        }
        if not self.username:
            return body | {"type": "guest", "username": f"sip:{self.caller_id}@{self.domain}"}
        body |= {"username": self.username, "secret": self.secret}
        if self.authuser:
            body["authuser"] = self.authuser
        return body


class SipFailed(Exception):
    """The line could not be set up or the INVITE not sent: a sentence for the clinician."""


#: (event name, the plugin's result, the JSEP when one came with it)
EventSink = Callable[[str, dict[str, Any], dict[str, Any] | None], None]


def _sip_data(event: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = event.get("plugindata", {}).get("data", {})
    return data


class SipCall:
    """INVITE `number` through `line` with `offer_sdp`; events to `on_event`, a failure before
    the INVITE went out to `on_failed` (both called from the call's thread)."""

    def __init__(
        self,
        client: JanusClient,
        line: SipLine,
        number: str,
        offer_sdp: str,
        on_event: EventSink,
        on_failed: Callable[[str], None],
    ) -> None:
        self._client = client
        self._line = line
        self._number = number
        self._offer = offer_sdp
        self._on_event = on_event
        self._on_failed = on_failed
        self._session: JanusSession | None = None
        self._handle = 0
        self._ready = threading.Event()
        self._over = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sip-call", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def send(self, body: dict[str, Any]) -> None:
        """A request on the call's handle (dtmf_info, hold, unhold, hangup); its result comes
        back as an event. JanusUnreachable when the call has no line (yet, or any more)."""
        if not self._ready.wait(REGISTER_SECONDS) or self._session is None:
            raise JanusUnreachable("the call is not set up")
        self._session.post(
            f"/{self._session.session_id}/{self._handle}", {"janus": "message", "body": body}
        )

    def finish(self) -> None:
        """Stop following the call (after its hangup event, or to abandon it)."""
        self._over.set()

    def _run(self) -> None:
        try:
            with self._client.session() as session:
                self._session = session
                self._handle = session.attach(SIP_PLUGIN)
                self._register(session)
                self._invite(session)
                self._ready.set()
                while not self._over.is_set():
                    for event in session.events():
                        self._dispatch(event)
        except JanusUnreachable as error:
            log.warning("phone call: Janus unreachable: %s", error)
            self._on_failed("The phone service (Janus) is not answering.")
        except JanusError as error:
            log.warning("phone call: Janus refused: %s", error)
            self._on_failed(f"The phone service refused the call ({error.code}: {error.reason}).")
        except SipFailed as error:
            self._on_failed(str(error))
        except Exception:
            # The call's thread must not die silently: its call would never end.
            log.exception("phone call: the SIP side failed")
            self._on_failed("The call failed: the server lost its side of it.")
        finally:
            self._ready.set()
            self._session = None

    def _message(
        self, session: JanusSession, body: dict[str, Any], jsep: dict[str, Any] | None = None
    ) -> None:
        request: dict[str, Any] = {"janus": "message", "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        session.post(f"/{session.session_id}/{self._handle}", request)

    def _register(self, session: JanusSession) -> None:
        self._message(session, self._line.register_request())
        while True:
            for event in session.events(REGISTER_SECONDS):
                log.debug("phone line: Janus says %s", event)
                data = _sip_data(event)
                if "error_code" in data:
                    raise SipFailed(f"The phone line was refused: {data.get('error', '')}.")
                result = data.get("result", {})
                name = result.get("event")
                if name == "registered":
                    return
                if name == "registration_failed":
                    code, reason = result.get("code", 0), result.get("reason", "")
                    log.warning("phone line registration failed: %s %s", code, reason)
                    if code in _REFUSED_CREDENTIALS:
                        raise SipFailed(
                            "The phone line could not register: the trunk refused its account "
                            "or password. Ask your IT team."
                        )
                    raise SipFailed(f"The phone line could not register ({code} {reason}).")

    def _invite(self, session: JanusSession) -> None:
        uri = self._line.target(self._number)
        body = {"request": "call", "uri": uri, "autoaccept_reinvites": False}
        self._message(session, body, {"type": "offer", "sdp": self._offer})

    def _dispatch(self, event: dict[str, Any]) -> None:
        log.debug("phone call: Janus says %s", event)
        if event.get("janus") in ("hangup", "detached"):
            # The WebRTC side went away (the desktop's media): the SIP side follows.
            self._on_event("webrtc_down", {}, None)
            return
        if event.get("janus") != "event":
            return
        data = _sip_data(event)
        if "error_code" in data:
            self._on_event("error", data, None)
            return
        result = data.get("result", {})
        name = str(result.get("event", ""))
        if name:
            self._on_event(name, result, event.get("jsep"))
