"""The gateway's Starlette application: authenticate, read, validate, publish, answer.

    401 no/unknown token -> 413 body too large, 408 body too slow -> 415/400 unreadable
    (binding; 400 also for ce- headers repeated with different values) ->
    400 invalid event (workers' reason codes) -> 403 source is not the token's ->
    publish with confirms -> 202, or 503 when the broker did not confirm.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
import structlog
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from handlers.base import AnyRoute
from workers import db
from workers.gateway import binding, openapi
from workers.gateway.access import AccessLog
from workers.gateway.binding import Refusal
from workers.gateway.broker import Broker, BrokerUnavailable
from workers.gateway.config import GatewaySettings
from workers.gateway.tokens import TokenChecker
from workers.registry import all_routes
from workers.runtime.decode import Decoded, decode
from workers.settings import Settings

_JSON = "application/json"
log = structlog.get_logger("haodian.gateway")


@dataclass
class Gateway:
    """What the endpoints share: limits, routes, the token checker and the broker."""

    config: GatewaySettings
    routes: dict[str, AnyRoute]
    tokens: TokenChecker
    broker: Broker


def _answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None
            ) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=_JSON, headers=headers)


def _refused(request: Request, refusal: Refusal, **ids: str | None) -> Response:
    request.state.reason = refusal.reason
    headers = ({"WWW-Authenticate": 'Bearer realm="haodian"'} if refusal.status == 401
               else {"Connection": "close"} if refusal.status == 408  # the body is unread
               else None)
    return _answer(refusal.status, {"status": refusal.status, "reason": refusal.reason,
                                    "detail": refusal.detail, **ids}, headers)


async def _authenticate(gateway: Gateway, request: Request) -> str | Refusal:
    """The token's source, or the refusal (401, or 503 when the token store is down)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return Refusal(401, "token_missing", "send Authorization: Bearer <token>")
    try:
        source = await gateway.tokens.source_of(token)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
            db.NoWritableServer) as exc:
        return Refusal(503, "token_store_unavailable", type(exc).__name__)
    if source is None:
        return Refusal(401, "token_unknown", "the token is unknown or revoked")
    request.state.source = source
    return source


