"""`haodian migrate`: numbered SQL migrations (applied once each, in order, online: see
online.py), the table privileges of the role split, then the broker topology of every
domain."""

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiormq
import asyncpg

from handlers.queries import SQL_DIR
from workers import broker, db, topology
from workers.access.names import broker_users, pg_roles
from workers.access.pg_grants import sync_grants
from workers.registry import DOMAIN_NAMES, resolve
from workers.settings import Settings
from workers.tools.online import OnlinePolicy, Progress, apply

MIGRATIONS_DIR = SQL_DIR / "migrations"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any fixed number: serialises concurrent `haodian migrate` / worker start-ups.
_ADVISORY_LOCK_KEY = 0x6861_6F64


# Checksums a migration had before a comment-only edit, still accepted for databases that
# applied the earlier text. Only for comments: a change to the SQL is a new migration.
REWORDED: dict[int, frozenset[str]] = {
    # 0005's header comment named an internal document; it now names docs/rules.md.
    5: frozenset({"377e2ec9702748d55f9edf712e2bfd39795d055ad92f864ad00c1bb3cac2bf63"}),
}


class MigrationError(Exception):
    """The database's migration history does not match the files."""


class MigrationRefusedError(MigrationError):
    """The database role may not change the schema, or the broker user may not declare
    the topology: the message names the account that may, and what was refused."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migration files share a version: {versions}")
    return found


ONLINE = OnlinePolicy()  # 200 ms lock waits, 8 tries


def _quiet(_: str) -> None:
    pass


async def migrate(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR, *,
                  policy: OnlinePolicy = ONLINE, progress: Progress = _quiet
                  ) -> list[str]:
    """Apply what is missing; returns the names applied. Refuses edited history. Needs a
    session of its own (an advisory lock, no-transaction steps): not through PgBouncer
    in transaction mode."""
    migrations = discover(directory)
    await conn.execute("SELECT pg_advisory_lock($1)", _ADVISORY_LOCK_KEY)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version    integer     PRIMARY KEY,
                   name       text        NOT NULL,
                   checksum   text        NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        applied = {
            row["version"]: row
            for row in await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
        }
        known = {m.version for m in migrations}
        for version, row in applied.items():
            if version not in known:
                raise MigrationError(f"migration {version:04d}_{row['name']} was applied "
                                     "but its file is gone")
        done = []
        for m in migrations:
            row = applied.get(m.version)
            if row is not None:
                if row["checksum"] != m.checksum and row["checksum"] not in REWORDED.get(
                        m.version, frozenset()):
                    raise MigrationError(
                        f"migration {m.version:04d}_{m.name}.sql was edited after it was "
                        "applied; add a new migration instead")
                continue
            label = f"{m.version:04d}_{m.name}"
            progress(f"applying {label}")
            await apply(conn, label, m.sql, _recorder(conn, m), policy, progress)
            done.append(label)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _ADVISORY_LOCK_KEY)


def _recorder(conn: asyncpg.Connection, m: Migration) -> Callable[[], Awaitable[object]]:
    async def record() -> None:
        await conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1,$2,$3)",
            m.version, m.name, m.checksum)
    return record


def full_topology(settings: Settings) -> topology.Topology:
    return topology.build_topology(
        [(d.name, d.binding_keys) for d in resolve(list(DOMAIN_NAMES))], settings.retry_delays_s)


async def declare_topology(settings: Settings) -> None:
    connection = await broker.connect(str(settings.amqp_url))
    try:
        channel = await connection.channel()
        await topology.declare(channel, full_topology(settings))
    finally:
        await connection.close()


@dataclass(frozen=True)
class Migrated:
    applied: list[str]  # migrations, e.g. "0009_dead_letters"
    grants: list[str]  # GRANT and REVOKE statements that fixed table privileges


async def migrate_all(settings: Settings, progress: Progress = _quiet) -> Migrated:
    conn = await db.connect(str(settings.database_url))
    try:
        try:
            applied = await migrate(conn, progress=progress)
            grants = await sync_grants(conn, pg_roles(settings.role_prefix))
        except asyncpg.InsufficientPrivilegeError as exc:
            user = await conn.fetchval("SELECT current_user")
            raise MigrationRefusedError(
                f"haodian migrate needs the migration role "
                f"{pg_roles(settings.role_prefix).migrator}: PostgreSQL refused role "
                f"{user}: {exc}") from None
    finally:
        await conn.close()
    try:
        await declare_topology(settings)
    except aiormq.exceptions.ChannelAccessRefused as exc:
        refused = exc.args[0] if exc.args else repr(exc)
        raise MigrationRefusedError(
            f"haodian migrate needs a RabbitMQ user that may declare the topology, such as "
            f"{broker_users(settings.role_prefix).worker}: the broker refused: {refused}"
        ) from None
    return Migrated(applied, grants)
