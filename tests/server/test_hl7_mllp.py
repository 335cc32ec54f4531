"""HL7 v2 over MLLP: real TCP senders against the served app, on SQLite and PostgreSQL."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import hl7
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from server.accounts_admin import add_user
from server.app import create_app
from server.integration import hl7_log, interface_account
from server.integration.hl7_inbox import Inbox
from server.integration.interface_account import USERNAME
from server.models.appointment import Appointment, AppointmentExternalId
from server.models.audit import AuditEvent
from server.models.hl7_message import Hl7Message
from server.models.patient import Patient
from server.models.user import User
from server.realtime.hub import Hub
from server.security.passwords import Passwords
from server.settings import Settings
from shared.clock import FixedClock
from shared.enums import AppointmentKind, AppointmentStatus, Role
from tests.server.conftest import NOW, Clinic
from tests.server.live_server import desktop, live, next_event
from tests.server.mail_helpers import smtp_server, text_part
from tests.server.mllp_helpers import ack_code, adt, err_location, sender, siu
from tests.server.postgres import free_port
from tests.server.test_invites import with_smtp


@pytest.fixture
def mllp(settings: Settings, engine: Engine, clock: FixedClock, clinic: Clinic) -> Iterator[
    tuple[FastAPI, int, str]
]:
    """The app served over HTTP with its MLLP listener; yields (app, MLLP port, base URL)."""
    port = free_port()
    configured = settings.model_copy(
        update={
            "mllp_port": port,
            "mllp_idle_seconds": 2.0,
            "mllp_max_message_bytes": 65536,
            "hl7_clinicians": {
                "STMARYS:D100": "ng", "D200": "okafor", "D300": "admin", "D400": "newdoc"
            },
        }
    )
    app = create_app(configured, engine, clock)
    with live(app, free_port()) as base:
        yield app, port, base


def _appointment(engine: Engine, placer: str) -> Appointment | None:
    with Session(engine) as session:
        return session.exec(
            select(Appointment)
            .join(AppointmentExternalId)
            .where(AppointmentExternalId.system == "hl7-placer")
            .where(AppointmentExternalId.value == placer)
        ).first()


def _count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return len(session.exec(select(model)).all())


def test_s12_books_a_not_invited_appointment_that_desktops_hear_of(
    mllp: tuple[FastAPI, int, str], engine: Engine, clinic: Clinic
) -> None:
    _app, port, base = mllp
    with desktop(base, clinic.tokens["ng"]) as socket, sender(port) as hl7:
        ack = hl7.send(siu("S12", "C1"))
        assert ack_code(ack) == "AA", str(ack)
        assert str(ack["MSA.F2"]) == "C1"
        assert str(ack["MSH.F9.R1.C1"]) == "ACK"
        assert next_event(socket, "changes")["cursor"] > 0

    row = _appointment(engine, "P100")
    assert row is not None
    assert row.start == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert row.duration_minutes == 20
    assert row.clinician_id == clinic.ids["ng"]
    assert row.location_id == clinic.ids["location"]
    assert row.kind == AppointmentKind.VIDEO
    assert row.status == AppointmentStatus.SCHEDULED
    assert row.notes == "Check-up"
    assert row.invite_status == "not_invited"  # scheduled, not invited
    with Session(engine) as session:
        ids = session.exec(
            select(AppointmentExternalId).where(AppointmentExternalId.appointment_id == row.id)
        ).all()
        assert {(i.system, i.value) for i in ids} == {
            ("hl7-placer", "P100"), ("hl7-filler", "F100")
        }
        patient = session.get(Patient, row.patient_id)
        assert patient is not None
        assert (patient.name, patient.mrn, patient.date_of_birth) == (
            "Ada Brien", "MRN900", date(1980, 2, 14)
        )
        assert patient.mrn_authority == "STMARYS"  # PID-3.4 of the MR identifier
        assert (patient.email, patient.phone) == ("ada@example.org", "0207946000")
        actor = session.exec(select(User).where(User.username == USERNAME)).one()
        assert not actor.is_active
        events = session.exec(
            select(AuditEvent.action).where(AuditEvent.actor_id == actor.id)
        ).all()
        assert set(events) == {"patient.create", "appointment.create"}
        logged = session.exec(select(Hl7Message)).one()
        assert (logged.control_id, logged.event, logged.ack_code) == ("C1", "SIU^S12", "AA")
        assert logged.subject == "filler:F100"
        assert logged.raw.startswith("MSH|")


def test_a_resent_control_id_is_acknowledged_without_a_second_effect(
    mllp: tuple[FastAPI, int, str], engine: Engine
) -> None:
    _app, port, _base = mllp
    with sender(port) as hl7:
        first = hl7.send(siu("S12", "C1"))
        # Same control id, same message: the engine did not see the first ACK.
        again = hl7.send(siu("S12", "C1"))
    with sender(port) as hl7:
        third = hl7.send(siu("S12", "C1"))
    assert ack_code(first) == ack_code(again) == ack_code(third) == "AA"
    assert str(first) == str(again) == str(third)
    assert _count(engine, Appointment) == 3 + 1
    assert _count(engine, Patient) == 1 + 1


def test_each_scheduling_event_in_order_on_one_connection(
    mllp: tuple[FastAPI, int, str], engine: Engine, clinic: Clinic
) -> None:
    _app, port, _base = mllp
    with sender(port) as hl7:
        assert ack_code(hl7.send(siu("S12", "C1"))) == "AA"
        # S13: rescheduled to 11:00 for 30 minutes.
        assert ack_code(hl7.send(siu("S13", "C2", start="20261127110000", minutes="30"))) == "AA"
        row = _appointment(engine, "P100")
        assert row is not None and row.start.hour == 11 and row.duration_minutes == 30
        # S14: now a phone appointment with another clinician.
        ack = hl7.send(siu("S14", "C3", start="20261127110000", minutes="30",
                           clinician="D200", type_code="PHONE"))
        assert ack_code(ack) == "AA", str(ack)
        row = _appointment(engine, "P100")
        assert row is not None
        assert (row.kind, row.clinician_id) == (AppointmentKind.PHONE, clinic.ids["okafor"])
        # S15: cancelled, with the reason SCH-6 gives.
        cancel = siu("S15", "C4").replace("SCH|P100^PAS|F100^PAS||||", "SCH|P100^PAS|F100^PAS|||"
                                          "|^Patient unwell")
        assert ack_code(hl7.send(cancel)) == "AA"
        row = _appointment(engine, "P100")
        assert row is not None
        assert (row.status, row.cancel_reason) == (AppointmentStatus.CANCELLED, "Patient unwell")
        # A second cancel changes nothing and is accepted.
        assert ack_code(hl7.send(siu("S15", "C5"))) == "AA"

        # S26 no-show and S17 delete on two more bookings.
        assert ack_code(hl7.send(siu("S12", "C6", "P2", filler="F2"))) == "AA"
        assert ack_code(hl7.send(siu("S26", "C7", "P2", filler="F2"))) == "AA"
        assert ack_code(hl7.send(siu("S12", "C8", "P3", filler="F3", start="20261127120000")))\
            == "AA"
        assert ack_code(hl7.send(siu("S17", "C9", "P3", filler="F3"))) == "AA"
    no_show, deleted = _appointment(engine, "P2"), _appointment(engine, "P3")
    assert no_show is not None and no_show.status == AppointmentStatus.NO_SHOW
    assert deleted is not None and deleted.status == AppointmentStatus.CANCELLED
    assert deleted.cancel_reason == "Deleted in the hospital system"


@pytest.mark.parametrize(
    ("message", "code", "field", "words"),
    [
        (siu("S12", "E1", clinician="D999"), "AE", "AIP-3", "No clinician is set up"),
        (siu("S12", "E2", clinician="D300"), "AE", "AIP-3", "not an active clinician"),
        (siu("S12", "E3", start="20261341250000"), "AE", "SCH-11", "not an HL7 date"),
        (siu("S12", "E4", start="2026112710"), "AE", "SCH-11", ""),  # 10:00 UTC: fine
        (siu("S12", "E5", type_code="XRAY"), "AE", "SCH-8", "hl7_appointment_types"),
        (siu("S12", "E6", minutes="soon"), "AE", "SCH-9", "not a duration"),
        (siu("S12", "E7", mrn=""), "AE", "PID-3", "MRN"),
        (siu("S12", "E8", start="20261125100000"), "AE", "SCH-11", ""),
        (siu("S15", "E9", "NOPE", filler=""), "AE", "SCH-1", "No appointment"),
        (siu("S99", "E10"), "AR", "MSH-9", "not accepted"),
        (siu("S12", "E11", version="2.9"), "AR", "MSH-12", "not supported"),
        (siu("S12", "E12").replace("SIU^S12", "ORU^R01"), "AR", "MSH-9", "not accepted"),
        (siu("S12", "E13", birth="19801399"), "AE", "PID-7", "not an HL7 date"),
    ],
)
def test_bad_content_is_refused_naming_the_field_and_leaves_nothing(
    mllp: tuple[FastAPI, int, str], engine: Engine, message: str, code: str, field: str,
    words: str,
) -> None:
    _app, port, _base = mllp
    with sender(port) as hl7:
        ack = hl7.send(message)
    if field == "SCH-11" and not words and "20261125" not in message:
        assert ack_code(ack) == "AA", str(ack)  # the short form of a date is valid
        return
    assert ack_code(ack) == code, str(ack)
    assert err_location(ack) == field, str(ack)
    assert words in str(ack["ERR.F8"])
    assert str(ack["ERR.F4"]) == "E"
    assert _count(engine, Appointment) == 3
    assert _count(engine, Patient) == 1  # the new patient was rolled back with the booking
    with Session(engine) as session:
        logged = session.exec(select(Hl7Message)).one()
        assert logged.ack_code == code and logged.error.startswith(field)


def test_a_double_booking_is_refused_and_the_next_message_applies(
    mllp: tuple[FastAPI, int, str], engine: Engine
) -> None:
    _app, port, _base = mllp
    with sender(port) as hl7:
        # ng has an appointment at 09:00 for 20 minutes (the seeded clinic).
        ack = hl7.send(siu("S12", "D1", start="20261127090500"))
        assert (ack_code(ack), err_location(ack)) == ("AE", "SCH-11"), str(ack)
        assert ack_code(hl7.send(siu("S12", "D2"))) == "AA"
    assert _count(engine, Appointment) == 4


def test_vendor_variants_delimiters_line_ends_escapes_and_repeats(
    mllp: tuple[FastAPI, int, str], engine: Engine
) -> None:
    _app, port, _base = mllp
    message = "\r\n".join(
        [
            "MSH*:#!%*PAS*STMARYS*CD*CLINIC*20261126080000**SIU:S12*V1*P*2.3",
            "SCH*P7:PAS*F7:PAS*****:Follow-up !F!urgent!F! 50!T!50*VIDEO*30*MIN*"
            "::30:202611271300+0000",
            "PID*1**OLD1:::OTHER:PI#MRN777:::STMARYS:MR**O'Brien:Sean**19700101*M*****"
            ":PRN:PH:::020:7946001#:NET:Internet:sean@example.org",
            "AIP*1**D100:Ng:Anna::::::STMARYS",
            "ZXX*anything*at*all",
        ]
    )
    with sender(port) as hl7:
        ack = hl7.send(message.replace("\r\n", "\n"))
    assert ack_code(ack) == "AA", str(ack)
    row = _appointment(engine, "P7")
    assert row is not None
    assert row.start == datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
    assert row.notes == "Follow-up *urgent* 50%50"  # this message's delimiters
    with Session(engine) as session:
        patient = session.get(Patient, row.patient_id)
        assert patient is not None and (patient.name, patient.mrn) == ("Sean O'Brien", "MRN777")
        assert (patient.phone, patient.email) == ("0207946001", "sean@example.org")


def test_time_without_offset_is_read_in_the_configured_zone(
    settings: Settings, engine: Engine, clock: FixedClock, clinic: Clinic
) -> None:
    port = free_port()
    configured = settings.model_copy(update={
        "mllp_port": port, "hl7_clinicians": {"D100": "ng"}, "hl7_time_zone": "America/New_York",
    })
    with live(create_app(configured, engine, clock), free_port()), sender(port) as hl7:
        assert ack_code(hl7.send(siu("S12", "Z1", start="20261127100000"))) == "AA"
    row = _appointment(engine, "P100")
    assert row is not None and row.start == datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def test_adt_updates_a_known_patient_and_ignores_others(
    mllp: tuple[FastAPI, int, str], engine: Engine
) -> None:
    _app, port, _base = mllp
    with sender(port) as hl7:
        assert ack_code(hl7.send(siu("S12", "C1"))) == "AA"
        ack = hl7.send(adt("A08", "A1", name="Brien-Smith^Ada"))
        assert ack_code(ack) == "AA" and "changed" in str(ack["MSA.F3"])
        ack = hl7.send(adt("A31", "A2", mrn="SOMEONE-ELSE"))
        assert ack_code(ack) == "AA" and "nothing changed" in str(ack["MSA.F3"])
    with Session(engine) as session:
        patient = session.exec(select(Patient).where(Patient.mrn == "MRN900")).one()
        assert (patient.name, patient.email) == ("Ada Brien-Smith", "ada.new@example.org")
        assert patient.version == 2
        assert session.exec(select(Patient).where(Patient.mrn == "SOMEONE-ELSE")).first() is None


def test_broken_frames_are_answered_and_the_connection_goes_on(
    mllp: tuple[FastAPI, int, str], engine: Engine
) -> None:
    _app, port, _base = mllp
    with sender(port) as hl7:
        hl7.send_raw(b"garbage between frames\x1c\r")
        assert ack_code(hl7.read_ack()) == "AR"
        hl7.send_raw(b"\x0bnot hl7 at all\x1c\r")
        ack = hl7.read_ack()
        assert (ack_code(ack), err_location(ack)) == ("AR", "MSH-")
        huge = siu("S12", "BIG", extra="NTE|1||" + "x" * 200_000)
        ack = hl7.send(huge)
        assert ack_code(ack) == "AR" and "larger" in str(ack["MSA.F3"])
        ack = hl7.send(siu("S12", "OK1"))
        assert ack_code(ack) == "AA", str(ack)
        assert str(ack["MSA.F2"]) == "OK1"
    assert _count(engine, Appointment) == 4


def test_an_idle_connection_is_closed(mllp: tuple[FastAPI, int, str]) -> None:
    _app, port, _base = mllp
    with sender(port) as hl7:
        hl7.send_raw(b"\x0bMSH|^~\\&|half a message")
        assert hl7.closed_by_peer()  # mllp_idle_seconds is 2 s in these tests
    with sender(port) as hl7:
        assert ack_code(hl7.send(siu("S12", "C1"))) == "AA"


def test_messages_for_one_appointment_apply_in_order_across_connections(
    mllp: tuple[FastAPI, int, str], engine: Engine
) -> None:
    _app, port, _base = mllp
    with sender(port) as first, sender(port) as second:
        assert ack_code(first.send(siu("S12", "O1"))) == "AA"
        assert ack_code(second.send(siu("S13", "O2", start="20261127140000"))) == "AA"
        assert ack_code(first.send(siu("S13", "O3", start="20261127150000"))) == "AA"
    row = _appointment(engine, "P100")
    assert row is not None and row.start.hour == 15 and row.version == 3
    with Session(engine) as session:
        events = session.exec(
            select(Hl7Message.control_id).order_by(col(Hl7Message.id))
        ).all()
    assert events == ["O1", "O2", "O3"]


def test_a_pipelining_sender_gets_each_ack_in_order_after_a_shared_commit(
    mllp: tuple[FastAPI, int, str], engine: Engine
) -> None:
    """Messages sent without waiting for ACKs are committed together: one commit, ACKs after."""
    _app, port, _base = mllp
    frames = [
        siu("S12", "G1"),
        siu("S13", "G2", start="20261127110000"),  # the appointment G1 books, in order
        siu("S12", "G3", "P5", filler="F5", clinician="D999"),  # refused: nothing left of it
        siu("S12", "G1"),  # resent: the same ACK, no second effect
        siu("S12", "G4", "P6", filler="F6", start="20261127120000"),
        None,  # bytes outside a frame: answered AR in their place
        siu("S15", "G5", "P6", filler="F6"),
    ]
    stream = b"".join(
        b"junk\x1c\r" if frame is None else b"\x0b" + frame.encode() + b"\x1c\r"
        for frame in frames
    )
    commits = 0

    def _committed(_connection: Any) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine, "commit", _committed)
    try:
        with sender(port) as hl7:
            hl7.send_raw(stream)
            acks = []
            for _frame in frames:
                acks.append(hl7.read_ack())
                if len(acks) == 1:
                    # Committed before its ACK was written.
                    assert _appointment(engine, "P100") is not None
    finally:
        event.remove(engine, "commit", _committed)
    assert [ack_code(ack) for ack in acks] == ["AA", "AA", "AE", "AA", "AA", "AR", "AA"], acks
    assert [str(ack["MSA.F2"]) for ack in acks] == ["G1", "G2", "G3", "G1", "G4", "", "G5"]
    assert str(acks[3]) == str(acks[0])
    assert commits < 6, commits  # not one per message
    moved, cancelled = _appointment(engine, "P100"), _appointment(engine, "P6")
    assert moved is not None and moved.start.hour == 11 and moved.version == 2
    assert cancelled is not None and cancelled.status == AppointmentStatus.CANCELLED
    assert _appointment(engine, "P5") is None
    assert _count(engine, Appointment) == 3 + 2
    with Session(engine) as session:
        logged = session.exec(select(Hl7Message.control_id).order_by(col(Hl7Message.id))).all()
    assert logged == ["G1", "G2", "G3", "G4", "G5"]


def test_a_batch_whose_shared_commit_fails_is_answered_one_message_at_a_time(
    settings: Settings, engine: Engine, clinic: Clinic
) -> None:
    """Nothing of a failed shared commit stays; each message then commits and answers alone."""
    configured = settings.model_copy(update={"hl7_clinicians": {"STMARYS:D100": "ng"}})
    inbox = Inbox(engine, Hub(), configured, interface_account.ensure(engine, NOW))
    failures: list[OrmSession] = []

    def _fail_the_shared_commit(session: OrmSession) -> None:
        if not failures:
            failures.append(session)
            raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    event.listen(OrmSession, "before_commit", _fail_the_shared_commit)
    try:
        acks = inbox.handle_batch(
            [siu("S12", "K1").encode(),
             siu("S12", "K2", "P2", filler="F2", start="20261127110000").encode(),
             b"not HL7"],
            "127.0.0.1", NOW,
        )
    finally:
        event.remove(OrmSession, "before_commit", _fail_the_shared_commit)
    assert len(failures) == 1
    codes = [ack_code(hl7.parse(ack.decode())) for ack in acks]
    assert codes == ["AA", "AA", "AR"], acks
    assert _appointment(engine, "P100") is not None and _appointment(engine, "P2") is not None
    assert _count(engine, Appointment) == 3 + 2
    with Session(engine) as session:
        logged = session.exec(select(Hl7Message.control_id).order_by(col(Hl7Message.id))).all()
    assert logged == ["K1", "K2", ""]


def _database_connections(database_url: str, allow: bool) -> None:
    """Let the test's PostgreSQL database take connections, or cut them all off."""
    base, name = database_url.rsplit("/", 1)
    admin = create_engine(
        f"{base}/postgres".replace("postgresql:", "postgresql+psycopg:"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {str(allow).lower()}"))
        if not allow:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = :name AND pid <> pg_backend_pid()"),
                {"name": name},
            )
    admin.dispose()


def test_a_message_while_the_database_is_down_is_refused_then_applied_on_resend(
    mllp: tuple[FastAPI, int, str], engine: Engine, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a database that goes down and comes back: the PostgreSQL server")
    _app, port, _base = mllp
    with sender(port) as hl7:
        _database_connections(database_url, allow=False)
        try:
            ack = hl7.send(siu("S12", "DOWN1"))
            assert ack_code(ack) == "AR", str(ack)
            assert "send the message again" in str(ack["MSA.F3"])
        finally:
            _database_connections(database_url, allow=True)
        ack = hl7.send(siu("S12", "DOWN1"))  # the engine resends the same message
        assert ack_code(ack) == "AA", str(ack)
    assert _count(engine, Appointment) == 4


def test_admins_search_the_message_log_and_replay_a_refused_message(
    mllp: tuple[FastAPI, int, str], engine: Engine, clinic: Clinic
) -> None:
    _app, port, base = mllp
    with sender(port) as hl7:
        refused = hl7.send(siu("S12", "R1", clinician="D400"))
    assert ack_code(refused) == "AE"

    answer = httpx.get(f"{base}/hl7/messages", params={"ack_code": "AE"},
                       headers=clinic.auth("admin"))
    assert answer.status_code == 200, answer.text
    [logged] = answer.json()
    assert (logged["control_id"], logged["subject"]) == ("R1", "filler:F100")
    assert logged["error"].startswith("AIP-3: Clinician 'D400' maps to 'newdoc'")
    assert "PID|1||MRN900" in logged["raw"]
    assert httpx.get(f"{base}/hl7/messages", headers=clinic.auth("clerk")).status_code == 403
    assert httpx.get(f"{base}/hl7/messages").status_code == 401

    # The admin creates the missing account, then replays the message.
    with Session(engine) as session:
        add_user(session, Passwords(1, 8, 1), "newdoc", "New Doc", Role.CLINICIAN,
                 "a long enough password", NOW)
        session.commit()
    replay = httpx.post(f"{base}/hl7/messages/{logged['id']}/replay",
                        headers=clinic.auth("admin"))
    assert replay.status_code == 200, replay.text
    assert replay.json()["ack_code"] == "AA"
    assert _count(engine, Appointment) == 4
    with Session(engine) as session:
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.actor_id == clinic.ids["admin"])
        ).all()
    assert {"hl7.read", "hl7.replay"} <= set(actions)


