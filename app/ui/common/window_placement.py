"""Where a secondary window (Call, Tasks) opens: within the available screen, near its owner."""

from PySide6.QtCore import QEvent, QMargins, QObject, QPoint, QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget


def _frame_margins(widget: QWidget | None) -> QMargins:
    """The window manager's frame around `widget` (a window not yet shown has none yet)."""
    if widget is None or not widget.isVisible():
        return QMargins()
    frame, inner = widget.frameGeometry(), widget.geometry()
    return QMargins(inner.left() - frame.left(), inner.top() - frame.top(),
                    frame.right() - inner.right(), frame.bottom() - inner.bottom())


def place_near(window: QWidget, anchor: QWidget | None) -> None:
    """Fit `window` into the available area of `anchor`'s screen, centred over `anchor`.

    Sized down if the screen is smaller than the window's usual size (a laptop, 200 %
    scaling); moved so that no edge, title bar included, is off the screen.
    """
    screen = anchor.screen() if anchor is not None else QGuiApplication.primaryScreen()
    available = screen.availableGeometry()
    margins = _frame_margins(anchor)
    room = available.size().shrunkBy(margins)
    window.resize(window.size().boundedTo(room).expandedTo(window.minimumSize()))
    outer = QRect(QPoint(0, 0), window.size().grownBy(margins))
    centre = anchor.frameGeometry().center() if anchor is not None else available.center()
    outer.moveCenter(centre)
    left = max(available.left(), min(outer.left(), available.right() + 1 - outer.width()))
    top = max(available.top(), min(outer.top(), available.bottom() + 1 - outer.height()))
    window.move(left, top)  # a window's move() places its frame, title bar included


class _PlaceOnFirstShow(QObject):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Show:
            # Once: after that the window stays where the user puts it.
            self._window.removeEventFilter(self)
            place_near(self._window, self._window.parentWidget())
            self.deleteLater()
        return False


def place_near_owner_when_shown(window: QWidget) -> None:
    """The first time `window` shows, place it (`place_near`) over its parent widget."""
    window.installEventFilter(_PlaceOnFirstShow(window))
