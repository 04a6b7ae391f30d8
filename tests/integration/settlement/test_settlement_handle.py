"""Settlement handlers against a real, migrated PostgreSQL database (one rolled-back
transaction per test): scheduling, runs, holds, refunds and clawbacks."""

from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest
from settlement_builders import (
    T0,
    account_total,
    balance,
    checked,
    closed,
    confirmed,
    due,
    of_type,
    opened,
    run_requested,
    run_to_end,
    violations,
)

from handlers.base import PermanentError, TransientError
from handlers.ledger import BANK, CLEARING, COMMISSION
from handlers.settlement.handle import (
    handle_aftersale_closed,
    handle_aftersale_opened,
    handle_order_confirmed,
)
from handlers.settlement.run import handle_run_requested
from workers.tools.ledger import store_balance

WORKED_EXAMPLE = [
    confirmed("o-1", 800_000, at=T0),
    confirmed("o-2", 400_000, at=T0 + timedelta(minutes=1)),
    confirmed("o-3", 30, at=T0 + timedelta(minutes=2)),
]


async def test_confirmed_orders_are_scheduled_at_t_plus_7_with_funds_in_clearing(
    pg: asyncpg.Connection,
) -> None:
    results = checked([r for rs in await handle_order_confirmed(pg, WORKED_EXAMPLE) for r in rs])

    assert of_type(results, "settlement.scheduled") == [
        {
            "order_id": "o-1",
            "store_id": "s-1",
            "amount_fen": 800_000,
            "settle_at": "2021-08-10T10:15:00+08:00",
        },
        {
            "order_id": "o-2",
            "store_id": "s-1",
            "amount_fen": 400_000,
            "settle_at": "2021-08-10T10:16:00+08:00",
        },
        {
            "order_id": "o-3",
            "store_id": "s-1",
            "amount_fen": 30,
            "settle_at": "2021-08-10T10:17:00+08:00",
        },
    ]
    assert await balance(pg, "s-1", "pending") == 1_200_030
    assert await account_total(pg, CLEARING) == 1_200_030
    assert await violations(pg) == {}


async def test_worked_example_run_pays_marginal_commission(pg: asyncpg.Connection) -> None:
    await handle_order_confirmed(pg, WORKED_EXAMPLE)

    results = await run_to_end(pg, run_requested("r-1", due()))

    paid = of_type(results, "settlement.paid")
    assert [(p["order_id"], p["commission_fen"], p["payout_fen"]) for p in paid] == [
        ("o-1", 0, 800_000),
        ("o-2", 10_000, 390_000),
        ("o-3", 2, 28),
    ]
    assert paid[2] == {
        "order_id": "o-3",
        "store_id": "s-1",
        "month": "2021-08",
        "gross_fen": 30,
        "refunded_fen": 0,
        "net_fen": 30,
        "commission_fen": 2,
        "payout_fen": 28,
        "debt_offset_fen": 0,
        "transferred_fen": 28,
        "run_id": "r-1",
    }
    assert [r.id_key for r in results if r.type == "settlement.paid"] == ["o-1", "o-2", "o-3"]
    assert of_type(results, "settlement.run_completed") == [
        {
            "run_id": "r-1",
            "as_of": due().isoformat(),
            "orders_settled": 3,
            "net_total_fen": 1_200_030,
            "commission_total_fen": 10_002,
            "payout_total_fen": 1_190_028,
        }
    ]
    assert results[-1].id_key == "r-1"
    # The payouts left the platform: the store's balances are back to zero.
    assert await balance(pg, "s-1", "pending") == 0
    assert await balance(pg, "s-1", "available") == 0
    assert await account_total(pg, CLEARING) == 0
    assert await account_total(pg, COMMISSION) == -10_002
    assert await account_total(pg, BANK) == 10_002
    assert await violations(pg) == {}


async def test_orders_not_yet_due_wait_and_due_ones_go_in_settle_at_then_id_order(
    pg: asyncpg.Connection,
) -> None:
    await handle_order_confirmed(
        pg,
        [
            confirmed("o-b", 100, at=T0),
            confirmed("o-a", 100, at=T0),
            confirmed("o-0", 100, at=T0 + timedelta(seconds=1)),
        ],
    )
    early = await run_to_end(pg, run_requested("r-early", T0 + timedelta(days=7, seconds=-1)))
    assert of_type(early, "settlement.paid") == []
    assert of_type(early, "settlement.run_completed")[0]["orders_settled"] == 0

    exact = await run_to_end(pg, run_requested("r-exact", T0 + timedelta(days=7)))
    assert [p["order_id"] for p in of_type(exact, "settlement.paid")] == ["o-a", "o-b"]

    later = await run_to_end(pg, run_requested("r-later", due()))
    assert [p["order_id"] for p in of_type(later, "settlement.paid")] == ["o-0"]


