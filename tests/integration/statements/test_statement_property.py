"""Property: whatever a store's July to September holds (orders, refunds before
settlement, runs, clawbacks, deposit payments and refunds), published in random order
(within phases: certification, then store, orders and deposits, then runs, after-sales
and refund requests, then a last run, then more after-sales and requests) through the
real queue to real workers, each month's statement reconciles: its line
totals equal the ledger's movements over the month (read here apart from the statement's
SQL), its balances are the ledger's at the month's boundaries, one month's closing is the
next one's opening, and the store-month's commission equals C(total net)."""

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from harness import Bus, event, run_worker_burst
from hypothesis import HealthCheck, given
from hypothesis import event as seen
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from statement_helpers import closed, ledger_sums, order, run_request, statement_json

from handlers.base import SHANGHAI
from handlers.settlement.rules import compute_month_commission
from workers import db
from workers.settings import Settings
from workers.statements.model import month_bounds
from workers.tools.ledger import verify

MONTHS = ("2021-07", "2021-08", "2021-09")
T0 = datetime(2021, 7, 20, tzinfo=SHANGHAI)  # orders settle from 07-27 (July) to 09-05


def at(offset_minutes: int) -> str:
    return (T0 + timedelta(minutes=offset_minutes)).isoformat()


minutes = st.integers(0, 45 * 24 * 60)
plans = st.fixed_dictionaries({
    "orders": st.lists(st.tuples(st.integers(0, 1_500_000), minutes), min_size=1, max_size=7),
    "refunds": st.lists(st.tuples(st.integers(0, 6), st.integers(0, 100), minutes),
                        max_size=5),
    "runs": st.lists(minutes, min_size=1, max_size=3),
    "deposits": st.lists(st.tuples(st.integers(1, 3_000_000), st.booleans(), minutes),
                         max_size=3),
    "clawbacks": st.lists(st.tuples(st.integers(0, 6), st.integers(1, 100), minutes),
                          max_size=4),
    "requests": st.lists(minutes, max_size=2),
    "seed": st.integers(0, 2**32),
})


def certification(account_id: str) -> dict[str, Any]:
    return event("certification.submitted", {
        "application_id": f"app-{account_id}", "account_id": account_id,
        "account_name": "阿珍的小店", "track": "interest", "interest": {"field": "tea"}},
        time="2021-07-01T09:00:00+08:00")


def store_opening(store_id: str, account_id: str) -> dict[str, Any]:
    return event("store.open_requested", {
        "store_id": store_id, "account_id": account_id, "store_type": "personal",
        "store_name": "阿珍的茶铺"}, time="2021-07-01T10:00:00+08:00")


async def publish_shuffled(bus: Bus, settings: Settings, events: list[dict[str, Any]],
                           rng: random.Random) -> None:
    rng.shuffle(events)
    await bus.publish(*events)
    await run_worker_burst(settings, ["all"], timeout_s=60)


