"""The outbound HL7 worker: sends the queued SIU messages to the hospital's MLLP host, in order.

Runs on the server's event loop (like the invite sender); database work runs in worker threads.
The queue is one FIFO: the oldest queued message goes first, and a message that cannot be
delivered (host down, no ACK in time, a garbled ACK) holds the ones after it until its retry
(each retry waits twice as long, at most MAX_RETRY_SECONDS), so the hospital sees an
appointment's changes in order. An AA ends a message's life (sent); an AE or AR is logged and
kept for an admin (GET /hl7/outbound?state=refused) and never sent again by itself, and the
queue goes on. Several server processes may run the worker: the head of the queue is leased
in a transaction (FOR UPDATE on PostgreSQL) before it is sent.
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from hl7.mllp import InvalidBlockError, open_hl7_connection
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from server.integration import hl7_read
from server.models.hl7_outbound import QUEUED, REFUSED, SENT, Hl7Outbound
from server.services.wakeable import Wakeable
from server.settings import Settings
from shared.clock import Clock

log = logging.getLogger("clinicdesk.server.hl7")

#: How often the worker looks at the queue when nothing woke it (other processes' commits).
POLL_SECONDS = 1.0
#: The longest pause between two attempts of one message.
MAX_RETRY_SECONDS = 600.0
#: ACK codes that end a message as delivered (original and enhanced mode).
_ACCEPTED = frozenset({"AA", "CA"})
#: ACK codes that refuse it: kept for an admin, not retried.
_REFUSED = frozenset({"AE", "AR", "CE", "CR"})


@dataclass(frozen=True, slots=True)
class Job:
    row_id: int
    control_id: str
    message: str


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt got: the ACK's code and text, or (code "") why there was none."""

    code: str
    ack: str = ""
    error: str = ""


def retry_delay(settings: Settings, attempts: int) -> float:
    delay = settings.hl7_outbound_retry_seconds * 2.0 ** max(0, attempts - 1)
    return min(delay, MAX_RETRY_SECONDS)


class OutboundSender(Wakeable):
    """Owns the worker task of one server process; wake() may be called from any thread."""

    def __init__(self, engine: Engine, settings: Settings, clock: Clock) -> None:
        self._engine = engine
        self.settings = settings
        self._clock = clock
        super().__init__()

    async def run(self, stop: asyncio.Event) -> None:
        """Send queued messages until `stop`."""
        self._attach()
        while not stop.is_set():
            pause = POLL_SECONDS
            try:
                while not stop.is_set():
                    job = await asyncio.to_thread(self._claim)
                    if not isinstance(job, Job):
                        pause = min(POLL_SECONDS, job) if job is not None else POLL_SECONDS
                        break
                    answer = await self._deliver(job)
                    await asyncio.to_thread(self._finish, job, answer)
            except Exception:  # the worker must outlive a bad message or a database hiccup
                log.exception("the outbound HL7 worker failed; it carries on")
            await self._pause(stop, max(pause, 0.01))

    def _claim(self) -> Job | float | None:
        """Lease the head of the queue: its job, the seconds until it is due, or None (empty,
        or another process holds it)."""
        now = self._clock.now()
        with Session(self._engine, expire_on_commit=False) as session:
            query = (select(Hl7Outbound).where(Hl7Outbound.state == QUEUED)
                     .order_by(col(Hl7Outbound.id)).limit(1))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update()
            row = session.exec(query).first()
            if row is None or (row.lease_until is not None and row.lease_until > now):
                session.rollback()
                return None
            if row.next_attempt_at is not None and row.next_attempt_at > now:
                session.rollback()
                return (row.next_attempt_at - now).total_seconds()
            row.attempts += 1
            lease = 2 * self.settings.hl7_outbound_timeout_seconds + 60
            row.lease_until = now + timedelta(seconds=lease)
            session.add(row)
            session.commit()
            assert row.id is not None
            return Job(row.id, row.control_id, row.message)

    async def _deliver(self, job: Job) -> Answer:
        """Send `job` over a fresh MLLP connection and read its ACK."""
        s = self.settings
        host, port = s.hl7_outbound_host, s.hl7_outbound_port
        timeout = s.hl7_outbound_timeout_seconds
        if port is None:
            return Answer("", error="outbound HL7 is off (no hl7_outbound_port)")
        try:
            reader, writer = await asyncio.wait_for(open_hl7_connection(host, port), timeout)
        except (OSError, TimeoutError) as error:
            return Answer("", error=f"could not reach {host}:{port} ({type(error).__name__})")
        try:
            writer.writeblock(job.message.encode())
            await asyncio.wait_for(writer.drain(), timeout)
            block = await asyncio.wait_for(reader.readblock(), timeout)
        except TimeoutError:
            return Answer("", error=f"{host}:{port} sent no ACK in {timeout:g} s")
        except (OSError, asyncio.IncompleteReadError, InvalidBlockError, ValueError) as error:
            return Answer("", error=f"the connection to {host}:{port} failed "
                                    f"({type(error).__name__})")
        finally:
            writer.close()
        return _answer_of(hl7_read.decode(bytes(block)), job.control_id)

    def _finish(self, job: Job, answer: Answer) -> None:
        """Record an attempt's outcome (a worker thread)."""
        now = self._clock.now()
        with Session(self._engine) as session:
            row = session.get(Hl7Outbound, job.row_id)
            if row is None:
                return  # the appointment was deleted meanwhile
            row.lease_until = None
            row.ack = answer.ack or row.ack
            if answer.code in _ACCEPTED:
                row.state, row.acked_at, row.next_attempt_at = SENT, now, None
                row.last_error = ""
            elif answer.code in _REFUSED:
                row.state, row.acked_at, row.next_attempt_at = REFUSED, now, None
                row.last_error = answer.error[:500]
                log.warning("the hospital refused HL7 %s (%s %s): %s", row.control_id,
                            row.event, answer.code, answer.error)
            else:
                delay = retry_delay(self.settings, row.attempts)
                row.next_attempt_at = now + timedelta(seconds=delay)
                row.last_error = answer.error[:500]
                log.warning("HL7 %s not delivered (attempt %d, again in %g s): %s",
                            row.control_id, row.attempts, delay, answer.error)
            session.add(row)
            session.commit()


def _answer_of(text: str, control_id: str) -> Answer:
    """The ACK's MSA-1 and its reason; a reply that is no ACK of this message is retried."""
    try:
        ack = hl7_read.parse(text)
    except hl7_read.Refusal:
        return Answer("", text, "the reply was not an HL7 message")
    code = hl7_read.value(ack, "MSA.F1").upper()
    if hl7_read.value(ack, "MSA.F2") != control_id:
        return Answer("", text, "the reply acknowledged another message (MSA-2)")
    if code in _ACCEPTED:
        return Answer(code, text)
    if code in _REFUSED:
        reason = (hl7_read.value(ack, "ERR.F8") or hl7_read.value(ack, "MSA.F3")
                  or "no reason given")
        return Answer(code, text, f"{code}: {reason}")
    return Answer("", text, f"the reply's MSA-1 {code[:8]!r} is no acknowledgement code")
