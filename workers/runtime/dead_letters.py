"""Dead letters moved from the broker into PostgreSQL (the `dead_letters` table).

The DLQs and haodian.unroutable are a transit buffer: `ingest_waiting` takes what waits
in one, stores each message (raw body, every property and header, and what it says
about itself: reason, event id, type, original routing key), commits, then acks. That is
at least once: a message stored again after a lost ack has the same key (its bytes,
less the broker's x-delivery-count) and adds nothing. `Ingester` runs it in the worker."""

import asyncio
import contextlib
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiormq
import asyncpg
import structlog
from aio_pika.abc import AbstractRobustConnection

from handlers.queries import load_queries
from workers import topology
from workers.runtime.amqp_codec import Properties, encode_properties, without_headers
from workers.runtime.delivered import DELIVERY_COUNT_HEADER
from workers.runtime.describe import Description, describe

Q = load_queries("dead_letters")
log = structlog.get_logger()
BATCH = 500


@dataclass(frozen=True)
class Taken:
    """One message taken from a dead-letter queue, not acked yet."""

    body: bytes
    properties: Properties
    routing_key: str
    redelivered: bool
    delivery_tag: int

    def key(self, place: str) -> bytes:
        stable = without_headers(self.properties, (DELIVERY_COUNT_HEADER,))
        digest = hashlib.sha256(place.encode() + b"\0")
        digest.update(encode_properties(stable))
        digest.update(self.body)
        return digest.digest()


def taken_from(m: aiormq.abc.DeliveredMessage) -> Taken:
    delivery: Any = m.delivery
    return Taken(m.body, m.header.properties, m.routing_key or "",
                 bool(getattr(delivery, "redelivered", False)), m.delivery_tag or 0)


async def store(conn: asyncpg.Connection, place: str, taken: Sequence[Taken],
                now: datetime) -> int:
    """Insert the messages in one transaction; returns how many rows are new. A message
    seen for the first time whose bytes match a row already kept adds a copy to it."""
    firsts: dict[bytes, tuple[Taken, Description]] = {}
    fresh: Counter[bytes] = Counter()
    for t in taken:
        key = t.key(place)
        if key not in firsts:
            firsts[key] = (t, describe(place, t.body, t.properties.headers or {},
                                       t.routing_key, now))
        if not t.redelivered:
            fresh[key] += 1
    keys = list(firsts)
    d = [firsts[k][1] for k in keys]
    async with conn.transaction():
        inserted = {r["dedupe_key"] for r in await conn.fetch(
            Q.insert_dead_letters, place, keys, [firsts[k][0].body for k in keys],
            [encode_properties(firsts[k][0].properties) for k in keys],
            [x.routing_key for x in d], [x.reason for x in d], [x.detail for x in d],
            [x.event_id for x in d], [x.source for x in d], [x.type for x in d],
            [x.attempt for x in d], [x.dead_lettered_at for x in d])}
        extra = {k: fresh[k] - (k in inserted) for k in keys}
        extra = {k: n for k, n in extra.items() if n > 0}
        if extra:
            await conn.execute(Q.add_copies, list(extra), list(extra.values()))
    return len(inserted)


async def count_held(conn: asyncpg.Connection) -> dict[str, int]:
    """Dead letters kept per place (not replayed)."""
    return {r["place"]: r["held"] for r in await conn.fetch(Q.count_dead_letters)}


async def ingest_waiting(channel: aiormq.abc.AbstractChannel, conn: asyncpg.Connection,
                         place: str) -> int:
    """Move everything waiting in the place's queue into the table; returns the number of
    messages taken. A failure before the ack leaves them unacked: the broker gets them
    back when the channel closes."""
    queue = topology.dead_letter_queue(place)
    moved = 0
    while True:
        batch: list[Taken] = []
        while len(batch) < BATCH:
            m = await channel.basic_get(queue, no_ack=False)
            if m.delivery_tag is None:  # Get-Empty
                break
            batch.append(taken_from(m))
        if not batch:
            return moved
        new = await store(conn, place, batch, datetime.now(UTC))
        await channel.basic_ack(batch[-1].delivery_tag, multiple=True)
        moved += len(batch)
        log.info("dead_letters_ingested", place=place, messages=len(batch), new_rows=new)
        if len(batch) < BATCH:
            return moved


class Ingester:
    """The worker's background task: its places' queues into the table, again every
    interval_s while they are empty, at once while they are not."""

    def __init__(self, connection: AbstractRobustConnection, pool: asyncpg.Pool,
                 places: Sequence[str], interval_s: float) -> None:
        self.connection, self.pool = connection, pool
        self.places, self.interval_s = list(places), interval_s

    async def run(self, stopping: asyncio.Event) -> None:
        """Until `stopping` is set, then one last round for what the worker's final
        batches dead-lettered."""
        channel = None
        while not self.connection.close_called:  # closed for good: the worker is gone
            last_round = stopping.is_set()
            moved = 0
            try:
                if channel is None or channel.is_closed:
                    channel = await self.connection.channel()
                underlay = await channel.get_underlay_channel()
                for place in self.places:
                    async with self.pool.acquire() as conn:
                        moved += await ingest_waiting(underlay, conn, place)
            except Exception as exc:  # the worker keeps consuming; unacked ones go back
                log.warning("dead_letter_ingest_failed", error=repr(exc)[:200])
                if channel is not None:
                    with contextlib.suppress(Exception):
                        await channel.close()
                channel = None
            if last_round:
                break
            if not moved:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), self.interval_s)
        if channel is not None:
            with contextlib.suppress(Exception):
                await channel.close()
