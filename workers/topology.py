"""The broker topology of docs/rules.md §2.1, as data, declared idempotently.

    upstream ──> haodian.events (topic, alternate-exchange haodian.unroutable)
                   │ certification.*            ──> haodian.certification
                   │ store.* product.*          ──> haodian.compliance
                   │ order.* aftersale.* settlement.* ──> haodian.settlement
                   │ deposit.*                  ──> haodian.deposit
                   └ anything else ──> haodian.unroutable (fanout) ──> haodian.unroutable

    worker ──retry──> haodian.retry (direct, key <domain>.<delay>s)
              ──> haodian.<domain>.retry.<delay>s  (quorum, TTL = delay)
              ──TTL expired──> haodian.requeue (direct, key <domain>) ──> haodian.<domain>
    worker ──reject──> haodian.dlx (direct, key <domain>) ──> haodian.<domain>.dlq
    broker ──delivery limit──> haodian.dlx as well (poison that kills workers)
    worker ──results──> haodian.results (topic, key = result type)

One retry queue per delay, so a message waiting 10 minutes never holds up one waiting
1 second (per-message TTL only expires at the head of a queue).
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aio_pika import ExchangeType
from aio_pika.abc import AbstractChannel

EVENTS = "haodian.events"
RESULTS = "haodian.results"
UNROUTABLE = "haodian.unroutable"
RETRY = "haodian.retry"
REQUEUE = "haodian.requeue"
DLX = "haodian.dlx"

# The broker's own backstop against a message that kills every worker that takes it;
# the worker's own redelivery check (settings.max_redeliveries) normally fires first.
BROKER_DELIVERY_LIMIT = 20
# "No limit", written the same on every broker version: 3.x treats -1 as "dead-letter on
# the first requeue" (measured on 3.10.8) while 4.x treats it as "no limit", and leaving
# the argument out means "no limit" on 3.x but 20 on 4.x. A DLQ has no dead-letter target,
# so a limit there would drop what `haodian dlq list` hands back 20 times.
UNLIMITED_DELIVERIES = 2**31 - 1


def domain_queue(domain: str) -> str:
    return f"haodian.{domain}"


def dlq_name(domain: str) -> str:
    return f"haodian.{domain}.dlq"


# Where dead letters are kept: each domain's DLQ, and haodian.unroutable under this name.
UNROUTABLE_PLACE = "unroutable"


def dead_letter_queue(place: str) -> str:
    """The queue a place's dead letters wait in until they are ingested."""
    return UNROUTABLE if place == UNROUTABLE_PLACE else dlq_name(place)


def retry_queue(domain: str, delay_s: int) -> str:
    return f"haodian.{domain}.retry.{delay_s}s"


def retry_queue_pattern(domain: str) -> str:
    """A regular expression for every retry queue of a domain, whatever its delay (the
    broker users' permissions, workers/access/broker_users.py)."""
    return re.escape(f"haodian.{domain}.retry.") + "[0-9]+s"


def retry_key(domain: str, delay_s: int) -> str:
    return f"{domain}.{delay_s}s"


@dataclass(frozen=True)
class ExchangeSpec:
    name: str
    type: ExchangeType
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueSpec:
    name: str
    arguments: dict[str, Any]
    bindings: tuple[tuple[str, str], ...]  # (exchange, routing key)


@dataclass(frozen=True)
class Topology:
    exchanges: tuple[ExchangeSpec, ...]
    queues: tuple[QueueSpec, ...]


_AT_LEAST_ONCE_DEAD_LETTERING = {
    "x-dead-letter-strategy": "at-least-once",
    "x-overflow": "reject-publish",
}


def build_topology(
    domains: Iterable[tuple[str, Sequence[str]]], retry_delays_s: Sequence[int]
) -> Topology:
    """`domains` gives each domain's name and binding keys on haodian.events."""
    exchanges = (
        ExchangeSpec(UNROUTABLE, ExchangeType.FANOUT),
        ExchangeSpec(EVENTS, ExchangeType.TOPIC, {"alternate-exchange": UNROUTABLE}),
        ExchangeSpec(RESULTS, ExchangeType.TOPIC),
        ExchangeSpec(RETRY, ExchangeType.DIRECT),
        ExchangeSpec(REQUEUE, ExchangeType.DIRECT),
        ExchangeSpec(DLX, ExchangeType.DIRECT),
    )
    # Every queue states its type and delivery limit: RabbitMQ 4.x changed both defaults.
    unlimited = {"x-queue-type": "quorum", "x-delivery-limit": UNLIMITED_DELIVERIES}
    queues = [QueueSpec(UNROUTABLE, unlimited, ((UNROUTABLE, ""),))]
    for name, keys in domains:
        queues.append(QueueSpec(
            domain_queue(name),
            {
                "x-queue-type": "quorum",
                "x-delivery-limit": BROKER_DELIVERY_LIMIT,
                "x-dead-letter-exchange": DLX,
                "x-dead-letter-routing-key": name,
                **_AT_LEAST_ONCE_DEAD_LETTERING,
            },
            (*((EVENTS, key) for key in keys), (REQUEUE, name)),
        ))
        queues.append(QueueSpec(dlq_name(name), unlimited, ((DLX, name),)))
        for delay_s in retry_delays_s:
            queues.append(QueueSpec(
                retry_queue(name, delay_s),
                {
                    # Nothing consumes a retry queue (messages leave by TTL): no limit.
                    **unlimited,
                    "x-message-ttl": delay_s * 1000,
                    "x-dead-letter-exchange": REQUEUE,
                    "x-dead-letter-routing-key": name,
                    **_AT_LEAST_ONCE_DEAD_LETTERING,
                },
                ((RETRY, retry_key(name, delay_s)),),
            ))
    return Topology(exchanges, tuple(queues))


async def declare(channel: AbstractChannel, topology: Topology) -> None:
    """Declare everything; declaring the same topology again changes nothing."""
    exchanges = {}
    for spec in topology.exchanges:
        exchanges[spec.name] = await channel.declare_exchange(
            spec.name, spec.type, durable=True, arguments=spec.arguments or None)
    for q in topology.queues:
        queue = await channel.declare_queue(q.name, durable=True, arguments=q.arguments)
        for exchange, key in q.bindings:
            await queue.bind(exchanges[exchange], routing_key=key)


async def queue_depth(channel: AbstractChannel, name: str) -> int:
    """Ready messages in a queue, asked of the broker now (a robust channel's
    declare_queue(passive=True) answers from its cache)."""
    underlay = await channel.get_underlay_channel()
    result = await underlay.queue_declare(name, passive=True)
    return int(result.message_count or 0)
