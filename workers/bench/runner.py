"""Runs one benchmark: bare baseline, then the real worker, in one run on one machine.

Both sides drain the same number of identical pre-filled messages in a separate
process; each is timed from the first to the last result event seen by a consumer of
haodian.results, so the ratio compares like with like."""

import asyncio
import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import aio_pika
import aiormq
import asyncpg
import orjson
from aio_pika.abc import AbstractChannel
from aiormq import spec
from aiormq.abc import DeliveredMessage

from workers import broker, db, topology
from workers.bench.bare import BARE_QUEUE
from workers.bench.contention import Contention, free_port
from workers.bench.procfs import CpuMeter, rss_bytes
from workers.settings import Settings
from workers.tools.migrate import declare_topology, full_topology, migrate

PROPERTIES = spec.Basic.Properties(content_type="application/cloudevents+json", delivery_mode=2)


@dataclass
class Timing:
    """Result events seen by a consumer: first/last arrival and per-cause latency."""

    expected: int
    first: float = 0.0
    last: float = 0.0
    seen: int = 0
    arrivals: dict[str, float] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    began: asyncio.Event = field(default_factory=asyncio.Event)  # the first result arrived

    def on_result(self, cause: str | None) -> None:
        now = time.monotonic()
        if not self.seen:
            self.first = now
            self.began.set()
        self.last = now
        self.seen += 1
        if cause is not None:
            self.arrivals.setdefault(cause, now)
        if self.seen >= self.expected:
            self.done.set()

    @property
    def rate(self) -> float:
        span = self.last - self.first
        return (self.seen - 1) / span if span > 0 else 0.0


async def watch_results(channel: AbstractChannel, keys: Sequence[str], timing: Timing,
                        with_cause: bool = False) -> None:
    """Count result events as they arrive. Consumes raw AMQP deliveries: the observer
    shares the machine with what it measures, so it should cost as little as it can."""
    results = await channel.get_exchange(topology.RESULTS)
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    for key in keys:
        await queue.bind(results, routing_key=key)

    async def on_delivery(message: DeliveredMessage) -> None:
        cause = orjson.loads(message.body).get("causationid") if with_cause else None
        timing.on_result(cause)

    underlay = await channel.get_underlay_channel()
    await underlay.basic_consume(queue.name, on_delivery, no_ack=True)


