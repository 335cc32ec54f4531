"""The patients' search index, in memory on the store worker: a search per keystroke across
tens of thousands of patients in a few milliseconds, where a LIKE scan of the table took a
hundred or more (bench/patients_bench.py).

Each searched field is one long string (a line per patient, patients in name order); `find`
runs at C speed over it, and a hit's line number is its patient. Rebuilt from the table on the
first search after any write that may have touched a patient (the store marks it stale).
"""

import re
from bisect import bisect_right
from collections import defaultdict
from datetime import date
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


class PatientIndex:
    """Used on the store worker only (one thread): no locking."""

    #: A search first tries the first this many patients in name order, one by one: a broad
    #: query ("m") fills its page there at once, where finding every hit would visit them all.
    SCAN = 3000

    def __init__(self) -> None:
        self._stale = True
        #: (id hex, name, birth date ISO or None, MRN, email, phone, MRN authority), in name
        #: order; records are made only for the rows a search returns.
        self._rows: list[tuple[str, str, str | None, str, str, str, str]] = []
        self._folded: list[tuple[str, str, str, str]] = []
        self._names = _Field([])
        self._mrns = _Field([])
        self._emails = _Field([])
        self._phones = _Field([])
        self._born: dict[str, list[int]] = {}

    def mark_stale(self) -> None:
        self._stale = True

    def _rebuild(self, session: Session) -> None:
        # The stored text as it is (ids as hex, dates as ISO): turning 50,000 of each into
        # UUID and date objects took most of a second, for rows a search mostly never shows.
        result = session.connection().exec_driver_sql(
            "SELECT id, name, date_of_birth, mrn, email, phone, mrn_authority FROM patient "
            "ORDER BY name, id")
        self._rows = [tuple(row) for row in result]
        self._folded = [
            (_fold(name), _fold(mrn), _fold(email), phone_digits(phone))
            for _id, name, _born, mrn, email, phone, _authority in self._rows
        ]
        self._names = _Field([f[0] for f in self._folded])
        self._mrns = _Field([f[1] for f in self._folded])
        self._emails = _Field([f[2] for f in self._folded])
        self._phones = _Field([f[3] for f in self._folded])
        born: dict[str, list[int]] = defaultdict(list)
        for row, fields in enumerate(self._rows):
            if fields[2] is not None:
                born[fields[2]].append(row)
        self._born = dict(born)
        self._stale = False

    def _patient(self, row: int) -> Patient:
        hex_id, name, born, mrn, email, phone, authority = self._rows[row]
        birth = date.fromisoformat(born) if born is not None else None
        return Patient(UUID(hex_id), name, birth, mrn, email, phone, authority)

    def search(self, session: Session, text: str, limit: int, born: date | None) -> list[Patient]:
        """Patients whose name contains `text`, whose MRN starts with it, whose email contains
        it (when it looks like one), whose phone number holds its digits, or (with `born`, the
        text read as a date) born that day; in name order, at most `limit`."""
        if self._stale:
            self._rebuild(session)
        needle = _fold(text.strip())
        if not needle:
            return [self._patient(row) for row in range(min(limit, len(self._rows)))]
        email = "@" in needle or "." in needle
        digits = phone_digits(needle)
        phone = ""
        if len(digits) >= 3 and len(digits) * 2 >= len(needle.replace(" ", "")):
            # A national number's trunk 0 is not in the international form (+44 20 … = 020 …).
            phone = digits[1:] if digits.startswith("0") else digits
        found = self._scan(needle, email, phone, born, limit)
        if len(found) >= limit:
            return [self._patient(row) for row in found]
        rows = self._names.containing(needle) | self._mrns.containing(needle, prefix=True)
        if email:
            rows |= self._emails.containing(needle)
        if phone:
            rows |= self._phones.containing(phone)
        if born is not None:
            rows.update(self._born.get(born.isoformat(), ()))
        return [self._patient(row) for row in sorted(rows)[:limit]]

    def _scan(self, needle: str, email: bool, phone: str, born: date | None, limit: int
              ) -> list[int]:
        found: list[int] = []
        wanted = None if born is None else born.isoformat()
        for row, (name, mrn, mail, digits) in enumerate(self._folded[:self.SCAN]):
            if (needle in name or mrn.startswith(needle) or (email and needle in mail)
                    or (phone and phone in digits)
                    or (wanted is not None and self._rows[row][2] == wanted)):
                found.append(row)
                if len(found) >= limit:
                    break
        return found
