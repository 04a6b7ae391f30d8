"""Deposit end to end through the real broker and database: 20 racing refund requests on
two worker processes, a refund after a settlement clawback left the store in debt (and a
debt larger than the deposit, finished by the next payout), closing stores with and
without open obligations, deposits paid before the store opens, and a duplicated request.

Stores are set up through real events (certification, store opening, payments, orders,
runs, after-sales) consumed by real workers, phase by phase, so the deposit domain reads
exactly what the other domains leave behind."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from harness import Bus, WorkerProcess, event, run_worker_burst

from handlers import ledger
from workers import topology
from workers.settings import Settings
from workers.tools.ledger import verify

DEPOSIT_QUEUE = topology.domain_queue("deposit")

# One timeline in Asia/Shanghai: certified, opened and paid on 08-02, an order confirmed on
# 08-03 (settle_at 08-10), the run on 08-11, after-sales after it, refunds on 08-20.
CERTIFIED_AT = "2021-08-02T09:00:00+08:00"
REVIEWED_AT = "2021-08-02T10:00:00+08:00"
OPENED_AT = "2021-08-02T11:00:00+08:00"
PAID_AT = "2021-08-02T12:00:00+08:00"
CONFIRMED_AT = "2021-08-03T10:15:00+08:00"
AS_OF = "2021-08-11T00:00:00+08:00"
AFTERSALE_AT = "2021-08-15T09:00:00+08:00"
REFUND_AT = "2021-08-20T09:00:00+08:00"

ENTERPRISE_DOCUMENTS = {
    "company_name": "好店科技有限公司",
    "uscc": "91350100M000100Y43",
    "license_valid_until": None,
    "operator_name": "张三",
    "operator_id_number": "11010519491231002X",
}


# ---- events -----------------------------------------------------------------------------
def at(event_type: str, when: str, **data: Any) -> dict[str, Any]:
    return event(event_type, data, time=when)


def interest_certification(account_id: str) -> dict[str, Any]:
    """Auto-approved at once: enough for a personal store."""
    return at(
        "certification.submitted",
        CERTIFIED_AT,
        application_id=f"app-{account_id}",
        account_id=account_id,
        account_name="阿珍的小店",
        track="interest",
        interest={"field": "tea"},
    )


def open_request(store_id: str, account_id: str, store_type: str = "personal") -> dict[str, Any]:
    return at(
        "store.open_requested",
        OPENED_AT,
        store_id=store_id,
        account_id=account_id,
        store_type=store_type,
        store_name="阿珍的茶铺",
    )


def deposit_paid(store_id: str, amount_fen: int, plan: str, payment_id: str) -> dict[str, Any]:
    return at(
        "deposit.paid",
        PAID_AT,
        payment_id=payment_id,
        store_id=store_id,
        amount_fen=amount_fen,
        plan=plan,
    )


def refund_request(
    store_id: str, request_id: str, reason: str = "plan_migration"
) -> dict[str, Any]:
    return at(
        "deposit.refund_requested",
        REFUND_AT,
        request_id=request_id,
        store_id=store_id,
        reason=reason,
    )


def order_confirmed(
    order_id: str, store_id: str, amount_fen: int, when: str = CONFIRMED_AT
) -> dict[str, Any]:
    return at(
        "order.confirmed",
        when,
        order_id=order_id,
        store_id=store_id,
        buyer_id="u-1",
        amount_fen=amount_fen,
        confirmed_at=when,
    )


def run_requested(run_id: str, as_of: str = AS_OF) -> dict[str, Any]:
    return at("settlement.run_requested", as_of, run_id=run_id, as_of=as_of)


def aftersale_opened(aftersale_id: str, order_id: str) -> dict[str, Any]:
    return at(
        "aftersale.opened",
        AFTERSALE_AT,
        aftersale_id=aftersale_id,
        order_id=order_id,
        opened_at=AFTERSALE_AT,
    )


def aftersale_closed(aftersale_id: str, order_id: str, refund_fen: int) -> dict[str, Any]:
    return at(
        "aftersale.closed",
        AFTERSALE_AT,
        aftersale_id=aftersale_id,
        order_id=order_id,
        refund_fen=refund_fen,
        closed_at=AFTERSALE_AT,
    )


# ---- waiting and reading -------------------------------------------------------------------
async def result_for(
    bus: Bus, result_type: str, subject: str, timeout_s: float = 30
) -> dict[str, Any]:
    """The data of the (last) result of that type and subject; waits for it to arrive."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = [r for r in bus.collected if r["type"] == result_type and r["subject"] == subject]
        if found:
            data: dict[str, Any] = found[-1]["data"]
            return data
        remaining = deadline - time.monotonic()
        assert remaining > 0, (
            f"no {result_type} for {subject}: {[(r['type'], r['subject']) for r in bus.collected]}"
        )
        await bus.wait_results(len(bus.collected) + 1, timeout_s=remaining)


