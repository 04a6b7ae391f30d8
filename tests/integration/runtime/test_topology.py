"""The declared topology as the broker keeps it: every queue's arguments explicit (read
back with rabbitmqctl), declaring again changes nothing, and a DLQ keeps a dead letter
that `haodian dlq list` handed back many times."""

import json
import subprocess
from urllib.parse import unquote, urlsplit

import aio_pika
from harness import Bus

from workers import topology
from workers.settings import Settings
from workers.tools.dlq import Filter, list_dead_letters
from workers.tools.migrate import declare_topology, full_topology


def declared_arguments(settings: Settings) -> dict[str, dict[str, object]]:
    vhost = unquote(urlsplit(str(settings.amqp_url)).path[1:])
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "arguments",
                          "durable", "--formatter", "json"],
                         check=True, capture_output=True, timeout=60).stdout
    # Only haodian's named queues: a test's bus listens on an exclusive transient queue.
    rows = [row for row in json.loads(out) if row["name"].startswith("haodian.")]
    assert all(row["durable"] for row in rows)
    return {row["name"]: {k: v for k, _, v in row["arguments"]} for row in rows}


async def test_every_queue_has_its_type_and_delivery_limit_stated(settings: Settings) -> None:
    kept = declared_arguments(settings)
    for spec in full_topology(settings).queues:
        assert kept[spec.name] == spec.arguments
        assert kept[spec.name]["x-queue-type"] == "quorum"
    domain = kept[topology.domain_queue("settlement")]
    assert domain["x-delivery-limit"] == topology.BROKER_DELIVERY_LIMIT
    assert domain["x-dead-letter-exchange"] == topology.DLX
    for name in (topology.dlq_name("settlement"), topology.UNROUTABLE,
                 topology.retry_queue("settlement", settings.retry_delays_s[0])):
        assert kept[name]["x-delivery-limit"] == topology.UNLIMITED_DELIVERIES


async def test_declaring_the_topology_again_changes_nothing(settings: Settings) -> None:
    before = declared_arguments(settings)
    await declare_topology(settings)
    assert declared_arguments(settings) == before


async def test_a_dead_letter_survives_more_dlq_listings_than_the_broker_default_limit(
        bus: Bus, settings: Settings) -> None:
    await bus.channel.default_exchange.publish(
        aio_pika.Message(b"kept", headers={"x-haodian-reason": "malformed_json"}),
        routing_key=topology.dlq_name("settlement"))
    for _ in range(25):  # RabbitMQ 4.x drops at 20 returns where no limit is stated
        listed = await list_dead_letters(str(settings.amqp_url), str(settings.database_url),
                                        "settlement", Filter())
        assert [bytes(d.body) for d in listed] == [b"kept"]
