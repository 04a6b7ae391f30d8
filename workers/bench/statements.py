"""`haodian bench statements`: how fast statements render, and in how much memory.

In its own database and vhost (`--place`), two workloads made by the benchmark's order
loader (`load.confirmed_orders`) go through the real queue and a real worker, then one
settlement run each:

    one store   N orders of one store, settled in 2021-08 (the big store-month)
    all stores  N orders over 200 stores, settled in 2021-09 (the --all month)

Then, each in a fresh `haodian statement` process (wall time; peak RSS from the kernel's
accounting of the waited-for child):

    csv of the big store-month, and of a 1-order store-month for the memory baseline
    --all over the 2021-09 month, CSV, into a directory
"""

import asyncio
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from handlers.base import SHANGHAI
from workers import broker, db
from workers.bench import load
from workers.bench.runner import prefill, prepare, worker_env
from workers.registry import resolve
from workers.runtime.worker import Worker
from workers.settings import Settings

ONE = "one"  # the loader's run tag: its store is "one-s-0"
ALL = "all"
ONE_MONTH, ALL_MONTH = "2021-08", "2021-09"
ONE_CONFIRMED = datetime(2021, 8, 20, 12, tzinfo=SHANGHAI)  # settle 08-26/27
ALL_CONFIRMED = datetime(2021, 9, 20, 12, tzinfo=SHANGHAI)  # settle 09-26/27


def _run_request(run_id: str, as_of: datetime) -> dict[str, Any]:
    return load.cloudevent("settlement.run_requested", "cron", {
        "run_id": run_id, "as_of": as_of.isoformat()}, as_of)


async def _drain(bench: Settings, events: list[dict[str, Any]]) -> float:
    started = time.monotonic()
    connection = await broker.connect(str(bench.amqp_url))
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await prefill(channel, "settlement", [orjson.dumps(e) for e in events],
                      lambda i: str(events[i]["type"]))
    worker = Worker(bench, resolve(["settlement"]), burst=True, burst_idle_s=1.0)
    await worker.run()
    return time.monotonic() - started


async def load_workloads(bench: Settings, orders: int, console: Console) -> dict[str, float]:
    took = {}
    for tag, confirmed, stores, month_end in (
        (ONE, ONE_CONFIRMED, 1, datetime(2021, 8, 31, tzinfo=SHANGHAI)),
        (ALL, ALL_CONFIRMED, 200, datetime(2021, 9, 30, tzinfo=SHANGHAI)),
    ):
        console.print(f"statements: {orders} orders over {stores} store(s) through the queue …")
        events = list(load.confirmed_orders(orders, tag, confirmed, stores=stores))
        took[f"{tag}_confirm_s"] = round(await _drain(bench, events), 1)
        console.print(f"  settling them in one run as of {month_end.isoformat()} …")
        took[f"{tag}_settle_s"] = round(
            await _drain(bench, [_run_request(f"{tag}-run", month_end)]), 1)
    conn = await db.connect(str(bench.database_url))
    try:
        small = load.cloudevent("order.confirmed", "order-service", {
            "order_id": "small-o-0", "store_id": "small-s-0", "buyer_id": "u-0",
            "amount_fen": 990, "confirmed_at": ONE_CONFIRMED.isoformat()}, ONE_CONFIRMED)
        settled = await conn.fetchval("SELECT count(*) FROM settlement_orders "
                                      "WHERE status = 'settled'")
    finally:
        await conn.close()
    await _drain(bench, [small, _run_request("small-run", datetime(2021, 8, 31, 1,
                                                                   tzinfo=SHANGHAI))])
    took["settled_orders"] = settled
    conn = await db.connect(str(bench.database_url))
    try:  # the planner's statistics, as autovacuum would have them by the month's end
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return took


# Runs the command as its only child and prints the child's peak RSS (KiB) and exit code:
# each measured command then gets a fresh RUSAGE_CHILDREN of its own.
_MEASURE = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)")


def _timed(bench: Settings, *args: str) -> dict[str, Any]:
    """`haodian statement ARGS` in a fresh process: wall seconds and its peak RSS."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "workers",
                           "statement", *args], env=worker_env(bench), capture_output=True,
                          text=True)
    wall = time.monotonic() - started
    peak_kib, code = (int(x) for x in done.stdout.split()[-2:])
    return {"args": " ".join(args), "exit": code, "wall_s": round(wall, 2),
            "peak_rss_mib": round(peak_kib / 1024, 1), "stderr": done.stderr[-400:]}


def _python_start(bench: Settings) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "workers", "statement", "--help"],
                   env=worker_env(bench), capture_output=True, check=True)
    return round(time.monotonic() - started, 2)


async def bench_statements(bench: Settings, orders: int, console: Console,
                           reload: bool = True) -> dict[str, Any]:
    report: dict[str, Any] = {"domain": "statements", "orders": orders}
    if reload:
        await prepare(bench)
        report["load"] = await load_workloads(bench, orders, console)
    out = Path(tempfile.mkdtemp(prefix="haodian-statements-"))
    report["cli_start_s"] = await asyncio.to_thread(_python_start, bench)
    runs = [
        ("small_csv", "--store", "small-s-0", "--month", ONE_MONTH, "--format", "csv",
         "--output", str(out / "small.csv")),
        ("one_store_csv", "--store", f"{ONE}-s-0", "--month", ONE_MONTH, "--format", "csv",
         "--output", str(out / "one.csv")),
        ("all_csv", "--all", "--month", ALL_MONTH, "--format", "csv", "--output",
         str(out / "all")),
    ]
    for name, *args in runs:
        console.print(f"statements: haodian statement {' '.join(args)} …")
        report[name] = await asyncio.to_thread(_timed, bench, *args)
        console.print(f"  {report[name]['wall_s']} s, peak RSS {report[name]['peak_rss_mib']} "
                      f"MiB, exit {report[name]['exit']}")
    one = out / "one.csv"
    report["one_store_csv"]["bytes"] = one.stat().st_size if one.exists() else 0
    report["one_store_csv"]["rows"] = sum(1 for _ in one.open(encoding="utf-8-sig")) \
        if one.exists() else 0
    report["all_csv"]["files"] = len(list((out / "all").glob("*.csv")))
    return report


async def bench_statements_in(settings: Settings, place: str, orders: int,
                              console: Console) -> dict[str, Any]:
    """The bench in database and vhost `place` (created when missing, wiped first)."""
    from workers.bench.suite import bench_place

    return await bench_statements(await bench_place(settings, place), orders, console)
