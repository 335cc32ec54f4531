"""The MLLP listener (python-hl7's asyncio server): one message at a time per connection.

Each message is handled in a worker thread and its ACK written only after it committed, so a
sender that got no ACK may resend and lose nothing (duplicates are answered, not re-applied).
A connection idle longer than mllp_idle_seconds, or one whose message does not end by then,
is closed. Frames that are too large or not framed are answered AR and the connection goes on.
"""

import asyncio
import logging
from contextlib import suppress
from typing import Any

from hl7.mllp import InvalidBlockError, start_hl7_server

from app.domain.clock import Clock
from server.integration import hl7_read
from server.integration.hl7_ack import reject_unreadable
from server.integration.hl7_inbox import Inbox
from server.integration.hl7_read import Refusal

log = logging.getLogger("clinicdesk.server.hl7")


TOO_LARGE = "The message is larger than this server accepts."
UNFRAMED = "Bytes outside an MLLP frame (<VT> ... <FS><CR>) were dropped."


def _nack(message: str) -> bytes:
    return reject_unreadable("", Refusal("MSH", message, hl7_read.SEGMENT_SEQUENCE_ERROR,
                                         "AR")).encode()


def _framable(ack: bytes) -> bytes:
    """The ACK without MLLP's framing bytes: a field it echoes (the sender's MSH) may carry a
    <VT> or <FS>, which would end the ACK's own frame early and leave the sender unanswered."""
    return ack.replace(b"\x0b", b"").replace(b"\x1c", b"")


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
        idle = self._inbox.settings.mllp_idle_seconds
        #: Inside a frame too large to buffer: its bytes are dropped up to its end, then one AR.
        oversized = False
        try:
            while True:
                try:
                    block = await asyncio.wait_for(reader.readblock(), idle)
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    break
                except ValueError as error:
                    # asyncio's limit error says whether the frame's end was in the buffer
                    # (dropped with it: answer now) or is still to come (answer at its end).
                    if "is found" not in str(error):
                        oversized = True
                        continue
                    ack = _nack(TOO_LARGE)
                except InvalidBlockError:
                    ack = _nack(TOO_LARGE if oversized else UNFRAMED)
                    oversized = False
                else:
                    oversized = False
                    ack = await asyncio.to_thread(
                        self._inbox.handle, bytes(block), address, self._clock.now()
                    )
                writer.writeblock(_framable(ack))
                await writer.drain()
        except ConnectionError:
            pass
        except Exception:
            # Never let one connection's surprise stop the listener; the sender resends.
            log.exception("MLLP connection from %s failed", address)
        finally:
            self._connections.discard(task)
            writer.close()
            with suppress(Exception):
                await writer.wait_closed()
