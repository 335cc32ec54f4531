"""Calls through hospital firewalls: the desktop (aiortc) and the patient's page (Chromium) both
forced to relay through a real coturn on loopback, with credentials minted per call.

Relay over UDP; over TCP with UDP blocked; over TLS with UDP and TCP blocked (tests/turn_server.py
stands in for the firewall). Media flows both ways and each side's stats name the path. Forged
and expired credentials end the call before it starts, with words for both people.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page
from pydantic import SecretStr

from app.media.call_path import CandidateKind
from app.media.call_session import IceRenewal
from app.media.call_state import EndReason
from app.media.ice_config import IcePolicy, IceServer
from app.media.relay_probe import RelayTransport, probe_relays
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
from tests.server.conftest import TEST_SECRET_KEY, sqlite_database
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
        database_url=database_url, secret_key=SecretStr(TEST_SECRET_KEY), argon2_time_cost=1,
        argon2_memory_kib=8,
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
                 tcp: bool, valid_for: timedelta = timedelta(hours=1)) -> IcePolicy:
    """What the server mints for the call now (the real clock: coturn checks the expiry),
    with the blocked paths pointing where the firewall drops them."""
    minting = settings.model_copy(update={"turn_urls": turn.urls(udp, tcp)})
    ice = ice_servers_for_call(minting, appointment, datetime.now(UTC) + valid_for)
    return IcePolicy(
        servers=tuple(IceServer(tuple(s.urls), s.username or None, s.credential or None)
                      for s in ice.ice_servers),
        relay_only=ice.ice_transport_policy == "relay",
    )


@asynccontextmanager
async def calling(served: Clinic2, turn: TurnServer, appointment: str, link: str,  # noqa: F811
                  ice: IcePolicy | Callable[[], IcePolicy], renew_ice: IceRenewal | None = None,
                  ) -> AsyncIterator[tuple[Desk, Page]]:
    """The patient waits in Chromium; the desktop, relay only with `ice` (or what `ice` mints
    as the call starts, as the desktop does), starts the call."""
    async with patient_browser(*browser_args(turn)) as browser, desk_call(
        served.base, served.clinic.tokens["ng"], appointment,
        ice=ice() if callable(ice) else ice, renew_ice=renew_ice,
    ) as desk:
        page = await to_waiting_room(browser, link)
        await asyncio.wait_for(desk.signalling.presence_changed.wait(), 10)
        if callable(ice):  # short-lived credentials count from the start of the call
            desk.session.options = replace(desk.session.options, ice=ice())
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


#: The call's first credentials in the reconnection tests: long enough for Chromium and the
#: desktop to connect on a loaded machine, short enough to wait out.
SHORT_LIFETIME = timedelta(seconds=8)


def short_lived(settings: Settings, turn: TurnServer, appointment: str,
                ) -> Callable[[], IcePolicy]:
    return lambda: call_servers(settings, turn, appointment, True, True, SHORT_LIFETIME)


async def expire(desk: Desk) -> IcePolicy:
    """Until coturn refuses the credentials the call started with (their expiry has passed)."""
    ice = desk.session.options.ice
    username = str(ice.servers[0].username)
    expiry = int(username.split(":")[0])
    await eventually(lambda: time.time() > expiry + 1, timeout=60, interval=0.2,
                     what="the call's first credentials to expire")
    probe = await probe_relays(ice.servers)
    assert probe.route is None and probe.refused, probe
    return ice


@pytest.mark.asyncio
async def test_a_reconnection_after_expiry_relays_both_sides_with_fresh_credentials(
    served: Clinic2, settings: Settings, turn: TurnServer,  # noqa: F811
) -> None:
    """The call outlived its credentials; the connection drops: the desktop asks for new ones
    and the page, offered them, relays again (both sides relay only)."""
    appointment, link = served.book()
    minted: list[IcePolicy] = []

    async def renew() -> IcePolicy:
        minted.append(call_servers(settings, turn, appointment, True, True))
        return minted[-1]

    async with calling(served, turn, appointment, link, short_lived(settings, turn, appointment),
                       renew) as (desk, page):
        await asyncio.wait_for(desk.session.wait_connected(), 20)
        await page.wait_for_selector('#call-state[data-state="connected"]')
        first = await expire(desk)

        await desk.session.restart_ice()
        frames = desk.received.video_frames
        stats = await page_eventually(
            page,
            "window.clinicDesk.callStats().then(function (s) {"
            "  return s && s.generation >= 2 && s.ice === 'connected' && s.path"
            "    && s.videoFramesDecoded > 10 ? s : null; })",
            what="the page connected again and decoding",
        )
        await eventually(lambda: desk.received.video_frames > frames + 10,
                         what="video at the desktop again")
        assert stats["path"]["local"] == "relay" and stats["relayErrors"] == [], stats
        assert desk.session.renewals >= 1 and desk.session.relay is not None
        offers = [p for kind, p in desk.signalling.sent if kind == "offer"]
        assert offers[0]["ice_servers"][0]["username"] == first.servers[0].username
        assert offers[-1]["ice_servers"][0]["username"] == minted[-1].servers[0].username
        assert SECRET not in json.dumps(offers)


@pytest.mark.asyncio
async def test_refused_fresh_credentials_interrupt_the_call_with_words_for_both(
    served: Clinic2, settings: Settings, turn: TurnServer,  # noqa: F811
    screenshot_dir: Path | None,
) -> None:
    """coturn's secret was changed without the server's: the reconnection's fresh credentials
    are refused too, and both people are told."""
    appointment, link = served.book()
    forger = settings.model_copy(update={"turn_secret": SecretStr("an old secret " * 4)})

    async def renew() -> IcePolicy:
        return call_servers(forger, turn, appointment, True, True)

    async with calling(served, turn, appointment, link, short_lived(settings, turn, appointment),
                       renew) as (desk, page):
        await asyncio.wait_for(desk.session.wait_connected(), 20)
        await page.wait_for_selector('#call-state[data-state="connected"]')
        await expire(desk)
        await desk.session.restart_ice()
        assert await asyncio.wait_for(desk.session.wait_ended(), 20) is EndReason.RELAY_REFUSED
        assert "refused this call's credentials" in EndReason.RELAY_REFUSED.value

        await page.wait_for_selector("#call-not-made:visible")
        text = await page.inner_text("#call-not-made")
        assert "Your call was interrupted" in text and "keep this page open" in text, text
        assert "refused" in text
        assert await page.get_attribute("body", "data-showing") == "waiting"
        await screenshots(page, screenshot_dir, "call-interrupted-relay-refused")
