"""A store's balances as the merchant sees them, for `haodian ledger balance --store S`."""

from typing import Any

from handlers.base import Db
from handlers.ledger import compute_debt_fen, merchant_view, store_account
from handlers.queries import load_queries

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
