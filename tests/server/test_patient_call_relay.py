"""Calls through hospital firewalls: the desktop (aiortc) and the patient's page (Chromium) both
forced to relay through a real coturn on loopback, with credentials minted per call.

Relay over UDP; over TCP with UDP blocked; over TLS with UDP and TCP blocked (tests/turn_server.py
stands in for the firewall). Media flows both ways and each side's stats name the path. Forged
and expired credentials end the call before it starts, with words for both people.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page
from pydantic import SecretStr

from app.media.call_path import CandidateKind
from app.media.call_state import EndReason
from app.media.ice_config import IcePolicy, IceServer
from app.media.relay_probe import RelayTransport
from server.services.call_ice import ice_servers_for_call
from server.settings import Settings
from tests.polling import eventually
from tests.server.call_helpers import (
    Desk,
    desk_call,
    page_eventually,
    patient_browser,
    screenshots,
    to_waiting_room,
)
from tests.server.conftest import sqlite_database
from tests.server.test_patient_pages import Clinic2, mail, served  # noqa: F401  (fixtures)
from tests.turn_server import SECRET, TurnServer, turn_server


@pytest.fixture(scope="module")
def turn() -> Iterator[TurnServer]:
    with turn_server() as server:
        yield server


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """SQLite only: the relay does not depend on the database kind."""
    yield sqlite_database(tmp_path)


@pytest.fixture
def settings(database_url: str, turn: TurnServer) -> Settings:
    """The clinic's server knows coturn's URLs and shared secret and wants relay only."""
    return Settings(
        database_url=database_url, argon2_time_cost=1, argon2_memory_kib=8,
        # The clinic fixture signs sessions before any app could make a secret.
        secret_key=SecretStr("a test secret of at least thirty-two characters"),
        argon2_parallelism=1, turn_urls=turn.urls(), turn_secret=SecretStr(SECRET),
        ice_relay_only=True,
    )


@pytest.fixture(autouse=True)
def trust_the_test_ca(turn: TurnServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The desktop trusts the relay's TLS certificate through the system CAs (SSL_CERT_FILE)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(turn.certificate.ca))


def browser_args(turn: TurnServer) -> list[str]:
    """Chromium trusts the relay's certificate (by its public key) as it would a real one."""
    return [f"--ignore-certificate-errors-spki-list={turn.certificate.spki_sha256}"]


def call_servers(settings: Settings, turn: TurnServer, appointment: str, udp: bool,
                 tcp: bool) -> IcePolicy:
    """What the server mints for the call now (the real clock: coturn checks the expiry),
    with the blocked paths pointing where the firewall drops them."""
    minting = settings.model_copy(update={"turn_urls": turn.urls(udp, tcp)})
    ice = ice_servers_for_call(minting, appointment, datetime.now(UTC) + timedelta(hours=1))
    return IcePolicy(
        servers=tuple(IceServer(tuple(s.urls), s.username or None, s.credential or None)
                      for s in ice.ice_servers),
        relay_only=ice.ice_transport_policy == "relay",
    )


@asynccontextmanager
async def calling(served: Clinic2, turn: TurnServer, appointment: str, link: str,  # noqa: F811
                  ice: IcePolicy) -> AsyncIterator[tuple[Desk, Page]]:
    """The patient waits in Chromium; the desktop, relay only with `ice`, starts the call."""
    async with patient_browser(*browser_args(turn)) as browser, desk_call(
        served.base, served.clinic.tokens["ng"], appointment, ice=ice
    ) as desk:
        page = await to_waiting_room(browser, link)
        await asyncio.wait_for(desk.signalling.presence_changed.wait(), 10)
        await desk.session.start()
        yield desk, page


