"""Deposit handlers against a real, migrated PostgreSQL database."""

import asyncio
import uuid

import asyncpg
import pytest
from deposit_builders import (
    add_debt,
    add_order,
    balances,
    open_store,
    paid,
    refund,
    violations,
)
from published import wire

from handlers import ledger
from handlers.base import PermanentError, Route
from handlers.deposit import DOMAIN
from handlers.deposit.handle import handle_deposit_paid, handle_refund_requested

NO_VIOLATIONS: dict[str, list[dict[str, object]]] = {
    "deposit_balance_negative": [],
    "deposit_payment_ledger_mismatch": [],
    "deposit_refund_ledger_mismatch": [],
}


def new_store() -> str:
    return f"s-{uuid.uuid4().hex[:12]}"


async def journal(pg: asyncpg.Connection, kind: str, ref: str) -> dict[str, int]:
    rows = await pg.fetch(
        "SELECT l.account, l.amount_fen FROM journal_entries e"
        " JOIN journal_lines l ON l.entry_id = e.id WHERE e.kind = $1 AND e.ref = $2",
        kind,
        ref,
    )
    return {row["account"]: row["amount_fen"] for row in rows}


async def test_worked_example_pays_the_debt_refunds_the_excess_then_nothing(
    pg: asyncpg.Connection,
) -> None:
    store = new_store()
    await open_store(pg, store, "enterprise")
    await handle_deposit_paid(pg, [paid(store, 3_000_000, "legacy_mall")])
    await add_debt(pg, store, 150_000)
    first = refund(store, "plan_migration")

    [[result]] = await handle_refund_requested(pg, [first])

    assert wire(result) == {
        "type": "deposit.refunded",
        "subject": first.data.request_id,
        "request_id": first.data.request_id,
        "store_id": store,
        "reason": "plan_migration",
        "balance_fen": 3_000_000,
        "required_fen": 2_000_000,
        "debt_fen": 150_000,
        "debt_offset_fen": 150_000,
        "refund_fen": 850_000,
    }
    assert await balances(pg, store) == {"deposit_fen": 2_000_000, "debt_fen": 0}
    deposit = ledger.store_account(store, "deposit")
    available = ledger.store_account(store, "available")
    assert await journal(pg, "deposit_debt_offset", first.data.request_id) == {
        deposit: 150_000,
        available: -150_000,
    }
    assert await journal(pg, "deposit_refund", first.data.request_id) == {
        deposit: 850_000,
        ledger.BANK: -850_000,
    }

    [[second]] = await handle_refund_requested(pg, [refund(store, "plan_migration")])

    assert wire(second)["type"] == "deposit.refund_rejected"
    assert wire(second)["reasons"] == ["no_excess_deposit"]
    assert (wire(second)["balance_fen"], wire(second)["debt_offset_fen"]) == (2_000_000, 0)
    assert await balances(pg, store) == {"deposit_fen": 2_000_000, "debt_fen": 0}
    assert await violations(pg) == NO_VIOLATIONS
    # the whole ledger too: entries balance, running balances equal their lines
    ledger_wide = await violations(pg, prefix="")
    assert {name: rows for name, rows in ledger_wide.items() if rows} == {}


async def test_payment_books_bank_to_store_deposit_and_answers_nothing(
    pg: asyncpg.Connection,
) -> None:
    store = new_store()
    payment = paid(store, 100_000, "standard")

    assert await handle_deposit_paid(pg, [payment]) == [[]]

    assert await journal(pg, "deposit_paid", payment.data.payment_id) == {
        ledger.BANK: 100_000,
        ledger.store_account(store, "deposit"): -100_000,
    }
    row = await pg.fetchrow(
        "SELECT store_id, amount_fen, plan FROM deposit_payments WHERE payment_id = $1",
        payment.data.payment_id,
    )
    assert dict(row) == {"store_id": store, "amount_fen": 100_000, "plan": "standard"}


