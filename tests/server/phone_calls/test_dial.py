"""Ringing a real phone: the server dials baresip through Janus's SIP plugin and Kamailio; the
desktop's PhoneSession carries a tone to the phone and hears the phone's tone back."""

from __future__ import annotations

import array
import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from uuid import UUID

import pytest
import pytest_asyncio
from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.media.ice_config import IcePolicy
from app.media.phone_session import PhoneListener, PhoneSession
from server.models.phone_attempt import PhoneAttempt
from shared.phone_call_protocol import PhoneEvent, PhoneOutcome
from tests.netns import VETH_ADDRESS
from tests.polling import eventually
from tests.server.conftest import Clinic
from tests.server.group_calls.peers import keep_last, tone_power
from tests.server.phone_calls.conftest import (
    PATIENT_NUMBER,
    RING_SECONDS,
    TestLine,
    attempts_of,
    book_phone,
    status_of,
)
from tests.sip.phone import PHONE_TONE, Phone, wav_samples

DESK_TONE = 440
DEADLINE = 20.0


class Desk(PhoneListener):
    """The desktop's side: its events, and the phone's audio it heard (the last 0.2 s)."""

    def __init__(self) -> None:
        self.events: list[PhoneEvent] = []
        self.heard = array.array("h")
        self.rate = 48000
        self.frames = 0
        self.readers: list[asyncio.Task[None]] = []

    def event(self, event: PhoneEvent) -> None:
        self.events.append(event)

    def remote_track(self, track: MediaStreamTrack) -> None:
        self.readers.append(asyncio.ensure_future(self._read(track)))

    def states(self) -> list[str]:
        return [event.state for event in self.events]

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, AudioFrame)
                self.rate = keep_last(self.heard, frame)
                self.frames += 1

    def hears(self, tone: int) -> bool:
        return len(self.heard) > 1000 and tone_power(self.heard, self.rate, tone) > 0.3


async def wait_until(condition: Callable[[], object], what: str) -> None:
    await eventually(condition, DEADLINE, what)


async def the_attempt(engine: Engine, appointment: UUID, clinic: Clinic,
                      user: str = "ng") -> PhoneAttempt:
    """The appointment's one attempt once its end is written: who called, which number."""
    await wait_until(lambda: [a.ended_at is not None for a in attempts_of(engine, appointment)]
                     == [True], "the attempt's end")
    [attempt] = attempts_of(engine, appointment)
    assert (attempt.caller_id, attempt.caller_name) == (clinic.ids[user], user.title())
    assert attempt.number == PATIENT_NUMBER
    assert attempt.ended_at is not None and attempt.ended_at >= attempt.started_at
    return attempt


@pytest.fixture
def appointment(clinic: Clinic, engine: Engine) -> UUID:
    return book_phone(engine, clinic)


@contextlib.asynccontextmanager
async def desk_of(
    client: TestClient, clinic: Clinic, user: str, appointment: UUID
) -> AsyncIterator[tuple[Desk, PhoneSession]]:
    """`user`'s desktop ready to call the appointment's patient, its microphone a tone."""
    microphone = MediaPlayer(f"sine=frequency={DESK_TONE}", format="lavfi")
    listener = Desk()
    session = PhoneSession(
        TestLine(client, clinic, user, appointment), listener, audio=microphone.audio,
        ice=IcePolicy(interfaces=(VETH_ADDRESS,)),
    )
    try:
        yield listener, session
    finally:
        await session.close()
        for reader in listener.readers:
            reader.cancel()
        if microphone.audio is not None:
            microphone.audio.stop()


@pytest_asyncio.fixture
async def desk(
    client: TestClient, clinic: Clinic, appointment: UUID
) -> AsyncIterator[tuple[Desk, PhoneSession]]:
    async with desk_of(client, clinic, "ng", appointment) as desk:
        yield desk


