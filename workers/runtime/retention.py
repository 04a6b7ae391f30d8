"""Retention: delete the runtime's old rows in bounded batches, one runner at a time.

    targets(ops)           what is pruned and after how long (published outbox rows, inbox
                           keys, DLQ audit, heartbeats); money and compliance tables never
    prune(conn, ...)       one run: a session advisory lock, then per table batches of at most
                           `batch_rows` rows, each its own short transaction with a short
                           lock_timeout, a pause between batches
    count(conn, ...)       what a run would delete (`--dry-run`)
    run_periodically(...)  the worker's background loop (HAODIAN_RETENTION_ENABLED)
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog

from handlers.queries import load_queries
from workers import db
from workers.runtime import metrics
from workers.settings import OpsSettings

log = structlog.get_logger()
Q = load_queries("retention")
LOCK_KEY = 0x6861_6F64_7265  # any fixed number, other than the migrations' lock
STATEMENT_TIMEOUT_MS = 60_000  # a batch statement past this is cancelled, the run goes on


@dataclass(frozen=True, slots=True)
class Target:
    """One pruned table: its window and its two statements ($1 window_s, $2 batch rows)."""

    table: str
    window_s: float
    delete_sql: str
    count_sql: str


def targets(ops: OpsSettings) -> list[Target]:
    return [
        Target("outbox", ops.retention_outbox_s, Q.delete_published_outbox,
               Q.count_published_outbox),
        Target("inbox", ops.retention_inbox_s, Q.delete_old_inbox, Q.count_old_inbox),
        Target("dlq_audit", ops.retention_dlq_audit_s, Q.delete_old_dlq_audit,
               Q.count_old_dlq_audit),
        Target("worker_heartbeats", ops.heartbeat_prune_s, Q.delete_old_heartbeats,
               Q.count_old_heartbeats),
    ]


@dataclass(slots=True)
class Pruned:
    """One table's outcome: rows deleted (or that would be), batches, why it stopped early."""

    table: str
    window_s: float
    rows: int = 0
    batches: int = 0
    error: str | None = None
    vacuumed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"table": self.table, "window_s": self.window_s, "rows": self.rows,
                "batches": self.batches, "error": self.error, "vacuumed": self.vacuumed}


@dataclass(slots=True)
class Report:
    """A whole run. `locked_out`: another run held the lock, nothing was done."""

    dry_run: bool
    tables: list[Pruned] = field(default_factory=list)
    locked_out: bool = False
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.locked_out and all(t.error is None for t in self.tables)

    def as_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "locked_out": self.locked_out,
                "complete": self.complete, "seconds": round(self.seconds, 3),
                "tables": [t.as_json() for t in self.tables]}


Progress = Callable[[Pruned], None]


async def count(conn: asyncpg.Connection, ops: OpsSettings) -> Report:
    """What a run would delete now (read only, no lock)."""
    report = Report(dry_run=True)
    for target in targets(ops):
        rows = int(await conn.fetchval(target.count_sql, target.window_s))
        report.tables.append(Pruned(target.table, target.window_s, rows))
    return report


async def prune(conn: asyncpg.Connection, ops: OpsSettings,
                progress: Progress | None = None) -> Report:
    """Delete every target's old rows unless another run holds the lock."""
    started = time.monotonic()
    report = Report(dry_run=False)
    if not await conn.fetchval(Q.try_lock_retention, LOCK_KEY):
        report.locked_out = True
        return report
    try:
        for target in targets(ops):
            pruned = await _prune_table(conn, target, ops, progress)
            if pruned.rows and ops.retention_vacuum:
                pruned.vacuumed = await _vacuum(conn, target.table)
            report.tables.append(pruned)
    finally:
        await conn.execute(Q.unlock_retention, LOCK_KEY)
    report.seconds = time.monotonic() - started
    if report.complete:
        metrics.RETENTION_LAST_SUCCESS.set(time.time())
    return report


