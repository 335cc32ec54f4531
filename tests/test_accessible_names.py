"""Every window and dialog, as a screen reader and a 200 % screen show it (tests/ui_tour.py)."""

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from app.views.schedule_columns import Column
from app.views.schedule_columns import Role as ModelRole
from shared.enums import DisplayState
from tests.accessibility import unnamed_controls
from tests.ui_tour import demo_clinic, tour

ROOT = Path(__file__).resolve().parents[1]


def test_every_control_has_a_name_and_every_status_is_said(
    qtbot: QtBot, tmp_path: Path
) -> None:
    with demo_clinic(tmp_path) as demo:
        qtbot.waitUntil(lambda: demo.model.rowCount() >= 25)
        seen = []
        for name, window in tour(demo):
            assert unnamed_controls(window) == [], name
            seen.append(name)
        assert len(seen) == 11
        said = {}
        for row in range(demo.model.rowCount()):
            index = demo.model.index(row, Column.STATUS)
            state = index.data(ModelRole.STATE)
            said[state] = str(index.data(Qt.ItemDataRole.AccessibleTextRole))
        for state in (DisplayState.SCHEDULED, DisplayState.WAITING, DisplayState.TAKEN,
                      DisplayState.CANCELLED):
            assert said[state].startswith(f"Status: {state.label}. "), said[state]


def test_every_window_at_200_percent(tmp_path: Path) -> None:
    environment = dict(os.environ, QT_SCALE_FACTOR="2", QT_QPA_PLATFORM="offscreen")
    subprocess.run([sys.executable, "-m", "tests.ui_tour", str(tmp_path)], cwd=ROOT,
                   env=environment, check=True, timeout=120, capture_output=True)
    pictures = sorted(tmp_path.glob("*-200.png"))
    assert len(pictures) == 11
    assert len(list(tmp_path.glob("*-screen-reader.png"))) == 11
    main = QImage(str(tmp_path / "main-window-200.png"))
    assert (main.width(), main.height()) == (2 * 1180, 2 * 720)  # drawn at twice the pixels
