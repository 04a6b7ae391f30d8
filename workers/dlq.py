"""DLQ tooling: list, show, replay (all or filtered) and purge, with an audit row.

Messages are read with basic.get; the ones a command does not take are handed back
(nack with requeue) after the command, so a filter never loses anything."""

import fnmatch
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aio_pika
import asyncpg
import orjson
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from handlers.queries import load_queries
from workers import topology
from workers.worker import ATTEMPT_HEADER, ROUTING_KEY_HEADER, int_header

Q = load_queries("runtime")


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


def _dead_letter(position: int, m: AbstractIncomingMessage) -> DeadLetter:
    h = dict(m.headers or {})
    reason = _text(h.get("x-haodian-reason"))
    if not reason and h.get("x-death"):
        reason = "broker_" + _text(h.get("x-first-death-reason") or "dead_lettered")
    return DeadLetter(position, reason or "unknown", _text(h.get("x-haodian-detail")),
                      _text(h.get("x-haodian-event-id") or m.message_id),
                      _text(h.get("x-haodian-type") or m.type),
                      _text(h.get(ROUTING_KEY_HEADER) or m.routing_key),
                      _text(h.get("x-haodian-rejected-at")), int_header(h.get(ATTEMPT_HEADER)),
                      m.body, h)


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
            for _, m in held:
                if not m.processed:
                    await m.nack(requeue=True)
    finally:
        await connection.close()


async def list_dead_letters(amqp_url: str, domain: str, flt: Filter) -> list[DeadLetter]:
    async with _drain(amqp_url, domain) as (_, held):
        found = [d for d, _ in held if flt.matches(d)]
    return found[: flt.limit] if flt.limit else found


async def replay(amqp_url: str, database_url: str, domain: str, flt: Filter,
                 actor: str) -> int:
    """Republish matching messages to haodian.events under their original routing key,
    with the runtime's own headers removed (a replay starts with a fresh attempt count)."""
    count = 0
    async with _drain(amqp_url, domain) as (channel, held):
        events = await channel.get_exchange(topology.EVENTS)
        for d, m in held:
            if not flt.matches(d) or (flt.limit and count >= flt.limit):
                continue
            headers = {k: v for k, v in d.headers.items()
                       if not k.startswith(("x-haodian-", "x-death", "x-first-death",
                                            "x-last-death", "x-delivery-count"))}
            await events.publish(aio_pika.Message(
                d.body, headers=headers, content_type=m.content_type, message_id=m.message_id,
                type=m.type, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=d.routing_key)
            await m.ack()
            count += 1
        await _audit(database_url, "replay", domain, flt, count, actor)
    return count


async def purge(amqp_url: str, database_url: str, domain: str, flt: Filter, actor: str) -> int:
    count = 0
    async with _drain(amqp_url, domain) as (_, held):
        for d, m in held:
            if flt.matches(d) and not (flt.limit and count >= flt.limit):
                await m.ack()
                count += 1
        await _audit(database_url, "purge", domain, flt, count, actor)
    return count


async def _audit(database_url: str, action: str, domain: str, flt: Filter, count: int,
                 actor: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(Q.insert_dlq_audit, action, domain,
                           orjson.dumps(flt.as_json()).decode(), count, actor)
    finally:
        await conn.close()
