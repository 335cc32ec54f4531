"""Fuzzing the MLLP listener (hypothesis): every input gets an ACK or a NACK in bounded time,
the listener stays up, and nothing half-applied is left behind. SQLite; quick for CI."""

import itertools
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from server.app import create_app
from server.models.appointment import Appointment, AppointmentExternalId
from server.models.patient import Patient
from server.settings import Settings
from shared.clock import FixedClock
from tests.server.conftest import Clinic
from tests.server.live_server import live
from tests.server.mllp_helpers import MllpSender, ack_code, siu
from tests.server.postgres import free_port

#: Each message must be answered well within this (the machine may be busy).
ANSWER_SECONDS = 10.0
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Text a hostile or broken sender might put anywhere.
NASTY = st.sampled_from([
    "'; DROP TABLE appointment; --", "<script>alert(1)</script>", "\\E\\\\F\\", "^^^^",
    "~~~", "&&", "|", "\x00", "ñandú Ωmega 漢字", "20261399", "2026112710+2500", "-5", "9" * 40,
    "S99", "", " ", "\t", "MSH|^~\\&|", "\x0b", "\x1c",
])
FIELD_TEXT = st.one_of(NASTY, st.text(max_size=40))
_CONTROL_IDS = itertools.count(1)


@pytest.fixture
def listener(settings: Settings, engine: Engine, clock: FixedClock, database_url: str,
             clinic: Clinic) -> Iterator[int]:
    if not database_url.startswith("sqlite"):
        pytest.skip("the fuzzing runs on SQLite; PostgreSQL has the functional tests")
    port = free_port()
    configured = settings.model_copy(update={
        "mllp_port": port, "mllp_idle_seconds": 5.0, "mllp_max_message_bytes": 65536,
        "hl7_clinicians": {"STMARYS:D100": "ng", "D200": "okafor"},
    })
    with live(create_app(configured, engine, clock), free_port()):
        yield port


def _counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        return (
            session.exec(select(func.count()).select_from(Appointment)).one(),
            session.exec(select(func.count()).select_from(Patient)).one(),
            session.exec(select(func.count()).select_from(AppointmentExternalId)).one(),
        )


def _answered(connection: MllpSender, data: bytes) -> str:
    began = time.monotonic()
    connection.send_raw(data)
    ack = connection.read_ack()
    assert time.monotonic() - began < ANSWER_SECONDS
    return ack_code(ack)


def _still_listening(port: int) -> None:
    connection = MllpSender(port)
    try:
        assert ack_code(connection.send(siu("S99", "PING"))) == "AR"
    finally:
        connection.close()


@FUZZ
@given(body=st.binary(max_size=2000).filter(lambda b: b"\x1c\r" not in b))
def test_any_framed_bytes_get_a_nack(listener: int, engine: Engine, body: bytes) -> None:
    before = _counts(engine)
    connection = MllpSender(listener)
    try:
        assert _answered(connection, b"\x0b" + body + b"\x1c\r") in ("AE", "AR")
    finally:
        connection.close()
    assert _counts(engine) == before
    _still_listening(listener)


@FUZZ
@given(
    segment=st.sampled_from(["MSH", "SCH", "PID", "AIP", "AIL"]),
    field=st.integers(min_value=1, max_value=14),
    text=FIELD_TEXT,
    line_end=st.sampled_from(["\r", "\n", "\r\n"]),
)
# Found by this test: an <FS> in the version field, echoed in the ACK, cut the ACK's frame.
@example(segment="MSH", field=12, text="\x1c", line_end="\n")
def test_a_damaged_booking_is_applied_whole_or_not_at_all(
    listener: int, engine: Engine, segment: str, field: int, text: str, line_end: str,
) -> None:
    # A fresh control id each time: a resent one would be answered without an effect.
    message = siu("S12", f"F{next(_CONTROL_IDS)}", "FZ", filler="FZ", start="20261127150000")
    lines = message.split("\r")
    for number, line in enumerate(lines):
        if line.startswith(segment):
            parts = line.split("|")
            # MSH-1 is the field separator itself: MSH's field n is parts[n - 1].
            index = field - 1 if segment == "MSH" else field
            parts.extend([""] * (index + 1 - len(parts)))
            parts[index] = text.replace("\r", " ").replace("\n", " ")
            lines[number] = "|".join(parts)
    before = _counts(engine)
    connection = MllpSender(listener)
    try:
        code = _answered(connection, b"\x0b" + line_end.join(lines).encode() + b"\x1c\r")
    finally:
        connection.close()
    after = _counts(engine)
    if code == "AA":
        # Applied whole: one appointment with its ids (the patient may have existed).
        assert after[0] == before[0] + 1 and after[2] - before[2] in (1, 2)
        with Session(engine) as session:
            # Remove it again (its ids go with it) so that the next example can book.
            for row in session.exec(select(AppointmentExternalId).where(
                    AppointmentExternalId.value == "FZ")).all():
                appointment = session.get(Appointment, row.appointment_id)
                if appointment is not None:
                    session.delete(appointment)
            session.commit()
    else:
        assert code in ("AE", "AR") and after == before
    _still_listening(listener)


@FUZZ
@given(garbage=st.binary(min_size=1, max_size=300).filter(
    lambda b: b"\x0b" not in b and b"\x1c" not in b))
def test_garbage_between_frames_does_not_desynchronise_the_acks(
    listener: int, garbage: bytes,
) -> None:
    connection = MllpSender(listener)
    try:
        # Garbage, its own end marker, then a real message: two answers, in order.
        connection.send_raw(garbage + b"\x1c\r")
        assert ack_code(connection.read_ack()) == "AR"
        ack = connection.send(siu("S99", "AFTER"))
        assert ack_code(ack) == "AR" and str(ack["MSA.F2"]) == "AFTER"
    finally:
        connection.close()


def test_a_ten_megabyte_message_is_refused_and_the_connection_goes_on(
    listener: int, engine: Engine,
) -> None:
    before = _counts(engine)
    connection = MllpSender(listener)
    try:
        huge = siu("S12", "HUGE", extra="NTE|1||" + "A" * 10_000_000)
        ack = connection.send(huge)
        assert ack_code(ack) == "AR" and "larger" in str(ack["MSA.F3"])
        ack = connection.send(siu("S99", "NEXT"))
        assert str(ack["MSA.F2"]) == "NEXT"
    finally:
        connection.close()
    assert _counts(engine) == before
