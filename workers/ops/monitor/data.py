"""What the dashboard shows besides the status report: DLQ groups and business panels."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg

from handlers.queries import load_queries
from workers import db
from workers.tools import dlq

Q = load_queries("ops")
CERT = load_queries("certification")
DAYS = 14


async def dlq_groups(amqp_url: str, database_url: str, places: Sequence[str]
                     ) -> dict[str, list[dict[str, Any]]]:
    """Per place (each domain, then unroutable), its dead letters grouped by reason: count,
    types, latest, sample ids. What waits in the broker is ingested first."""
    conn = await db.connect(database_url)
    try:
        await dlq.ingest(amqp_url, conn, places)
        rows = await dlq.groups(conn, places)
    finally:
        await conn.close()
    found: dict[str, list[dict[str, Any]]] = {p: [] for p in places}
    for r in rows:
        found[r["place"]].append({
            "reason": r["reason"], "count": r["count"], "types": sorted(r["types"]),
            "latest": r["latest"].isoformat(), "event_ids": list(r["event_ids"] or []),
            "detail": r["detail"] or ""})
    return found


async def business(database_url: str) -> dict[str, Any]:
    """The business panels, read over one connection (empty tables give empty panels)."""
    conn = await db.connect(database_url)
    try:
        now = datetime.now(UTC)
        return {
            "applications": [dict(r) for r in await conn.fetch(
                Q.count_applications_by_track_status)],
            "overdue_reviews": [_plain(r) for r in await conn.fetch(
                CERT.list_overdue_reviews, now, 20)],
            "overdue_review_count": int(await conn.fetchval(CERT.count_overdue_reviews, now)),
            "products": [dict(r) for r in await conn.fetch(Q.count_products_by_status)],
            "settlement": dict(await conn.fetchrow(Q.get_settlement_totals) or {}),
            "settlements_per_day": [_plain(r) for r in await conn.fetch(
                Q.list_settlements_per_day, DAYS)],
            "buyers_gmv_per_day": [_plain(r) for r in await conn.fetch(
                Q.list_daily_buyers_gmv, DAYS)],
            "deposit_refunds": dict(await conn.fetchrow(Q.get_deposit_refund_totals) or {}),
        }
    finally:
        await conn.close()


def _plain(row: asyncpg.Record) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}
