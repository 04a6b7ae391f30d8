"""The only place AMQP connections are opened.

HAODIAN_AMQP_URL names one RabbitMQ node or several nodes of one cluster, comma-separated
(`amqp://u:p@rabbit-1:5672/v,amqp://u:p@rabbit-2:5672/v`). A connection goes to the first
node that answers; a robust one (worker, publisher) moves on to the next node in the list
whenever its node is lost or refuses a reconnection attempt, round and round, and aio-pika
then restores its channels and consumers there. Messages delivered but not acked on the
lost connection are redelivered; the inbox drops the duplicates.

    node_urls(url)          the list, in order
    first_url(url)          the first node (its vhost is the one every node serves)
    await connect(url, name=...)          plain connection (tools, gateway, status)
    await connect_robust(url, name=...)   reconnecting connection (worker, publisher)

amqps:// verifies the node's certificate (system CAs, or `?cafile=/path/ca.pem` in the
URL); a certificate that does not verify raises TLSRefused, naming the node and the CA.
"""

import asyncio
import ssl
from collections.abc import Sequence
from typing import Any

import aio_pika
import structlog
from aio_pika.abc import AbstractConnection, AbstractRobustConnection
from aio_pika.robust_connection import RobustConnection
from yarl import URL

from workers.settings import redact

log = structlog.get_logger()

# With several nodes, a failed reconnection attempt moves on to the next node after this
# pause rather than aio-pika's 5 s (a `?reconnect_interval=` in the URL still wins).
MULTI_NODE_RECONNECT_S = 1.0
# With several nodes, how long one node may take to accept a plain connection.
MULTI_NODE_CONNECT_TIMEOUT_S = 10.0


class TLSRefused(ConnectionError):
    """The node's TLS certificate did not verify against the configured CA."""


def node_urls(amqp_url: object) -> list[str]:
    """The comma-separated nodes of an AMQP setting, in order, blanks dropped."""
    return [part.strip() for part in str(amqp_url).split(",") if part.strip()]


def first_url(amqp_url: object) -> str:
    nodes = node_urls(amqp_url)
    if not nodes:
        raise ValueError("no AMQP URL given")
    return nodes[0]


def _properties(name: str | None) -> dict[str, Any]:
    return {"client_properties": {"connection_name": name}} if name else {}


def _cert_failure(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate failure behind an error (aiormq wraps it in AMQPConnectionError)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None or isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _explained(exc: BaseException, url: str) -> BaseException:
    """A certificate failure turned into an error that says which node and which CA."""
    failure = _cert_failure(exc)
    if failure is None:
        return exc
    parsed = URL(url)
    cafile = parsed.query.get("cafile") or "the system's CA store"
    return TLSRefused(
        f"TLS certificate of {parsed.host}:{parsed.port} not trusted: "
        f"{failure.verify_message or failure} (verified against {cafile}; set ?cafile= in "
        "HAODIAN_AMQP_URL to the CA that signed the broker's certificate)")


async def connect(amqp_url: object, *, name: str | None = None,
                  node_timeout_s: float | None = None) -> AbstractConnection:
    """A plain connection to the first node that accepts one; with one node exactly
    aio_pika.connect. When none does, the last node's error is raised (a certificate
    failure as TLSRefused), after a warning per node."""
    nodes = node_urls(amqp_url)
    if node_timeout_s is None and len(nodes) > 1:
        node_timeout_s = MULTI_NODE_CONNECT_TIMEOUT_S
    last: BaseException | None = None
    for url in nodes:
        try:
            connection: AbstractConnection = await aio_pika.connect(
                url, timeout=node_timeout_s, **_properties(name))
            return connection
        except (OSError, TimeoutError, aio_pika.exceptions.AMQPError) as exc:
            last = _explained(exc, url)
            if len(nodes) > 1:
                log.warning("broker_node_unreachable", node=redact(url),
                            error=f"{type(last).__name__}: {last}"[:300])
    if last is None:
        raise ValueError("no AMQP URL given")
    raise last


class NodeRotatingConnection(RobustConnection):
    """aio-pika's robust connection, pointed at the next node of the list each time its
    connection closes: a lost connection and a failed reconnection attempt alike call
    _on_connection_close, and the next attempt reads self.url."""

    def __init__(self, nodes: Sequence[URL], **kwargs: Any) -> None:
        super().__init__(nodes[0], **kwargs)
        self.nodes = list(nodes)
        self.node_index = 0
        self.node_moves = 0

    async def _on_connection_close(self, closing: asyncio.Future[Any]) -> None:
        await super()._on_connection_close(closing)
        # Before the reconnection task runs again (it waits for this loop to yield).
        if len(self.nodes) > 1 and self.connection_attempt and not self.close_called:
            lost = self.url
            self.node_index = (self.node_index + 1) % len(self.nodes)
            self.url = self.nodes[self.node_index]
            self.node_moves += 1
            log.warning("broker_node_switch", lost=redact(lost), next=redact(self.url))


async def connect_robust(amqp_url: object, *, name: str | None = None
                         ) -> AbstractRobustConnection:
    """A reconnecting connection; with one node exactly aio_pika.connect_robust. With
    several, the first node that accepts is used first and the others follow in list
    order (wrapping round) whenever the current one is lost."""
    nodes = node_urls(amqp_url)
    if len(nodes) == 1:
        try:
            robust: AbstractRobustConnection = await aio_pika.connect_robust(
                nodes[0], **_properties(name))
            return robust
        except aio_pika.exceptions.AMQPConnectionError as exc:
            explained = _explained(exc, nodes[0])
            if explained is exc:
                raise
            raise explained from None
    if not nodes:
        raise ValueError("no AMQP URL given")
    last: BaseException | None = None
    pause = ({} if "reconnect_interval" in URL(nodes[0]).query
             else {"reconnect_interval": MULTI_NODE_RECONNECT_S})
    for start in range(len(nodes)):
        order = [URL(u) for u in nodes[start:] + nodes[:start]]
        connection = NodeRotatingConnection(order, **pause, **_properties(name))
        try:
            await asyncio.wait_for(connection.connect(), MULTI_NODE_CONNECT_TIMEOUT_S)
            return connection
        except (OSError, TimeoutError, aio_pika.exceptions.AMQPError) as exc:
            last = _explained(exc, nodes[start])
            log.warning("broker_node_unreachable", node=redact(nodes[start]),
                        error=f"{type(last).__name__}: {last}"[:300])
            await connection.close()
    assert last is not None
    raise last
