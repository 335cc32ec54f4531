"""Dates and times as the user's locale writes them (QLocale): the one place the desktop
formats a date or a time for a person to read.

The medium form ("Wed, 9 Dec 2026"; "Wed, Dec 9, 2026" in the US) is the locale's long
form with abbreviated names: Qt has no medium format, and its short one is all digits
("9 12 2026" in the C locale, "12/9/26" in the US), easy to misread in a clinic.
"""

import re
from datetime import date, datetime

from PySide6.QtCore import QDate, QLocale, QTime

_Format = QLocale.FormatType
#: The year in a date format, with the separators that tie it to the rest.
_YEAR = re.compile(r"[\s,./-]*y+[.年]?")
#: The weekday in a date format, with the separators after it.
_WEEKDAY = re.compile(r"d{3,4}[\s,.]*")


def _medium_format(locale: QLocale) -> str:
    return locale.dateFormat(_Format.LongFormat).replace("dddd", "ddd").replace("MMMM", "MMM")


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _local(moment: datetime) -> datetime:
    return moment.astimezone()  # the workstation's zone, as the rest of the desktop


def date_text(day: date) -> str:
    """'Wed, 9 Dec 2026'."""
    locale = QLocale()
    return locale.toString(_qdate(day), _medium_format(locale))


def birth_date_text(day: date) -> str:
    """'14 Mar 1950': a date of birth, without the weekday nobody needs."""
    return QLocale().toString(_qdate(day), edit_date_format())


def short_date_text(day: date) -> str:
    """'Wed, 9 Dec' (a week's rows, where the year is in the heading)."""
    locale = QLocale()
    return locale.toString(_qdate(day), _YEAR.sub("", _medium_format(locale)).strip())


def long_date_text(day: date) -> str:
    """'Wednesday, 9 December 2026' (the day's heading)."""
    return QLocale().toString(_qdate(day), _Format.LongFormat)


def time_text(moment: datetime) -> str:
    """'15:40', or '3:40 PM' where the locale keeps a 12-hour clock."""
    local = _local(moment)
    return QLocale().toString(QTime(local.hour, local.minute), _Format.ShortFormat)


def date_time_text(moment: datetime) -> str:
    """'Wed, 9 Dec 2026 15:40'."""
    return f"{date_text(_local(moment).date())} {time_text(moment)}"


def edit_date_format() -> str:
    """A date edit's display format: the medium form without the weekday (typed day first)."""
    return _WEEKDAY.sub("", _medium_format(QLocale())).strip(" ,")


def edit_date_time_format() -> str:
    """A date-and-time edit's display format: medium date with weekday, then the time."""
    locale = QLocale()
    return f"{_medium_format(locale)} {locale.timeFormat(_Format.ShortFormat)}"


def typed_date(text: str) -> date | None:
    """The date a person typed as their locale writes it ("14/03/1950" in the UK, "3/14/1950"
    in the US) or as ISO ("1950-03-14"); None when the text is not a date."""
    text = text.strip()
    if not text or not any(ch.isdigit() for ch in text):
        return None
    locale = QLocale()
    formats = [locale.dateFormat(_Format.ShortFormat), "yyyy-MM-dd", edit_date_format()]
    short = formats[0]
    if "yyyy" not in short:
        formats.insert(1, short.replace("yy", "yyyy"))
    for pattern in formats:
        parsed = locale.toDate(text, pattern)
        if parsed.isValid():
            return date(parsed.year(), parsed.month(), parsed.day())
    return None
