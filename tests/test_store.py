"""The local store on a real SQLite file: migrations, validated writes, status moves."""

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from app.store.database import open_engine
from app.store.errors import SchemaTooNew, StoreUnavailable
from app.store.local_store import LocalStore
from app.store.migrations import SCHEMA_VERSION
from shared.clock import FixedClock
from shared.drafts import AppointmentDraft, PatientDraft
from shared.enums import AppointmentKind, AppointmentStatus
from shared.errors import ValidationFailed
from shared.records import Appointment
from tests.conftest import DR_NG, NOW, ST_MARYS


def booking(minutes_from_now: int, name: str = "Ann Lee") -> AppointmentDraft:
    return AppointmentDraft(
        patient=PatientDraft(name, email="ann@example.org"),
        clinician_id=DR_NG.id,
        start=NOW + timedelta(minutes=minutes_from_now),
        duration_minutes=20,
        kind=AppointmentKind.VIDEO,
        location_id=ST_MARYS.id,
    )


def test_new_store_is_migrated_and_in_wal_mode(store: LocalStore) -> None:
    connection = sqlite3.connect(store.path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()


def test_a_saved_booking_survives_a_power_cut(tmp_path: Path) -> None:
    # synchronous=FULL: WAL's NORMAL may lose the last commits the user was told were saved.
    engine = open_engine(tmp_path / "power.sqlite3")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    engine.dispose()


def test_a_store_from_a_newer_version_is_refused(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "newer.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(SchemaTooNew):
        LocalStore(path, clock)


def test_an_unwritable_folder_is_a_clear_error(tmp_path: Path, clock: FixedClock) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailable, match="Cannot create the data folder"):
        LocalStore(blocker / "sub" / "store.sqlite3", clock)


def test_save_reads_back_and_survives_reopening(store: LocalStore, clock: FixedClock) -> None:
    saved = store.save_appointment(booking(60)).result()
    assert saved.version == 1 and saved.location == ST_MARYS
    store.close()
    reopened = LocalStore(store.path, clock)
    found = reopened.appointments_between(NOW, NOW + timedelta(days=1)).result()
    assert [a.id for a in found] == [saved.id]
    assert found[0].start == saved.start and found[0].start.tzinfo is not None
    reopened.close()


def test_overlap_is_refused_and_nothing_is_written(store: LocalStore) -> None:
    store.save_appointment(booking(60)).result()
    with pytest.raises(ValidationFailed, match="Dr Ng already has an appointment"):
        store.save_appointment(booking(70, "Bob Stone")).result()
    found = store.appointments_between(NOW, NOW + timedelta(days=1)).result()
    assert [a.patient.name for a in found] == ["Ann Lee"]
    assert [p.name for p in store.search_patients("").result()] == ["Ann Lee"]


def test_listeners_hear_each_committed_write(store: LocalStore) -> None:
    heard: list[Appointment] = []
    store.add_listener(heard.append)
    saved = store.save_appointment(booking(60)).result()
    store.set_status(saved.id, AppointmentStatus.CANCELLED, "Patient request").result()
    with pytest.raises(ValidationFailed):
        store.set_status(saved.id, AppointmentStatus.TAKEN).result()
    assert [(a.status, a.version) for a in heard] == [
        (AppointmentStatus.SCHEDULED, 1),
        (AppointmentStatus.CANCELLED, 2),
    ]
    assert heard[-1].cancel_reason == "Patient request"


def test_edit_keeps_the_id_and_bumps_the_version(store: LocalStore) -> None:
    saved = store.save_appointment(booking(60)).result()
    change = booking(90)
    change.id = saved.id
    change.patient.id = saved.patient.id
    change.notes = "  Interpreter needed  "
    edited = store.save_appointment(change).result()
    assert (edited.id, edited.version, edited.notes) == (saved.id, 2, "Interpreter needed")
    assert edited.start == NOW + timedelta(minutes=90)


def test_patient_search_by_name_and_mrn(store: LocalStore) -> None:
    draft = booking(60, "Zoë 100% O'Brien")
    draft.patient.mrn = "RGH123"
    store.save_appointment(draft).result()
    assert [p.name for p in store.search_patients("o'bri").result()] == ["Zoë 100% O'Brien"]
    assert [p.mrn for p in store.search_patients("RGH1").result()] == ["RGH123"]
    assert store.search_patients("%").result()[0].name == "Zoë 100% O'Brien"
    assert store.search_patients("_x").result() == []
