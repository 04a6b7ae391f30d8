"""A test-only domain whose handler runs SQL that makes PostgreSQL raise a chosen error."""

from collections.abc import Sequence
from typing import Any

import aio_pika
import asyncpg
import orjson
from harness import event

from handlers.base import Db, Domain, Incoming, Result, Route, per_event
from schema.common import EventData, Id
from workers import topology
from workers.settings import Settings

# case -> a statement that fails with that SQLSTATE (or, for "ok", succeeds). $1 is the key.
CASES: dict[str, str] = {
    "ok": "INSERT INTO probe_rows (key) VALUES ($1)",
    # class 22, data exceptions
    "22012": "SELECT length($1::text) / 0",
    "22P02": "SELECT ($1::text || 'x')::int",
    "22001": "INSERT INTO probe_rows (key, code) VALUES ($1, 'too long')",
    "22003": "SELECT 9223372036854775807 + length($1::text)::bigint",
    "22021": "NUL",  # a text parameter with a NUL character, refused by the server
    # class 23, integrity constraint violations
    "23505": "INSERT INTO probe_rows (key) VALUES ($1), ($1)",
    "23514": "INSERT INTO probe_rows (key, n) VALUES ($1, -1)",
    "23502": "INSERT INTO probe_rows (key) VALUES (NULLIF($1::text, $1::text))",
    "23503": "INSERT INTO probe_rows (key, parent) VALUES ($1, 'nobody')",
    # something else unexpected (a bug): still retried as handler_error
    "42P01": "SELECT length($1::text) FROM no_such_table",
}
# Transient SQLSTATEs, raised by the server itself (the same error class asyncpg maps).
TRANSIENT = ("40001", "40P01", "55P03", "53200", "57014")
for _code in TRANSIENT:
    CASES[_code] = f"DO $$ BEGIN RAISE EXCEPTION 'probe' USING ERRCODE = '{_code}'; END $$"

DDL = """CREATE TABLE IF NOT EXISTS probe_rows (
    key    text PRIMARY KEY,
    code   varchar(2),
    n      integer CHECK (n >= 0),
    parent text REFERENCES probe_rows (key))"""


class Probe(EventData):
    key: Id
    case: Id


async def handle_probe(db: Db, e: Incoming[Probe]) -> Sequence[Result]:
    sql = CASES[e.data.case]
    if sql == "NUL":
        await db.execute(CASES["ok"], e.data.key + "\x00")
    elif "$1" in sql:
        await db.execute(sql, e.data.key)
    else:
        await db.execute(sql)
    return [Result("probe.done", e.data.key, {"key": e.data.key})]


PROBE = Domain("probe", ("probe.*",), (Route("probe.run", Probe, per_event(handle_probe)),))


def probe_event(key: str, case: str) -> dict[str, Any]:
    return event("probe.run", {"key": key, "case": case}, id=f"probe-{key}")


async def prepare(settings: Settings) -> None:
    """The probe table, and the probe domain's queues declared and empty."""
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        await conn.execute(DDL)
        await conn.execute("TRUNCATE probe_rows")
    finally:
        await conn.close()
    async with await aio_pika.connect(str(settings.amqp_url)) as connection:
        channel = await connection.channel()
        spec = topology.build_topology([(PROBE.name, PROBE.binding_keys)],
                                       settings.retry_delays_s)
        await topology.declare(channel, spec)
        for q in spec.queues:
            if q.name.startswith(topology.domain_queue(PROBE.name)):
                await (await channel.get_queue(q.name)).purge()


async def stored_keys(settings: Settings) -> set[str]:
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        return {r["key"] for r in await conn.fetch("SELECT key FROM probe_rows")}
    finally:
        await conn.close()


def body(key: str, case: str) -> bytes:
    return orjson.dumps(probe_event(key, case))
