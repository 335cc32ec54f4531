"""A loopback HTTP proxy in front of the real server that misbehaves on demand, as a flaky
hospital network would: down, 503s for a while, answers lost after the server committed,
or a hook (kill the server) when a push goes through. WebSockets are piped through as is."""

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass

from tests.server.postgres import free_port


@dataclass
class Request:
    head: bytes
    body: bytes

    @property
    def line(self) -> str:
        return self.head.split(b"\r\n", 1)[0].decode("latin-1")


async def _read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return head, body


#: The requests whose answers a "drop_..." mode loses after the server has handled them.
_DROPPED = {"drop_push": "POST /sync/push", "drop_refresh": "POST /auth/refresh"}


class FaultyProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.mode = "pass"  # pass | down | fail | drop_push | drop_refresh
        self.failures_left = 0
        self.dropped_answers = 0
        self.refused = 0
        #: Called (on the proxy's thread) when a push request has been forwarded.
        self.on_push: Callable[[], None] | None = None
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)

    def set_mode(self, mode: str, failures: int = 0) -> None:
        """Change behaviour; open connections are cut (a network blip), new ones see the mode."""
        def change() -> None:
            self.mode, self.failures_left = mode, failures
            for writer in list(self._writers):
                writer.close()

        self._loop.call_soon_threadsafe(change)

    def close(self) -> None:
        def stop() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._writers):
                writer.close()
            self._loop.stop()

        self._loop.call_soon_threadsafe(stop)
        self._thread.join(5)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                if self.mode == "down":
                    self.refused += 1
                    return
                try:
                    head, body = await _read_message(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                request = Request(head, body)
                if b"upgrade: websocket" in head.lower():
                    await self._pipe(request, reader, writer)
                    return
                if self.mode == "fail" and self.failures_left > 0:
                    self.failures_left -= 1
                    if self.failures_left == 0:
                        self.mode = "pass"
                    status = "503 Service Unavailable" if self.failures_left % 2 else \
                        "500 Internal Server Error"
                    payload = b'{"code":"unavailable","message":"try later"}'
                    writer.write(
                        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                        f"Retry-After: 0\r\nContent-Length: {len(payload)}\r\n"
                        "Connection: close\r\n\r\n".encode() + payload
                    )
                    await writer.drain()
                    return
                answer = await self._forward(request)
                if answer is None:
                    return  # the server is gone: the client sees the connection drop
                dropped = _DROPPED.get(self.mode)
                if dropped is not None and request.line.startswith(dropped):
                    self.dropped_answers += 1
                    return  # committed on the server; the answer is lost on the way back
                writer.write(answer)
                await writer.drain()
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _forward(self, request: Request) -> bytes | None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            return None
        try:
            up_writer.write(request.head + request.body)
            await up_writer.drain()
            if self.on_push is not None and request.line.startswith("POST /sync/push"):
                self.on_push()
            head, body = await _read_message(up_reader)
            return head + body
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        finally:
            up_writer.close()

    async def _pipe(self, request: Request, reader: asyncio.StreamReader,
                    writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            return
        up_writer.write(request.head + request.body)

        async def copy(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    target.write(data)
                    await target.drain()
            except ConnectionError:
                pass
            finally:
                target.close()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
