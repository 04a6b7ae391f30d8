"""Test helpers that talk to the real broker: publishing, collecting results, workers.

    bus = Bus(...)                 publish events (valid or not) and collect result events
    await run_worker_burst(...)    an in-process worker that exits once the queues drain
    WorkerProcess(...)             a `haodian worker` subprocess (for kill -9 and SIGTERM)
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import orjson
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue

from workers import db, topology
from workers.registry import resolve
from workers.runtime.worker import Worker
from workers.settings import Settings

# The administrator's connections, and this run's private database and vhost name.
ADMIN_DATABASE_URL = os.environ.get("HAODIAN_DATABASE_URL", "postgresql://127.0.0.1:5432/test")
ADMIN_AMQP_URL = os.environ.get("HAODIAN_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
SESSION_NAME = f"haodian_t_{os.getpid()}"


def event(event_type: str, data: dict[str, Any], *, id: str | None = None,
          source: str = "test-upstream", time: str | None = None) -> dict[str, Any]:
    return {"specversion": "1.0", "id": id or uuid.uuid4().hex, "source": source,
            "type": event_type, "time": time or datetime.now(UTC).isoformat(),
            "datacontenttype": "application/json", "data": data}


class Bus:
    """A channel on the test vhost with a private queue bound to every result."""

    def __init__(self, channel: AbstractChannel, results_queue: AbstractQueue) -> None:
        self.channel = channel
        self.results_queue = results_queue
        self.collected: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()

    @classmethod
    async def open(cls, connection: aio_pika.abc.AbstractConnection) -> "Bus":
        channel = await connection.channel(publisher_confirms=True)
        results = await channel.get_exchange(topology.RESULTS)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(results, routing_key="#")
        bus = cls(channel, queue)
        await queue.consume(bus._on_result, no_ack=True)
        return bus

    async def _on_result(self, message: AbstractIncomingMessage) -> None:
        self.collected.append(orjson.loads(message.body))
        self._arrived.set()

    async def publish(self, *events: dict[str, Any]) -> None:
        exchange = await self.channel.get_exchange(topology.EVENTS)
        await asyncio.gather(*(exchange.publish(aio_pika.Message(
            orjson.dumps(e), content_type="application/cloudevents+json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=e["type"])
            for e in events))

    async def publish_raw(self, body: bytes, routing_key: str,
                          content_type: str | None = "application/cloudevents+json") -> None:
        exchange = await self.channel.get_exchange(topology.EVENTS)
        await exchange.publish(aio_pika.Message(
            body, content_type=content_type, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=routing_key)

    async def wait_results(self, count: int, timeout_s: float = 30) -> list[dict[str, Any]]:
        """Wait until at least `count` result events arrived; returns all collected."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(self.collected) < count:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"expected {count} results, got {len(self.collected)}: "
                                     f"{[r['type'] for r in self.collected]}")
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                pass
        return self.collected

    async def settle(self, quiet_s: float = 0.5) -> list[dict[str, Any]]:
        """Wait until no result has arrived for `quiet_s`."""
        while True:
            seen = len(self.collected)
            await asyncio.sleep(quiet_s)
            if len(self.collected) == seen:
                return self.collected

    def of_type(self, result_type: str) -> list[dict[str, Any]]:
        return [r for r in self.collected if r["type"] == result_type]

    async def depth(self, queue_name: str) -> int:
        return await topology.queue_depth(self.channel, queue_name)

    async def take_all(self, queue_name: str) -> list[AbstractIncomingMessage]:
        """Consume (and ack) everything in a queue, e.g. a DLQ, for inspection."""
        q = await self.channel.get_queue(queue_name)
        taken = []
        while (m := await q.get(no_ack=True, fail=False)) is not None:
            taken.append(m)
        return taken


def test_settings(amqp_url: str, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"amqp_url": amqp_url, "database_url": database_url,
                              "retry_delays_s": (1, 1, 1), "batch_wait_ms": 5,
                              "grace_period_s": 10, "log_level": "warning",
                              # Runtime tests look at the DLQ a worker writes to; the
                              # tests of the dead-letter table turn ingestion on.
                              "dlq_ingest": False}
    values.update(overrides)
    return Settings(**values)


async def run_worker_burst(settings: Settings, domains: Sequence[str],
                           timeout_s: float = 20) -> Worker:
    worker = Worker(settings, resolve(list(domains)), burst=True, burst_idle_s=0.3)
    await asyncio.wait_for(worker.run(), timeout_s)
    return worker


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout_s: float, what: str,
                   every_s: float = 0.25) -> None:
    """Poll until `predicate` holds; a server that is away (OSError, a PostgreSQL error)
    counts as "not yet", for tests that stop, kill or fail over the servers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if await predicate():
                return
        except (OSError, asyncpg.PostgresError):
            pass
        await asyncio.sleep(every_s)
    raise AssertionError(f"timed out waiting for {what}")


async def scalar(settings: Settings, sql: str) -> int:
    """One integer from the database (a count, a sum) on a short-lived connection."""
    conn = await db.connect(str(settings.database_url))
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


def settings_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAODIAN_")}
    env.update({"HAODIAN_AMQP_URL": str(settings.amqp_url),
                "HAODIAN_DATABASE_URL": str(settings.database_url),
                "HAODIAN_RETRY_DELAYS_S": orjson.dumps(list(settings.retry_delays_s)).decode(),
                "HAODIAN_BATCH_WAIT_MS": str(settings.batch_wait_ms),
                "HAODIAN_GRACE_PERIOD_S": str(settings.grace_period_s),
                "HAODIAN_DLQ_INGEST": str(settings.dlq_ingest).lower(),
                "HAODIAN_LOG_LEVEL": "info"})
    return env


def worker_command(domain: str) -> list[str]:
    """The worker's command line: the same one compose.yaml runs (checked by a test)."""
    return ["worker", "--domain", domain]


class WorkerProcess:
    """`haodian worker` as a child process, logs to a file for post-mortems."""

    def __init__(self, settings: Settings, domain: str, log_path: str, *extra: str) -> None:
        self.log = open(log_path, "ab")  # closed by kill() or terminate()
        haodian = str(Path(sys.executable).parent / "haodian")
        self.proc = subprocess.Popen(
            [haodian, *worker_command(domain), *extra],
            env=settings_env(settings), stdout=self.log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def terminate(self, timeout_s: float = 30) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout_s)
        self.log.close()
        return code
