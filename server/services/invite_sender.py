"""The invite worker: takes due invites from the outbox, sends them over SMTP, retries failures.

It runs on the server's event loop; SMTP is asynchronous (aiosmtplib) and database work runs in
worker threads, so no request ever waits for the mail server. Several server processes may run
it at once: an invite is leased in a transaction (FOR UPDATE SKIP LOCKED on PostgreSQL) before
it is sent. The token of the link an invite carries is minted when the message is built, and
replaced on a retry, so no token is ever stored in plain.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from uuid import UUID

import aiosmtplib
from sqlalchemy import Engine
from sqlmodel import Session, col, or_, select

from server.models.appointment import Appointment
from server.models.invite import Invite, PatientLink
from server.models.location import Location
from server.models.user import User
from server.realtime.hub import Hub
from server.services import invites, mail_pickup, patient_links
from server.services.invite_mail import InviteFacts, build
from server.services.wakeable import Wakeable
from server.session_effects import ServerSession
from server.settings import Settings
from shared.clock import Clock
from shared.enums import AppointmentKind

log = logging.getLogger("clinicdesk.server.invites")

#: How often the worker looks for due invites when nothing woke it (retries, other processes).
POLL_SECONDS = 1.0
#: The longest pause between two attempts of one invite.
MAX_RETRY_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class Job:
    invite_id: UUID
    appointment_id: UUID
    message: EmailMessage


def join_url(settings: Settings, token: str) -> str:
    """The patient's link: the token rides in the fragment, which browsers never send."""
    return f"{settings.public_url.rstrip('/')}/join#{token}"


def retry_delay(settings: Settings, attempts: int) -> float:
    delay = settings.invite_retry_seconds * 2.0 ** max(0, attempts - 1)
    return min(delay, MAX_RETRY_SECONDS)


class InviteSender(Wakeable):
    """Owns the worker task of one server process; wake() may be called from any thread."""

    def __init__(self, engine: Engine, hub: Hub, settings: Settings, clock: Clock) -> None:
        self._engine = engine
        self._hub = hub
        self._settings = settings
        self._clock = clock
        super().__init__()

    async def run(self, stop: asyncio.Event) -> None:
        """Send due invites until `stop`."""
        self._attach()
        while not stop.is_set():
            try:
                while not stop.is_set():
                    job = await asyncio.to_thread(self._claim)
                    if job is None:
                        break
                    error = await self._deliver(job)
                    await asyncio.to_thread(self._finish, job.invite_id, error)
            except Exception:  # the worker must outlive a bad invite or a database hiccup
                log.exception("the invite worker failed; it carries on")
            await self._pause(stop, POLL_SECONDS)

    async def _deliver(self, job: Job) -> str | None:
        """None when the message was handed over; otherwise why it was not."""
        folder = self._settings.mail_pickup_dir
        if not folder:
            return await self._send(job.message)
        try:
            await asyncio.to_thread(
                mail_pickup.deliver, Path(folder), job.appointment_id, job.invite_id, job.message
            )
        except OSError as error:
            return f"cannot write to the mail folder ({error.strerror or type(error).__name__})"
        return None

    async def _send(self, message: EmailMessage) -> str | None:
        """None when the SMTP server accepted the message; otherwise why it did not."""
        s = self._settings
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=s.smtp_password.get_secret_value() or None,
                use_tls=s.smtp_security == "tls",
                start_tls=s.smtp_security == "starttls",
                timeout=s.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused:
            return "the mail server refused the address"
        except aiosmtplib.SMTPAuthenticationError:
            return "the mail server refused the server's credentials"
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, OSError):
            return "could not reach the mail server"
        except aiosmtplib.SMTPTimeoutError:
            return "the mail server did not answer in time"
        except aiosmtplib.SMTPException as error:
            return f"the mail server refused the message ({type(error).__name__})"
        return None

    def _session(self) -> Session:
        return ServerSession(self._engine, expire_on_commit=False, hub=self._hub)

    def _claim(self) -> Job | None:
        """Lease the next due invite and build its message (a worker thread)."""
        now = self._clock.now()
        with self._session() as session:
            query = (
                select(Invite)
                .where(col(Invite.next_attempt_at) <= now)
                .where(or_(col(Invite.lease_until).is_(None), col(Invite.lease_until) < now))
                .order_by(col(Invite.next_attempt_at))
                .limit(1)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            invite = session.exec(query).first()
            if invite is None:
                session.rollback()
                return None
            invite.attempts += 1
            lease = 2 * self._settings.smtp_timeout_seconds + 60
            invite.lease_until = now + timedelta(seconds=lease)
            try:
                message = self._message(session, invite, now)
            except Exception:
                log.exception("cannot build invite %s", invite.id)
                invite.status, invite.next_attempt_at = invites.FAILED, None
                invite.last_error, invite.lease_until = "the invite could not be built", None
                session.add(invite)
                invites.refresh_status(session, invite.appointment_id, invite.batch, now)
                session.commit()
                return None
            session.add(invite)
            session.commit()
            return Job(invite.id, invite.appointment_id, message)

    def _message(self, session: Session, invite: Invite, now: datetime) -> EmailMessage:
        appointment = session.get(Appointment, invite.appointment_id)
        assert appointment is not None
        clinician = session.get(User, appointment.clinician_id)
        location = (
            session.get(Location, appointment.location_id) if appointment.location_id else None
        )
        url: str | None = None
        if invite.purpose != invites.CANCELLED:
            link = session.get(PatientLink, invite.link_id) if invite.link_id else None
            if link is None:
                link, token = patient_links.mint(
                    session, appointment.id, invite.recipient, "email", now
                )
                invite.link_id = link.id
            else:
                token = patient_links.rotate(session, link)
            url = join_url(self._settings, token)
        facts = InviteFacts(
            appointment_id=appointment.id,
            version=appointment.version,
            purpose=invite.purpose,
            kind=AppointmentKind(appointment.kind),
            start=appointment.start,
            duration_minutes=appointment.duration_minutes,
            time_zone=location.time_zone if location else "UTC",
            recipient_name=invite.name,
            recipient_email=invite.email,
            clinician=clinician.full_name if clinician else "your clinician",
            hospital=location.hospital_name if location else self._settings.clinic_name,
            address=location.address if location else "",
            phone=self._settings.clinic_phone,
            join_url=url,
        )
        return build(facts, self._settings.smtp_from, now)

    def _finish(self, invite_id: UUID, error: str | None) -> None:
        """Record an attempt's outcome and show it on the appointment (a worker thread)."""
        now = self._clock.now()
        with self._session() as session:
            invite = session.get(Invite, invite_id)
            if invite is None:
                return
            invite.lease_until = None
            superseded = invite.status == invites.SUPERSEDED
            if error is None:
                invite.sent_at, invite.last_error = now, ""
                if not superseded:
                    invite.status, invite.next_attempt_at = invites.SENT, None
            elif not superseded:
                log.warning("invite %s failed (attempt %d): %s", invite.id, invite.attempts, error)
                invite.status, invite.last_error = invites.FAILED, error
                if invite.attempts >= self._settings.invite_max_attempts:
                    invite.next_attempt_at = None
                else:
                    delay = retry_delay(self._settings, invite.attempts)
                    invite.next_attempt_at = now + timedelta(seconds=delay)
            session.add(invite)
            if not superseded:
                invites.refresh_status(session, invite.appointment_id, invite.batch, now)
            session.commit()
