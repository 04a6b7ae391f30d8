"""The worker's raw consumer (workers/consumer.py) against the real broker: deliveries
reach the callback with their properties, and a consumer the broker cancels (its queue
deleted) registers itself again once the queue is back."""

import asyncio
import time

import aio_pika
from aio_pika.abc import AbstractRobustConnection

from workers.runtime.consumer import RawConsumer
from workers.runtime.delivered import Delivered
from workers.settings import Settings


async def until(predicate, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def publish(connection: AbstractRobustConnection, queue: str, body: bytes) -> None:
    channel = await connection.channel()
    await channel.default_exchange.publish(aio_pika.Message(
        body, headers={"x-haodian-attempt": 2}, content_type="application/json",
        message_id="m-1", type="t.x", app_id="tests"), routing_key=queue)
    await channel.close()


async def test_deliveries_carry_body_properties_and_settle(settings: Settings) -> None:
    connection = await aio_pika.connect_robust(str(settings.amqp_url))
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue("raw-consumer-props", auto_delete=True)
        got: list[Delivered] = []

        async def on_message(m: Delivered) -> None:
            got.append(m)

        consumer = RawConsumer(channel, queue.name, on_message)
        await consumer.start()
        assert consumer.active
        await publish(connection, queue.name, b'{"a": 1}')
        await until(lambda: got, 10, "the delivery")
        m = got[0]
        assert (m.body, m.headers, m.content_type, m.message_id, m.type, m.app_id,
                m.routing_key) == (b'{"a": 1}', {"x-haodian-attempt": 2}, "application/json",
                                   "m-1", "t.x", "tests", queue.name)
        await m.ack()
        await consumer.stop()
        assert not consumer.active
        declared = await channel.declare_queue(queue.name, auto_delete=True, passive=True)
        assert declared.declaration_result.message_count == 0  # acked, not back in the queue
    finally:
        await connection.close()


async def test_consumer_cancelled_by_the_broker_registers_again(settings: Settings) -> None:
    connection = await aio_pika.connect_robust(str(settings.amqp_url))
    try:
        # Declared on another channel: a robust channel re-declares the queues it declared
        # itself when it reopens, which would hide the retrying under test.
        admin = await connection.channel()
        await admin.declare_queue("raw-consumer-cancel", durable=True)
        channel = await connection.channel()
        got: list[bytes] = []

        async def on_message(m: Delivered) -> None:
            got.append(m.body)
            await m.ack()

        consumer = RawConsumer(channel, "raw-consumer-cancel", on_message)
        await consumer.start()
        await admin.queue_delete("raw-consumer-cancel")
        await until(lambda: not consumer.active, 10, "the broker's cancel")
        await asyncio.sleep(0.5)  # it keeps trying while the queue is missing
        assert not consumer.active
        await admin.declare_queue("raw-consumer-cancel", durable=True)
        await until(lambda: consumer.active, 15, "the consumer to register again")
        await publish(connection, "raw-consumer-cancel", b"after")
        await until(lambda: got == [b"after"], 10, "a delivery after re-registering")
        await consumer.stop()
        await admin.queue_delete("raw-consumer-cancel")
    finally:
        await connection.close()
