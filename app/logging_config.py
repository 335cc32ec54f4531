"""Logging set-up: a rotating file in the platform log folder, stderr warnings, no patient ids."""

import logging
import logging.handlers
import sys
from pathlib import Path

import platformdirs

from shared.redaction import PatientDataFilter

LOG_FILE_NAME = "clinic-desk.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUP_COUNT = 5
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Handlers this module added to the root logger, and the root level before it did.
_installed: list[logging.Handler] = []
_previous_root_level: int | None = None


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
