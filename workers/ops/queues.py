"""Queue figures: from the RabbitMQ management API when it answers, else from AMQP.

The management API gives ready, unacked, consumers and 5-second message rates; AMQP
itself (a passive queue.declare) only gives ready messages and consumers. The management
API's counts lag by up to its statistics interval (5 s by default), so when both answer
the live AMQP counts overlay the API's: an operator who just replayed a DLQ sees it empty.
Every figure says where it came from, so a screen can say which."""

import asyncio
import base64
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import aio_pika
import orjson

from workers import broker


@dataclass(frozen=True)
class QueueFigures:
    name: str
    ready: int
    consumers: int
    unacked: int | None = None  # None: AMQP cannot tell
    publish_rate: float | None = None  # messages/s routed to the queue
    deliver_rate: float | None = None
    ack_rate: float | None = None
    # Quorum queues, from the management API: the leader's node, every member's node and
    # the members that answer (None: AMQP cannot tell, or not a quorum queue).
    leader: str | None = None
    members: tuple[str, ...] | None = None
    online: tuple[str, ...] | None = None

    @property
    def quorum(self) -> str | None:
        """"ok", "degraded" (a member down, a majority up: still available), "below_quorum"
        (no majority: the queue takes and delivers nothing) or None (not known)."""
        if not self.members or self.online is None:
            return None
        up = len(set(self.online) & set(self.members))
        if up < len(self.members) // 2 + 1:
            return "below_quorum"
        return "ok" if up == len(self.members) else "degraded"

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "quorum": self.quorum}


@dataclass(frozen=True)
class Snapshot:
    source: str  # "management" or "amqp"
    note: str  # why the fallback was taken, when it was
    queues: dict[str, QueueFigures]


def vhost_of(amqp_url: str) -> str:
    """The vhost of the (first) node's URL: every node of a cluster serves the same."""
    path = urlsplit(broker.first_url(amqp_url)).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def _rate(stats: dict[str, Any], key: str) -> float:
    return float(stats.get(f"{key}_details", {}).get("rate", 0.0))


def _management_get(management_url: str, path: str, timeout_s: float) -> Any:
    parts = urlsplit(management_url)
    netloc = parts.hostname or "127.0.0.1"
    if parts.port:
        netloc += f":{parts.port}"
    request = urllib.request.Request(f"{parts.scheme}://{netloc}{path}")
    user, password = unquote(parts.username or "guest"), unquote(parts.password or "guest")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return orjson.loads(response.read())


async def from_management(management_url: str, vhost: str, names: Sequence[str],
                          timeout_s: float) -> dict[str, QueueFigures]:
    path = (f"/api/queues/{quote(vhost, safe='')}?columns=name,messages_ready,"
            "messages_unacknowledged,consumers,message_stats,type,leader,members,online")
    rows = await asyncio.to_thread(_management_get, management_url, path, timeout_s)
    wanted = set(names)
    found = {}
    for row in rows:
        if row.get("name") not in wanted:
            continue
        stats = row.get("message_stats") or {}
        found[row["name"]] = QueueFigures(
            row["name"], int(row.get("messages_ready") or 0), int(row.get("consumers") or 0),
            int(row.get("messages_unacknowledged") or 0), _rate(stats, "publish"),
            _rate(stats, "deliver_get"), _rate(stats, "ack"), *_replication(row))
    missing = wanted - set(found)
    if missing:
        raise LookupError(f"management API does not list {sorted(missing)}")
    return found


def _replication(row: dict[str, Any]
                 ) -> tuple[str | None, tuple[str, ...] | None, tuple[str, ...] | None]:
    """A quorum queue's leader, members and online members as the API lists them."""
    if row.get("type") != "quorum" or not isinstance(row.get("members"), list):
        return None, None, None
    leader = row.get("leader")
    online = row.get("online")
    return (leader if isinstance(leader, str) and leader else None,
            tuple(str(m) for m in row["members"]),
            tuple(str(m) for m in online) if isinstance(online, list) else None)


async def from_amqp(amqp_url: str, names: Sequence[str]) -> dict[str, QueueFigures]:
    """Passive declares on a fresh (non-robust) connection: ready and consumers only."""
    connection = await broker.connect(amqp_url)
    try:
        channel = await connection.channel()
        underlay = await channel.get_underlay_channel()
        found = {}
        for name in names:
            ok = await underlay.queue_declare(name, passive=True)
            found[name] = QueueFigures(name, int(ok.message_count or 0),
                                       int(ok.consumer_count or 0))
        return found
    finally:
        await connection.close()


async def snapshot(amqp_url: str, management_url: str | None, names: Sequence[str],
                   timeout_s: float = 2.0) -> Snapshot:
    """The management API's figures, or AMQP's when the API is off or unreachable."""
    if management_url:
        try:
            queues = await from_management(management_url, vhost_of(amqp_url), names,
                                           timeout_s)
        except (OSError, urllib.error.URLError, LookupError, ValueError) as exc:
            note = f"management API unavailable ({type(exc).__name__}: {str(exc)[:120]})"
        else:
            return Snapshot("management", "", await _overlay_live_counts(amqp_url, queues))
    else:
        note = "management API not configured"
    return Snapshot("amqp", note, await from_amqp(amqp_url, names))


async def _overlay_live_counts(amqp_url: str, queues: dict[str, QueueFigures]
                               ) -> dict[str, QueueFigures]:
    """The API's figures with AMQP's live ready and consumer counts, when AMQP answers."""
    try:
        # A queue without a quorum may not answer a passive declare: do not wait for it.
        live = await asyncio.wait_for(from_amqp(amqp_url, list(queues)), 5)
    except (OSError, TimeoutError, aio_pika.exceptions.AMQPError):
        return queues
    return {name: replace(figures, ready=live[name].ready, consumers=live[name].consumers)
            for name, figures in queues.items()}
