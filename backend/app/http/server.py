"""What a connection may cost before a request reaches the app.

uvicorn's httptools protocol, with the limits it lacks: it buffers a request head of any size
(one 100 MB header held the event loop for 12 s), and arms no timer on a connection until it
has answered a request (slowloris, idle and slow-body connections were held forever, until the
file descriptors ran out). `taskapi serve` runs this class (`http="app.http.server:HardenedHttp"`).

- A request head (request line and headers) over MAX_REQUEST_HEAD_BYTES: 431; a URL over
  MAX_URL_BYTES: 414. Counted as bytes arrive, so nothing large is ever buffered.
- A new connection must start a request within KEEP_ALIVE_TIMEOUT_SECONDS (as between
  requests), finish its head within HEADER_TIMEOUT_SECONDS, and its body within
  BODY_TIMEOUT_SECONDS of the head: else 408 (or a close, when the app has started answering).
- Past MAX_CONNECTIONS open connections, the oldest one with no request in progress (idle,
  or its head still dribbling in) is closed with 503 SERVER_BUSY to make room; when every one
  is busy with a request, the new one gets that answer instead. A flood of idle sockets can
  neither use up the file descriptors the database needs nor lock out prompt clients.
- A response the client takes no bytes of for SEND_TIMEOUT_SECONDS (writing paused, or a
  close waiting for its buffer to flush) is aborted: the buffer is dropped, not flushed, so a
  client that never reads holds neither a slot nor the response's memory. At the cap, such a
  stalled connection makes room like an idle one.
- At most MAX_PIPELINED_REQUESTS requests wait behind the one being answered; past them the
  connection reads no more and closes after answering those.
- A request head refused for its size is answered, then up to DRAIN_AFTER_REFUSAL_BYTES of what
  the client is still sending is read and dropped before the close, so the client reads the
  431 instead of a reset.
- On shutdown, every callback given to `on_shutdown` runs first (event streams end at once).
- The parser's own refusals (bad framing, bare LF, ...) answer the JSON envelope, not text.
"""

import asyncio
import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.config import Settings
from app.errors import (
    ApiError,
    HeadersTooLarge,
    MalformedRequest,
    RequestTimeout,
    ServerBusy,
    UriTooLong,
)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    max_head_bytes: int
    max_url_bytes: int
    header_timeout: float
    body_timeout: float
    max_connections: int
    send_timeout: float

    @classmethod
    def from_settings(cls, settings: Settings) -> "ConnectionLimits":
        return cls(
            max_head_bytes=settings.max_request_head_bytes,
            max_url_bytes=settings.max_url_bytes,
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
            max_connections=settings.max_connections,
            send_timeout=settings.send_timeout_seconds,
        )


@functools.cache
def configured_limits() -> ConnectionLimits:
    # Read once per worker from the same environment the app reads its settings from.
    return ConnectionLimits.from_settings(Settings())


def raw_error_response(error: ApiError) -> bytes:
    """A whole HTTP/1.1 response with the JSON envelope, closing the connection."""
    body = orjson.dumps(
        {"detail": error.detail, "error_code": error.error_code, "status_code": error.status_code}
    )
    headers = [
        f"HTTP/1.1 {error.status_code} {HTTPStatus(error.status_code).phrase}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        "connection: close",
        "cache-control: no-store",
        "x-content-type-options: nosniff",
        *(f"{name}: {value}" for name, value in error.headers.items()),
    ]
    return ("\r\n".join(headers) + "\r\n\r\n").encode("latin-1") + body


MAX_PIPELINED_REQUESTS = 8
DRAIN_AFTER_REFUSAL_BYTES = 4 * 1024 * 1024
DRAIN_AFTER_REFUSAL_SECONDS = 2.0

_opened = itertools.count()
_shutdown_callbacks: list[Callable[[], None]] = []


def on_shutdown(callback: Callable[[], None]) -> Callable[[], None]:
    """Run `callback` when the server starts shutting down (before it waits for connections
    to finish); returns the function that unregisters it."""
    _shutdown_callbacks.append(callback)
    return lambda: _shutdown_callbacks.remove(callback)


def _run_shutdown_callbacks() -> None:
    while _shutdown_callbacks:
        _shutdown_callbacks.pop()()


