"""A tiny HTTP server on the worker's event loop: /metrics, /healthz and /readyz.

No framework: three GET routes, one request per connection. Serving on the worker's own
loop makes /healthz an honest liveness check (a blocked loop does not answer)."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping

import orjson
import structlog
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

log = structlog.get_logger()

Readiness = Callable[[], Mapping[str, bool]]
READ_TIMEOUT_S = 5.0
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


def _response(status: int, body: bytes, content_type: str) -> bytes:
    head = (f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode() + body


def route(method: str, path: str, readiness: Readiness,
          registry: CollectorRegistry = REGISTRY) -> bytes:
    """The full HTTP response for one request line."""
    path = path.split("?", 1)[0]
    if method not in ("GET", "HEAD"):
        return _response(405, b"GET only\n", "text/plain")
    if path == "/metrics":
        return _response(200, generate_latest(registry), CONTENT_TYPE_LATEST)
    if path == "/healthz":
        return _response(200, b'{"alive": true}\n', "application/json")
    if path == "/readyz":
        checks = dict(readiness())
        ready = all(checks.values())
        body = orjson.dumps({"ready": ready, "checks": checks}) + b"\n"
        return _response(200 if ready else 503, body, "application/json")
    return _response(404, b"not found\n", "text/plain")


def handler(readiness: Readiness) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                              Awaitable[None]]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_S)
            parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
            if len(parts) < 2:
                return
            writer.write(route(parts[0], parts[1], readiness))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
    return handle


async def serve(host: str, port: int, readiness: Readiness) -> asyncio.Server:
    server = await asyncio.start_server(handler(readiness), host, port, reuse_address=True)
    log.info("metrics_serving", host=host, port=port)
    return server
