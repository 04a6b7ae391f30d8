"""`haodian ledger verify`: every named block of sql/queries/verify*.sql must return no rows."""

from dataclasses import dataclass
from typing import Any

import asyncpg

from handlers.queries import SQL_DIR, parse_blocks


@dataclass(frozen=True)
class Violation:
    check: str
    rows: list[dict[str, Any]]


def checks() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((SQL_DIR / "queries").glob("verify*.sql")):
        for name, sql in parse_blocks(path.read_text(encoding="utf-8"), str(path)).items():
            found[f"{path.stem}.{name}"] = sql
    return found


async def verify(conn: asyncpg.Connection, sample: int = 20) -> tuple[list[str], list[Violation]]:
    """Runs every check in one repeatable-read snapshot; returns (checks run, violations)."""
    violations = []
    table = checks()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        for name, sql in table.items():
            query = sql.rstrip().rstrip(";")
            rows = await conn.fetch(f"SELECT * FROM ({query}) AS v LIMIT {sample}")
            if rows:
                violations.append(Violation(name, [dict(r) for r in rows]))
    return list(table), violations
