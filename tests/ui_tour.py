"""Every window and dialog of the desktop, opened over the local demo clinic, for the checks
a person makes by eye: 200 % scaling and what a screen reader hears.

`python -m tests.ui_tour FOLDER` (with `QT_SCALE_FACTOR=2` for 200 %) saves a picture of each
and one of its accessibility tree; tests/test_accessible_names.py walks the same tour.
"""

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from uuid import uuid4

from PySide6.QtCore import QSettings
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QWidget

from app.application import AppConfig, Application
from app.services.task_service import TaskService
from app.store.demo import CLINICIAN
from app.ui.account.login_dialog import LoginDialog
from app.ui.schedule.cancel_dialog import CancelDialog
from app.ui.schedule.phone_attempts_dialog import PhoneAttemptsDialog
from app.ui.sync.attention_dialog import AttentionDialog
from app.ui.tasks.task_dialog import TaskDialog
from app.ui.tasks.tasks_window import TasksWindow
from app.ui.waiting_room.waiting_message_dialog import WaitingMessageDialog
from shared.clock import FixedClock
from shared.enums import AppointmentStatus
from shared.phone_call_protocol import PhoneOutcome
from shared.records import Appointment, PhoneAttempt
from tests.accessibility import accessible_tree
from tests.conftest import NOW


def _calls(appointment: Appointment, now: datetime) -> list[PhoneAttempt]:
    """Two calls to the patient's phone: busy, then answered for 3:07."""
    def call(minutes_ago: int, outcome: PhoneOutcome, talked: int = 0) -> PhoneAttempt:
        started = now - timedelta(minutes=minutes_ago)
        answered = started + timedelta(seconds=15) if talked else None
        return PhoneAttempt(uuid4(), appointment.id, started, "Dr Amara Ng", "+442079460961",
                            answered, started + timedelta(seconds=40 + talked), outcome, talked)

    return [call(30, PhoneOutcome.BUSY), call(12, PhoneOutcome.ANSWERED, 187)]


async def _no_sign_in(_url: str, _user: str, _password: str) -> None:
    return None


@contextmanager
def demo_clinic(folder: Path) -> Iterator[Application]:
    """The local demo clinic, mid-morning (patients waiting, calls taken), started."""
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    morning = datetime.combine(NOW.date(), time(10, 7, 31)).astimezone()
    demo = Application(AppConfig(folder / "demo", True, settings), clock=FixedClock(morning))
    demo.start()
    try:
        yield demo
    finally:
        demo.shutdown()


def tour(demo: Application) -> Iterator[tuple[str, QWidget]]:
    """(name, shown window) for each window and dialog; each is closed after its turn."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    window = demo.window
    window.show()
    yield "main-window", window
    rows = [demo.model.appointment_at(row) for row in range(demo.model.rowCount())]
    # One still to come, that can be edited, cancelled and messaged.
    appointment = next(a for a in rows if a.status is AppointmentStatus.SCHEDULED
                       and a.start > demo.clock.now())
    tasks = TaskService(demo.store, CLINICIAN.id, demo.bridge)
    staff = list(demo.schedule.staff)
    makers = {
        "dialog-new-appointment": lambda: window.new_appointment(),
        "dialog-edit-appointment": lambda: demo.appointments.edit(appointment),
        "dialog-cancel": lambda: CancelDialog(appointment, window),
        "dialog-settings": lambda: window.open_settings(),
        "dialog-message-patient": lambda: WaitingMessageDialog(appointment, window),
        "dialog-needs-attention": lambda: AttentionDialog(demo.schedule, window),
        "dialog-sign-in": lambda: LoginDialog(_no_sign_in, "http://127.0.0.1:8000"),
        "tasks-window": lambda: TasksWindow(tasks, staff, window),
        "dialog-task": lambda: TaskDialog(tasks, staff, window, appointment=appointment),
        "dialog-phone-attempts": lambda: PhoneAttemptsDialog(
            appointment, _calls(appointment, demo.clock.now()), window),
    }
    try:
        for name, make in makers.items():
            shown = make()
            assert isinstance(shown, QWidget), name
            shown.show()
            shown.activateWindow()
            for _ in range(3):
                app.processEvents()
            yield name, shown
            shown.close()
            shown.deleteLater()
            app.processEvents()
    finally:
        tasks.close()


def tree_picture(name: str, lines: list[str]) -> QWidget:
    """The accessibility tree as a screen reader's user would hear it, as a picture."""
    text = QPlainTextEdit()
    text.setReadOnly(True)
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace)
    text.setFont(font)
    text.setPlainText(f"What a screen reader hears: {name}\n\n" + "\n".join(lines))
    metrics = text.fontMetrics()
    width = max(metrics.horizontalAdvance(line) for line in lines + [name]) + 40
    text.resize(min(width, 1100), min(metrics.lineSpacing() * (len(lines) + 4) + 20, 1400))
    return text


def main(folder: Path) -> int:
    app = QApplication(sys.argv[:1])
    app.setApplicationDisplayName("Clinic Desk")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch, demo_clinic(Path(scratch)) as demo:
        for _ in range(20):
            app.processEvents()
        for name, widget in tour(demo):
            widget.grab().save(str(folder / f"{name}-200.png"))
            picture = tree_picture(name, accessible_tree(widget))
            picture.grab().save(str(folder / f"{name}-screen-reader.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
