"""Shuffled replay: the same events in different orders (after-sales before their orders
retried, closes before opens) converge to the same books."""

import random
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from settlement_builders import (
    closed,
    confirmed,
    opened,
    run_requested,
    run_to_end,
    violations,
)

from handlers.base import Incoming, TransientError
from handlers.settlement.handle import (
    handle_aftersale_closed,
    handle_aftersale_opened,
    handle_order_confirmed,
)

# Orders around the Asia/Shanghai month boundary of §3.3: some settle in September,
# some in October.
START = datetime(2021, 9, 23, 12, 0, tzinfo=UTC)


def phase_one() -> list[Incoming[Any]]:
    orders = [
        confirmed(
            f"o-{i}",
            150_000 + 10_007 * i,
            store_id=f"s-{i % 2}",
            buyer_id=f"u-{i % 3}",
            at=START + timedelta(hours=2 * i),
        )
        for i in range(12)
    ]
    aftersales: list[Incoming[Any]] = [
        opened("a-1", "o-1"),
        closed("a-1", "o-1", 20_000),
        opened("a-2", "o-2"),
        closed("a-2", "o-2", 0),
        closed("a-3", "o-3", 160_021),  # a close without an open: the whole order back
        opened("a-4", "o-4"),
        closed("a-4", "o-4", 15),
    ]
    return [*orders, *aftersales]


def phase_two() -> list[Incoming[Any]]:
    later = START + timedelta(days=3)
    return [
        opened("a-5", "o-5"),
        closed("a-5", "o-5", 100_000),  # after settlement: clawbacks
        closed("a-6", "o-8", 33_333),
        confirmed("o-12", 2_000_000, store_id="s-1", at=later),
        confirmed("o-13", 45, store_id="s-0", at=later),
    ]


async def deliver(pg: asyncpg.Connection, events: list[Incoming[Any]]) -> None:
    """One event at a time; an after-sale for an unknown order goes to the back of the
    queue, as the runtime's retry would."""
    queue = deque(events)
    attempts = 0
    while queue:
        attempts += 1
        assert attempts < 1_000, "retries never converged"
        event = queue.popleft()
        try:
            if event.type == "order.confirmed":
                await handle_order_confirmed(pg, [event])
            elif event.type == "aftersale.opened":
                await handle_aftersale_opened(pg, event)
            else:
                await handle_aftersale_closed(pg, event)
        except TransientError:
            queue.append(event)


async def books(pg: asyncpg.Connection) -> dict[str, Any]:
    """Everything that must not depend on the delivery order."""
    return {
        "balances": [
            tuple(r) for r in await pg.fetch("SELECT * FROM ledger_balances ORDER BY account")
        ],
        "accounts": [
            tuple(r)
            for r in await pg.fetch(
                "SELECT account, sum(amount_fen) FROM journal_lines GROUP BY 1 ORDER BY 1"
            )
        ],
        "orders": [
            tuple(r)
            for r in await pg.fetch(
                "SELECT order_id, status, month, refunded_fen, clawed_back_fen, net_fen,"
                " commission_fen, payout_fen, debt_offset_fen, transferred_fen"
                " FROM settlement_orders ORDER BY order_id"
            )
        ],
        "months": [tuple(r) for r in await pg.fetch("SELECT * FROM store_months ORDER BY 1, 2")],
        "days": [
            tuple(r) for r in await pg.fetch("SELECT * FROM settlement_daily_stats ORDER BY 1")
        ],
    }


async def test_shuffled_replays_converge_to_the_same_books(pg: asyncpg.Connection) -> None:
    outcomes = []
    for seed in range(6):
        rng = random.Random(seed)
        first, second = phase_one(), phase_two()
        rng.shuffle(first)
        rng.shuffle(second)
        replay = pg.transaction()  # a savepoint, rolled back after each replay
        await replay.start()
        try:
            await deliver(pg, first)
            await run_to_end(pg, run_requested("r-1", START + timedelta(days=9)))
            await deliver(pg, second)
            await run_to_end(pg, run_requested("r-2", START + timedelta(days=12)))
            assert await violations(pg) == {}
            outcomes.append(await books(pg))
        finally:
            await replay.rollback()

    assert all(outcome == outcomes[0] for outcome in outcomes[1:])
    months = {row[1] for row in outcomes[0]["months"]}
    assert months == {"2021-09", "2021-10"}
    assert any(row[8] for row in outcomes[0]["orders"])  # some payout paid a clawback debt
