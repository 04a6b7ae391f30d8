"""What concurrent batch transactions cost each other during a drain.

- `deadlocks`: pg_stat_database.deadlocks of the bench database, after minus before
  (PostgreSQL counts every deadlock it breaks). A backend reports its statistics up to
  seconds late, at exit at the latest: `finish` reads the counter after the workers have
  exited, so for the suite's single worker it also covers the phases run with it before
  it stops (latency, soak; skip them with --latency-s 0 for the drain alone).
- `conflict_retries`: the workers' own `haodian_batch_conflicts_total` (a whole batch's
  transaction aborted by 40001, 40P01 or 55P03 and run again), read from each worker's
  /metrics at the drain's start and end, by SQLSTATE.
- `batches`: the same pages' batch count, events and handling seconds (decode,
  transaction and commit, lock waits included: haodian_batch_commit_seconds).
  `events_per_handling_s` of one worker, which waits for no one, is the rate the domain
  would reach if every batch held one lock from its first statement to its commit (the
  day's statistics row does, docs/scaling.md §5): the serial ceiling.
- lock waits: pg_stat_activity sampled every `every_s` during the drain, counting the
  bench database's backends with wait_event_type = 'Lock' (a row's transaction, a tuple,
  a relation). `mean_waiting` is the average number of backends waiting at a sample,
  `waiting_share` the fraction of samples with at least one waiter, and
  `wait_backend_s` = mean_waiting × the drain's seconds: backend-seconds spent waiting on
  locks, to the sampling's resolution; `by_statement` says which statement waited (the
  rows it waits for: the day's statistics row is taken by insert_orders, the stores'
  balances by ledger.book). Sampling costs one small query per `every_s`.
"""

import asyncio
import contextlib
import socket
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from workers import db

LOCK_WAITERS = """
SELECT wait_event, left(query, 400) AS query FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
"""
# What a waiting statement is, by the table its text names first: the row it waits for.
STATEMENTS = (("ledger_balances", "store balances (ledger.book)"),
              ("settlement_orders", "orders + day statistics (insert_orders)"),
              ("inbox", "inbox"), ("outbox", "outbox"))
DEADLOCKS = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"


def statement(query: str) -> str:
    """A waiting statement's kind (STATEMENTS), else its first 40 characters."""
    for table, kind in STATEMENTS:
        if table in query:
            return kind
    return " ".join(query.split())[:40] or "?"


