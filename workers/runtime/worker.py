"""The worker process: consume in batches, commit, then publish results and ack.

Per domain, one channel consumes the domain queue (consumer.py) and a loop takes batches
from it (up to batch_size messages or batch_wait_ms after the first). A batch is decoded
(decode.py), committed in one PostgreSQL transaction (batch.py), then: its result events
are published from the outbox with confirms (outbox.py) while rejected messages are
copied to the DLQ and retried ones to the retry path, and the batch is acked (acks.py).
"""

import asyncio
import contextlib
import gc
import signal
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog
from aio_pika.abc import AbstractRobustChannel, AbstractRobustConnection

from handlers.base import ChunkedRoute, Domain
from workers import broker, db, topology
from workers.registry import routes_by_type
from workers.runtime import metrics, outbox
from workers.runtime.acks import Acknowledger
from workers.runtime.batch import BatchEntry, BatchProcessor, Fate, dedupe_within_batch
from workers.runtime.consumer import Batcher, RawConsumer
from workers.runtime.dead_letters import Ingester
from workers.runtime.decode import Rejected, decode
from workers.runtime.delivered import (
    ATTEMPT_HEADER,
    DELIVERY_COUNT_HEADER,
    ROUTING_KEY_HEADER,
    Delivered,
    int_header,
)
from workers.runtime.errors import DatabaseUnavailable, is_connection_error
from workers.runtime.monitoring import WorkerMonitoring
from workers.settings import OpsSettings, Settings, redact

log = structlog.get_logger()

class DomainLoop:
    """One domain's queue, batcher and processor."""

    def __init__(self, domain: Domain, settings: Settings) -> None:
        self.domain = domain
        self.routes = routes_by_type(domain)
        self.batcher = Batcher(settings.batch_size, settings.batch_wait_ms / 1000)
        self.processor = BatchProcessor(domain, settings.max_attempts, settings.chunk_size)
        self.consumer: RawConsumer | None = None
        self.tail: asyncio.Task[None] | None = None  # the last batch's broker-side work
        self.in_database_since: float | None = None  # a batch's database work under way
        self.processed = 0


