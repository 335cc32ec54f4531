"""One QObject through which every service speaks to the user; the main window shows it."""

from PySide6.QtCore import QObject, Signal


class MessageBridge(QObject):
    """`info`, `warning` and `error` carry one sentence for the user each (the banner);
    `note` is a passing word in the status line: (text, milliseconds shown)."""

    info = Signal(str)
    warning = Signal(str)
    error = Signal(str)
    note = Signal(str, int)
