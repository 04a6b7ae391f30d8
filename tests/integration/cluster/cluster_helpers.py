"""Helpers of the cluster tier: queue replication read from the management API, the load,
the worker's figures (duplicates dropped, node switches), the pause a node loss caused."""

import itertools
import re
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from harness import Bus, event, scalar
from rabbit_cluster import Node, RabbitCluster

from workers import broker, db, topology
from workers.ops import queues
from workers.settings import Settings
from workers.tools.migrate import full_topology

N = 3000  # events in flight in every test of the tier


def queue_names(settings: Settings) -> list[str]:
    return sorted({q.name for q in full_topology(settings).queues})


async def replication(cluster: RabbitCluster, names: list[str],
                      via: Node | None = None) -> dict[str, queues.QueueFigures]:
    """Leader, members and online members of each queue, from a live node's management API."""
    nodes = [via] if via else [n for n in cluster.nodes if n.vm_pid() is not None]
    last: Exception = LookupError("no node up")
    for node in nodes:
        try:
            return await queues.from_management(node.management_url, "/", names, 5)
        except (OSError, LookupError, ValueError) as exc:
            last = exc
    raise last


async def leader_of(cluster: RabbitCluster, settings: Settings, queue: str) -> Node:
    found = await replication(cluster, queue_names(settings))
    leader = found[queue].leader
    assert leader is not None, f"{queue} has no leader"
    return cluster.by_name(leader)


def orders(n: int, prefix: str, stores: int = 50) -> list[dict[str, Any]]:
    return [event("order.confirmed", source="order-service", data={
        "order_id": f"{prefix}-{i}", "store_id": f"{prefix}-s{i % stores}", "buyer_id": "u-1",
        "amount_fen": 10_000 + i, "confirmed_at": "2021-08-03T10:15:00+08:00"})
        for i in range(n)]


@asynccontextmanager
async def bus_on(amqp_url: str) -> AsyncIterator[Bus]:
    """A Bus (publish with confirms, collect every result) on the first reachable node."""
    connection = await broker.connect(amqp_url)
    async with connection:
        yield await Bus.open(connection)


async def inbox_count(settings: Settings) -> int:
    return await scalar(settings, "SELECT count(*) FROM inbox WHERE domain = 'settlement'")


async def settled(settings: Settings, n: int) -> bool:
    """Every order scheduled once, every result published."""
    orders_ = await scalar(settings, "SELECT count(*) FROM settlement_orders")
    outbox = await scalar(settings, "SELECT count(*) FROM outbox")
    unpublished = await scalar(settings,
                               "SELECT count(*) FROM outbox WHERE published_at IS NULL")
    return orders_ == n and outbox == n and unpublished == 0


async def db_now(settings: Settings) -> datetime:
    conn = await db.connect(str(settings.database_url))
    try:
        now: datetime = await conn.fetchval("SELECT clock_timestamp()")
        return now
    finally:
        await conn.close()


async def pause_after(settings: Settings, since: datetime) -> tuple[float, float]:
    """(seconds from `since` to the first commit after the longest pause in commits that
    began after `since` minus a batch's time, the longest pause itself): how long the worker
    stopped committing because of the node loss."""
    conn = await db.connect(str(settings.database_url))
    try:
        rows = await conn.fetch("SELECT DISTINCT committed_at FROM inbox "
                                "WHERE domain = 'settlement' ORDER BY 1")
    finally:
        await conn.close()
    times = [r["committed_at"] for r in rows]
    best = (0.0, 0.0)
    for before, after in itertools.pairwise(times):
        if after <= since:
            continue
        gap = (after - before).total_seconds()
        if gap > best[1]:
            best = ((after - since).total_seconds(), gap)
    return best


def metric(port: int, name: str, **labels: str) -> float:
    """The sum of a worker's metric over the series matching `labels`."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    total = 0.0
    for line in text.splitlines():
        m = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if m and all(f'{k}="{v}"' in m[1] for k, v in labels.items()):
            total += float(m[2])
    return total


def switches(log_path: Path) -> int:
    """How often the worker's connection moved to another node (broker.py's log)."""
    return log_path.read_text(errors="replace").count("broker_node_switch")


async def queue_depth(settings: Settings, name: str) -> int:
    connection = await broker.connect(settings.amqp_url)
    async with connection:
        channel = await connection.channel()
        return await topology.queue_depth(channel, name)
