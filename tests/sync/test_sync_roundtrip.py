"""The desktop's sync against a real server: bookings go up, other desktops see them."""

from pathlib import Path

import pytest

from shared.drafts import AppointmentDraft, PatientDraft, TaskDraft
from shared.enums import AppointmentKind, SyncState
from tests.server.server_process import LiveServer
from tests.sync.desk import Desk, done, signed_in_desks, tomorrow_at
from tests.sync.live_server import LiveClinic


@pytest.mark.asyncio
async def test_a_booking_reaches_the_clinicians_desktop(
    tmp_path: Path, live: LiveServer, clinic: LiveClinic
) -> None:
    clerk = Desk(tmp_path / "clerk.sqlite3", live.url, "clerk")
    doctor = Desk(tmp_path / "ng.sqlite3", live.url, "ng")
    try:
        await clerk.sign_in()
        await doctor.sign_in()
        await clerk.sync()  # the directory: Dr Ng and the location
        booked = await clerk.book(clinic.ids["ng"], tomorrow_at(9), "Ada Lovelace")
        assert booked.sync_state is SyncState.PENDING
        assert await clerk.pending() == 2  # the new patient, then the appointment
        await clerk.sync()
        assert await clerk.pending() == 0
        [mine] = await clerk.appointments()
        assert mine.sync_state is SyncState.SYNCED and mine.id == booked.id
        await doctor.sync()
        [theirs] = await doctor.appointments()
        assert theirs.id == booked.id and theirs.patient.name == "Ada Lovelace"
        assert theirs.clinician.name == "Dr Ng"
    finally:
        await clerk.close()
        await doctor.close()


@pytest.mark.asyncio
async def test_two_desktops_book_one_slot_offline_exactly_one_wins(
    tmp_path: Path, live: LiveServer, clinic: LiveClinic
) -> None:
    async with signed_in_desks(tmp_path, live.url, "clerk", "ng") as (first, second):
        # Both book 10:00 with Dr Ng while "offline" (nothing pushed yet).
        mine = await first.book(clinic.ids["ng"], tomorrow_at(10), "Ada Lovelace")
        theirs = await second.book(clinic.ids["ng"], tomorrow_at(10, 5), "Alan Turing")
        await first.sync()
        await second.sync()
        [kept] = [a for a in await second.appointments() if a.id == theirs.id]
        assert kept.sync_state is SyncState.REJECTED
        assert "Dr Ng already has an appointment" in kept.sync_message
        assert kept.patient.name == "Alan Turing"  # the user's data is kept
        # The refused booking is listed, and discarding it removes it: nothing else vanishes.
        [record] = await done(second.store.rejected())
        assert record.entity_id == theirs.id and "Dr Ng" in record.message
        await done(second.store.discard("appointment", theirs.id))
        await second.sync()
        await first.sync()
        for desk in (first, second):
            found = await desk.appointments()
            assert [a.id for a in found] == [mine.id]
            assert found[0].sync_state is SyncState.SYNCED


@pytest.mark.asyncio
async def test_fixing_a_refused_booking_and_retrying_books_it(
    tmp_path: Path, live: LiveServer, clinic: LiveClinic
) -> None:
    async with signed_in_desks(tmp_path, live.url, "clerk", "ng") as (first, second):
        await first.book(clinic.ids["ng"], tomorrow_at(11), "Ada Lovelace")
        refused = await second.book(clinic.ids["ng"], tomorrow_at(11), "Alan Turing")
        await first.sync()
        await second.sync()
        # The clerk moves it to 11:30 and saves: a new attempt, judged afresh.
        draft = AppointmentDraft(
            patient=PatientDraft(name=refused.patient.name, email=refused.patient.email,
                                 id=refused.patient.id),
            clinician_id=clinic.ids["ng"], start=tomorrow_at(11, 30), duration_minutes=15,
            kind=AppointmentKind.VIDEO, id=refused.id,
        )
        retried = await done(second.store.save_appointment(draft))
        assert retried.sync_state is SyncState.PENDING
        await second.sync()
        await first.sync()
        for desk in (first, second):
            found = {a.id: a for a in await desk.appointments()}
            assert found[refused.id].start == tomorrow_at(11, 30)
            assert found[refused.id].sync_state is SyncState.SYNCED
            assert len(found) == 2


@pytest.mark.asyncio
async def test_a_long_initial_sync_reports_its_progress(
    tmp_path: Path, live: LiveServer, clinic: LiveClinic
) -> None:
    clerk = Desk(tmp_path / "clerk.sqlite3", live.url, "clerk")
    newcomer = Desk(tmp_path / "ng.sqlite3", live.url, "ng", page_size=2)
    try:
        await clerk.sign_in()
        await clerk.sync()
        for number in range(6):
            await clerk.book(clinic.ids["ng"], tomorrow_at(9, 10 * number), f"Patient {number}",
                             minutes=10)
        await clerk.sync()
        await newcomer.sign_in()
        await newcomer.sync()  # 12 records (6 patients, 6 appointments), 2 a page
        progress = [s.progress for s in newcomer.statuses if s.progress is not None]
        assert len(progress) >= 4
        assert all(0 < done < total for done, total in progress)
        assert [done for done, _ in progress] == sorted(done for done, _ in progress)
        assert newcomer.statuses[-1].progress is None  # done: the bar goes away
        assert len(await newcomer.appointments()) == 6
    finally:
        await clerk.close()
        await newcomer.close()


@pytest.mark.asyncio
async def test_a_task_goes_through_the_outbox_to_its_assignee(
    tmp_path: Path, live: LiveServer, clinic: LiveClinic
) -> None:
    async with signed_in_desks(tmp_path, live.url, "ng", "clerk") as (doctor, clerk):
        booked = await doctor.book(clinic.ids["ng"], tomorrow_at(9), "Ada Lovelace")
        draft = TaskDraft(assignee_id=clinic.ids["clerk"], text="Book a follow-up in 6 weeks",
                          due_date=tomorrow_at(9).date(), appointment_id=booked.id)
        task = await done(doctor.store.save_task(draft, clinic.ids["ng"]))
        assert task.sync_state is SyncState.PENDING
        await doctor.sync()
        [sent] = await done(doctor.store.tasks())
        assert sent.sync_state is SyncState.SYNCED
        await clerk.sync()
        [theirs] = await done(clerk.store.tasks())
        assert theirs.id == task.id and theirs.text == "Book a follow-up in 6 weeks"
        assert theirs.assignee.name == "Sam Clerk" and not theirs.done
        # The clerk ticks it off; the doctor sees it done.
        draft.id, draft.done = task.id, True
        await done(clerk.store.save_task(draft, None))
        await clerk.sync()
        await doctor.sync()
        [mine] = await done(doctor.store.tasks())
        assert mine.done and mine.sync_state is SyncState.SYNCED
