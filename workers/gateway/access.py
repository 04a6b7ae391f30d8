"""Structured access logs: one `request_answered` line per request, never a header value.

The endpoint puts what it learnt into the request state (`source` once the token is
known, `reason` of a refusal, `events` accepted, `refused` in a batch); nothing else of
the request is logged.
"""

import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("haodian.gateway")


class AccessLog:
    """Pure ASGI middleware: method, path, status, duration_ms and what the endpoint set."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app fails before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            state: dict[str, Any] = scope.get("state") or {}
            fields = {k: state[k] for k in ("source", "reason", "events", "refused")
                      if k in state}
            log.info("request_answered", method=scope["method"], path=scope["path"],
                     status=status, duration_ms=round((time.perf_counter() - started) * 1000, 2),
                     **fields)
