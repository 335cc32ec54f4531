"""The idle privacy lock: after a spell without input, cover every window of the app.

The composition root installs `IdleLock` as an event filter on the QApplication, so it sees the
input of every window; a timer compares the last input with the injectable clock.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QKeyEvent, QMouseEvent, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from app.views.date_text import time_text
from app.views.icons import icon
from shared.clock import Clock

log = logging.getLogger("clinicdesk.ui")

#: How often the timer compares the last input with the clock: a lock may come this late.
CHECK_INTERVAL_MS = 5000
LOCKED_TITLE = "Clinic Desk is locked to protect patient information"

_T = QEvent.Type
#: What counts as the user being there.
_INPUT_EVENTS = frozenset({
    _T.MouseButtonPress, _T.MouseButtonDblClick, _T.MouseMove, _T.KeyPress, _T.Wheel,
    _T.TouchBegin, _T.TouchUpdate, _T.TabletPress,
})
#: What may not reach a widget under the lock (shortcuts are sent to their QAction).
_BLOCKED_WHILE_LOCKED = _INPUT_EVENTS | {
    _T.MouseButtonRelease, _T.KeyRelease, _T.TouchEnd, _T.TabletRelease, _T.ContextMenu,
    _T.Shortcut,
}
_BACKGROUND = QColor("#eef1f4")
_TEXT = QColor("#1d2733")
_QUIET_TEXT = QColor("#3f4a56")
_MAX_POPUPS = 20  # menus within menus; a bound in case one refuses to close


class LockOverlay(QWidget):
    """An opaque panel over the whole window, with one button: Unlock."""

    unlockRequested = Signal()

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("lock-overlay")
        self.setAutoFillBackground(True)
        palette = self.palette()
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            palette.setColor(group, QPalette.ColorRole.Window, _BACKGROUND)
            palette.setColor(group, QPalette.ColorRole.WindowText, _TEXT)
        self.setPalette(palette)
        # Clicks on the panel stop here, never reaching the window beneath.
        self.setAttribute(Qt.WidgetAttribute.WA_NoMousePropagation)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        picture = QLabel(self)
        picture.setPixmap(icon("lock").pixmap(72, 72))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        picture.setAccessibleName("Locked")
        self.title = QLabel(LOCKED_TITLE, self)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.title.setFont(font)
        self.detail = QLabel(self)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setWordWrap(True)
        quiet = self.detail.palette()
        quiet.setColor(QPalette.ColorRole.WindowText, _QUIET_TEXT)
        self.detail.setPalette(quiet)
        self.unlock_button = QPushButton("&Unlock", self)
        self.unlock_button.setAutoDefault(True)  # Enter clicks it (not only in dialogs)
        self.unlock_button.setMinimumSize(160, 36)
        self.unlock_button.setAccessibleName("Unlock")
        self.unlock_button.setAccessibleDescription(LOCKED_TITLE)
        self.unlock_button.clicked.connect(self.unlockRequested)
        # Shown when a password is needed (signed in to a server): the account's password.
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Your password")
        self.password.setAccessibleName("Password to unlock")
        self.password.setMinimumWidth(260)
        self.password.returnPressed.connect(self.unlockRequested)
        self.password.hide()
        self.refusal = QLabel(self)
        self.refusal.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.refusal.setStyleSheet("color: #b3261e; font-weight: 600;")
        self.refusal.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 48, 48, 48)
        layout.setSpacing(14)
        layout.addStretch(1)
        layout.addWidget(picture)
        layout.addWidget(self.title)
        layout.addWidget(self.detail)
        layout.addSpacing(10)
        layout.addWidget(self.password, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.refusal)
        layout.addWidget(self.unlock_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)

        self.setAccessibleName("Clinic Desk is locked")
        self.setAccessibleDescription(LOCKED_TITLE)
        window.installEventFilter(self)  # follow the window's size
        self.hide()

    def cover(self, locked_at: datetime, minutes: int, needs_password: bool = False) -> None:
        """Show over the whole window and take the keyboard focus."""
        unit = "minute" if minutes == 1 else "minutes"
        how = ("Enter your password to carry on where you left off." if needs_password
               else "Press Enter or select Unlock to carry on where you left off.")
        self.detail.setText(
            f"Locked at {time_text(locked_at)} after {minutes} {unit} without use.\n"
            + how)
        self.password.setVisible(needs_password)
        self.password.clear()
        self.refusal.hide()
        self.setAccessibleDescription(
            f"{LOCKED_TITLE}. {self.detail.text().replace(chr(10), ' ')}")
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.show()
        self.raise_()
        focus = self.password if needs_password else self.unlock_button
        focus.setFocus(Qt.FocusReason.OtherFocusReason)

    def refuse(self, message: str) -> None:
        self.refusal.setText(message)
        self.refusal.show()
        self.password.selectAll()
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        parent = self.parentWidget()
        if watched is parent and parent is not None and event.type() == QEvent.Type.Resize:
            self.setGeometry(parent.rect())
        return False

    def focusNextPrevChild(self, next: bool) -> bool:
        if self.password.isVisible():  # Tab moves between the password and Unlock only
            target = self.unlock_button if self.password.hasFocus() else self.password
            target.setFocus(Qt.FocusReason.TabFocusReason)
        return True  # the widgets beneath are out of reach

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.unlockRequested.emit()
            return
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        event.accept()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        event.accept()  # no window or toolbar menu from under the lock


class IdleLock(QObject):
    """Records the last input of the whole app and locks when it is older than `minutes`.

    Locking covers the main window with a `LockOverlay` (its central widget, the schedule,
    is hidden underneath and keeps updating) and hides every other window of the app, such
    as an appointment dialog with what the user typed, until Unlock shows them again.
    Install it on the QApplication (`installEventFilter`) to see the input of every window.
    """

    #: True when the app locks, False when it unlocks.
    lockedChanged = Signal(bool)

    def __init__(
        self,
        clock: Clock,
        window: QMainWindow,
        parent: QObject | None = None,
        *,
        check_interval_ms: int = CHECK_INTERVAL_MS,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._window = window
        self._minutes = 0
        self._locked = False
        self._last_input = clock.now()
        self._hidden: list[QWidget] = []
        self._active: QWidget | None = None
        self._focus: QWidget | None = None
        self._check_password: Callable[[str], bool] | None = None
        self._held = False
        self.overlay = LockOverlay(window)
        self.overlay.unlockRequested.connect(self.unlock)
        self.timer = QTimer(self)
        self.timer.setInterval(check_interval_ms)
        self.timer.timeout.connect(self.check)
        self._running = False

    @property
    def minutes(self) -> int:
        """Minutes without input before the lock; 0: never."""
        return self._minutes

    @property
    def locked(self) -> bool:
        return self._locked

    @property
    def last_input(self) -> datetime:
        return self._last_input

    def set_minutes(self, minutes: int) -> None:
        """Apply a new idle time at once (from the effective settings); 0 turns the lock off.

        Turning it off does not unlock a locked app: the user unlocks as always.
        """
        self._minutes = max(0, int(minutes))
        # The new time counts from now, not from input made under the old setting.
        self._last_input = self._clock.now()
        self._update_timer()
        log.info("idle lock %s", f"after {self._minutes} min" if self._minutes else "off")

    def start(self) -> None:
        self._running = True
        self._last_input = self._clock.now()
        self._update_timer()

    def stop(self) -> None:
        self._running = False
        self.timer.stop()

    def _update_timer(self) -> None:
        if self._running and self._minutes > 0:
            if not self.timer.isActive():
                self.timer.start()
        else:
            self.timer.stop()

    # --- input -----------------------------------------------------------------------------
    def record_input(self) -> None:
        self._last_input = self._clock.now()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in _INPUT_EVENTS:
            self._last_input = self._clock.now()
        if self._locked and kind in _BLOCKED_WHILE_LOCKED and not self._under_lock(watched):
            return True  # nothing beneath the lock takes input, nor do its shortcuts fire
        return False

    def _under_lock(self, target: QObject) -> bool:
        """True when `target` may take input while locked: the overlay, or not a widget.

        Window-system events reach the QWindow first, then the widget under the pointer or
        with the focus: only the widget is checked. A QAction's shortcut is never let through.
        """
        if isinstance(target, QWidget):
            return target is self.overlay or self.overlay.isAncestorOf(target)
        return target.isWindowType()

    # --- locking ---------------------------------------------------------------------------
    def check(self) -> bool:
        """Lock when the last input is older than the idle time; True when locked now."""
        # A call in progress holds the lock off: a clinician on video touches neither mouse
        # nor keyboard.
        if self._locked or self._minutes <= 0 or self._held:
            return False
        if self._clock.now() - self._last_input < timedelta(minutes=self._minutes):
            return False
        self.lock()
        return True

    def lock(self) -> None:
        if self._locked:
            return
        self._locked = True
        QToolTip.hideText()
        for _ in range(_MAX_POPUPS):  # open menus and completer lists go: they show patients
            popup = QApplication.activePopupWidget()
            if popup is None:
                break
            popup.close()
        self._active = QApplication.activeWindow()
        self._focus = self._window.focusWidget()
        self._hidden = [
            widget for widget in QApplication.topLevelWidgets()
            if widget.isVisible() and widget is not self._window
            and widget.windowType() not in (Qt.WindowType.Popup, Qt.WindowType.ToolTip)
        ]
        # Dialogs are hidden, not closed: what the user typed is there when they come back.
        for widget in self._hidden:
            widget.hide()
        content = self._window.centralWidget()
        if content is not None:
            content.hide()  # not only covered: out of the keyboard's and screen readers' reach
        self._window.statusBar().clearMessage()  # "Saved <patient> at 09:15"
        self.overlay.cover(self._clock.now(), self._minutes,
                           needs_password=self._check_password is not None)
        if self._window.isVisible():
            self._window.activateWindow()
        log.info("locked after %d min without input", self._minutes)
        self.lockedChanged.emit(True)

    def hold(self, held: bool) -> None:
        """While held (a call is on), the app never locks; the idle time restarts after."""
        self._held = held
        if not held:
            self._last_input = self._clock.now()

    def require_password(self, check: Callable[[str], bool] | None) -> None:
        """Signed in: unlocking needs the account's password, checked by `check`."""
        self._check_password = check

    def unlock(self) -> None:
        if not self._locked:
            return
        if self._check_password is not None:
            typed = self.overlay.password.text()
            if not typed or not self._check_password(typed):
                log.info("unlock refused: wrong password")
                self.overlay.refuse("That is not your password. Try again." if typed
                                    else "Enter your password to unlock.")
                return
            self.overlay.password.clear()
        self._locked = False
        self._last_input = self._clock.now()
        content = self._window.centralWidget()
        if content is not None:
            content.show()
        self.overlay.hide()
        if self._focus is not None and shiboken6.isValid(self._focus):
            self._focus.setFocus(Qt.FocusReason.OtherFocusReason)
        # Parents before the dialogs they own, so each one comes back above its parent.
        alive = [widget for widget in self._hidden if shiboken6.isValid(widget)]
        for widget in sorted(alive, key=_depth):
            widget.show()
        # A window-modal dialog shown again blocks its parent: it takes the keyboard.
        active = QApplication.activeModalWidget() or self._active
        if active is not None and shiboken6.isValid(active) and active.isVisible():
            active.raise_()
            active.activateWindow()
        self._hidden, self._active, self._focus = [], None, None
        log.info("unlocked")
        self.lockedChanged.emit(False)


def _depth(widget: QWidget) -> int:
    depth = 0
    parent = widget.parentWidget()
    while parent is not None:
        depth += 1
        parent = parent.parentWidget()
    return depth
