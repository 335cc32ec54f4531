"""Day navigation above the schedule: previous, today, next, a date picker, and day or week."""

from datetime import date, timedelta
from enum import StrEnum

from PySide6.QtCore import QDate, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QButtonGroup, QDateEdit, QHBoxLayout, QToolButton, QWidget

from app.views.date_text import edit_date_format


class Span(StrEnum):
    DAY = "day"
    WEEK = "week"


class DateNavigator(QWidget):
    #: (first day shown, number of days)
    rangeChanged = Signal(object, int)

    def __init__(self, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._today = today
        self.previous = self._button("◀", "Previous day (Alt+Left)", QKeySequence("Alt+Left"))
        self.today = self._button("Today", "Go to today (Alt+Home)", QKeySequence("Alt+Home"))
        self.next = self._button("▶", "Next day (Alt+Right)", QKeySequence("Alt+Right"))
        self.picker = QDateEdit(self)
        self.picker.setCalendarPopup(True)
        self.picker.setDisplayFormat(edit_date_format())
        self.picker.setAccessibleName("Date shown")
        self.picker.setDate(QDate(today.year, today.month, today.day))
        self.day_button = self._button("Day", "Show one day", QKeySequence("Ctrl+1"))
        self.week_button = self._button("Week", "Show the week (Monday to Sunday)",
                                        QKeySequence("Ctrl+2"))
        self.span_group = QButtonGroup(self)
        for button in (self.day_button, self.week_button):
            button.setCheckable(True)
            self.span_group.addButton(button)
        self.day_button.setChecked(True)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.previous, self.today, self.next, self.picker):
            layout.addWidget(widget)
        layout.addSpacing(12)
        layout.addWidget(self.day_button)
        layout.addWidget(self.week_button)

        self.previous.clicked.connect(lambda: self._step(-1))
        self.next.clicked.connect(lambda: self._step(1))
        self.today.clicked.connect(self.go_today)
        self.picker.dateChanged.connect(lambda _: self._emit())
        self.span_group.buttonClicked.connect(lambda _: self._span_changed())

    def _button(self, text: str, tip: str, shortcut: QKeySequence) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(tip.split(" (")[0])
        button.setShortcut(shortcut)
        return button

    @property
    def span(self) -> Span:
        return Span.WEEK if self.week_button.isChecked() else Span.DAY

    def set_span(self, span: Span) -> None:
        (self.week_button if span is Span.WEEK else self.day_button).setChecked(True)
        self._span_changed()

    def _span_changed(self) -> None:
        tips = {Span.DAY: "day", Span.WEEK: "week"}
        self.previous.setToolTip(f"Previous {tips[self.span]} (Alt+Left)")
        self.next.setToolTip(f"Next {tips[self.span]} (Alt+Right)")
        self._emit()

    def shown_date(self) -> date:
        shown = self.picker.date()
        return date(shown.year(), shown.month(), shown.day())

    def set_date(self, day: date) -> None:
        self.picker.setDate(QDate(day.year, day.month, day.day))

    def set_today(self, today: date) -> None:
        self._today = today

    def go_today(self) -> None:
        if self.shown_date() == self._today:
            self._emit()  # refresh anyway: the user asked
        self.set_date(self._today)

    def _step(self, direction: int) -> None:
        days = 7 if self.span is Span.WEEK else 1
        self.set_date(self.shown_date() + timedelta(days=direction * days))

    def current_range(self) -> tuple[date, int]:
        day = self.shown_date()
        if self.span is Span.WEEK:
            return day - timedelta(days=day.weekday()), 7
        return day, 1

    def _emit(self) -> None:
        first, days = self.current_range()
        self.rangeChanged.emit(first, days)
