"""Applying SIU (S12-S15, S17, S26) and ADT (A08, A31) messages through the booking services.

The changes go through server/services/booking.py and patients.py as a staff member's would,
so they reach every desktop through the change log and the realtime hub. The appointment's
placer and filler ids are kept as its external ids ("hl7-placer", "hl7-filler"): the key of
later messages. Appointments booked this way are not invited until staff invite them.
"""

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import hl7
from pydantic import ValidationError
from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from server.errors import ApiError
from server.integration import hl7_read
from server.integration.hl7_log import lock
from server.integration.hl7_read import FILLER, PLACER, BookingFacts, Header, PatientFacts, Refusal
from server.models.appointment import Appointment, AppointmentExternalId
from server.models.location import Location
from server.models.patient import Patient
from server.models.user import User
from server.services import booking, patients
from server.services.caller import Caller
from server.settings import Settings
from shared.enums import AppointmentKind, AppointmentStatus, Role
from shared.schemas import AppointmentCreate, AppointmentUpdate, PatientCreate

#: Advisory-lock namespace (PostgreSQL) of one appointment's messages: they apply in order.
_APPOINTMENT_LOCK_SPACE = 0x0C11_0004

#: Where the booking rules' field names come from in an SIU message.
_HL7_FIELDS = {
    "start": "SCH-11",
    "duration_minutes": "SCH-9",
    "clinician_id": "AIP-3",
    "kind": "SCH-8",
    "location_id": "AIL-3",
    "notes": "SCH-7",
    "patient_id": "PID-3",
    "name": "PID-5",
    "mrn": "PID-3",
    "date_of_birth": "PID-7",
    "email": "PID-13",
    "phone": "PID-13",
}

