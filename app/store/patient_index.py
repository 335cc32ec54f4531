"""The patients' search index, in memory on the store worker: a search per keystroke across
tens of thousands of patients in a few milliseconds, where a LIKE scan of the table took a
hundred or more (bench/patients_bench.py).

Each searched field is one long string (a line per patient, patients in name order); `find`
runs at C speed over it, and a hit's line number is its patient. After a write that touched
known patients, their lines are set aside and their current rows searched one by one beside
the strings (a few of them: no cost to speak of); after anything else that may have written
patients (the store marks it stale), or once hundreds are set aside, the strings are rebuilt
from the table on the next search (about half a second at 50,000 patients).
"""

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from heapq import merge
from itertools import islice
from uuid import UUID

from sqlmodel import Session

from shared.records import Patient

#: What a typed phone number keeps: digits and a leading plus (spaces, dashes dropped).
_PHONE_NOISE = re.compile(r"[^0-9+]")
_LINE_BREAKS = re.compile(r"[\n\r]")


def _fold(text: str) -> str:
    """Lower case without line breaks (a line is a patient)."""
    folded = text.casefold()
    return _LINE_BREAKS.sub(" ", folded) if "\n" in folded or "\r" in folded else folded


def phone_digits(text: str) -> str:
    return _PHONE_NOISE.sub("", text)


class _Field:
    """One field of every patient as one string, a line each, with where each line starts."""

    def __init__(self, values: list[str]) -> None:
        self.text = "\n" + "\n".join(values) + "\n"
        self.starts: list[int] = []
        position = 1
        for value in values:
            self.starts.append(position)
            position += len(value) + 1

    def containing(self, needle: str, prefix: bool = False) -> set[int]:
        """The rows whose value holds `needle` (starts with it, when `prefix`)."""
        rows: set[int] = set()
        if not needle:
            return rows
        wanted = "\n" + needle if prefix else needle
        position = self.text.find(wanted)
        while position != -1:
            row = bisect_right(self.starts, position + (1 if prefix else 0)) - 1
            rows.add(row)
            # On to the next patient's line: one hit per patient is enough.
            following = self.starts[row + 1] - 1 if row + 1 < len(self.starts) else len(self.text)
            position = self.text.find(wanted, following)
        return rows


#: A patient as the index keeps it: (id hex, name, birth date ISO or None, MRN, email, phone,
#: MRN authority).
_Row = tuple[str, str, str | None, str, str, str, str]


def _folded(row: _Row) -> tuple[str, str, str, str]:
    """The searched fields: name, MRN and email casefolded, the phone's digits."""
    _id, name, _born, mrn, email, phone, _authority = row
    return _fold(name), _fold(mrn), _fold(email), phone_digits(phone)


def _matches(row: _Row, folded: tuple[str, str, str, str], needle: str, email: bool,
             phone: str, born: str | None) -> bool:
    """One patient against a search (what the big strings find, for one line)."""
    name, mrn, mail, digits = folded
    return bool(needle in name or mrn.startswith(needle) or (email and needle in mail)
                or (phone and phone in digits) or (born is not None and row[2] == born))


