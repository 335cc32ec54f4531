"""The log file keeps patient identifiers out, rotates, and set-up is idempotent."""

import logging
import logging.handlers
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest

from app import logging_config
from app.logging_config import reset_logging, setup_logging
from shared.redaction import REDACTED, PatientDataFilter, redact


@pytest.fixture(autouse=True)
def _clean_logging() -> Iterator[None]:
    """Remove the handlers a test installed, so other tests see the root logger as before."""
    yield
    reset_logging()


def log_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_identifiers_in_a_log_line_are_redacted_in_the_file(tmp_path: Path) -> None:
    log_file = setup_logging(tmp_path)

    logging.getLogger("clinicdesk.store").info(
        "Invite for %s, phone %s, DOB %s, %s",
        "jane.doe@example.org",
        "+44 (0)20 7946 0958",
        "1985-03-02",
        "MRN 4512987",
    )

    [line] = log_lines(log_file)
    for identifier in ("jane.doe@example.org", "7946", "0958", "1985-03-02", "4512987"):
        assert identifier not in line
    assert line.endswith(
        f"INFO clinicdesk.store: Invite for {REDACTED}, phone {REDACTED}, DOB {REDACTED}, "
        f"MRN {REDACTED}"
    )


def test_normal_text_is_untouched(tmp_path: Path) -> None:
    log_file = setup_logging(tmp_path)
    message = (
        "Synced 12 appointments for clinic 3f2a9c10-1234-5678-9abc-123456789012 in 340 ms "
        "at 2026-11-26 08:00:00 from 127.0.0.1:54321 (status 404 after 3 retries)"
    )

    logging.getLogger("clinicdesk.sync").info(message)

    [line] = log_lines(log_file)
    assert line.endswith(f"INFO clinicdesk.sync: {message}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail john_smith@nhs.example.net now", f"mail {REDACTED} now"),
        ("call 020-7946-0958.", f"call {REDACTED}."),
        ("mobile 07700900123", f"mobile {REDACTED}"),
        ("born 02/03/1985.", f"born {REDACTED}."),
        ("MRN123456", f"MRN{REDACTED}"),
        ("mrn: 123", f"mrn: {REDACTED}"),
        ("patient_mrn=A-55", f"patient_mrn={REDACTED}"),
        ("room 12, 3 waiting, 5 min", "room 12, 3 waiting, 5 min"),
        ("MRNs synced: 5", "MRNs synced: 5"),
        ("started 2026-11-26T08:00:00+00:00", "started 2026-11-26T08:00:00+00:00"),
        # Numbers that say what they are stay: FFmpeg's errno is no phone number.
        ("failed to decode VP8 frame: [Errno 11]", "failed to decode VP8 frame: [Errno 11]"),
        ("frame: [Errno 1094995529] Invalid data", "frame: [Errno 1094995529] Invalid data"),
        ("exit code -11, ssrc 2345678901", "exit code -11, ssrc 2345678901"),
        ("status 404 (1012)", "status 404 (1012)"),
        ("sent 10485760 bytes in 1234567 us", "sent 10485760 bytes in 1234567 us"),
        ("took 3.5s at 100%", "took 3.5s at 100%"),
        # ...and a number without one is still a phone number.
        ("call 2025550123 s", f"call {REDACTED} s"),
        ("code red: 020 7946 0958", f"code red: {REDACTED}"),
        ("error for +44 20 7946 0958", f"error for {REDACTED}"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_setup_twice_does_not_double_lines(tmp_path: Path) -> None:
    first = setup_logging(tmp_path)
    second = setup_logging(tmp_path)

    logging.getLogger("clinicdesk.ui").warning("Camera not found")

    assert first == second == tmp_path / logging_config.LOG_FILE_NAME
    assert len(log_lines(second)) == 1


def test_warnings_go_to_stderr_redacted_and_info_does_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(tmp_path)
    logger = logging.getLogger("clinicdesk.sync")

    logger.info("Pulled 3 changes")
    logger.warning("Invite bounced for %s", "jane.doe@example.org")

    err = capsys.readouterr().err
    assert "Pulled 3 changes" not in err
    assert f"WARNING clinicdesk.sync: Invite bounced for {REDACTED}" in err
    assert "jane.doe" not in err


def test_a_bad_format_string_neither_raises_nor_leaks() -> None:
    # On the record itself: pytest's own log capture would fail the test on the bad format first.
    record = logging.LogRecord(
        "clinicdesk.store", logging.INFO, __file__, 1, "Saved %d", ("jane.doe@example.org",), None
    )

    assert PatientDataFilter().filter(record)

    assert record.args is None
    assert record.msg == f"Saved %d (bad log arguments: ('{REDACTED}',))"


def test_default_folder_is_the_platform_log_folder_and_the_file_rotates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, object]] = []

    def user_log_dir(appname: str, appauthor: object) -> str:
        asked.append((appname, appauthor))
        return str(tmp_path / "platform-logs")

    monkeypatch.setattr(platformdirs, "user_log_dir", user_log_dir)

    log_file = setup_logging()

    assert asked == [("ClinicDesk", False)]
    assert log_file == tmp_path / "platform-logs" / "clinic-desk.log"
    [handler] = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.handlers.RotatingFileHandler)
    ]
    assert (handler.maxBytes, handler.backupCount) == (5 * 1024 * 1024, 5)


def test_reset_restores_the_root_logger(tmp_path: Path) -> None:
    root = logging.getLogger()
    handlers_before = list(root.handlers)
    level_before = root.level

    setup_logging(tmp_path, level=logging.DEBUG)
    reset_logging()

    assert root.handlers == handlers_before
    assert root.level == level_before
