"""Login, refresh-token rotation and reuse, logout, access-token expiry, failed-login limits."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.models.audit import AuditEvent
from server.models.token import TokenFamily
from shared.clock import FixedClock
from tests.server.conftest import PASSWORD, Clinic


def _login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _me(client: TestClient, access: str) -> int:
    response = client.get("/users/me", headers={"Authorization": f"Bearer {access}"})
    return int(response.status_code)


def test_login_gives_tokens_that_work(client: TestClient, clinic: Clinic) -> None:
    tokens = _login(client, "Clerk")  # usernames are not case-sensitive
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 600
    me = client.get("/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "clerk"
    assert me.json()["role"] == "clerk"
    assert "password_hash" not in me.json()


def test_wrong_password_and_unknown_user_get_the_same_401(
    client: TestClient, clinic: Clinic, engine: Engine
) -> None:
    wrong = client.post("/auth/login", json={"username": "clerk", "password": "nope"})
    unknown = client.post("/auth/login", json={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "unauthenticated"
    assert wrong.headers["www-authenticate"] == "Bearer"
    with Session(engine) as session:
        failed = session.exec(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))
        assert [event.address for event in failed] == ["testclient", "testclient"]


def test_refresh_rotates_and_reuse_revokes_the_whole_family(
    client: TestClient, clinic: Clinic, engine: Engine, clock: FixedClock
) -> None:
    first = _login(client, "ng")
    second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert _me(client, rotated["access_token"]) == 200

    clock.advance(46)  # past the grace window of a lost answer
    reuse = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    assert "already used" in reuse.json()["message"]
    # The thief's reuse ended the session: the newest tokens are dead too.
    after = client.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401
    assert _me(client, rotated["access_token"]) == 401
    assert _me(client, first["access_token"]) == 401
    with Session(engine) as session:
        families = session.exec(
            select(TokenFamily).where(TokenFamily.user_id == clinic.ids["ng"])
        ).all()
        reasons = sorted(family.revoked_reason for family in families)
        assert reasons == ["", "reuse"]  # the fixture's session is untouched


def test_a_retried_refresh_within_the_grace_window_gets_the_same_pair(
    client: TestClient, clinic: Clinic, engine: Engine, clock: FixedClock
) -> None:
    first = _login(client, "ng")
    lost = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    clock.advance(30)
    again = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 200, again.text
    assert again.json()["refresh_token"] == lost["refresh_token"]
    assert again.json()["access_token"] == lost["access_token"]
    assert again.json()["expires_in"] == 600 - 30  # the same token: its time is running
    assert _me(client, again.json()["access_token"]) == 200
    # The session goes on: the new token rotates as usual.
    onward = client.post("/auth/refresh", json={"refresh_token": lost["refresh_token"]})
    assert onward.status_code == 200
    with Session(engine) as session:
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.actor_id == clinic.ids["ng"])
        ).all()
        assert "auth.refresh_replayed" in actions


def test_an_old_token_after_its_successor_was_used_revokes_even_within_the_window(
    client: TestClient, clinic: Clinic
) -> None:
    first = _login(client, "ng")
    second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    third = client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]}).json()
    stolen = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert stolen.status_code == 401
    assert "already used" in stolen.json()["message"]
    assert _me(client, third["access_token"]) == 401
    assert client.post(
        "/auth/refresh", json={"refresh_token": third["refresh_token"]}
    ).status_code == 401


def test_a_token_of_another_session_is_no_retry(client: TestClient, clinic: Clinic) -> None:
    """A rotated token's secret with a different id is unknown, not a replay."""
    first = _login(client, "ng")
    client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    token_id, _, secret = first["refresh_token"].partition(".")
    other_id, _, _ = clinic.refresh["ng"].partition(".")
    forged = client.post("/auth/refresh", json={"refresh_token": f"{other_id}.{secret}"})
    assert forged.status_code == 401
    assert "already used" not in forged.json()["message"]
    assert _me(client, clinic.tokens["ng"]) == 200


