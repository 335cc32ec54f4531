"""Outbound HL7: a status change of an appointment the hospital booked, queued as an SIU message.

When the patient of an HL7-booked appointment arrives in the waiting room, is seen (the call is
taken) or is marked no-show, the event settings.hl7_outbound_events names (SIU^S14 by default)
is built and queued in the same transaction as the change, with the appointment's placer and
filler ids in SCH-1/SCH-2 and the new status in SCH-25. The sender
(hl7_outbound_sender.py) is woken after commit and delivers the queue in order.
"""

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import uuid4

import hl7
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from server.integration.hl7_ack import APPLICATION
from server.integration.hl7_read import FILLER, PLACER
from server.integration.interface_account import USERNAME as INTERFACE_USERNAME
from server.models.appointment import Appointment, AppointmentExternalId
from server.models.hl7_outbound import Hl7Outbound
from server.models.patient import Patient
from server.models.user import User
from server.session_effects import effects_of

if TYPE_CHECKING:
    from server.settings import Settings

#: SCH-25 (filler status, HL7 table 0278; "Arrived" is the common local extension for a patient
#: who checked in) of each status this side reports.
FILLER_STATUS = {"waiting": "Arrived", "taken": "Started", "no_show": "Noshow"}
#: Escapes field text with the default delimiters (|^~\&), which the messages declare.
_DEFAULT = hl7.Message("\r")


def _text(value: str) -> str:
    return str(_DEFAULT.escape(value.replace("\r", " ").replace("\n", " ")))


def _hl7_time(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S%z")


def _name(full_name: str) -> str:
    """XPN "family^given" of "Given Family" (the family name is the last word)."""
    given, _, family = full_name.strip().rpartition(" ")
    return f"{_text(family)}^{_text(given)}" if given else _text(family)


def build(settings: "Settings", row: Appointment, status: str, event_name: str,
          ids: dict[str, str], patient: Patient | None, clinician: User | None,
          control_id: str, now: datetime) -> str:
    """The SIU message of `row` now being `status` (CR between segments)."""
    message_type, _, trigger = event_name.partition("^")
    start = _hl7_time(row.start)
    minutes = str(row.duration_minutes)
    msh = "|".join((
        "MSH", "^~\\&", APPLICATION, "", _text(settings.hl7_outbound_application),
        _text(settings.hl7_outbound_facility), _hl7_time(now), "",
        f"{message_type}^{trigger}^SIU_S12", control_id, "P", "2.5.1",
    ))
    sch = ["SCH", _text(ids.get(PLACER, "")), _text(ids.get(FILLER, "")), "", "", "", "", "",
           "", minutes, "MIN", f"^^{minutes}^{start}"] + [""] * 13 + [FILLER_STATUS[status]]
    segments = [msh, "|".join(sch)]
    if patient is not None:
        authority = _text(settings.hl7_mrn_authority)
        segments.append(f"PID|1||{_text(patient.mrn or '')}^^^{authority}^MR||"
                        f"{_name(patient.name)}")
    segments.append("RGS|1")
    if clinician is not None:
        segments.append(f"AIP|1||{_text(clinician.username)}^{_name(clinician.full_name)}"
                        f"|||{start}|||{minutes}|MIN")
    return "\r".join(segments)


def queue_status(session: Session, row: Appointment, status: str, now: datetime,
                 actor: User | None = None) -> bool:
    """Queue the configured event for `row`'s new `status`, when the hospital booked it and
    outbound HL7 is on; True when a message was queued (sent after commit)."""
    effects = effects_of(session)
    if effects is None or effects.hl7_outbound is None:
        return False
    if actor is not None and actor.username == INTERFACE_USERNAME:
        return False  # the hospital's own message made the change: nothing to tell it
    settings = effects.hl7_outbound.settings
    event_name = settings.hl7_outbound_events.get(status, "")  # type: ignore[call-overload]
    if not event_name:
        return False
    ids = dict(session.exec(
        select(AppointmentExternalId.system, AppointmentExternalId.value)
        .where(AppointmentExternalId.appointment_id == row.id)
        .where(col(AppointmentExternalId.system).in_((PLACER, FILLER)))
    ).all())
    if not ids:
        return False
    control_id = uuid4().hex[:20].upper()
    message = build(settings, row, status, event_name, ids, session.get(Patient, row.patient_id),
                    session.get(User, row.clinician_id), control_id, now)
    session.add(Hl7Outbound(
        appointment_id=row.id, created_at=now, event=event_name, status=status,
        control_id=control_id, message=message, next_attempt_at=now,
    ))
    effects.hl7_queued = True
    return True


def _after_commit(session: OrmSession) -> None:
    effects = effects_of(session)
    if effects is not None and effects.hl7_queued:
        effects.hl7_queued = False
        if effects.hl7_outbound is not None:
            effects.hl7_outbound.wake()


def _after_rollback(session: OrmSession) -> None:
    effects = effects_of(session)
    if effects is not None:
        effects.hl7_queued = False


def install_session_events() -> None:
    """Wake the outbound sender after a commit that queued messages (idempotent)."""
    if not event.contains(OrmSession, "after_commit", _after_commit):
        event.listen(OrmSession, "after_commit", _after_commit)
        event.listen(OrmSession, "after_rollback", _after_rollback)
