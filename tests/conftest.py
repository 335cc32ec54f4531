"""Shared fixtures: offscreen Qt, a real store file on a fixed clock, the services over it."""

import os

# Before Qt is imported anywhere: without a display Qt would abort the whole pytest process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import keyring
import pytest
from hypothesis import settings
from PySide6.QtCore import QLocale

from app.services.message_bridge import MessageBridge
from app.services.schedule_service import ScheduleService
from app.store import directory
from app.store.local_store import LocalStore
from shared.clock import FixedClock
from shared.enums import Role
from shared.records import Location, StaffMember
from tests.sync.memory_keyring import MemoryKeyring

# The fuzz tests run the same examples on every CI run, so a failure is reproducible and a green
# run stays green; HYPOTHESIS_PROFILE=explore draws new ones when hunting for bugs.
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("explore", max_examples=400)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Dates and times follow the user's locale (app/views/date_text.py): the tests read them as
# a British clinic writes them (24-hour clock), whatever this machine's locale is.
QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom))

#: "Now" in the tests: a Thursday morning, 08:00 UTC.
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

DR_NG = StaffMember(uuid.UUID(int=1), "Dr Ng", Role.CLINICIAN)
DR_OKAFOR = StaffMember(uuid.UUID(int=2), "Dr Okafor", Role.CLINICIAN)
CLERK = StaffMember(uuid.UUID(int=3), "Sam Clerk", Role.CLERK)
ST_MARYS = Location(uuid.UUID(int=10), "St Mary's Hospital", "1 Praed Street, London W2 1NY")


@pytest.fixture(autouse=True)
def free_qt_objects_here(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a Qt test, free its leftover Qt objects on this (the GUI) thread: left to Python's
    collector they may be freed on whichever thread allocates next (a store worker), and a Qt
    object with timers must not die on another thread (a warning, or a crash)."""
    yield
    if {"qapp", "qtbot"} & set(request.fixturenames):
        from PySide6.QtCore import QCoreApplication, QEvent

        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every test gets an empty in-memory keychain: never the developer's own."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def store(tmp_path: Path, clock: FixedClock) -> Iterator[LocalStore]:
    local = LocalStore(tmp_path / "store.sqlite3", clock)

    def seed(session: object) -> None:
        for member in (DR_NG, DR_OKAFOR, CLERK):
            directory.add_staff(session, member)  # type: ignore[arg-type]
        directory.add_location(session, ST_MARYS)  # type: ignore[arg-type]

    local.run(seed).result()
    yield local
    local.close()


@pytest.fixture
def screenshot_dir() -> Path | None:
    """Where tests save screenshots (the test command sets CLINIC_DESK_SCREENSHOTS)."""
    folder = os.environ.get("CLINIC_DESK_SCREENSHOTS")
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def bridge(qapp: object) -> MessageBridge:
    return MessageBridge()


@pytest.fixture
def schedule_service(
    qapp: object, store: LocalStore, bridge: MessageBridge
) -> Iterator[ScheduleService]:
    service = ScheduleService(store, bridge)
    yield service
    service.close()
