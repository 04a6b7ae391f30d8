"""Publishing events to haodian.events: validated first, persistent, confirmed.

    async with Publisher.connect(url) as publisher:
        outcome = await publisher.publish({"specversion": "1.0", ...})
        if not outcome.published: print(outcome.reason, outcome.detail)

An event that would be refused by the workers is refused here, before sending, with
the same reason code; only valid events reach the broker.
"""

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aio_pika
import orjson
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange

from schema.envelope import CONTENT_TYPE
from workers import broker, topology
from workers.registry import all_routes
from workers.runtime.decode import Rejected, decode


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    event_id: str | None
    type: str | None
    published: bool
    reason: str = ""
    detail: str = ""


def _peek(body: bytes) -> tuple[str | None, str | None]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(doc, dict):
        return None, None
    ident, etype = doc.get("id"), doc.get("type")
    return (ident if isinstance(ident, str) else None, etype if isinstance(etype, str) else None)


class Publisher:
    def __init__(self, connection: AbstractConnection, channel: AbstractChannel,
                 exchange: AbstractExchange) -> None:
        self.connection, self.channel, self.exchange = connection, channel, exchange
        self.routes = all_routes()

    @classmethod
    @asynccontextmanager
    async def connect(cls, amqp_url: str) -> AsyncIterator["Publisher"]:
        connection = await broker.connect_robust(amqp_url, name="haodian-publisher")
        try:
            channel = await connection.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(topology.EVENTS)
            yield cls(connection, channel, exchange)
        finally:
            await connection.close()

    def check(self, body: bytes) -> PublishOutcome | None:
        """The refusal a worker would give this body, or None when it is valid."""
        event_id, event_type = _peek(body)
        result = decode(body, CONTENT_TYPE, event_type or "", self.routes)
        if isinstance(result, Rejected):
            return PublishOutcome(event_id, event_type, False, result.reason, result.detail)
        return None

    async def publish(self, event: dict[str, Any] | bytes) -> PublishOutcome:
        body = event if isinstance(event, bytes) else orjson.dumps(event)
        refused = self.check(body)
        if refused is not None:
            return refused
        event_id, event_type = _peek(body)
        assert event_type is not None
        message = aio_pika.Message(body, content_type=CONTENT_TYPE, message_id=event_id,
                                   type=event_type, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        try:
            await self.exchange.publish(message, routing_key=event_type, mandatory=True)
        except Exception as exc:
            return PublishOutcome(event_id, event_type, False, "broker_refused", repr(exc)[:200])
        return PublishOutcome(event_id, event_type, True)

    async def publish_many(self, events: Iterable[dict[str, Any] | bytes], window: int = 500,
                           progress: Any = None) -> list[PublishOutcome]:
        """Publish with up to `window` confirms outstanding; `progress(n)` after each window."""
        outcomes: list[PublishOutcome] = []
        pending: list[dict[str, Any] | bytes] = []

        async def flush(batch: Sequence[dict[str, Any] | bytes]) -> None:
            outcomes.extend(await asyncio.gather(*(self.publish(e) for e in batch)))
            if progress is not None:
                progress(len(batch))

        for event in events:
            pending.append(event)
            if len(pending) >= window:
                await flush(pending)
                pending = []
        if pending:
            await flush(pending)
        return outcomes
