"""Realistic input events for the benchmarks, deterministic for a seed."""

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any


def cloudevent(event_type: str, source: str, data: dict[str, Any], time: datetime,
               event_id: str | None = None) -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id or uuid.uuid4().hex, "source": source,
            "type": event_type, "time": time.isoformat(), "datacontenttype": "application/json",
            "data": data}


def interest_applications(n: int, run: str, now: datetime) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield cloudevent("certification.submitted", "account-service", {
            "application_id": f"{run}-app-{i}", "account_id": f"{run}-acc-{i}",
            "account_name": f"Tea lover {i % 1000}", "track": "interest",
            "interest": {"field": "tea"}}, now)


def confirmed_orders(n: int, run: str, now: datetime, seed: int = 7, stores: int = 200,
                     buyers: int = 20000, days_ago: int = 0) -> Iterator[dict[str, Any]]:
    """Orders spread over `stores` stores with a long tail of amounts (fen)."""
    rng = random.Random(seed)
    for i in range(n):
        confirmed = now - timedelta(days=days_ago, seconds=rng.randrange(0, 86400))
        amount_fen = int(rng.choice((990, 1990, 4990, 9900, 19900, 59900, 129900, 499900)))
        yield cloudevent("order.confirmed", "order-service", {
            "order_id": f"{run}-o-{i}", "store_id": f"{run}-s-{rng.randrange(stores)}",
            "buyer_id": f"u-{rng.randrange(buyers)}", "amount_fen": amount_fen,
            "confirmed_at": confirmed.isoformat()}, confirmed)


def now_utc() -> datetime:
    return datetime.now(UTC)
