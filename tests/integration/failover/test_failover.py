"""Failover with the fixture's real primary and standby (tests/pg_pair.py).

The scene, for synchronous and for asynchronous replication: 3,000 `order.confirmed` and a
settlement run are under way in one worker process when the standby falls behind (its
walsender is stopped, as a slow or broken link would), then the primary's postmaster is
SIGKILLed and the standby promoted. The primary dies once the run has completed and 500
more inputs were committed beyond the standby, or after a time-out: with synchronous
commit nothing commits meanwhile (asserted), the time-out comes, nothing the worker acked
is lost and the same process finishes the work on the new primary. With asynchronous
replication the worker acked those inputs: their loss is counted, the figure
docs/operations.md quotes."""

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from failover_helpers import (
    DATABASE,
    Worker,
    answered,
    figures,
    is_ready,
    ledger_verify,
    load,
    open_bus,
    processed_keys,
    report,
    settlement_queue_counts,
    wait_until,
)
from harness import event
from pg_pair import PgPair

from workers import db
from workers.gateway.app import create_app
from workers.gateway.config import GatewaySettings
from workers.gateway.tokens import add_token
from workers.settings import Settings

pytestmark = pytest.mark.slow

N = 3000  # orders; with the run, N + 1 inputs
GATEWAY_SOURCE = "failover-upstream"
SYNC_STALL_S = 3.0  # synchronous: the standby receives nothing this long, then the kill
ASYNC_STALL_S = 20.0  # asynchronous: at most this long, until AHEAD inputs committed
AHEAD = 500  # inputs the primary commits (and the worker acks) beyond the standby


async def kill_during_run(pair: PgPair, settings: Settings, tmp_path: Path, sync: bool
                          ) -> dict[str, Any]:
    """The scene; returns its figures. The worker is left running for the caller's checks."""
    pair.set_synchronous(sync)
    pair.wait_streaming(sync=sync)
    connection, bus = await open_bus(settings)
    inputs = load(N)
    await bus.publish(*inputs)
    worker = Worker(settings, tmp_path / "worker.log")
    try:
        await wait_until(lambda: run_in_flight(pair), 90, "the run settling orders", 0.02)
        walsenders = pair.walsender_pids()
        for pid in walsenders:
            os.kill(pid, signal.SIGSTOP)
        stalled_at = time.monotonic()
        at_stall = await figures(pair.primary, DATABASE)
        # The primary dies once the run has completed and AHEAD more inputs were committed
        # beyond what the standby has, or when the stall times out: with synchronous
        # commit nothing can commit meanwhile, so that is always the time-out.
        acked_ahead = await wait_for_or_timeout(
            lambda: committed_ahead(pair, at_stall["inbox"] + AHEAD),
            SYNC_STALL_S if sync else ASYNC_STALL_S)
        stall_s = time.monotonic() - stalled_at
        on_primary = await figures(pair.primary, DATABASE)
        killed_at = time.monotonic()
        for pid in walsenders:  # stopped: it would never notice its postmaster die
            os.kill(pid, signal.SIGKILL)
        pair.kill_primary()
        gone_s = time.monotonic() - killed_at
        ready, unacked = await asyncio.to_thread(settlement_queue_counts, settings)
        await asyncio.sleep(1.0)  # the time it takes to decide on a failover
        promoted_before = await figures(pair.standby, DATABASE)
        await asyncio.to_thread(pair.promote)
        promoted_at = time.monotonic()
        ready_s = await wait_until(lambda: is_ready(worker), 60, "/readyz 200 again", 0.1)
        left = sum(await asyncio.to_thread(settlement_queue_counts, settings))
        first_commit_s = None  # None: every input had been acked before the kill
        if left:
            first_commit_s = ready_s + await wait_until(
                lambda: progressed(pair, work_done(promoted_before)), 60,
                "a commit on the new primary")
        await wait_until(lambda: drained(settings), 180, "the queue drained", 0.5)
        await wait_until(lambda: outbox_empty(pair), 60, "every result published", 0.2)
        await bus.settle(1.0)
        after = await figures(pair.standby, DATABASE)
        kept = await processed_keys(pair.standby, DATABASE)
        lost = [e["id"] for e in inputs if e["id"] not in kept]
        results = answered(bus)
        phantoms = len({r["id"] for r in bus.collected if r.get("causationid") not in kept})
        return {
            "synchronous_commit": sync, "inputs": len(inputs),
            "on_old_primary_at_kill": on_primary, "on_standby_at_promotion": promoted_before,
            "queue_at_kill": {"ready": ready, "unacked_in_flight": unacked},
            "standby_stalled_s": round(stall_s, 2), "inputs_at_stall": at_stall["inbox"],
            "killed_after_commits_ahead": acked_ahead,
            "primary_processes_gone_s": round(gone_s, 2),
            "promoted_after_kill_s": round(promoted_at - killed_at, 2),
            "inputs_left_at_promotion": left,
            "first_commit_after_promotion_s": (None if first_commit_s is None
                                               else round(first_commit_s, 2)),
            "ready_after_promotion_s": round(ready_s, 2),
            "on_new_primary": after, "acked_but_lost": len(lost),
            "results_distinct": results["distinct"], "results_republished":
                results["republished"], "results_of_lost_inputs": phantoms,
            "duplicates_dropped_by_inbox": worker.log_count("duplicate_skipped"),
            "database_waits_logged": worker.log_count("database_unavailable"),
            "worker_pid": worker.proc.pid, "worker_alive": worker.alive(),
            "_worker": worker, "_lost": lost}
    except BaseException:
        worker.stop()
        raise
    finally:
        await connection.close()


