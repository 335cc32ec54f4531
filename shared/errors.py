"""Base errors of the domain. A KnownError is shown to the user inline and their data is kept."""

from dataclasses import dataclass


class Error(Exception):
    """Base of every Clinic Desk domain error."""


class KnownError(Error):
    """An expected failure with a sentence for the user (offline, conflict, disk full...)."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one input; `field` names it (e.g. "patient.email", "start")."""

    field: str
    message: str


class ValidationFailed(KnownError):
    """A draft broke one or more rules; nothing was written."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(error.message for error in errors))
        self.errors = errors
