"""The .ics attached to an invite: one event per appointment (same UID), updated or cancelled.

SEQUENCE is the appointment's version minus one, so it starts at 0 when booked and grows with
every change the patient hears of; a cancellation sends METHOD:CANCEL with STATUS:CANCELLED.
"""

from datetime import datetime, timedelta, tzinfo
from email.utils import parseaddr
from uuid import UUID

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Clinic Desk//Patient invites//EN"


def event_uid(appointment_id: UUID) -> str:
    return f"{appointment_id}@clinic-desk"


def calendar(
    *,
    appointment_id: UUID,
    version: int,
    start: datetime,
    duration_minutes: int,
    zone: tzinfo,
    summary: str,
    location: str,
    description: str,
    join_url: str | None,
    organizer: str,
    attendee_name: str,
    attendee_email: str,
    cancelled: bool,
    now: datetime,
) -> bytes:
    """The iCalendar text (RFC 5545/5546) of the appointment for one attendee."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", event_uid(appointment_id))
    event.add("sequence", max(0, version - 1))
    event.add("dtstamp", now)
    local_start = start.astimezone(zone)
    event.add("dtstart", local_start)
    event.add("dtend", local_start + timedelta(minutes=duration_minutes))
    event.add("summary", summary)
    event.add("location", location)
    event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if join_url:
        event.add("url", join_url)
    name, address = parseaddr(organizer)
    chair = vCalAddress(f"mailto:{address}")
    if name:
        chair.params["cn"] = vText(name)
    event.add("organizer", chair)
    attendee = vCalAddress(f"mailto:{attendee_email}")
    attendee.params["cn"] = vText(attendee_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["rsvp"] = vText("FALSE")
    event.add("attendee", attendee)
    cal.add_component(event)
    cal.add_missing_timezones()
    ics: bytes = cal.to_ical()
    return ics
