"""`scale advise` on a real queue: growing under arrivals, then draining under a worker."""

import asyncio

from harness import Bus
from ops_helpers import applications

from workers.ops.metrics import RECOMMENDED
from workers.ops.scale import measure
from workers.registry import resolve
from workers.runtime.worker import Worker
from workers.settings import OpsSettings, Settings

OPS = OpsSettings(throughput_per_process={"certification": 200.0})


async def advise(settings: Settings) -> int:
    (advice,) = await measure(str(settings.amqp_url), str(settings.database_url), OPS,
                              ["certification"], target_lag_s=10, window_s=2)
    return advice.processes


async def test_growing_backlog_gets_more_processes_than_a_draining_one(
        bus: Bus, settings: Settings) -> None:
    await bus.publish(*applications(1000, "backlog"))

    async def keep_publishing() -> None:
        for burst in range(40):  # about 500 events/s for the window and a bit more
            await bus.publish(*applications(25, f"arrival-{burst}"))
            await asyncio.sleep(0.05)

    publisher = asyncio.create_task(keep_publishing())
    growing = await advise(settings)
    await publisher
    assert RECOMMENDED.labels("certification")._value.get() == growing

    worker = Worker(settings, resolve(["certification"]), burst=True, burst_idle_s=3)
    draining_task = asyncio.create_task(worker.run())
    draining = await advise(settings)
    assert await asyncio.wait_for(draining_task, 60) == 0
    # Growing: over 1000 waiting and hundreds/s arriving, at 200/s per process.
    assert growing >= 2, growing
    assert draining < growing, (draining, growing)
