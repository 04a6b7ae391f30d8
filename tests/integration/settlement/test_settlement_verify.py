"""The settlement verify checks: silent on healthy books, naming the broken invariant on
deliberately corrupted ones."""

from datetime import timedelta

import asyncpg
import pytest
from settlement_builders import (
    T0,
    VERIFY_CHECKS,
    closed,
    confirmed,
    due,
    opened,
    run_requested,
    run_to_end,
    violations,
)

from handlers.settlement.handle import (
    handle_aftersale_closed,
    handle_aftersale_opened,
    handle_order_confirmed,
)


async def healthy_books(pg: asyncpg.Connection) -> None:
    """The §3.3 example settled and clawed back, a refunded order of another store, an
    unsettled order and one held by an open after-sale."""
    await handle_order_confirmed(
        pg,
        [
            confirmed("o-1", 800_000, at=T0),
            confirmed("o-2", 400_000, at=T0 + timedelta(minutes=1)),
            confirmed("o-3", 30, at=T0 + timedelta(minutes=2)),
            confirmed("o-5", 50_000, store_id="s-2", at=T0),
        ],
    )
    await handle_aftersale_closed(pg, closed("a-5", "o-5", 5_000))
    await run_to_end(pg, run_requested("r-1", due()))
    await handle_aftersale_closed(pg, closed("a-1", "o-1", 500_000))
    await handle_order_confirmed(
        pg,
        [
            confirmed("o-4", 600_000, at=T0 + timedelta(days=3)),
            confirmed("o-6", 7_000, store_id="s-2", at=T0 + timedelta(days=3)),
        ],
    )
    await handle_aftersale_opened(pg, opened("a-6", "o-6"))


def test_every_invariant_of_the_brief_has_a_check() -> None:
    assert set(VERIFY_CHECKS) >= {
        "journal_entry_unbalanced",
        "ledger_balance_mismatch",
        "store_month_commission_mismatch",
        "order_payout_mismatch",
        "order_settled_twice",
    }


async def test_healthy_books_pass_every_check(pg: asyncpg.Connection) -> None:
    await healthy_books(pg)
    assert await pg.fetchval("SELECT count(*) FROM journal_entries") == 12
    assert await violations(pg) == {}


ONE_COMMISSION_LINE = (
    "(SELECT min(entry_id) FROM journal_lines WHERE account = 'platform:commission')"
)


@pytest.mark.parametrize(
    ("corruption", "caught_by"),
    [
        pytest.param(
            "UPDATE journal_lines SET amount_fen = amount_fen - 1"
            f" WHERE account = 'platform:commission' AND entry_id = {ONE_COMMISSION_LINE}",
            {"journal_entry_unbalanced"},
            id="entry-does-not-sum-to-zero",
        ),
        pytest.param(
            "UPDATE ledger_balances SET balance_fen = balance_fen + 1"
            " WHERE account = 'store:s-1:available'",
            {"ledger_balance_mismatch"},
            id="balance-differs-from-lines",
        ),
        pytest.param(
            # Consistent everywhere except with C(total net): one fen too much commission.
            "UPDATE settlement_orders SET commission_fen = commission_fen + 1,"
            " payout_fen = payout_fen - 1, transferred_fen = transferred_fen - 1"
            " WHERE order_id = 'o-3';"
            " UPDATE store_months SET commission_fen = commission_fen + 1 WHERE store_id = 's-1';"
            " UPDATE settlement_runs SET commission_total_fen = commission_total_fen + 1,"
            " payout_total_fen = payout_total_fen - 1",
            {"store_month_commission_mismatch"},
            id="month-commission-is-not-c-of-net",
        ),
        pytest.param(
            "UPDATE store_months SET cumulative_net_fen = cumulative_net_fen + 1",
            {"store_month_commission_mismatch"},
            id="store-month-total-drifted",
        ),
        pytest.param(
            "UPDATE settlement_orders SET payout_fen = payout_fen + 1,"
            " transferred_fen = transferred_fen + 1 WHERE order_id = 'o-2';"
            " UPDATE settlement_runs SET payout_total_fen = payout_total_fen + 1",
            {"order_payout_mismatch"},
            id="payout-plus-commission-is-not-net",
        ),
        pytest.param(
            "UPDATE settlement_orders SET run_id = 'r-other' WHERE order_id = 'o-2'",
            {"run_totals_mismatch"},
            id="order-counted-by-another-run",
        ),
        pytest.param(
            "UPDATE settlement_orders SET status = 'scheduled', run_id = NULL,"
            " net_fen = NULL, commission_fen = NULL, payout_fen = NULL,"
            " debt_offset_fen = NULL, transferred_fen = NULL WHERE order_id = 'o-5';"
            " UPDATE settlement_runs SET orders_settled = orders_settled - 1,"
            " net_total_fen = net_total_fen - 45000, payout_total_fen = payout_total_fen - 45000;"
            " DELETE FROM store_months WHERE store_id = 's-2'",
            {"order_settled_twice", "store_pending_mismatch", "clearing_mismatch"},
            id="settlement-entry-for-an-unsettled-order",
        ),
        pytest.param(
            "UPDATE settlement_orders SET open_aftersales = 0 WHERE order_id = 'o-6'",
            {"aftersale_hold_mismatch"},
            id="hold-count-lost",
        ),
    ],
)
async def test_corrupted_books_are_caught(
    pg: asyncpg.Connection, corruption: str, caught_by: set[str]
) -> None:
    await healthy_books(pg)

    await pg.execute(corruption)

    found = await violations(pg)
    assert set(found) == caught_by, found