async def test_deposit_paid_before_opening_counts_once_the_store_opens(
    pg: asyncpg.Connection,
) -> None:
    store = new_store()
    await handle_deposit_paid(pg, [paid(store, 150_000, "legacy_mall")])

    [[early]] = await handle_refund_requested(pg, [refund(store, "plan_migration")])

    assert wire(early)["reasons"] == ["store_unknown"]
    assert (wire(early)["balance_fen"], wire(early)["required_fen"]) == (150_000, 0)
    # nothing locked or created for a store that never opened
    assert (
        await pg.fetchval(
            "SELECT count(*) FROM ledger_balances WHERE account = $1",
            ledger.store_account(store, "available"),
        )
        == 0
    )

    await open_store(pg, store, "personal")
    [[later]] = await handle_refund_requested(pg, [refund(store, "plan_migration")])

    assert (wire(later)["type"], wire(later)["refund_fen"]) == ("deposit.refunded", 50_000)
    assert await violations(pg) == NO_VIOLATIONS


async def test_standard_plan_store_cannot_migrate_and_no_money_moves(
    pg: asyncpg.Connection,
) -> None:
    store = new_store()
    await open_store(pg, store, "personal")
    await handle_deposit_paid(pg, [paid(store, 300_000, "standard")])
    await add_debt(pg, store, 10_000)
    request = refund(store, "plan_migration")

    [[result]] = await handle_refund_requested(pg, [request])

    assert wire(result)["reasons"] == ["not_legacy_merchant"]
    assert wire(result)["debt_offset_fen"] == 0
    assert await balances(pg, store) == {"deposit_fen": 300_000, "debt_fen": 10_000}
    assert await journal(pg, "deposit_debt_offset", request.data.request_id) == {}


@pytest.mark.parametrize(
    ("order_status", "aftersale"),
    [("scheduled", None), ("settled", "open"), ("scheduled", "closed")],
)
async def test_closing_store_with_open_obligations_is_refused(
    pg: asyncpg.Connection, order_status: str, aftersale: str | None
) -> None:
    store = new_store()
    await open_store(pg, store, "personal")
    await handle_deposit_paid(pg, [paid(store, 100_000, "standard")])
    await add_order(pg, store, "settled", aftersale="closed")
    await add_order(pg, store, order_status, aftersale=aftersale)

    [[result]] = await handle_refund_requested(pg, [refund(store, "store_closed")])

    assert wire(result)["reasons"] == ["store_has_open_obligations"]
    assert await balances(pg, store) == {"deposit_fen": 100_000, "debt_fen": 0}


async def test_closing_store_gets_everything_left_after_its_debt(pg: asyncpg.Connection) -> None:
    store = new_store()
    await open_store(pg, store, "enterprise")
    await handle_deposit_paid(pg, [paid(store, 2_000_000, "standard")])
    await add_order(pg, store, "settled", aftersale="closed")
    await add_debt(pg, store, 300_000)

    [[result]] = await handle_refund_requested(pg, [refund(store, "store_closed")])

    assert wire(result)["type"] == "deposit.refunded"
    assert (wire(result)["required_fen"], wire(result)["debt_offset_fen"]) == (0, 300_000)
    assert wire(result)["refund_fen"] == 1_700_000
    assert await balances(pg, store) == {"deposit_fen": 0, "debt_fen": 0}
    assert await violations(pg) == NO_VIOLATIONS


async def test_debt_larger_than_the_deposit_takes_it_all_and_the_rest_stays(
    pg: asyncpg.Connection,
) -> None:
    store = new_store()
    await open_store(pg, store, "personal")
    await handle_deposit_paid(pg, [paid(store, 100_000, "standard")])
    await add_debt(pg, store, 489_998)
    request = refund(store, "store_closed")

    [[result]] = await handle_refund_requested(pg, [request])

    assert wire(result)["reasons"] == ["no_excess_deposit"]
    assert wire(result)["debt_offset_fen"] == 100_000
    assert await balances(pg, store) == {"deposit_fen": 0, "debt_fen": 389_998}
    assert await journal(pg, "deposit_refund", request.data.request_id) == {}
    assert await violations(pg) == NO_VIOLATIONS