class HardenedHttp(HttpToolsProtocol):
    limits: ConnectionLimits | None = None  # None: configured_limits()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        limits = self.limits or configured_limits()
        self._limits = limits
        self._in_head = True
        self._head_bytes = 0
        self._url_bytes = 0
        self._parsed_head_bytes = 0
        self._message_open = False  # from a request's first byte to the end of its body
        self._phase_timer: asyncio.TimerHandle | None = None
        self._write_timer: asyncio.TimerHandle | None = None
        self._overflowed = False  # too many pipelined requests: read nothing more
        self._drain_budget = 0  # > 0: refused, reading and dropping what the client still sends
        self._serial = next(_opened)  # the order connections came in (loop time has ties)
        if len(self.connections) > limits.max_connections and not self._evict_a_waiting_one():
            self._refuse(ServerBusy())
            return
        # Until the first request starts, the connection is idle: the keep-alive rule applies.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def _evict_a_waiting_one(self) -> bool:
        """At the cap, the oldest connection with no request in progress (idle, or its head
        still arriving) makes room: a client that sends its request at once gets served, so
        slow and idle connections cannot hold the server, however many an attacker opens."""
        waiting = [
            other
            for other in self.connections
            if isinstance(other, HardenedHttp) and other is not self and other.waiting
        ]
        if waiting:
            min(waiting, key=lambda other: other._serial)._refuse(ServerBusy())
            return True
        stalled = [
            other
            for other in self.connections
            if isinstance(other, HardenedHttp) and other is not self and other.flow.write_paused
        ]
        if stalled:
            min(stalled, key=lambda other: other._serial)._abort(
                "evicted: its client reads nothing"
            )
            return True
        return False

    @property
    def waiting(self) -> bool:
        """No request of this connection is being read or answered."""
        idle = self.cycle is None or self.cycle.response_complete
        return self._in_head and idle and not self.transport.is_closing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_phase_timer()
        self._cancel_write_timer()
        super().connection_lost(exc)

    # Writes: a client that stops reading gets SEND_TIMEOUT_SECONDS, then the connection is
    # aborted (a plain close would wait for the buffer to flush, that is forever).
    def pause_writing(self) -> None:
        super().pause_writing()
        self._arm_write_timer()

    def resume_writing(self) -> None:
        super().resume_writing()
        if not self.transport.is_closing():
            self._cancel_write_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._close_within_send_timeout()

    def timeout_keep_alive_handler(self) -> None:
        super().timeout_keep_alive_handler()
        self._close_within_send_timeout()

    def shutdown(self) -> None:
        _run_shutdown_callbacks()
        super().shutdown()
        self._close_within_send_timeout()

    def _close_within_send_timeout(self) -> None:
        """A closing transport with bytes still buffered waits for the client to read them."""
        if self.transport.is_closing() and self.transport.get_write_buffer_size():
            self._arm_write_timer()

    def _arm_write_timer(self) -> None:
        if self._write_timer is None:
            self._write_timer = self.loop.call_later(
                self._limits.send_timeout, self._abort, "its client stopped reading"
            )

    def _cancel_write_timer(self) -> None:
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None

    def _abort(self, why: str) -> None:
        self._write_timer = None
        self.logger.info("aborted a connection from %s: %s", self.client and self.client[0], why)
        self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._drain_budget > 0:
            self._drop_after_refusal(len(data))
            return
        if self.transport.is_closing() or self._overflowed:
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # Still in the head after this chunk: what the parser is holding counts against the limit.
        if self._in_head and self._head_bytes > self._limits.max_head_bytes:
            self._refuse(HeadersTooLarge(), drain=True)
        elif self._message_open and self._phase_timer is None and not self.transport.is_closing():
            # A request left unfinished by this chunk: its head, or its body, must come in time.
            # (Timers only here: a request that arrives whole, the usual case, costs none.)
            seconds = self._limits.header_timeout if self._in_head else self._limits.body_timeout
            self._phase_timer = self.loop.call_later(seconds, self._phase_timed_out)

    def send_400_response(self, msg: str) -> None:
        if self._drain_budget > 0:
            return  # already refused (431, 414), and answered
        if self._pipeline_full():
            # Answer what is queued, read nothing more, and close after the last of them.
            self._overflowed = True
            self.flow.pause_reading()
            self.pipeline[0][0].keep_alive = False
            return
        self._refuse(MalformedRequest())

    def _pipeline_full(self) -> bool:
        return len(self.pipeline) >= MAX_PIPELINED_REQUESTS

    # Parser callbacks: each request's phases, and the timer that bounds the current one.
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._message_open = True
        self._url_bytes = 0
        self._parsed_head_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._url_bytes += len(url)
        if self._url_bytes > self._limits.max_url_bytes:
            self._refuse(UriTooLong(), drain=True)
            raise httptools.HttpParserError("URL too long")
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        # A whole head that arrived in one chunk is counted here, header by header.
        self._parsed_head_bytes += len(name) + len(value) + 4
        if self._url_bytes + self._parsed_head_bytes > self._limits.max_head_bytes:
            self._refuse(HeadersTooLarge(), drain=True)
            raise httptools.HttpParserError("request head too large")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._pipeline_full():
            raise httptools.HttpParserError("too many pipelined requests")
        self._in_head = False
        self._head_bytes = 0
        self._cancel_phase_timer()  # the head's; the body gets its own if it is left waiting
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._cancel_phase_timer()
        self._in_head = True
        self._message_open = False
        super().on_message_complete()

    def _cancel_phase_timer(self) -> None:
        if self._phase_timer is not None:
            self._phase_timer.cancel()
            self._phase_timer = None

    def _phase_timed_out(self) -> None:
        self._phase_timer = None
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete and not self._in_head:
            # The app is waiting for the rest of the body: tell it the client is gone.
            cycle.disconnected = True
            cycle.message_event.set()
            if cycle.response_started:
                self.transport.close()
                return
        self._refuse(RequestTimeout())

    def _refuse(self, error: ApiError, *, drain: bool = False) -> None:
        self._cancel_phase_timer()
        self._unset_keepalive_if_required()
        if self._drain_budget > 0:
            self._stop_draining()
        elif not self.transport.is_closing():
            self.transport.write(raw_error_response(error))
            if drain and self.transport.can_write_eof():
                self._drain_then_close()
            else:
                self.transport.close()
                self._close_within_send_timeout()
        self.logger.info(
            "refused a connection from %s: %s", self.client and self.client[0], error.error_code
        )

    def _drain_then_close(self) -> None:
        """The client may still be sending the head we refused: closing with its bytes unread
        would reset the connection, and its 431 with it. Half-close, drop a bounded amount of
        what still arrives (for a bounded time), then close."""
        self.transport.write_eof()
        self.flow.resume_reading()
        self._drain_budget = DRAIN_AFTER_REFUSAL_BYTES
        self._phase_timer = self.loop.call_later(DRAIN_AFTER_REFUSAL_SECONDS, self._stop_draining)

    def _drop_after_refusal(self, size: int) -> None:
        self._drain_budget -= size
        if self._drain_budget <= 0:
            self._stop_draining()

    def _stop_draining(self) -> None:
        self._cancel_phase_timer()
        self._drain_budget = 0
        self.transport.close()
        self._close_within_send_timeout()
