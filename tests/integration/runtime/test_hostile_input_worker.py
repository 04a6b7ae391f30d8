"""Hostile input sent around the publisher: the worker dead-letters it as received, answers
event.rejected, and keeps processing its neighbours."""

from harness import Bus, run_worker_burst
from hostile import HOSTILE, dumps, order

from workers import topology
from workers.settings import Settings


async def test_worker_refuses_hostile_input_and_processes_its_neighbours(
        bus: Bus, settings: Settings) -> None:
    before, after = order(order_id="o-before"), order(order_id="o-after")
    bodies = {name: dumps(e) for name, e, _ in HOSTILE}
    await bus.publish(before)
    for name, e, _ in HOSTILE:
        await bus.publish_raw(bodies[name], e["type"])
    await bus.publish(after)
    await run_worker_burst(settings, ["settlement", "compliance"])
    dead = [*await bus.take_all(topology.dlq_name("settlement")),
            *await bus.take_all(topology.dlq_name("compliance"))]
    by_body = {bytes(m.body): (m.headers["x-haodian-reason"], m.headers["x-haodian-attempt"])
               for m in dead}
    assert by_body == {bodies[name]: (reason, 0) for name, _, reason in HOSTILE}
    # Results are at least once: the same result id may arrive twice.
    results = {r["id"]: r for r in await bus.settle()}.values()
    rejected = sorted(r["data"]["event_id"] for r in results if r["type"] == "event.rejected")
    assert rejected == sorted(e["id"] for _, e, _ in HOSTILE)
    scheduled = sorted(r["subject"] for r in results if r["type"] == "settlement.scheduled")
    assert scheduled == ["o-after", "o-before"]