async def test_month_of_settlement_is_asia_shanghai(pg: asyncpg.Connection) -> None:
    at = datetime(2021, 9, 23, 17, 30, tzinfo=UTC)  # settles 2021-10-01 01:30 in Shanghai
    await handle_order_confirmed(pg, [confirmed("o-1", 1_500_000, at=at)])

    results = await run_to_end(pg, run_requested("r-1", at + timedelta(days=8)))

    assert of_type(results, "settlement.paid")[0]["month"] == "2021-10"
    assert await pg.fetchval("SELECT month FROM store_months") == "2021-10"


async def test_open_aftersale_holds_the_order_until_a_later_run(pg: asyncpg.Connection) -> None:
    await handle_order_confirmed(pg, [confirmed("o-1", 1_000)])
    assert await handle_aftersale_opened(pg, opened("a-1", "o-1")) == []

    held = await run_to_end(pg, run_requested("r-1", due()))
    assert of_type(held, "settlement.paid") == []

    assert await handle_aftersale_closed(pg, closed("a-1", "o-1", 0)) == []
    later = await run_to_end(pg, run_requested("r-2", due(9)))
    assert [
        (p["order_id"], p["net_fen"], p["run_id"]) for p in of_type(later, "settlement.paid")
    ] == [("o-1", 1_000, "r-2")]
    assert await violations(pg) == {}


async def test_refund_before_settlement_reduces_the_order(pg: asyncpg.Connection) -> None:
    await handle_order_confirmed(pg, [confirmed("o-1", 10_000)])
    await handle_aftersale_opened(pg, opened("a-1", "o-1"))

    assert await handle_aftersale_closed(pg, closed("a-1", "o-1", 4_000)) == []

    assert await balance(pg, "s-1", "pending") == 6_000
    assert await account_total(pg, CLEARING) == 6_000
    results = await run_to_end(pg, run_requested("r-1", due()))
    paid = of_type(results, "settlement.paid")[0]
    assert (paid["gross_fen"], paid["refunded_fen"], paid["net_fen"], paid["payout_fen"]) == (
        10_000,
        4_000,
        6_000,
        6_000,
    )
    assert await account_total(pg, CLEARING) == 0
    assert await violations(pg) == {}


async def test_refund_larger_than_what_remains_is_rejected(pg: asyncpg.Connection) -> None:
    await handle_order_confirmed(pg, [confirmed("o-1", 10_000)])
    await handle_aftersale_closed(pg, closed("a-1", "o-1", 4_000))

    with pytest.raises(PermanentError) as rejected:
        async with pg.transaction():  # the runtime's savepoint around one event
            await handle_aftersale_opened(pg, opened("a-2", "o-1"))
            await handle_aftersale_closed(pg, closed("a-2", "o-1", 6_001))
    assert rejected.value.reason == "refund_exceeds_order"

    assert await handle_aftersale_closed(pg, closed("a-3", "o-1", 6_000)) == []
    assert await balance(pg, "s-1", "pending") == 0
    assert await violations(pg) == {}


async def test_clawback_after_payment_returns_commission_and_leaves_a_debt(
    pg: asyncpg.Connection,
) -> None:
    await handle_order_confirmed(pg, WORKED_EXAMPLE)
    await run_to_end(pg, run_requested("r-1", due()))
    await handle_aftersale_opened(pg, opened("a-1", "o-1"))

    # §3.3's clawback of 500000 (on the 800000 order: the 400000 one cannot refund that much).
    results = checked(await handle_aftersale_closed(pg, closed("a-1", "o-1", 500_000)))

    assert of_type(results, "settlement.clawback") == [
        {
            "order_id": "o-1",
            "store_id": "s-1",
            "aftersale_id": "a-1",
            "refund_fen": 500_000,
            "commission_returned_fen": 10_002,
            "store_debit_fen": 489_998,
        }
    ]
    assert await balance(pg, "s-1", "available") == -489_998
    assert await account_total(pg, COMMISSION) == 0
    report = await store_balance(pg, "s-1")
    assert report["available_fen"] == -489_998
    assert report["debt_fen"] == 489_998
    assert report["months"] == [
        {"month": "2021-08", "net_fen": 700_030, "commission_fen": 0, "orders_settled": 3}
    ]
    assert await violations(pg) == {}


async def test_later_payout_pays_the_debt_first(pg: asyncpg.Connection) -> None:
    await handle_order_confirmed(pg, WORKED_EXAMPLE)
    await run_to_end(pg, run_requested("r-1", due()))
    await handle_aftersale_closed(pg, closed("a-1", "o-1", 500_000))
    await handle_order_confirmed(pg, [confirmed("o-4", 600_000, at=T0 + timedelta(days=1))])

    results = await run_to_end(pg, run_requested("r-2", due(9)))

    paid = of_type(results, "settlement.paid")[0]
    # 700030 -> 1300030: C = 15002 (15001.5 rounded up), from 0.
    assert (
        paid["commission_fen"],
        paid["payout_fen"],
        paid["debt_offset_fen"],
        paid["transferred_fen"],
    ) == (15_002, 584_998, 489_998, 95_000)
    assert await balance(pg, "s-1", "available") == 0
    assert await violations(pg) == {}


