"""A hospital's MLLP receiver for tests: a real asyncio TCP server (python-hl7) in a thread.

It keeps every message it received and answers each with an ACK of the code it is set to
(AA by default; AE with an ERR-8 reason when told to refuse).
"""

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import hl7
from hl7.mllp import start_hl7_server

from tests.polling import wait_until


class MllpReceiver:
    """Listens on 127.0.0.1:`port` from start() until stop(); may be started again."""

    def __init__(self, port: int, code: str = "AA") -> None:
        self.port = port
        self.code = code
        self.received: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()

    def start(self) -> None:
        self._ready.clear()
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),),
                                        name="mllp-receiver", daemon=True)
        self._thread.start()
        wait_until(self._ready.is_set, what="the MLLP receiver to listen")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._thread = None

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await start_hl7_server(self._connection, "127.0.0.1", self.port)
        self._ready.set()
        async with server:
            await self._stop.wait()
            server.close()

    async def _connection(self, reader: Any, writer: Any) -> None:
        try:
            while not reader.at_eof():
                block = await reader.readblock()
                text = bytes(block).decode()
                self.received.append(text)
                ack = hl7.parse(text).create_ack(self.code)
                lines = [str(segment) for segment in ack]
                if self.code != "AA":
                    lines.append("ERR|||207^Application internal error^HL70357|E||||"
                                 "Unknown appointment")
                writer.writeblock("\r".join(lines).encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@contextmanager
def receiver(port: int, code: str = "AA") -> Iterator[MllpReceiver]:
    hospital = MllpReceiver(port, code)
    hospital.start()
    try:
        yield hospital
    finally:
        hospital.stop()