async def committed_ahead(pair: PgPair, inbox: int) -> bool:
    f = await figures(pair.primary, DATABASE)
    return f["runs"] == 1 and f["inbox"] >= inbox


async def wait_for_or_timeout(predicate: Callable[[], Awaitable[bool]], timeout_s: float
                              ) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.05)
    return False


async def run_in_flight(pair: PgPair) -> bool:
    f = await figures(pair.primary, DATABASE)
    return 100 <= f["settled"] < N // 2 and f["runs"] == 0


def work_done(f: dict[str, int]) -> int:
    """Inputs committed plus orders settled: grows with every batch and every run chunk."""
    return f["inbox"] + f["settled"]


async def progressed(pair: PgPair, before: int) -> bool:
    return work_done(await figures(pair.standby, DATABASE)) > before


async def drained(settings: Settings) -> bool:
    return await asyncio.to_thread(settlement_queue_counts, settings) == (0, 0)


async def outbox_empty(pair: PgPair) -> bool:
    import asyncpg

    conn = await asyncpg.connect(host="127.0.0.1", port=pair.standby.port, user="postgres",
                                 database=DATABASE)
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL")) == 0
    finally:
        await conn.close()


async def gateway_answers(client: httpx.AsyncClient, token: str) -> int:
    e = event("certification.submitted", {
        "application_id": "gw", "account_id": "gw-acc", "account_name": "Tea lover",
        "track": "interest", "interest": {"field": "tea"}}, source=GATEWAY_SOURCE)
    response = await client.post("/events", content=orjson.dumps(e), headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/cloudevents+json"})
    return response.status_code


async def test_sync_commit_failover_loses_nothing_and_the_same_worker_recovers(
        pair: PgPair, failover_settings: Settings, tmp_path: Path) -> None:
    # A gateway in this process, checking its token in the database on every request.
    conn = await db.connect(str(failover_settings.database_url))
    try:
        _, token = await add_token(conn, GATEWAY_SOURCE)
    finally:
        await conn.close()
    app = create_app(failover_settings, GatewaySettings(token_cache_s=0,
                                                        reconnect_backoff_s=0.2))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
        assert await gateway_answers(client, token) == 202
        scene = await kill_during_run(pair, failover_settings, tmp_path, sync=True)
        worker: Worker = scene.pop("_worker")
        try:  # the same gateway, never restarted, checks tokens on the new primary
            scene["gateway_after_failover"] = await gateway_answers(client, token)
        except BaseException:
            worker.stop()
            raise
    try:
        assert scene["gateway_after_failover"] == 202
        assert scene["on_old_primary_at_kill"]["runs"] == 0, "the run must be in flight"
        assert not scene["killed_after_commits_ahead"], "nothing commits without the standby"
        assert scene["acked_but_lost"] == 0, scene.pop("_lost")[:20]
        assert scene["on_new_primary"] == {"inbox": N + 1, "orders": N, "settled": N // 2,
                                           "runs": 1}
        assert scene["results_distinct"] == {"settlement.scheduled": N,
                                             "settlement.paid": N // 2,
                                             "settlement.run_completed": 1}
        assert scene["results_of_lost_inputs"] == 0
        assert worker.alive(), "the worker process recovers by itself, never restarted"
        verified = ledger_verify(failover_settings)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        assert worker.stop() == 0
    scene.pop("_lost")
    report("sync", scene)


async def test_async_replication_failover_loses_acked_events(
        pair: PgPair, failover_settings: Settings, tmp_path: Path) -> None:
    """Documents the loss (the count is the figure), asserts only what must hold anyway."""
    scene = await kill_during_run(pair, failover_settings, tmp_path, sync=False)
    worker: Worker = scene.pop("_worker")
    lost: list[str] = scene.pop("_lost")
    try:
        f = scene["on_new_primary"]
        assert f["inbox"] + scene["acked_but_lost"] == N + 1
        assert worker.alive()
        verified = ledger_verify(failover_settings)  # a lost tail, never half a transaction
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        assert worker.stop() == 0
    scene["lost_examples"] = lost[:5]
    report("async", scene)
