"""The participants waiting to be admitted, in their own section above the participant list:
each with **Admit**, and **Admit all (N waiting)** for everyone shown."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.views.date_text import time_text
from shared.group_call_protocol import GroupWaiting


class WaitingList(QWidget):
    """Says whom the clinician lets in; the controller does it through the server."""

    #: list[str]: the participants' ids ("guest-3") to admit
    admitRequested = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.waiting: list[GroupWaiting] = []
        self.title = QLabel("Waiting to be admitted", self)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.empty = QLabel("Nobody is waiting.", self)
        self.empty.setEnabled(False)
        self.admit_all_button = QPushButton("Admit all", self)
        self.admit_all_button.clicked.connect(self._admit_all)
        self._rows = QVBoxLayout()
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._rows.setSpacing(2)
        #: participant id -> its Admit button (tests and keyboard users find it by name)
        self.admit_buttons: dict[str, QPushButton] = {}
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.title)
        column.addWidget(self.empty)
        column.addLayout(self._rows)
        column.addWidget(self.admit_all_button)
        self.show_waiting([])

    def show_waiting(self, waiting: list[GroupWaiting]) -> None:
        """The list as the server gave it (oldest first); rebuilt only when it changed, so a
        button under the mouse or the keyboard's focus stays put between updates."""
        if [(w.participant, w.display) for w in waiting] == [
            (w.participant, w.display) for w in self.waiting
        ] and self.admit_buttons:
            return
        self.waiting = list(waiting)
        while self._rows.count():
            item = self._rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.admit_buttons = {}
        for person in waiting:
            self._rows.addWidget(self._row(person))
        count = len(waiting)
        self.title.setText(
            f"Waiting to be admitted ({count})" if count else "Waiting to be admitted"
        )
        self.empty.setVisible(count == 0)
        self.admit_all_button.setVisible(count > 0)
        self.admit_all_button.setText(f"Admit all ({count} waiting)")

    def _row(self, person: GroupWaiting) -> QWidget:
        row = QWidget(self)
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        name = QLabel(person.display, row)
        name.setTextFormat(Qt.TextFormat.PlainText)
        name.setToolTip(f"{person.display}, waiting since {time_text(person.since)}")
        since = QLabel(f"since {time_text(person.since)}", row)
        since.setEnabled(False)
        admit = QPushButton("Admit", row)
        admit.setAccessibleName(f"Admit {person.display}")
        admit.clicked.connect(lambda: self.admitRequested.emit([person.participant]))
        self.admit_buttons[person.participant] = admit
        line.addWidget(name, 1)
        line.addWidget(since)
        line.addWidget(admit)
        return row

    def _admit_all(self) -> None:
        if self.waiting:
            self.admitRequested.emit([person.participant for person in self.waiting])