async def play(bus: Bus, settings: Settings, store: str, plan: dict[str, Any]) -> None:
    rng = random.Random(plan["seed"])
    account = f"acc-{store}"
    await bus.publish(certification(account))
    await run_worker_burst(settings, ["all"], timeout_s=60)
    orders = [order(f"{store}-o{n}", amount, store, at(t))
              for n, (amount, t) in enumerate(plan["orders"])]
    deposits = [event("deposit.paid", {"payment_id": f"{store}-p{n}", "store_id": store,
                                       "amount_fen": amount,
                                       "plan": "legacy_mall" if legacy else "standard"},
                      time=at(t)) for n, (amount, legacy, t) in enumerate(plan["deposits"])]
    await publish_shuffled(bus, settings, [store_opening(store, account), *orders, *deposits],
                           rng)
    later: list[dict[str, Any]] = [run_request(f"{store}-r{n}", at(t))
                                   for n, t in enumerate(plan["runs"])]
    for n, (index, percent, t) in enumerate(plan["refunds"]):
        target = plan["orders"][index % len(plan["orders"])][0]
        later.append(closed(f"{store}-a{n}", f"{store}-o{index % len(plan['orders'])}",
                            target * percent // 100, at(t)))
    later += [event("deposit.refund_requested", {"request_id": f"{store}-q{n}",
                                                 "store_id": store, "reason": "plan_migration"},
                    time=at(t)) for n, t in enumerate(plan["requests"])]
    await publish_shuffled(bus, settings, later, rng)
    # A last run settles what an open after-sale or a late confirmation left behind; then
    # after-sales on settled orders are clawbacks (or refunds, on the few still unsettled).
    await publish_shuffled(bus, settings, [run_request(f"{store}-final", at(50 * 24 * 60))], rng)
    last = [closed(f"{store}-c{n}", f"{store}-o{index % len(plan['orders'])}",
                   plan["orders"][index % len(plan["orders"])][0] * percent // 200, at(t))
            for n, (index, percent, t) in enumerate(plan["clawbacks"])]
    last += [event("deposit.refund_requested", {"request_id": f"{store}-z{n}",
                                                "store_id": store, "reason": "plan_migration"},
                   time=at(t)) for n, t in enumerate(plan["requests"])]
    await publish_shuffled(bus, settings, last, rng)


def merchant_side(sums: dict[str, int]) -> dict[str, int]:
    return {k: sums[k] for k in ("pending", "available", "deposit")}


@hypothesis_settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=plans)
async def test_statements_of_random_store_months_reconcile_with_the_ledger(
    bus: Bus, settings: Settings, plan: dict[str, Any]
) -> None:
    store = f"st-{uuid.uuid4().hex[:10]}"
    await play(bus, settings, store, plan)
    previous_closing = None
    for month in MONTHS:
        start, end = month_bounds(month)
        s = await statement_json(settings, store, month)
        assert s["status"] == "reconciled", [c for c in s["checks"] if not c["ok"]]

        # Balances are the ledger's at the boundaries; closing rolls into the next opening.
        before, until = (await ledger_sums(settings, store, None, start),
                         await ledger_sums(settings, store, None, end))
        for kind in ("pending", "available", "deposit"):
            assert s["opening"][f"{kind}_fen"] == before[kind]
            assert s["closing"][f"{kind}_fen"] == until[kind]
        if previous_closing is not None:
            assert s["opening"] == previous_closing
        previous_closing = s["closing"]

        # The lines' totals are the ledger's movements over the month.
        moved = await ledger_sums(settings, store, start, end)
        t = s["totals"]
        assert moved["pending"] == s["orders_confirmed_fen"] - t["refund_fen"] - t["net_fen"]
        assert moved["available"] == (t["debt_offset_fen"] - t["store_debit_fen"]
                                      + t["deposit_offset_fen"])
        assert moved["deposit"] == (t["deposit_paid_fen"] - t["deposit_offset_fen"]
                                    - t["deposit_refund_fen"])
        assert moved["commission"] == t["commission_fen"] - t["commission_returned_fen"]

        # Each order's commission is C(b) − C(a); the store-month's total is C(total net).
        for line in s["lines"]:
            if line["section"] == "settled" and line["before_fen"] is not None:
                assert line["commission_fen"] == (compute_month_commission(line["after_fen"])
                                                  - compute_month_commission(line["before_fen"]))
        sm = s["store_month"]
        assert sm["commission_fen"] == compute_month_commission(sm["net_fen"])
        for section in sorted({line["section"] for line in s["lines"]}):
            seen(f"a statement with {section} lines")
        if sm["commission_fen"]:
            seen("a store-month paying commission")
        if sm["steps_later"]:
            seen("a store-month with steps booked after its month")
        if any(line["section"] == "settled" and line["month"] != month for line in s["lines"]):
            seen("a statement settling an earlier store-month")

    conn = await db.connect(str(settings.database_url))
    try:
        _, violations = await verify(conn)
    finally:
        await conn.close()
    assert violations == []