SCHEDULING_EVENTS = frozenset({"S12", "S13", "S14", "S15", "S17", "S26"})
PATIENT_EVENTS = frozenset({"A08", "A31"})


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an applied message did (MSA-3) and whom it was about (the log's subject)."""

    text: str
    subject: str


def _hl7_field(name: str) -> str:
    return _HL7_FIELDS.get(name.rsplit(".", 1)[-1], "SCH")


def refusal_of(error: ApiError) -> Refusal:
    """The booking services' refusal as an HL7 error naming the field."""
    field = _hl7_field(error.fields[0].field) if error.fields else "SCH"
    if error.code == "double_booking":
        field = "SCH-11"
    code = hl7_read.UNKNOWN_KEY if error.status == 404 else hl7_read.DATA_TYPE_ERROR
    if error.status == 409:
        code = hl7_read.INTERNAL_ERROR
    return Refusal(field, error.message[:500], code)


def _refusal_of_validation(error: ValidationError) -> Refusal:
    first = error.errors()[0]
    name = str(first["loc"][-1]) if first["loc"] else ""
    return Refusal(_hl7_field(name), f"{name}: {first['msg']}"[:500], hl7_read.DATA_TYPE_ERROR)


def _build(model: Any, values: dict[str, Any]) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise _refusal_of_validation(error) from None


def _key(facts: BookingFacts) -> str:
    return f"filler:{facts.filler_id}" if facts.filler_id else f"placer:{facts.placer_id}"


def _find(session: Session, facts: BookingFacts) -> Appointment | None:
    """The appointment of the filler id, else of the placer id (one query for both)."""
    keys = [(system, value) for system, value in ((FILLER, facts.filler_id),
                                                  (PLACER, facts.placer_id)) if value]
    if not keys:
        return None
    found = session.exec(
        select(AppointmentExternalId.system, Appointment)
        .join(Appointment)
        .where(or_(*(and_(col(AppointmentExternalId.system) == system,
                          col(AppointmentExternalId.value) == value) for system, value in keys)))
    ).all()
    by_system = dict(found)
    return next((by_system[system] for system, _ in keys if system in by_system), None)


def _clinician(session: Session, settings: Settings, facts: BookingFacts) -> User:
    """The staff account of the first AIP resource the identifier table knows."""
    if not facts.clinician_keys:
        raise Refusal("AIP-3", "The message names no clinician (AIP segment).",
                      hl7_read.REQUIRED_MISSING)
    for keys in facts.clinician_keys:
        for key in keys:
            username = settings.hl7_clinicians.get(key)
            if username is None:
                continue
            user = _user(session, username.lower())
            if user is None or user.role != Role.CLINICIAN or not user.is_active:
                raise Refusal("AIP-3", f"Clinician {key!r} maps to {username!r}, which is not "
                              "an active clinician account.", hl7_read.TABLE_VALUE_NOT_FOUND)
            return user
    shown = ", ".join(keys[0] for keys in facts.clinician_keys if keys)[:200]
    raise Refusal("AIP-3", f"No clinician is set up for identifier {shown or '(empty)'}: add it "
                  "to hl7_clinicians.", hl7_read.TABLE_VALUE_NOT_FOUND)


#: Account ids of the usernames hl7_clinicians names, learnt once: a batch's messages then find
#: the account in the session's identity map (no query). The row itself is read in each
#: transaction, so a deactivated account is refused at once; a stale id reads nothing.
_USER_IDS: dict[str, UUID] = {}


def hold_accounts(session: Session, settings: Settings, also: str) -> list[User]:
    """The accounts hl7_clinicians names and `also` (the interface's), in one query: held by
    the caller for a batch, its messages find them in the session (whose identity map holds
    rows weakly) without a query each."""
    names = {username.lower() for username in settings.hl7_clinicians.values()} | {also}
    users = list(session.exec(select(User).where(col(User.username).in_(names))))
    _USER_IDS.update((user.username, user.id) for user in users)
    return users


def _user(session: Session, username: str) -> User | None:
    known = _USER_IDS.get(username)
    user = session.get(User, known) if known is not None else None
    if user is None or user.username != username:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is not None:
            _USER_IDS[username] = user.id
    return user


def _kind(settings: Settings, code: str) -> AppointmentKind:
    if not code:
        return settings.hl7_default_kind
    kind = settings.hl7_appointment_types.get(code)
    if kind is None:
        raise Refusal("SCH-8", f"Appointment type {code[:40]!r} is not in "
                      "hl7_appointment_types.", hl7_read.TABLE_VALUE_NOT_FOUND)
    return kind


def _location(session: Session, names: list[str]) -> UUID | None:
    """The location whose hospital name is AIL-3's point of care or facility, if any."""
    wanted = [name.lower() for name in names if name]
    if not wanted:
        return None
    found = dict(session.exec(
        select(func.lower(col(Location.hospital_name)), Location.id)
        .where(func.lower(col(Location.hospital_name)).in_(wanted))
    ).all())
    return next((found[name] for name in wanted if name in found), None)


def _patient(session: Session, caller: Caller, facts: PatientFacts) -> Patient:
    """The patient with this MRN, registered from PID when new."""
    found = session.exec(select(Patient).where(Patient.mrn == facts.mrn)).first()
    if found is not None:
        return found
    if not facts.name:
        raise Refusal("PID-5", "A new patient needs a name.", hl7_read.REQUIRED_MISSING)
    body = _build(PatientCreate, {
        "name": facts.name, "date_of_birth": facts.date_of_birth, "mrn": facts.mrn,
        "email": facts.email, "phone": facts.phone,
    })
    try:
        return patients.create(session, caller, body, mrn_authority=facts.mrn_authority)
    except ApiError as error:
        raise refusal_of(error) from None


def _existing(session: Session, facts: BookingFacts) -> Appointment:
    row = _find(session, facts)
    if row is None:
        field = "SCH-2" if facts.filler_id else "SCH-1"
        raise Refusal(field, "No appointment has this id here (was its S12 sent?).",
                      hl7_read.UNKNOWN_KEY)
    return row


def _book(session: Session, settings: Settings, caller: Caller, message: hl7.Message,
          facts: BookingFacts) -> str:
    if _find(session, facts) is not None:
        field = "SCH-2" if facts.filler_id else "SCH-1"
        raise Refusal(field, "An appointment with this id exists already.",
                      hl7_read.DUPLICATE_KEY)
    if facts.start is None:
        raise Refusal("SCH-11", "The start time is missing (SCH-11, TQ1-7 or AIS-4).",
                      hl7_read.REQUIRED_MISSING)
    if facts.duration_minutes is None:
        raise Refusal("SCH-9", "The duration is missing (SCH-9, AIS-7 or an end time).",
                      hl7_read.REQUIRED_MISSING)
    # The User stays referenced while booking: the service's own look-up then needs no query.
    clinician = _clinician(session, settings, facts)
    kind = _kind(settings, facts.type_code)
    patient = _patient(session, caller, hl7_read.patient(message, settings.hl7_mrn_authority))
    external = {PLACER: facts.placer_id, FILLER: facts.filler_id}
    body = _build(AppointmentCreate, {
        "patient_id": patient.id,
        "clinician_id": clinician.id,
        "start": facts.start,
        "duration_minutes": facts.duration_minutes,
        "kind": kind,
        "location_id": _location(session, facts.location),
        "notes": facts.reason,
        "external_ids": {system: value for system, value in external.items() if value},
    })
    row = booking.create(session, caller, body)
    return f"booked appointment {row.id}"


def _change(session: Session, settings: Settings, caller: Caller, facts: BookingFacts) -> str:
    row = _existing(session, facts)
    changes: dict[str, Any] = {}
    if facts.start is not None and facts.start != row.start:
        changes["start"] = facts.start
    if facts.duration_minutes is not None and facts.duration_minutes != row.duration_minutes:
        changes["duration_minutes"] = facts.duration_minutes
    if facts.clinician_keys:
        clinician = _clinician(session, settings, facts)
        if clinician.id != row.clinician_id:
            changes["clinician_id"] = clinician.id
    if facts.type_code and _kind(settings, facts.type_code) != row.kind:
        changes["kind"] = _kind(settings, facts.type_code)
    location_id = _location(session, facts.location)
    if location_id is not None and location_id != row.location_id:
        changes["location_id"] = location_id
    if facts.reason and facts.reason != row.notes:
        changes["notes"] = facts.reason
    if not changes:
        return f"appointment {row.id} unchanged"
    body = _build(AppointmentUpdate, {**changes, "base_version": row.version})
    booking.update(session, caller, row, body)
    return f"changed {', '.join(sorted(changes))} of appointment {row.id}"


def _cancel(session: Session, caller: Caller, facts: BookingFacts, deleted: bool) -> str:
    row = _existing(session, facts)
    if row.status == AppointmentStatus.CANCELLED:
        return f"appointment {row.id} was cancelled already"
    default = "Deleted in the hospital system" if deleted else "Cancelled by the hospital system"
    booking.cancel(session, caller, row, facts.event_reason or default, row.version)
    return f"cancelled appointment {row.id}"


def _no_show(session: Session, caller: Caller, facts: BookingFacts) -> str:
    row = _existing(session, facts)
    booking.set_status(session, caller, row, AppointmentStatus.NO_SHOW, row.version)
    return f"appointment {row.id} marked no-show"


def _update_patient(session: Session, caller: Caller, facts: PatientFacts) -> str:
    row = session.exec(select(Patient).where(Patient.mrn == facts.mrn)).first()
    if row is None:
        return "not a patient of this clinic: nothing changed"
    given = {
        "name": facts.name, "date_of_birth": facts.date_of_birth,
        "email": facts.email, "phone": facts.phone,
    }
    fields = {k: v for k, v in given.items() if v not in ("", None) and getattr(row, k) != v}
    if not fields:
        return f"patient {row.id} unchanged"
    _build(PatientCreate, {"name": row.name, **fields})  # the same limits as a new patient
    patients.update(session, caller, row, fields, row.version)
    return f"changed {', '.join(sorted(fields))} of patient {row.id}"


def subject_of(message: hl7.Message, head: Header, settings: Settings) -> str:
    """The log's subject: the appointment key, or the patient's MRN; "" when unreadable."""
    try:
        if head.event in PATIENT_EVENTS:
            return "mrn:" + hl7_read.patient(message, settings.hl7_mrn_authority).mrn
        return _key(hl7_read.booking(message, ZoneInfo(settings.hl7_time_zone)))
    except Refusal:
        return ""


def apply(session: Session, settings: Settings, caller: Caller, message: hl7.Message,
          head: Header) -> Outcome:
    """Apply one message inside the caller's transaction; Refusal when it cannot be."""
    zone: tzinfo = ZoneInfo(settings.hl7_time_zone)
    if head.message_type == "ADT" and head.event in PATIENT_EVENTS:
        facts = hl7_read.patient(message, settings.hl7_mrn_authority)
        lock(session, _APPOINTMENT_LOCK_SPACE, f"mrn:{facts.mrn}")
        try:
            return Outcome(_update_patient(session, caller, facts), f"mrn:{facts.mrn}")
        except ApiError as error:
            raise refusal_of(error) from None
    if head.message_type not in ("SIU", "ADT"):
        raise Refusal("MSH-9", f"Message type {head.message_type[:8]!r} is not accepted here "
                      "(SIU, ADT).", hl7_read.UNSUPPORTED_MESSAGE_TYPE, "AR")
    if head.message_type == "ADT" or head.event not in SCHEDULING_EVENTS:
        raise Refusal("MSH-9", f"Event {head.name[:20]!r} is not accepted here.",
                      hl7_read.UNSUPPORTED_EVENT, "AR")
    facts_b = hl7_read.booking(message, zone)
    key = _key(facts_b)
    lock(session, _APPOINTMENT_LOCK_SPACE, key)
    try:
        if head.event == "S12":
            text = _book(session, settings, caller, message, facts_b)
        elif head.event in ("S13", "S14"):
            text = _change(session, settings, caller, facts_b)
        elif head.event in ("S15", "S17"):
            text = _cancel(session, caller, facts_b, deleted=head.event == "S17")
        else:
            text = _no_show(session, caller, facts_b)
    except ApiError as error:
        raise refusal_of(error) from None
    return Outcome(text, key)
