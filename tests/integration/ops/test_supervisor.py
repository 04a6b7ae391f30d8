"""`haodian worker --processes N` as a real process tree: restarts and drains."""

import asyncio
import os
import signal
from pathlib import Path

import asyncpg
import psutil
import pytest
from harness import Bus, WorkerProcess, scalar
from ops_helpers import applications, wait_until

from workers import topology
from workers.runtime.heartbeat import live_workers
from workers.settings import Settings

pytestmark = pytest.mark.slow


def children(supervisor: WorkerProcess) -> set[int]:
    return {p.pid for p in psutil.Process(supervisor.proc.pid).children()
            if p.status() != psutil.STATUS_ZOMBIE}


async def beating(settings: Settings) -> set[int]:
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        return {w["pid"] for w in await live_workers(conn, 30)}
    finally:
        await conn.close()


async def started(settings: Settings, supervisor: WorkerProcess, n: int) -> set[int]:
    """Wait until the supervisor has n children, each beating; returns their pids."""
    async def up() -> bool:
        pids = children(supervisor)
        return len(pids) == n and pids <= await beating(settings)

    await wait_until(up, 30, f"{n} worker processes with heartbeats", every_s=0.2)
    return children(supervisor)


async def test_supervisor_restarts_a_sigkilled_child(settings: Settings, tmp_path: Path
                                                      ) -> None:
    supervisor = WorkerProcess(settings, "certification", str(tmp_path / "sup.log"),
                               "--processes", "2")
    try:
        first = await started(settings, supervisor, 2)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)

        async def replaced() -> bool:
            pids = children(supervisor)
            return len(pids) == 2 and victim not in pids and pids <= await beating(settings)

        await wait_until(replaced, 30, "a new worker process in the killed one's place",
                         every_s=0.2)
        assert children(supervisor) - first, "a fresh pid"
        assert supervisor.proc.poll() is None
    finally:
        assert supervisor.terminate(timeout_s=settings.grace_period_s + 15) == 0
    log = (tmp_path / "sup.log").read_text()
    assert "worker_process_exited" in log and "-9" in log


async def test_supervisor_drains_every_child_on_sigterm(bus: Bus, settings: Settings,
                                                        tmp_path: Path) -> None:
    n = 3000
    supervisor = WorkerProcess(settings, "certification", str(tmp_path / "sup.log"),
                               "--processes", "2")
    pids = await started(settings, supervisor, 2)
    await bus.publish(*applications(n, "drain"))

    async def some_done() -> bool:
        return await scalar(settings, "SELECT count(*) FROM certification_applications") > 0

    await wait_until(some_done, 30, "the first commits")
    code = await asyncio.to_thread(supervisor.terminate, settings.grace_period_s + 15)
    assert code == 0
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
                   for p in pids)
    assert await beating(settings) == set(), "both children stopped cleanly"
    done = await scalar(settings, "SELECT count(*) FROM certification_applications")
    # Drained: everything committed was acked, everything else is back in the queue.
    await wait_until(lambda: _accounted(bus, done, n), 10, "the rest back in the queue")
    assert await bus.depth(topology.dlq_name("certification")) == 0


async def _accounted(bus: Bus, done: int, n: int) -> bool:
    return done + await bus.depth(topology.domain_queue("certification")) == n
