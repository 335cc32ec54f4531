"""The server's log lines keep patient identifiers out, as the desktop's log file does.

The same rule (app.logging_config.redact) on the server's own loggers and on uvicorn's: its
error log as a whole, its access log on the request line (a search's query string may carry a
phone number or an MRN).
"""

import logging
from typing import Any

from server.access_log import logging_config
from shared.redaction import PatientDataFilter, redact

SERVER_FORMAT = "%(levelname)s %(name)s: %(message)s"


class RequestLineFilter(logging.Filter):
    """Redacts the path of uvicorn's access records, whose formatter needs the args kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn.access logs (client_addr, method, full_path, http_version, status_code).
        if isinstance(args, tuple) and len(args) == 5:
            record.args = (args[0], args[1], redact(str(args[2])), args[3], args[4])
        return True


def setup_server_logging(level: int = logging.INFO) -> None:
    """stderr for the server's own loggers, through the patient-identifier filter."""
    logging.basicConfig(level=level, format=SERVER_FORMAT)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, PatientDataFilter) for f in handler.filters):
            handler.addFilter(PatientDataFilter())


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging config with the filters on its handlers: query values redacted
    (server/access_log.py), then identifiers left in the path."""
    config = logging_config()
    config["filters"] |= {
        "patient_data": {"()": PatientDataFilter},
        "request_line": {"()": RequestLineFilter},
    }
    config["handlers"]["default"]["filters"] = ["patient_data"]
    config["handlers"]["access"]["filters"] = ["request_line"]
    return config
