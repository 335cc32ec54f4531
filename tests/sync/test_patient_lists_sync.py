"""Patient lists through the desktop's sync against a real server: a list made offline on one
desktop, refilled there, reaches another user's desktop; a duplicate MRN made offline is
refused by the server and kept for the user to correct."""

from pathlib import Path

import pytest

from app.domain.drafts import PatientDraft, PatientListDraft
from app.domain.enums import SyncState
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


        # One server start for both (it costs CI time): a duplicate MRN registered offline on
        # two desktops is refused once, for good, and kept for the user to correct.
        await done(clerk.store.save_patient(PatientDraft("Grace Hopper", mrn="RGH77")))
        twin = await done(doctor.store.save_patient(PatientDraft("Grace Byron", mrn="RGH77")))
        await clerk.sync()
        await doctor.sync()
        [refused] = await done(doctor.store.rejected())
        assert refused.entity_id == twin.id
        assert "MRN RGH77 is already registered to Grace Hopper" in refused.message
        assert await doctor.pending() == 0  # decided: not retried as it stands
