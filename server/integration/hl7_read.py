"""Reading HL7 v2 scheduling and patient messages (python-hl7) into plain records.

Tolerates what vendors send: CR, LF or CRLF between segments, any delimiters MSH declares,
escape sequences (python-hl7 unescapes), repeating fields, Z-segments (never read). Every
problem is a Refusal naming the HL7 field, so the ACK's ERR segment can point at it.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import hl7
import hl7.containers
import hl7.util

# python-hl7 logs the raw field (patient details) when an escape sequence is malformed; the
# ACK and the admin's message log say what was wrong, so its loggers stay quiet.
for _module in (hl7.util, hl7.containers):
    logging.getLogger(_module.__file__).disabled = True

#: The external-id systems of an appointment's SCH-1 (placer) and SCH-2 (filler) ids.
PLACER, FILLER = "hl7-placer", "hl7-filler"

#: HL7 table 0357 (message error condition codes) used in ERR segments.
REQUIRED_MISSING = "101"
DATA_TYPE_ERROR = "102"
TABLE_VALUE_NOT_FOUND = "103"
UNSUPPORTED_MESSAGE_TYPE = "200"
UNSUPPORTED_EVENT = "201"
UNSUPPORTED_VERSION = "203"
UNKNOWN_KEY = "204"
DUPLICATE_KEY = "205"
INTERNAL_ERROR = "207"
SEGMENT_SEQUENCE_ERROR = "100"

ERROR_NAMES = {
    SEGMENT_SEQUENCE_ERROR: "Segment sequence error",
    REQUIRED_MISSING: "Required field missing",
    DATA_TYPE_ERROR: "Data type error",
    TABLE_VALUE_NOT_FOUND: "Table value not found",
    UNSUPPORTED_MESSAGE_TYPE: "Unsupported message type",
    UNSUPPORTED_EVENT: "Unsupported event code",
    UNSUPPORTED_VERSION: "Unsupported version id",
    UNKNOWN_KEY: "Unknown key identifier",
    DUPLICATE_KEY: "Duplicate key identifier",
    INTERNAL_ERROR: "Application internal error",
}

#: The versions vendors send that this reader was written for.
VERSIONS = frozenset({"2.3", "2.3.1", "2.4", "2.5", "2.5.1"})
#: SCH-10 / AIS-8 duration units (first component, upper case) to minutes.
_UNIT_MINUTES = {"MIN": 1, "M": 1, "MINUTES": 1, "H": 60, "HR": 60, "HOUR": 60, "HOURS": 60}


class Refusal(Exception):
    """A message this server will not apply: AE (its content) or AR (not understood)."""

    def __init__(self, field: str, message: str, code: str, ack_code: str = "AE") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code
        self.ack_code = ack_code


@dataclass(frozen=True, slots=True)
class Header:
    sender: str
    control_id: str
    message_type: str
    event: str
    version: str

    @property
    def name(self) -> str:
        return f"{self.message_type}^{self.event}"


@dataclass(frozen=True, slots=True)
class PatientFacts:
    mrn: str
    #: PID-3.4: who assigned the MRN ("" when the message does not say).
    mrn_authority: str
    name: str
    date_of_birth: date | None
    phone: str
    email: str


@dataclass(frozen=True, slots=True)
class BookingFacts:
    placer_id: str
    filler_id: str
    start: datetime | None
    duration_minutes: int | None
    #: Identifier keys of the AIP resources, in order: "AUTHORITY:ID" and "ID" each.
    clinician_keys: list[list[str]]
    location: list[str]
    type_code: str
    reason: str
    event_reason: str


def decode(raw: bytes) -> str:
    """Text of a message: UTF-8 when it is, else Latin-1 (which every byte string is)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def parse(text: str) -> hl7.Message:
    """The message, whatever line ends separate its segments; AR when there is no MSH."""
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r\x00 \t")
    if not text.startswith("MSH"):
        raise Refusal("MSH", "The message does not start with an MSH segment.",
                      SEGMENT_SEQUENCE_ERROR, "AR")
    delimiters = text[3:8]  # MSH-1, then MSH-2: component, repetition, escape, subcomponent
    if (len(text) < 9 or text[8] != text[3] or len(set(delimiters)) != 5
            or any(c.isalnum() or c.isspace() for c in delimiters)):
        raise Refusal("MSH-2", "MSH-1 and MSH-2 must be five different delimiter characters "
                      "(e.g. |^~\\&).", DATA_TYPE_ERROR, "AR")
    try:
        return hl7.parse(text)
    except Exception as error:  # python-hl7 raises several kinds for broken text
        raise Refusal("MSH", f"The message cannot be parsed ({type(error).__name__}).",
                      SEGMENT_SEQUENCE_ERROR, "AR") from None


