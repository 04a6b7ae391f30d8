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


async def dlq_groups(amqp_url: str, domains: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Per domain, its dead letters grouped by reason: count, types, latest, sample ids."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for domain in domains:
        by_reason: dict[str, dict[str, Any]] = {}
        for d in await dlq.list_dead_letters(amqp_url, domain, dlq.Filter()):
            g = by_reason.setdefault(d.reason, {"reason": d.reason, "count": 0, "types": set(),
                                                "latest": "", "event_ids": [], "detail": ""})
            g["count"] += 1
            g["types"].add(d.type or "?")
            g["latest"] = max(g["latest"], d.rejected_at)
            g["detail"] = g["detail"] or d.detail[:200]
            if len(g["event_ids"]) < 3 and d.event_id:
                g["event_ids"].append(d.event_id)
        groups[domain] = [{**g, "types": sorted(g["types"])}
                          for g in sorted(by_reason.values(), key=lambda g: -g["count"])]
    return groups


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
