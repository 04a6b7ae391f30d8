"""A worker's /metrics, /healthz and /readyz against the real broker and database."""

import asyncio
from collections.abc import AsyncIterator

import orjson
import pytest
from harness import Bus
from ops_helpers import aget, applications, free_port, rabbitmqctl, sample, wait_until

from workers.ops.queues import vhost_of
from workers.registry import resolve
from workers.runtime.worker import Worker
from workers.settings import OpsSettings, Settings


@pytest.fixture
async def running_worker(settings: Settings) -> AsyncIterator[tuple[Worker, str]]:
    s = settings.model_copy(update={"metrics_port": free_port()})
    worker = Worker(s, resolve(["certification"]))
    worker.monitoring.ops = OpsSettings(probe_interval_s=0.2)
    task = asyncio.create_task(worker.run())
    base = f"http://127.0.0.1:{s.metrics_port}"
    try:
        await wait_until(lambda: _ready(base), 20, "the worker to be ready")
        yield worker, base
    finally:
        worker.request_stop()
        assert await asyncio.wait_for(task, 30) == 0


async def _ready(base: str) -> bool:
    status, _ = await aget(base + "/readyz")
    return status == 200


async def test_metrics_count_a_processed_batch(bus: Bus, running_worker: tuple[Worker, str]
                                               ) -> None:
    _, base = running_worker
    labels = {"domain": "certification", "type": "certification.submitted", "outcome": "ack"}
    before = (await aget(base + "/metrics"))[1].decode()
    await bus.publish(*applications(40, "metrics"))
    await bus.wait_results(40)

    async def counted() -> bool:
        text = (await aget(base + "/metrics"))[1].decode()
        return sample(text, "haodian_messages_total", **labels) - sample(
            before, "haodian_messages_total", **labels) == 40

    await wait_until(counted, 10, "40 acked messages in /metrics")
    text = (await aget(base + "/metrics"))[1].decode()
    assert sample(text, "haodian_batch_size_count", domain="certification") > sample(
        before, "haodian_batch_size_count", domain="certification")
    assert sample(text, "haodian_event_lag_seconds_count", domain="certification") >= 40
    assert sample(text, "haodian_batch_commit_seconds_count", domain="certification") > 0
    assert "haodian_outbox_backlog" in text and "haodian_dead_letters_total" in text
    assert (await aget(base + "/healthz"))[0] == 200


async def test_readyz_turns_unready_when_the_broker_connection_is_cut(
        settings: Settings, running_worker: tuple[Worker, str]) -> None:
    _, base = running_worker
    vhost = vhost_of(settings.amqp_url)
    status, body = await aget(base + "/readyz")
    assert status == 200 and orjson.loads(body)["ready"] is True
    # Refused permissions keep the worker from reconnecting until they are back.
    await asyncio.to_thread(rabbitmqctl, "clear_permissions", "-p", vhost, "guest")
    try:
        await asyncio.to_thread(rabbitmqctl, "close_all_connections", "--vhost", vhost,
                                "readiness test")

        async def unready() -> bool:
            return (await aget(base + "/readyz"))[0] == 503

        await wait_until(unready, 15, "/readyz to answer 503")
        checks = orjson.loads((await aget(base + "/readyz"))[1])["checks"]
        assert checks["broker_connected"] is False and checks["consuming"] is False
        assert checks["database_reachable"] is True
        assert (await aget(base + "/healthz"))[0] == 200, "alive while the broker is away"
    finally:
        await asyncio.to_thread(rabbitmqctl, "set_permissions", "-p", vhost, "guest",
                                ".*", ".*", ".*")
    await wait_until(lambda: _ready(base), 30, "/readyz to answer 200 again")
