"""Outbound HL7: status changes of HL7-booked appointments reach a real MLLP receiver over TCP.

The served app books through its MLLP listener; the hospital's side is tests/server/
mllp_receiver.py. SQLite and PostgreSQL.
"""

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.app import create_app
from server.app_state import state_of
from server.models.appointment import Appointment, AppointmentExternalId
from server.models.hl7_outbound import QUEUED, REFUSED, SENT, Hl7Outbound
from server.services import waiting_visits
from server.settings import Settings
from shared.clock import FixedClock
from shared.enums import AppointmentStatus
from tests.polling import wait_until
from tests.server.conftest import Clinic
from tests.server.live_server import live
from tests.server.mail_helpers import DEADLINE
from tests.server.mllp_helpers import ack_code, sender, siu
from tests.server.mllp_receiver import receiver
from tests.server.postgres import free_port

RETRY_SECONDS = 5.0


@pytest.fixture
def served(settings: Settings, engine: Engine, clock: FixedClock, clinic: Clinic) -> Iterator[
    tuple[FastAPI, int, str, int]
]:
    """The app with its MLLP listener, sending outbound HL7 to a port nothing listens on yet;
    yields (app, MLLP port, base URL, the hospital's port)."""
    port, hospital = free_port(), free_port()
    configured = settings.model_copy(update={
        "mllp_port": port,
        "hl7_clinicians": {"STMARYS:D100": "ng"},
        "hl7_outbound_port": hospital,
        "hl7_outbound_retry_seconds": RETRY_SECONDS,
        "hl7_outbound_timeout_seconds": 10.0,
        "hl7_outbound_application": "PAS",
        "hl7_outbound_facility": "STMARYS",
    })
    app = create_app(configured, engine, clock)
    with live(app, free_port()) as base:
        yield app, port, base, hospital


def _book(port: int, control_id: str, placer: str, filler: str, start: str) -> UUID:
    with sender(port) as hl7_sender:
        ack = hl7_sender.send(siu("S12", control_id, placer, filler=filler, start=start))
    assert ack_code(ack) == "AA", str(ack)
    return UUID(str(ack["MSA.F3"]).rsplit(" ", 1)[-1])


def _set_status(base: str, engine: Engine, clinic: Clinic, appointment_id: UUID,
                status: AppointmentStatus) -> None:
    """The clinician's desktop pushes the move, as its outbox does (sync push over HTTP)."""
    with Session(engine) as session:
        row = session.get(Appointment, appointment_id)
        assert row is not None
        version = row.version
    mutation = {"id": str(uuid4()), "seq": 1, "intent": "appointment.status",
                "entity_id": str(appointment_id), "base_version": version,
                "payload": {"status": status.value}}
    answer = httpx.post(f"{base}/sync/push", headers=clinic.auth("ng"), timeout=DEADLINE,
                        json={"protocol": 1, "client_id": str(uuid4()), "mutations": [mutation]})
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["status"] == "applied", answer.text


def _arrive(app: FastAPI, engine: Engine, clock: FixedClock, appointment_id: UUID) -> None:
    """The patient's page enters the waiting room (what the waiting room asks the store)."""
    waiting_visits.arrive(engine, appointment_id, clock.now(), timedelta(minutes=5),
                          state_of(app).hl7_outbound)


def _queue(engine: Engine) -> list[Hl7Outbound]:
    with Session(engine) as session:
        return list(session.exec(select(Hl7Outbound).order_by(col(Hl7Outbound.id))))


def _field(message: str, key: str) -> str:
    """The text of "SCH-25" (or "SCH-11.4", a component) in `message`."""
    segment, _, place = key.partition("-")
    number, _, component = place.partition(".")
    line = next(line for line in message.split("\r") if line.startswith(segment + "|"))
    value = line.split("|")[int(number) - (1 if segment == "MSH" else 0)]
    return value.split("^")[int(component) - 1] if component else value


def test_arrival_and_taken_reach_the_hospital_in_order_once_it_is_up(
    served: tuple[FastAPI, int, str, int], engine: Engine, clinic: Clinic, clock: FixedClock
) -> None:
    app, port, base, hospital_port = served
    appointment_id = _book(port, "C1", "P100", "F100", "20261127100000")
    _arrive(app, engine, clock, appointment_id)
    _set_status(base, engine, clinic, appointment_id, AppointmentStatus.TAKEN)

    # The hospital is down: the head is tried and waits for its retry; the next waits behind.
    wait_until(lambda: any(r.last_error for r in _queue(engine)), what="a failed attempt")
    first = _queue(engine)[0]
    assert first.status == "waiting" and first.state == QUEUED and first.attempts == 1
    assert "could not reach" in first.last_error
    assert first.next_attempt_at == clock.now() + timedelta(seconds=RETRY_SECONDS)
    assert [(r.status, r.attempts) for r in _queue(engine)] == [("waiting", 1), ("taken", 0)]

    with receiver(hospital_port) as hospital:
        clock.advance(RETRY_SECONDS)
        wait_until(lambda: all(r.state == SENT for r in _queue(engine)), what="both delivered")
        assert len(hospital.received) == 2
    arrived, taken = hospital.received
    for message in (arrived, taken):
        assert _field(message, "MSH-9") == "SIU^S14^SIU_S12"
        assert _field(message, "MSH-5") == "PAS" and _field(message, "MSH-6") == "STMARYS"
        assert _field(message, "SCH-1") == "P100" and _field(message, "SCH-2") == "F100"
        assert _field(message, "SCH-11.4") == "20261127100000+0000"
        assert _field(message, "PID-3.1") == "MRN900"
        assert _field(message, "AIP-3.1") == "ng"
    assert _field(arrived, "SCH-25") == "Arrived"
    assert _field(taken, "SCH-25") == "Started"
    rows = _queue(engine)
    assert [r.attempts for r in rows] == [2, 1]
    assert all(r.ack.startswith("MSH") and "MSA|AA|" + r.control_id in r.ack for r in rows)


