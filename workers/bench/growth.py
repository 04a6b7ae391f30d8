"""Table growth per event: every table's size on disk (indexes and TOAST included)
before and after a piece of work, divided by the events it took. What docs/operations.md
quotes for the tables that are never pruned."""

from typing import Any

from workers import db

SIZES = """
SELECT relname AS table_name, pg_total_relation_size(relid) AS bytes
FROM pg_stat_user_tables WHERE schemaname = current_schema()
"""


async def table_bytes(database_url: str) -> dict[str, int]:
    conn = await db.connect(database_url)
    try:
        return {r["table_name"]: int(r["bytes"]) for r in await conn.fetch(SIZES)}
    finally:
        await conn.close()


def per_event(before: dict[str, int], after: dict[str, int], events: int) -> dict[str, Any]:
    """Bytes per event of each table that grew, largest first, and the total."""
    grown = {t: after[t] - before.get(t, 0) for t in after if after[t] > before.get(t, 0)}
    ordered = dict(sorted(grown.items(), key=lambda kv: -kv[1]))
    return {"events": events,
            "bytes_per_event": {t: round(b / max(1, events)) for t, b in ordered.items()},
            "total_bytes_per_event": round(sum(grown.values()) / max(1, events))}
