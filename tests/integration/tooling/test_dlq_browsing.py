"""Reading dead letters never changes them: fifty looks, then a replay that restores
every header and property, with the delivery limit RabbitMQ 4.x gives quorum queues by
default set on every queue; a message ingested twice is kept once."""

import decimal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import aio_pika
import asyncpg
import orjson
import pytest
from aio_pika.abc import AbstractIncomingMessage
from harness import Bus, event, run_worker_burst, scalar
from tooling_helpers import Tap, cli, professional_application

from workers import topology
from workers.runtime.dead_letters import ingest_waiting, store, taken_from
from workers.settings import Settings
from workers.tools.dlq import Filter, list_dead_letters, replay

DOMAIN = "certification"
BROWSES = 50
HEADERS: dict[str, Any] = {
    "tenant": "shop-9", "small": 7, "negative": -70_000, "large": 2**40, "ratio": 0.1,
    "flag": True, "nothing": None, "raw": bytearray(b"\x00\xffbytes"),
    "price": decimal.Decimal("12.34"), "seen_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    "trace": {"hops": ["gateway", 3, {"nested": "yes"}], "id": "t-1"},
}


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def delivery_limit_policy(settings: Settings) -> Iterator[None]:
    """x-delivery-limit 20 on every queue of the test vhost, as RabbitMQ 4.x does for
    quorum queues by default; removed afterwards."""
    vhost = str(settings.amqp_url).rsplit("/", 1)[1]
    rabbitmqctl("set_policy", "-p", vhost, "delivery-limit-20", ".*", '{"delivery-limit":20}',
                "--apply-to", "queues")
    try:
        yield
    finally:
        rabbitmqctl("clear_policy", "-p", vhost, "delivery-limit-20")


PROPERTIES = ("content_type", "content_encoding", "delivery_mode", "priority",
              "correlation_id", "reply_to", "expiration", "message_id", "timestamp", "type",
              "user_id", "app_id")


def amqp_properties(m: AbstractIncomingMessage) -> dict[str, Any]:
    return {name: getattr(m, name) for name in PROPERTIES}


def original_message(body: bytes) -> aio_pika.Message:
    return aio_pika.Message(
        body, headers=HEADERS, content_type="application/cloudevents+json",
        content_encoding="utf-8", delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        priority=3, correlation_id="corr-1", reply_to="answers", message_id="msg-1",
        timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), type="certification.submitted",
        app_id="upstream-app")


async def test_fifty_browses_then_a_replay_restore_every_header_and_property(
        bus: Bus, settings: Settings, delivery_limit_policy: None) -> None:
    e = event("certification.submitted", {**professional_application("app-h", "acc-h"),
                                          "x": 1})
    events = await bus.channel.get_exchange(topology.EVENTS)
    original_tap = await Tap.open(bus.channel, topology.EVENTS, "certification.submitted")
    await events.publish(original_message(orjson.dumps(e)), routing_key=e["type"])
    (sent,) = await original_tap.wait(1)
    await run_worker_burst(settings.model_copy(update={"dlq_ingest": True}), [DOMAIN])

    url, db = str(settings.amqp_url), str(settings.database_url)
    for n in range(BROWSES):
        if n % 10 == 0:  # the command line too, not just the function under it
            shown = await cli(settings, "dlq", "show", "-d", DOMAIN, "1")
            assert shown.exit_code == 0, shown.output
        else:
            (d,) = await list_dead_letters(url, db, DOMAIN, Filter())
            assert d.reason == "schema_invalid"
    assert await bus.depth(topology.dlq_name(DOMAIN)) == 0

    replay_tap = await Tap.open(bus.channel, topology.EVENTS, "certification.submitted")
    assert await replay(url, db, DOMAIN, Filter(), "tester") == 1
    (copy,) = await replay_tap.wait(1)

    assert copy.body == sent.body
    assert copy.routing_key == "certification.submitted"
    assert copy.headers == sent.headers  # every value and type; no x-haodian-*, x-death
    assert amqp_properties(copy) == amqp_properties(sent)
    assert amqp_properties(sent)["priority"] == 3  # what the test set came through
    assert await scalar(settings, "SELECT count(*) FROM dead_letters "
                                  "WHERE status = 'replayed'") == 1



async def test_a_message_ingested_twice_is_kept_once_and_a_twin_is_counted(
        bus: Bus, settings: Settings) -> None:
    dlx = await bus.channel.get_exchange(topology.DLX)
    letter = aio_pika.Message(b"{not json", headers={"x-haodian-reason": "malformed_json"},
                              message_id="m-1", delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
    await dlx.publish(letter, routing_key=DOMAIN)
    queue = topology.dlq_name(DOMAIN)
    conn = await asyncpg.connect(str(settings.database_url))
    connection = await aio_pika.connect(str(settings.amqp_url))
    try:
        # Stored and committed, then the ingester dies before its ack: the broker hands
        # the message back (redelivered, x-delivery-count 1) and it is ingested again.
        doomed = await (await connection.channel()).get_underlay_channel()
        got = await doomed.basic_get(queue, no_ack=False)
        assert await store(conn, DOMAIN, [taken_from(got)], datetime.now(UTC)) == 1
        await doomed.close()
        channel = await (await connection.channel()).get_underlay_channel()
        assert await ingest_waiting(channel, conn, DOMAIN) == 1
        assert await conn.fetchval("SELECT count(*) FROM dead_letters") == 1
        assert await conn.fetchval("SELECT copies FROM dead_letters") == 1

        # A byte-identical message of its own (first delivery) is counted, not dropped.
        await dlx.publish(letter, routing_key=DOMAIN)
        assert await ingest_waiting(channel, conn, DOMAIN) == 1
        assert await conn.fetchval("SELECT count(*) FROM dead_letters") == 1
        assert await conn.fetchval("SELECT copies FROM dead_letters") == 2
    finally:
        await connection.close()
        await conn.close()
    assert await bus.depth(queue) == 0
