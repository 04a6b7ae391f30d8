"""Online migrations on a private database of the real PostgreSQL: a column and a
concurrent index added while a settlement worker commits batches and a report holds the
table, never holding the worker up for more than a few hundred milliseconds; a lock that
stays busy is retried and then refused; an INVALID index left by a failed run is rebuilt."""

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from harness import Bus, event

from workers import db
from workers.registry import resolve
from workers.runtime.worker import Worker
from workers.settings import Settings
from workers.tools.migrate import MIGRATIONS_DIR, migrate
from workers.tools.online import LockWaitExhausted, OnlinePolicy

ADD_COLUMN = "ALTER TABLE settlement_orders ADD COLUMN IF NOT EXISTS note text;\n"
ADD_INDEX = ("-- haodian: no-transaction\n"
             "CREATE INDEX CONCURRENTLY IF NOT EXISTS settlement_orders_note\n"
             "    ON settlement_orders (note);\n")
REPORT_HOLD_S = 1.5  # a report's transaction reading settlement_orders, twice


@pytest.fixture
async def online_db(direct_database_url: str) -> AsyncIterator[str]:
    """A database of its own, migrated to today's files: the test's extra migrations never
    reach the session database."""
    name = urlsplit(direct_database_url).path.lstrip("/") + "_online"
    url = urlunsplit(urlsplit(direct_database_url)._replace(path="/" + name))
    admin = await db.connect(direct_database_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        conn = await db.connect(url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def migrations_with(directory: Path, extra: dict[str, str]) -> Path:
    for source in MIGRATIONS_DIR.glob("*.sql"):
        shutil.copy(source, directory / source.name)
    for name, sql in extra.items():
        (directory / name).write_text(sql)
    return directory


def order(n: int) -> dict[str, object]:
    return event("order.confirmed", {"order_id": f"o-{n}", "store_id": f"s-{n % 20}",
                                     "buyer_id": "u-1", "amount_fen": 10_000 + n,
                                     "confirmed_at": "2021-08-03T10:15:00+08:00"})


async def hold_report(url: str, holding: asyncio.Event) -> None:
    """A long report: each transaction keeps its share lock on settlement_orders, which a
    waiting ALTER TABLE would make every worker batch queue behind."""
    conn = await db.connect(url)
    try:
        for _ in range(2):
            async with conn.transaction():
                await conn.fetchval("SELECT count(*) FROM settlement_orders")
                holding.set()
                await asyncio.sleep(REPORT_HOLD_S)
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def probe(url: str, stop: asyncio.Event) -> float:
    """The longest a tiny transaction on settlement_orders took, as a batch would wait."""
    conn = await db.connect(url)
    longest = 0.0
    try:
        while not stop.is_set():
            started = time.monotonic()
            async with conn.transaction():
                await conn.fetchval("SELECT count(*) FROM settlement_orders WHERE order_id = 'x'")
            longest = max(longest, time.monotonic() - started)
            await asyncio.sleep(0.01)
    finally:
        await conn.close()
    return longest


async def test_column_and_concurrent_index_apply_under_load_without_blocking_workers(
        bus: Bus, settings: Settings, online_db: str, tmp_path: Path) -> None:
    directory = migrations_with(tmp_path, {"9001_settlement_orders_note.sql": ADD_COLUMN,
                                           "9002_settlement_orders_note_index.sql": ADD_INDEX})
    worker = Worker(settings.model_copy(update={"database_url": online_db}),
                    resolve(["settlement"]))
    running = asyncio.create_task(worker.run())
    stop, holding = asyncio.Event(), asyncio.Event()
    published = 0

    async def load() -> None:
        nonlocal published
        while not stop.is_set():
            await bus.publish(*(order(published + k) for k in range(20)))
            published += 20
            await asyncio.sleep(0.02)

    loading = asyncio.create_task(load())
    probing = asyncio.create_task(probe(online_db, stop))
    report = asyncio.create_task(hold_report(online_db, holding))
    await holding.wait()
    said: list[str] = []
    conn = await db.connect(online_db)
    try:
        applied = await migrate(conn, directory, progress=said.append)
        stop.set()
        await asyncio.gather(loading, report)
        longest_s = await probing
        await bus.wait_results(published, timeout_s=60)
        worker.request_stop()
        assert await asyncio.wait_for(running, 30) == 0
        assert applied == ["9001_settlement_orders_note", "9002_settlement_orders_note_index"]
        assert any("lock busy" in line for line in said), said  # the report was waited out
        assert longest_s < 0.8, f"a transaction waited {longest_s:.3f} s behind the migration"
        assert await conn.fetchval("SELECT count(*) FROM settlement_orders") == published
        assert await conn.fetchval(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'settlement_orders_note'::regclass")
    finally:
        stop.set()
        await conn.close()
    assert len(bus.of_type("settlement.scheduled")) == published  # nothing lost


async def test_a_lock_busy_for_every_try_is_refused_and_nothing_recorded(
        online_db: str, tmp_path: Path) -> None:
    directory = migrations_with(tmp_path, {"9001_settlement_orders_note.sql": ADD_COLUMN})
    holder, conn = await db.connect(online_db), await db.connect(online_db)
    try:
        async with holder.transaction():
            await holder.fetchval("SELECT count(*) FROM settlement_orders")
            with pytest.raises(LockWaitExhausted, match="9001_settlement_orders_note"):
                await migrate(conn, directory, policy=OnlinePolicy(
                    lock_timeout_ms=50, tries=3, first_backoff_s=0.05))
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations WHERE version = 9001"
                                   ) == 0
        assert await conn.fetchval(
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_name = 'settlement_orders' AND column_name = 'note'") == 0
    finally:
        await holder.close()
        await conn.close()


async def test_an_invalid_index_left_by_a_failed_run_is_built_again(
        online_db: str, tmp_path: Path) -> None:
    conn = await db.connect(online_db)
    try:
        await conn.execute("ALTER TABLE settlement_orders ADD COLUMN note text")
        await conn.execute("CREATE TABLE notes (note text); INSERT INTO notes VALUES ('a'), ('a')")
        with pytest.raises(Exception, match="duplicate"):  # a concurrent build that failed
            await conn.execute("CREATE UNIQUE INDEX CONCURRENTLY notes_note ON notes (note)")
        valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'notes_note'::regclass"
        assert await conn.fetchval(valid) is False
        directory = migrations_with(tmp_path, {"9001_notes_index.sql": (
            "-- haodian: no-transaction\n"
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS notes_note ON notes (note);\n")})
        assert await migrate(conn, directory) == ["9001_notes_index"]
        assert await conn.fetchval(valid) is True
    finally:
        await conn.close()
