"""Shared by the statement tests: events of §3.3's worked example, a statement read
through `write_statement` (as the CLI does), and the ledger read independently."""

import io
from datetime import datetime
from typing import Any

import orjson
from harness import Bus, event, run_worker_burst

from workers import db
from workers.settings import Settings
from workers.statements import renderer
from workers.statements.gather import write_statement

STORE = "s-1"
MONTH = "2021-08"
CONFIRMED_AT = "2021-08-03T10:15:00+08:00"
AS_OF = "2021-08-11T00:00:00+08:00"
CLOSED_AT = "2021-08-15T09:00:00+08:00"


def order(order_id: str, amount_fen: int, store_id: str = STORE,
          when: str = CONFIRMED_AT) -> dict[str, Any]:
    return event("order.confirmed", {"order_id": order_id, "store_id": store_id,
                                     "buyer_id": "u-1", "amount_fen": amount_fen,
                                     "confirmed_at": when}, time=when)


def run_request(run_id: str, as_of: str = AS_OF) -> dict[str, Any]:
    return event("settlement.run_requested", {"run_id": run_id, "as_of": as_of}, time=as_of)


def closed(aftersale_id: str, order_id: str, refund_fen: int,
           when: str = CLOSED_AT) -> dict[str, Any]:
    return event("aftersale.closed", {"aftersale_id": aftersale_id, "order_id": order_id,
                                      "refund_fen": refund_fen, "closed_at": when}, time=when)


async def worked_example(bus: Bus, settings: Settings) -> None:
    """docs/rules.md §3.3: 800000, 400000 and 30 fen settled, then a clawback of 500000
    on the first order (docs/decisions.md: the 400000 order cannot take it)."""
    await bus.publish(order("o-1", 800_000), order("o-2", 400_000), order("o-3", 30))
    await run_worker_burst(settings, ["settlement"])
    await bus.publish(run_request("r-1"))
    await run_worker_burst(settings, ["settlement"])
    await bus.publish(closed("a-1", "o-1", 500_000))
    await run_worker_burst(settings, ["settlement"])


async def statement(settings: Settings, store_id: str, month: str, fmt: str) -> str:
    out = io.StringIO()
    conn = await db.connect(str(settings.database_url))
    try:
        await write_statement(conn, store_id, month, renderer(fmt, out))
    finally:
        await conn.close()
    return out.getvalue()


async def statement_json(settings: Settings, store_id: str, month: str) -> dict[str, Any]:
    parsed: dict[str, Any] = orjson.loads(await statement(settings, store_id, month, "json"))
    return parsed


async def ledger_sums(settings: Settings, store_id: str, start: datetime | None,
                      end: datetime) -> dict[str, int]:
    """Credit-positive sums of the store's lines (and the platform commission lines of
    the store's entries) booked in [start, end): written apart from statements.sql."""
    conn = await db.connect(str(settings.database_url))
    try:
        rows = await conn.fetch(
            """
            SELECT l.account, -sum(l.amount_fen)::bigint AS fen
            FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id
            WHERE e.booked_at < $3 AND ($2::timestamptz IS NULL OR e.booked_at >= $2)
              AND e.id IN (SELECT entry_id FROM journal_lines
                           WHERE account LIKE 'store:' || $1 || ':%')
              AND (l.account LIKE 'store:%' OR l.account = 'platform:commission')
            GROUP BY l.account
            """, store_id, start, end)
    finally:
        await conn.close()
    found = {kind: 0 for kind in ("pending", "available", "deposit", "commission")}
    for r in rows:
        found[r["account"].rsplit(":", 1)[1]] = r["fen"]
    return found