async def test_a_second_clawback_cannot_take_more_than_the_order_has_left(
    pg: asyncpg.Connection,
) -> None:
    await handle_order_confirmed(pg, WORKED_EXAMPLE)
    await run_to_end(pg, run_requested("r-1", due()))
    await handle_aftersale_closed(pg, closed("a-1", "o-2", 300_000))

    with pytest.raises(PermanentError) as rejected:
        async with pg.transaction():
            await handle_aftersale_closed(pg, closed("a-2", "o-2", 100_001))
    assert rejected.value.reason == "refund_exceeds_order"
    assert await violations(pg) == {}


async def test_aftersale_for_an_unknown_order_is_retried(pg: asyncpg.Connection) -> None:
    with pytest.raises(TransientError) as on_open:
        await handle_aftersale_opened(pg, opened("a-1", "o-404"))
    with pytest.raises(TransientError) as on_close:
        await handle_aftersale_closed(pg, closed("a-1", "o-404", 10))
    assert on_open.value.reason == on_close.value.reason == "order_unknown"


async def test_close_arriving_before_open_does_not_hold_the_order(pg: asyncpg.Connection) -> None:
    await handle_order_confirmed(pg, [confirmed("o-1", 5_000)])
    await handle_aftersale_closed(pg, closed("a-1", "o-1", 1_000))
    await handle_aftersale_opened(pg, opened("a-1", "o-1"))  # late, out of order

    results = await run_to_end(pg, run_requested("r-1", due()))

    assert [p["net_fen"] for p in of_type(results, "settlement.paid")] == [4_000]
    assert await violations(pg) == {}


async def test_the_same_close_twice_has_its_effects_once(pg: asyncpg.Connection) -> None:
    await handle_order_confirmed(pg, [confirmed("o-1", 5_000)])
    await handle_aftersale_opened(pg, opened("a-1", "o-1"))
    await handle_aftersale_closed(pg, closed("a-1", "o-1", 1_000))

    assert await handle_aftersale_closed(pg, closed("a-1", "o-1", 1_000)) == []
    with pytest.raises(PermanentError) as conflict:
        await handle_aftersale_closed(pg, closed("a-1", "o-1", 2_000))
    assert conflict.value.reason == "aftersale_conflict"
    assert await balance(pg, "s-1", "pending") == 4_000


async def test_an_order_confirmed_twice_is_scheduled_once(pg: asyncpg.Connection) -> None:
    again = confirmed("o-1", 5_000)
    first = await handle_order_confirmed(pg, [confirmed("o-1", 5_000), again])
    second = await handle_order_confirmed(pg, [confirmed("o-1", 5_000)])

    assert [len(rs) for rs in [*first, *second]] == [1, 1, 1]
    assert await pg.fetchval("SELECT count(*) FROM journal_entries") == 1
    assert await balance(pg, "s-1", "pending") == 5_000
    with pytest.raises(PermanentError) as conflict:
        await handle_order_confirmed(pg, [confirmed("o-1", 5_001)])
    assert conflict.value.reason == "order_conflict"


async def test_daily_active_buyers_and_gmv_per_shanghai_day(pg: asyncpg.Connection) -> None:
    next_day = datetime(2021, 8, 3, 16, 30, tzinfo=UTC)  # 2021-08-04 00:30 in Shanghai
    batch = [
        confirmed("o-1", 100, buyer_id="u-1"),
        confirmed("o-2", 200, buyer_id="u-1"),
        confirmed("o-3", 300, buyer_id="u-2", store_id="s-2"),
        confirmed("o-4", 400, buyer_id="u-1", at=next_day),
    ]
    await handle_order_confirmed(pg, batch)
    await handle_order_confirmed(pg, [*batch, confirmed("o-5", 500, buyer_id="u-3")])

    rows = await pg.fetch(
        "SELECT day, orders, gmv_fen, active_buyers FROM settlement_daily_stats ORDER BY day"
    )
    assert [tuple(r) for r in rows] == [
        (date(2021, 8, 3), 4, 1_100, 3),
        (date(2021, 8, 4), 1, 400, 1),
    ]


async def test_a_redelivered_run_request_continues_where_it_stopped(
    pg: asyncpg.Connection,
) -> None:
    await handle_order_confirmed(
        pg, [confirmed(f"o-{i}", 1_000 * i, at=T0 + timedelta(minutes=i)) for i in range(1, 6)]
    )
    request = run_requested("r-1", due())

    first = await handle_run_requested(pg, request, 2)  # then the worker dies; redelivered:
    rest = await run_to_end(pg, request)

    assert first.done is False
    paid = [p["order_id"] for p in of_type([*first.results, *rest], "settlement.paid")]
    assert paid == ["o-1", "o-2", "o-3", "o-4", "o-5"]
    assert of_type(rest, "settlement.run_completed")[0]["orders_settled"] == 5
    # The same run requested again (another event) finds it completed: nothing more.
    assert await run_to_end(pg, run_requested("r-1", due())) == []
    with pytest.raises(PermanentError) as conflict:
        await handle_run_requested(pg, run_requested("r-1", due(10)))
    assert conflict.value.reason == "run_conflict"
    assert await violations(pg) == {}
