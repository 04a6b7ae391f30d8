"""Brings every table's and sequence's privileges for the runtime, read-only and gateway
roles to what workers/access/pg_privileges.py says, and reports each change.

Run by `haodian roles apply` and at the end of every `haodian migrate` (the migration role
owns the tables, so it may grant on them). Roles that do not exist are left out: a
database without the role split keeps working as before."""

import asyncpg

from handlers.queries import load_queries
from workers.access.names import PgRoles
from workers.access.pg_privileges import Part, sequence_privileges, table_privileges

Q = load_queries("access")
SCHEMA = "public"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _parts(roles: PgRoles) -> dict[str, Part]:
    return {roles.runtime: Part.RUNTIME, roles.readonly: Part.READONLY,
            roles.gateway: Part.GATEWAY}


async def existing_roles(conn: asyncpg.Connection, names: tuple[str, ...]) -> set[str]:
    return {r["rolname"] for r in await conn.fetch(Q.list_existing_roles, list(names))}


async def sync_grants(conn: asyncpg.Connection, roles: PgRoles,
                      schema: str = SCHEMA) -> list[str]:
    """Grant what is missing, revoke what is extra; returns the statements run."""
    parts = {name: part for name, part in _parts(roles).items()
             if name in await existing_roles(conn, roles.users)}
    if not parts:
        return []
    held: dict[tuple[str, str], set[str]] = {}
    for r in await conn.fetch(Q.list_relation_grants, schema, list(parts)):
        held.setdefault((r["relname"], r["grantee"]), set()).add(r["privilege_type"])
    done = []
    for rel in await conn.fetch(Q.list_relations, schema):
        is_sequence = rel["relkind"] == "S"
        kind = "SEQUENCE" if is_sequence else "TABLE"
        target = f"{kind} {ident(schema)}.{ident(rel['relname'])}"
        for role, part in parts.items():
            want = (sequence_privileges(rel["owner_table"], part) if is_sequence
                    else table_privileges(rel["relname"], part))
            have = held.get((rel["relname"], role), set())
            if extra := sorted(have - want):
                done.append(f"REVOKE {', '.join(extra)} ON {target} FROM {ident(role)}")
            if missing := sorted(want - have):
                done.append(f"GRANT {', '.join(missing)} ON {target} TO {ident(role)}")
    if done:
        async with conn.transaction():
            for statement in done:
                await conn.execute(statement)
    return done
