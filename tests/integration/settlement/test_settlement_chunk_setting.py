"""HAODIAN_CHUNK_SIZE reaches the settlement run: the runtime steps it in chunks of that size."""

from datetime import timedelta

import asyncpg
import orjson
from harness import event
from settlement_builders import T0, confirmed, due

from handlers.settlement import DOMAIN, handle_order_confirmed
from workers.registry import routes_by_type
from workers.runtime.batch import BatchEntry, BatchProcessor
from workers.runtime.decode import decode
from workers.settings import load_settings


async def test_the_runtime_runs_settlement_in_chunks_of_the_configured_size(
    clean_db: str,
) -> None:
    settings = load_settings(chunk_size=2)
    pool = await asyncpg.create_pool(clean_db, min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await handle_order_confirmed(conn, [
                confirmed(f"o-{i}", 1_000 * i, at=T0 + timedelta(minutes=i)) for i in range(1, 6)])
        body = orjson.dumps(event("settlement.run_requested",
                                  {"run_id": "r-1", "as_of": due().isoformat()}))
        item = decode(body, "application/cloudevents+json", "settlement.run_requested",
                      routes_by_type(DOMAIN))
        entry = BatchEntry(body, "settlement.run_requested", 0, item)
        processor = BatchProcessor(DOMAIN, settings.max_attempts, settings.chunk_size)

        paid_per_step = []
        done, first = False, True
        while not done:
            done = await processor.run_chunk(pool, entry, first)
            first = False
            paid_per_step.append(sum(e.routing_key == "settlement.paid" for e in entry.results))
    finally:
        await pool.close()

    assert paid_per_step == [2, 2, 1]