async def _prune_table(conn: asyncpg.Connection, target: Target, ops: OpsSettings,
                       progress: Progress | None) -> Pruned:
    outcome = Pruned(target.table, target.window_s)
    counter = metrics.RETENTION_ROWS_PRUNED.labels(target.table)
    while True:
        try:
            async with conn.transaction():
                # Never queue behind a long lock (and make others queue behind us): give
                # up this table for this run instead; the next run continues.
                await conn.execute(
                    f"SET LOCAL lock_timeout = {int(ops.retention_lock_timeout_ms)}")
                await conn.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
                status = await conn.execute(target.delete_sql, target.window_s,
                                            ops.retention_batch_rows)
        except (asyncpg.LockNotAvailableError, asyncpg.QueryCanceledError) as exc:
            outcome.error = type(exc).__name__
            log.warning("retention_table_deferred", table=target.table, rows=outcome.rows,
                        error=repr(exc)[:200])
            return outcome
        deleted = int(status.split()[-1])
        outcome.batches += 1
        outcome.rows += deleted
        counter.inc(deleted)
        if progress is not None:
            progress(outcome)
        if deleted == 0:
            return outcome
        await asyncio.sleep(ops.retention_pause_s)


async def _vacuum(conn: asyncpg.Connection, table: str) -> bool:
    """Make the deleted rows' space reusable now, so the table's size on disk levels off
    even where autovacuum is off or behind. VACUUM (not FULL) takes no lock that blocks
    reads or writes; SKIP_LOCKED passes if autovacuum already works on the table. It runs
    under the server's default statement timeout (no session SET: behind PgBouncer in
    transaction mode that would leak to other clients); on a large table it may take
    minutes, harmlessly."""
    try:
        await conn.execute(f"VACUUM (SKIP_LOCKED, ANALYZE) {table}")  # a fixed target name
        return True
    except asyncpg.PostgresError as exc:
        log.warning("retention_vacuum_failed", table=table, error=repr(exc)[:200])
        return False


async def table_sizes(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Every table's size on disk and estimated rows, largest first; updates the gauge."""
    rows = await conn.fetch(Q.list_table_sizes)
    for r in rows:
        metrics.TABLE_BYTES.labels(r["table_name"]).set(r["bytes"])
    return [{"table": r["table_name"], "bytes": int(r["bytes"]),
             "rows_estimate": int(r["rows_estimate"])} for r in rows]


def windows(ops: OpsSettings) -> dict[str, float]:
    """The pruned tables and their windows in seconds (status, monitor, docs)."""
    return {t.table: t.window_s for t in targets(ops)}


async def run_once(database_url: str, ops: OpsSettings) -> Report | None:
    """One run on its own connection (a long run must not hold a pool connection of the
    batch loop); None when the database could not be reached or the run failed."""
    try:
        conn = await db.connect(database_url)
    except (OSError, asyncpg.PostgresError) as exc:
        log.warning("retention_failed", error=repr(exc)[:200])
        return None
    try:
        report = await prune(conn, ops)
        await table_sizes(conn)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("retention_failed", error=repr(exc)[:200])
        return None
    finally:
        task = asyncio.current_task()
        if task is not None and task.cancelling():  # the worker is stopping: do not wait
            conn.terminate()
        else:
            await conn.close(timeout=5)
    if not report.locked_out:
        log.info("retention_pruned", seconds=round(report.seconds, 2), complete=report.complete,
                 **{t.table: t.rows for t in report.tables})
    return report


async def run_periodically(database_url: str, ops: OpsSettings,
                           first_delay_s: float = 0.0) -> None:
    """Every `retention_every_s`, in the background of a worker; the first run right away,
    so a worker restarted often still prunes."""
    await asyncio.sleep(first_delay_s)
    while True:
        await run_once(database_url, ops)
        await asyncio.sleep(ops.retention_every_s)