async def _read_body(gateway: Gateway, request: Request) -> bytes | Refusal:
    """The body, refused with 413 as soon as it is over the limit (before reading it all
    when Content-Length says so), and with 408 when it does not arrive in time."""
    limit, timeout_s = gateway.config.max_body_bytes, gateway.config.body_timeout_s
    too_large = Refusal(413, "body_too_large", f"the body is over {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return too_large
    chunks, size = [], 0
    try:
        async with asyncio.timeout(timeout_s):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    return too_large
                chunks.append(chunk)
    except ClientDisconnect:  # nobody reads the answer; the log says what happened
        return Refusal(400, "body_incomplete", "the client left before sending the body")
    except TimeoutError:
        return Refusal(408, "body_timeout", f"the body did not arrive within {timeout_s:g} s")
    return b"".join(chunks)


async def _admit(gateway: Gateway, request: Request) -> tuple[str, bytes] | Refusal:
    """The token's source and the body, or the first refusal of either."""
    source = await _authenticate(gateway, request)
    if isinstance(source, Refusal):
        return source
    body = await _read_body(gateway, request)
    if isinstance(body, Refusal):
        return body
    return source, body


def _peek_type(body: bytes) -> str:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ""
    value = document.get("type") if isinstance(document, dict) else None
    return value if isinstance(value, str) else ""


def _check(gateway: Gateway, body: bytes, source: str) -> Decoded | Refusal:
    """The workers' validation, then the token's source."""
    result = decode(body, binding.STRUCTURED, _peek_type(body), gateway.routes)
    if not isinstance(result, Decoded):
        return Refusal(400, result.reason, result.detail)
    if result.event.source != source:
        return Refusal(403, "source_forbidden",
                       f"the token publishes for source {source!r}, the event's source is "
                       f"{result.event.source!r}")
    return result


async def _publish(gateway: Gateway, body: bytes, event: Decoded) -> dict[str, Any]:
    ids = {"id": event.event.id, "type": event.event.type}
    try:
        await gateway.broker.publish(body, event.event.id, event.event.type)
    except BrokerUnavailable as exc:
        return {"status": 503, "reason": exc.reason, "detail": str(exc), **ids}
    return {"status": 202, "source": event.event.source, **ids}


def _ids(body: bytes) -> dict[str, str | None]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(document, dict):
        return {}
    return {k: document[k] for k in ("id", "type") if isinstance(document.get(k), str)}


async def post_event(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    admitted = await _admit(gateway, request)
    if isinstance(admitted, Refusal):
        return _refused(request, admitted)
    source, body = admitted
    event_body = binding.read_single(request.headers, body)
    if isinstance(event_body, Refusal):
        return _refused(request, event_body)
    checked = _check(gateway, event_body, source)
    if isinstance(checked, Refusal):
        return _refused(request, checked, **_ids(event_body))
    outcome = await _publish(gateway, event_body, checked)
    if outcome["status"] == 202:
        request.state.events = 1
    else:
        request.state.reason = outcome["reason"]
    return _answer(outcome["status"], outcome)


async def post_batch(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    admitted = await _admit(gateway, request)
    if isinstance(admitted, Refusal):
        return _refused(request, admitted)
    source, body = admitted
    bodies = binding.read_batch(request.headers, body, gateway.config.max_batch_events)
    if isinstance(bodies, Refusal):
        return _refused(request, bodies)
    checked = [_check(gateway, b, source) for b in bodies]
    # Started in order, so the events reach the queue in the batch's order.
    published = await asyncio.gather(*(
        _publish(gateway, b, c) for b, c in zip(bodies, checked, strict=True)
        if not isinstance(c, Refusal)))
    results: list[dict[str, Any]] = []
    done = iter(published)
    for index, (b, c) in enumerate(zip(bodies, checked, strict=True)):
        if isinstance(c, Refusal):
            results.append({"index": index, "status": c.status, "reason": c.reason,
                            "detail": c.detail, **_ids(b)})
        else:
            results.append({"index": index, **next(done)})
    accepted = sum(r["status"] == 202 for r in results)
    request.state.events, request.state.refused = accepted, len(results) - accepted
    return _answer(_batch_status(results), {"accepted": accepted,
                                            "refused": len(results) - accepted,
                                            "results": results})


def _batch_status(results: list[dict[str, Any]]) -> int:
    """202 all confirmed; 503 any not confirmed (resend the batch); one shared refusal
    status when none was accepted; 207 otherwise."""
    statuses: set[int] = {r["status"] for r in results}
    if 503 in statuses:
        return 503
    if len(statuses) == 1:
        return statuses.pop()
    return 207


async def get_openapi(request: Request) -> Response:
    return Response(openapi.rendered(), media_type=_JSON)


async def _connect_early(pool: asyncpg.Pool, broker: Broker, timeout_s: float) -> None:
    """Connect both now, to say at start-up what is unreachable; either down is a 503."""
    try:
        await broker.exchange()
    except BrokerUnavailable as exc:
        log.warning("broker_unreachable", detail=str(exc))
    try:
        await pool.fetchval("SELECT 1", timeout=timeout_s)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
            db.NoWritableServer) as exc:
        log.warning("token_store_unreachable", error=type(exc).__name__)


def create_app(settings: Settings, config: GatewaySettings) -> Starlette:
    """The ASGI app; its lifespan opens the token store's pool and closes the broker."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # min_size=0: the gateway starts (and answers 503) while PostgreSQL is down.
        pool = await db.create_pool(str(settings.database_url), min_size=0,
                                         max_size=config.db_pool_size)
        broker = Broker(str(settings.amqp_url), config.confirm_timeout_s,
                        config.reconnect_backoff_s)
        checker = TokenChecker(pool, config.token_cache_s, config.confirm_timeout_s)
        app.state.gateway = Gateway(config, all_routes(), checker, broker)
        try:
            await _connect_early(pool, broker, config.confirm_timeout_s)
            yield
        finally:
            await broker.close()
            await pool.close()

    routes = [Route("/events", post_event, methods=["POST"]),
              Route("/events:batch", post_batch, methods=["POST"]),
              Route("/events/batch", post_batch, methods=["POST"]),
              Route("/openapi.json", get_openapi, methods=["GET"])]
    return Starlette(routes=routes, middleware=[Middleware(AccessLog)], lifespan=lifespan)