def free_port() -> int:
    """A TCP port free right now, for a worker under test's /metrics."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def conflicts_from_metrics(text: str) -> dict[str, int]:
    """haodian_batch_conflicts_total of one /metrics page, summed by SQLSTATE."""
    return {k.removeprefix("sqlstate:"): int(v) for k, v in figures(text).items()
            if k.startswith("sqlstate:")}


def figures(text: str) -> Counter[str]:
    """From one worker's /metrics page: conflicts by SQLSTATE ("sqlstate:40P01"), and the
    batches' handling seconds (decode, transaction, commit; lock waits included) and
    sizes, summed over domains."""
    found: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "haodian_batch_conflicts_total":
                found["sqlstate:" + sample.labels.get("sqlstate", "")] += int(sample.value)
            elif sample.name == "haodian_batch_commit_seconds_sum":
                found["handling_s"] += sample.value  # type: ignore[assignment]
            elif sample.name == "haodian_batch_size_sum":
                found["events"] += int(sample.value)
            elif sample.name == "haodian_batch_size_count":
                found["batches"] += int(sample.value)
    return found


async def scrape(ports: Sequence[int]) -> Counter[str] | None:
    """The figures of the workers serving /metrics on `ports`, summed; None when one of
    them could not be read (the report then says so rather than showing 0)."""
    total: Counter[str] = Counter()
    async with httpx.AsyncClient(timeout=5) as client:
        for port in ports:
            try:
                page = await client.get(f"http://127.0.0.1:{port}/metrics")
                page.raise_for_status()
            except httpx.HTTPError:
                return None
            total.update(figures(page.text))
    return total


class Contention:
    """Started when a drain's timing starts, stopped when it ends (before its workers)."""

    def __init__(self, database_url: str, metrics_ports: Sequence[int],
                 every_s: float = 0.05) -> None:
        self.database_url = database_url
        self.ports = list(metrics_ports)
        self.every_s = every_s
        self.conn: asyncpg.Connection | None = None
        self.deadlocks_before = 0
        self.samples = 0
        self.waiting_total = 0
        self.waiting_max = 0
        self.with_waiters = 0
        self.by_event: Counter[str] = Counter()
        self.by_statement: Counter[str] = Counter()
        self.task: asyncio.Task[None] | None = None
        self.started = 0.0
        self.seconds = 0.0
        self.scraped: Counter[str] | None = None

    async def start(self) -> None:
        self.conn = await db.connect(self.database_url)
        self.deadlocks_before = int(await self.conn.fetchval(DEADLOCKS) or 0)
        self.scraped = await scrape(self.ports)
        self.started = time.monotonic()
        self.task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        assert self.conn is not None
        while True:
            rows = await self.conn.fetch(LOCK_WAITERS)
            self.samples += 1
            self.waiting_total += len(rows)
            self.waiting_max = max(self.waiting_max, len(rows))
            self.with_waiters += bool(rows)
            self.by_event.update(r["wait_event"] for r in rows)
            self.by_statement.update(statement(r["query"] or "") for r in rows)
            await asyncio.sleep(self.every_s)

    async def stop(self) -> None:
        """End sampling and read the workers' counters: call while they still run."""
        self.seconds = time.monotonic() - self.started
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        before, self.scraped = self.scraped, await scrape(self.ports)
        if before is not None and self.scraped is not None:
            self.scraped.subtract(before)  # the drain's own share of the counters

    async def finish(self) -> dict[str, Any]:
        """The report, once the workers have exited: a backend flushes its statistics
        (the deadlocks it detected) at exit at the latest."""
        assert self.conn is not None
        if self.task is not None and not self.task.done():  # the drain failed: no stop()
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        try:
            deadlocks = await self._deadlocks_settled()
        finally:
            await self.conn.close()
        mean = self.waiting_total / self.samples if self.samples else 0.0
        got = self.scraped
        conflicts = None if got is None else {k.removeprefix("sqlstate:"): int(v)
                                              for k, v in got.items()
                                              if k.startswith("sqlstate:") and v}
        handling = {} if got is None else {
            "batches": got["batches"], "events": got["events"],
            "handling_s": round(got["handling_s"], 3),
            "events_per_handling_s": round(got["events"] / got["handling_s"])
            if got["handling_s"] > 0 else None}
        return {"deadlocks": deadlocks,
                "batches": handling,
                "conflict_retries": None if conflicts is None else sum(conflicts.values()),
                "conflict_retries_by_sqlstate": conflicts,
                "lock_waits": {"sampled_every_ms": round(self.every_s * 1000),
                               "samples": self.samples,
                               "mean_waiting": round(mean, 3),
                               "max_waiting": self.waiting_max,
                               "waiting_share": round(self.with_waiters / self.samples, 3)
                               if self.samples else 0.0,
                               "wait_backend_s": round(mean * self.seconds, 2),
                               "by_event": dict(self.by_event.most_common()),
                               "by_statement": dict(self.by_statement.most_common())}}

    async def _deadlocks_settled(self) -> int:
        """The deadlocks counter once it stops moving (exiting backends flush theirs)."""
        assert self.conn is not None
        last = -1
        for _ in range(10):
            await self.conn.execute("SELECT pg_stat_clear_snapshot()")
            now = int(await self.conn.fetchval(DEADLOCKS) or 0)
            if now == last:
                break
            last = now
            await asyncio.sleep(0.3)
        return last - self.deadlocks_before