def test_logout_ends_the_session(client: TestClient, clinic: Clinic) -> None:
    tokens = _login(client, "okafor")
    out = client.post("/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    assert out.status_code == 204
    assert _me(client, tokens["access_token"]) == 401
    again = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401
    assert _me(client, clinic.tokens["okafor"]) == 200  # other sessions live on


def test_malformed_and_forged_tokens_are_refused(client: TestClient, clinic: Clinic) -> None:
    assert _me(client, "not-a-jwt") == 401
    forged = clinic.tokens["clerk"][:-4] + "AAAA"
    assert _me(client, forged) == 401
    for token in ("garbage", "0" * 32 + ".secret", clinic.refresh["clerk"] + "x"):
        assert client.post("/auth/refresh", json={"refresh_token": token}).status_code == 401
    assert client.get("/users/me").status_code == 401


def test_access_token_expires_but_refresh_still_works(
    client: TestClient, clinic: Clinic, clock: FixedClock
) -> None:
    tokens = _login(client, "clerk")
    clock.advance(601)
    assert _me(client, tokens["access_token"]) == 401
    renewed = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert renewed.status_code == 200
    assert _me(client, renewed.json()["access_token"]) == 200


def test_refresh_token_expires(client: TestClient, clinic: Clinic, clock: FixedClock) -> None:
    tokens = _login(client, "clerk")
    clock.advance(15 * 24 * 3600)
    refused = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refused.status_code == 401


def _fail(client: TestClient, username: str) -> int:
    response = client.post("/auth/login", json={"username": username, "password": "wrong"})
    return int(response.status_code)


def test_failed_logins_earn_growing_delays_per_account_and_address(
    client: TestClient, clinic: Clinic, clock: FixedClock, engine: Engine
) -> None:
    assert [_fail(client, "lee") for _ in range(3)] == [401, 401, 401]  # three free tries
    waits = []
    for _ in range(3):
        blocked = client.post("/auth/login", json={"username": "LEE", "password": PASSWORD})
        assert blocked.status_code == 429
        assert blocked.json()["code"] == "rate_limited"
        assert "this account" in blocked.json()["message"]
        wait = int(blocked.headers["retry-after"])
        waits.append(wait)
        clock.advance(wait)
        assert _fail(client, "lee") == 401  # the wait is over: one more try
    # 10 s, then 20 s, then the 40 s ceiling of the test settings.
    assert waits == [10, 20, 40]
    assert int(client.post("/auth/login", json={"username": "lee", "password": "x"}).headers[
        "retry-after"
    ]) == 40
    _login(client, "clerk")  # another account from the same address is not slowed
    clock.advance(40)
    _login(client, "lee")  # the owner's password, once the wait is over
    assert _fail(client, "lee") == 401  # and the success forgot the streak
    with Session(engine) as session:
        throttled = session.exec(
            select(AuditEvent).where(AuditEvent.action == "auth.login_throttled")
        ).all()
        assert [event.detail for event in throttled] == [
            f"username=lee delay={delay}s" for delay in (10, 20, 40, 40)
        ]


def test_one_address_has_a_ceiling_over_all_accounts(
    client: TestClient, clinic: Clinic, clock: FixedClock, engine: Engine
) -> None:
    for number in range(8):  # spraying: one try per account
        assert _fail(client, f"a{number}") == 401
    blocked = client.post("/auth/login", json={"username": "clerk", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "this network" in blocked.json()["message"]
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    clock.advance(61)
    _login(client, "clerk")
    with Session(engine) as session:
        ceiling = session.exec(
            select(AuditEvent).where(AuditEvent.action == "auth.address_ceiling")
        ).all()
        assert len(ceiling) == 1


def test_a_failed_login_keeps_an_unknown_username_only_as_a_hash(
    client: TestClient, clinic: Clinic, engine: Engine
) -> None:
    typo_password = "correct horse battery"  # typed into the username box
    client.post("/auth/login", json={"username": typo_password[:20], "password": "x"})
    client.post("/auth/login", json={"username": "Clerk", "password": "wrong"})
    with Session(engine) as session:
        details = session.exec(
            select(AuditEvent.detail)
            .where(AuditEvent.action == "auth.login_failed")
            .order_by(col(AuditEvent.id))
        ).all()
    assert typo_password[:20] not in str(details)
    assert details[0].startswith("username_hash=") and len(details[0]) == 14 + 16
    assert details[1] == "username=clerk"


def test_success_clears_the_account_count(client: TestClient, clinic: Clinic) -> None:
    for _ in range(2):
        client.post("/auth/login", json={"username": "clerk", "password": "wrong"})
    _login(client, "clerk")
    for _ in range(2):
        client.post("/auth/login", json={"username": "clerk", "password": "wrong"})
    _login(client, "clerk")  # 4 failures in the window, but never 3 in a row


def test_disabled_user_cannot_sign_in_and_loses_sessions(
    client: TestClient, clinic: Clinic
) -> None:
    disable = client.patch(
        f"/users/{clinic.ids['lee']}", json={"is_active": False}, headers=clinic.auth("admin")
    )
    assert disable.status_code == 200
    assert _me(client, clinic.tokens["lee"]) == 401
    assert (
        client.post("/auth/refresh", json={"refresh_token": clinic.refresh["lee"]}).status_code
        == 401
    )
    refused = client.post("/auth/login", json={"username": "lee", "password": PASSWORD})
    assert refused.status_code == 401


def test_login_and_logout_are_audited(client: TestClient, clinic: Clinic, engine: Engine) -> None:
    tokens = _login(client, "ng")
    client.post("/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    with Session(engine) as session:
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.actor_id == clinic.ids["ng"])
            .order_by(col(AuditEvent.id))
        ).all()
        assert [event.action for event in events] == ["auth.login", "auth.logout"]
