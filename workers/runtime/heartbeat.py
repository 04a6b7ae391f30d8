"""Worker heartbeats in PostgreSQL: who is alive, where, since when, how much it did."""

import os
import socket
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog

from handlers.queries import load_queries

log = structlog.get_logger()
Q = load_queries("ops")
# A heartbeat is monitoring, not an effect: its commit does not wait for a synchronous
# standby, so a worker whose batches wait for one still shows as alive (and stops).
LOCAL_COMMIT = "SET LOCAL synchronous_commit = local"


class Heartbeat:
    """One worker process's row; written by the monitoring task every few seconds (rows of
    workers long gone are deleted by retention, workers/runtime/retention.py)."""

    def __init__(self, domains: Sequence[str]) -> None:
        self.worker_id = uuid.uuid4()
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.domains = list(domains)
        self.started_at = datetime.now(UTC)
        self.failing = False

    async def beat(self, pool: asyncpg.Pool, messages_done: int) -> None:
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(LOCAL_COMMIT)
                await conn.execute(Q.upsert_heartbeat, self.worker_id, self.host, self.pid,
                                   self.domains, self.started_at, messages_done)
            self.failing = False
        except Exception as exc:  # never the worker's problem: monitoring only
            if not self.failing:
                log.warning("heartbeat_failed", error=repr(exc)[:200])
            self.failing = True

    async def stopped(self, pool: asyncpg.Pool, messages_done: int) -> None:
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(LOCAL_COMMIT)
                await conn.execute(Q.mark_heartbeat_stopped, self.worker_id, messages_done)
        except Exception as exc:
            log.info("heartbeat_stop_failed", error=repr(exc)[:200])


async def live_workers(conn: asyncpg.Connection, gone_s: float) -> list[dict[str, Any]]:
    """Workers seen within gone_s seconds, as plain values."""
    rows = await conn.fetch(Q.list_live_workers, gone_s)
    return [{"worker_id": str(r["worker_id"]), "host": r["host"], "pid": r["pid"],
             "domains": list(r["domains"]), "started_at": r["started_at"].isoformat(),
             "last_seen_at": r["last_seen_at"].isoformat(),
             "seen_s_ago": round(r["seen_s_ago"], 1), "messages_done": r["messages_done"]}
            for r in rows]
