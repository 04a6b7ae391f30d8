"""The cluster tier's fixtures: a private three-node RabbitMQ cluster (tests/rabbit_cluster.py)
for this directory's tests, torn down after them, also when one fails.

    cluster            the RabbitCluster (nodes, URLs, kill, start, rabbitmqctl)
    cluster_settings   worker settings on the cluster (every node in HAODIAN_AMQP_URL) and
                       the session's database: every node up, every quorum queue with all
                       its members online, queues empty, database clean
"""

import asyncio
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_helpers import queue_names, replication
from harness import test_settings
from rabbit_cluster import RabbitCluster

from workers import broker
from workers.settings import Settings
from workers.tools.migrate import declare_topology


@pytest.fixture(scope="module")
def cluster() -> Iterator[RabbitCluster]:
    directory = Path(tempfile.mkdtemp(prefix="haodian-cluster-"))
    try:
        with RabbitCluster(directory) as running:
            yield running
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
async def cluster_declared(cluster: RabbitCluster, database_url: str) -> Settings:
    s = test_settings(cluster.amqp_url, database_url)
    await declare_topology(s)
    return s


@pytest.fixture
async def cluster_settings(cluster: RabbitCluster, cluster_declared: Settings,
                           clean_db: str) -> Settings:
    for node in cluster.nodes:
        if node.vm_pid() is None:  # killed by an earlier test: boot it again
            await asyncio.to_thread(cluster.start, node)
    names = queue_names(cluster_declared)
    deadline = time.monotonic() + 90
    while True:
        try:
            found = await replication(cluster, names)
            if all(q.quorum == "ok" and q.leader for q in found.values()):
                break
        except (OSError, LookupError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError("quorum queues did not get all their members back")
        await asyncio.sleep(0.5)
    connection = await broker.connect(cluster_declared.amqp_url)
    async with connection:
        channel = await connection.channel()
        for name in names:
            await (await channel.get_queue(name)).purge()
    return cluster_declared
