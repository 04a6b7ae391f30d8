"""`haodian roles apply`, PostgreSQL side: the four LOGIN roles, CONNECT on the database,
the schema owned by the migration role, default privileges for its future tables, and
every existing table's grants. Run by an administrator; applying again changes nothing.

    roles        LOGIN, and none of SUPERUSER, CREATEDB, CREATEROLE, REPLICATION, BYPASSRLS
    database     CONNECT for each role
    schema       owned by the migration role; CREATE for nobody else; USAGE for the others
    tables       owned by the migration role (an older database's tables are handed over)
    defaults     the migration role's future tables: DML for runtime, SELECT for read-only
"""

from collections.abc import Mapping

import asyncpg
from pydantic import SecretStr

from workers.access import scram
from workers.access.names import PgRoles
from workers.access.pg_grants import SCHEMA, Q, existing_roles, ident, sync_grants
from workers.access.pg_privileges import DEFAULT, SEQUENCE_USE, Part

_ATTRIBUTES = {"rolcanlogin": "LOGIN", "rolsuper": "NOSUPERUSER", "rolcreatedb": "NOCREATEDB",
               "rolcreaterole": "NOCREATEROLE", "rolreplication": "NOREPLICATION",
               "rolbypassrls": "NOBYPASSRLS"}


async def apply_roles(conn: asyncpg.Connection, roles: PgRoles,
                      passwords: Mapping[str, SecretStr | None],
                      schema: str = SCHEMA) -> list[str]:
    """Everything above, in one transaction; returns what was done (passwords hidden)."""
    async with conn.transaction():
        done = await _roles(conn, roles, passwords)
        done += await _database(conn, roles)
        done += await _schema(conn, roles, schema)
        done += await _ownership(conn, roles, schema)
        done += await _defaults(conn, roles, schema)
        done += await sync_grants(conn, roles, schema)
    return done


async def _run(conn: asyncpg.Connection, statement: str, shown: str | None = None) -> str:
    await conn.execute(statement)
    return shown or statement


async def _roles(conn: asyncpg.Connection, roles: PgRoles,
                 passwords: Mapping[str, SecretStr | None]) -> list[str]:
    done = []
    rows = {r["rolname"]: r for r in await conn.fetch(Q.list_existing_roles, list(roles.all))}
    wanted = " ".join(_ATTRIBUTES.values())
    for name in roles.all:
        row = rows.get(name)
        if row is None:
            done.append(await _run(conn, f"CREATE ROLE {ident(name)} {wanted}"))
        elif any(row[col] != (flag == "LOGIN") for col, flag in _ATTRIBUTES.items()):
            done.append(await _run(conn, f"ALTER ROLE {ident(name)} {wanted}"))
        password = passwords.get(name)
        if password is not None and not scram.matches(
                password.get_secret_value(), await _stored_password(conn, name)):
            verifier = scram.scram_verifier(password.get_secret_value())
            done.append(await _run(conn, f"ALTER ROLE {ident(name)} PASSWORD '{verifier}'",
                                   f"ALTER ROLE {ident(name)} PASSWORD '***'"))
    return done


async def _stored_password(conn: asyncpg.Connection, name: str) -> str | None:
    """The role's SCRAM verifier; None when the administrator may not read pg_authid."""
    if not await conn.fetchval(Q.can_read_passwords):
        return None
    stored: str | None = await conn.fetchval(Q.get_role_password, name)
    return stored


async def _database(conn: asyncpg.Connection, roles: PgRoles) -> list[str]:
    database = await conn.fetchval("SELECT current_database()")
    have = {r["grantee"] for r in await conn.fetch(Q.list_database_connectors, list(roles.all))}
    return [await _run(conn, f"GRANT CONNECT ON DATABASE {ident(database)} TO {ident(name)}")
            for name in roles.all if name not in have]


async def _schema(conn: asyncpg.Connection, roles: PgRoles, schema: str) -> list[str]:
    done = []
    row = await conn.fetchrow(Q.get_schema, schema)
    if row is None:
        return [await _run(conn, f"CREATE SCHEMA {ident(schema)} AUTHORIZATION "
                                 f"{ident(roles.migrator)}"), *await _schema(conn, roles, schema)]
    if row["owner"] != roles.migrator:
        done.append(await _run(conn, f"ALTER SCHEMA {ident(schema)} OWNER TO "
                                     f"{ident(roles.migrator)}"))
        row = await conn.fetchrow(Q.get_schema, schema)
        assert row is not None
    grants = set(row["grants"])
    for grantee in ("", *roles.users):  # '' = PUBLIC: nobody but the owner creates objects
        if f"{grantee}:CREATE" in grants:
            who = ident(grantee) if grantee else "PUBLIC"
            done.append(await _run(conn, f"REVOKE CREATE ON SCHEMA {ident(schema)} FROM {who}"))
    for name in roles.users:
        if f"{name}:USAGE" not in grants:
            done.append(await _run(conn, f"GRANT USAGE ON SCHEMA {ident(schema)} TO "
                                         f"{ident(name)}"))
    return done


async def _ownership(conn: asyncpg.Connection, roles: PgRoles, schema: str) -> list[str]:
    """Tables made before the split (by an all-powerful role) go to the migration role;
    their indexes and serial sequences follow them."""
    done = []
    for rel in await conn.fetch(Q.list_relations, schema):
        if rel["owner"] == roles.migrator or rel["owner_table"] is not None:
            continue
        kind = {"S": "SEQUENCE", "v": "VIEW", "m": "MATERIALIZED VIEW"}.get(rel["relkind"],
                                                                           "TABLE")
        done.append(await _run(conn, f"ALTER {kind} {ident(schema)}.{ident(rel['relname'])} "
                                     f"OWNER TO {ident(roles.migrator)}"))
    return done


async def _defaults(conn: asyncpg.Connection, roles: PgRoles, schema: str) -> list[str]:
    """What the migration role's future tables and sequences give the other roles."""
    present = await existing_roles(conn, roles.users)
    want = {("r", roles.runtime): DEFAULT[Part.RUNTIME],
            ("r", roles.readonly): DEFAULT[Part.READONLY],
            ("S", roles.runtime): SEQUENCE_USE}
    have: dict[tuple[str, str], set[str]] = {}
    for r in await conn.fetch(Q.list_default_privileges, schema, roles.migrator):
        have.setdefault((r["objtype"], r["grantee"]), set()).add(r["privilege_type"])
    done = []
    prefix = f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(roles.migrator)} IN SCHEMA {ident(schema)}"
    for (objtype, role), privileges in want.items():
        kind = "TABLES" if objtype == "r" else "SEQUENCES"
        if role in present and (missing := sorted(privileges - have.get((objtype, role), set()))):
            done.append(await _run(conn, f"{prefix} GRANT {', '.join(missing)} ON {kind} TO "
                                         f"{ident(role)}"))
    return done
