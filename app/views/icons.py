"""Cached QIcons for the app's SVG icons: status icons, appointment-kind icons and the rest."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from app.resources import icon_path
from shared.enums import AppointmentKind, DisplayState

_STATUS_ICON_NAMES: dict[DisplayState, str] = {
    DisplayState.SCHEDULED: "status-scheduled",
    DisplayState.WAITING: "status-waiting",
    DisplayState.TAKEN: "status-taken",
    DisplayState.CANCELLED: "status-cancelled",
    DisplayState.NO_SHOW: "status-no-show",
}

_KIND_ICON_NAMES: dict[AppointmentKind, str] = {
    AppointmentKind.VIDEO: "kind-video",
    AppointmentKind.PHONE: "kind-phone",
    AppointmentKind.GROUP: "kind-group",
}


@cache
def icon(name: str) -> QIcon:
    """Return the icon ``resources/icons/<name>.svg``, loaded once and cached.

    Raises FileNotFoundError if there is no such icon. Needs a QGuiApplication to draw it.
    """
    return QIcon(str(icon_path(name)))


def status_icon(state: DisplayState) -> QIcon:
    """Return the icon of a displayed appointment state (scheduled, waiting, ...)."""
    return icon(_STATUS_ICON_NAMES[state])


def kind_icon(kind: AppointmentKind) -> QIcon:
    """Return the icon of an appointment kind (video, phone, group)."""
    return icon(_KIND_ICON_NAMES[kind])
