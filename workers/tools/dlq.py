"""DLQ tooling: list, show, replay (all or filtered) and purge, with an audit row.

Messages are read with basic.get; the ones a command does not take are handed back
(nack with requeue) after the command, so a filter never loses anything."""

import asyncio
import fnmatch
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aio_pika
import orjson
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from handlers.queries import load_queries
from workers import db, topology
from workers.runtime.decode import PREFIXES as BINARY_MODE_PREFIXES
from workers.runtime.delivered import (
    ATTEMPT_HEADER,
    DELIVERY_COUNT_HEADER,
    DETAIL_HEADER,
    EVENT_ID_HEADER,
    REASON_HEADER,
    REJECTED_AT_HEADER,
    ROUTING_KEY_HEADER,
    RUNTIME_HEADER_PREFIX,
    TYPE_HEADER,
    int_header,
)

Q = load_queries("runtime")
RETURN_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class DeadLetter:
    position: int
    reason: str
    detail: str
    event_id: str
    type: str
    routing_key: str
    rejected_at: str
    attempt: int
    body: bytes
    headers: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        return {"position": self.position, "reason": self.reason, "type": self.type,
                "event_id": self.event_id, "rejected_at": self.rejected_at,
                "detail": self.detail}


@dataclass(frozen=True)
class Filter:
    reason: str | None = None
    type: str | None = None  # glob, e.g. "order.*"
    event_id: str | None = None
    limit: int | None = None

    def matches(self, d: DeadLetter) -> bool:
        return ((self.reason is None or d.reason == self.reason)
                and (self.type is None or fnmatch.fnmatchcase(d.type, self.type))
                and (self.event_id is None or d.event_id == self.event_id))

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def _first_death(h: dict[str, Any]) -> dict[str, Any]:
    deaths = h.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        return deaths[0]
    return {}


def _original_routing_key(h: dict[str, Any], m: AbstractIncomingMessage) -> str:
    """The key the message was first published under. A message the broker dead-lettered
    itself (delivery limit) arrives under the DLX's key, the domain name: the original
    is in x-death."""
    if h.get(ROUTING_KEY_HEADER):
        return _text(h[ROUTING_KEY_HEADER])
    keys = _first_death(h).get("routing-keys")
    if isinstance(keys, list) and keys:
        return _text(keys[0])
    return _text(m.routing_key)


def _peek(body: bytes) -> tuple[str, str]:
    """(id, type) from the body, for messages that reached the DLQ without our headers."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "", ""
    if not isinstance(doc, dict):
        return "", ""
    ident, etype = doc.get("id"), doc.get("type")
    return (ident if isinstance(ident, str) else "", etype if isinstance(etype, str) else "")


def _binary_mode_ids(headers: dict[str, Any]) -> tuple[str, str] | None:
    """(id, type) of a binary-mode CloudEvent, whose body holds only the data."""
    for prefix in BINARY_MODE_PREFIXES:
        if f"{prefix}id" in headers:
            return _text(headers[f"{prefix}id"]), _text(headers.get(f"{prefix}type"))
    return None


def _dead_letter(position: int, m: AbstractIncomingMessage) -> DeadLetter:
    h = dict(m.headers or {})
    if REASON_HEADER in h:  # dead-lettered by a worker, which read what it could
        reason = _text(h[REASON_HEADER])
        event_id, event_type = _text(h.get(EVENT_ID_HEADER)), _text(h.get(TYPE_HEADER))
    else:  # by the broker; the AMQP message id is no event id (clients make one up)
        reason = ("broker_" + _text(h.get("x-first-death-reason") or "dead_lettered")
                  if h.get("x-death") else "reason_missing")
        event_id, event_type = _binary_mode_ids(h) or _peek(m.body)
    return DeadLetter(position, reason, _text(h.get(DETAIL_HEADER)), event_id, event_type,
                      _original_routing_key(h, m), _text(h.get(REJECTED_AT_HEADER)),
                      int_header(h.get(ATTEMPT_HEADER)), m.body, h)


# Set by the worker (x-haodian-*) or the broker; a replayed message starts afresh.
_RUNTIME_HEADERS = (RUNTIME_HEADER_PREFIX, "x-death", "x-first-death", "x-last-death",
                    DELIVERY_COUNT_HEADER)

Held = list[tuple[DeadLetter, AbstractIncomingMessage]]


@asynccontextmanager
async def _drain(amqp_url: str, domain: str) -> AsyncIterator[tuple[AbstractChannel, Held]]:
    """All messages of a DLQ, held unacked; whatever is not acked is requeued on exit."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.get_queue(topology.dlq_name(domain))
        held: list[tuple[DeadLetter, AbstractIncomingMessage]] = []
        while (m := await queue.get(no_ack=False, fail=False)) is not None:
            held.append((_dead_letter(len(held) + 1, m), m))
        try:
            yield channel, held
        finally:
            returned = 0
            for _, m in held:
                if not m.processed:
                    await m.nack(requeue=True)
                    returned += 1
            await _until_back(channel, topology.dlq_name(domain), returned)
    finally:
        await connection.close()


