"""Applying one migration while workers run: short lock waits, retried with backoff.

A migration waiting for a lock also blocks every transaction queued behind it, so each
one runs with `lock_timeout` (200 ms by default) and, when that expires, is rolled back
and tried again later. A migration whose first line is `-- haodian: no-transaction`
runs statement by statement outside a transaction (`CREATE INDEX CONCURRENTLY`); its
statements must be safe to run again, and an index such a run left INVALID is dropped
before the next try.
"""

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

NO_TRANSACTION_MARKER = "-- haodian: no-transaction"
_STATEMENT_END = re.compile(r";[ \t]*(?:\n|$)")
_CONCURRENT_INDEX = re.compile(
    r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(\"?[\w.]+\"?)", re.IGNORECASE)

Progress = Callable[[str], None]


class LockWaitExhausted(Exception):
    """Every try of a migration gave up waiting for a lock (the tables stayed busy)."""


@dataclass(frozen=True)
class OnlinePolicy:
    lock_timeout_ms: int = 200
    tries: int = 8
    first_backoff_s: float = 0.5
    max_backoff_s: float = 10.0


def outside_transaction(sql: str) -> bool:
    return sql.lstrip().startswith(NO_TRANSACTION_MARKER)


def statements(sql: str) -> list[str]:
    """A no-transaction migration's statements: split at semicolons that end a line."""
    found = []
    for part in _STATEMENT_END.split(sql):
        code = "\n".join(line for line in part.splitlines()
                         if not line.strip().startswith("--")).strip()
        if code:
            found.append(code)
    return found


async def apply(conn: asyncpg.Connection, label: str, sql: str,
                record: Callable[[], Awaitable[object]], policy: OnlinePolicy,
                progress: Progress) -> None:
    """Run `sql` (and `record`, which writes its history row) under the policy."""
    backoff_s = policy.first_backoff_s
    for attempt in range(1, policy.tries + 1):
        try:
            if outside_transaction(sql):
                await _apply_outside(conn, sql, policy)
                await record()
            else:
                async with conn.transaction():
                    await conn.execute(f"SET LOCAL lock_timeout = {policy.lock_timeout_ms}")
                    await conn.execute(sql)
                    await record()
            return
        except asyncpg.LockNotAvailableError:
            if attempt == policy.tries:
                raise LockWaitExhausted(
                    f"{label}: no lock within {policy.lock_timeout_ms} ms in {policy.tries} "
                    "tries; nothing was recorded, run `haodian migrate` again later") from None
            progress(f"{label}: lock busy (try {attempt}/{policy.tries}), "
                     f"retrying in {backoff_s:.1f} s")
            await asyncio.sleep(backoff_s)
            backoff_s = min(backoff_s * 2, policy.max_backoff_s)


async def _apply_outside(conn: asyncpg.Connection, sql: str, policy: OnlinePolicy) -> None:
    before = await conn.fetchval("SELECT current_setting('lock_timeout')")
    await conn.execute(f"SET lock_timeout = {policy.lock_timeout_ms}")
    try:
        for statement in statements(sql):
            index = _CONCURRENT_INDEX.match(statement)
            if index:
                await _drop_if_invalid(conn, index[1])
            await conn.execute(statement)
    finally:
        await conn.execute("SELECT set_config('lock_timeout', $1, false)", before)


async def _drop_if_invalid(conn: asyncpg.Connection, name: str) -> None:
    """A CREATE INDEX CONCURRENTLY that failed leaves an INVALID index behind, which
    `IF NOT EXISTS` would then keep: drop it so the retry builds it again."""
    invalid = await conn.fetchval(
        "SELECT NOT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass($1)", name)
    if invalid:
        await conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
