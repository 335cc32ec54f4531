"""Whose address the limits and the audit log use: the peer, unless it is a trusted proxy.

Over real HTTP with the `serve` command's uvicorn options, so that uvicorn's own proxy-header
handling (which believes 127.0.0.1 by default) would show if it were on.
"""

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.app import create_app
from server.models.audit import AuditEvent
from server.security.client_address import parse_networks, resolve
from server.settings import Settings
from shared.clock import FixedClock
from tests.server.conftest import PASSWORD, Clinic
from tests.server.live_server import live
from tests.server.postgres import free_port

TRUSTED = parse_networks(["10.0.0.0/8", "192.0.2.1"])


def test_only_a_trusted_peer_speaks_for_the_client() -> None:
    assert resolve("198.51.100.9", ["1.2.3.4"], TRUSTED) == "198.51.100.9"
    assert resolve("192.0.2.1", ["203.0.113.5"], TRUSTED) == "203.0.113.5"
    # The client wrote the left part itself; the proxies' own hops are skipped from the right.
    assert resolve("192.0.2.1", ["6.6.6.6, 203.0.113.5, 10.1.2.3"], TRUSTED) == "203.0.113.5"
    assert resolve("192.0.2.1", ["6.6.6.6", "203.0.113.5"], TRUSTED) == "203.0.113.5"
    assert resolve("192.0.2.1", ["not-an-ip"], TRUSTED) == "192.0.2.1"
    assert resolve("192.0.2.1", [], TRUSTED) == "192.0.2.1"
    assert resolve("127.0.0.1", ["203.0.113.5"], []) == "127.0.0.1"


def _attempt(base: str, username: str, password: str, forwarded: str) -> httpx.Response:
    return httpx.post(
        f"{base}/auth/login",
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": forwarded},
        timeout=30,
    )


def _addresses(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(AuditEvent.address)
                .where(AuditEvent.action == "auth.login_failed")
                .order_by(col(AuditEvent.id))
            ).all()
        )


def _app(settings: Settings, engine: Engine, clock: FixedClock, **changes: object) -> FastAPI:
    return create_app(settings.model_copy(update=changes), engine, clock)


def test_a_forged_header_from_an_untrusted_peer_changes_nothing(
    settings: Settings, engine: Engine, clock: FixedClock, clinic: Clinic
) -> None:
    with live(_app(settings, engine, clock), free_port()) as base:
        for number in range(8):  # a new "address" each time: the ceiling must still count
            answer = _attempt(base, f"a{number}", "x", f"203.0.113.{number}")
            assert answer.status_code == 401
        assert _attempt(base, "clerk", PASSWORD, "203.0.113.99").status_code == 429
    assert set(_addresses(engine)) == {"127.0.0.1"}


def test_behind_a_trusted_proxy_the_owner_is_not_locked_out_by_a_stranger(
    settings: Settings, engine: Engine, clock: FixedClock, clinic: Clinic
) -> None:
    app = _app(settings, engine, clock, trusted_proxies=["127.0.0.1"])
    with live(app, free_port()) as base:
        statuses = [_attempt(base, "lee", "x", "198.51.100.66").status_code for _ in range(5)]
        assert statuses == [401, 401, 401, 429, 429]
        # The owner, from another address behind the same proxy, signs in at once.
        assert _attempt(base, "lee", PASSWORD, "198.51.100.7").status_code == 200
    assert set(_addresses(engine)) == {"198.51.100.66"}