@pytest.mark.asyncio
@pytest.mark.parametrize(("udp", "tcp", "transport"), [
    (True, True, RelayTransport.UDP),
    (False, True, RelayTransport.TCP),
    (False, False, RelayTransport.TLS),
])
async def test_a_relay_only_call_with_the_patients_browser(
    served: Clinic2, settings: Settings, turn: TurnServer,  # noqa: F811
    udp: bool, tcp: bool, transport: RelayTransport, screenshot_dir: Path | None,
) -> None:
    appointment, link = served.book()
    ice = call_servers(settings, turn, appointment, udp, tcp)
    async with calling(served, turn, appointment, link, ice) as (desk, page):
        await asyncio.wait_for(desk.session.wait_connected(), 15)
        await page.wait_for_selector('#call-state[data-state="connected"]')

        received = desk.received
        await eventually(lambda: received.video_frames >= 20 and received.loud_audio_frames >= 20,
                         what="video and sound at the desktop")
        stats = await page_eventually(
            page,
            "window.clinicDesk.callStats().then(function (s) {"
            "  return s && s.videoFramesDecoded > 10 && s.audioEnergy > 0 && s.path ? s : null; })",
            what="video and sound decoded by the page",
        )
        # Both ends relay; the desktop over the transport the firewall left open.
        assert stats["path"]["local"] == "relay", stats["path"]
        assert desk.session.relay is not None and desk.session.relay.transport is transport
        await eventually(lambda: any(q.path for q in desk.listener.qualities), what="a path")
        path = next(q.path for q in reversed(desk.listener.qualities) if q.path is not None)
        assert (path.local, path.remote, path.relay) == (
            CandidateKind.RELAY, CandidateKind.RELAY, transport)
        # The page had the same firewall in the way, and took the same way round it.
        assert stats["path"]["relayProtocol"] == transport.value.lower(), stats["path"]
        for sdp in (stats["localSdp"], *desk.session.local_sdps):
            candidates = [line for line in sdp.splitlines() if line.startswith("a=candidate")]
            assert candidates and all(" typ relay" in line for line in candidates), sdp

        # The offer names every path with this call's credentials; never the secret.
        offers = [p for kind, p in desk.signalling.sent if kind == "offer"]
        assert offers and offers[0]["ice_transport_policy"] == "relay"
        assert offers[0]["ice_servers"][0]["urls"] == turn.urls(udp, tcp)
        assert offers[0]["ice_servers"][0]["username"].endswith(f":{appointment}")
        assert SECRET not in json.dumps(offers)
        await screenshots(page, screenshot_dir, f"in-call-relay-{transport.value.lower()}")


@pytest.mark.asyncio
@pytest.mark.parametrize("credentials", ["forged", "expired"])
async def test_refused_credentials_tell_both_people(
    served: Clinic2, settings: Settings, turn: TurnServer,  # noqa: F811
    credentials: str, screenshot_dir: Path | None,
) -> None:
    appointment, link = served.book()
    if credentials == "forged":
        forger = settings.model_copy(update={"turn_secret": SecretStr("a guess " * 5)})
        ice = call_servers(forger, turn, appointment, True, True)
    else:
        # The server's clock stands at the fixed test time, days before the real one: what it
        # mints (GET /calls/{id}/ice-servers) has long expired for coturn.
        body = httpx.get(f"{served.base}/calls/{appointment}/ice-servers",
                         headers=served.clinic.auth("ng"), timeout=10).json()
        assert datetime.fromisoformat(body["expires_at"]) < datetime.now(UTC)
        minted = body["ice_servers"][0]
        ice = IcePolicy(servers=(IceServer(tuple(minted["urls"]), minted["username"],
                                           minted["credential"]),), relay_only=True)
    async with calling(served, turn, appointment, link, ice) as (desk, page):
        assert await asyncio.wait_for(desk.session.wait_ended(), 10) is EndReason.RELAY_REFUSED
        assert [kind for kind, _ in desk.signalling.sent] == ["hangup"]  # no offer went out

        await page.wait_for_selector("#call-not-made:visible")
        text = await page.inner_text("#call-not-made")
        assert "The call did not start" in text and "keep this page open" in text
        assert await page.get_attribute("body", "data-showing") == "waiting"
        await screenshots(page, screenshot_dir, f"call-not-made-{credentials}")
