"""Test helpers for where windows open: a stand-in main window, and the placement check."""

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot


def shown_owner(qtbot: QtBot, geometry: QRect) -> QWidget:
    """A shown top-level widget at `geometry`, standing in for the main window."""
    owner = QWidget()
    qtbot.addWidget(owner)
    owner.setGeometry(geometry)
    owner.show()
    qtbot.waitExposed(owner)
    return owner


def assert_placed_over(qtbot: QtBot, window: QWidget, owner: QWidget) -> None:
    """Show `window`: all of it on the owner's screen, and over the owner's centre."""
    window.show()
    qtbot.waitExposed(window)
    assert owner.screen().availableGeometry().contains(window.frameGeometry())
    assert window.frameGeometry().contains(owner.frameGeometry().center())