async def phase(settings: Settings, bus: Bus, *events: dict[str, Any]) -> None:
    """Publish, then let an in-process worker of every domain drain the queues."""
    await bus.publish(*events)
    await run_worker_burst(settings, ["all"])


async def query(settings: Settings, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def value(settings: Settings, sql: str, *args: Any) -> Any:
    [row] = await query(settings, sql, *args)
    return row[0]


async def merchant_balances(settings: Settings, store_id: str) -> dict[str, int]:
    """The store's accounts in the merchant's view (positive = the platform owes them;
    a negative `available` is a debt)."""
    rows = await query(
        settings, "SELECT account, balance_fen FROM ledger_balances WHERE store_id = $1", store_id
    )
    found = {r["account"].rsplit(":", 1)[1]: ledger.merchant_view(r["balance_fen"]) for r in rows}
    return {kind: found.get(kind, 0) for kind in ("pending", "available", "deposit")}


async def failed_checks(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    """`haodian ledger verify` on the session database: the violated checks, by name."""
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        checks_run, violations = await verify(conn)
    finally:
        await conn.close()
    assert any(name.startswith("verify_deposit.") for name in checks_run)
    return {v.check: v.rows for v in violations}


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def consumer_count(bus: Bus, queue_name: str) -> int:
    underlay = await bus.channel.get_underlay_channel()
    declared = await underlay.queue_declare(queue_name, passive=True)
    return int(declared.consumer_count or 0)


def processed_by(log_path: Path) -> int:
    """Deposit messages a worker process acked, from its `worker_stopped` log line."""
    for line in log_path.read_bytes().splitlines():
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict) and record.get("event") == "worker_stopped":
            return int(record["processed"]["deposit"])
    raise AssertionError(f"no worker_stopped line in {log_path}:\n{log_path.read_text()}")


async def open_personal_store(
    settings: Settings, bus: Bus, store_id: str, *same_phase: dict[str, Any]
) -> None:
    """An interest-track account and its personal store, opened through the workers;
    `same_phase` events are published with the opening request."""
    account_id = f"acc-{store_id}"
    await phase(settings, bus, interest_certification(account_id))
    await result_for(bus, "certification.approved", f"app-{account_id}")
    await phase(settings, bus, open_request(store_id, account_id), *same_phase)
    opened = await result_for(bus, "store.opened", store_id)
    assert opened["deposit_required_fen"] == 100_000


# ---- 1. racing requests on two worker processes -------------------------------------------
@pytest.mark.slow
async def test_twenty_racing_migrations_on_two_processes_refund_the_excess_once(
    bus: Bus, settings: Settings, tmp_path: Path
) -> None:
    store = "s-race"
    await open_personal_store(
        settings, bus, store, deposit_paid(store, 300_000, "legacy_mall", "pay-race")
    )
    # One message per transaction and per consumer at a time, so the two processes take
    # turns on the queue and their transactions meet on the store's deposit lock.
    small = ("--batch-size", "1", "--prefetch", "1")
    logs = [tmp_path / "w1.log", tmp_path / "w2.log"]
    workers = [WorkerProcess(settings, "deposit", str(p), *small) for p in logs]
    requests = [refund_request(store, f"req-{i:02d}") for i in range(20)]
    try:
        await wait_for(lambda: _consumers_are(bus, 2), 30, "both processes consuming")
        await bus.publish(*requests)
        subjects = {r["data"]["request_id"] for r in requests}
        event_ids = {r["id"] for r in requests}
        await wait_for(
            lambda: _settled(bus, subjects, event_ids),
            60,
            "an answer (or a rejection) for every request",
        )
        assert all(w.proc.poll() is None for w in workers)
    finally:
        codes = [w.terminate() for w in workers]
    assert codes == [0, 0]

    refunds = [r["data"] for r in bus.of_type("deposit.refunded") if r["subject"] in subjects]
    assert len(refunds) == 1, f"the excess was refunded {len(refunds)} times: {refunds}"
    assert [r["data"] for r in bus.of_type("event.rejected")] == []
    answers = [r for r in bus.collected if r["subject"] in subjects]
    assert len(answers) == 20
    [refunded] = refunds
    assert (refunded["balance_fen"], refunded["required_fen"]) == (300_000, 100_000)
    assert (refunded["debt_offset_fen"], refunded["refund_fen"]) == (0, 200_000)
    rejected = [r["data"] for r in answers if r["type"] == "deposit.refund_rejected"]
    assert len(rejected) == 19
    assert {tuple(r["reasons"]) for r in rejected} == {("no_excess_deposit",)}
    # Each rejection saw the deposit the refund left, never the money before it.
    assert {(r["balance_fen"], r["debt_offset_fen"]) for r in rejected} == {(100_000, 0)}

    handled = [processed_by(p) for p in logs]
    assert sum(handled) == 20
    assert min(handled) > 0, f"one process handled everything: {handled}"

    assert await failed_checks(settings) == {}
    assert (await merchant_balances(settings, store))["deposit"] == 100_000
    assert (
        await value(settings, "SELECT count(*) FROM journal_entries WHERE kind = 'deposit_refund'")
        == 1
    )
    assert await bus.depth(topology.dlq_name("deposit")) == 0


async def _consumers_are(bus: Bus, n: int) -> bool:
    return await consumer_count(bus, DEPOSIT_QUEUE) == n


async def _settled(bus: Bus, request_ids: set[str], event_ids: set[str]) -> bool:
    """Every request answered, or its event rejected (so a failure shows in seconds)."""
    answered = {
        r["subject"]
        for r in bus.collected
        if r["type"] in ("deposit.refunded", "deposit.refund_rejected")
    }
    given_up = {r["data"]["event_id"] for r in bus.of_type("event.rejected")}
    return len(request_ids & answered) + len(event_ids & given_up) >= len(request_ids)


# ---- 2. a refund after a clawback left the store in debt ----------------------------------
async def test_migration_after_a_clawback_pays_the_debt_then_refunds_the_excess(
    bus: Bus, settings: Settings
) -> None:
    store, account = "s-debt", "acc-debt"
    await phase(
        settings,
        bus,
        at(
            "certification.submitted",
            CERTIFIED_AT,
            application_id="app-debt",
            account_id=account,
            account_name="好店科技",
            track="enterprise",
            enterprise=ENTERPRISE_DOCUMENTS,
        ),
    )
    assert (await result_for(bus, "certification.pending_review", "app-debt"))["fee_fen"] > 0
    await phase(
        settings,
        bus,
        at(
            "certification.reviewed",
            REVIEWED_AT,
            application_id="app-debt",
            decision="approved",
            reasons=[],
            reviewer="auditor-7",
        ),
    )
    await result_for(bus, "certification.approved", "app-debt")
    await phase(
        settings,
        bus,
        open_request(store, account, "enterprise"),
        deposit_paid(store, 3_000_000, "legacy_mall", "pay-debt"),
        order_confirmed("o-debt", store, 1_200_000),
    )
    assert (await result_for(bus, "store.opened", store))["deposit_required_fen"] == 2_000_000
    await result_for(bus, "settlement.scheduled", "o-debt")

    await phase(settings, bus, run_requested("r-debt"))
    paid = await result_for(bus, "settlement.paid", "o-debt")
    assert (paid["commission_fen"], paid["transferred_fen"]) == (10_000, 1_190_000)

    await phase(
        settings,
        bus,
        aftersale_opened("as-debt", "o-debt"),
        aftersale_closed("as-debt", "o-debt", 500_000),
    )
    clawback = await result_for(bus, "settlement.clawback", "o-debt")
    # 1,200,000 -> 700,000 in the store-month: the 10,000 commission comes back.
    assert (clawback["commission_returned_fen"], clawback["store_debit_fen"]) == (10_000, 490_000)
    assert await merchant_balances(settings, store) == {
        "pending": 0,
        "available": -490_000,
        "deposit": 3_000_000,
    }

    await phase(settings, bus, refund_request(store, "req-debt"))
    refunded = await result_for(bus, "deposit.refunded", "req-debt")
    assert refunded == {
        "request_id": "req-debt",
        "store_id": store,
        "reason": "plan_migration",
        "balance_fen": 3_000_000,
        "required_fen": 2_000_000,
        "debt_fen": 490_000,
        "debt_offset_fen": 490_000,
        "refund_fen": 3_000_000 - 490_000 - 2_000_000,
    }
    assert await merchant_balances(settings, store) == {
        "pending": 0,
        "available": 0,
        "deposit": 2_000_000,
    }
    assert await failed_checks(settings) == {}

    await phase(settings, bus, refund_request(store, "req-debt-again"))
    again = await result_for(bus, "deposit.refund_rejected", "req-debt-again")
    assert (again["reasons"], again["debt_offset_fen"]) == (["no_excess_deposit"], 0)
    assert await failed_checks(settings) == {}
    assert await bus.depth(topology.dlq_name("deposit")) == 0
    assert await bus.depth(topology.dlq_name("settlement")) == 0


async def test_debt_larger_than_the_deposit_takes_it_all_and_the_next_payout_pays_the_rest(
    bus: Bus, settings: Settings
) -> None:
    store = "s-deep"
    await open_personal_store(
        settings,
        bus,
        store,
        deposit_paid(store, 100_000, "legacy_mall", "pay-deep"),
        order_confirmed("o-deep-1", store, 800_000),
    )
    await phase(settings, bus, run_requested("r-deep-1"))
    await result_for(bus, "settlement.paid", "o-deep-1")
    await phase(
        settings,
        bus,
        aftersale_closed("as-deep", "o-deep-1", 600_000),
        # confirmed 08-16: settles 08-23, after the migration below
        order_confirmed("o-deep-2", store, 700_000, "2021-08-16T10:00:00+08:00"),
    )
    clawback = await result_for(bus, "settlement.clawback", "o-deep-1")
    assert clawback["store_debit_fen"] == 600_000  # under 1,000,000: no commission to return

    await phase(settings, bus, refund_request(store, "req-deep"))
    rejected = await result_for(bus, "deposit.refund_rejected", "req-deep")
    assert rejected["reasons"] == ["no_excess_deposit"]
    assert (rejected["debt_fen"], rejected["debt_offset_fen"]) == (600_000, 100_000)
    assert await merchant_balances(settings, store) == {
        "pending": 700_000,
        "available": -500_000,
        "deposit": 0,
    }

    await phase(settings, bus, run_requested("r-deep-2", "2021-08-24T00:00:00+08:00"))
    paid = await result_for(bus, "settlement.paid", "o-deep-2")
    assert (paid["payout_fen"], paid["debt_offset_fen"], paid["transferred_fen"]) == (
        700_000,
        500_000,
        200_000,
    )
    assert await merchant_balances(settings, store) == {
        "pending": 0,
        "available": 0,
        "deposit": 0,
    }
    assert await failed_checks(settings) == {}


# ---- 3. closing stores, unknown stores, deposits paid before opening ----------------------
async def test_closing_store_is_refused_until_its_orders_and_aftersales_are_settled(
    bus: Bus, settings: Settings
) -> None:
    store = "s-close"
    await open_personal_store(
        settings,
        bus,
        store,
        deposit_paid(store, 100_000, "standard", "pay-close"),
        order_confirmed("o-close", store, 50_000),
    )
    await result_for(bus, "settlement.scheduled", "o-close")

    await phase(settings, bus, refund_request(store, "req-unsettled", "store_closed"))
    unsettled = await result_for(bus, "deposit.refund_rejected", "req-unsettled")
    assert unsettled["reasons"] == ["store_has_open_obligations"]

    await phase(settings, bus, run_requested("r-close"))
    await result_for(bus, "settlement.paid", "o-close")
    await phase(settings, bus, aftersale_opened("as-close", "o-close"))
    await phase(settings, bus, refund_request(store, "req-aftersale-open", "store_closed"))
    open_aftersale = await result_for(bus, "deposit.refund_rejected", "req-aftersale-open")
    assert open_aftersale["reasons"] == ["store_has_open_obligations"]
    assert (await merchant_balances(settings, store))["deposit"] == 100_000

    await phase(settings, bus, aftersale_closed("as-close", "o-close", 3_000))
    await result_for(bus, "settlement.clawback", "o-close")
    await phase(settings, bus, refund_request(store, "req-closed", "store_closed"))
    closed = await result_for(bus, "deposit.refunded", "req-closed")
    assert (closed["required_fen"], closed["debt_fen"]) == (0, 3_000)
    assert (closed["debt_offset_fen"], closed["refund_fen"]) == (3_000, 97_000)
    assert await merchant_balances(settings, store) == {"pending": 0, "available": 0, "deposit": 0}
    conn = await asyncpg.connect(str(settings.database_url))
    try:  # the granted closing refund closes the store: nothing more is listed in it
        assert await conn.fetchval(
            "SELECT status FROM stores WHERE store_id = $1", store) == "closed"
    finally:
        await conn.close()
    assert await failed_checks(settings) == {}


async def test_unknown_store_is_refused_and_an_early_deposit_counts_once_it_opens(
    bus: Bus, settings: Settings
) -> None:
    early = "s-early"
    await phase(
        settings,
        bus,
        deposit_paid(early, 250_000, "legacy_mall", "pay-early"),
        refund_request("s-never", "req-never"),
        refund_request(early, "req-before-opening"),
    )
    never = await result_for(bus, "deposit.refund_rejected", "req-never")
    assert (never["reasons"], never["balance_fen"]) == (["store_unknown"], 0)
    before = await result_for(bus, "deposit.refund_rejected", "req-before-opening")
    assert (before["reasons"], before["balance_fen"]) == (["store_unknown"], 250_000)
    assert (await merchant_balances(settings, early))["deposit"] == 250_000

    await open_personal_store(settings, bus, early)
    await phase(settings, bus, refund_request(early, "req-after-opening"))
    after = await result_for(bus, "deposit.refunded", "req-after-opening")
    assert (after["balance_fen"], after["required_fen"], after["refund_fen"]) == (
        250_000,
        100_000,
        150_000,
    )
    assert (await merchant_balances(settings, early))["deposit"] == 100_000
    assert await failed_checks(settings) == {}
    assert await bus.depth(topology.dlq_name("deposit")) == 0


# ---- 4. a duplicated request ------------------------------------------------------------
async def test_duplicated_request_has_its_effects_once(bus: Bus, settings: Settings) -> None:
    store = "s-dup"
    await open_personal_store(
        settings, bus, store, deposit_paid(store, 400_000, "legacy_mall", "pay-dup")
    )
    request = refund_request(store, "req-dup")
    await phase(settings, bus, request, request)  # twice in one batch
    await phase(settings, bus, request)  # and again once it is in the inbox
    # The same request carried by another event (a new id): answered as recorded.
    await phase(settings, bus, refund_request(store, "req-dup"))
    # Everything published so far is confirmed in the bus's queue before this answer.
    await phase(settings, bus, refund_request("s-nobody", "req-sentinel"))
    await result_for(bus, "deposit.refund_rejected", "req-sentinel")

    answers = [r for r in bus.collected if r["subject"] == "req-dup"]
    assert [(r["type"], r["data"]["refund_fen"]) for r in answers] == [
        ("deposit.refunded", 300_000)
    ]
    assert (await merchant_balances(settings, store))["deposit"] == 100_000
    assert (
        await value(
            settings,
            "SELECT count(*) FROM inbox WHERE source = $1 AND event_id = $2",
            request["source"],
            request["id"],
        )
        == 1
    )
    assert (
        await value(settings, "SELECT count(*) FROM deposit_refunds WHERE request_id = 'req-dup'")
        == 1
    )
    assert (
        await value(
            settings,
            "SELECT count(*) FROM journal_entries"
            " WHERE kind = 'deposit_refund' AND ref = 'req-dup'",
        )
        == 1
    )
    assert (
        await value(
            settings,
            "SELECT count(*) FROM outbox"
            " WHERE convert_from(body, 'UTF8')::jsonb ->> 'subject' = 'req-dup'",
        )
        == 1
    )
    assert await failed_checks(settings) == {}
    assert await bus.depth(topology.dlq_name("deposit")) == 0
