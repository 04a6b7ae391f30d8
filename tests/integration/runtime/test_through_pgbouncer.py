"""The runtime behind PgBouncer in transaction mode (the fixture's own, Debian's 1.18, with
`?statement_cache_size=0`): delivery, duplicates, batch isolation, a settlement run in
chunks and two workers racing, every connection going through the bouncer.

The whole runtime and settlement suites run this way with HAODIAN_TEST_PGBOUNCER=1."""

import asyncio

import pytest
from harness import Bus, event, run_worker_burst, scalar

from workers import db, topology
from workers.settings import Settings
from workers.tools.ledger import verify

CONFIRMED_AT = "2021-08-03T10:15:00+08:00"


@pytest.fixture
def bounced(settings: Settings, bouncer_url: str) -> Settings:
    return settings.model_copy(update={"database_url": bouncer_url, "chunk_size": 7})


def order(n: int) -> dict[str, object]:
    return event("order.confirmed", {"order_id": f"o-{n:04d}", "store_id": f"s-{n % 5}",
                                     "buyer_id": "u-1", "amount_fen": 10_000 + n,
                                     "confirmed_at": CONFIRMED_AT})


async def test_statements_run_on_any_server_connection(bounced: Settings) -> None:
    conns = [await db.connect(bounced.database_url) for _ in range(3)]
    try:
        for i in range(20):  # each query may land on another server connection
            assert await asyncio.gather(*(c.fetchval("SELECT $1::int + 1", i) for c in conns)
                                        ) == [i + 1] * 3
    finally:
        for c in conns:
            await c.close()


async def test_delivery_duplicates_and_bad_messages_in_one_batch(
        bus: Bus, bounced: Settings) -> None:
    good = [order(i) for i in range(30)]
    await bus.publish_raw(b"{not json", "order.confirmed")
    await bus.publish(*good, good[0])  # a duplicate in the same batch
    await run_worker_burst(bounced, ["settlement"])
    await bus.publish(good[1])  # and one in a later batch
    await run_worker_burst(bounced, ["settlement"])
    await bus.wait_results(30)
    results = await bus.settle()
    assert len({r["id"] for r in bus.of_type("settlement.scheduled")}) == 30
    assert len(bus.of_type("event.rejected")) == 0  # the unreadable body names no event
    dead = await bus.take_all(topology.dlq_name("settlement"))
    assert [bytes(m.body) for m in dead] == [b"{not json"]
    assert await scalar(bounced, "SELECT count(*) FROM settlement_orders") == 30
    assert results


async def test_a_run_in_chunks_and_two_workers_racing_pay_each_order_once(
        bus: Bus, bounced: Settings) -> None:
    await bus.publish(*(order(i) for i in range(60)))
    await run_worker_burst(bounced, ["settlement"])
    request = event("settlement.run_requested",
                    {"run_id": "r-1", "as_of": "2021-08-11T00:00:00+08:00"})
    await bus.publish(request, request)
    # Two workers at once on the same queue: the run's chunks (7 orders each) interleave.
    await asyncio.gather(run_worker_burst(bounced, ["settlement"]),
                         run_worker_burst(bounced, ["settlement"]))
    await bus.wait_results(60 + 60 + 1)
    await bus.settle()
    # At least once on the wire (a relay may send a result again, with the same id).
    assert len({r["id"] for r in bus.of_type("settlement.paid")}) == 60
    assert len({r["id"] for r in bus.of_type("settlement.run_completed")}) == 1
    assert await scalar(bounced, "SELECT count(*) FROM settlement_orders"
                                 " WHERE status = 'settled'") == 60
    conn = await db.connect(bounced.database_url)
    try:
        _, violations = await verify(conn)
    finally:
        await conn.close()
    assert violations == []
