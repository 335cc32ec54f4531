"""Each call to a phone is kept on its appointment: read by whoever sees the appointment (REST
and sync pull), by nobody else, audited; a call the server drops as it stops ends as failed."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.app import create_app
from server.models.audit import AuditEvent
from server.settings import Settings
from shared.phone_call_protocol import PhoneAttemptPublic, PhoneOutcome
from shared.sync_protocol import EntityType, PullResponse
from tests.janus_server import JanusServer
from tests.polling import wait_until
from tests.server.conftest import Clinic
from tests.server.phone_calls.conftest import (
    attempts_of,
    book_phone,
    ended_attempt,
    phone_settings,
    status_of,
)
from tests.server.phone_calls.test_refusals import dial, ended
from tests.sip.phone import Phone
from tests.sip.registrar import DECLINING_NUMBER, Registrar


def _pulled_attempts(client: TestClient, clinic: Clinic, user: str) -> list[PhoneAttemptPublic]:
    answer = client.get("/sync/pull", params={"protocol": 1, "cursor": 0},
                        headers=clinic.auth(user))
    assert answer.status_code == 200, answer.text
    page = PullResponse.model_validate(answer.json())
    found = []
    for change in page.changes:
        if change.type is EntityType.PHONE_ATTEMPT:
            assert isinstance(change.data, PhoneAttemptPublic)
            found.append(change.data)
    return found


def test_the_attempt_reaches_whoever_sees_the_appointment_and_nobody_else(
    client: TestClient, clinic: Clinic, engine: Engine
) -> None:
    appointment = book_phone(engine, clinic, number=DECLINING_NUMBER)
    call = dial(client, clinic, "ng", appointment)
    assert call["status"] == 200, call
    assert ended(client, clinic, "ng", call["call_id"]).outcome is PhoneOutcome.DECLINED
    kept = ended_attempt(engine, appointment)
    assert (kept.outcome, kept.sip_code, kept.number) == ("declined", 603, DECLINING_NUMBER)

    # The clerk assigned to Dr Ng reads it, by REST and in the pull.
    listed = client.get(f"/appointments/{appointment}/phone-attempts",
                        headers=clinic.auth("clerk"))
    assert listed.status_code == 200
    [attempt] = [PhoneAttemptPublic.model_validate(a) for a in listed.json()]
    assert (attempt.id, attempt.outcome, attempt.caller_name) == (
        kept.id, PhoneOutcome.DECLINED, "Ng")
    assert attempt.ended_at is not None and attempt.answered_at is None
    assert _pulled_attempts(client, clinic, "clerk") == [attempt]
    assert _pulled_attempts(client, clinic, "ng") == [attempt]

    # Dr Lee and Dr Okafor do not see Dr Ng's schedule, nor does a clerk not assigned to it.
    for outsider in ("lee", "okafor", "clerk2"):
        refused = client.get(f"/appointments/{appointment}/phone-attempts",
                             headers=clinic.auth(outsider))
        assert refused.status_code == 403, outsider
        assert _pulled_attempts(client, clinic, outsider) == [], outsider

    with Session(engine) as session:
        actions = session.exec(
            select(AuditEvent.action, AuditEvent.detail)
            .where(col(AuditEvent.action).in_(["appointment.phone_call", "phone_attempt.end"]))
            .order_by(col(AuditEvent.id))
        ).all()
    assert actions == [
        ("appointment.phone_call", f"attempt={kept.id}"),
        ("phone_attempt.end", f"appointment={appointment} outcome=declined duration=0"),
    ]
    assert DECLINING_NUMBER not in repr(actions)


def test_a_call_the_stopping_server_drops_ends_as_failed(
    inside: None, settings: Settings, engine: Engine, clock: object, janus: JanusServer,
    registrar: Registrar, clinic: Clinic, phone: Phone,
) -> None:
    phone.command("answermode", "manual")
    appointment = book_phone(engine, clinic)
    values = phone_settings(settings, janus, registrar)
    with TestClient(create_app(values, engine, clock)) as client:  # type: ignore[arg-type]
        call = dial(client, clinic, "ng", appointment)
        assert call["status"] == 200, call
        wait_until(lambda: "CALL_INCOMING" in phone.event_types(), timeout=20)
        [ringing] = attempts_of(engine, appointment)
        assert (ringing.ended_at, ringing.outcome) == (None, None)
    [attempt] = attempts_of(engine, appointment)
    assert attempt.outcome == PhoneOutcome.FAILED
    assert attempt.ended_at is not None and attempt.answered_at is None
    assert status_of(engine, appointment) == "scheduled"
    wait_until(lambda: "CALL_CLOSED" in phone.event_types(), timeout=20)
