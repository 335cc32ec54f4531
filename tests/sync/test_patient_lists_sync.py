"""Patient lists through the desktop's sync against a real server: a list made offline on one
desktop, refilled there, reaches another user's desktop; a list of 12 booked offline syncs;
a duplicate MRN made offline is refused by the server and kept for the user to correct."""

from pathlib import Path

import pytest

from shared.drafts import AppointmentDraft, PatientDraft, PatientListDraft
from shared.enums import AppointmentKind, SyncState
from shared.slot_plan import propose_slots
from tests.server.server_process import LiveServer
from tests.sync.desk import done, signed_in_desks, tomorrow_at
from tests.sync.live_server import LiveClinic


@pytest.mark.asyncio
async def test_a_list_made_offline_reaches_the_other_desktops_and_mrns_stay_unique(
    tmp_path: Path, live: LiveServer, clinic: LiveClinic
) -> None:
    async with signed_in_desks(tmp_path, live.url, "clerk", "ng") as (clerk, doctor):
        ada = await clerk.book(clinic.ids["ng"], tomorrow_at(9), "Ada Lovelace")
        alan = await clerk.book(clinic.ids["ng"], tomorrow_at(10), "Alan Turing")
        made = await done(clerk.store.save_patient_list(
            PatientListDraft("Awaiting bloods", [ada.patient.id])))
        await done(clerk.store.save_patient_list(PatientListDraft(
            "Awaiting bloods", [ada.patient.id, alan.patient.id], made.id)))
        [pending] = await done(clerk.store.patient_lists())
        assert pending.sync_state is SyncState.PENDING
        await clerk.sync()
        [synced] = await done(clerk.store.patient_lists())
        assert synced.sync_state is SyncState.SYNCED
        assert await clerk.pending() == 0

        await doctor.sync()
        [theirs] = await done(doctor.store.patient_lists())
        assert (theirs.id, theirs.name) == (made.id, "Awaiting bloods")
        assert theirs.patient_ids == (ada.patient.id, alan.patient.id)
        entries = await done(doctor.store.list_entries(theirs.id))
        assert [e.next_appointment.id for e in entries if e.next_appointment] == [ada.id, alan.id]

        # The doctor renames it; the clerk's desktop follows.
        await done(doctor.store.save_patient_list(PatientListDraft(
            "Awaiting bloods (Dr Ng)", list(theirs.patient_ids), theirs.id)))
        await doctor.sync()
        await clerk.sync()
        [renamed] = await done(clerk.store.patient_lists())
        assert renamed.name == "Awaiting bloods (Dr Ng)"

        # The clerk deletes it: gone from both desktops; the patients and bookings stay. A list
        # made and deleted before it was ever sent never shows anywhere either.
        await done(clerk.store.delete_patient_list(renamed.id))
        scratch = await done(clerk.store.save_patient_list(
            PatientListDraft("Scratch", [alan.patient.id])))
        await done(clerk.store.delete_patient_list(scratch.id))
        assert await done(clerk.store.patient_lists()) == []
        await clerk.sync()
        assert await clerk.pending() == 0
        await doctor.sync()
        assert await done(doctor.store.patient_lists()) == []
        assert {a.id for a in await doctor.appointments()} >= {ada.id, alan.id}


        # Booking a list of 12 offline (the Book the list dialog's plan, each slot its own
        # booking), then syncing: the doctor's desktop gets all 12 around the 09:00 booking.
        twelve = [await done(clerk.store.save_patient(
            PatientDraft(f"Patient {n:02d}", email=f"p{n}@example.org"))) for n in range(12)]
        cohort = await done(clerk.store.save_patient_list(
            PatientListDraft("Follow-up cohort", [p.id for p in twelve])))
        day = await done(clerk.store.appointments_between(tomorrow_at(0), tomorrow_at(23)))
        slots = propose_slots(twelve, tomorrow_at(9), 15, day, tomorrow_at(18), tomorrow_at(0))
        for slot in slots:
            await done(clerk.store.save_appointment(AppointmentDraft(
                PatientDraft(slot.patient.name, email=slot.patient.email, id=slot.patient.id),
                clinic.ids["ng"], slot.start, slot.minutes, AppointmentKind.VIDEO)))
        await clerk.sync()
        assert await clerk.pending() == 0
        await doctor.sync()
        booked = {a.patient.id: a for a in await doctor.appointments()}
        assert all(booked[p.id].sync_state is SyncState.SYNCED for p in twelve)
        assert booked[twelve[0].id].start == tomorrow_at(9, 15)  # after Ada's 09:00-09:15
        entries = await done(doctor.store.list_entries(cohort.id))
        assert [e.next_appointment is not None for e in entries] == [True] * 12

        # One server start for all (it costs CI time): a duplicate MRN registered offline on
        # two desktops is refused once, for good, and kept for the user to correct.
        await done(clerk.store.save_patient(PatientDraft("Grace Hopper", mrn="RGH77")))
        twin = await done(doctor.store.save_patient(PatientDraft("Grace Byron", mrn="RGH77")))
        await clerk.sync()
        await doctor.sync()
        [refused] = await done(doctor.store.rejected())
        assert refused.entity_id == twin.id
        assert "MRN RGH77 is already registered to Grace Hopper" in refused.message
        assert await doctor.pending() == 0  # decided: not retried as it stands
