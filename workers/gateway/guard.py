"""Slow and oversized requests, refused at the connection: uvicorn has no header-read
timeout or header-size limit with httptools, so its protocol gets both here.

    header phase  from the connection's opening (or a later request's first byte) to the
                  end of the headers: within header_timeout_s and max_header_bytes, else
                  408 `header_timeout` / 431 `headers_too_large`, then the connection closes
    body phase    from the end of the headers to the end of the body: the app reads with
                  the same limit and answers 408 `body_timeout` itself; the guard closes a
                  connection still sending a body nobody reads (after a 401, say) once
                  body_timeout_s has passed
"""

import asyncio
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
import structlog
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = structlog.get_logger("haodian.gateway")
_REASON_PHRASES = {408: "Request Timeout", 431: "Request Header Fields Too Large"}


@dataclass(frozen=True, slots=True)
class Limits:
    header_timeout_s: float
    body_timeout_s: float
    max_header_bytes: int


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline per request phase and a header cap."""

    limits: ClassVar[Limits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._phase_started = 0.0
        self._in_headers = False
        self._header_bytes = 0
        self._chunk_bytes = 0  # of the data being parsed: a new request may start inside it
        self._body_late = False
        self._start_headers()  # asyncio makes the connection right after the protocol

    # ---- where the phases begin and end ------------------------------------------------
    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._in_headers:  # a later request on a kept-alive connection
            self._start_headers()
            self._header_bytes = self._chunk_bytes

    def on_headers_complete(self) -> None:
        self._in_headers, self._body_late = False, False
        self._arm(self.limits.body_timeout_s, self._body_overdue)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._cancel()
        super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        self._chunk_bytes = len(data)
        if self._in_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        if self._in_headers and self._header_bytes > self.limits.max_header_bytes:
            self._refuse(431, "headers_too_large",
                         f"the request's headers are over {self.limits.max_header_bytes} bytes")

    # ---- deadlines ---------------------------------------------------------------------
    def _start_headers(self) -> None:
        self._in_headers, self._header_bytes = True, 0
        self._arm(self.limits.header_timeout_s, self._headers_overdue)

    def _arm(self, delay_s: float, callback: Any) -> None:
        self._cancel()
        self._phase_started = time.perf_counter()
        self._deadline = self.loop.call_later(delay_s, callback)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_overdue(self) -> None:
        self._refuse(408, "header_timeout", "the request's headers did not arrive within "
                     f"{self.limits.header_timeout_s:g} s")

    def _body_overdue(self) -> None:
        """The app answers a body it is still reading (408); a body sent after the answer
        is only dropped, so stop reading it."""
        self._deadline, self._body_late = None, True
        if self.cycle is not None and self.cycle.response_complete:
            log.info("connection_closed", reason="body_timeout",
                     duration_ms=self._elapsed_ms())
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._body_late and self.cycle.more_body:
            self.transport.close()  # the body's deadline passed while the app answered

    def _refuse(self, status: int, reason: str, detail: str) -> None:
        """Answer (unless a response is on its way) and close: nothing is left unanswered."""
        self._cancel()
        self._in_headers = False
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            body = orjson.dumps({"status": status, "reason": reason, "detail": detail})
            self.transport.write(
                f"HTTP/1.1 {status} {_REASON_PHRASES[status]}\r\n"
                "content-type: application/json\r\nconnection: close\r\n"
                f"content-length: {len(body)}\r\n\r\n".encode() + body)
            log.info("request_answered", method=None, path=None, status=status,
                     reason=reason, duration_ms=self._elapsed_ms())
        else:  # a pipelined request behind an answer still being written: cut it off
            log.info("connection_closed", reason=reason, duration_ms=self._elapsed_ms())
        self.transport.close()

    def _elapsed_ms(self) -> float:
        return round((time.perf_counter() - self._phase_started) * 1000, 2)


def guarded(limits: Limits) -> type[GuardedHttp]:
    """The protocol class for uvicorn.Config(http=…), with these limits."""
    return type("GuardedHttpWithLimits", (GuardedHttp,), {"limits": limits})
