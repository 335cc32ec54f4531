"""HL7 v2 acknowledgements: MSA AA/AE/AR, and an ERR segment naming the field at fault."""

from datetime import UTC, datetime

import hl7

from server.integration.hl7_read import ERROR_NAMES, Refusal

#: MSH-3 of the ACKs when the message named no receiving application.
APPLICATION = "CLINICDESK"
#: A message with the default delimiters (|^~\\&), to escape text of unreadable messages.
_DEFAULT = hl7.Message("\r")


def _escape(container: hl7.Message, text: str) -> str:
    return str(container.escape(text))


def _field_position(field: str) -> tuple[str, str]:
    """("SCH", "11") of "SCH-11"; ("MSH", "") of a segment name."""
    segment, _, number = field.partition("-")
    return segment[:3], number


def _err(message: hl7.Message | None, refusal: Refusal) -> str:
    """ERR for 2.3 readers (ERR-1) and 2.5 readers (ERR-2 location, ERR-3 code, ERR-8 text)."""
    container = message if message is not None else _DEFAULT
    separators = str(container.separators)
    field_sep, comp, sub = separators[1], separators[3], separators[4]
    segment, number = _field_position(refusal.field)
    name = ERROR_NAMES.get(refusal.code, "")
    code_23 = sub.join((refusal.code, name, "HL70357"))
    location = comp.join((segment, "1", number))
    return field_sep.join(
        (
            "ERR",
            comp.join((segment, "1", number, code_23)),
            location,
            comp.join((refusal.code, name, "HL70357")),
            "E",
            "",
            "",
            "",
            _escape(container, refusal.message[:500]),
        )
    )


def acknowledge(message: hl7.Message, code: str, text: str = "",
                refusal: Refusal | None = None) -> str:
    """The ACK of `message`: MSA-1 `code`, MSA-3 `text`, and ERR when refused."""
    try:
        ack = message.create_ack(code, message_id=hl7.generate_message_control_id())
    except (TypeError, IndexError, KeyError, ValueError, AttributeError):
        # python-hl7 cannot answer an MSH it parsed into an odd shape: answer plainly.
        plain = refusal or Refusal("MSH", text or "Accepted.", "207", code)
        return reject_unreadable(str(message), plain, code)
    if not str(ack.segment("MSH")(3)):
        ack.segment("MSH").assign_field(APPLICATION, 3)
    if text:
        ack.segment("MSA").assign_field(_escape(message, text[:200]), 3)
    lines = [str(segment) for segment in ack]
    if refusal is not None:
        lines.append(_err(message, refusal))
    return "\r".join(lines)


def reject_unreadable(text: str, refusal: Refusal, code: str | None = None) -> str:
    """An AR for bytes that did not parse: MSA-2 is MSH-10 when it can be found at all."""
    control_id = ""
    if text.startswith("MSH") and len(text) > 4:
        fields = text.split("\r", 1)[0].split("\n", 1)[0].split(text[3])
        control_id = fields[9][:200] if len(fields) > 9 else ""
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    safe_id = "".join(c for c in control_id if c.isprintable() and c not in "|^~\\&")
    msh = f"MSH|^~\\&|{APPLICATION}||||{now}||ACK|{hl7.generate_message_control_id()}|P|2.5.1"
    msa = f"MSA|{code or refusal.ack_code}|{safe_id}|{_escape(_DEFAULT, refusal.message[:200])}"
    if code == "AA":
        return "\r".join((msh, msa))
    return "\r".join((msh, msa, _err(None, refusal)))
