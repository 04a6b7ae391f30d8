"""Durable retries through the real broker: an out-of-order review waits in the retry queue."""

import asyncio

import orjson
from harness import Bus, event, run_worker_burst
from tooling_helpers import Tap, approval, professional_application

from workers import topology
from workers.runtime.worker import ATTEMPT_HEADER
from workers.settings import Settings

DOMAIN = "certification"


async def retry_tap(bus: Bus, settings: Settings) -> Tap:
    """Sees every copy the worker sends to haodian.certification.retry.1s."""
    assert set(settings.retry_delays_s) == {1}  # test settings: delays (1, 1, 1)
    return await Tap.open(bus.channel, topology.RETRY, topology.retry_key(DOMAIN, 1))


async def test_review_before_its_application_is_retried_until_the_application_arrives(
        bus: Bus, settings: Settings) -> None:
    retries = await retry_tap(bus, settings)
    review = event("certification.reviewed", approval("app-1"))
    await bus.publish(review)
    worker = asyncio.create_task(run_worker_burst(settings, [DOMAIN]))

    (first,) = await retries.wait(1)  # the review is waiting out its delay in the queue
    assert orjson.loads(first.body) == review
    assert (first.headers or {})[ATTEMPT_HEADER] == 1
    assert (first.headers or {})["x-haodian-last-reason"] == "application_unknown"
    await bus.publish(event("certification.submitted",
                            professional_application("app-1", "acc-1")))
    await worker

    results = await bus.wait_results(2)
    assert [(r["type"], r["subject"]) for r in results] == [
        ("certification.pending_review", "app-1"), ("certification.approved", "app-1")]
    assert results[1]["causationid"] == review["id"]
    assert len(retries.messages) == 1  # one delay was enough
    assert await bus.depth(topology.dlq_name(DOMAIN)) == 0
    assert await bus.depth(topology.retry_queue(DOMAIN, 1)) == 0


async def test_review_that_never_finds_its_application_is_dead_lettered_after_bounded_attempts(
        bus: Bus, settings: Settings) -> None:
    retries = await retry_tap(bus, settings)
    review = event("certification.reviewed", approval("app-never"))
    await bus.publish(review)
    await run_worker_burst(settings, [DOMAIN])

    # max_attempts = 1 + len(retry_delays_s): three trips through the retry queue.
    assert [(m.headers or {})[ATTEMPT_HEADER] for m in retries.messages] == [1, 2, 3]
    (dead,) = await bus.take_all(topology.dlq_name(DOMAIN))
    headers = dead.headers or {}
    assert headers["x-haodian-reason"] == "retries_exhausted"
    assert headers[ATTEMPT_HEADER] == settings.max_attempts - 1
    assert "application_unknown" in str(headers["x-haodian-detail"])
    assert orjson.loads(dead.body) == review

    (rejected,) = await bus.wait_results(1)
    assert rejected["type"] == "event.rejected"
    assert rejected["data"] == {"event_id": review["id"], "event_source": "test-upstream",
                                "event_type": "certification.reviewed",
                                "reasons": ["retries_exhausted"]}
    assert await bus.depth(topology.retry_queue(DOMAIN, 1)) == 0
