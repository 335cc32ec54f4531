"""A call to a phone appointment's patient reaches the other desktops: Dr Ng dials (through
the real server, Janus's SIP plugin, Kamailio and baresip in the test's network namespace),
the phone rings on unanswered; the clerk's desktop pulls the attempt and its schedule row says
"No answer at HH:MM", the Phone call attempts dialog lists it (and the next call as it
syncs); Dr Lee, who may not see Dr Ng's
schedule, gets nothing."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.ui.schedule.actions_menu import ActionKey
from app.ui.schedule.phone_attempts_dialog import PhoneAttemptsDialog
from app.views.date_text import time_text
from app.views.schedule_columns import Column
from shared.drafts import AppointmentDraft, PatientDraft
from shared.enums import AppointmentKind
from shared.phone_call_protocol import PhoneEvents, PhoneOutcome
from shared.records import Appointment
from tests.janus_server import JanusServer
from tests.netns import NetNamespace
from tests.server.group_calls.conftest import namespace
from tests.server.phone_calls.conftest import (
    CLINIC_NUMBER,
    PATIENT_NUMBER,
    janus,
    phone,
    registrar,
)
from tests.server.phone_calls.test_refusals import _audio_offer
from tests.server.server_process import LiveServer
from tests.sip.phone import Phone
from tests.sip.registrar import Registrar
from tests.sync.desk import Desk, done
from tests.sync.live_server import seed_clinic
from tests.sync.qt_loop import QtLoop, qt_loop
from tests.sync.test_desktop_sync import close_window, open_window, rows, show_day_of

__all__ = ["janus", "namespace", "phone", "registrar"]  # the fixtures this module shares

RING_SECONDS = 5


@pytest.fixture
def qloop(qapp: object) -> Iterator[QtLoop]:
    with qt_loop(qapp) as loop:
        yield loop


@pytest.fixture
def phone_server(
    tmp_path: Path, namespace: NetNamespace, janus: JanusServer, registrar: Registrar
) -> Iterator[tuple[LiveServer, dict[str, UUID]]]:
    """The server as a process inside the namespace, dialling through Janus and Kamailio."""
    with namespace.entered():
        url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
        clinic = seed_clinic(url, extra_clinicians=("lee",))
        env = {
            "CLINIC_DESK_JANUS_URL": janus.url,
            "CLINIC_DESK_JANUS_PUBLIC_URL": janus.ws_url,
            "CLINIC_DESK_JANUS_API_SECRET": janus.config.api_secret,
            "CLINIC_DESK_JANUS_TOKEN_SECRET": janus.config.token_secret,
            "CLINIC_DESK_JANUS_ROOM_KEY": janus.config.room_key,
            "CLINIC_DESK_PHONE_SIP_PROXY": registrar.uri,
            "CLINIC_DESK_PHONE_CALLER_ID": CLINIC_NUMBER,
            "CLINIC_DESK_PHONE_RING_SECONDS": str(RING_SECONDS),
        }
        server = LiveServer(url, env)
        server.start()
        try:
            yield server, clinic.ids
        finally:
            server.close()


async def _ring_unanswered(doctor: Desk, appointment: UUID) -> None:
    """Dr Ng's desktop dials and follows the call to its end (no answer)."""
    started: Any = await doctor.api._json(
        "POST", f"/appointments/{appointment}/phone-call", json={"sdp": await _audio_offer()})
    seen = 0
    while True:
        answer = await doctor.api._json(
            "GET", f"/phone-calls/{started['call_id']}/events",
            params={"after": seen, "wait": 5})
        events = PhoneEvents.model_validate(answer).events
        seen += len(events)
        if events and events[-1].state == "ended":
            assert events[-1].outcome is PhoneOutcome.NO_ANSWER
            return


