"""The self-test's outcome: the error a step raises and the one-line report it prints."""

from collections.abc import Sequence
from dataclasses import dataclass

PREFIX = "clinic-desk self-test:"


class StepFailed(Exception):
    """A step found the app broken; the message says what, in words IT can act on."""


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """One passed step: its name, what it found (e.g. "31 rows") and how long it took."""

    name: str
    detail: str
    seconds: float

    def describe(self) -> str:
        parts = [self.name, self.detail, f"{self.seconds:.1f}s"]
        return " ".join(part for part in parts if part)


def ok_line(outcomes: Sequence[StepOutcome], total_seconds: float) -> str:
    steps = ", ".join(outcome.describe() for outcome in outcomes)
    return f"{PREFIX} ok ({steps}; total {total_seconds:.1f}s)"


def failure_line(step: str, reason: str) -> str:
    # One line whatever the reason holds, so scripts can grep it.
    flat = " ".join(reason.split()) or "no reason given"
    return f"{PREFIX} FAILED at {step}: {flat}"
