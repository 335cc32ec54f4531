"""The HTTP access log without patient data: query values (search terms, MRNs, dates) redacted.

uvicorn writes one line per request with the path and its query string. Patient searches and
schedule filters travel in query strings, so every value is replaced by `[redacted]`; the
parameter names stay, to tell requests apart when reading the log.
"""

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}")
REDACTED = "[redacted]"


def redact_target(target: str) -> str:
    """`/patients?q=Ada&limit=5` -> `/patients?q=[redacted]&limit=[redacted]`."""
    path, question, query = target.partition("?")
    if not question:
        return target
    names = [pair.partition("=")[0] for pair in query.split("&") if pair]
    kept = [name if _NAME.fullmatch(name) else REDACTED for name in names]
    return f"{path}?" + "&".join(f"{name}={REDACTED}" for name in kept)


class RedactQueries(logging.Filter):
    """Rewrites the request targets among an access record's arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_target(arg) if isinstance(arg, str) and arg.startswith("/") else arg
                for arg in record.args
            )
        return True


def logging_config() -> dict[str, Any]:
    """uvicorn's logging set-up with the redaction on its access logger."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_queries": {"()": RedactQueries}}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_queries"]
    return config