def value(message: hl7.Message, key: str) -> str:
    """The unescaped value at `key` (e.g. "PID.F3.R1.C4"); "" when absent."""
    try:
        found = message[key]
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return ""
    return str(found).strip() if found is not None else ""


def header(message: hl7.Message) -> Header:
    control_id = value(message, "MSH.F10")
    if not control_id:
        raise Refusal("MSH-10", "The message control id is missing.", REQUIRED_MISSING, "AR")
    if len(control_id) > 200:
        raise Refusal("MSH-10", "The message control id is too long.", DATA_TYPE_ERROR, "AR")
    version = value(message, "MSH.F12.R1.C1")
    if version not in VERSIONS:
        raise Refusal(
            "MSH-12", f"HL7 version {version[:20]!r} is not supported (2.3 to 2.5.1).",
            UNSUPPORTED_VERSION, "AR",
        )
    sender = f"{value(message, 'MSH.F3.R1.C1')}^{value(message, 'MSH.F4.R1.C1')}"[:200]
    return Header(
        sender=sender,
        control_id=control_id,
        message_type=value(message, "MSH.F9.R1.C1").upper()[:8],
        event=value(message, "MSH.F9.R1.C2").upper()[:8],
        version=version,
    )


def _segments(message: hl7.Message, name: str) -> list[Any]:
    try:
        return list(message.segments(name))
    except KeyError:
        return []


def when(text: str, field: str, zone: tzinfo) -> datetime | None:
    """An HL7 DTM (with or without its offset, which `zone` then supplies); None when empty."""
    if not text:
        return None
    try:
        found = hl7.parse_datetime(text)
    except (ValueError, OverflowError):
        raise Refusal(field, f"{text[:40]!r} is not an HL7 date and time.",
                      DATA_TYPE_ERROR) from None
    assert isinstance(found, datetime)
    if found.tzinfo is None:
        return found.replace(tzinfo=zone)
    try:
        found.utcoffset()
    except ValueError:
        raise Refusal(field, f"{text[:40]!r} has an impossible UTC offset.",
                      DATA_TYPE_ERROR) from None
    return found


def _minutes(amount: str, unit: str, field: str) -> int | None:
    if not amount:
        return None
    factor = _UNIT_MINUTES.get(unit.upper() or "MIN")
    try:
        number = float(amount)
    except ValueError:
        number = -1.0
    if factor is None or not 0 < number < 100_000:
        raise Refusal(field, f"{amount[:20]!r} {unit[:20]} is not a duration.", DATA_TYPE_ERROR)
    return round(number * factor)


