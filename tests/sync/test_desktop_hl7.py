"""The hospital's system books over HL7: the row appears on the desktop "scheduled, not
invited", one click on Invite (or "Invite all not invited") and the email goes out."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.ui.patients.patient_form import PatientForm
from app.ui.schedule.actions_menu import ActionKey, action_states
from app.views.schedule_columns import Column
from shared.records import NOT_INVITED
from tests.server.mail_helpers import Mailbox, smtp_server
from tests.server.mllp_helpers import ack_code, sender, siu
from tests.server.postgres import free_port
from tests.server.server_process import LiveServer
from tests.sync.desk import tomorrow_at
from tests.sync.live_server import seed_clinic
from tests.sync.qt_loop import QtLoop, qt_loop
from tests.sync.test_desktop_sync import close_window, open_window, rows, shoot, show_day_of


@pytest.fixture
def qloop(qapp: object) -> Iterator[QtLoop]:
    with qt_loop(qapp) as loop:
        yield loop


@pytest.fixture
def hospital(tmp_path: Path) -> Iterator[tuple[LiveServer, int, Mailbox]]:
    """A served clinic with email and an MLLP listener: (server, MLLP port, mailbox)."""
    url = f"sqlite:///{tmp_path / 'server.sqlite3'}"
    seed_clinic(url)
    mllp_port = free_port()
    with smtp_server() as (mailbox, smtp_port):
        server = LiveServer(url, env={
            "CLINIC_DESK_MLLP_PORT": str(mllp_port),
            "CLINIC_DESK_HL7_CLINICIANS": json.dumps({"D100": "ng"}),
            "CLINIC_DESK_SMTP_HOST": "127.0.0.1",
            "CLINIC_DESK_SMTP_PORT": str(smtp_port),
            "CLINIC_DESK_SMTP_SECURITY": "none",
            "CLINIC_DESK_SMTP_FROM": "clinic@stmarys.example",
        })
        server.start()
        try:
            yield server, mllp_port, mailbox
        finally:
            server.close()


def _hl7_time(hour: int) -> str:
    return tomorrow_at(hour).strftime("%Y%m%d%H%M%S") + "+0000"


def test_an_s12_row_appears_not_invited_and_invite_sends_the_email(
    tmp_path: Path, qtbot: QtBot, qloop: QtLoop, hospital: tuple[LiveServer, int, Mailbox],
    screenshot_dir: Path | None,
) -> None:
    live, mllp_port, mailbox = hospital
    window = open_window(tmp_path, qloop, live.url, "ng")
    try:
        show_day_of(qloop, window, tomorrow_at(10))
        with sender(mllp_port) as hl7:
            assert ack_code(hl7.send(siu("S12", "W1", start=_hl7_time(10)))) == "AA"
            assert ack_code(hl7.send(siu("S12", "W2", "P2", filler="F2", mrn="MRN2",
                                         name="Hopper^Grace", email="grace@example.org",
                                         start=_hl7_time(11)))) == "AA"
        qloop.wait_until(lambda: len(rows(window)) == 2)
        model = window.model
        imported = {a.patient.name: a for a in rows(window).values()}
        ada = imported["Ada Brien"]
        assert ada.invite_status == NOT_INVITED
        row = model.row_of(ada.id)
        assert row is not None
        assert model.index(row, Column.STATUS).data() == "Not invited"
        assert model.index(row, Column.PATIENT).data(Qt.ItemDataRole.DecorationRole) is not None
        assert "not been invited" in model.index(row, Column.STATUS).data(
            Qt.ItemDataRole.AccessibleTextRole)
        assert "not sent yet" in model.index(row, Column.PATIENT).data(
            Qt.ItemDataRole.ToolTipRole)
        invite = next(s for s in action_states(ada, window.schedule.now(), server=True)
                      if s.key is ActionKey.RESEND_INVITE)
        assert (invite.text, invite.enabled) == ("&Invite", True)
        assert len(window.window.not_invited_shown()) == 2
        shoot(window.window, screenshot_dir, "schedule-not-invited.png")

        # The Patients view says who assigned an imported patient's MRN (PID-3.4).
        imported_patient = window.store.patient_file(ada.patient.id).result().patient
        assert (imported_patient.mrn, imported_patient.mrn_authority) == ("MRN900", "STMARYS")
        form = PatientForm()
        qtbot.addWidget(form)
        form.set_patient(imported_patient)
        assert form.mrn_source.text().startswith("Assigned by STMARYS (from the hospital system)")
        assert not form.mrn_source.isHidden()

        # One click on Invite: the email goes out, and the row no longer says not invited.
        window.window.trigger(ActionKey.RESEND_INVITE, ada)
        qloop.wait_until(lambda: len(mailbox.messages) == 1)  # the GUI's loop keeps running
        [email] = mailbox.messages
        assert "ada@example.org" in email["To"]
        qloop.wait_until(lambda: rows(window)[ada.id].invite_status in ("queued", "sent"))
        assert model.index(model.row_of(ada.id) or 0, Column.STATUS).data() == "Scheduled"

        # The rest of the day in one go.
        assert [a.patient.name for a in window.window.not_invited_shown()] == ["Grace Hopper"]
        window.window.invite_all_not_invited()
        qloop.wait_until(lambda: len(mailbox.messages) == 2)
        qloop.wait_until(lambda: not window.window.not_invited_shown())
        assert "grace@example.org" in mailbox.messages[1]["To"]
        assert len(mailbox.messages) == 2
    finally:
        close_window(qloop, window)