async def _until_back(channel: AbstractChannel, queue_name: str, returned: int) -> None:
    """Nacks are asynchronous: wait until the queue counts the returned messages as ready
    again, so that the next command (list, then show #n) sees them all, in order."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RETURN_TIMEOUT_S
    while returned and loop.time() < deadline:
        if await topology.queue_depth(channel, queue_name) >= returned:
            return
        await asyncio.sleep(0.02)


async def list_dead_letters(amqp_url: str, domain: str, flt: Filter) -> list[DeadLetter]:
    async with _drain(amqp_url, domain) as (_, held):
        found = [d for d, _ in held if flt.matches(d)]
    return found[: flt.limit] if flt.limit else found


async def replay(amqp_url: str, database_url: str, domain: str, flt: Filter,
                 actor: str) -> int:
    """Republish matching messages to haodian.events under their original routing key,
    with the runtime's and the broker's own headers removed (a replay starts with a fresh
    attempt count)."""
    async with _audit(database_url, "replay", domain, flt, actor) as taken, \
            _drain(amqp_url, domain) as (channel, held):
        events = await channel.get_exchange(topology.EVENTS)
        for d, m in held:
            if not flt.matches(d) or (flt.limit and taken.count >= flt.limit):
                continue
            headers = {k: v for k, v in d.headers.items() if not k.startswith(_RUNTIME_HEADERS)}
            await events.publish(aio_pika.Message(
                d.body, headers=headers, content_type=m.content_type,
                content_encoding=m.content_encoding, message_id=m.message_id, type=m.type,
                app_id=m.app_id, timestamp=m.timestamp, correlation_id=m.correlation_id,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=d.routing_key)
            await m.ack()
            taken.count += 1
    return taken.count


async def purge(amqp_url: str, database_url: str, domain: str, flt: Filter, actor: str) -> int:
    """Delete matching messages for good."""
    async with _audit(database_url, "purge", domain, flt, actor) as taken, \
            _drain(amqp_url, domain) as (_, held):
        for d, m in held:
            if flt.matches(d) and not (flt.limit and taken.count >= flt.limit):
                await m.ack()
                taken.count += 1
    return taken.count


@dataclass
class _Taken:
    count: int = 0


@asynccontextmanager
async def _audit(database_url: str, action: str, domain: str, flt: Filter,
                 actor: str) -> AsyncIterator[_Taken]:
    """Connects first (no replay or purge when the audit row cannot be written), then
    writes the row with however many messages were taken, also when the command fails
    half-way."""
    conn = await db.connect(database_url)
    taken = _Taken()
    try:
        yield taken
    finally:
        try:
            await conn.execute(Q.insert_dlq_audit, action, domain,
                               orjson.dumps(flt.as_json()).decode(), taken.count, actor)
        finally:
            await conn.close()
