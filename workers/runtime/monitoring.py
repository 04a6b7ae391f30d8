"""The worker's monitoring side: health server, readiness probe, outbox gauge, replication
(synchronous standby present, lag), heartbeats, and the periodic retention run.

The probe has a connection of its own, not one of the pool: when the synchronous standby
is missing, the pool's connections sit in commits that wait for it, and the probe must
still answer why (`sync_standby_present: false`, `commits_flowing: false`). It reconnects
through the database URL, so after a failover it reads the new primary.

Everything here runs off the hot path, in its own tasks, every few seconds; the batch
loop only updates prometheus counters (workers/metrics.py)."""

import asyncio
import contextlib
import time
from typing import Protocol

import asyncpg
import structlog

from handlers.queries import load_queries
from workers import db
from workers.runtime import health, metrics, replication, retention
from workers.runtime.heartbeat import Heartbeat
from workers.settings import OpsSettings, Settings, load_ops_settings

log = structlog.get_logger()
Q = load_queries("runtime")
PROBE_TIMEOUT_S = 3.0


class Monitored(Protocol):
    """What monitoring reads of the worker it watches."""

    @property
    def pool(self) -> asyncpg.Pool | None: ...
    @property
    def settings(self) -> Settings: ...
    def broker_connected(self) -> bool: ...
    def consuming(self) -> bool: ...
    def messages_done(self) -> int: ...
    def commit_waiting_s(self) -> float: ...


class WorkerMonitoring:
    """Starts with the worker, stops with it; owns the probe task and the HTTP server."""

    def __init__(self, worker: Monitored, domains: list[str], metrics_port: int,
                 ops: OpsSettings | None = None) -> None:
        self.worker = worker
        self.metrics_port = metrics_port
        self.ops = ops or load_ops_settings()
        self.server: asyncio.Server | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.database_ok_at = float("-inf")
        self.outbox_oldest_s = 0.0
        self.sync_standby_missing = False
        self.probe_conn: asyncpg.Connection | None = None
        self.heartbeat = Heartbeat(domains)

    async def start(self) -> None:
        port = self.metrics_port
        if port:
            self.server = await health.serve(self.ops.metrics_host, port, self.readiness)
        self.tasks.append(asyncio.create_task(self._probe_loop(), name="probe"))
        self.tasks.append(asyncio.create_task(self._heartbeat_loop(), name="heartbeat"))
        if self.ops.retention_enabled:
            self.tasks.append(asyncio.create_task(retention.run_periodically(
                str(self.worker.settings.database_url), self.ops), name="retention"))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks = []
        if self.worker.pool is not None:
            await self.heartbeat.stopped(self.worker.pool, self.worker.messages_done())
        await self._drop_probe_connection()
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2)
            self.server = None

    # ---- readiness ----------------------------------------------------------------------
    def readiness(self) -> dict[str, bool]:
        fresh_s = 2 * self.ops.probe_interval_s + PROBE_TIMEOUT_S
        broker = self.worker.broker_connected()
        checks = {
            "broker_connected": broker,
            "consuming": broker and self.worker.consuming(),
            "database_reachable": time.monotonic() - self.database_ok_at < fresh_s,
            "outbox_not_stuck": self.outbox_oldest_s < self.ops.outbox_stuck_s,
            "sync_standby_present": not self.sync_standby_missing,
            "commits_flowing": self.worker.commit_waiting_s() < self.ops.commit_stuck_s,
        }
        metrics.READY.set(1 if all(checks.values()) else 0)
        return checks

    async def _heartbeat_loop(self) -> None:
        while True:
            if self.worker.pool is None:  # still starting
                await asyncio.sleep(0.2)
                continue
            await self.heartbeat.beat(self.worker.pool, self.worker.messages_done())
            await asyncio.sleep(self.ops.heartbeat_interval_s)

    # ---- periodic probe -------------------------------------------------------------------
    async def _probe_loop(self) -> None:
        while True:
            if self.worker.pool is None:  # still starting
                await asyncio.sleep(0.2)
                continue
            await self.probe_once()
            await asyncio.sleep(self.ops.probe_interval_s)

    async def probe_once(self) -> None:
        """Database reachable, outbox backlog and the age of its oldest row, replication."""
        metrics.COMMIT_WAIT_SECONDS.set(self.worker.commit_waiting_s())
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                if self.probe_conn is None or self.probe_conn.is_closed():
                    self.probe_conn = await db.connect(str(self.worker.settings.database_url))
                row = await self.probe_conn.fetchrow(Q.count_outbox_backlog)
                repl = await replication.state(self.probe_conn)
        except Exception as exc:
            log.info("database_probe_failed", error=repr(exc)[:200])
            await self._drop_probe_connection()
            self.readiness()
            return
        self.database_ok_at = time.monotonic()
        self.outbox_oldest_s = float(row["oldest_s"])
        metrics.OUTBOX_BACKLOG.set(int(row["backlog"]))
        metrics.OUTBOX_OLDEST_SECONDS.set(self.outbox_oldest_s)
        if repl.sync_standby_missing != self.sync_standby_missing:
            log.warning("sync_standby_missing" if repl.sync_standby_missing
                        else "sync_standby_back", **repl.as_json())
        self.sync_standby_missing = repl.sync_standby_missing
        metrics.SYNC_STANDBY_MISSING.set(int(repl.sync_standby_missing))
        metrics.STANDBYS.set(repl.standbys)
        metrics.REPLICATION_LAG_SECONDS.set(repl.replay_lag_s or 0.0)
        metrics.REPLICATION_LAG_BYTES.set(repl.replay_lag_bytes or 0)
        self.readiness()

    async def _drop_probe_connection(self) -> None:
        conn, self.probe_conn = self.probe_conn, None
        if conn is not None:
            conn.terminate()
