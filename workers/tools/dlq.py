"""Dead letters for people: list, show, replay and purge, read from PostgreSQL.

Reading never touches a queue. Each command first moves what waits in the place's
queue into the `dead_letters` table (workers/runtime/dead_letters.py), so a message
dead-lettered a moment ago is already there; then it reads the table only. Replay
republishes from the table with publisher confirms and marks rows replayed after the
confirm; purge deletes rows. Both write a `dlq_audit` row."""

import asyncio
import base64
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import aio_pika
import aiormq
import asyncpg
import orjson

from handlers.queries import load_queries
from workers import db, topology
from workers.registry import all_routes
from workers.runtime.amqp_codec import (
    Faithful,
    decode_properties,
    property_values,
    without_headers,
)
from workers.runtime.dead_letters import ingest_waiting
from workers.runtime.delivered import DELIVERY_COUNT_HEADER, RUNTIME_HEADER_PREFIX

Q = load_queries("dead_letters")
AUDIT = load_queries("runtime")
PUBLISH_WINDOW = 200  # replayed messages awaiting their confirm at once

# Set by the worker (x-haodian-*) or the broker; a replayed message starts afresh.
RUNTIME_HEADERS = (RUNTIME_HEADER_PREFIX, "x-death", "x-first-death", "x-last-death",
                   DELIVERY_COUNT_HEADER)


class DlqError(Exception):
    """A dead-letter command refused or did not finish; the message says why."""


@dataclass(frozen=True)
class Filter:
    reason: str | None = None
    type: str | None = None  # glob: * any run of characters, ? one, e.g. "order.*"
    event_id: str | None = None
    limit: int | None = None
    contains: str | None = None  # the raw body contains this text
    everything: bool = False  # purge: every dead letter of the place, said explicitly

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise DlqError(f"a limit is at least 1, not {self.limit}")

    @property
    def selects(self) -> bool:
        """Whether the filter picks messages (a limit only caps how many)."""
        return any(v is not None for v in (self.reason, self.type, self.event_id,
                                           self.contains))

    def args(self, place: str) -> tuple[Any, ...]:
        """The parameters of list_dead_letters / lock_dead_letters."""
        return (place, self.reason, None if self.type is None else like_pattern(self.type),
                self.event_id, None if self.contains is None else self.contains.encode(),
                self.limit)

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {k: v for k, v in (
            ("reason", self.reason), ("type", self.type), ("event_id", self.event_id),
            ("limit", self.limit), ("contains", self.contains)) if v is not None}
        if self.everything:
            found["all"] = True
        return found


def like_pattern(glob: str) -> str:
    """A type glob as a LIKE pattern; LIKE's own wildcards in it are literal."""
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


@dataclass(frozen=True)
class DeadLetter:
    position: int  # the row id: stable, so `show N` names the same message tomorrow
    place: str
    reason: str
    detail: str
    event_id: str
    source: str
    type: str
    routing_key: str
    dead_lettered_at: datetime
    attempt: int
    copies: int
    body: bytes
    encoded_properties: bytes = field(repr=False)

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> "DeadLetter":
        return cls(r["id"], r["place"], r["reason"], r["detail"], r["event_id"],
                   r["event_source"], r["event_type"], r["routing_key"],
                   r["dead_lettered_at"], r["attempt"], r["copies"], r["body"],
                   r["properties"])

    @cached_property
    def properties(self) -> Faithful:
        """Every AMQP property and header as received, decoded on first use."""
        return decode_properties(self.encoded_properties)

    @property
    def headers(self) -> dict[str, Any]:
        return dict(self.properties.headers or {})

    @property
    def rejected_at(self) -> str:
        return self.dead_lettered_at.isoformat()

    def summary(self) -> dict[str, Any]:
        return {"position": self.position, "place": self.place, "reason": self.reason,
                "type": self.type, "event_id": self.event_id, "source": self.source,
                "routing_key": self.routing_key, "rejected_at": self.rejected_at,
                "attempt": self.attempt, "copies": self.copies, "detail": self.detail}

    def as_json(self) -> dict[str, Any]:
        """`dlq show --json`: the summary, every property and header, and the body (as
        text when it is UTF-8, and always as base64). Values JSON lacks (bytes,
        decimals) stay as they are: workers/cli/common.py writes them."""
        values = property_values(self.properties)
        headers = values.pop("headers", {})
        try:
            text: str | None = self.body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return {**self.summary(), "properties": values, "headers": headers, "body": text,
                "body_base64": base64.b64encode(self.body).decode("ascii")}



# ---- reading --------------------------------------------------------------------------
async def ingest(amqp_url: str, conn: asyncpg.Connection, places: Sequence[str]) -> int:
    """Move what waits in the places' queues into the table; returns how many."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await (await connection.channel()).get_underlay_channel()
        return sum([await ingest_waiting(channel, conn, p) for p in places])
    finally:
        await connection.close()


async def ingest_places(amqp_url: str, database_url: str, places: Sequence[str]) -> int:
    conn = await db.connect(database_url)
    try:
        return await ingest(amqp_url, conn, places)
    finally:
        await conn.close()


async def list_dead_letters(amqp_url: str, database_url: str, place: str, flt: Filter,
                            *, fresh: bool = True) -> list[DeadLetter]:
    """The place's dead letters, oldest first; `fresh` ingests what waits first."""
    conn = await db.connect(database_url)
    try:
        if fresh:
            await ingest(amqp_url, conn, [place])
        return [DeadLetter.from_row(r) for r in await conn.fetch(Q.list_dead_letters,
                                                                  *flt.args(place))]
    finally:
        await conn.close()


