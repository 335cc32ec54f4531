"""An appointment's calls to the patient's phone, newest first: when, outcome, length, who."""

from typing import Any

from PySide6.QtCore import QObject, Qt

from app.views.date_text import date_time_text
from app.views.phone_attempt_text import duration_text, outcome_text
from app.views.row_table_model import Index, RowTableModel
from shared.records import PhoneAttempt

HEADERS = ("When", "Outcome", "Length", "Called by")
WHEN, OUTCOME, LENGTH, CALLER = range(4)


class PhoneAttemptModel(RowTableModel[PhoneAttempt]):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(HEADERS, parent)

    def set_attempts(self, attempts: list[PhoneAttempt]) -> None:
        self.replace_rows(sorted(attempts, key=lambda a: a.started_at, reverse=True))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        attempt = self.row_record(index)
        if attempt is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.AccessibleTextRole and column == LENGTH \
                and not attempt.answered_at:
            return "not answered"
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if column == WHEN:
                return date_time_text(attempt.started_at)
            if column == OUTCOME:
                return outcome_text(attempt)
            if column == LENGTH:
                return duration_text(attempt.duration_seconds) if attempt.answered_at else "—"
            return attempt.caller_name
        if role == Qt.ItemDataRole.ToolTipRole and column == LENGTH and attempt.answered_at:
            return f"Talked for {duration_text(attempt.duration_seconds)} (minutes:seconds)"
        if role == Qt.ItemDataRole.TextAlignmentRole and column == LENGTH:
            return Qt.AlignmentFlag.AlignCenter
        return None
