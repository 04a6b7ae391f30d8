"""Settlement runs racing on two connections (committed chunks, as on two workers): every
order is paid exactly once and the books still verify."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
from settlement_builders import (
    T0,
    balance,
    checked,
    closed,
    confirmed,
    due,
    of_type,
    run_requested,
    violations,
)

from handlers.base import Result
from handlers.settlement.handle import handle_aftersale_closed, handle_order_confirmed
from handlers.settlement.run import handle_run_requested
from workers import db

ORDERS = 60
STORES = 4
SETTLEMENT_TABLES = (
    "aftersales, settlement_orders, store_months, settlement_runs, settlement_daily_buyers,"
    " settlement_daily_stats, journal_lines, journal_entries, ledger_balances"
)


@pytest.fixture
async def committed(clean_db: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to an emptied session database whose writes commit; what the test
    committed is removed afterwards."""
    conn = await db.connect(clean_db)
    try:
        yield conn
    finally:
        await conn.execute(f"TRUNCATE {SETTLEMENT_TABLES}")
        await conn.close()

CHUNK_SIZE = 3  # small chunks, so the two runs interleave


async def worker(database_url: str, run_id: str) -> list[Result]:
    """One worker's chunk loop: each step in its own committed transaction."""
    conn = await db.connect(database_url)
    request = run_requested(run_id, due())
    results: list[Result] = []
    try:
        while True:
            async with conn.transaction():
                chunk = await handle_run_requested(conn, request, CHUNK_SIZE)
            results.extend(chunk.results)
            if chunk.done:
                return checked(results)
    finally:
        await conn.close()


@pytest.mark.parametrize("run_ids", [("r-a", "r-b"), ("r-same", "r-same")])
async def test_overlapping_runs_pay_each_order_once(
    committed: asyncpg.Connection,
    clean_db: str,
    run_ids: tuple[str, str],
) -> None:
    async with committed.transaction():
        await handle_order_confirmed(
            committed,
            [
                confirmed(
                    f"o-{i:03d}",
                    90_000 + i,
                    store_id=f"s-{i % STORES}",
                    at=T0 + timedelta(hours=1, minutes=i // 2),
                )
                for i in range(ORDERS)
            ],
        )
        # A debt on one store, so payouts race on paying it too.
        await handle_order_confirmed(committed, [confirmed("o-old", 2_000_000, store_id="s-1")])
    async with committed.transaction():
        await worker_settles_old(committed)
        # 2000000 -> 1400000: C falls 50000 -> 20000, the store owes 600000 - 30000.
        await handle_aftersale_closed(committed, closed("a-old", "o-old", 600_000))

    a, b = await asyncio.gather(worker(clean_db, run_ids[0]), worker(clean_db, run_ids[1]))

    paid = of_type(a, "settlement.paid") + of_type(b, "settlement.paid")
    assert sorted(p["order_id"] for p in paid) == [f"o-{i:03d}" for i in range(ORDERS)]
    completions = of_type(a, "settlement.run_completed") + of_type(b, "settlement.run_completed")
    assert sum(c["orders_settled"] for c in completions) == ORDERS
    if run_ids[0] == run_ids[1]:
        assert len(completions) == 1  # one run, completed once
    assert sum(p["debt_offset_fen"] for p in paid) == 570_000  # paid once, not per worker
    assert await balance(committed, "s-1", "available") == 0
    assert await violations(committed) == {}


async def worker_settles_old(conn: asyncpg.Connection) -> None:
    """Settles o-old alone (run as of before the others are due)."""
    chunk = await handle_run_requested(conn, run_requested("r-old", T0 + timedelta(days=7)))
    assert chunk.done
    assert [p["order_id"] for p in of_type(chunk.results, "settlement.paid")] == ["o-old"]
