"""The failover tier: each test gets its own primary and streaming standby (tests/pg_pair.py),
a migrated database on them, and the session's vhost with empty queues.

    pair               the PgPair, dropped after the test (also when it fails)
    failover_settings  worker settings whose database URL names both servers
                       (target_session_attrs=read-write)
"""

import os
from collections.abc import AsyncIterator, Iterator

import aio_pika
import pytest
from failover_helpers import DATABASE
from harness import test_settings
from pg_pair import PgPair

from workers import db
from workers.settings import Settings
from workers.tools.migrate import full_topology, migrate

_pairs = 0


@pytest.fixture
def pair() -> Iterator[PgPair]:
    global _pairs
    _pairs += 1
    with PgPair(f"hdf{os.getpid()}{'abcdefghijklmnopqrstuvwxyz'[_pairs % 26]}") as made:
        made.primary.psql(f'CREATE DATABASE "{DATABASE}"')
        yield made


@pytest.fixture
async def failover_settings(pair: PgPair, declared: Settings) -> AsyncIterator[Settings]:
    url = pair.url(DATABASE)
    conn = await db.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    s = test_settings(str(declared.amqp_url), url, chunk_size=50)
    connection = await aio_pika.connect(str(s.amqp_url))
    async with connection:
        channel = await connection.channel()
        for q in full_topology(declared).queues:
            await (await channel.get_queue(q.name)).purge()
    yield s
