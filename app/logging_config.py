"""Logging set-up: a rotating file in the platform log folder, stderr warnings, no patient ids."""

import logging
import logging.handlers
import re
import sys
from pathlib import Path

import platformdirs

LOG_FILE_NAME = "clinic-desk.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUP_COUNT = 5
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
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

# Handlers this module added to the root logger, and the root level before it did.
_installed: list[logging.Handler] = []
_previous_root_level: int | None = None


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


def default_log_dir() -> Path:
    """The platform log folder, e.g. ~/.local/state/ClinicDesk/log on Linux."""
    return Path(platformdirs.user_log_dir("ClinicDesk", appauthor=False))


def setup_logging(log_dir: Path | None = None, level: int = logging.INFO) -> Path:
    """Log to a rotating file (5 MB x 5) and warnings to stderr; return the log file's path.

    Handlers go on the root logger, so third-party libraries (httpx, aiortc) are logged too,
    all through `PatientDataFilter`. Calling it again replaces the handlers it added before.
    Each area logs under its own name: ``logging.getLogger("clinicdesk.store")``, and likewise
    ``clinicdesk.sync``, ``clinicdesk.media``, ``clinicdesk.ui``, ``clinicdesk.server``.
    """
    global _previous_root_level
    reset_logging()

    folder = log_dir if log_dir is not None else default_log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    log_file = folder / LOG_FILE_NAME

    formatter = logging.Formatter(LOG_FORMAT)
    patient_filter = PatientDataFilter()
    file_handler = logging.handlers.RotatingFileHandler(
        log_file, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
    )
    file_handler.setLevel(level)
    stderr_handler = logging.StreamHandler(sys.stderr)
    stderr_handler.setLevel(logging.WARNING)

    root = logging.getLogger()
    _previous_root_level = root.level
    root.setLevel(min(level, logging.WARNING))
    for handler in (file_handler, stderr_handler):
        handler.setFormatter(formatter)
        handler.addFilter(patient_filter)
        root.addHandler(handler)
        _installed.append(handler)
    return log_file


def reset_logging() -> None:
    """Remove and close the handlers `setup_logging` added, and restore the root level."""
    global _previous_root_level
    root = logging.getLogger()
    while _installed:
        handler = _installed.pop()
        root.removeHandler(handler)
        handler.close()
    if _previous_root_level is not None:
        root.setLevel(_previous_root_level)
        _previous_root_level = None
