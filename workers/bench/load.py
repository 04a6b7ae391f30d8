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


def hot_store(run: str) -> str:
    """The one store that receives `hot_store_share` of a run's orders."""
    return f"{run}-s-hot"


def goes_to_hot_store(i: int, share: float) -> bool:
    """Order i is the hot store's: exactly floor(n × share) of the first n orders are,
    spread evenly through the queue (so every full batch holds its share of them)."""
    return share > 0 and int((i + 1) * share) > int(i * share)


def confirmed_orders(n: int, run: str, now: datetime, seed: int = 7, stores: int = 200,
                     buyers: int = 20000, days_ago: int = 0, hot_store_share: float = 0.0
                     ) -> Iterator[dict[str, Any]]:
    """Orders spread over `stores` stores with a long tail of amounts (fen); with
    `hot_store_share` > 0 that fraction of them goes to one more store, `hot_store(run)`
    (a shopping festival's flagship), the rest spread as before."""
    if not 0 <= hot_store_share <= 1:
        raise ValueError(f"hot_store_share must be between 0 and 1, not {hot_store_share}")
    rng = random.Random(seed)
    for i in range(n):
        confirmed = now - timedelta(days=days_ago, seconds=rng.randrange(0, 86400))
        amount_fen = int(rng.choice((990, 1990, 4990, 9900, 19900, 59900, 129900, 499900)))
        spread = f"{run}-s-{rng.randrange(stores)}"  # drawn always: the same orders otherwise
        yield cloudevent("order.confirmed", "order-service", {
            "order_id": f"{run}-o-{i}",
            "store_id": hot_store(run) if goes_to_hot_store(i, hot_store_share) else spread,
            "buyer_id": f"u-{rng.randrange(buyers)}", "amount_fen": amount_fen,
            "confirmed_at": confirmed.isoformat()}, confirmed)


def now_utc() -> datetime:
    return datetime.now(UTC)
