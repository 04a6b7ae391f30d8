"""Builders for deposit handler tests: events, stores, orders, debts, ledger reads."""

import json
from datetime import datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from handlers import ledger
from handlers.base import Incoming
from schema.deposit import DepositPaid, DepositRefundRequested
from workers.tools.ledger import checks

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2021, 8, 3, 10, 15, tzinfo=SH)
_ids = count(1)


def paid(
    store_id: str,
    amount_fen: int,
    plan: str = "legacy_mall",
    payment_id: str | None = None,
    at: datetime = T0,
) -> Incoming[DepositPaid]:
    """A deposit.paid event, validated from JSON as the runtime does it."""
    body = {
        "payment_id": payment_id or f"pay-{next(_ids)}",
        "store_id": store_id,
        "amount_fen": amount_fen,
        "plan": plan,
    }
    model = DepositPaid.model_validate_json(json.dumps(body))
    return Incoming(f"evt-{next(_ids)}", "payment-service", "deposit.paid", at, model)


def refund(
    store_id: str,
    reason: str = "plan_migration",
    request_id: str | None = None,
    at: datetime = T0,
) -> Incoming[DepositRefundRequested]:
    """A deposit.refund_requested event, validated from JSON as the runtime does it."""
    body = {
        "request_id": request_id or f"req-{next(_ids)}",
        "store_id": store_id,
        "reason": reason,
    }
    model = DepositRefundRequested.model_validate_json(json.dumps(body))
    return Incoming(f"evt-{next(_ids)}", "store-admin", "deposit.refund_requested", at, model)


async def open_store(
    conn: asyncpg.Connection, store_id: str, store_type: str = "enterprise"
) -> None:
    """A store whose opening compliance approved (its row in compliance's table)."""
    await conn.execute(
        "INSERT INTO stores (store_id, account_id, store_type, store_name, deposit_required_fen,"
        " opened_at, event_source, event_id)"
        " SELECT $1, $2, $3, $4, required_fen, $5, 'store-admin', $6"
        " FROM deposit_requirements WHERE plan = 'standard' AND store_type = $3",
        store_id,
        f"acc-{store_id}",
        store_type,
        f"店{store_id}",
        T0,
        f"evt-{next(_ids)}",
    )


async def add_order(
    conn: asyncpg.Connection, store_id: str, status: str, aftersale: str | None = None
) -> None:
    """A settlement order of the store, optionally with an after-sale in `aftersale` state."""
    order_id = f"ord-{next(_ids)}"
    settled = status == "settled"
    await conn.execute(
        "INSERT INTO settlement_orders (order_id, store_id, buyer_id, gross_fen, confirmed_at,"
        " confirmed_day, settle_at, month, status, open_aftersales, run_id)"
        " VALUES ($1, $2, 'u-1', 1000, $3, $4, $5, '2021-08', $6, $7, $8)",
        order_id,
        store_id,
        T0,
        T0.date(),
        T0 + timedelta(days=7),
        status,
        int(aftersale == "open"),
        "run-1" if settled else None,
    )
    if aftersale is not None:
        closed = aftersale == "closed"
        await conn.execute(
            "INSERT INTO aftersales (aftersale_id, order_id, status, kind, refund_fen, opened_at,"
            " closed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            f"as-{next(_ids)}",
            order_id,
            aftersale,
            "rejected" if closed else None,
            0 if closed else None,
            T0,
            T0 if closed else None,
        )


async def add_debt(conn: asyncpg.Connection, store_id: str, debt_fen: int) -> None:
    """A debt as settlement's clawback leaves it (no commission to return): the platform
    refunds the buyer from the bank and debits the store's available account."""
    await ledger.book(
        conn,
        [
            ledger.entry(
                "test_clawback",
                f"claw-{next(_ids)}",
                T0,
                ("test", "seed"),
                (ledger.store_account(store_id, "available"), debt_fen),
                (ledger.BANK, -debt_fen),
            )
        ],
    )


async def balances(conn: asyncpg.Connection, store_id: str) -> dict[str, int]:
    """The store's deposit and debt in the merchant's view, from the running balances."""
    rows = await conn.fetch(
        "SELECT account, balance_fen FROM ledger_balances WHERE store_id = $1", store_id
    )
    by_kind = {row["account"].rsplit(":", 1)[1]: row["balance_fen"] for row in rows}
    return {
        "deposit_fen": ledger.merchant_view(by_kind.get("deposit", 0)),
        "debt_fen": max(0, by_kind.get("available", 0)),
    }


async def violations(
    conn: asyncpg.Connection, prefix: str = "verify_deposit."
) -> dict[str, list[dict[str, Any]]]:
    """Offending rows of every invariant whose name starts with `prefix` (empty lists when
    all hold), each block run the way `haodian ledger verify` runs it (workers/tools/ledger.py)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for name, sql in checks().items():
        if name.startswith(prefix):
            rows = await conn.fetch(f"SELECT * FROM ({sql.rstrip().rstrip(';')}) AS v")
            found[name.removeprefix(prefix)] = [dict(r) for r in rows]
    return found
