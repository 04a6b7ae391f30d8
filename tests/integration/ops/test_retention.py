"""Retention against the real database: what goes and what stays, bounded batches, one run
at a time, a locked row defers a table instead of waiting, the command line, the worker's
periodic run, and table sizes in `haodian status --json`."""

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from harness import Bus, settings_env
from ops_helpers import free_port, wait_until

from workers.registry import resolve
from workers.runtime import metrics, retention
from workers.runtime.worker import Worker
from workers.settings import OpsSettings, Settings

DAY = 86400.0
OPS = OpsSettings(retention_batch_rows=3, retention_pause_s=0)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(str(settings.database_url))
    yield conn
    await conn.close()


async def add_rows(conn: asyncpg.Connection, *, old: int, young: int) -> None:
    """`old` rows past every default window and `young` rows within, in every pruned table;
    plus old outbox rows never published (a stuck relay: kept)."""
    for n, age in ((old, "400 days"), (young, "1 hour")):
        for i in range(n):
            key = f"{age}-{i}"
            await conn.execute(
                "INSERT INTO inbox (source, event_id, domain, type, body_sha256, outcome, "
                "committed_at) VALUES ('s', $1, $2, 't', '\\x00', 'processed', "
                "now() - $3::text::interval)", key, ("settlement", "deposit")[i % 2], age)
            await conn.execute(
                "INSERT INTO outbox (event_id, routing_key, body, created_at, published_at) "
                "VALUES ($1, 'k', '\\x00', now() - $2::text::interval, "
                "now() - $2::text::interval)", uuid.uuid4(), age)
            await conn.execute(
                "INSERT INTO dlq_audit (action, domain, filter, messages, actor, at) "
                "VALUES ('purge', 'settlement', '{}', 1, 'me', now() - $1::text::interval)", age)
            await conn.execute(
                "INSERT INTO worker_heartbeats (worker_id, host, pid, domains, started_at, "
                "last_seen_at) VALUES ($1, 'h', 1, '{settlement}', now() - $2::text::interval, "
                "now() - $2::text::interval)", uuid.uuid4(), age)
    await conn.execute(
        "INSERT INTO outbox (event_id, routing_key, body, created_at) "
        "VALUES ($1, 'k', '\\x00', now() - interval '400 days')", uuid.uuid4())


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    return {t: await conn.fetchval(f"SELECT count(*) FROM {t}")
            for t in ("inbox", "outbox", "dlq_audit", "worker_heartbeats")}


async def test_run_deletes_rows_past_their_windows_in_bounded_batches(
        db: asyncpg.Connection) -> None:
    await add_rows(db, old=7, young=2)
    before = metrics.RETENTION_ROWS_PRUNED.labels("inbox")._value.get()

    dry = await retention.count(db, OPS)
    assert {t.table: t.rows for t in dry.tables} == {
        "outbox": 7, "inbox": 7, "dlq_audit": 7, "worker_heartbeats": 7}
    assert await counts(db) == {"inbox": 9, "outbox": 10, "dlq_audit": 9,
                                "worker_heartbeats": 9}, "a dry run deletes nothing"

    report = await retention.prune(db, OPS)
    assert report.complete
    assert {t.table: (t.rows, t.batches) for t in report.tables} == {
        # 3 rows per transaction: 3 + 3 + 1, then an empty batch ends the table
        "outbox": (7, 4), "inbox": (7, 4), "dlq_audit": (7, 4), "worker_heartbeats": (7, 4)}
    assert await counts(db) == {"inbox": 2, "outbox": 3, "dlq_audit": 2,
                                "worker_heartbeats": 2}
    assert await db.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 1, (
        "an unpublished result is never deleted, however old")
    assert metrics.RETENTION_ROWS_PRUNED.labels("inbox")._value.get() - before == 7


async def test_freed_space_is_reused_so_the_size_on_disk_levels_off(
        db: asyncpg.Connection) -> None:
    """Month seven in a loop: rows arrive, age out, are pruned; with retention's VACUUM
    the heap stops growing after the first turn (this machine runs with autovacuum off,
    so nothing else would reclaim the space)."""
    ops = OpsSettings(retention_pause_s=0, retention_inbox_s=DAY)
    sizes = []
    for turn in range(4):
        await db.execute(
            "INSERT INTO inbox (source, event_id, domain, type, body_sha256, outcome, "
            "committed_at) SELECT 's', $1 || '-' || i, 'settlement', 't', '\\x00', "
            "'processed', now() - interval '2 days' FROM generate_series(1, 4000) AS i",
            f"turn{turn}")
        report = await retention.prune(db, ops)
        inbox = next(t for t in report.tables if t.table == "inbox")
        assert (inbox.rows, inbox.vacuumed) == (4000, True)
        sizes.append(await db.fetchval("SELECT pg_relation_size('inbox')"))
    assert sizes[-1] <= sizes[0], f"the inbox heap kept growing: {sizes}"