def test_a_call_nobody_answered_shows_on_the_clerks_row_and_nowhere_else(
    tmp_path: Path, qtbot: QtBot, qloop: QtLoop, namespace: NetNamespace,
    phone_server: tuple[LiveServer, dict[str, UUID]], phone: Phone,
    screenshot_dir: Path | None,
) -> None:
    server, ids = phone_server
    phone.command("answermode", "manual")
    with namespace.entered():
        window = open_window(tmp_path, qloop, server.url, "clerk")
        doctor = Desk(tmp_path / "ng.sqlite3", server.url, "ng")
        lee = Desk(tmp_path / "lee.sqlite3", server.url, "lee")
        try:
            soon = (datetime.now(UTC) + timedelta(minutes=3)).replace(second=0, microsecond=0)
            booked = qloop.run(done(window.store.save_appointment(AppointmentDraft(
                PatientDraft("Ada Lovelace", phone="020 7946 0961"), ids["ng"], soon, 15,
                AppointmentKind.PHONE))))
            show_day_of(qloop, window, soon)
            qloop.wait_until(lambda: booked.id in rows(window)
                             and rows(window)[booked.id].sync_state.value == "synced")
            qloop.run(doctor.sign_in())
            qloop.run(doctor.sync())
            qloop.run(_ring_unanswered(doctor, booked.id))
            assert "CALL_INCOMING" in phone.event_types()

            # The clerk's desktop hears of it (realtime nudge, then pull) and its row says so.
            def called() -> Appointment | None:
                shown = rows(window).get(booked.id)
                attempt = shown.last_phone_attempt if shown else None
                return shown if attempt is not None and attempt.outcome is not None else None

            qloop.wait_until(lambda: called() is not None, timeout=30)
            shown = called()
            assert shown is not None and shown.last_phone_attempt is not None
            attempt = shown.last_phone_attempt
            assert (attempt.outcome, attempt.caller_name, attempt.number) == (
                PhoneOutcome.NO_ANSWER, "Dr Ng", PATIENT_NUMBER)
            model = window.model
            row = model.row_of(booked.id)
            assert row is not None
            status = model.index(row, Column.STATUS)
            expected = f"No answer at {time_text(attempt.started_at)}"
            assert model.data(status) == expected
            assert f"Last call to the patient's phone: {expected}, by Dr Ng" in model.data(
                status, Qt.ItemDataRole.ToolTipRole)

            if screenshot_dir is not None:
                assert window.window.grab().save(str(screenshot_dir / "phone-attempt-row.png"))

            # The actions menu lists every call, with Reschedule….
            window.window.trigger(ActionKey.CALL_ATTEMPTS, shown)
            controller = window.window.appointments
            qloop.wait_until(lambda: controller.attempts_dialog is not None
                             and controller.attempts_dialog.isVisible())
            dialog = controller.attempts_dialog
            assert isinstance(dialog, PhoneAttemptsDialog)
            cells = [dialog.model.data(dialog.model.index(0, c)) for c in range(4)]
            assert cells[1:] == ["No answer", "—", "Dr Ng"]
            assert dialog.reschedule_button.isEnabled()
            # Dr Ng tries again while it is open: the second call arrives in it.
            qloop.run(_ring_unanswered(doctor, booked.id))
            qloop.wait_until(lambda: dialog.model.rowCount() == 2
                             and dialog.model.data(dialog.model.index(0, 1)) == "No answer",
                             timeout=30)
            assert dialog.summary.text().startswith("2 calls made, the latest first.")
            if screenshot_dir is not None:
                assert dialog.grab().save(str(screenshot_dir / "phone-attempts-synced.png"))
            dialog.close()
            assert controller.attempts_dialog is None

            # Dr Lee may not see Dr Ng's schedule: no attempt reaches that desktop.
            qloop.run(lee.sign_in())
            qloop.run(lee.sync())
            assert qloop.run(done(lee.store.phone_attempts(booked.id))) == []
            qloop.run(doctor.sync())
            mine = qloop.run(done(doctor.store.phone_attempts(booked.id)))
            assert [a.outcome for a in mine] == [PhoneOutcome.NO_ANSWER] * 2
        finally:
            qloop.run(doctor.close())
            qloop.run(lee.close())
            close_window(qloop, window)