async def get_dead_letter(database_url: str, place: str, position: int) -> DeadLetter | None:
    conn = await db.connect(database_url)
    try:
        row = await conn.fetchrow(Q.get_dead_letter, position, place)
    finally:
        await conn.close()
    return None if row is None else DeadLetter.from_row(row)


async def groups(conn: asyncpg.Connection, places: Sequence[str]) -> list[asyncpg.Record]:
    """Per place and reason: count, types, latest, sample ids, one detail."""
    return list(await conn.fetch(Q.list_dead_letter_groups, list(places)))


# ---- acting ---------------------------------------------------------------------------
def unreplayable(letters: Sequence[DeadLetter]) -> list[str]:
    """Routing keys no domain handles yet: replayed, they would only come back."""
    routes = all_routes()
    return sorted({d.routing_key for d in letters if d.routing_key not in routes})


async def replay(amqp_url: str, database_url: str, place: str, flt: Filter,
                 actor: str) -> int:
    """Republish matching dead letters to haodian.events under their original routing key,
    with their headers and properties as received less the runtime's and the broker's
    own headers (a replay starts with a fresh attempt count). Refuses, replaying nothing,
    when a matching message's type has no route yet."""
    async with _session(amqp_url, database_url, place) as conn, \
            _audit(conn, "replay", place, flt, actor) as taken:
        connection = await aio_pika.connect(amqp_url)
        try:
            channel = await (await connection.channel(publisher_confirms=True)
                             ).get_underlay_channel()
            async with conn.transaction():
                letters = [DeadLetter.from_row(r)
                           for r in await conn.fetch(Q.lock_dead_letters, *flt.args(place))]
                missing = unreplayable(letters)
                if missing:
                    raise DlqError(
                        "not replayed: no domain handles type " + ", ".join(missing)
                        + " yet; replayed now it would land in "
                          f"{topology.UNROUTABLE} again")
                confirmed = await _republish(channel, letters)
                taken.count = len(confirmed)
                await conn.execute(Q.mark_dead_letters_replayed, confirmed)
        finally:
            await connection.close()
    if len(confirmed) < len(letters):
        raise DlqError(f"the broker did not confirm {len(letters) - len(confirmed)} "
                       "message(s); they stay dead letters, replay them again")
    return len(confirmed)


async def _republish(channel: aiormq.abc.AbstractChannel, letters: Sequence[DeadLetter]
                     ) -> list[int]:
    """Publish with confirms, a window at a time; returns the ids the broker confirmed."""
    confirmed: list[int] = []
    for start in range(0, len(letters), PUBLISH_WINDOW):
        window = letters[start:start + PUBLISH_WINDOW]
        answers = await asyncio.gather(*(_publish_one(channel, d) for d in window))
        for d, ok in zip(window, answers, strict=True):
            if ok:
                confirmed.append(d.position)
    return confirmed


async def _publish_one(channel: aiormq.abc.AbstractChannel, d: DeadLetter) -> bool:
    properties = without_headers(d.properties, RUNTIME_HEADERS)
    properties.delivery_mode = 2  # a replay is an operator's act: it survives a restart
    try:
        answer = await channel.basic_publish(d.body, exchange=topology.EVENTS,
                                             routing_key=d.routing_key, properties=properties)
    except aiormq.exceptions.AMQPError:
        return False
    return isinstance(answer, aiormq.spec.Basic.Ack)


def check_purge(flt: Filter) -> None:
    """Purging everything is said explicitly, and then with no filter."""
    if flt.everything and flt.selects:
        raise DlqError("purging all takes no filter (reason, type, event id, contains): "
                       "give one or the other")
    if not flt.everything and not flt.selects:
        raise DlqError("purge needs a filter (reason, type, event id, contains), or `all` "
                       "(--all) to delete every dead letter of the place")


async def purge(amqp_url: str, database_url: str, place: str, flt: Filter, actor: str) -> int:
    """Delete matching dead letters for good. Every dead letter of the place goes only
    with an explicit `everything` (and then no filter)."""
    check_purge(flt)
    async with _session(amqp_url, database_url, place) as conn, \
            _audit(conn, "purge", place, flt, actor) as taken, conn.transaction():
        ids = [r["id"] for r in await conn.fetch(Q.lock_dead_letters, *flt.args(place))]
        await conn.execute(Q.delete_dead_letters, ids)
        taken.count = len(ids)
    return taken.count


@asynccontextmanager
async def _session(amqp_url: str, database_url: str, place: str
                   ) -> AsyncIterator[asyncpg.Connection]:
    """A database connection, after what waits in the place's queue was ingested."""
    conn = await db.connect(database_url)
    try:
        await ingest(amqp_url, conn, [place])
        yield conn
    finally:
        await conn.close()


@dataclass
class _Taken:
    count: int = 0


@asynccontextmanager
async def _audit(conn: asyncpg.Connection, action: str, place: str, flt: Filter,
                 actor: str) -> AsyncIterator[_Taken]:
    """Writes the audit row with however many messages were taken, also when the command
    fails half-way."""
    taken = _Taken()
    try:
        yield taken
    finally:
        await conn.execute(AUDIT.insert_dlq_audit, action, place,
                           orjson.dumps(flt.as_json()).decode(), taken.count, actor)
