"""One consumer batch through PostgreSQL: inbox, handlers, outbox, one commit.

The batch runs in one transaction. If a handler raises for one event, the batch is run
once more with a savepoint around each event, so that the bad event is rolled back on
its own and its neighbours still commit in that same transaction ("one retry of the
batch"). Serialization failures and deadlocks retry the whole batch a few times first.
"""

import asyncio
import enum
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog

from handlers.base import ChunkedRoute, Domain, HaodianError, PermanentError, Route
from handlers.queries import load_queries
from workers import db
from workers.runtime import outbox
from workers.runtime.decode import Decoded, Rejected
from workers.runtime.errors import (
    CommitNotReplicated,
    DatabaseUnavailable,
    is_connection_error,
    is_retryable_tx,
    translate,
)
from workers.runtime.metrics import BATCH_CONFLICTS
from workers.runtime.outbox import OutgoingEvent

Q = load_queries("runtime")
log = structlog.get_logger()

WHOLE_BATCH_TRIES = 3


class Fate(enum.Enum):
    ACK = "ack"  # processed, or a duplicate of something processed
    REJECT = "reject"  # to the DLQ now
    RETRY = "retry"  # to the durable retry path
    REQUEUE = "requeue"  # unfinished long job handed back at shutdown


@dataclass(slots=True)
class BatchEntry:
    """One message of a batch and what becomes of it."""

    body: bytes
    routing_key: str
    attempt: int
    item: Decoded | Rejected
    fate: Fate = Fate.ACK
    reason: str = ""
    detail: str = ""
    handle: Any = None  # the broker's message, opaque here
    # Its effects are already there: an earlier copy in the same batch, or in the inbox (a
    # redelivery, e.g. after a lost connection); counted as outcome="duplicate".
    duplicate: bool = False
    copied: bool = True  # False when its DLQ or retry copy was not confirmed: do not ack
    results: list[OutgoingEvent] = field(default_factory=list)

    def reset(self) -> None:
        """Forget what a rolled-back try decided."""
        self.fate, self.reason, self.detail, self.results = Fate.ACK, "", "", []

    def reject(self, reason: str, detail: str = "") -> None:
        self.fate, self.reason, self.detail = Fate.REJECT, reason, detail

    def fail(self, exc: BaseException, max_attempts: int) -> None:
        """A handler failure: permanent ones (data errors included) reject now, others
        retry while attempts last."""
        exc = translate(exc)
        if isinstance(exc, PermanentError):
            self.reject(exc.reason, exc.detail)
            return
        reason = exc.reason if isinstance(exc, HaodianError) else "handler_error"
        detail = exc.detail if isinstance(exc, HaodianError) else repr(exc)[:300]
        if self.attempt + 1 >= max_attempts:
            self.reject("retries_exhausted", f"{reason}: {detail}" if detail else reason)
        else:
            self.fate, self.reason, self.detail = Fate.RETRY, reason, detail

    def judge_seen_before(self, stored_sha256: bytes | None) -> bool:
        """The inbox already holds this (source, id): True for the same body (a duplicate,
        its effects are there); another body is a conflict, rejected."""
        assert self.decoded is not None
        if stored_sha256 != self.decoded.body_sha256:
            self.reject("conflicting_duplicate",
                        "this (source, id) was processed before with a different body")
            return False
        return True

    @property
    def decoded(self) -> Decoded | None:
        return self.item if isinstance(self.item, Decoded) else None

    def identity(self) -> tuple[str | None, str | None, str | None]:
        if isinstance(self.item, Decoded):
            e = self.item.event
            return e.id, e.source, e.type
        return self.item.event_id, self.item.source, self.item.type


def dedupe_within_batch(entries: Sequence[BatchEntry]) -> None:
    """Two copies of one key in one batch: the second is a duplicate or a conflict."""
    seen: dict[tuple[str, str], bytes] = {}
    for d in entries:
        dec = d.decoded
        if dec is None or d.fate is not Fate.ACK:
            continue
        first = seen.setdefault(dec.key, dec.body_sha256)
        if first is dec.body_sha256:
            continue
        if first == dec.body_sha256:
            d.duplicate = True
        else:
            d.reject("conflicting_duplicate",
                     "same (source, id) with a different body in the same batch")


