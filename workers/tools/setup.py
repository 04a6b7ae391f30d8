"""`haodian migrate`: database migrations plus the broker topology of every domain."""

import aio_pika
import asyncpg

from workers import topology
from workers.registry import DOMAIN_NAMES, resolve
from workers.settings import Settings
from workers.tools.migrate import migrate


def full_topology(settings: Settings) -> topology.Topology:
    return topology.build_topology(
        [(d.name, d.binding_keys) for d in resolve(list(DOMAIN_NAMES))], settings.retry_delays_s)


async def declare_topology(settings: Settings) -> None:
    connection = await aio_pika.connect(str(settings.amqp_url))
    try:
        channel = await connection.channel()
        await topology.declare(channel, full_topology(settings))
    finally:
        await connection.close()


async def migrate_all(settings: Settings) -> list[str]:
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        applied = await migrate(conn)
    finally:
        await conn.close()
    await declare_topology(settings)
    return applied
