"""A message that keeps coming back (workers died holding it) is dead-lettered, not
processed forever."""

import aio_pika
from harness import Bus, event, run_worker_burst

from workers import topology
from workers.settings import Settings


async def test_message_redelivered_too_often_goes_to_the_dlq(bus: Bus, settings: Settings
                                                             ) -> None:
    poison = event("certification.submitted", {
        "application_id": "poison-1", "account_id": "acc-p", "account_name": "Tea lover",
        "track": "interest", "interest": {"field": "tea"}})
    await bus.publish(poison)
    # Return it to the queue as often as a crashing worker would: each requeue counts
    # as a delivery in a quorum queue (x-delivery-count).
    queue = await bus.channel.get_queue(topology.domain_queue("certification"))
    for _ in range(settings.max_redeliveries + 1):
        message = await queue.get(no_ack=False, timeout=5)
        assert message is not None
        await message.nack(requeue=True)
    await run_worker_burst(settings, ["certification"])
    dead = await bus.take_all(topology.dlq_name("certification"))
    assert [m.headers["x-haodian-reason"] for m in dead] == ["redelivery_limit"]
    results = await bus.settle()
    assert [r["type"] for r in results] == ["event.rejected"]
    assert results[0]["data"]["reasons"] == ["redelivery_limit"]


async def test_a_few_redeliveries_are_still_processed(bus: Bus, settings: Settings) -> None:
    e = event("certification.submitted", {
        "application_id": "redelivered-1", "account_id": "acc-r", "account_name": "Tea lover",
        "track": "interest", "interest": {"field": "tea"}})
    await bus.publish(e)
    queue = await bus.channel.get_queue(topology.domain_queue("certification"))
    message = await queue.get(no_ack=False, timeout=5)
    assert isinstance(message, aio_pika.abc.AbstractIncomingMessage)
    await message.nack(requeue=True)
    await run_worker_burst(settings, ["certification"])
    results = await bus.wait_results(1)
    assert [r["type"] for r in results] == ["certification.approved"]