class BatchProcessor:
    """Runs the database side of batches for one domain."""

    def __init__(self, domain: Domain, max_attempts: int, chunk_size: int) -> None:
        self.domain = domain
        self.max_attempts = max_attempts
        self.chunk_size = chunk_size

    async def commit_batch(self, pool: asyncpg.Pool, entries: Sequence[BatchEntry]) -> None:
        """Decide the fate of every delivery and commit; results land in `d.results`."""
        live = [d for d in entries if d.fate is Fate.ACK and not d.duplicate
                and d.decoded and isinstance(d.decoded.route, Route)]
        rejected = [d for d in entries if d.fate is Fate.REJECT]
        if not live and not rejected:
            return
        for attempt in range(1, WHOLE_BATCH_TRIES + 1):
            for d in live:
                d.reset()
            try:
                await self._in_transaction(pool, live, entries, isolate=False)
                return
            except HaodianError:
                break
            except Exception as exc:
                if is_connection_error(exc):
                    raise DatabaseUnavailable(str(exc)) from exc
                if is_retryable_tx(exc):
                    BATCH_CONFLICTS.labels(self.domain.name,
                                           str(getattr(exc, "sqlstate", "") or "")).inc()
                if not is_retryable_tx(exc) or attempt == WHOLE_BATCH_TRIES:
                    log.warning("batch_failed_isolating", error=repr(exc)[:300])
                    break
                await asyncio.sleep(random.uniform(0.01, 0.05) * attempt)
        for d in live:  # what the failed try decided was rolled back with it
            d.reset()
        try:
            await self._in_transaction(pool, live, entries, isolate=True)
        except Exception as exc:
            if is_connection_error(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            raise

    async def _in_transaction(self, pool: asyncpg.Pool, live: list[BatchEntry],
                              everyone: Sequence[BatchEntry], isolate: bool) -> None:
        async with pool.acquire() as conn:
            await self._decide_and_commit(conn, live, everyone, isolate)
            if db.commit_not_replicated(conn):
                raise CommitNotReplicated("the wait for the synchronous standby was cancelled")

    async def _decide_and_commit(self, conn: asyncpg.Connection, live: list[BatchEntry],
                                 everyone: Sequence[BatchEntry], isolate: bool) -> None:
        async with conn.transaction():
            if isolate:
                for d in live:
                    try:
                        async with conn.transaction():  # a savepoint
                            await self._apply(conn, [d])
                    except Exception as exc:
                        if is_connection_error(exc):
                            raise
                        d.results.clear()
                        d.fail(exc, self.max_attempts)
                        log.info("event_isolated", event_id=d.identity()[0],
                                 reason=d.reason, error=repr(exc)[:300])
            else:
                await self._apply(conn, live)
            for d in everyone:
                if d.fate is Fate.REJECT:
                    d.results = self.rejection_results(d)
            new = await outbox.insert(conn, [e for d in everyone for e in d.results])
            self._assign_outbox_ids(everyone, new)

    async def _apply(self, conn: asyncpg.Connection, group: list[BatchEntry]) -> None:
        """Inbox first (duplicates drop out), then each route's handler, in arrival order."""
        fresh = await self._claim_inbox(conn, group)
        by_route: dict[Route, list[BatchEntry]] = defaultdict(list)
        for d in fresh:
            assert d.decoded is not None and isinstance(d.decoded.route, Route)
            by_route[d.decoded.route].append(d)
        for route, ds in by_route.items():
            events = [d.decoded.event for d in ds if d.decoded]
            outputs = await route.handler(conn, events)
            if len(outputs) != len(ds):
                raise RuntimeError(f"{route.event_type}: handler returned {len(outputs)} "
                                   f"result lists for {len(ds)} events")
            for d, results in zip(ds, outputs, strict=True):
                assert d.decoded is not None
                d.results = [outbox.wrap(r, d.decoded.event) for r in results]

    async def _claim_inbox(self, conn: asyncpg.Connection, group: list[BatchEntry]
                           ) -> list[BatchEntry]:
        if not group:
            return []
        decs = [d.decoded for d in group if d.decoded]
        rows = await conn.fetch(
            Q.insert_inbox, self.domain.name,
            [x.event.source for x in decs], [x.event.id for x in decs],
            [x.event.type for x in decs], [x.body_sha256 for x in decs],
            [x.event.time for x in decs])
        claimed = {(r["source"], r["event_id"]) for r in rows}
        seen_before = [d for d in group if d.decoded and d.decoded.key not in claimed]
        if seen_before:
            await self._judge_seen_before(conn, seen_before)
            # Their effects may be a commit the standby never got (a primary restarted
            # by crash recovery shows its local commits, a cancelled wait): this
            # transaction writes, so its commit waits for the standby, and for that one.
            first = seen_before[0].decoded
            assert first is not None
            await conn.execute(Q.touch_inbox, *first.key)
        return [d for d in group if d.decoded and d.decoded.key in claimed]

    async def _judge_seen_before(self, conn: asyncpg.Connection, ds: list[BatchEntry]) -> None:
        keys = [d.decoded.key for d in ds if d.decoded]
        rows = await conn.fetch(Q.get_inbox_hashes, [k[0] for k in keys], [k[1] for k in keys])
        stored = {(r["source"], r["event_id"]): bytes(r["body_sha256"]) for r in rows}
        for d in ds:
            assert d.decoded is not None
            if d.judge_seen_before(stored.get(d.decoded.key)):
                d.duplicate = True
                log.info("duplicate_skipped", event_id=d.decoded.event.id)

    def rejection_results(self, d: BatchEntry) -> list[OutgoingEvent]:
        event_id, source, event_type = d.identity()
        if event_id is None:
            return []  # nothing to name it by: the DLQ copy is the record
        time = d.decoded.event.time if d.decoded else datetime.now(UTC)
        return [outbox.rejection(event_id, source, event_type, d.reason, time)]

    @staticmethod
    def _assign_outbox_ids(everyone: Sequence[BatchEntry], new: list[OutgoingEvent]) -> None:
        """Keep only the events that are new in the outbox (others were sent before)."""
        by_id = {e.event_id: e for e in new}
        for d in everyone:
            d.results = [by_id[e.event_id] for e in d.results if e.event_id in by_id]

    async def run_chunk(self, pool: asyncpg.Pool, d: BatchEntry, first: bool) -> bool:
        """One step of a long job in its own transaction; True when the job is done."""
        dec = d.decoded
        assert dec is not None and isinstance(dec.route, ChunkedRoute)
        try:
            async with pool.acquire() as conn:
                done = await self._chunk(conn, d, dec, first)
                if db.commit_not_replicated(conn):
                    raise CommitNotReplicated("the wait for the synchronous standby was "
                                              "cancelled")
                return done
        except Exception as exc:
            if is_connection_error(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            d.results = []
            d.fail(exc, self.max_attempts)
            if d.fate is Fate.REJECT:
                async with pool.acquire() as conn, conn.transaction():
                    d.results = await outbox.insert(conn, self.rejection_results(d))
            return True

    async def _chunk(self, conn: asyncpg.Connection, d: BatchEntry, dec: Decoded,
                     first: bool) -> bool:
        assert isinstance(dec.route, ChunkedRoute)
        async with conn.transaction():
            if first:
                rows = await conn.fetch(Q.get_inbox_hashes, [dec.key[0]], [dec.key[1]])
                if rows:
                    await conn.execute(Q.touch_inbox, *dec.key)  # see _claim_inbox
                    if d.judge_seen_before(bytes(rows[0]["body_sha256"])):
                        d.duplicate = True
                    else:
                        d.results = await outbox.insert(conn, self.rejection_results(d))
                    return True
            chunk = await dec.route.handler(conn, dec.event, self.chunk_size)
            if chunk.done:
                await conn.execute(
                    Q.insert_inbox, self.domain.name, [dec.event.source], [dec.event.id],
                    [dec.event.type], [dec.body_sha256], [dec.event.time])
            d.results = await outbox.insert(
                conn, [outbox.wrap(r, dec.event) for r in chunk.results])
            return chunk.done
