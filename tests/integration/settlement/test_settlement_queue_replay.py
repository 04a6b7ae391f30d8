"""The same settlement events published through the real queue in three random orders
(after-sales before their orders, closes before opens, clawbacks in any order) converge
to the same ledger balances and store-month figures."""

import random
from typing import Any

from harness import Bus, event, run_worker_burst

from workers import db, topology
from workers.settings import Settings
from workers.tools.ledger import verify

CONFIRMED_AT = "2021-09-22T20:00:00+08:00"  # settles 09-29, month 2021-09
LATE_CONFIRMED_AT = "2021-09-24T09:00:00+08:00"  # settles 10-01 Shanghai, month 2021-10
AS_OF = "2021-10-05T00:00:00+08:00"
CLOSED_BEFORE = "2021-09-25T12:00:00+08:00"
CLOSED_AFTER = "2021-10-06T12:00:00+08:00"


def story(tag: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(before the run, after the run) for one replay; ids carry the replay's tag."""
    before: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    amounts = [800_000, 400_000, 30, 650_000, 120_000, 999_999, 5_000, 300_000]
    for store in ("a", "b"):
        for i, amount in enumerate(amounts):
            order_id = f"{tag}-{store}-o{i}"
            before.append(event("order.confirmed", {
                "order_id": order_id, "store_id": f"{tag}-{store}", "buyer_id": f"u{i}",
                "amount_fen": amount,
                "confirmed_at": LATE_CONFIRMED_AT if i % 3 == 2 else CONFIRMED_AT}))
            if i in (1, 4):  # refunded before settlement
                before.append(event("aftersale.opened", {
                    "aftersale_id": f"{order_id}-as", "order_id": order_id,
                    "opened_at": CLOSED_BEFORE}))
                before.append(event("aftersale.closed", {
                    "aftersale_id": f"{order_id}-as", "order_id": order_id,
                    "refund_fen": amount // 4, "closed_at": CLOSED_BEFORE}))
            if i in (0, 3, 5):  # clawed back after settlement
                after.append(event("aftersale.closed", {
                    "aftersale_id": f"{order_id}-cb", "order_id": order_id,
                    "refund_fen": amount // 2, "closed_at": CLOSED_AFTER}))
    return before, after


async def books(settings: Settings, tag: str) -> dict[str, Any]:
    """Balances and store-month figures of one replay, with the tag taken out."""
    conn = await db.connect(str(settings.database_url))
    try:
        balances = await conn.fetch(
            "SELECT account, sum(amount_fen) AS balance FROM journal_lines "
            "WHERE account LIKE $1 GROUP BY account", f"store:{tag}-%")
        months = await conn.fetch(
            "SELECT store_id, month, cumulative_net_fen, commission_fen FROM store_months "
            "WHERE store_id LIKE $1", f"{tag}-%")
        paid = await conn.fetchval(
            "SELECT count(*) FROM settlement_orders WHERE store_id LIKE $1 AND "
            "status = 'settled'", f"{tag}-%")
    finally:
        await conn.close()
    return {
        "balances": sorted((r["account"].replace(tag, "T"), r["balance"]) for r in balances),
        "months": sorted((r["store_id"].replace(tag, "T"), r["month"],
                          r["cumulative_net_fen"], r["commission_fen"]) for r in months),
        "paid": paid,
    }


async def test_shuffled_publication_orders_converge_to_the_same_books(
        bus: Bus, settings: Settings) -> None:
    rng = random.Random(20211001)
    results = []
    for replay in range(3):
        tag = f"rp{replay}"
        before, after = story(tag)
        rng.shuffle(before)
        rng.shuffle(after)
        await bus.publish(*before)
        await run_worker_burst(settings, ["settlement"], timeout_s=120)
        await bus.publish(event("settlement.run_requested", {"run_id": f"{tag}-run",
                                                             "as_of": AS_OF}))
        await run_worker_burst(settings, ["settlement"], timeout_s=120)
        await bus.publish(*after)
        await run_worker_burst(settings, ["settlement"], timeout_s=120)
        results.append(await books(settings, tag))
    assert results[0]["paid"] == 16
    assert results[0] == results[1] == results[2]
    assert await bus.depth(topology.dlq_name("settlement")) == 0
    conn = await db.connect(str(settings.database_url))
    try:
        _, violations = await verify(conn)
    finally:
        await conn.close()
    assert violations == []
