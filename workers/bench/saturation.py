"""Two worker processes draining one pre-filled queue: the rate, the cores each side
used, and which resource saturates (docs/rules.md §5), so capacity on bigger machines can be
projected from this one."""

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workers import broker
from workers.bench.contention import Contention
from workers.bench.procfs import CpuMeter
from workers.bench.runner import (
    Timing,
    WorkerUnderTest,
    infra_groups,
    prefill,
    watch_results,
)
from workers.settings import Settings

BUSY_FRACTION = 0.9  # a resource at 90% of what it can use counts as saturated


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def verdict(cores: dict[str, float], machine_busy_cores: float, cpus: int) -> str:
    """Which resource bounds the drain. Worker processes are single-threaded, so one
    saturates at one core; the broker and the database share the machine's CPUs."""
    workers = {k: v for k, v in cores.items() if k.startswith("worker")}
    if machine_busy_cores >= BUSY_FRACTION * cpus:
        top = max(cores, key=lambda k: cores[k])
        return (f"machine CPU: {machine_busy_cores:.2f} of {cpus} cores busy "
                f"(largest share: {top}, {cores[top]:.2f} cores)")
    hot = sorted(k for k, v in workers.items() if v >= BUSY_FRACTION)
    if hot:
        return f"worker processes: {', '.join(hot)} at one core each (single-threaded)"
    return ("no CPU: the drain waits on something else (per-store row locks, fsync or "
            "the network)")


async def run_two_workers(settings: Settings, domain: str, bodies: Sequence[bytes],
                          routing_keys: Sequence[str], result_keys: Sequence[str]
                          ) -> dict[str, Any]:
    n = len(bodies)
    connection = await broker.connect(str(settings.amqp_url))
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        timing = Timing(n)
        await watch_results(channel, result_keys, timing)
        await prefill(channel, domain, bodies, lambda i: routing_keys[i])
        workers = [WorkerUnderTest(settings, domain) for _ in range(2)]
        try:
            # Measured from the first result on, so start-up (imports) is not counted.
            await asyncio.wait_for(timing.began.wait(), 120)
            meter = CpuMeter({"worker-1": [workers[0].proc.pid],
                              "worker-2": [workers[1].proc.pid], **infra_groups()})
            meter.start()
            contention = Contention(str(settings.database_url),
                                    [w.metrics_port for w in workers])
            await contention.start()
            busy0, total0 = machine_jiffies()
            started = asyncio.get_running_loop().time()
            await asyncio.wait_for(timing.done.wait(), 900)
            window = asyncio.get_running_loop().time() - started
            cpu = meter.stop()
            busy1, total1 = machine_jiffies()
            await contention.stop()
        finally:
            for w in workers:
                w.stop()
        locks = await contention.finish()
    cpus = os.cpu_count() or 1
    cores = {k: round(v / window, 2) for k, v in cpu.items()}
    machine_busy = round(cpus * (busy1 - busy0) / max(1, total1 - total0), 2)
    return {"events": n, "events_per_s": round(timing.rate), "cores": cores,
            "machine_busy_cores": machine_busy, "cpus": cpus,
            "saturated": verdict(cores, machine_busy, cpus), "contention": locks}
