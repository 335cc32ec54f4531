"""The menu of actions for one appointment (right click, the ⋯ button, the toolbar)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from PySide6.QtWidgets import QMenu, QWidget

from app.domain.enums import AppointmentStatus
from app.domain.records import Appointment


class ActionKey(StrEnum):
    VIDEO_CALL = "video_call"
    PHONE_CALL = "phone_call"
    RESEND_INVITE = "resend_invite"
    COPY_LINK = "copy_link"
    EDIT = "edit"
    CANCEL = "cancel"
    NO_SHOW = "no_show"
    CREATE_TASK = "create_task"


_NOT_BUILT = {
    ActionKey.VIDEO_CALL: "In-app video calls are not available in this version yet.",
    ActionKey.PHONE_CALL: "Phone calls are not available in this version yet.",
    ActionKey.RESEND_INVITE: "Email invites need the Clinic Desk server, not in this version yet.",
    ActionKey.COPY_LINK: "Patient links need the Clinic Desk server, not in this version yet.",
    ActionKey.CREATE_TASK: "Tasks are not available in this version yet.",
}


@dataclass(frozen=True, slots=True)
class ActionState:
    key: ActionKey
    text: str
    shortcut: str
    enabled: bool
    reason: str  # why it is disabled; empty when enabled


def action_states(appointment: Appointment, now: datetime) -> list[ActionState]:
    """Which actions this appointment offers now, and why the others are greyed."""
    scheduled = appointment.status is AppointmentStatus.SCHEDULED
    not_scheduled = f"This appointment is {appointment.status.value.replace('_', '-')}."
    rows = [
        (ActionKey.VIDEO_CALL, "Start &video call", ""),
        (ActionKey.PHONE_CALL, "Start &phone call", ""),
        (ActionKey.RESEND_INVITE, "&Resend invite", ""),
        (ActionKey.COPY_LINK, "Copy patient &link", ""),
        (ActionKey.EDIT, "&Edit…", "Enter"),
        (ActionKey.CANCEL, "&Cancel appointment…", "Delete"),
        (ActionKey.NO_SHOW, "Mark &no-show", ""),
        (ActionKey.CREATE_TASK, "Create &task…", ""),
    ]
    states: list[ActionState] = []
    for key, text, shortcut in rows:
        reason = _NOT_BUILT.get(key, "")
        if not reason and not scheduled:
            reason = not_scheduled
        if not reason and key is ActionKey.NO_SHOW and appointment.start > now:
            reason = "The appointment has not started yet."
        states.append(ActionState(key, text, shortcut, not reason, reason))
    return states


def build_actions_menu(
    appointment: Appointment,
    now: datetime,
    trigger: Callable[[ActionKey, Appointment], None],
    parent: QWidget,
) -> QMenu:
    menu = QMenu(parent)
    menu.setToolTipsVisible(True)
    menu.setTitle(f"Actions for {appointment.patient.name}")
    for number, state in enumerate(action_states(appointment, now)):
        if number in (2, 4):
            menu.addSeparator()
        action = menu.addAction(state.text)
        action.setObjectName(state.key.value)
        action.setEnabled(state.enabled)
        if state.shortcut:
            action.setShortcut(state.shortcut)
        if state.reason:
            action.setToolTip(state.reason)
            action.setStatusTip(state.reason)
        action.triggered.connect(lambda _=False, key=state.key: trigger(key, appointment))
    return menu
