"""The PostgreSQL role split against the real server: each role does its job and is
refused outside it; applying again changes nothing; later tables get the defaults."""

from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from conftest import Split

from workers.access.commands import apply_postgres
from workers.access.pg_grants import sync_grants
from workers.gateway import tokens
from workers.tools.migrate import migrate_all

Connect = Callable[[str], Awaitable[asyncpg.Connection]]


async def test_applying_the_role_set_again_changes_nothing(split: Split) -> None:
    assert await apply_postgres(split.admin, split.passwords) == []


async def test_migration_role_owns_the_schema_and_every_table(split: Split,
                                                              connect: Connect) -> None:
    conn = await connect(split.roles.migrator)
    owners = {r["tableowner"] for r in await conn.fetch(
        "SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")}
    assert owners == {split.roles.migrator}
    assert await conn.fetchval("SELECT pg_get_userbyid(nspowner) FROM pg_namespace "
                               "WHERE nspname = 'public'") == split.roles.migrator


async def test_role_passwords_are_stored_as_the_scram_verifiers_sent(split: Split,
                                                                     connect: Connect) -> None:
    from workers.access import scram

    conn = await asyncpg.connect(split.admin.database_url.unicode_string())
    try:
        stored = await conn.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1",
                                     split.roles.runtime)
    finally:
        await conn.close()
    assert stored.startswith("SCRAM-SHA-256$4096:")
    assert scram.matches(split.password(split.roles.runtime), stored)
    assert not scram.matches("another password", stored)


async def test_runtime_writes_rows_and_uses_serial_sequences(split: Split,
                                                            connect: Connect) -> None:
    conn = await connect(split.roles.runtime)
    async with conn.transaction():
        await conn.execute("INSERT INTO outbox (event_id, routing_key, body) "
                           "VALUES (gen_random_uuid(), 'x.y', 'b')")  # bigserial id
        await conn.execute("UPDATE outbox SET published_at = now()")
        await conn.execute("DELETE FROM outbox")
        assert await conn.fetchval("SELECT count(*) FROM policies") >= 1
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") >= 8


@pytest.mark.parametrize("statement", [
    "CREATE TABLE intruder (id int)",
    "ALTER TABLE inbox ADD COLUMN intruder int",
    "DROP TABLE inbox",
    "CREATE INDEX intruder ON inbox (type)",
    "TRUNCATE inbox",
    "CREATE SCHEMA intruder",
    "CREATE FUNCTION intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "UPDATE policies SET note = 'changed'",
    "DELETE FROM store_types",
    "SELECT * FROM gateway_tokens",
    "INSERT INTO dlq_audit (action, domain, filter, messages, actor) "
    "VALUES ('purge', 'x', '{}', 0, 'me')",
    "INSERT INTO schema_migrations (version, name, checksum) VALUES (99, 'x', 'x')",
])
async def test_runtime_is_refused_ddl_policy_writes_tokens_and_the_audit(
        split: Split, connect: Connect, statement: str) -> None:
    conn = await connect(split.roles.runtime)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute(statement)


async def test_readonly_reads_every_business_table_and_appends_the_dlq_audit(
        split: Split, connect: Connect) -> None:
    conn = await connect(split.roles.readonly)
    async with conn.transaction():
        for table in ("inbox", "outbox", "settlement_orders", "journal_lines",
                      "worker_heartbeats", "policies"):
            await conn.fetchval(f"SELECT count(*) FROM {table}")
        await conn.execute("INSERT INTO dlq_audit (action, domain, filter, messages, actor) "
                           "VALUES ('purge', 'deposit', '{}', 0, 'test')")  # serial id
        assert await conn.fetchval("SELECT count(*) FROM dlq_audit") >= 1


@pytest.mark.parametrize("statement", [
    "INSERT INTO inbox (source, event_id, domain, type, body_sha256, outcome) "
    "VALUES ('s', 'i', 'd', 't', 'x', 'processed')",
    "UPDATE settlement_orders SET status = 'settled'",
    "DELETE FROM journal_lines",
    "UPDATE dlq_audit SET messages = 0",
    "DELETE FROM dlq_audit",
    "SELECT * FROM gateway_tokens",
    "CREATE TABLE intruder (id int)",
])
async def test_readonly_cannot_write_or_read_tokens(split: Split, connect: Connect,
                                                     statement: str) -> None:
    conn = await connect(split.roles.readonly)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute(statement)


async def test_gateway_adds_checks_and_revokes_its_tokens(split: Split,
                                                          connect: Connect) -> None:
    conn = await connect(split.roles.gateway)
    row, token = await tokens.add_token(conn, "role-test")
    assert await conn.fetchval("SELECT source FROM gateway_tokens WHERE token_sha256 = $1",
                               tokens.token_hash(token)) == "role-test"
    assert any(t.token_id == row.token_id for t in await tokens.list_tokens(conn))
    revoked = await tokens.revoke_token(conn, row.token_id)
    assert revoked is not None and revoked.revoked_at is not None


@pytest.mark.parametrize("statement", [
    "SELECT * FROM inbox",
    "SELECT * FROM policies",
    "SELECT * FROM ledger_balances",
    "INSERT INTO outbox (event_id, routing_key, body) VALUES (gen_random_uuid(), 'a', 'b')",
    "DELETE FROM gateway_tokens",
    "CREATE TABLE intruder (id int)",
])
async def test_gateway_reaches_nothing_but_its_token_table(split: Split, connect: Connect,
                                                           statement: str) -> None:
    conn = await connect(split.roles.gateway)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute(statement)


async def test_a_table_a_later_migration_adds_gets_the_default_privileges(
        split: Split, connect: Connect) -> None:
    migrator = await connect(split.roles.migrator)
    runtime = await connect(split.roles.runtime)
    readonly = await connect(split.roles.readonly)
    await migrator.execute("CREATE TABLE later_table (id bigserial PRIMARY KEY, note text)")
    try:
        await runtime.execute("INSERT INTO later_table (note) VALUES ('worker')")
        assert await readonly.fetchval("SELECT note FROM later_table") == "worker"
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await readonly.execute("DELETE FROM later_table")
        assert await sync_grants(migrator, split.roles) == []  # nothing to correct
    finally:
        await migrator.execute("DROP TABLE later_table")


async def test_migrate_restores_a_privilege_removed_by_hand(split: Split,
                                                            connect: Connect) -> None:
    migrator = await connect(split.roles.migrator)
    await migrator.execute(f'REVOKE INSERT ON inbox FROM "{split.roles.runtime}"')
    await migrator.execute(f'GRANT SELECT ON gateway_tokens TO "{split.roles.runtime}"')
    done = await migrate_all(split.as_(split.roles.migrator, split.users.worker))
    assert done.applied == []
    assert set(done.grants) == {
        f'GRANT INSERT ON TABLE "public"."inbox" TO "{split.roles.runtime}"',
        f'REVOKE SELECT ON TABLE "public"."gateway_tokens" FROM "{split.roles.runtime}"'}
