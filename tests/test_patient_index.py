"""The patients' search index follows writes by patching the changed patients' lines: what a
search finds after edits is exactly what a rebuild from the table finds, in name order."""

import random

import pytest
from sqlmodel import Session, col, delete

from app.store.local_store import LocalStore
from app.store.patient_index import PatientIndex
from app.store.tables import PatientRow
from shared.drafts import PatientDraft
from shared.records import Patient

SEARCHES = ["a", "ada", "lo", "mrn1", "mrn2", "07", "x@", "grace", "zz", ""]


def _everything(store: LocalStore, text: str) -> list[Patient]:
    return store.search_patients(text, limit=1000).result()


def _rebuilt(store: LocalStore, text: str) -> list[Patient]:
    fresh = PatientIndex()
    return store.run(lambda s: fresh.search(s, text, 1000, None)).result()


@pytest.mark.parametrize("patch_limit", [PatientIndex.PATCH_LIMIT, 5])
def test_edits_are_patched_in_and_match_a_rebuild(
    store: LocalStore, patch_limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PatientIndex, "PATCH_LIMIT", patch_limit)  # 5: rebuilt on the way
    rng = random.Random(7)
    names = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Mary Seacole", "Ada Byron",
             "Zara Zed", "Lo Wang", "Ada Lovelace"]
    saved = [store.save_patient(PatientDraft(name, mrn=f"MRN{n}", phone=f"07{n:03d}",
                                             email=f"p{n}@x.org")).result()
             for n, name in enumerate(names)]
    assert [p.name for p in _everything(store, "ada")] == [
        "Ada Byron", "Ada Lovelace", "Ada Lovelace"]  # the index is built here

    # Renames move a patient to their new place in name order; the old name finds nothing.
    turing = saved[1]
    store.save_patient(PatientDraft("Aaron Turing", mrn="MRN1", phone="07001", email="p1@x.org",
                                    id=turing.id)).result()
    assert [p.name for p in _everything(store, "turing")] == ["Aaron Turing"]
    assert _everything(store, "alan") == []
    assert _everything(store, "")[0].name == "Aaron Turing"

    # A burst of random edits and new patients: patched, the index agrees with a rebuild.
    for step in range(40):
        if rng.random() < 0.3:
            store.save_patient(PatientDraft(f"New {step} {rng.choice(names)}",
                                            mrn=f"MRN2{step}")).result()
        else:
            who = rng.choice(saved)
            store.save_patient(PatientDraft(f"{rng.choice(names)} {step}", mrn=who.mrn,
                                            phone=who.phone, email=who.email,
                                            id=who.id)).result()
        if step % 10 == 9:
            for text in SEARCHES:
                assert _everything(store, text) == _rebuilt(store, text), (step, text)


def test_a_removed_patient_leaves_the_search(store: LocalStore) -> None:
    ada = store.save_patient(PatientDraft("Ada Lovelace", mrn="MRN1")).result()
    store.save_patient(PatientDraft("Ada Byron", mrn="MRN2")).result()
    index = PatientIndex()

    def search(session: Session) -> list[str]:
        return [p.name for p in index.search(session, "ada", 10, None)]

    assert store.run(search).result() == ["Ada Byron", "Ada Lovelace"]
    store.run(lambda s: s.execute(delete(PatientRow).where(col(PatientRow.id) == ada.id))
              ).result()
    index.mark_changed([ada.id])
    assert store.run(search).result() == ["Ada Byron"]
