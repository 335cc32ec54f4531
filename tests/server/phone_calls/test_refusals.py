"""What stops a phone call, and how each end is told: numbers refused before anything is sent,
a declined or unknown number, a second clinician, Janus not answering, the trunk's password."""

from __future__ import annotations

import asyncio

import pytest
from aiortc import RTCPeerConnection
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.media.ice_config import confined_to
from server.app import create_app
from server.settings import Settings
from shared.enums import AppointmentStatus
from shared.phone_call_protocol import PhoneEvent, PhoneEvents, PhoneOutcome
from tests.janus_server import JanusServer
from tests.netns import VETH_ADDRESS
from tests.polling import wait_until
from tests.server.conftest import Clinic
from tests.server.phone_calls.conftest import book_phone, phone_settings, status_of
from tests.sip.phone import Phone
from tests.sip.registrar import CLINIC_USER, DECLINING_NUMBER, Registrar


async def _audio_offer() -> str:
    pc = RTCPeerConnection()
    pc.addTransceiver("audio", direction="recvonly")
    with confined_to([VETH_ADDRESS]):
        await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


_offers: list[str] = []


def dial(client: TestClient, clinic: Clinic, user: str, appointment: object) -> dict[str, object]:
    # A real WebRTC audio offer (Janus checks it); these calls end before media would flow.
    if not _offers:
        _offers.append(asyncio.run(_audio_offer()))
    answer = client.post(
        f"/appointments/{appointment}/phone-call", json={"sdp": _offers[0]},
        headers=clinic.auth(user),
    )
    return {"status": answer.status_code, **answer.json()}


def ended(client: TestClient, clinic: Clinic, user: str, call_id: object) -> PhoneEvent:
    seen: list[PhoneEvent] = []

    def over() -> bool:
        answer = client.get(f"/phone-calls/{call_id}/events", params={"after": len(seen),
                            "wait": 1}, headers=clinic.auth(user))
        seen.extend(PhoneEvents.model_validate(answer.json()).events)
        return bool(seen) and seen[-1].state == "ended"

    wait_until(over, timeout=30)
    return seen[-1]


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("", "The patient has no phone number. Add one before calling."),
        ("12", "“12” has too few or too many digits for a phone number."),
        ("call me maybe", "“call me maybe” is not a phone number."),
        ("020 7946 09", "“020 7946 09” is not a number that can be dialled."),
    ],
)
def test_a_missing_or_impossible_number_is_refused_before_dialling(
    client: TestClient, clinic: Clinic, engine: Engine, phone: Phone, number: str, message: str
) -> None:
    appointment = book_phone(engine, clinic, number=number)
    answer = dial(client, clinic, "ng", appointment)
    assert answer == {
        "status": 422, "code": "invalid_number", "message": message,
        "fields": [{"field": "patient.phone", "message": message}],
    }
    assert "CALL_INCOMING" not in phone.event_types()
    assert status_of(engine, appointment) == AppointmentStatus.SCHEDULED


def test_a_number_the_trunk_declines_or_does_not_know(
    client: TestClient, clinic: Clinic, engine: Engine, registrar: Registrar
) -> None:
    declined = book_phone(engine, clinic, number=DECLINING_NUMBER)
    call = dial(client, clinic, "ng", declined)
    assert call["status"] == 200, call
    end = ended(client, clinic, "ng", call["call_id"])
    assert (end.outcome, end.sip_code, end.message) == (
        PhoneOutcome.DECLINED, 603, "The patient declined the call."
    )
    unknown = book_phone(engine, clinic, number="020 7946 0404")
    call = dial(client, clinic, "ng", unknown)
    end = ended(client, clinic, "ng", call["call_id"])
    assert (end.outcome, end.sip_code) == (PhoneOutcome.UNREACHABLE, 404)
    assert end.message == "The number cannot be reached (404 Not Found)."
    assert status_of(engine, unknown) == AppointmentStatus.SCHEDULED


def test_a_second_clinician_is_told_who_is_calling(
    client: TestClient, clinic: Clinic, engine: Engine, phone: Phone
) -> None:
    phone.command("answermode", "manual")
    appointment = book_phone(engine, clinic, owner="okafor")
    first = dial(client, clinic, "okafor", appointment)
    assert first["status"] == 200
    second = dial(client, clinic, "ng", appointment)
    assert second == {"status": 409, "code": "call_taken",
                      "message": "Okafor is already calling this patient.", "fields": []}
    # Only the clinician who dialled sees or steers the call.
    peek = client.get(f"/phone-calls/{first['call_id']}/events", headers=clinic.auth("ng"))
    assert peek.status_code == 404
    hangup = client.post(f"/phone-calls/{first['call_id']}/hangup", headers=clinic.auth("okafor"))
    assert hangup.status_code == 204
    end = ended(client, clinic, "okafor", first["call_id"])
    assert end.outcome is PhoneOutcome.CANCELLED
    # Once it ended, the next clinician may dial.
    assert dial(client, clinic, "ng", appointment)["status"] == 200


def test_janus_not_answering_is_said_and_changes_nothing(
    janus_gone_client: TestClient, clinic: Clinic, engine: Engine
) -> None:
    appointment = book_phone(engine, clinic)
    call = dial(janus_gone_client, clinic, "ng", appointment)
    end = ended(janus_gone_client, clinic, "ng", call["call_id"])
    assert (end.outcome, end.message) == (
        PhoneOutcome.FAILED, "The phone service (Janus) is not answering."
    )
    assert status_of(engine, appointment) == AppointmentStatus.SCHEDULED


def registered_client(
    settings: Settings, engine: Engine, clock: object, janus: JanusServer, registrar: Registrar,
    password: str,
) -> TestClient:
    values = phone_settings(
        settings, janus, registrar, phone_sip_username=f"sip:{CLINIC_USER}@127.0.0.2",
        phone_sip_secret=password,
    )
    return TestClient(create_app(values, engine, clock))  # type: ignore[arg-type]


def test_the_clinic_line_registers_with_its_password(
    inside: None, settings: Settings, engine: Engine, clock: object, janus: JanusServer,
    registrar: Registrar, clinic: Clinic, phone: Phone,
) -> None:
    with registered_client(settings, engine, clock, janus, registrar, "wrong password") as client:
        call = dial(client, clinic, "ng", book_phone(engine, clinic))
        end = ended(client, clinic, "ng", call["call_id"])
        assert end.outcome is PhoneOutcome.FAILED
        assert end.message == (
            "The phone line could not register: the trunk refused its account or password. "
            "Ask your IT team."
        )
        assert "CALL_INCOMING" not in phone.event_types()
    with registered_client(settings, engine, clock, janus, registrar, registrar.password) as client:
        phone.command("answermode", "manual")
        call = dial(client, clinic, "ng", book_phone(engine, clinic))
        wait_until(lambda: "CALL_INCOMING" in phone.event_types(), timeout=20)
        assert registrar.registered(CLINIC_USER)
        client.post(f"/phone-calls/{call['call_id']}/hangup", headers=clinic.auth("ng"))
        assert ended(client, clinic, "ng", call["call_id"]).outcome is PhoneOutcome.CANCELLED
