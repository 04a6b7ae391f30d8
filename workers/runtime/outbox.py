"""The outbox, whole life cycle: handler results wrapped as CloudEvents, written in the
batch's transaction, published with confirms after the commit, marked published off the
hot path, and relayed when a crash or an outage left rows behind."""

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import aiormq
import asyncpg
import orjson
import structlog
from aio_pika.abc import AbstractChannel
from aiormq import spec

from handlers.base import RESULT_JSON_OPTION, Incoming, Result, result_json_default
from handlers.queries import load_queries
from schema.envelope import CONTENT_TYPE
from schema.runtime import EventRejected
from workers.topology import RESULTS

Q = load_queries("runtime")
log = structlog.get_logger()
RESULT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:haodian:results")


@dataclass(frozen=True, slots=True)
class OutgoingEvent:
    event_id: uuid.UUID
    routing_key: str
    body: bytes
    outbox_id: int | None = None


def result_id(result_type: str, id_key: str) -> uuid.UUID:
    return uuid.uuid5(RESULT_NAMESPACE, f"{result_type}|{id_key}")


def wrap(result: Result, cause: Incoming[Any]) -> OutgoingEvent:
    """The result as a CloudEvent. Its time is the cause's time, so replaying the same
    input yields the same bytes."""
    key = result.id_key if result.id_key is not None else (
        f"{cause.source}|{cause.id}|{result.subject}")
    event_id = result_id(result.type, key)
    return OutgoingEvent(event_id, result.type, _envelope(
        event_id, result.type, cause.time, result.subject, cause.id, result.data))


def rejection(
    event_id: str, source: str | None, event_type: str | None, reason: str, time: datetime
) -> OutgoingEvent:
    """The `event.rejected` result for an input that could not be processed."""
    rid = result_id("event.rejected", f"{source}|{event_id}|{reason}")
    data = EventRejected(event_id=event_id, event_source=source, event_type=event_type,
                         reasons=[reason]).model_dump()
    return OutgoingEvent(rid, "event.rejected",
                         _envelope(rid, "event.rejected", time, event_id, event_id, data))


def _envelope(event_id: uuid.UUID, event_type: str, time: datetime, subject: str,
              causation_id: str, data: Any) -> bytes:
    return orjson.dumps({
        "specversion": "1.0", "id": str(event_id), "source": "haodian", "type": event_type,
        "time": time.isoformat(), "datacontenttype": "application/json",
        "subject": subject, "causationid": causation_id, "data": data,
    }, default=result_json_default, option=RESULT_JSON_OPTION)


async def insert(conn: asyncpg.Connection, events: Sequence[OutgoingEvent]) -> list[OutgoingEvent]:
    """Write outbox rows in the caller's transaction; returns the rows actually new."""
    if not events:
        return []
    unique = list({e.event_id: e for e in events}.values())
    rows = await conn.fetch(Q.insert_outbox, [e.event_id for e in unique],
                            [e.routing_key for e in unique], [e.body for e in unique])
    by_id = {e.event_id: e for e in unique}
    return [OutgoingEvent(r["event_id"], by_id[r["event_id"]].routing_key,
                          by_id[r["event_id"]].body, r["id"]) for r in rows]


def _properties(event: OutgoingEvent) -> spec.Basic.Properties:
    return spec.Basic.Properties(
        content_type=CONTENT_TYPE, delivery_mode=2, message_id=str(event.event_id),
        message_type=event.routing_key, app_id="haodian")


