"""The ledger's tools: `haodian ledger verify` (every named block of
sql/queries/verify*.sql must return no rows) and `haodian ledger balance --store S` (a
store's balances as the merchant sees them)."""

from dataclasses import dataclass
from typing import Any

import asyncpg

from handlers.base import Db
from handlers.ledger import compute_debt_fen, merchant_view, store_account
from handlers.queries import SQL_DIR, load_queries, parse_blocks

Q = load_queries("settlement")

ACCOUNT_KINDS = ("pending", "available", "deposit")


async def store_balance(conn: Db, store_id: str) -> dict[str, Any]:
    """Pending, available and deposit balances in the merchant's view (positive = owed to
    the store; a negative available balance is a debt), the unsettled orders, and each
    month's settled net and commission so far. JSON-ready: ints for fen."""
    rows = await conn.fetch(Q.get_store_balances, store_id)
    debit_positive = {row["account"]: row["balance_fen"] for row in rows}
    balances = {
        f"{kind}_fen": merchant_view(debit_positive.get(store_account(store_id, kind), 0))
        for kind in ACCOUNT_KINDS
    }
    unsettled = await conn.fetchrow(Q.get_store_unsettled, store_id)
    months = await conn.fetch(Q.get_store_months, store_id)
    return {
        "store_id": store_id,
        **balances,
        "debt_fen": compute_debt_fen(debit_positive.get(store_account(store_id, "available"), 0)),
        "unsettled_orders": unsettled["orders"],
        "unsettled_net_fen": unsettled["net_fen"],
        "held_orders": unsettled["held"],
        "months": [
            {
                "month": row["month"],
                "net_fen": row["cumulative_net_fen"],
                "commission_fen": row["commission_fen"],
                "orders_settled": row["orders_settled"],
            }
            for row in months
        ],
    }


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
