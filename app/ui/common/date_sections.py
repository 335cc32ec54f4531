"""Date and time edits whose clicked section is selected, so typing replaces it."""

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QDateTimeEdit


class _SelectClickedSection(QObject):
    """Selects the section under a click in a date edit's line edit.

    Qt leaves a bare cursor in the section: typing "39" then goes nowhere or mixes with the
    digits already there (09:15 became 09:15 or 03:33); a selected section is replaced.
    """

    def __init__(self, edit: QDateTimeEdit) -> None:
        super().__init__(edit)
        self._edit = edit

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonRelease:
            # After Qt has placed the cursor for this click (and kept any drag selection).
            QTimer.singleShot(0, self, self._select)
        return False

    def _select(self) -> None:
        line = self._edit.lineEdit()
        if line.hasSelectedText() or self._edit.calendarWidget().isVisible():
            return
        self._edit.setSelectedSection(self._edit.currentSection())


def select_sections_on_click(edit: QDateTimeEdit) -> None:
    """Make a click in `edit` select the whole day, month, hour or minute it lands in."""
    edit.lineEdit().installEventFilter(_SelectClickedSection(edit))
