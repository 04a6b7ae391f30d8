"""Shared fixtures: a private, migrated PostgreSQL database and RabbitMQ vhost per run.

Each pytest session gets its own database `haodian_t_<pid>` (and vhost of the same
name), so concurrent runs never see each other's rows or messages. Both are dropped
at the end of the session.

    pg            asyncpg connection inside a transaction rolled back after the test
    database_url  URL of the session's migrated database
    clean_db      truncates every non-seed table before the test (for worker tests)
"""

import os
from collections.abc import AsyncIterator

import asyncpg
import pytest

from workers.migrate import migrate

ADMIN_DATABASE_URL = os.environ.get("HAODIAN_DATABASE_URL", "postgresql://127.0.0.1:5432/test")
SESSION_NAME = f"haodian_t_{os.getpid()}"


def _with_database(url: str, name: str) -> str:
    base = url.rsplit("/", 1)[0]
    return f"{base}/{name}"


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    admin = await asyncpg.connect(ADMIN_DATABASE_URL)
    await admin.execute(f'DROP DATABASE IF EXISTS "{SESSION_NAME}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{SESSION_NAME}"')
    url = _with_database(ADMIN_DATABASE_URL, SESSION_NAME)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    yield url
    await admin.execute(f'DROP DATABASE IF EXISTS "{SESSION_NAME}" WITH (FORCE)')
    await admin.close()


@pytest.fixture(scope="session")
async def seed_tables(database_url: str) -> frozenset[str]:
    """Tables that hold rows right after migrating (taxonomies, policies): kept by
    clean_db."""
    conn = await asyncpg.connect(database_url)
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
    conn = await asyncpg.connect(database_url)
    tx = conn.transaction()
    await tx.start()
    try:
        yield conn
    finally:
        await tx.rollback()
        await conn.close()


@pytest.fixture
async def clean_db(database_url: str, seed_tables: frozenset[str]) -> str:
    conn = await asyncpg.connect(database_url)
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
