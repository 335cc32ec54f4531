"""Dates and times written one way, the user's locale's (app/views/date_text.py)."""

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, Qt
from pytestqt.qtbot import QtBot

from app.views import date_text
from app.views.schedule_columns import Column
from shared.clock import FixedClock
from tests.test_main_window import book, make_app

DAY = date(2026, 12, 9)
MOMENT = datetime(2026, 12, 9, 15, 40, tzinfo=UTC)


@pytest.fixture
def locale(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The user's locale for one test (the suite's own is restored after)."""
    before = QLocale()
    QLocale.setDefault(QLocale(request.param))
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield request.param
    QLocale.setDefault(before)
    monkeypatch.undo()
    time.tzset()


# CLDR puts a narrow no-break space (U+202F) before AM and PM.
@pytest.mark.parametrize(
    ("locale", "medium", "short", "long", "clock", "edit"),
    [
        ("en_GB", "Wed, 9 Dec 2026", "Wed, 9 Dec", "Wednesday, 9 December 2026", "15:40",
         "d MMM yyyy"),
        ("en_US", "Wed, Dec 9, 2026", "Wed, Dec 9", "Wednesday, December 9, 2026", "3:40\u202fPM",
         "MMM d, yyyy"),
        ("de_DE", "Mi., 9. Dez. 2026", "Mi., 9. Dez.", "Mittwoch, 9. Dezember 2026", "15:40",
         "d. MMM yyyy"),
        # The C locale (a bare Linux session) wrote the due date "9 12 2026".
        ("C", "Wed, 9 Dec 2026", "Wed, 9 Dec", "Wednesday, 9 December 2026", "15:40",
         "d MMM yyyy"),
    ],
    indirect=["locale"],
)
def test_each_form_follows_the_locale(
    locale: str, medium: str, short: str, long: str, clock: str, edit: str
) -> None:
    assert date_text.date_text(DAY) == medium
    assert date_text.short_date_text(DAY) == short
    assert date_text.long_date_text(DAY) == long
    assert date_text.time_text(MOMENT) == clock
    assert date_text.date_time_text(MOMENT) == f"{medium} {clock}"
    assert date_text.edit_date_format() == edit


@pytest.mark.parametrize("locale", ["en_US"], indirect=True)
def test_a_us_desk_reads_its_own_dates_and_clock(
    locale: str, qtbot: QtBot, tmp_path: Path, clock: FixedClock
) -> None:
    desk = make_app(tmp_path, clock, qtbot)
    try:
        assert desk.window.heading.text() == "Thursday, November 26, 2026"
        assert desk.window.navigator.picker.text() == "Nov 26, 2026"
        row = book(qtbot, desk, "Ann Lee", "ann@example.org")
        time_cell = desk.model.index(row, Column.TIME).data(Qt.ItemDataRole.DisplayRole)
        assert time_cell == "8:15\u202fAM–8:35\u202fAM"
        assert desk.window.statusBar().currentMessage() == "Saved Ann Lee at 8:15\u202fAM"
    finally:
        desk.shutdown()
