"""Settlement end to end through the real broker and database: the worked example paid,
an after-sale before its order retried, the same run requested twice, and two runs racing
on two worker processes."""

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from harness import Bus, WorkerProcess, event, run_worker_burst

from workers import db, topology
from workers.settings import Settings
from workers.tools.ledger import verify

CONFIRMED_AT = "2021-08-03T10:15:00+08:00"
AS_OF = "2021-08-11T00:00:00+08:00"


def order(order_id: str, amount_fen: int, store_id: str = "s-1") -> dict[str, Any]:
    return event(
        "order.confirmed",
        {
            "order_id": order_id,
            "store_id": store_id,
            "buyer_id": "u-1",
            "amount_fen": amount_fen,
            "confirmed_at": CONFIRMED_AT,
        },
    )


def run_request(run_id: str) -> dict[str, Any]:
    return event("settlement.run_requested", {"run_id": run_id, "as_of": AS_OF})


async def failed_checks(settings: Settings) -> list[str]:
    conn = await db.connect(str(settings.database_url))
    try:
        _, violations = await verify(conn)
    finally:
        await conn.close()
    return [v.check for v in violations]


async def test_worked_example_is_scheduled_and_paid_end_to_end(
    bus: Bus, settings: Settings
) -> None:
    await bus.publish(order("o-1", 800_000), order("o-2", 400_000), order("o-3", 30))
    await run_worker_burst(settings, ["settlement"])
    request = run_request("r-1")
    await bus.publish(request)
    await run_worker_burst(settings, ["settlement"])

    await bus.wait_results(7)
    assert len(bus.of_type("settlement.scheduled")) == 3
    paid = {r["subject"]: r["data"] for r in bus.of_type("settlement.paid")}
    assert {k: (v["commission_fen"], v["payout_fen"]) for k, v in paid.items()} == {
        "o-1": (0, 800_000),
        "o-2": (10_000, 390_000),
        "o-3": (2, 28),
    }
    (completed,) = bus.of_type("settlement.run_completed")
    assert completed["causationid"] == request["id"]
    assert completed["data"]["commission_total_fen"] == 10_002

    await bus.publish(run_request("r-1"))  # the same run requested again
    await run_worker_burst(settings, ["settlement"])
    results = await bus.settle()
    assert len(results) == 7  # nothing paid twice, no second completion
    assert await bus.depth(topology.dlq_name("settlement")) == 0
    assert await failed_checks(settings) == []


async def test_aftersale_before_its_order_is_retried_until_the_order_arrives(
    bus: Bus, settings: Settings
) -> None:
    refund = event(
        "aftersale.closed",
        {
            "aftersale_id": "a-1",
            "order_id": "o-9",
            "refund_fen": 4_000,
            "closed_at": CONFIRMED_AT,
        },
    )
    await bus.publish(refund)
    worker = asyncio.create_task(run_worker_burst(settings, ["settlement"]))
    await asyncio.sleep(0.5)  # the refund is waiting out its retry delay
    await bus.publish(order("o-9", 10_000))
    await worker
    await bus.publish(run_request("r-1"))
    await run_worker_burst(settings, ["settlement"])

    await bus.wait_results(3)
    (paid,) = bus.of_type("settlement.paid")
    assert (paid["data"]["refunded_fen"], paid["data"]["net_fen"]) == (4_000, 6_000)
    assert await bus.depth(topology.dlq_name("settlement")) == 0
    assert await failed_checks(settings) == []


async def _count(settings: Settings, sql: str) -> int:
    conn = await db.connect(str(settings.database_url))
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def _wait_for(settings: Settings, sql: str, expected: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while await _count(settings, sql) != expected:
        assert time.monotonic() < deadline, f"timed out waiting for {sql} = {expected}"
        await asyncio.sleep(0.25)


@pytest.mark.slow
@pytest.mark.parametrize("run_ids", [("r-a", "r-b"), ("r-same", "r-same")])
async def test_runs_racing_on_two_worker_processes_pay_each_order_once(
    bus: Bus, settings: Settings, tmp_path: Path, run_ids: tuple[str, str]
) -> None:
    n = 3_000  # six chunks of 500: long enough for the two runs to overlap
    await bus.publish(*(order(f"o-{i:05d}", 10_000 + i, f"s-{i % 7}") for i in range(n)))
    await run_worker_burst(settings, ["settlement"], timeout_s=60)
    first = WorkerProcess(settings, "settlement", str(tmp_path / "w1.log"))
    second = WorkerProcess(settings, "settlement", str(tmp_path / "w2.log"))
    try:
        await asyncio.sleep(3)  # both consuming
        await bus.publish(run_request(run_ids[0]), run_request(run_ids[1]))
        await _wait_for(
            settings, "SELECT count(*) FROM settlement_orders WHERE status = 'settled'", n, 90
        )
        await _wait_for(
            settings,
            "SELECT count(*) FROM inbox WHERE type = 'settlement.run_requested'",
            2,
            30,
        )
    finally:
        assert first.terminate() == 0
        assert second.terminate() == 0

    results = await bus.settle(quiet_s=1.0)
    paid = [r["subject"] for r in results if r["type"] == "settlement.paid"]
    assert sorted(paid) == [f"o-{i:05d}" for i in range(n)]
    completed = [r["data"] for r in results if r["type"] == "settlement.run_completed"]
    assert sum(c["orders_settled"] for c in completed) == n
    assert len(completed) == len(set(run_ids))
    assert await bus.depth(topology.dlq_name("settlement")) == 0
    assert await failed_checks(settings) == []