class PatientIndex:
    """Used on the store worker only (one thread): no locking."""

    #: A search first tries the first this many patients in name order, one by one: a broad
    #: query ("m") fills its page there at once, where finding every hit would visit them all.
    SCAN = 3000
    #: More outdated lines than this: rebuilt (each search visits the fresh rows one by one).
    PATCH_LIMIT = 500

    def __init__(self) -> None:
        self._stale = True
        #: Patients written since the index was last brought up to date (id hex).
        self._changed: set[str] = set()
        #: Patients whose lines in the big strings are out of date (id hex), and their rows as
        #: they are now (with the searched fields), in name order: searched one by one.
        self._outdated: set[str] = set()
        self._fresh: list[tuple[_Row, tuple[str, str, str, str]]] = []
        #: In name order; records are made only for the rows a search returns.
        self._rows: list[_Row] = []
        self._folded: list[tuple[str, str, str, str]] = []
        self._names = _Field([])
        self._mrns = _Field([])
        self._emails = _Field([])
        self._phones = _Field([])
        self._born: dict[str, list[int]] = {}

    def mark_stale(self) -> None:
        self._stale = True
        self._changed.clear()

    def mark_changed(self, patient_ids: Iterable[UUID]) -> None:
        """These patients were written or removed: patched in at the next search."""
        if not self._stale:
            self._changed.update(patient_id.hex for patient_id in patient_ids)

    def _patch(self, session: Session) -> None:
        """Read the changed patients again: their lines in the big strings are ignored from now
        on, their current rows searched one by one beside them (a rebuild once there are many)."""
        if len(self._changed | self._outdated) > self.PATCH_LIMIT:
            self._rebuild(session)
            return
        wanted = sorted(self._changed)
        self._changed.clear()
        marks = ", ".join("?" for _ in wanted)
        found = session.connection().exec_driver_sql(
            "SELECT id, name, date_of_birth, mrn, email, phone, mrn_authority FROM patient "
            f"WHERE id IN ({marks})", tuple(wanted))
        self._outdated.update(wanted)
        kept = [pair for pair in self._fresh if pair[0][0] not in self._outdated]
        kept.extend((row, _folded(row)) for row in (tuple(r) for r in found))
        kept.sort(key=lambda pair: (pair[0][1], pair[0][0]))
        self._fresh = kept

    def _rebuild(self, session: Session) -> None:
        # The stored text as it is (ids as hex, dates as ISO): turning 50,000 of each into
        # UUID and date objects took most of a second, for rows a search mostly never shows.
        result = session.connection().exec_driver_sql(
            "SELECT id, name, date_of_birth, mrn, email, phone, mrn_authority FROM patient "
            "ORDER BY name, id")
        rows: list[_Row] = [tuple(row) for row in result]
        self._index(rows, [_folded(row) for row in rows])
        self._stale = False
        self._changed.clear()
        self._outdated.clear()
        self._fresh = []

    def _index(self, rows: list["_Row"], folded: list[tuple[str, str, str, str]]) -> None:
        self._rows = rows
        self._folded = folded
        self._names = _Field([f[0] for f in self._folded])
        self._mrns = _Field([f[1] for f in self._folded])
        self._emails = _Field([f[2] for f in self._folded])
        self._phones = _Field([f[3] for f in self._folded])
        born: dict[str, list[int]] = defaultdict(list)
        for row, fields in enumerate(self._rows):
            if fields[2] is not None:
                born[fields[2]].append(row)
        self._born = dict(born)

    @staticmethod
    def _record(fields: _Row) -> Patient:
        hex_id, name, born, mrn, email, phone, authority = fields
        birth = date.fromisoformat(born) if born is not None else None
        return Patient(UUID(hex_id), name, birth, mrn, email, phone, authority)

    def search(self, session: Session, text: str, limit: int, born: date | None) -> list[Patient]:
        """Patients whose name contains `text`, whose MRN starts with it, whose email contains
        it (when it looks like one), whose phone number holds its digits, or (with `born`, the
        text read as a date) born that day; in name order, at most `limit`."""
        if self._stale:
            self._rebuild(session)
        elif self._changed:
            self._patch(session)
        needle = _fold(text.strip())
        # Room for lines that turn out to be outdated (their fresh rows are searched apart).
        wanted = limit + len(self._outdated)
        if not needle:
            rows = range(min(wanted, len(self._rows)))
            return self._merged(rows, [row for row, _folded in self._fresh], limit)
        email = "@" in needle or "." in needle
        digits = phone_digits(needle)
        phone = ""
        if len(digits) >= 3 and len(digits) * 2 >= len(needle.replace(" ", "")):
            # A national number's trunk 0 is not in the international form (+44 20 … = 020 …).
            phone = digits[1:] if digits.startswith("0") else digits
        born_iso = None if born is None else born.isoformat()
        fresh = [row for row, folded in self._fresh
                 if _matches(row, folded, needle, email, phone, born_iso)]
        found = self._scan(needle, email, phone, born_iso, wanted)
        if len(found) >= wanted:
            return self._merged(found, fresh, limit)
        hits = self._names.containing(needle) | self._mrns.containing(needle, prefix=True)
        if email:
            hits |= self._emails.containing(needle)
        if phone:
            hits |= self._phones.containing(phone)
        if born_iso is not None:
            hits.update(self._born.get(born_iso, ()))
        return self._merged(sorted(hits), fresh, limit)

    def _merged(self, rows: Iterable[int], fresh: list[_Row], limit: int) -> list[Patient]:
        """The big strings' hits (row numbers, in name order) that are not outdated, and the
        fresh rows that match, in name order, at most `limit`."""
        current = (self._rows[row] for row in rows if self._rows[row][0] not in self._outdated)
        return [self._record(fields) for fields in islice(
            merge(current, fresh, key=lambda r: (r[1], r[0])), limit)]

    def _scan(self, needle: str, email: bool, phone: str, born: str | None, limit: int
              ) -> list[int]:
        found: list[int] = []
        # _matches written out: this loop is the hot path of a broad search.
        for row, (name, mrn, mail, digits) in enumerate(self._folded[:self.SCAN]):
            if (needle in name or mrn.startswith(needle) or (email and needle in mail)
                    or (phone and phone in digits)
                    or (born is not None and self._rows[row][2] == born)):
                found.append(row)
                if len(found) >= limit:
                    break
        return found
