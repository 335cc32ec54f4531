"""The menu of actions for one appointment (right click, the ⋯ button, the toolbar)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from PySide6.QtWidgets import QMenu, QWidget

from shared.enums import AppointmentKind, AppointmentStatus, SyncState
from shared.records import NOT_INVITED, Appointment


class ActionKey(StrEnum):
    VIDEO_CALL = "video_call"
    PHONE_CALL = "phone_call"
    RESEND_INVITE = "resend_invite"
    COPY_LINK = "copy_link"
    MESSAGE_PATIENT = "message_patient"
    EDIT = "edit"
    CANCEL = "cancel"
    NO_SHOW = "no_show"
    CREATE_TASK = "create_task"
    ADD_TO_LIST = "add_to_list"
    CALL_ATTEMPTS = "call_attempts"
    OPEN_AS_PATIENT = "open_as_patient"
    SHOW_INVITE_EMAIL = "show_invite_email"


#: Offered by the demo only (app/demo/demo_actions.py carries them out).
DEMO_KEYS = frozenset({ActionKey.OPEN_AS_PATIENT, ActionKey.SHOW_INVITE_EMAIL})


_NOT_BUILT: dict[ActionKey, str] = {}


@dataclass(frozen=True, slots=True)
class ActionState:
    key: ActionKey
    text: str
    shortcut: str
    enabled: bool
    reason: str  # why it is disabled; empty when enabled


#: What needs the server: invites, links and messages go out from it.
_NEEDS_SERVER = frozenset({
    ActionKey.RESEND_INVITE, ActionKey.COPY_LINK, ActionKey.MESSAGE_PATIENT,
    ActionKey.VIDEO_CALL, ActionKey.PHONE_CALL, ActionKey.CREATE_TASK,
    ActionKey.OPEN_AS_PATIENT,
})
NO_SERVER = ("Calls, invites, patient links, waiting-room messages and tasks go through the "
             "Clinic Desk server; this desktop is not signed in to one (the demo runs on this "
             "computer only).")


def _kind_reason(key: ActionKey, appointment: Appointment) -> str:
    """Why this kind of call does not fit this appointment ("" when it does)."""
    kind = appointment.kind
    if key is ActionKey.VIDEO_CALL and kind is AppointmentKind.PHONE:
        return "A phone appointment: start the phone call (the patient joins with audio only)."
    if key is ActionKey.PHONE_CALL and kind is not AppointmentKind.PHONE:
        return (f"This is a {kind.label.lower()} appointment: only a phone appointment rings "
                "the patient's telephone.")
    return ""


def dials_phone(appointment: Appointment) -> bool:
    """A phone appointment whose patient has a number: its call rings their telephone (without
    one, the patient joins from the invite's link in their browser, audio only)."""
    return appointment.kind is AppointmentKind.PHONE and bool(appointment.patient.phone.strip())


def _phone_text(appointment: Appointment) -> str:
    if appointment.kind is AppointmentKind.PHONE and not dials_phone(appointment):
        return "Start &phone call (patient's browser)"
    return "Call patient's &phone"


def action_states(
    appointment: Appointment, now: datetime, server: bool = False, demo: bool = False
) -> list[ActionState]:
    """Which actions this appointment offers now, and why the others are greyed. `server`:
    signed in to a Clinic Desk server (invites, links and messages need it); `demo`: the
    embedded demo's own actions are added."""
    scheduled = appointment.status is AppointmentStatus.SCHEDULED
    not_scheduled = f"This appointment is {appointment.status.value.replace('_', '-')}."
    group = appointment.kind is AppointmentKind.GROUP
    rows = [
        (ActionKey.VIDEO_CALL, "Join the &group call" if group else "Start &video call", ""),
        (ActionKey.PHONE_CALL, _phone_text(appointment), ""),
        (ActionKey.RESEND_INVITE,
         "&Invite" if appointment.invite_status == NOT_INVITED else "&Resend invite", ""),
        (ActionKey.COPY_LINK, "Copy patient &link", ""),
        (ActionKey.MESSAGE_PATIENT, "&Message the waiting patient…", ""),
        (ActionKey.EDIT, "&Edit…", "Enter"),
        (ActionKey.CANCEL, "&Cancel appointment…", "Delete"),
        (ActionKey.NO_SHOW, "Mark &no-show", ""),
        (ActionKey.CREATE_TASK, "Create &task…", ""),
        (ActionKey.ADD_TO_LIST, "Add patient to a li&st…", ""),
        (ActionKey.CALL_ATTEMPTS, "P&hone call attempts…", ""),
    ]
    if demo:
        rows += [(ActionKey.OPEN_AS_PATIENT, "&Open as patient (demo)", ""),
                 (ActionKey.SHOW_INVITE_EMAIL, "Show &invite email (demo)", "")]
    states: list[ActionState] = []
    for key, text, shortcut in rows:
        reason = _NOT_BUILT.get(key, "")
        if not reason and not scheduled and key not in (ActionKey.CREATE_TASK,
                                                        ActionKey.ADD_TO_LIST,
                                                        ActionKey.CALL_ATTEMPTS,
                                                        ActionKey.SHOW_INVITE_EMAIL):
            # A follow-up task, a list or the calls made suit a finished appointment too.
            reason = not_scheduled
        if not reason and key is ActionKey.CALL_ATTEMPTS \
                and appointment.kind is not AppointmentKind.PHONE:
            reason = "Only a phone appointment rings the patient's phone."
        if not reason and key in (ActionKey.VIDEO_CALL, ActionKey.PHONE_CALL):
            reason = _kind_reason(key, appointment)
        if not reason and key in _NEEDS_SERVER:
            if not server:
                reason = NO_SERVER
            elif appointment.sync_state is not SyncState.SYNCED:
                reason = "This booking has not reached the server yet; try again once it has."
        if not reason and key is ActionKey.NO_SHOW and appointment.start > now:
            reason = "The appointment has not started yet."
        states.append(ActionState(key, text, shortcut, not reason, reason))
    return states


def build_actions_menu(
    appointment: Appointment,
    now: datetime,
    trigger: Callable[[ActionKey, Appointment], None],
    parent: QWidget,
    server: bool = False,
    demo: bool = False,
) -> QMenu:
    menu = QMenu(parent)
    menu.setToolTipsVisible(True)
    menu.setTitle(f"Actions for {appointment.patient.name}")
    for number, state in enumerate(action_states(appointment, now, server, demo)):
        if number in (2, 5, 9) or state.key is ActionKey.OPEN_AS_PATIENT:
            menu.addSeparator()  # calls | the patient | the booking | follow-ups | the demo's
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
