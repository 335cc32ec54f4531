"""FHIR date and time values: instants out, and search prefixes (ge2026-11-27) in."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from server.fhir.outcome import FhirError

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")


def instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class DateBound:
    """A search value as the range it names: [low, high), and the prefix to compare with."""

    prefix: str
    low: datetime
    high: datetime


def _range(text: str) -> tuple[datetime, datetime]:
    """The range a FHIR date/dateTime of any precision covers (dates without a zone: UTC)."""
    try:
        if len(text) == 4:
            year = int(text)
            return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
        if len(text) == 7:
            year, month = int(text[:4]), int(text[5:7])
            low = datetime(year, month, 1, tzinfo=UTC)
            return low, (low + timedelta(days=32)).replace(day=1)
        if len(text) == 10:
            day = date.fromisoformat(text)
            low = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return low, low + timedelta(days=1)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise FhirError(400, f"Not a FHIR date or dateTime: {text[:40]!r}.") from None
    if moment.tzinfo is None:
        raise FhirError(400, "A search time needs a zone (Z or +hh:mm).")
    if moment.year < 1900 or moment.year > 9998:
        raise FhirError(400, "Search dates must be between 1900 and 9998.")
    precision = timedelta(seconds=1) if moment.microsecond == 0 else timedelta(microseconds=1)
    return moment, moment + precision


def date_bound(text: str) -> DateBound:
    prefix = text[:2] if text[:2] in PREFIXES else "eq"
    value = text[2:] if text[:2] in PREFIXES else text
    if prefix not in ("eq", "gt", "lt", "ge", "le"):
        raise FhirError(400, f"The date prefix {prefix} is not supported (eq, gt, lt, ge, le).")
    low, high = _range(value)
    if low.year < 1900 or high.year > 9999:
        raise FhirError(400, "Search dates must be between 1900 and 9998.")
    return DateBound(prefix, low, high)


def date_clause(column: Any, text: str) -> Any:
    """The SQL condition that `column` (a stored instant) matches the search value `text`."""
    bound = date_bound(text)
    return {
        "eq": (column >= bound.low) & (column < bound.high),
        "ge": column >= bound.low,
        "gt": column >= bound.high,
        "le": column < bound.high,
        "lt": column < bound.low,
    }[bound.prefix]
