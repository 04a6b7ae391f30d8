"""Worker heartbeats in PostgreSQL: written while alive, gone on exit, aged out, pruned."""

import asyncio
import os
import uuid

import asyncpg
from harness import Bus
from ops_helpers import applications, wait_until

from workers.registry import resolve
from workers.runtime.heartbeat import live_workers
from workers.runtime.worker import Worker
from workers.settings import OpsSettings, Settings

OLD_ROW = """INSERT INTO worker_heartbeats (worker_id, host, pid, domains, started_at,
                                          last_seen_at, messages_done)
             VALUES ($1, 'old-host', 1, '{settlement}', now() - $2::text::interval,
                     now() - $2::text::interval, 7)"""


async def test_a_worker_beats_while_alive_and_is_gone_after_exit(bus: Bus, settings: Settings
                                                                  ) -> None:
    conn = await asyncpg.connect(str(settings.database_url))
    silent, ancient = uuid.uuid4(), uuid.uuid4()
    await conn.execute(OLD_ROW, silent, "45 seconds")
    await conn.execute(OLD_ROW, ancient, "2 days")
    worker = Worker(settings, resolve(["certification"]))
    worker.monitoring.ops = OpsSettings(heartbeat_interval_s=0.1, probe_interval_s=0.2)
    task = asyncio.create_task(worker.run())
    try:
        await bus.publish(*applications(30, "hb"))
        await bus.wait_results(30)

        async def beaten() -> bool:
            mine = [w for w in await live_workers(conn, 30) if w["pid"] == os.getpid()]
            return bool(mine) and mine[0]["messages_done"] == 30

        await wait_until(beaten, 10, "a heartbeat with 30 messages done")
        (me,) = await live_workers(conn, 30)  # the silent worker aged out
        assert me["domains"] == ["certification"] and me["seen_s_ago"] < 5
        assert await conn.fetchval("SELECT count(*) FROM worker_heartbeats WHERE worker_id = $1",
                                   silent) == 1, "kept for a day, only no longer live"
        assert await conn.fetchval("SELECT count(*) FROM worker_heartbeats WHERE worker_id = $1",
                                   ancient) == 0, "pruned after a day"
    finally:
        worker.request_stop()
        assert await asyncio.wait_for(task, 30) == 0
    try:
        assert await live_workers(conn, 30) == []
        assert await conn.fetchval("SELECT messages_done FROM worker_heartbeats "
                                   "WHERE stopped_at IS NOT NULL") == 30
    finally:
        await conn.close()
