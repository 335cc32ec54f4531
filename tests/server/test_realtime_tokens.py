"""The long-lived socket follows its token: closed on expiry and on revocation, kept by renewal."""

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.websockets import WebSocketDisconnect

from server.models.user import User
from server.services.accounts import start_session
from server.settings import Settings
from shared.clock import FixedClock
from shared.realtime_protocol import CLOSE_SESSION_ENDED, CLOSE_TOKEN_EXPIRED
from tests.server.conftest import PASSWORD, Clinic
from tests.server.realtime_helpers import auth, ping, receive, sign_in


def _closed_with(socket: object, code: int) -> str:
    with pytest.raises(WebSocketDisconnect) as closed:
        receive(socket)  # type: ignore[arg-type]
    assert closed.value.code == code
    return str(closed.value.reason)


def test_an_expired_token_closes_the_socket_and_a_fresh_one_keeps_it(
    app: FastAPI, engine: Engine, settings: Settings, clinic: Clinic, clock: FixedClock
) -> None:
    with (
        TestClient(app) as client,
        client.websocket_connect("/realtime") as stale,
        client.websocket_connect("/realtime") as renewed,
    ):
        sign_in(stale, clinic.tokens["ng"])
        sign_in(renewed, clinic.tokens["ng"])
        clock.advance(9 * 60)
        with Session(engine) as session:
            user = session.get(User, clinic.ids["ng"])
            assert user is not None
            fresh = start_session(session, settings, user, clock.now())
            session.commit()
        renewed.send_text(auth(fresh.access_token))
        ping(renewed)  # the renewal was handled before the pong

        clock.advance(2 * 60)  # the first token expired at 10 minutes
        assert "expired" in _closed_with(stale, CLOSE_TOKEN_EXPIRED)
        ping(renewed)  # the same expiry pass kept the renewed socket


def test_a_renewal_with_another_users_token_closes_the_socket(app: FastAPI, clinic: Clinic) -> None:
    with TestClient(app) as client, client.websocket_connect("/realtime") as socket:
        sign_in(socket, clinic.tokens["ng"])
        socket.send_text(auth(clinic.tokens["clerk"]))
        _closed_with(socket, 4401)


def test_logout_closes_the_sessions_socket_only(app: FastAPI, clinic: Clinic) -> None:
    with (
        TestClient(app) as client,
        client.websocket_connect("/realtime") as ended,
        client.websocket_connect("/realtime") as other_session,
    ):
        sign_in(ended, clinic.tokens["ng"])
        login = client.post("/auth/login", json={"username": "ng", "password": PASSWORD})
        sign_in(other_session, login.json()["access_token"])
        out = client.post("/auth/logout", json={"refresh_token": clinic.refresh["ng"]})
        assert out.status_code == 204
        assert "sign in again" in _closed_with(ended, CLOSE_SESSION_ENDED)
        ping(other_session)


def test_refresh_token_reuse_closes_the_socket(app: FastAPI, clinic: Clinic) -> None:
    with TestClient(app) as client, client.websocket_connect("/realtime") as socket:
        sign_in(socket, clinic.tokens["clerk"])
        body = {"refresh_token": clinic.refresh["clerk"]}
        rotated = client.post("/auth/refresh", json=body)
        assert rotated.status_code == 200
        ping(socket)  # a normal rotation keeps the socket
        onward = {"refresh_token": rotated.json()["refresh_token"]}
        assert client.post("/auth/refresh", json=onward).status_code == 200
        # The first token again, after its successor was used: reuse (no lost answer).
        assert client.post("/auth/refresh", json=body).status_code == 401
        _closed_with(socket, CLOSE_SESSION_ENDED)


def test_disabling_the_account_closes_its_sockets(app: FastAPI, clinic: Clinic) -> None:
    with TestClient(app) as client, client.websocket_connect("/realtime") as socket:
        sign_in(socket, clinic.tokens["lee"])
        changed = client.patch(
            f"/users/{clinic.ids['lee']}", json={"is_active": False}, headers=clinic.auth("admin")
        )
        assert changed.status_code == 200
        _closed_with(socket, CLOSE_SESSION_ENDED)


def test_a_token_expired_before_connecting_is_refused(
    app: FastAPI, clinic: Clinic, clock: FixedClock
) -> None:
    clock.advance(timedelta(minutes=11).total_seconds())
    with TestClient(app) as client, client.websocket_connect("/realtime") as socket:
        socket.send_text(auth(clinic.tokens["ng"]))
        _closed_with(socket, 4401)
