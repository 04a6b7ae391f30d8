"""Shared fixtures: a private, migrated PostgreSQL database and RabbitMQ vhost per run.

Each pytest session gets its own database `haodian_t_<pid>` (and vhost of the same
name), so concurrent runs never see each other's rows or messages. Both are dropped
at the end of the session.

    pg            asyncpg connection inside a transaction rolled back after the test
    database_url  URL of the session's migrated database (the bouncer's with
                  HAODIAN_TEST_PGBOUNCER=1: every test's connections then go through it)
    direct_database_url  the session database itself (migrations need a session)
    bouncer_url   a private PgBouncer in transaction mode in front of it (tests/pgbouncer.py)
    clean_db      truncates every non-seed table before the test (for worker tests)
    amqp_url      URL of the session's vhost
    settings      worker settings for the session (short retry delays), clean db and queues
    bus           publish events and collect result events on the session's vhost
"""

import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import aio_pika
import asyncpg
import pytest
import structlog
from harness import ADMIN_AMQP_URL, ADMIN_DATABASE_URL, SESSION_NAME, Bus, test_settings
from pgbouncer import PgBouncer

from workers import db
from workers.settings import Settings
from workers.tools.migrate import declare_topology, full_topology, migrate

# HAODIAN_TEST_PGBOUNCER=1: the session's database URL is the PgBouncer's (transaction mode).
THROUGH_PGBOUNCER = os.environ.get("HAODIAN_TEST_PGBOUNCER", "") == "1"


def _with_database(url: str, name: str) -> str:
    base = url.rsplit("/", 1)[0]
    return f"{base}/{name}"


@pytest.fixture(autouse=True)
def fresh_logging() -> Iterator[None]:
    """A CLI test configures structlog to print to its captured stream; the next test
    must not inherit a logger bound to a closed file."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="session")
async def direct_database_url() -> AsyncIterator[str]:
    admin = await asyncpg.connect(ADMIN_DATABASE_URL)
    await admin.execute(f'DROP DATABASE IF EXISTS "{SESSION_NAME}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{SESSION_NAME}"')
    await admin.close()
    url = _with_database(ADMIN_DATABASE_URL, SESSION_NAME)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    yield url
    # A fresh connection: a test may have restarted PostgreSQL meanwhile.
    admin = await asyncpg.connect(ADMIN_DATABASE_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{SESSION_NAME}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def bouncer_url(direct_database_url: str) -> Iterator[str]:
    """PgBouncer in transaction mode in front of the session database, stopped at the end."""
    directory = Path(tempfile.mkdtemp(prefix="haodian-pgbouncer-"))
    directory.chmod(0o755)  # readable by the postgres account it may run as
    server = urlsplit(direct_database_url)
    try:
        with PgBouncer(directory, server.hostname or "127.0.0.1", server.port or 5432,
                       SESSION_NAME) as bouncer:
            yield bouncer.url
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, direct_database_url: str) -> str:
    if THROUGH_PGBOUNCER:
        return str(request.getfixturevalue("bouncer_url"))
    return direct_database_url


@pytest.fixture(scope="session")
async def seed_tables(database_url: str) -> frozenset[str]:
    """Tables that hold rows right after migrating (taxonomies, policies): kept by
    clean_db."""
    conn = await db.connect(database_url)
    try:
        names = [r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        seeded = set()
        for name in names:
            if await conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{name}")'):
                seeded.add(name)
        return frozenset(seeded)
    finally:
        await conn.close()


@pytest.fixture
async def pg(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await db.connect(database_url)
    tx = conn.transaction()
    await tx.start()
    try:
        yield conn
    finally:
        await tx.rollback()
        await conn.close()


@pytest.fixture
async def clean_db(database_url: str, seed_tables: frozenset[str]) -> str:
    conn = await db.connect(database_url)
    try:
        names = [r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        victims = [n for n in names if n not in seed_tables]
        if victims:
            await conn.execute(
                "TRUNCATE " + ", ".join(f'"{n}"' for n in victims) + " RESTART IDENTITY CASCADE")
    finally:
        await conn.close()
    return database_url


# ---- RabbitMQ --------------------------------------------------------------------------

def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def amqp_url() -> Iterator[str]:
    """A private vhost with the full topology (retry delays of the test settings)."""
    _rabbitmqctl("add_vhost", SESSION_NAME)
    _rabbitmqctl("set_permissions", "-p", SESSION_NAME, "guest", ".*", ".*", ".*")
    url = ADMIN_AMQP_URL.rstrip("/") + "/" + SESSION_NAME
    yield url
    _rabbitmqctl("delete_vhost", SESSION_NAME)


@pytest.fixture(scope="session")
async def declared(amqp_url: str, database_url: str) -> Settings:
    s = test_settings(amqp_url, database_url)
    await declare_topology(s)
    return s


@pytest.fixture
async def settings(declared: Settings, clean_db: str) -> Settings:
    """Test settings on a clean database and empty queues."""
    connection = await aio_pika.connect(str(declared.amqp_url))
    async with connection:
        channel = await connection.channel()
        for q in full_topology(declared).queues:
            await (await channel.get_queue(q.name)).purge()
    return declared


@pytest.fixture
async def bus(settings: Settings) -> AsyncIterator[Bus]:
    connection = await aio_pika.connect(str(settings.amqp_url))
    async with connection:
        yield await Bus.open(connection)
