"""One confirming AMQP channel to haodian.events, (re)connected on demand.

`publish` returns only once the broker acknowledged the message; anything else (no
connection, a nack, a return, a lost connection, no confirm in time) raises
BrokerUnavailable, so the caller can never answer 202 for an unconfirmed message.
While the broker is unreachable, one connection attempt per `reconnect_backoff_s` is
made and every other request fails at once.
"""

import asyncio
import time

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange

from schema.envelope import CONTENT_TYPE
from workers import broker as nodes
from workers import topology


class BrokerUnavailable(Exception):
    """The broker did not confirm a message: `reason` is a code, the message the detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class Broker:
    def __init__(self, amqp_url: str, confirm_timeout_s: float,
                 reconnect_backoff_s: float) -> None:
        self.amqp_url = amqp_url
        self.confirm_timeout_s = confirm_timeout_s
        self.reconnect_backoff_s = reconnect_backoff_s
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._lock = asyncio.Lock()
        self._retry_at = 0.0
        self._last_error = ""

    def _live(self) -> AbstractExchange | None:
        if (self._exchange is None or self._connection is None or self._channel is None
                or self._connection.is_closed or self._channel.is_closed):
            return None
        # A node that died without closing (kill -9, a cut network) leaves aio-pika's
        # connection and channel looking open: the transport underneath says otherwise.
        transport = getattr(self._connection, "transport", None)
        if transport is None or transport.connection.is_closed:
            return None
        return self._exchange

    async def exchange(self) -> AbstractExchange:
        """The live exchange, connecting first when needed."""
        live = self._live()
        if live is not None:
            return live
        async with self._lock:
            live = self._live()
            if live is not None:
                return live
            if time.monotonic() < self._retry_at:
                raise BrokerUnavailable("broker_unavailable", self._last_error)
            await self._drop()
            try:
                async with asyncio.timeout(self.confirm_timeout_s):
                    connection = await nodes.connect(self.amqp_url, name="haodian-gateway")
                    try:
                        channel = await connection.channel(publisher_confirms=True,
                                                           on_return_raises=True)
                        exchange = await channel.get_exchange(topology.EVENTS, ensure=True)
                    except BaseException:
                        await connection.close()
                        raise
            except (TimeoutError, OSError, aiormq.exceptions.AMQPError) as exc:
                self._retry_at = time.monotonic() + self.reconnect_backoff_s
                self._last_error = f"cannot reach the broker: {_short(exc)}"
                raise BrokerUnavailable("broker_unavailable", self._last_error) from None
            self._connection, self._channel, self._exchange = connection, channel, exchange
            return exchange

    async def publish(self, body: bytes, event_id: str, event_type: str) -> None:
        """Persistent, routing key = type; returns once the broker confirmed it."""
        exchange = await self.exchange()
        message = aio_pika.Message(body, content_type=CONTENT_TYPE, message_id=event_id,
                                   type=event_type,
                                   delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        try:
            confirmation = await exchange.publish(message, routing_key=event_type,
                                                  mandatory=True,
                                                  timeout=self.confirm_timeout_s)
        except TimeoutError:
            self._forget(exchange)
            raise BrokerUnavailable(
                "broker_refused",
                f"no confirm from the broker within {self.confirm_timeout_s} s") from None
        except Exception as exc:  # nack, return, lost connection or channel: all the same here
            # Only a return (unroutable) leaves the channel sound. A nack can mean the
            # channel still points at a quorum queue leader that died (RabbitMQ 3.x keeps
            # nacking on it): the next request opens a fresh connection.
            if not isinstance(getattr(exc, "frame", None), aiormq.spec.Basic.Return):
                self._forget(exchange)
            raise BrokerUnavailable("broker_refused", _short(exc)) from None
        if not isinstance(confirmation, aiormq.spec.Basic.Ack):
            raise BrokerUnavailable("broker_refused", f"the broker answered {confirmation!r}")

    def _forget(self, exchange: AbstractExchange) -> None:
        """A publish on `exchange` failed in a way a dead connection would make it fail: the
        next request connects again (a node killed mid-write can leave aiormq's connection
        looking open for a long while)."""
        if self._exchange is exchange:
            self._exchange = None

    async def _drop(self) -> None:
        connection = self._connection
        self._connection = self._channel = self._exchange = None
        if connection is not None and not connection.is_closed:
            try:
                await asyncio.wait_for(connection.close(), 2)
            except Exception:  # a dead connection may fail to close in any way
                pass

    async def close(self) -> None:
        async with self._lock:
            await self._drop()


def _short(exc: BaseException) -> str:
    return (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:200]