def patient(message: hl7.Message, mrn_authority: str) -> PatientFacts:
    """PID: the MRN (PID-3), name, birth date, phone and email."""
    if not _segments(message, "PID"):
        raise Refusal("PID", "The message has no PID segment.", SEGMENT_SEQUENCE_ERROR)
    identifiers = []
    for number in range(1, 21):
        ident = value(message, f"PID.F3.R{number}.C1")
        if not ident:
            break
        identifiers.append(
            (ident, value(message, f"PID.F3.R{number}.C4"),
             value(message, f"PID.F3.R{number}.C5").upper())
        )
    if mrn_authority:
        identifiers = [i for i in identifiers if i[1] == mrn_authority]
    identifiers.sort(key=lambda i: i[2] != "MR")
    if not identifiers:
        raise Refusal("PID-3", "The patient identifier (MRN) is missing.", REQUIRED_MISSING)
    mrn, authority = identifiers[0][0], identifiers[0][1][:64]
    if len(mrn) > 64:
        raise Refusal("PID-3", "The patient identifier is longer than 64 characters.",
                      DATA_TYPE_ERROR)
    family = value(message, "PID.F5.R1.C1.S1")
    given = value(message, "PID.F5.R1.C2")
    name = " ".join(part for part in (given, family) if part)
    birth = value(message, "PID.F7.R1.C1")
    born = when(birth, "PID-7", UTC)
    phone = email = ""
    for number in range(1, 11):
        use, kind = value(message, f"PID.F13.R{number}.C2"), value(message, f"PID.F13.R{number}.C3")
        address = value(message, f"PID.F13.R{number}.C4")
        if not (use or kind or address or value(message, f"PID.F13.R{number}.C1")):
            break
        if address and (use.upper() == "NET" or kind.upper() in ("INTERNET", "X.400")):
            email = email or address
            continue
        number_text = (
            value(message, f"PID.F13.R{number}.C12")
            or value(message, f"PID.F13.R{number}.C1")
            or (value(message, f"PID.F13.R{number}.C6") + value(message, f"PID.F13.R{number}.C7"))
        )
        phone = phone or number_text
    return PatientFacts(
        mrn=mrn,
        mrn_authority=authority,
        name=name[:200],
        date_of_birth=born.date() if born is not None else None,
        phone=phone[:64],
        email=email[:254],
    )


def booking(message: hl7.Message, zone: tzinfo) -> BookingFacts:
    """SCH, TQ1, AIS, AIP and AIL: the appointment's ids, time, length, clinician, place, type."""
    if not _segments(message, "SCH"):
        raise Refusal("SCH", "The message has no SCH segment.", SEGMENT_SEQUENCE_ERROR)
    placer, filler = value(message, "SCH.F1.R1.C1"), value(message, "SCH.F2.R1.C1")
    if not (placer or filler):
        raise Refusal("SCH-1", "The appointment has neither a placer (SCH-1) nor a filler "
                      "(SCH-2) id.", REQUIRED_MISSING)
    if len(placer) > 200 or len(filler) > 200:
        raise Refusal("SCH-1", "An appointment id is longer than 200 characters.",
                      DATA_TYPE_ERROR)
    start = (
        when(value(message, "SCH.F11.R1.C4"), "SCH-11", zone)
        or when(value(message, "TQ1.F7.R1.C1"), "TQ1-7", zone)
        or when(value(message, "AIS.F4.R1.C1"), "AIS-4", zone)
    )
    duration = _minutes(value(message, "SCH.F9"), value(message, "SCH.F10.R1.C1"), "SCH-9")
    if duration is None:
        duration = _minutes(value(message, "AIS.F7"), value(message, "AIS.F8.R1.C1"), "AIS-7")
    if duration is None and start is not None:
        end = when(value(message, "SCH.F11.R1.C5"), "SCH-11", zone) or when(
            value(message, "TQ1.F8.R1.C1"), "TQ1-8", zone
        )
        if end is not None:
            duration = int((end - start) / timedelta(minutes=1))
    clinicians = []
    for segment_number in range(1, len(_segments(message, "AIP")) + 1):
        ident = _in_segment(message, "AIP", segment_number, 3, 1)
        authority = _in_segment(message, "AIP", segment_number, 3, 9)
        keys = [f"{authority}:{ident}", ident] if authority else [ident]
        clinicians.append([key for key in keys if key])
    location = [value(message, "AIL.F3.R1.C1"), value(message, "AIL.F3.R1.C4")]
    reason = value(message, "SCH.F7.R1.C2") or value(message, "SCH.F7.R1.C1")
    event_reason = value(message, "SCH.F6.R1.C2") or value(message, "SCH.F6.R1.C1")
    return BookingFacts(
        placer_id=placer,
        filler_id=filler,
        start=start,
        duration_minutes=duration,
        clinician_keys=clinicians,
        location=[name for name in location if name],
        type_code=value(message, "SCH.F8.R1.C1").upper(),
        reason=reason[:1000],
        event_reason=event_reason[:500],
    )


def _in_segment(message: hl7.Message, name: str, number: int, field: int, component: int) -> str:
    try:
        found = message.segments(name)(number).extract_field(number, field, 1, component, 1)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return ""
    return str(found).strip() if found else ""