async def publish_all(channel: AbstractChannel, exchange_name: str, bodies: Sequence[bytes],
                      routing_key: Callable[[int], str], window: int = 1000) -> None:
    exchange = (channel.default_exchange if exchange_name == ""
                else await channel.get_exchange(exchange_name))
    for start in range(0, len(bodies), window):
        await asyncio.gather(*(exchange.publish(aio_pika.Message(
            body, content_type="application/cloudevents+json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=routing_key(i))
            for i, body in enumerate(bodies[start:start + window], start)))


async def wait_depth(channel: AbstractChannel, queue: str, depth: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while await topology.queue_depth(channel, queue) < depth:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{queue} did not reach {depth} messages")
        await asyncio.sleep(0.1)


async def prefill(channel: AbstractChannel, domain: str, bodies: Sequence[bytes],
                  routing_key: Callable[[int], str]) -> None:
    """Publish `bodies` to haodian.events and wait until the domain queue holds them, so a
    worker started next is timed on a full queue."""
    await publish_all(channel, topology.EVENTS, bodies, routing_key)
    await wait_depth(channel, topology.domain_queue(domain), len(bodies), 120)


def worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAODIAN_")}
    env.update({"HAODIAN_AMQP_URL": str(settings.amqp_url),
                "HAODIAN_DATABASE_URL": str(settings.database_url),
                "HAODIAN_LOG_LEVEL": "warning",
                "HAODIAN_PREFETCH": str(settings.prefetch),
                "HAODIAN_BATCH_SIZE": str(settings.batch_size),
                "HAODIAN_BATCH_WAIT_MS": str(settings.batch_wait_ms)})
    return env


def infra_groups() -> dict[str, list[int] | str]:
    return {"broker": "beam.smp", "database": "postgres"}


async def prepare(settings: Settings) -> None:
    """Fresh database and vhost contents: the bench never reuses earlier rows."""
    conn = await db.connect(str(settings.database_url))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await migrate(conn)
    finally:
        await conn.close()
    connection = await broker.connect(str(settings.amqp_url))
    async with connection:
        channel = await connection.channel()
        # Queues of an earlier run may carry older arguments, which a declaration with
        # today's would be refused over: the bench starts from none.
        for q in full_topology(settings).queues:
            await channel.queue_delete(q.name)
        await declare_topology(settings)
        await channel.declare_queue(BARE_QUEUE, durable=True,
                                    arguments={"x-queue-type": "quorum"})
        for name in [BARE_QUEUE, *[q.name for q in full_topology(settings).queues]]:
            await (await channel.get_queue(name)).purge()


async def run_bare(settings: Settings, bodies: Sequence[bytes]) -> dict[str, Any]:
    n = len(bodies)
    connection = await broker.connect(str(settings.amqp_url))
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await (await channel.get_queue(BARE_QUEUE)).purge()
        await publish_all(channel, "", bodies, lambda _: BARE_QUEUE)
        await wait_depth(channel, BARE_QUEUE, n, 60)
        timing = Timing(n)
        await watch_results(channel, ["bench.bare"], timing)
        proc = subprocess.Popen([sys.executable, "-m", "workers.bench.bare",
                                 str(settings.amqp_url), str(settings.database_url), str(n),
                                 str(settings.batch_size), str(settings.batch_wait_ms),
                                 str(settings.prefetch)])
        meter = CpuMeter({"process": [proc.pid], **infra_groups()})
        meter.start()
        await asyncio.wait_for(timing.done.wait(), 600)
        cpu = meter.stop()
        await asyncio.to_thread(proc.wait, 60)
    return {"events": n, "seconds": round(timing.last - timing.first, 3),
            "events_per_s": round(timing.rate), "cpu_s_per_1000": per_thousand(cpu, n)}


def per_thousand(cpu: dict[str, float], n: int) -> dict[str, float]:
    return {k: round(v * 1000 / n, 3) for k, v in cpu.items()}


class WorkerUnderTest:
    """`haodian worker` in a process of its own, serving /metrics on a free port (read by
    workers/bench/contention.py)."""

    def __init__(self, settings: Settings, domain: str,
                 env: dict[str, str] | None = None) -> None:
        self.metrics_port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "workers", "worker", "--domain",
                                      domain, f"--metrics-port={self.metrics_port}"],
                                     env={**worker_env(settings), **(env or {})})

    def rss(self) -> tuple[int, int]:
        return rss_bytes(self.proc.pid)

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(60)


async def run_worker_drain(settings: Settings, domain: str, bodies: Sequence[bytes],
                           routing_key: Callable[[int], str], result_keys: Sequence[str],
                           worker: WorkerUnderTest | None = None, expected: int = 0,
                           contention: Contention | None = None) -> dict[str, Any]:
    """Pre-fill the domain queue with `bodies` and start a worker, or time a worker
    started on an already filled queue (`expected` results); time the drain. A
    `contention` watch runs from the first result to the last (its `finish` is the
    caller's, once the worker has exited)."""
    n = len(bodies) or expected
    connection = await broker.connect(str(settings.amqp_url))
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        timing = Timing(n)
        await watch_results(channel, result_keys, timing)
        if bodies:
            await prefill(channel, domain, bodies, routing_key)
        started_here = worker is None
        worker = worker or WorkerUnderTest(settings, domain)
        meter = CpuMeter({"worker": [worker.proc.pid], **infra_groups()})
        meter.start()
        if contention is not None:
            await asyncio.wait_for(timing.began.wait(), 120)
            await contention.start()
        await asyncio.wait_for(timing.done.wait(), 900)
        cpu = meter.stop()
        if contention is not None:
            await contention.stop()
        rss, hwm = worker.rss()
        if started_here:
            worker.stop()
    return {"events": n, "seconds": round(timing.last - timing.first, 3),
            "events_per_s": round(timing.rate), "cpu_s_per_1000": per_thousand(cpu, n),
            "worker_rss_mib": round(rss / 2**20, 1), "worker_peak_rss_mib": round(hwm / 2**20, 1)}


async def run_latency(settings: Settings, rate: float, duration_s: float,
                      make_bodies: Callable[[int], list[tuple[str, bytes, str]]],
                      result_keys: Sequence[str]) -> dict[str, Any]:
    """Publish at a steady `rate` for `duration_s`; latency = publish -> result seen."""
    n = max(1, int(rate * duration_s))
    items = make_bodies(n)  # (event id, body, routing key)
    # The observer must not stall on its own garbage: a full collection walking the
    # pre-built bodies and earlier phases' data would delay result timestamps.
    gc.collect()
    gc.freeze()
    connection = await broker.connect(str(settings.amqp_url))
    async with connection:
        # The load generator shares the two cores with what it measures, so it publishes
        # raw frames without confirms or drain waits (publisher confirms and per-message
        # tasks cost it ~0.12 core at 1,200/s, measured). Nothing is taken on trust:
        # every event must come back as a result or the run fails.
        channel = await connection.channel(publisher_confirms=False)
        timing = Timing(n)
        await watch_results(channel, result_keys, timing, with_cause=True)
        underlay = cast(aiormq.Channel, await channel.get_underlay_channel())
        sent: dict[str, float] = {}
        tick_s = 0.01
        per_tick = rate * tick_s
        start = time.monotonic()
        owed = 0.0
        i = 0
        while i < n:
            owed += per_tick
            while owed >= 1 and i < n:
                event_id, body, key = items[i]
                sent[event_id] = time.monotonic()
                await underlay.basic_publish(body, exchange=topology.EVENTS, routing_key=key,
                                             properties=PROPERTIES, wait=False)
                owed -= 1
                i += 1
            next_tick = start + tick_s * (round((time.monotonic() - start) / tick_s) + 1)
            await asyncio.sleep(max(0.0, next_tick - time.monotonic()))
        try:
            await asyncio.wait_for(timing.done.wait(), 120)
        except TimeoutError:
            raise RuntimeError(f"only {timing.seen} of {n} results came back") from None
    gc.unfreeze()
    if os.environ.get("HAODIAN_BENCH_TRACE"):
        with open(os.environ["HAODIAN_BENCH_TRACE"], "w") as trace:
            for k, t in sent.items():
                trace.write(f"{t - start:.4f} {(timing.arrivals.get(k, t) - t) * 1000:.1f}\n")
    latencies = sorted((timing.arrivals[k] - t) * 1000 for k, t in sent.items()
                       if k in timing.arrivals)
    return {"rate_per_s": round(rate), "events": n,
            "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1),
            "max_ms": round(latencies[-1], 1)}


async def run_soak(settings: Settings, worker: "WorkerUnderTest", rate: float, duration_s: float,
                   make_bodies: Callable[[int], list[tuple[str, bytes, str]]],
                   result_keys: Sequence[str], sample_every_s: float = 10.0) -> dict[str, Any]:
    """A steady load for `duration_s` while the worker's RSS is sampled: memory must stay
    flat (docs/rules.md §5: idle ≤ 100 MiB, flat under a 10-minute soak)."""
    samples: list[tuple[float, float]] = []
    tables: list[dict[str, float]] = []
    started = time.monotonic()
    url = str(settings.database_url)

    async def sample() -> None:
        while True:
            at = round(time.monotonic() - started, 1)
            samples.append((at, round(worker.rss()[0] / 2**20, 1)))
            tables.append({"at_s": at, **await table_figures(url)})
            await asyncio.sleep(sample_every_s)

    wal_before = await _fetch(url, "SELECT pg_current_wal_lsn()::text")
    sampler = asyncio.create_task(sample())
    try:
        latency = await run_latency(settings, rate, duration_s, make_bodies, result_keys)
    finally:
        sampler.cancel()
    samples.append((round(time.monotonic() - started, 1), round(worker.rss()[0] / 2**20, 1)))
    tables.append({"at_s": samples[-1][0], **await table_figures(url)})
    wal = await _fetch(url, f"SELECT pg_current_wal_lsn() - '{wal_before}'::pg_lsn")
    tail = [mib for _, mib in samples[len(samples) // 2:]]
    return {"rate_per_s": round(rate), "seconds": duration_s, "latency": latency,
            "rss_mib_first": samples[0][1], "rss_mib_last": samples[-1][1],
            "rss_mib_max": max(mib for _, mib in samples),
            "rss_mib_second_half_spread": round(max(tail) - min(tail), 1),
            # The whole cluster's WAL: other databases' writes count too.
            "wal_bytes_per_event": round(float(wal) / max(1, latency["events"]))
            if wal is not None and wal_before is not None else None,
            "samples": samples, "tables": tables}


async def _fetch(url: str, sql: str) -> Any:
    """One value on a fresh connection; None while the database is away (a soak outlives
    restarts of the servers it shares)."""
    try:
        conn = await db.connect(url)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def table_figures(url: str) -> dict[str, float]:
    """Inbox and outbox: MiB on disk (indexes included) and live rows (statistics); empty
    while the database is away."""
    try:
        conn = await db.connect(url)
    except (OSError, asyncpg.PostgresError):
        return {}
    try:
        row = await conn.fetchrow(
            "SELECT pg_total_relation_size('inbox') AS inbox_b, "
            "pg_total_relation_size('outbox') AS outbox_b, "
            "(SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'inbox') AS inbox_rows, "
            "(SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'outbox') AS outbox_rows")
    finally:
        await conn.close()
    return {"inbox_mib": round(row["inbox_b"] / 2**20, 2),
            "outbox_mib": round(row["outbox_b"] / 2**20, 2),
            "inbox_rows": row["inbox_rows"], "outbox_rows": row["outbox_rows"]}