def test_the_raw_log_keeps_only_the_newest_messages(engine: Engine) -> None:
    with Session(engine) as session:
        for number in range(1, 251):
            hl7_log.record(
                session, at=NOW, sender="PAS^STMARYS", control_id=f"N{number}", event="SIU^S12",
                ack_code="AA", subject="", error="", raw="MSH|...", ack="MSH|...", keep=100,
            )
        session.commit()
        kept = session.exec(select(Hl7Message.control_id).order_by(col(Hl7Message.id))).all()
    assert 100 <= len(kept) < 200
    assert kept[-1] == "N250" and "N1" not in kept


def test_imported_appointments_wait_for_staff_to_invite_them(
    settings: Settings, engine: Engine, clock: FixedClock, clinic: Clinic
) -> None:
    port = free_port()
    with smtp_server() as (mailbox, smtp_port):
        configured = with_smtp(settings, smtp_port).model_copy(
            update={"mllp_port": port, "hl7_clinicians": {"D100": "ng"}}
        )
        with live(create_app(configured, engine, clock), free_port()) as base, \
                sender(port) as hl7:
            assert ack_code(hl7.send(siu("S12", "I1"))) == "AA"
            # Not invited yet: a reschedule does not email the patient either.
            assert ack_code(hl7.send(siu("S13", "I2", start="20261127110000"))) == "AA"
            row = _appointment(engine, "P100")
            assert row is not None and row.invite_status == "not_invited"
            # Nor does a clerk's or clinician's change before anybody invited the patient.
            moved_by_staff = httpx.patch(
                f"{base}/appointments/{row.id}", headers=clinic.auth("ng"),
                json={"start": "2026-11-27T10:30:00Z", "base_version": row.version},
            )
            assert moved_by_staff.status_code == 200, moved_by_staff.text
            assert moved_by_staff.json()["invite_status"] == "not_invited"
            invited = httpx.post(f"{base}/appointments/{row.id}/invites",
                                 headers=clinic.auth("ng"))
            assert invited.status_code == 202, invited.text
            [invite] = mailbox.wait(1)
            assert "ada@example.org" in invite["To"]
            assert str(invite["Subject"]).startswith("Your video")
            # Invited: the hospital's next change reaches the patient.
            assert ack_code(hl7.send(siu("S13", "I3", start="20261127120000"))) == "AA"
            first, moved = mailbox.wait(2)
        assert first is invite and "ada@example.org" in moved["To"]
        assert "12:00" in text_part(moved, "plain")