async def test_two_requests_in_one_batch_never_refund_the_same_money(
    pg: asyncpg.Connection,
) -> None:
    store = new_store()
    await open_store(pg, store, "personal")
    await handle_deposit_paid(pg, [paid(store, 500_000, "legacy_mall")])

    results = await handle_refund_requested(
        pg, [refund(store, "plan_migration"), refund(store, "store_closed")]
    )

    [[first], [second]] = results
    assert (wire(first)["type"], wire(first)["refund_fen"]) == ("deposit.refunded", 400_000)
    # the closure sees the deposit the migration left
    assert (wire(second)["balance_fen"], wire(second)["refund_fen"]) == (100_000, 100_000)
    assert await balances(pg, store) == {"deposit_fen": 0, "debt_fen": 0}
    assert await violations(pg) == NO_VIOLATIONS


async def test_repeated_payment_is_booked_once(pg: asyncpg.Connection) -> None:
    store = new_store()
    payment = paid(store, 100_000, payment_id=f"pay-{uuid.uuid4()}")
    again = paid(store, 100_000, payment_id=payment.data.payment_id)

    await handle_deposit_paid(pg, [payment, again])
    await handle_deposit_paid(pg, [again])

    assert await balances(pg, store) == {"deposit_fen": 100_000, "debt_fen": 0}
    assert await violations(pg) == NO_VIOLATIONS


@pytest.mark.parametrize("same_batch", [True, False])
async def test_payment_id_reused_for_another_amount_is_a_conflict(
    pg: asyncpg.Connection, same_batch: bool
) -> None:
    store = new_store()
    payment = paid(store, 100_000, payment_id=f"pay-{uuid.uuid4()}")
    other = paid(store, 200_000, payment_id=payment.data.payment_id)

    with pytest.raises(PermanentError) as caught:
        if same_batch:
            await handle_deposit_paid(pg, [payment, other])
        else:
            await handle_deposit_paid(pg, [payment])
            await handle_deposit_paid(pg, [other])

    assert caught.value.reason == "deposit_payment_conflict"


async def test_repeated_request_gets_the_recorded_answer_and_moves_no_money(
    pg: asyncpg.Connection,
) -> None:
    store = new_store()
    await open_store(pg, store, "personal")
    await handle_deposit_paid(pg, [paid(store, 300_000)])
    request = refund(store, "plan_migration")
    again = refund(store, "plan_migration", request_id=request.data.request_id)

    [[first]] = await handle_refund_requested(pg, [request])
    [[repeated]] = await handle_refund_requested(pg, [again])
    [[in_batch], [twice]] = await handle_refund_requested(pg, [again, again])

    assert repeated == first == in_batch == twice  # same data, same id_key: one result id
    assert wire(first)["refund_fen"] == 200_000
    assert await balances(pg, store) == {"deposit_fen": 100_000, "debt_fen": 0}


async def test_request_id_reused_for_another_reason_is_a_conflict(pg: asyncpg.Connection) -> None:
    store = new_store()
    await open_store(pg, store, "personal")
    request = refund(store, "plan_migration")
    await handle_refund_requested(pg, [request])

    with pytest.raises(PermanentError) as caught:
        await handle_refund_requested(
            pg, [refund(store, "store_closed", request_id=request.data.request_id)]
        )

    assert caught.value.reason == "refund_request_conflict"


async def test_refund_request_is_recorded_with_its_figures(pg: asyncpg.Connection) -> None:
    store = new_store()
    await open_store(pg, store, "enterprise")
    await handle_deposit_paid(pg, [paid(store, 2_000_000)])
    request = refund(store, "plan_migration")

    await handle_refund_requested(pg, [request])

    row = await pg.fetchrow(
        "SELECT outcome, balance_fen, required_fen, debt_fen, debt_offset_fen, refund_fen,"
        " reasons FROM deposit_refunds WHERE request_id = $1",
        request.data.request_id,
    )
    assert dict(row) == {
        "outcome": "rejected",
        "balance_fen": 2_000_000,
        "required_fen": 2_000_000,
        "debt_fen": 0,
        "debt_offset_fen": 0,
        "refund_fen": 0,
        "reasons": ["no_excess_deposit"],
    }


async def test_verify_finds_a_refund_that_differs_from_its_ledger_movement(
    pg: asyncpg.Connection,
) -> None:
    store = new_store()
    await open_store(pg, store, "personal")
    await handle_deposit_paid(pg, [paid(store, 300_000)])
    request = refund(store, "store_closed")
    await handle_refund_requested(pg, [request])

    await pg.execute(
        "UPDATE deposit_refunds SET refund_fen = refund_fen - 1 WHERE request_id = $1",
        request.data.request_id,
    )

    [offender] = (await violations(pg))["deposit_refund_ledger_mismatch"]
    assert offender["request_id"] == request.data.request_id
    assert (offender["recorded_refund_fen"], offender["booked_refund_fen"]) == (299_999, 300_000)


