"""Crashes and outages with real processes: kill -9, SIGTERM, broker and database restarts.

Each test publishes a load of interest-track applications (auto-approved, so every input
has exactly one result) and checks that every input ends with exactly one application
row and one published result, none lost, none dead-lettered."""

import asyncio
import subprocess
import time
from pathlib import Path

import pytest
from harness import Bus, WorkerProcess, event, scalar, wait_for

from workers import topology
from workers.settings import Settings

pytestmark = pytest.mark.slow


def applications(n: int, prefix: str) -> list[dict]:
    return [event("certification.submitted", {
        "application_id": f"{prefix}-{i}", "account_id": f"{prefix}-acc-{i}",
        "account_name": "Tea lover", "track": "interest", "interest": {"field": "tea"}})
        for i in range(n)]


async def all_done(settings: Settings, n: int) -> bool:
    apps = await scalar(settings, "SELECT count(*) FROM certification_applications")
    unpublished = await scalar(settings, "SELECT count(*) FROM outbox WHERE published_at IS NULL")
    total = await scalar(settings, "SELECT count(*) FROM outbox")
    return apps == n and total == n and unpublished == 0


async def assert_exactly_once(bus: Bus, settings: Settings, n: int) -> None:
    assert await scalar(settings, "SELECT count(*) FROM certification_applications") == n
    assert await scalar(settings, "SELECT count(*) FROM outbox") == n
    assert await scalar(settings, "SELECT count(*) FROM inbox") == n
    assert await bus.depth(topology.dlq_name("certification")) == 0
    assert await bus.depth(topology.domain_queue("certification")) == 0


async def test_kill_9_mid_load_loses_nothing(bus: Bus, settings: Settings, tmp_path: Path
                                             ) -> None:
    n = 3000
    await bus.publish(*applications(n, "k9"))
    first = WorkerProcess(settings, "certification", str(tmp_path / "w1.log"))
    await wait_for(lambda: _some_done(settings), 30, "the first commits")
    first.kill()
    done_at_kill = await scalar(settings, "SELECT count(*) FROM certification_applications")
    assert done_at_kill < n, "the worker finished before it could be killed; raise n"
    second = WorkerProcess(settings, "certification", str(tmp_path / "w2.log"))
    try:
        await wait_for(lambda: all_done(settings, n), 90, "every application processed")
    finally:
        assert second.terminate() == 0
    await assert_exactly_once(bus, settings, n)
    results = await bus.wait_results(n)
    assert len({r["subject"] for r in results}) == n


async def _some_done(settings: Settings) -> bool:
    return await scalar(settings, "SELECT count(*) FROM certification_applications") > 0


async def test_sigterm_under_load_exits_0_and_loses_nothing(
        bus: Bus, settings: Settings, tmp_path: Path) -> None:
    n = 3000
    await bus.publish(*applications(n, "term"))
    first = WorkerProcess(settings, "certification", str(tmp_path / "w1.log"))
    await wait_for(lambda: _some_done(settings), 30, "the first commits")
    started = time.monotonic()
    assert first.terminate(timeout_s=settings.grace_period_s + 5) == 0
    assert time.monotonic() - started < settings.grace_period_s + 5
    second = WorkerProcess(settings, "certification", str(tmp_path / "w2.log"))
    try:
        await wait_for(lambda: all_done(settings, n), 90, "every application processed")
    finally:
        assert second.terminate() == 0
    await assert_exactly_once(bus, settings, n)


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


async def test_worker_survives_a_broker_restart(bus: Bus, settings: Settings, tmp_path: Path
                                                ) -> None:
    n = 2000
    await bus.publish(*applications(n, "br"))
    worker = WorkerProcess(settings, "certification", str(tmp_path / "w.log"))
    try:
        await wait_for(lambda: _some_done(settings), 30, "the first commits")
        await asyncio.to_thread(rabbitmqctl, "stop_app")
        await asyncio.sleep(2)
        await asyncio.to_thread(rabbitmqctl, "start_app")
        await asyncio.to_thread(rabbitmqctl, "await_startup")
        await wait_for(lambda: all_done(settings, n), 120, "every application processed")
        assert worker.proc.poll() is None, "the worker process must survive on its own"
    finally:
        code = worker.terminate()
    assert code == 0
    connection_bus = await _fresh_bus(settings)
    await assert_exactly_once(connection_bus, settings, n)


async def _fresh_bus(settings: Settings) -> Bus:
    import aio_pika

    connection = await aio_pika.connect(str(settings.amqp_url))
    return await Bus.open(connection)


def pg_ctl(action: str) -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
                   check=True, capture_output=True, timeout=120)


async def test_worker_survives_a_database_restart(bus: Bus, settings: Settings,
                                                  tmp_path: Path) -> None:
    n = 2000
    await bus.publish(*applications(n, "pg"))
    worker = WorkerProcess(settings, "certification", str(tmp_path / "w.log"))
    try:
        await wait_for(lambda: _some_done(settings), 30, "the first commits")
        await asyncio.to_thread(pg_ctl, "stop")
        await asyncio.sleep(5)
        await asyncio.to_thread(pg_ctl, "start")
        await wait_for(lambda: all_done(settings, n), 120, "every application processed")
        assert worker.proc.poll() is None, "the worker process must survive on its own"
    finally:
        code = worker.terminate()
    assert code == 0
    await assert_exactly_once(bus, settings, n)
