"""The status-icon rule (shared/status.py)."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.enums import AppointmentStatus, DisplayState
from shared.status import display_state, early_since, format_waiting, waiting_seconds

START = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "arrived_minutes_before_start", "now_minutes_after_start", "expected"),
    [
        (AppointmentStatus.SCHEDULED, None, -30, DisplayState.SCHEDULED),
        (AppointmentStatus.SCHEDULED, None, 10, DisplayState.SCHEDULED),
        # Online early: blue until 5 minutes before the start, then green.
        (AppointmentStatus.SCHEDULED, 20, -6, DisplayState.SCHEDULED),
        (AppointmentStatus.SCHEDULED, 20, -5, DisplayState.WAITING),
        (AppointmentStatus.SCHEDULED, 2, 15, DisplayState.WAITING),
        (AppointmentStatus.TAKEN, 2, 1, DisplayState.TAKEN),
        (AppointmentStatus.CANCELLED, 2, 1, DisplayState.CANCELLED),
        (AppointmentStatus.NO_SHOW, None, 30, DisplayState.NO_SHOW),
    ],
)
def test_display_state(
    status: AppointmentStatus,
    arrived_minutes_before_start: int | None,
    now_minutes_after_start: int,
    expected: DisplayState,
) -> None:
    arrived = (
        None
        if arrived_minutes_before_start is None
        else START - timedelta(minutes=arrived_minutes_before_start)
    )
    now = START + timedelta(minutes=now_minutes_after_start)
    assert display_state(status, START, arrived, now) is expected


def test_waiting_time_counts_from_arrival() -> None:
    arrived = START - timedelta(minutes=3)
    assert waiting_seconds(arrived, START + timedelta(seconds=5)) == 185
    assert waiting_seconds(None, START) is None
    assert waiting_seconds(START, START - timedelta(seconds=3)) == 0  # a skewed clock


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, ""), (0, "00:00"), (65, "01:05"), (3599, "59:59"), (3723, "1:02:03")],
)
def test_format_waiting(seconds: int | None, text: str) -> None:
    assert format_waiting(seconds) == text


def test_early_since_is_the_arrival_only_before_the_green_window() -> None:
    arrived = START - timedelta(minutes=20)
    scheduled = AppointmentStatus.SCHEDULED
    assert early_since(scheduled, START, arrived, START - timedelta(minutes=6)) == arrived
    assert early_since(scheduled, START, arrived, START - timedelta(minutes=5)) is None  # green
    assert early_since(scheduled, START, None, START - timedelta(minutes=6)) is None
    cancelled = AppointmentStatus.CANCELLED
    assert early_since(cancelled, START, arrived, START - timedelta(minutes=6)) is None
