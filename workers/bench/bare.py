"""The bare baseline loop of docs/rules.md §5, run in its own process:

consume -> one batched INSERT of the payloads -> publish one result per message with
confirms -> ack. Same batching knobs as the worker, none of its work."""

import asyncio
import sys
import time
from collections import deque

import aio_pika
import uvloop
from aio_pika.abc import AbstractIncomingMessage

from workers import broker, db, topology

BARE_QUEUE = "haodian.bench.bare"


async def bare_loop(amqp_url: str, database_url: str, expected: int, batch_size: int,
                    batch_wait_s: float, prefetch: int) -> None:
    conn = await db.connect(database_url)
    await conn.execute("CREATE TABLE IF NOT EXISTS bench_bare (payload text NOT NULL)")
    connection = await broker.connect(amqp_url)
    channel = await connection.channel(publisher_confirms=True)
    await channel.set_qos(prefetch_count=prefetch)
    results = await channel.get_exchange(topology.RESULTS)
    queue = await channel.get_queue(BARE_QUEUE)
    buffer: deque[AbstractIncomingMessage] = deque()
    arrived = asyncio.Event()

    async def on_message(message: AbstractIncomingMessage) -> None:
        buffer.append(message)
        arrived.set()

    await queue.consume(on_message)
    done = 0
    while done < expected:
        while not buffer:
            arrived.clear()
            await arrived.wait()
        deadline = time.monotonic() + batch_wait_s
        while len(buffer) < batch_size and time.monotonic() < deadline:
            arrived.clear()
            try:
                await asyncio.wait_for(arrived.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                break
        batch = [buffer.popleft() for _ in range(min(batch_size, len(buffer)))]
        await conn.execute("INSERT INTO bench_bare (payload) SELECT unnest($1::text[])",
                         [m.body.decode() for m in batch])
        await asyncio.gather(*(results.publish(
            aio_pika.Message(m.body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key="bench.bare") for m in batch))
        await batch[-1].ack(multiple=True)
        done += len(batch)
    await connection.close()
    await conn.close()


if __name__ == "__main__":
    url, dsn, n, size, wait_ms, prefetch = sys.argv[1:7]
    uvloop.run(bare_loop(url, dsn, int(n), int(size), int(wait_ms) / 1000, int(prefetch)))
