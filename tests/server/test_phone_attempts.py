"""Phone attempts a stopped server left open end as failed when it starts again; an
appointment moved to another clinician takes its attempts to that clinician's desktops; a call
whose SIP thread breaks ends as failed on its attempt."""

from datetime import timedelta
from uuid import uuid4

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.janus.sip_call import SipCall, SipLine
from server.models.appointment import Appointment
from server.models.phone_attempt import PhoneAttempt
from server.models.sync import Change
from server.models.user import User
from server.services import booking, phone_attempts
from server.services.caller import Caller
from server.services.phone_calls import PhoneCall
from shared.clock import FixedClock
from shared.phone_call_protocol import PhoneOutcome
from shared.schemas import AppointmentUpdate
from shared.sync_protocol import EntityType, PullResponse
from tests.polling import wait_until
from tests.server.conftest import NOW, Clinic


def _attempt(clinic: Clinic, appointment: object, **fields: object) -> PhoneAttempt:
    return PhoneAttempt.model_validate({
        "id": uuid4(), "appointment_id": appointment, "caller_id": clinic.ids["ng"],
        "caller_name": "Ng", "number": "+442079460961", "started_at": NOW, "updated_at": NOW,
    } | fields)


def _pulled(client: TestClient, clinic: Clinic, user: str) -> dict[object, bool]:
    """The phone attempts a user's pull from the start carries: id -> deleted."""
    answer = client.get("/sync/pull", params={"protocol": 1, "cursor": 0},
                        headers=clinic.auth(user))
    page = PullResponse.model_validate(answer.json())
    return {c.id: c.deleted for c in page.changes if c.type is EntityType.PHONE_ATTEMPT}


def test_an_attempt_left_open_by_a_stopped_server_ends_as_failed_at_start(
    app: FastAPI, engine: Engine, clinic: Clinic
) -> None:
    appointment = clinic.ids["ng_appointment"]
    with Session(engine) as session:
        open_one = PhoneAttempt(
            id=uuid4(), appointment_id=appointment, caller_id=clinic.ids["ng"],
            caller_name="Ng", number="+442079460961", started_at=NOW - timedelta(minutes=3),
            answered_at=NOW - timedelta(minutes=2), updated_at=NOW - timedelta(minutes=2),
            version=2,
        )
        closed = PhoneAttempt(
            id=uuid4(), appointment_id=appointment, caller_id=clinic.ids["ng"],
            caller_name="Ng", number="+442079460961", started_at=NOW - timedelta(minutes=9),
            ended_at=NOW - timedelta(minutes=8), outcome="busy", sip_code=486,
            updated_at=NOW - timedelta(minutes=8), version=2,
        )
        session.add_all([open_one, closed])
        session.commit()
        open_id, closed_id = open_one.id, closed.id
    with TestClient(app) as client:
        listed = client.get(f"/appointments/{appointment}/phone-attempts",
                            headers=clinic.auth("clerk"))
    assert listed.status_code == 200
    by_id = {a["id"]: a for a in listed.json()}
    assert [a["id"] for a in listed.json()] == [str(closed_id), str(open_id)]
    ended = by_id[str(open_id)]
    assert (ended["outcome"], ended["duration_seconds"], ended["version"]) == (
        PhoneOutcome.FAILED, 120, 3)
    assert by_id[str(closed_id)]["outcome"] == PhoneOutcome.BUSY
    with Session(engine) as session:
        logged = session.exec(select(Change.entity_id, Change.scope_id)
                              .where(col(Change.entity_type) == "phone_attempt")).all()
    assert logged == [(open_id, clinic.ids["ng"])]


def test_an_appointment_moved_to_another_clinician_takes_its_attempts_along(
    client: TestClient, engine: Engine, clinic: Clinic
) -> None:
    appointment = clinic.ids["ng_appointment"]
    with Session(engine) as session:
        attempt = _attempt(clinic, appointment, ended_at=NOW, outcome="no_answer", version=2)
        session.add(attempt)
        session.commit()
        attempt_id = attempt.id
    with Session(engine) as session:
        row = session.get(Appointment, appointment)
        admin = session.get(User, clinic.ids["admin"])
        assert row is not None and admin is not None
        hospital = Caller(user=admin, address="test", now=NOW, system=True)
        booking.update(session, hospital, row, AppointmentUpdate(
            clinician_id=clinic.ids["lee"], base_version=row.version))
        session.commit()
    assert _pulled(client, clinic, "lee") == {attempt_id: False}
    # Dr Ng's clerk loses it: a tombstone.
    assert _pulled(client, clinic, "clerk") == {attempt_id: True}


class _BrokenJanus:
    """A Janus client whose session breaks in a way nobody foresaw (a bug, not a refusal)."""

    def session(self) -> None:
        raise ValueError("unforeseen")


def test_a_call_whose_sip_thread_breaks_ends_as_failed_on_its_attempt(
    engine: Engine, clinic: Clinic
) -> None:
    call_id = uuid4()
    with Session(engine) as session:
        row = session.get(Appointment, clinic.ids["ng_appointment"])
        user = session.get(User, clinic.ids["ng"])
        assert row is not None and user is not None
        phone_attempts.dialled(session, Caller(user=user, address="test", now=NOW), row,
                               call_id, "+442079460961")
        session.commit()
    call = PhoneCall(
        id=call_id, appointment_id=clinic.ids["ng_appointment"], user_id=clinic.ids["ng"],
        number="+44 20 7946 0961", started_at=NOW, ring_seconds=30, clock=FixedClock(NOW),
        on_answered=lambda _call: None,
        on_ended=lambda ended: phone_attempts.ended(engine, None, ended, NOW),
    )
    line = SipLine("sip:127.0.0.1:9", "127.0.0.1", "", "", "", "+442079460000", "Clinic")
    call.begin(SipCall(_BrokenJanus(), line, "+442079460961", "v=0", call.sip_event,  # type: ignore[arg-type]
                       call.sip_failed))

    def recorded() -> PhoneAttempt | None:
        # The call is over first; its end is written right after.
        with Session(engine) as session:
            attempt = session.get(PhoneAttempt, call_id)
            return attempt if attempt is not None and attempt.ended_at is not None else None

    wait_until(recorded, timeout=10)
    assert (call.outcome, call.message) == (
        PhoneOutcome.FAILED, "The call failed: the server lost its side of it.")
    attempt = recorded()
    assert attempt is not None and (attempt.outcome, attempt.version) == ("failed", 2)
