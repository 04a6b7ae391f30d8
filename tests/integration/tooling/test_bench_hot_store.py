"""`haodian bench settlement --hot-store-share`: the share of orders really goes to one
store, and the report carries deadlocks, conflict retries and lock waits for one and two
worker processes (the figures themselves come from full runs, not from tests)."""

import asyncio
import subprocess
import sys
from pathlib import Path

import asyncpg
import orjson
from harness import ADMIN_DATABASE_URL, SESSION_NAME, settings_env

from workers.bench.load import hot_store
from workers.settings import Settings

EVENTS = 1000
SHARE = 0.3


async def test_the_hot_store_gets_its_share_and_contention_is_reported(
        settings: Settings, tmp_path: Path) -> None:
    place = f"{SESSION_NAME}_bench"  # the bench's own database and vhost, dropped below
    haodian = str(Path(sys.executable).parent / "haodian")
    try:
        proc = await asyncio.create_subprocess_exec(
            haodian, "bench", "settlement", "--events", str(EVENTS), "--latency-s", "0",
            "--hot-store-share", str(SHARE), "--place", place, "--out", str(tmp_path),
            env=settings_env(settings), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(proc.communicate(), 300)
        assert proc.returncode == 0, out.decode()[-3000:]
        conn = await asyncpg.connect(ADMIN_DATABASE_URL.rsplit("/", 1)[0] + "/" + place)
        try:
            per_store = {r["store_id"]: r["n"] for r in await conn.fetch(
                "SELECT store_id, count(*) AS n FROM settlement_orders GROUP BY store_id")}
        finally:
            await conn.close()
    finally:
        admin = await asyncpg.connect(ADMIN_DATABASE_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{place}" WITH (FORCE)')
        finally:
            await admin.close()
        await asyncio.to_thread(subprocess.run, ["rabbitmqctl", "-q", "delete_vhost", place],
                                capture_output=True)

    # The one-worker drain ("drain") and the two-worker drain ("pair"): each sent exactly
    # the share of its orders to its hot store, the rest spread over the other stores.
    for run in ("drain", "pair"):
        assert per_store[hot_store(run)] == int(EVENTS * SHARE)
        others = {k: v for k, v in per_store.items()
                  if k.startswith(f"{run}-s-") and k != hot_store(run)}
        assert sum(others.values()) == EVENTS - int(EVENTS * SHARE)
        assert max(others.values()) < int(EVENTS * SHARE) / 10
    assert not (tmp_path / "bench-settlement.json").exists()  # scale advise's μ kept
    report = orjson.loads((tmp_path / "bench-settlement-hot.json").read_bytes())
    assert report["hot_store_share"] == SHARE
    for drain in (report["worker"], report["two_workers"]):
        c = drain["contention"]
        assert c["deadlocks"] >= 0
        assert c["conflict_retries"] is not None and c["conflict_retries"] >= 0  # scraped
        assert c["lock_waits"]["samples"] > 0
        assert c["lock_waits"]["mean_waiting"] >= 0
    assert "two workers: deadlocks" in out.decode()