class Worker:
    def __init__(self, settings: Settings, domains: Sequence[Domain], *, burst: bool = False,
                 burst_idle_s: float = 1.0, ops: OpsSettings | None = None) -> None:
        self.settings = settings
        self.loops = [DomainLoop(d, settings) for d in domains]
        self.burst = burst
        self.burst_idle_s = burst_idle_s
        self.stopping = asyncio.Event()
        self.stop_deadline = float("inf")
        self.connection: AbstractRobustConnection | None = None
        self.pool: asyncpg.Pool | None = None
        self.publish_channel: AbstractRobustChannel | None = None
        self.acks: Acknowledger | None = None
        self.results: outbox.ResultPublisher | None = None
        self._cancelling: list[asyncio.Task[None]] = []
        self.ingesting: asyncio.Task[None] | None = None
        self.monitoring = WorkerMonitoring(self, [d.domain.name for d in self.loops],
                                           settings.metrics_port, ops)

    # ---- life cycle -------------------------------------------------------------------
    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        try:
            await self.monitoring.start()
            await self.start()
            assert self.results is not None
            self.results.start()
            self.ingesting = self._start_ingester()
            await asyncio.gather(*(asyncio.create_task(self._consume_loop(d), name=d.domain.name)
                                   for d in self.loops))
            if self.ingesting is not None:
                await self.ingesting  # ends with its current round once stopping is set
            await self.results.stop()
            if self.burst:
                await self.results.flush()
            return 0
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            await self.monitoring.stop()
            await self.close()

    async def start(self) -> None:
        s = self.settings
        log.info("worker_starting", amqp=redact(s.amqp_url), database=redact(s.database_url),
                 domains=[d.domain.name for d in self.loops], prefetch=s.prefetch,
                 batch_size=s.batch_size, batch_wait_ms=s.batch_wait_ms, burst=self.burst)
        self.pool = await db.create_pool(str(s.database_url), min_size=2,
                                              max_size=s.db_pool_size)
        self.connection = await broker.connect_robust(s.amqp_url, name="haodian-worker")
        self.publish_channel = await self.connection.channel(publisher_confirms=True)
        await topology.declare(self.publish_channel, topology.build_topology(
            [(d.domain.name, d.domain.binding_keys) for d in self.loops], s.retry_delays_s))
        self.results = outbox.ResultPublisher(self.pool, self.publish_channel)
        self.acks = Acknowledger(await self.publish_channel.get_exchange(topology.DLX),
                               await self.publish_channel.get_exchange(topology.RETRY),
                               s.retry_delays_s)
        for d in self.loops:
            channel = await self.connection.channel()
            # Per-consumer prefetch: global QoS is deprecated in RabbitMQ 4.x.
            await channel.set_qos(prefetch_count=s.prefetch, global_=False)
            d.consumer = RawConsumer(channel, topology.domain_queue(d.domain.name),
                                     d.batcher.on_message)
            await d.consumer.start()
        # Everything loaded so far (modules, schemas, queries) lives as long as the
        # process: keep it out of the collector's way, or each full collection walks it
        # (~40 ms pauses under load, measured).
        gc.freeze()
        log.info("worker_started")

    def _start_ingester(self) -> "asyncio.Task[None] | None":
        """Dead letters of this worker's domains and haodian.unroutable into PostgreSQL."""
        if not self.settings.dlq_ingest:
            return None
        assert self.connection is not None and self.pool is not None
        places = [d.domain.name for d in self.loops] + [topology.UNROUTABLE_PLACE]
        ingester = Ingester(self.connection, self.pool, places,
                            self.settings.dlq_ingest_interval_s)
        return asyncio.create_task(ingester.run(self.stopping), name="dead-letter-ingester")

    def request_stop(self) -> None:
        if self.stopping.is_set():
            return
        log.info("worker_stopping", grace_period_s=self.settings.grace_period_s)
        self.stop_deadline = time.monotonic() + self.settings.grace_period_s
        self.stopping.set()
        self._cancelling = [asyncio.create_task(self._cancel_consumer(d.consumer))
                            for d in self.loops if d.consumer is not None]

    @staticmethod
    async def _cancel_consumer(consumer: RawConsumer) -> None:
        with contextlib.suppress(Exception):
            await consumer.stop()

    async def close(self) -> None:
        if self.ingesting is not None and not self.ingesting.done():
            self.stopping.set()  # ends its loop even if the cancel lands in a library
            self.ingesting.cancel()  # a batch not acked yet goes back to its queue
            with contextlib.suppress(asyncio.CancelledError):
                await self.ingesting
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.connection.close(), 5)
        if self.pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.pool.close(), 5)
        log.info("worker_stopped", processed={d.domain.name: d.processed for d in self.loops})

    # ---- consuming --------------------------------------------------------------------
    async def _consume_loop(self, d: DomainLoop) -> None:
        structlog.contextvars.bind_contextvars(domain=d.domain.name)
        while True:
            if self.stopping.is_set() and not d.batcher.buffer:
                break
            if time.monotonic() > self.stop_deadline:
                log.warning("grace_period_over", unprocessed=len(d.batcher.buffer))
                break  # closing the connection hands unacked messages back
            idle = 0.1 if self.stopping.is_set() else self.burst_idle_s
            messages = await d.batcher.next_batch(idle)
            if messages:
                await self._process(d, messages)
            elif self.burst and await self._drained(d):
                self.request_stop()
        if d.tail is not None:
            await d.tail

    async def _drained(self, d: DomainLoop) -> bool:
        """Burst mode: the domain's queue and its retry queues are empty."""
        if time.monotonic() - d.batcher.last_arrival < self.burst_idle_s:
            return False
        assert self.publish_channel is not None
        names = [topology.domain_queue(d.domain.name)] + [
            topology.retry_queue(d.domain.name, s) for s in self.settings.retry_delays_s]
        for name in names:
            if await topology.queue_depth(self.publish_channel, name):
                return False
        return all(not other.batcher.buffer for other in self.loops)

    def _delivery(self, d: DomainLoop, m: Delivered) -> BatchEntry:
        headers = m.headers or {}
        routing_key = str(headers.get(ROUTING_KEY_HEADER) or m.routing_key or "")
        attempt = int_header(headers.get(ATTEMPT_HEADER))
        redeliveries = int_header(headers.get(DELIVERY_COUNT_HEADER))
        item = decode(m.body, m.content_type, routing_key, d.routes, headers)
        delivery = BatchEntry(m.body, routing_key, attempt, item, handle=m)
        if redeliveries > self.settings.max_redeliveries:
            # Workers died holding it again and again (kill -9, OOM): poison.
            delivery.reject("redelivery_limit", f"delivered {redeliveries + 1} times")
        elif isinstance(delivery.item, Rejected):
            delivery.reject(delivery.item.reason, delivery.item.detail)
        return delivery

    async def _process(self, d: DomainLoop, messages: list[Delivered]) -> None:
        assert self.pool is not None
        started = time.monotonic()
        entries = [self._delivery(d, m) for m in messages]
        dedupe_within_batch(entries)
        metrics.BATCH_SIZE.labels(d.domain.name).observe(len(entries))
        if not await self._with_database(d, lambda: d.processor.commit_batch(self.pool,
                                                                                entries)):
            await Acknowledger.requeue(entries)
            return
        metrics.HANDLE_SECONDS.labels(d.domain.name).observe(time.monotonic() - started)
        now = datetime.now(UTC)
        metrics.observe_lags(d.domain.name, (
            max(0.0, (now - x.decoded.event.time).total_seconds()) for x in entries
            if x.decoded and x.fate is Fate.ACK and not x.duplicate))
        batch_results = [e for x in entries for e in x.results]
        for x in entries:
            if (x.decoded and isinstance(x.decoded.route, ChunkedRoute) and x.fate is Fate.ACK
                    and not x.duplicate):
                await self._run_long_job(d, x)
        # The broker side of this batch overlaps the next batch's database work; acks
        # stay in batch order because each batch's tail waits for the previous one.
        previous = d.tail
        d.tail = asyncio.create_task(self._after_commit(d, entries, batch_results, previous))
        if previous is not None:
            await previous

    async def _after_commit(self, d: DomainLoop, entries: Sequence[BatchEntry],
                            results: Sequence[outbox.OutgoingEvent],
                            previous: "asyncio.Task[None] | None") -> None:
        try:
            assert self.acks is not None
            copies = asyncio.gather(self._publish(results),
                                    self.acks.copy_on(d.domain.name, entries))
            if previous is not None:
                await previous
            started = time.monotonic()
            await copies
            await self.acks.ack_batch(d.domain.name, entries)
            d.processed += len(entries)
            metrics.AFTER_COMMIT_SECONDS.labels(d.domain.name).observe(time.monotonic() - started)
        except Exception:  # never lose the loop over it: unacked messages are redelivered
            log.exception("after_commit_failed")

    async def _run_long_job(self, d: DomainLoop, x: BatchEntry) -> None:
        assert self.pool is not None
        first = True
        while True:
            done = await self._with_database(
                d, lambda: d.processor.run_chunk(self.pool, x, first))  # noqa: B023
            if done is None:
                x.fate = Fate.REQUEUE
                return
            first = False
            await self._publish(x.results)
            x.results = []
            if done:
                return
            if self.stopping.is_set() and time.monotonic() > self.stop_deadline - 2:
                log.info("long_job_handed_back", event_id=x.decoded.event.id if x.decoded else None)
                x.fate = Fate.REQUEUE
                return

    async def _with_database(self, d: DomainLoop, work: Any) -> Any:
        """Run `work`; while the database is unreachable, wait and run it again.
        Returns None when the grace period ran out while waiting."""
        d.in_database_since = time.monotonic()
        try:
            return await self._database_retrying(d, work)
        finally:
            d.in_database_since = None

    async def _database_retrying(self, d: DomainLoop, work: Any) -> Any:
        assert self.pool is not None
        backoff = 0.2
        while True:
            try:
                result = await work()
                return True if result is None else result
            except DatabaseUnavailable as exc:
                metrics.DB_OUTAGES.labels(d.domain.name).inc()
                log.warning("database_unavailable", error=str(exc)[:200], retry_in_s=backoff)
            while True:
                if time.monotonic() > self.stop_deadline:
                    return None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                try:
                    async with self.pool.acquire() as conn:
                        await conn.fetchval("SELECT 1")
                    log.info("database_back")
                    break
                except Exception as exc:
                    if not is_connection_error(exc):
                        raise

    async def _publish(self, events: Sequence[outbox.OutgoingEvent]) -> None:
        assert self.results is not None
        await self.results.publish(events)

    # ---- what monitoring reads ------------------------------------------------------------
    def broker_connected(self) -> bool:
        transport = getattr(self.connection, "transport", None)
        return transport is not None and not transport.connection.is_closed

    def consuming(self) -> bool:
        """Every domain's consumer is registered on an open channel, and not stopping."""
        return not self.stopping.is_set() and bool(self.loops) and all(
            d.consumer is not None and d.consumer.active for d in self.loops)

    def messages_done(self) -> int:
        return sum(d.processed for d in self.loops)

    def commit_waiting_s(self) -> float:
        """How long the oldest batch in the database has been there (0: none): a commit
        waiting for a missing synchronous standby, or a database outage, shows here."""
        now = time.monotonic()
        return max((now - d.in_database_since for d in self.loops
                    if d.in_database_since is not None), default=0.0)