async def test_verify_finds_a_deposit_negative_in_the_merchants_view(
    pg: asyncpg.Connection,
) -> None:
    store = new_store()
    deposit = ledger.store_account(store, "deposit")
    await ledger.book(
        pg,
        [
            ledger.entry(
                "test_overdraw",
                store,
                paid(store, 1).time,
                ("test", "x"),
                (deposit, 5),
                (ledger.BANK, -5),
            )
        ],
    )

    offenders = (await violations(pg))["deposit_balance_negative"]

    assert [(o["account"], o["merchant_view_fen"]) for o in offenders] == [(deposit, -5)]


async def test_verify_finds_a_payment_without_its_entry(pg: asyncpg.Connection) -> None:
    store = new_store()
    await pg.execute(
        "INSERT INTO deposit_payments VALUES ('pay-orphan', $1, 10, 'standard', now(), 't', 'e')",
        store,
    )

    offenders = (await violations(pg))["deposit_payment_ledger_mismatch"]

    assert [(o["payment_id"], o["booked_fen"]) for o in offenders] == [("pay-orphan", None)]


async def test_domain_routes_every_deposit_event() -> None:
    routes = {r.event_type: r for r in DOMAIN.routes}

    assert DOMAIN.binding_keys == ("deposit.*",)
    assert set(routes) == {"deposit.paid", "deposit.refund_requested"}
    assert all(isinstance(r, Route) for r in routes.values())


async def test_concurrent_requests_on_two_connections_refund_the_excess_once(
    database_url: str,
) -> None:
    store = new_store()
    one, two = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        async with one.transaction():
            await open_store(one, store, "personal")
            await handle_deposit_paid(one, [paid(store, 500_000, "legacy_mall")])
        tx_one, tx_two = one.transaction(), two.transaction()
        await tx_one.start()
        await tx_two.start()
        [[first]] = await handle_refund_requested(one, [refund(store, "plan_migration")])
        second = asyncio.create_task(
            handle_refund_requested(two, [refund(store, "plan_migration")])
        )
        await _wait_until_blocked(one, two.get_server_pid())
        assert not second.done()
        await tx_one.commit()
        [[other]] = await second
        await tx_two.commit()

        assert (wire(first)["type"], wire(first)["refund_fen"]) == ("deposit.refunded", 400_000)
        assert wire(other)["reasons"] == ["no_excess_deposit"]
        assert wire(other)["balance_fen"] == 100_000
        assert await balances(one, store) == {"deposit_fen": 100_000, "debt_fen": 0}
        assert await violations(one) == NO_VIOLATIONS
    finally:
        await _forget_store(one, store)
        await one.close()
        await two.close()


async def _wait_until_blocked(observer: asyncpg.Connection, pid: int) -> None:
    for _ in range(500):
        waiting = await observer.fetchval(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid
        )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the second request never waited for the store's balance lock")


async def _forget_store(conn: asyncpg.Connection, store_id: str) -> None:
    """Remove what a committing test left, so later tests see a clean ledger."""
    async with conn.transaction():
        entry_ids = await conn.fetch(
            "SELECT DISTINCT entry_id FROM journal_lines WHERE account LIKE $1",
            f"store:{store_id}:%",
        )
        ids = [r["entry_id"] for r in entry_ids]
        await conn.execute("DELETE FROM journal_lines WHERE entry_id = ANY($1::bigint[])", ids)
        await conn.execute("DELETE FROM journal_entries WHERE id = ANY($1::bigint[])", ids)
        await conn.execute("DELETE FROM ledger_balances WHERE store_id = $1", store_id)
        await conn.execute("DELETE FROM deposit_refunds WHERE store_id = $1", store_id)
        await conn.execute("DELETE FROM deposit_payments WHERE store_id = $1", store_id)
        await conn.execute("DELETE FROM stores WHERE store_id = $1", store_id)
