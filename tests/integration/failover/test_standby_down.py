"""The gap of synchronous commit: the standby itself is down. Commits wait for it, so the
worker acks nothing, says so on /readyz and in `haodian status`, holds no more than its
prefetch in memory, acks nothing either when someone cancels the waiting commits, and
finishes everything once the standby is back."""

import asyncio
import time
from pathlib import Path

import orjson
import pytest
from failover_helpers import (
    DATABASE,
    N_STANDBY_DOWN,
    Worker,
    answered,
    figures,
    is_ready,
    ledger_verify,
    load,
    open_bus,
    report,
    settlement_queue_counts,
    status_json,
    wait_until,
)
from pg_pair import PgPair

from workers.settings import Settings

pytestmark = pytest.mark.slow

OUTAGE_S = 10.0


async def test_standby_down_workers_stop_acking_and_finish_when_it_returns(
        pair: PgPair, failover_settings: Settings, tmp_path: Path) -> None:
    pair.set_synchronous(True)
    pair.wait_streaming(sync=True)
    connection, bus = await open_bus(failover_settings)
    worker = Worker(failover_settings, tmp_path / "worker.log")
    try:
        await wait_until(lambda: is_ready(worker), 60, "the worker ready", 0.1)
        await asyncio.to_thread(pair.stop_standby)
        inputs = load(N_STANDBY_DOWN)
        await bus.publish(*inputs)

        async def broker_has_them() -> bool:  # its queue figures lag a little
            counts = await asyncio.to_thread(settlement_queue_counts, failover_settings)
            return sum(counts) == len(inputs)

        await wait_until(broker_has_them, 30, "the broker counting every input", 0.5)
        samples = []
        started = time.monotonic()
        while time.monotonic() - started < OUTAGE_S:
            code, body = await asyncio.to_thread(worker.readyz)
            ready, unacked = await asyncio.to_thread(settlement_queue_counts,
                                                     failover_settings)
            samples.append({"t": round(time.monotonic() - started, 1), "rss": worker.rss_mib(),
                            "readyz": code, "checks": body.get("checks", {}),
                            "ready": ready, "unacked": unacked})
            await asyncio.sleep(0.5)
        (tmp_path / "samples.json").write_bytes(orjson.dumps(samples))
        status = await asyncio.to_thread(status_json, failover_settings)
        waiting = await figures(pair.primary, DATABASE)
        last = samples[-1]

        # Nothing acked, nothing answered, nothing visible: every commit waits.
        assert all(s["ready"] + s["unacked"] == len(inputs) for s in samples), samples
        assert bus.collected == []
        assert waiting["inbox"] == 0
        # Unready, and saying why.
        assert last["readyz"] == 503
        assert last["checks"]["sync_standby_present"] is False
        assert last["checks"]["commits_flowing"] is False
        assert last["checks"]["database_reachable"] is True
        assert status["replication"]["sync_standby_missing"] is True
        assert status["replication"]["standbys"] == 0
        # Prefetch bounds what the worker holds: memory flat while messages wait.
        assert max(s["unacked"] for s in samples) <= failover_settings.prefetch
        settled_rss = [s["rss"] for s in samples if s["t"] >= 2.0]
        assert max(settled_rss) - min(settled_rss) < 20, samples

        # Someone cancels the waiting commits: PostgreSQL returns success (committed on
        # the primary only); the worker must still ack nothing, and retry, and wait again.
        cancelled = int(pair.primary.psql(
            "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity "
            "WHERE wait_event = 'SyncRep'"))
        assert cancelled >= 1
        await asyncio.sleep(2.0)
        ready, unacked = await asyncio.to_thread(settlement_queue_counts, failover_settings)
        assert ready + unacked == len(inputs), (ready, unacked)
        assert worker.log_count("synchronous standby was cancelled") >= 1

        back_at = time.monotonic()
        await asyncio.to_thread(pair.start_standby)
        await wait_until(lambda: done(pair, len(inputs)), 120, "every input committed", 0.2)
        finished_s = time.monotonic() - back_at
        await wait_until(lambda: is_ready(worker), 30, "the worker ready again", 0.1)
        await bus.wait_results(N_STANDBY_DOWN + N_STANDBY_DOWN // 2 + 1, 60)
        await bus.settle(1.0)
        results = answered(bus)
        assert results["distinct"] == {"settlement.scheduled": N_STANDBY_DOWN,
                                       "settlement.paid": N_STANDBY_DOWN // 2,
                                       "settlement.run_completed": 1}
        assert await figures(pair.primary, DATABASE) == {
            "inbox": len(inputs), "orders": N_STANDBY_DOWN, "settled": N_STANDBY_DOWN // 2,
            "runs": 1}

        async def drained() -> bool:  # every input acked (the broker's figures lag a little)
            counts = await asyncio.to_thread(settlement_queue_counts, failover_settings)
            return counts == (0, 0)

        await wait_until(drained, 30, "every input acked", 0.5)
        verified = ledger_verify(failover_settings)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert worker.alive()
    finally:
        code = worker.stop()
        await connection.close()
    assert code == 0
    report("standby-down", {
        "inputs": len(inputs), "outage_s": OUTAGE_S, "prefetch": failover_settings.prefetch,
        "unacked_max": max(s["unacked"] for s in samples),
        "rss_mib_min_max": [min(settled_rss), max(settled_rss)],
        "readyz_last": last["checks"], "sync_waits_cancelled": cancelled,
        "status_replication": status["replication"],
        "all_done_after_standby_back_s": round(finished_s, 2)})


async def done(pair: PgPair, inputs: int) -> bool:
    f = await figures(pair.primary, DATABASE)
    return f["inbox"] == inputs and f["runs"] == 1