def test_a_refused_message_is_kept_for_the_admin_and_not_sent_again(
    served: tuple[FastAPI, int, str, int], engine: Engine, clinic: Clinic, clock: FixedClock
) -> None:
    app, port, base, hospital_port = served
    first_id = _book(port, "C1", "P100", "F100", "20261127100000")
    second_id = _book(port, "C2", "P200", "F200", "20261127110000")
    with receiver(hospital_port, code="AE") as hospital:
        _set_status(base, engine, clinic, first_id, AppointmentStatus.NO_SHOW)
        wait_until(lambda: _queue(engine)[0].state == REFUSED, what="the refusal")
        hospital.code = "AA"
        clock.advance(300)  # long past a retry (5 s) if there were one
        _arrive(app, engine, clock, second_id)
        wait_until(lambda: _queue(engine)[-1].state == SENT, what="the next message")
        # The refused one was not sent again before the next (the queue is in order).
        assert [_field(m, "SCH-2") for m in hospital.received] == ["F100", "F200"]
        assert [_field(m, "SCH-25") for m in hospital.received] == ["Noshow", "Arrived"]

        admin = clinic.auth("admin")
        refused = httpx.get(f"{base}/hl7/outbound", params={"state": "refused"},
                            headers=admin, timeout=DEADLINE)
        assert refused.status_code == 200, refused.text
        [row] = refused.json()
        assert row["appointment_id"] == str(first_id) and row["attempts"] == 1
        assert row["last_error"] == "AE: Unknown appointment"
        assert "MSA|AE|" + row["control_id"] in row["ack"]
        assert httpx.get(f"{base}/hl7/outbound", headers=clinic.auth("ng"),
                         timeout=DEADLINE).status_code == 403

        # Once the cause is fixed an admin sends it again.
        again = httpx.post(f"{base}/hl7/outbound/{row['id']}/resend", headers=admin,
                           timeout=DEADLINE)
        assert again.status_code == 200, again.text
        wait_until(lambda: _queue(engine)[0].state == SENT, what="the resent message")
        assert len(hospital.received) == 3
        twice = httpx.post(f"{base}/hl7/outbound/{row['id']}/resend", headers=admin,
                           timeout=DEADLINE)
        assert twice.status_code == 409 and "sent" in twice.json()["message"]


def test_only_changes_made_here_to_hl7_bookings_are_sent(
    served: tuple[FastAPI, int, str, int], engine: Engine, clinic: Clinic, clock: FixedClock
) -> None:
    app, port, base, _hospital = served
    hl7_booked = _book(port, "C1", "P100", "F100", "20261127100000")
    with sender(port) as hl7_sender:  # the hospital's own no-show: nothing to tell it
        assert ack_code(hl7_sender.send(siu("S26", "C2", "P100", filler="F100"))) == "AA"
    # A clerk's booking has no placer or filler id to carry back.
    _set_status(base, engine, clinic, clinic.ids["ng_appointment"], AppointmentStatus.TAKEN)
    _arrive(app, engine, clock, clinic.ids["ng_appointment"])
    with Session(engine) as session:
        status = session.get(Appointment, hl7_booked)
        assert status is not None and status.status == AppointmentStatus.NO_SHOW
        assert session.exec(select(AppointmentExternalId)).all()
    assert _queue(engine) == []


def test_the_events_setting_takes_siu_events_per_known_status(settings: Settings) -> None:
    values = settings.model_dump()
    changed = Settings(**{**values, "hl7_outbound_events": {"no_show": "SIU^S26", "taken": ""}})
    assert changed.hl7_outbound_events == {"no_show": "SIU^S26", "taken": ""}
    with pytest.raises(ValueError, match="not an SIU event"):
        Settings(**{**values, "hl7_outbound_events": {"waiting": "ADT^A04"}})
    with pytest.raises(ValueError):
        Settings(**{**values, "hl7_outbound_events": {"arrived": "SIU^S14"}})
