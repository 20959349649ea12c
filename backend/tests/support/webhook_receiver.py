"""A webhook receiver on 127.0.0.1 (HTTP/1.1, keep-alive): records every request and answers
with the statuses a test queues (default 204), with an empty body or `body_bytes` of zeros."""

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

_CHUNK = bytes(64 * 1024)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived
    # Bytes of the answer's body handed to the connection before it ended or the sender hung up.
    body_written: int = 0


@dataclass
class Receiver:
    received: list[Received] = field(default_factory=list)
    # (status, extra headers) per request, in order; when empty: 204.
    answers: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    # The length of each answer's body: written 64 KiB at a time, each waiting for the
    # connection to take the last (a sender that stops reading and hangs up cuts it short).
    body_bytes: int = 0
    port: int = 0
    # While cleared, requests are recorded but not answered (a receiver that hangs).
    answering: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set by each request
    # Set when an answer is over: written whole, or cut short by the sender hanging up.
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    _server: asyncio.Server | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def start(self) -> None:
        self.answering.set()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def wait_for(self, count: int) -> None:
        """Until `count` requests have arrived in all."""
        while len(self.received) < count:
            self.arrived.clear()
            await self.arrived.wait()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                received = Received(path, headers, body, time.monotonic())
                self.received.append(received)
                self.arrived.set()
                await self.answering.wait()
                await self._answer(writer, received)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _answer(self, writer: asyncio.StreamWriter, received: Received) -> None:
        status, extra = self.answers.popleft() if self.answers else (204, {})
        lines = [f"HTTP/1.1 {status} X", f"Content-Length: {self.body_bytes}"]
        lines += [f"{name}: {value}" for name, value in extra.items()]
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            await writer.drain()
            while received.body_written < self.body_bytes:
                chunk = _CHUNK[: self.body_bytes - received.body_written]
                writer.write(chunk)
                await writer.drain()
                received.body_written += len(chunk)
        finally:
            self.answered.set()


@asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()
