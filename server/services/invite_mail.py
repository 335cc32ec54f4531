"""The invite email: plain text and HTML from server/templates, with the .ics attached."""

import html
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from string import Template
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.services import invites
from server.services.invite_calendar import calendar
from shared.enums import AppointmentKind

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_BUTTON = (
    '<table role="presentation" cellpadding="0" cellspacing="0" style="margin:8px 0 0 0;">'
    '<tr><td style="border-radius:6px;background:#0b5cad;">'
    '<a href="$url" style="display:inline-block;padding:14px 28px;font-size:17px;'
    'font-weight:600;color:#ffffff;text-decoration:none;border-radius:6px;">'
    "Join your appointment</a></td></tr></table>"
    '<p style="margin:12px 0 0 0;font-size:14px;line-height:1.5;color:#4a5666;">'
    "Use a phone, tablet or computer with a camera and microphone. The link opens a waiting "
    "room in your web browser; nothing needs installing. Please join a few minutes early.</p>"
)


@dataclass(frozen=True, slots=True)
class InviteFacts:
    """Everything an invite says, gathered by the worker in one transaction."""

    appointment_id: UUID
    version: int
    purpose: str
    kind: AppointmentKind
    start: datetime
    duration_minutes: int
    time_zone: str
    recipient_name: str
    recipient_email: str
    clinician: str
    hospital: str
    address: str
    phone: str
    join_url: str | None


def zone_of(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def when_text(start: datetime, duration_minutes: int, zone: tzinfo) -> str:
    """E.g. "Friday 27 November 2026, 09:00 to 09:20 (GMT)" on the clinic's wall clock."""
    local = start.astimezone(zone)
    end = local + timedelta(minutes=duration_minutes)
    return (
        f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M} to {end:%H:%M} ({local:%Z})"
    )


def _what(kind: AppointmentKind) -> str:
    return {
        AppointmentKind.VIDEO: "video appointment",
        AppointmentKind.GROUP: "group video appointment",
        AppointmentKind.PHONE: "appointment",
    }[kind]


def _wording(facts: InviteFacts) -> tuple[str, str, str]:
    """Subject, heading and opening sentence for the invite's purpose."""
    what = _what(facts.kind)
    local = facts.start.astimezone(zone_of(facts.time_zone))
    short = f"{local:%a} {local.day} {local:%b} at {local:%H:%M}"
    if facts.purpose == invites.CANCELLED:
        return (
            f"Cancelled: your {what} on {short}",
            f"Your {what} has been cancelled",
            f"Your {what} with {facts.clinician} has been cancelled. You do not need to join.",
        )
    if facts.purpose == invites.RESCHEDULED:
        return (
            f"Changed: your {what} is now on {short}",
            f"Your {what} has changed",
            f"The details of your {what} have changed. Here are the new details.",
        )
    return (
        f"Your {what} with {facts.clinician} on {short}",
        f"Your {what}",
        f"You have a {what} with {facts.clinician} at {facts.hospital}.",
    )


def _template(name: str) -> Template:
    return Template((_TEMPLATES / name).read_text(encoding="utf-8"))


def build(facts: InviteFacts, sender: str, now: datetime) -> EmailMessage:
    """The complete message: multipart/alternative text and HTML, plus invite.ics."""
    zone = zone_of(facts.time_zone)
    subject, heading, intro = _wording(facts)
    when = when_text(facts.start, facts.duration_minutes, zone)
    cancelled = facts.purpose == invites.CANCELLED
    phone = f" on {facts.phone}" if facts.phone else ""
    if cancelled:
        action = "If you would like a new appointment, please contact the clinic."
        action_html = f'<p style="margin:0;font-size:16px;">{html.escape(action)}</p>'
    else:
        assert facts.join_url is not None
        action = f"Join your appointment:\n{facts.join_url}"
        action_html = Template(_BUTTON).substitute(url=html.escape(facts.join_url, quote=True))
    text_values = {
        "heading": heading,
        "name": facts.recipient_name,
        "intro": intro,
        "when": when,
        "clinician": facts.clinician,
        "hospital": facts.hospital,
        "address": facts.address,
        "action": action,
        "phone_sentence": phone,
    }
    html_values = {key: html.escape(value) for key, value in text_values.items()}
    html_values["action_html"] = action_html
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = formataddr((facts.recipient_name, facts.recipient_email))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain="clinic-desk.invalid")
    message.set_content(_template("invite.txt").substitute(text_values))
    message.add_alternative(_template("invite.html").substitute(html_values), subtype="html")
    description = f"{intro}\n\n{action}" if not cancelled else intro
    ics = calendar(
        appointment_id=facts.appointment_id,
        version=facts.version,
        start=facts.start,
        duration_minutes=facts.duration_minutes,
        zone=zone,
        summary=f"{_what(facts.kind).capitalize()} with {facts.clinician}",
        location=", ".join(part for part in (facts.hospital, facts.address) if part),
        description=description,
        join_url=facts.join_url,
        organizer=sender,
        attendee_name=facts.recipient_name,
        attendee_email=facts.recipient_email,
        cancelled=cancelled,
        now=now,
    )
    message.add_attachment(
        ics,
        maintype="text",
        subtype="calendar",
        filename="invite.ics",
        params={"method": "CANCEL" if cancelled else "REQUEST"},
    )
    return message