async def test_a_second_run_waits_for_nothing_and_deletes_nothing(
        db: asyncpg.Connection, settings: Settings) -> None:
    await add_rows(db, old=2, young=0)
    holder = await asyncpg.connect(str(settings.database_url))
    try:
        assert await holder.fetchval("SELECT pg_try_advisory_lock($1)", retention.LOCK_KEY)
        report = await retention.prune(db, OPS)
        assert report.locked_out and report.tables == []
        assert (await counts(db))["inbox"] == 2
    finally:
        await holder.close()
    assert (await retention.prune(db, OPS)).complete
    assert (await counts(db))["inbox"] == 0


async def test_a_locked_row_defers_its_table_and_the_others_are_pruned(
        db: asyncpg.Connection, settings: Settings) -> None:
    await add_rows(db, old=2, young=0)
    holder = await asyncpg.connect(str(settings.database_url))
    try:
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT * FROM inbox WHERE event_id = '400 days-0' FOR UPDATE")
        report = await retention.prune(db, OpsSettings(retention_lock_timeout_ms=50,
                                                       retention_pause_s=0))
        await tx.rollback()
    finally:
        await holder.close()
    outcome = {t.table: (t.rows, t.error) for t in report.tables}
    assert outcome["inbox"] == (0, "LockNotAvailableError")
    assert outcome["outbox"] == (2, None) and outcome["dlq_audit"] == (2, None)
    assert not report.complete
    assert (await counts(db))["inbox"] == 2, "nothing lost, the next run continues"


async def run_cli(settings: Settings, *args: str) -> tuple[int, bytes, bytes]:
    haodian = str(Path(sys.executable).parent / "haodian")
    proc = await asyncio.create_subprocess_exec(
        haodian, "retention", "run", *args, env=settings_env(settings),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out, err


async def test_command_counts_with_dry_run_then_deletes(db: asyncpg.Connection,
                                                        settings: Settings) -> None:
    await add_rows(db, old=4, young=1)
    code, out, _ = await run_cli(settings, "--dry-run", "--json")
    dry: dict[str, Any] = orjson.loads(out)
    assert code == 0 and dry["dry_run"] is True
    assert {t["table"]: t["rows"] for t in dry["tables"]} == {
        "outbox": 4, "inbox": 4, "dlq_audit": 4, "worker_heartbeats": 4}
    assert (await counts(db))["inbox"] == 5
    code, out, _ = await run_cli(settings)
    assert code == 0
    text = out.decode()
    assert "rows deleted" in text and "inbox" in text and "30.0 d" in text
    assert await counts(db) == {"inbox": 1, "outbox": 2, "dlq_audit": 1,
                                "worker_heartbeats": 1}


async def test_command_names_a_bad_setting(settings: Settings) -> None:
    haodian = str(Path(sys.executable).parent / "haodian")
    proc = await asyncio.create_subprocess_exec(
        haodian, "retention", "run", env=settings_env(settings) | {
            "HAODIAN_RETENTION_BATCH_ROWS": "0"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    assert "HAODIAN_RETENTION_BATCH_ROWS" in err.decode()


async def test_a_running_worker_prunes_periodically(bus: Bus, db: asyncpg.Connection,
                                                    settings: Settings) -> None:
    await add_rows(db, old=3, young=1)
    worker = Worker(settings, resolve(["deposit"]))
    worker.monitoring.ops = OpsSettings(retention_every_s=0.2, retention_pause_s=0)
    task = asyncio.create_task(worker.run())
    try:
        async def pruned() -> bool:
            return (await counts(db))["inbox"] == 1

        await wait_until(pruned, 20, "the worker's retention run")
        await add_rows(db, old=2, young=0)  # a later run catches rows that aged since

        async def pruned_again() -> bool:
            return (await counts(db))["dlq_audit"] == 1

        await wait_until(pruned_again, 20, "the next periodic run")
    finally:
        worker.request_stop()
        assert await asyncio.wait_for(task, 30) == 0


async def test_a_worker_with_retention_off_deletes_nothing(bus: Bus, db: asyncpg.Connection,
                                                           settings: Settings) -> None:
    await add_rows(db, old=2, young=0)
    worker = Worker(settings, resolve(["deposit"]), burst=True, burst_idle_s=0.3)
    worker.monitoring.ops = OpsSettings(retention_enabled=False)
    assert await asyncio.wait_for(worker.run(), 30) == 0
    assert (await counts(db))["inbox"] == 2


async def test_status_json_reports_table_sizes_and_windows(db: asyncpg.Connection,
                                                           settings: Settings) -> None:
    await add_rows(db, old=0, young=3)
    haodian = str(Path(sys.executable).parent / "haodian")
    closed = f"http://guest:guest@127.0.0.1:{free_port()}"
    proc = await asyncio.create_subprocess_exec(
        haodian, "status", "--json", env=settings_env(settings) | {
            "HAODIAN_MANAGEMENT_URL": closed, "HAODIAN_RETENTION_INBOX_S": str(2 * DAY)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    tables = {t["table"]: t for t in orjson.loads(out)["tables"]}
    assert tables["inbox"]["bytes"] > 0 and tables["inbox"]["retention_s"] == 2 * DAY
    assert tables["outbox"]["retention_s"] == 7 * DAY
    assert tables["journal_lines"]["retention_s"] is None, "the ledger is never pruned"
