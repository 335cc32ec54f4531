"""The MLLP listener (python-hl7's asyncio server): a connection's messages in arrival order.

Messages are handled in a worker thread and their ACKs written only after they committed, so a
sender that got no ACK may resend and lose nothing (duplicates are answered, not re-applied).
A sender that waits for each ACK gets one commit per message; the messages a sender has already
sent while earlier ones were being applied (a pipelining sender) are committed together, up to
BATCH at a time, and all their ACKs follow that one commit (group commit: one fsync, not one
each). A connection idle longer than mllp_idle_seconds, or one whose message does not end by
then, is closed. Frames that are too large or not framed are answered AR and the connection
goes on.
"""

import asyncio
import logging
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from hl7.mllp import InvalidBlockError, start_hl7_server

from server.integration import hl7_read
from server.integration.hl7_ack import reject_unreadable
from server.integration.hl7_inbox import Inbox
from server.integration.hl7_read import Refusal
from shared.clock import Clock

log = logging.getLogger("clinicdesk.server.hl7")


#: At most this many waiting messages of one connection are committed together: a batch holds
#: the database's write lock (SQLite) and the change log's lock (PostgreSQL) until it commits,
#: so other writers, such as a clerk booking, wait for at most this many messages.
BATCH = 16

TOO_LARGE = "The message is larger than this server accepts."
UNFRAMED = "Bytes outside an MLLP frame (<VT> ... <FS><CR>) were dropped."


def _nack(message: str) -> bytes:
    return reject_unreadable("", Refusal("MSH", message, hl7_read.SEGMENT_SEQUENCE_ERROR,
                                         "AR")).encode()


def _framable(ack: bytes) -> bytes:
    """The ACK without MLLP's framing bytes: a field it echoes (the sender's MSH) may carry a
    <VT> or <FS>, which would end the ACK's own frame early and leave the sender unanswered."""
    return ack.replace(b"\x0b", b"").replace(b"\x1c", b"")


@dataclass(frozen=True, slots=True)
class _Received:
    """A message to apply, or (answered) the AR already decided for a frame that was no message."""

    data: bytes
    answered: bool = False


class MllpListener:
    """Accepts MLLP connections on `host`:`port` (0: any free port) until closed."""

    def __init__(self, inbox: Inbox, clock: Clock, host: str, port: int) -> None:
        self._inbox = inbox
        self._clock = clock
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        settings = self._inbox.settings
        self._server = await start_hl7_server(
            self._serve, self._host, self._port, limit=settings.mllp_max_message_bytes
        )
        log.info("MLLP listener on %s:%d", self._host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: Any, writer: Any) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if peer else ""
        received: asyncio.Queue[_Received | None] = asyncio.Queue(BATCH)
        working = asyncio.Event()
        reading = asyncio.create_task(self._read(reader, received, working))
        try:
            ended = False
            while not ended:
                first = await received.get()
                if first is None:
                    break
                batch = [first]
                while len(batch) < BATCH and not received.empty():
                    item = received.get_nowait()
                    if item is None:
                        ended = True
                        break
                    batch.append(item)
                working.set()
                try:
                    acks = await self._answer(batch, address)
                finally:
                    working.clear()
                for ack in acks:
                    writer.writeblock(_framable(ack))
                await writer.drain()
        except ConnectionError:
            pass
        except Exception:
            # Never let one connection's surprise stop the listener; the sender resends.
            log.exception("MLLP connection from %s failed", address)
        finally:
            reading.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await reading
            self._connections.discard(task)
            writer.close()
            with suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, batch: list[_Received], address: str) -> list[bytes]:
        """The ACKs of `batch` in order; its messages committed (together) before they return."""
        messages = [item.data for item in batch if not item.answered]
        acks = iter(
            await asyncio.to_thread(self._inbox.handle_batch, messages, address, self._clock.now())
            if messages else []
        )
        return [item.data if item.answered else next(acks) for item in batch]

    async def _read(self, reader: Any, received: "asyncio.Queue[_Received | None]",
                    working: asyncio.Event) -> None:
        """Queue the connection's frames until it ends; None marks the end."""
        try:
            await self._frames(reader, received, working)
        except Exception:
            log.exception("reading an MLLP connection failed")
        await received.put(None)

    async def _frames(self, reader: Any, received: "asyncio.Queue[_Received | None]",
                      working: asyncio.Event) -> None:
        """Queue frames until EOF or mllp_idle_seconds without any (time spent applying the
        connection's messages does not count)."""
        idle = self._inbox.settings.mllp_idle_seconds
        #: Inside a frame too large to buffer: its bytes are dropped up to its end, then one AR.
        oversized = False
        while True:
            try:
                block = await asyncio.wait_for(reader.readblock(), idle)
            except TimeoutError:
                if working.is_set() or not received.empty():
                    continue  # readblock is cancel-safe: nothing read is lost
                return
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            except ValueError as error:
                # asyncio's limit error says whether the frame's end was in the buffer
                # (dropped with it: answer now) or is still to come (answer at its end).
                if "is found" not in str(error):
                    oversized = True
                    continue
                await received.put(_Received(_nack(TOO_LARGE), answered=True))
            except InvalidBlockError:
                await received.put(
                    _Received(_nack(TOO_LARGE if oversized else UNFRAMED), answered=True)
                )
                oversized = False
            else:
                oversized = False
                await received.put(_Received(bytes(block)))
