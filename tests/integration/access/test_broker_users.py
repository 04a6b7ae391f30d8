"""The RabbitMQ users against the real broker: each publishes, consumes and declares
what its part needs and is refused the rest (ACCESS_REFUSED closes the channel)."""

from collections.abc import AsyncIterator, Awaitable, Callable

import aio_pika
import aiormq
import httpx
import pytest
from aio_pika.abc import AbstractChannel
from conftest import PLACE, Split

from workers import topology
from workers.access.commands import apply_rabbitmq

Open = Callable[[str], Awaitable[AbstractChannel]]


@pytest.fixture
async def channel_as(split: Split) -> AsyncIterator[Open]:
    """channel_as(user) -> a fresh channel with publisher confirms, as that user."""
    connections: list[aio_pika.abc.AbstractConnection] = []

    async def open_as(user: str) -> AbstractChannel:
        connection = await aio_pika.connect(split.amqp_url(user))
        connections.append(connection)
        return await connection.channel(publisher_confirms=True)

    yield open_as
    for connection in connections:
        await connection.close()


async def publish(channel: AbstractChannel, exchange: str, key: str = "order.confirmed") -> None:
    target = await channel.get_exchange(exchange)
    await target.publish(aio_pika.Message(b"{}"), routing_key=key)


async def _ignore(message: aio_pika.abc.AbstractIncomingMessage) -> None:
    await message.nack()


async def test_applying_the_users_again_changes_nothing(split: Split) -> None:
    assert await apply_rabbitmq(split.admin, split.ops, split.passwords) == []


async def test_gateway_publishes_events_with_confirms(split: Split, channel_as: Open) -> None:
    await publish(await channel_as(split.users.gateway), topology.EVENTS)


@pytest.mark.parametrize("action", ["publish_results", "consume", "declare", "get_dlq"])
async def test_gateway_is_refused_everything_else(split: Split, channel_as: Open,
                                                  action: str) -> None:
    channel = await channel_as(split.users.gateway)
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
        if action == "publish_results":
            await publish(channel, topology.RESULTS, "settlement.paid")
        elif action == "consume":
            queue = await channel.get_queue(topology.domain_queue("settlement"))
            await queue.consume(_ignore)
        elif action == "declare":
            await channel.declare_queue("gateway.private", auto_delete=True)
        else:
            await (await channel.get_queue(topology.dlq_name("deposit"))).get(fail=False)


async def test_worker_publishes_dead_letters_and_consumes_its_queue(
        split: Split, channel_as: Open) -> None:
    channel = await channel_as(split.users.worker)
    await publish(channel, topology.RESULTS, "settlement.paid")
    await publish(channel, topology.RETRY, topology.retry_key("deposit", 1))
    before = await topology.queue_depth(channel, topology.dlq_name("deposit"))
    await publish(channel, topology.DLX, "deposit")
    assert await topology.queue_depth(channel, topology.dlq_name("deposit")) == before + 1
    queue = await channel.get_queue(topology.domain_queue("deposit"))
    assert await queue.get(fail=False) is None  # allowed, and nothing is waiting there


@pytest.mark.parametrize("action", ["publish_events", "read_dlq", "delete_foreign_queue",
                                    "declare_foreign_queue", "delete_foreign_exchange"])
async def test_worker_is_refused_outside_its_names(split: Split, channel_as: Open,
                                                   action: str) -> None:
    admin = await aio_pika.connect(str(split.admin.amqp_url))
    async with admin:
        admin_channel = await admin.channel()
        await admin_channel.declare_queue("someone.else", auto_delete=False)
        await admin_channel.declare_exchange("someone.else.x", aio_pika.ExchangeType.TOPIC)
        channel = await channel_as(split.users.worker)
        try:
            with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
                if action == "publish_events":
                    await publish(channel, topology.EVENTS)
                elif action == "read_dlq":
                    dlq = await channel.get_queue(topology.dlq_name("deposit"))
                    await dlq.get(fail=False)
                elif action == "delete_foreign_queue":
                    await channel.queue_delete("someone.else")
                elif action == "declare_foreign_queue":
                    await channel.declare_queue("haodian.intruder", durable=True)
                else:
                    await channel.exchange_delete("someone.else.x")
        finally:
            await admin_channel.queue_delete("someone.else")
            await admin_channel.exchange_delete("someone.else.x")


async def test_monitor_reads_dead_letters_and_replays_them(split: Split,
                                                          channel_as: Open) -> None:
    worker = await channel_as(split.users.worker)
    await publish(worker, topology.DLX, "compliance")  # a dead letter, as a worker makes one
    monitor = await channel_as(split.users.monitor)
    dlq = await monitor.get_queue(topology.dlq_name("compliance"))
    message = await dlq.get(fail=False, no_ack=False)
    assert message is not None
    await message.ack()
    await publish(monitor, topology.EVENTS, "store.open_requested")  # a replay


@pytest.mark.parametrize("action", ["consume_domain_queue", "publish_results", "declare",
                                    "purge_domain_queue"])
async def test_monitor_is_refused_live_queues_and_results(split: Split, channel_as: Open,
                                                          action: str) -> None:
    channel = await channel_as(split.users.monitor)
    with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
        if action == "consume_domain_queue":
            await (await channel.get_queue(topology.domain_queue("settlement"))).get(fail=False)
        elif action == "publish_results":
            await publish(channel, topology.RESULTS, "settlement.paid")
        elif action == "declare":
            await channel.declare_queue("monitor.private", auto_delete=True)
        else:
            await (await channel.get_queue(topology.domain_queue("settlement"))).purge()


async def test_monitor_sees_queue_figures_in_the_management_api(split: Split) -> None:
    async with httpx.AsyncClient() as client:
        url = split.management_url(split.users.monitor)
        user, password = split.users.monitor, split.password(split.users.monitor)
        base = url.split("@", 1)[1]
        response = await client.get(f"http://{base}/api/queues/{PLACE}",
                                     auth=(user, password))
    assert response.status_code == 200, response.text
    names = {q["name"] for q in response.json()}
    assert topology.domain_queue("settlement") in names
