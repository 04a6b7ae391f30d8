"""Consuming: a consumer that takes aiormq deliveries directly and keeps itself
registered, and the batcher that groups its deliveries into batches.

aio-pika's own consumers restore themselves after a reconnect, but they wrap every
delivery in an IncomingMessage run in a task of its own (see delivered.py for the cost).
This one registers on the robust channel's current underlying channel and registers
again whenever aio-pika reopens that channel after a reconnect, or the broker cancels it
(a deleted or moved queue)."""

import asyncio
import contextlib
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, cast

import aiormq
import structlog
from aio_pika.abc import AbstractRobustChannel
from aiormq.abc import DeliveredMessage

from workers.runtime.delivered import Delivered

log = structlog.get_logger()

OnMessage = Callable[[Delivered], Awaitable[None]]
RETRY_MAX_S = 5.0


class RawConsumer:
    def __init__(self, channel: AbstractRobustChannel, queue: str, on_message: OnMessage) -> None:
        self.channel, self.queue, self.on_message = channel, queue, on_message
        self.tag = f"haodian.{queue}.{uuid.uuid4().hex[:12]}"
        self.underlay: aiormq.Channel | None = None
        self.stopped = False
        self._retrying: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        """Registered on a channel that is open."""
        u = self.underlay
        return u is not None and not u.is_closed and self.tag in u.consumers

    async def start(self) -> None:
        self.channel.reopen_callbacks.add(self._on_reopen)
        await self._register()

    async def stop(self) -> None:
        """Stop deliveries (basic.cancel); unacked ones stay with this channel."""
        self.stopped = True
        self.channel.reopen_callbacks.discard(self._on_reopen)
        if self._retrying is not None:
            self._retrying.cancel()
        if self.active:
            assert self.underlay is not None
            await self.underlay.basic_cancel(self.tag)

    async def _register(self) -> None:
        underlay = cast(aiormq.Channel, await self.channel.get_underlay_channel())
        if self.underlay is not underlay:
            underlay.on_consumer_cancel_callbacks.add(self._on_cancel)
        await underlay.basic_consume(self.queue, self._deliver, consumer_tag=self.tag)
        self.underlay = underlay

    async def _deliver(self, message: DeliveredMessage) -> None:
        await self.on_message(Delivered(message))

    def _on_reopen(self, _channel: Any = None) -> None:
        # Not awaited here: aio-pika runs this while restoring the connection, and
        # registering waits for the connection to be ready.
        self._register_soon()

    def _on_cancel(self, frame: aiormq.spec.Basic.Cancel) -> None:
        if frame.consumer_tag == self.tag and not self.stopped:
            log.warning("consumer_cancelled_by_broker", queue=self.queue)
            self._register_soon()

    def _register_soon(self) -> None:
        if self._retrying is None or self._retrying.done():
            self._retrying = asyncio.create_task(self._register_until_done())

    async def _register_until_done(self) -> None:
        """Register again; a failure (queue briefly missing, channel closing) is retried
        with backoff until it works or the consumer is stopped, and is logged each time."""
        backoff = 0.2
        while not self.stopped and not self.active:
            try:
                await self._register()
                log.info("consumer_registered", queue=self.queue)
                return
            except Exception as exc:
                log.warning("consumer_register_failed", queue=self.queue,
                            error=repr(exc)[:200], retry_in_s=backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RETRY_MAX_S)


class Batcher:
    """Collects entries from the broker's callback; hands out batches."""

    def __init__(self, size: int, wait_s: float) -> None:
        self.size, self.wait_s = size, wait_s
        self.buffer: deque[Delivered] = deque()
        self.arrived = asyncio.Event()
        self.last_arrival = time.monotonic()

    async def on_message(self, message: Delivered) -> None:
        self.buffer.append(message)
        self.last_arrival = time.monotonic()
        if len(self.buffer) == 1 or len(self.buffer) >= self.size:
            self.arrived.set()

    async def next_batch(self, idle_timeout_s: float | None) -> list[Delivered]:
        """Up to `size` messages; [] when nothing came within idle_timeout_s."""
        while not self.buffer:
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), idle_timeout_s)
            except TimeoutError:
                return []
        deadline = time.monotonic() + self.wait_s
        while len(self.buffer) < self.size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), remaining)
        return [self.buffer.popleft() for _ in range(min(self.size, len(self.buffer)))]