async def publish(channel: AbstractChannel, events: Sequence[OutgoingEvent]) -> list[int]:
    """Publish to the results exchange with confirms, all at once; returns the outbox ids the
    broker confirmed. Frames go straight to the AMQP channel: building aio-pika Message
    objects costs more CPU than the rest of the publish (measured by the benchmark).
    wait=False skips aiormq's per-message socket drain: the broker's confirm is what we
    wait for, and the drains cost the worker and the broker ~15% of their CPU at 1,200/s."""
    if not events:
        return []
    try:
        # The concrete channel: its basic_publish takes wait= (aiormq is pinned).
        underlay = cast(aiormq.Channel, await channel.get_underlay_channel())
        outcomes = await asyncio.gather(
            *(underlay.basic_publish(e.body, exchange=RESULTS, routing_key=e.routing_key,
                                     properties=_properties(e), wait=False) for e in events),
            return_exceptions=True)
    except Exception:  # no channel right now: the relay publishes these later
        return []
    return [e.outbox_id for e, outcome in zip(events, outcomes, strict=True)
            if isinstance(outcome, spec.Basic.Ack) and e.outbox_id is not None]


async def mark_published(conn: asyncpg.Connection, outbox_ids: Sequence[int]) -> None:
    """Losing this write only means a re-publish with the same id, so it skips fsync."""
    if not outbox_ids:
        return
    async with conn.transaction():
        await conn.execute("SET LOCAL synchronous_commit = off")
        await conn.execute(Q.mark_outbox_published, list(outbox_ids))


async def relay_stale(
    conn: asyncpg.Connection, channel: AbstractChannel, min_age_s: float, limit: int = 500
) -> int:
    """Publish rows left behind by a crash or an outage; returns how many were sent."""
    async with conn.transaction():
        rows = await conn.fetch(Q.claim_stale_outbox, min_age_s, limit)
        events = [OutgoingEvent(r["event_id"], r["routing_key"], r["body"], r["id"])
                  for r in rows]
        confirmed = await publish(channel, events)
        if confirmed:
            await conn.execute(Q.mark_outbox_published, confirmed)
    return len(confirmed)


RELAY_INTERVAL_S = 2.0
RELAY_MIN_AGE_S = 5.0  # younger rows are still being published by their batch
MARK_INTERVAL_S = 0.25


class ResultPublisher:
    """A worker's side of the outbox after the commit: publish a batch's results, mark the
    confirmed ones published in the background, relay stale rows every few seconds."""

    def __init__(self, pool: asyncpg.Pool, channel: AbstractChannel) -> None:
        self.pool, self.channel = pool, channel
        self._confirmed: list[int] = []  # outbox ids confirmed by the broker, to mark
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._relay_loop(), name="outbox-relay"),
                       asyncio.create_task(self._mark_loop(), name="outbox-mark")]

    async def stop(self) -> None:
        """Stop the loops, then mark what was confirmed meanwhile."""
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.mark_confirmed()

    async def publish(self, events: Sequence[OutgoingEvent]) -> None:
        if not events:
            return
        confirmed = await publish(self.channel, events)
        if len(confirmed) < len(events):
            log.warning("results_unconfirmed", count=len(events) - len(confirmed))
        self._confirmed.extend(confirmed)  # marked by the mark loop, off the critical path

    async def mark_confirmed(self) -> None:
        if not self._confirmed:
            return
        ids, self._confirmed = self._confirmed, []
        try:
            async with self.pool.acquire() as conn:
                await mark_published(conn, ids)
        except Exception as exc:  # the relay re-publishes them: same ids, harmless
            log.warning("outbox_mark_failed", error=repr(exc)[:200])

    async def relay_once(self, min_age_s: float) -> int:
        try:
            async with self.pool.acquire() as conn:
                sent = await relay_stale(conn, self.channel, min_age_s)
            if sent:
                log.info("outbox_relayed", count=sent)
            return sent
        except Exception as exc:
            log.warning("outbox_relay_failed", error=repr(exc)[:200])
            return 0

    async def flush(self) -> None:
        """Publish everything unpublished, including rows an earlier process left behind
        (a burst run ends with an empty outbox)."""
        while await self.relay_once(0) > 0:
            pass

    async def _mark_loop(self) -> None:
        while True:
            await asyncio.sleep(MARK_INTERVAL_S)
            await self.mark_confirmed()

    async def _relay_loop(self) -> None:
        while True:
            await asyncio.sleep(RELAY_INTERVAL_S)
            await self.relay_once(RELAY_MIN_AGE_S)
