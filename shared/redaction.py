"""Patient identifiers kept out of logs: e-mails, phone numbers, dates of birth, MRNs."""

import logging
import re

REDACTED = "[redacted]"

# One alternation scanned left to right, so a date-time is claimed (and kept) before the date and
# phone rules could eat its digits, and an e-mail or MRN before the phone rule. Lookbehinds anchor
# each rule at the start of a token, which keeps UUIDs intact and the scan linear on long words.
# A number that says what it is (an errno, a code, a port; a quantity with its unit) is claimed
# and kept too: "[Errno 1094995529]" from FFmpeg is no phone number.
_IDENTIFIERS = re.compile(
    r"""
    (?P<timestamp>\b\d{4}-\d{2}-\d{2}[T\ ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)
    | (?P<technical>
        (?<![\w-])(?:errno|error|code|status|exit|signal|ssrc|pid|port|seq|fd)
          [\ \t]*[:=\#]?[\ \t]*-?\d+(?![\w/.-])
      | (?<![\w+/.-])\d+(?:[.,]\d+)?
          (?:s|[\ \t]?(?:ms|us|µs|ns|secs?|seconds|bytes|[kmg]i?b|[km]?bps|k?hz|fps|px|%))(?![\w/-])
      )
    | (?P<email>(?<![\w.%+-])[\w.%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,})
    | (?P<mrn_label>(?<![a-z])mrn(?:[\ \t_]*(?:number|no|nr|id))?[\ \t]*[:\#=.-]?[\ \t]*)
      (?P<mrn_id>[a-z-]*\d[a-z0-9-]*)
    | (?P<date>(?<![\d/.-])
        (?:(?:19|20)\d{2}[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])
          |\d{1,2}[-/.]\d{1,2}[-/.](?:19|20)\d{2})
        (?![\d/-]))
    | (?P<phone>(?<![\w+-])[+(]?\d[\d\ ()-]{5,}\d(?![\w-]))
    """,
    re.IGNORECASE | re.VERBOSE,
)
_MIN_PHONE_DIGITS = 7


def _redact_match(match: re.Match[str]) -> str:
    kind = match.lastgroup
    if kind in ("timestamp", "technical"):
        return match.group()  # an event time, not a date of birth; a code or a quantity
    if kind == "mrn_id":
        return match.group("mrn_label") + REDACTED
    if kind == "phone" and sum(ch.isdigit() for ch in match.group()) < _MIN_PHONE_DIGITS:
        return match.group()
    return REDACTED


def redact(text: str) -> str:
    """Replace e-mail addresses, phone numbers, dates (of birth) and MRNs with [redacted]."""
    return _IDENTIFIERS.sub(_redact_match, text)


class PatientDataFilter(logging.Filter):
    """Redacts patient identifiers from a record's message before any handler writes it.

    The message is formatted first (``record.getMessage()``) so identifiers passed as ``%s``
    arguments are caught too; the record then carries the redacted text and no arguments.
    Tracebacks (``exc_info``) are not redacted: exception messages must not carry patient data.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except (TypeError, ValueError):
            # A bad format string must not raise from the log call nor leak the arguments raw.
            text = f"{record.msg} (bad log arguments: {record.args!r})"
        record.msg = redact(text)
        record.args = None
        return True
