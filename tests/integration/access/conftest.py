"""The role split on a private database and vhost: `haodian roles apply` as the
administrator, `haodian migrate` as the migration role and the workers' broker user.

Roles and RabbitMQ users are cluster-wide, so their names carry this run's prefix
(`hd_t<pid>`), and they are removed at the end of the session whatever happened."""

import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg
import pytest
from harness import ADMIN_AMQP_URL, ADMIN_DATABASE_URL, SESSION_NAME, test_settings
from pydantic import SecretStr

from workers.access.commands import apply_postgres, apply_rabbitmq
from workers.access.names import BrokerUsers, PgRoles, broker_users, pg_roles
from workers.settings import OpsSettings, RoleSettings, Settings
from workers.tools.migrate import migrate_all

PREFIX = f"hd_t{os.getpid()}"
PLACE = f"{SESSION_NAME}_roles"  # the database and the vhost
MANAGEMENT = "127.0.0.1:15672"


@dataclass(frozen=True)
class Split:
    roles: PgRoles
    users: BrokerUsers
    admin: Settings  # the administrator, on the split's database and vhost
    passwords: RoleSettings
    ops: OpsSettings  # management API as the administrator

    def database_url(self, role: str) -> str:
        admin = urlsplit(ADMIN_DATABASE_URL)
        return f"postgresql://{role}@{admin.hostname}:{admin.port or 5432}/{PLACE}"

    def amqp_url(self, user: str) -> str:
        return f"amqp://{user}:{self.password(user)}@127.0.0.1:5672/{PLACE}"

    def management_url(self, user: str) -> str:
        return f"http://{user}:{self.password(user)}@{MANAGEMENT}"

    @staticmethod
    def password(user: str) -> str:
        return f"pw-{user}-{os.getpid()}"

    def as_(self, role: str, user: str) -> Settings:
        """Test settings connecting as a PostgreSQL role and a RabbitMQ user."""
        return test_settings(self.amqp_url(user), self.database_url(role),
                             role_prefix=PREFIX)


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=False, capture_output=True, timeout=60)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_DATABASE_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def split() -> AsyncIterator[Split]:
    roles, users = pg_roles(PREFIX), broker_users(PREFIX)
    try:
        await _admin(f'CREATE DATABASE "{PLACE}"')
        _rabbitmqctl("add_vhost", PLACE)
        _rabbitmqctl("set_permissions", "-p", PLACE, "guest", ".*", ".*", ".*")
        admin = test_settings(ADMIN_AMQP_URL.rstrip("/") + "/" + PLACE,
                              ADMIN_DATABASE_URL.rsplit("/", 1)[0] + "/" + PLACE,
                              role_prefix=PREFIX)
        pw = {f"pg_password_{part}": SecretStr(Split.password(getattr(roles, part)))
              for part in ("migrator", "runtime", "readonly", "gateway")}
        pw |= {f"amqp_password_{part}": SecretStr(Split.password(getattr(users, part)))
               for part in ("worker", "gateway", "monitor")}
        passwords = RoleSettings(**pw)
        ops = OpsSettings(management_url=f"http://guest:guest@{MANAGEMENT}")
        await apply_postgres(admin, passwords)
        await apply_rabbitmq(admin, ops, passwords)
        made = Split(roles, users, admin, passwords, ops)
        await migrate_all(made.as_(roles.migrator, users.worker))
        yield made
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{PLACE}" WITH (FORCE)')
        for role in roles.all:
            await _admin(f'DROP ROLE IF EXISTS "{role}"')
        _rabbitmqctl("delete_vhost", PLACE)
        for user in users.all:
            _rabbitmqctl("delete_user", user)


@pytest.fixture
async def connect(split: Split) -> AsyncIterator[object]:
    """connect(role) -> a connection as that role; closed after the test."""
    opened: list[asyncpg.Connection] = []

    async def open_as(role: str) -> asyncpg.Connection:
        conn = await asyncpg.connect(split.database_url(role))
        opened.append(conn)
        return conn

    yield open_as
    for conn in opened:
        await conn.close()
