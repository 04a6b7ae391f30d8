"""Builders for settlement handler tests: events validated as the runtime does, run loops,
ledger reads and the verify checks."""

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import count
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from published import published_data

from handlers import ledger
from handlers.base import Db, Incoming, Result
from handlers.queries import SQL_DIR, parse_blocks
from handlers.settlement.run import handle_run_requested
from schema.common import EventData
from schema.settlement import (
    AftersaleClosed,
    AftersaleOpened,
    OrderConfirmed,
    SettlementRunRequested,
)

D = TypeVar("D", bound=EventData)
SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2021, 8, 3, 10, 15, tzinfo=SH)
_ids = count(1)


def incoming(
    model: type[D], data: dict[str, Any], type_: str, at: datetime, event_id: str | None
) -> Incoming[D]:
    """An event as the runtime hands it over: data validated from JSON, strict."""
    return Incoming(
        id=event_id or f"evt-{next(_ids)}",
        source="test",
        type=type_,
        time=at,
        data=model.model_validate_json(json.dumps(data)),
    )


def confirmed(
    order_id: str,
    amount_fen: int,
    store_id: str = "s-1",
    buyer_id: str = "u-1",
    at: datetime = T0,
    event_id: str | None = None,
) -> Incoming[OrderConfirmed]:
    data = {
        "order_id": order_id,
        "store_id": store_id,
        "buyer_id": buyer_id,
        "amount_fen": amount_fen,
        "confirmed_at": at.isoformat(),
    }
    return incoming(OrderConfirmed, data, "order.confirmed", at, event_id)


def opened(aftersale_id: str, order_id: str, at: datetime = T0) -> Incoming[AftersaleOpened]:
    data = {"aftersale_id": aftersale_id, "order_id": order_id, "opened_at": at.isoformat()}
    return incoming(AftersaleOpened, data, "aftersale.opened", at, None)


def closed(
    aftersale_id: str, order_id: str, refund_fen: int, at: datetime = T0
) -> Incoming[AftersaleClosed]:
    data = {
        "aftersale_id": aftersale_id,
        "order_id": order_id,
        "refund_fen": refund_fen,
        "closed_at": at.isoformat(),
    }
    return incoming(AftersaleClosed, data, "aftersale.closed", at, None)


def run_requested(
    run_id: str, as_of: datetime, event_id: str | None = None
) -> Incoming[SettlementRunRequested]:
    data = {"run_id": run_id, "as_of": as_of.isoformat()}
    return incoming(SettlementRunRequested, data, "settlement.run_requested", as_of, event_id)


def due(days: int = 8) -> datetime:
    """An `as_of` by which orders confirmed at T0 are due (T+7)."""
    return T0 + timedelta(days=days)


async def run_to_end(db: Db, event: Incoming[SettlementRunRequested]) -> list[Result]:
    """Calls the chunked handler until done, like the runtime (without the commits)."""
    results: list[Result] = []
    for _ in range(10_000):
        chunk = await handle_run_requested(db, event)
        results.extend(chunk.results)
        if chunk.done:
            return checked(results)
    raise AssertionError("the run never finished")


def checked(results: Sequence[Result]) -> list[Result]:
    """Every result's data, as published, must fit its result model."""
    for r in results:
        published_data(r)
    return list(results)


def of_type(results: Sequence[Result], type_: str) -> list[dict[str, Any]]:
    return [published_data(r) for r in results if r.type == type_]


async def balance(db: Db, store_id: str, kind: str) -> int:
    """A store account's balance in the merchant's view (positive = owed to the store)."""
    value = await db.fetchval(
        "SELECT balance_fen FROM ledger_balances WHERE account = $1",
        ledger.store_account(store_id, kind),
    )
    return ledger.merchant_view(value or 0)


async def account_total(db: Db, account: str) -> int:
    """Debit-positive sum of an account's journal lines (platform accounts too)."""
    value = await db.fetchval(
        "SELECT coalesce(sum(amount_fen), 0)::bigint FROM journal_lines WHERE account = $1",
        account,
    )
    return int(value)


VERIFY_CHECKS = parse_blocks(
    (SQL_DIR / "queries" / "verify_settlement.sql").read_text(encoding="utf-8")
)


async def violations(db: Db) -> dict[str, list[Any]]:
    """Settlement's verify checks that return rows (wrapped as the runtime runs them)."""
    found = {}
    for name, sql in VERIFY_CHECKS.items():
        rows = await db.fetch(f"SELECT * FROM ({sql.rstrip().rstrip(';')}) AS v LIMIT 20")
        if rows:
            found[name] = [dict(r) for r in rows]
    return found