@pytest.mark.asyncio
async def test_the_phone_rings_answers_and_carries_audio_both_ways(
    desk: tuple[Desk, PhoneSession], phone: Phone, engine: Engine, appointment: UUID,
    clinic: Clinic,
) -> None:
    listener, session = desk
    started = await session.start()
    assert started.number == "+44 20 7946 0961"
    await wait_until(lambda: "connected" in listener.states(), "the phone to answer")
    assert listener.states()[0] == "dialling"
    assert phone.saw("answering call")
    await wait_until(lambda: status_of(engine, appointment) == "taken", "the appointment taken")
    await wait_until(lambda: listener.hears(PHONE_TONE), "the phone's tone at the desktop")
    assert not listener.hears(DESK_TONE)
    await wait_until(lambda: phone.heard_wav() is not None, "the phone's recording")
    await session.send_keys("1#")
    await wait_until(lambda: phone.dtmf() == "1#", f"the keys at the phone {phone.event_types()}")
    await session.hang_up()
    await wait_until(lambda: session.ended, "the call to end")
    ended = listener.events[-1]
    assert ended.outcome is PhoneOutcome.ANSWERED
    attempt = await the_attempt(engine, appointment, clinic)
    assert attempt.outcome == PhoneOutcome.ANSWERED
    assert attempt.answered_at is not None and attempt.ended_at is not None
    assert attempt.answered_at <= attempt.ended_at
    assert attempt.duration_seconds == ended.duration_seconds
    assert attempt.version == 3  # dialled, answered, ended: one row, updated
    await wait_until(lambda: phone.saw("session closed"), "the phone to hang up")
    wav = phone.heard_wav()
    assert wav is not None
    samples, rate = wav_samples(wav)
    tail = array.array("h", samples[-rate // 2:])
    assert tone_power(tail, rate, DESK_TONE) > 0.3, "the phone did not hear the desktop's tone"


async def ring(session: PhoneSession, listener: Desk) -> PhoneEvent:
    """Dials and waits for the call's end; the "ended" event."""
    await session.start()
    await wait_until(lambda: session.ended, "the call to end")
    return listener.events[-1]


@pytest.mark.asyncio
async def test_a_phone_that_rings_on_ends_as_no_answer(
    desk: tuple[Desk, PhoneSession], phone: Phone, engine: Engine, appointment: UUID,
    clinic: Clinic,
) -> None:
    listener, session = desk
    phone.command("answermode", "manual")
    ended = await ring(session, listener)
    assert listener.states() == ["dialling", "ringing", "ended"]
    assert ended.outcome is PhoneOutcome.NO_ANSWER
    assert ended.message == f"No answer after {RING_SECONDS} seconds of ringing."
    attempt = await the_attempt(engine, appointment, clinic)
    assert (attempt.outcome, attempt.answered_at, attempt.duration_seconds) == (
        PhoneOutcome.NO_ANSWER, None, 0)
    assert status_of(engine, appointment) == "scheduled"
    await wait_until(lambda: "CALL_CLOSED" in phone.event_types(), "the phone to stop ringing")


@pytest.mark.asyncio
async def test_the_patient_rejecting_the_call_is_busy(
    desk: tuple[Desk, PhoneSession], phone: Phone, engine: Engine, appointment: UUID,
    clinic: Clinic,
) -> None:
    listener, session = desk
    phone.command("answermode", "manual")
    await session.start()
    await wait_until(lambda: "CALL_INCOMING" in phone.event_types(), "the phone to ring")
    await wait_until(lambda: "ringing" in listener.states(), "the desktop to hear it ring")
    phone.command("hangup")
    await wait_until(lambda: session.ended, "the call to end")
    ended = listener.events[-1]
    assert (ended.outcome, ended.sip_code) == (PhoneOutcome.BUSY, 486)
    assert ended.message == "Busy: the patient's line is engaged."
    attempt = await the_attempt(engine, appointment, clinic)
    assert (attempt.outcome, attempt.sip_code, attempt.answered_at) == (
        PhoneOutcome.BUSY, 486, None)
    assert attempt.version == 2  # dialled, ended


@pytest.mark.asyncio
async def test_the_patient_hanging_up_ends_the_call_at_once(
    desk: tuple[Desk, PhoneSession], phone: Phone
) -> None:
    listener, session = desk
    await session.start()
    await wait_until(lambda: "connected" in listener.states(), "the phone to answer")
    phone.command("hangup")
    await wait_until(lambda: session.ended, "the call to end")
    ended = listener.events[-1]
    assert ended.outcome is PhoneOutcome.ANSWERED
    assert ended.message.startswith("Call ended after 0:0")


@pytest.mark.asyncio
async def test_hold_silences_the_phone_and_resume_brings_it_back(
    desk: tuple[Desk, PhoneSession], phone: Phone
) -> None:
    listener, session = desk
    await session.start()
    await wait_until(lambda: listener.hears(PHONE_TONE), "the phone's tone")
    await session.set_hold(True)
    await wait_until(lambda: "on_hold" in listener.states(), "on hold")
    await stalled(listener)
    del listener.heard[:]
    await session.set_hold(False)
    await wait_until(lambda: "resumed" in listener.states(), "resumed")
    await wait_until(lambda: listener.hears(PHONE_TONE), "the phone's tone again")
    assert listener.events[-1].message == "Connected"


async def stalled(listener: Desk) -> None:
    """Waits until no audio from the phone arrives for half a second (the phone is held)."""
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while True:
        frames = listener.frames
        await asyncio.sleep(0.5)
        if listener.frames == frames:
            return
        assert asyncio.get_running_loop().time() < deadline, "the phone's audio goes on"


@pytest.mark.asyncio
async def test_a_delegate_whose_call_is_answered_turns_the_appointment_taken(
    client: TestClient, clinic: Clinic, engine: Engine, phone: Phone
) -> None:
    # Dr Ng sees Dr Okafor's schedule by delegation (may call, may not book for it).
    theirs = book_phone(engine, clinic, owner="okafor")
    async with desk_of(client, clinic, "ng", theirs) as (listener, session):
        await session.start()
        await wait_until(lambda: "connected" in listener.states(), "the phone to answer")
        await wait_until(lambda: status_of(engine, theirs) == "taken", "the appointment taken")
        phone.command("hangup")
        await wait_until(lambda: session.ended, "the call to end")
    attempt = await the_attempt(engine, theirs, clinic)
    assert attempt.outcome == PhoneOutcome.ANSWERED
