"""The base of the UI's controllers: a QObject that acts for one window, over which it opens
its dialogs."""

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget


class WindowController(QObject):
    """Made by the composition root before its window and handed to the window at
    construction; the window adopts it (becomes its Qt parent), so it lives as long as the
    window and its dialogs open over (and are found under) that window."""

    def host(self) -> QWidget | None:
        """The window this controller acts for (None until a window adopted it)."""
        parent = self.parent()
        return parent if isinstance(parent, QWidget) else None
