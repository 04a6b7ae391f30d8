"""The benchmark suites per domain, with a report table and a JSON record."""

import asyncio
import shutil
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
from rich.console import Console
from rich.table import Table

from workers import broker, db
from workers.bench import compliance_load, growth, load, saturation
from workers.bench.contention import Contention
from workers.bench.runner import (
    WorkerUnderTest,
    prepare,
    run_bare,
    run_latency,
    run_soak,
    run_worker_drain,
)
from workers.settings import Settings

BENCH_NAME = "haodian_bench"


async def bench_place(settings: Settings, name: str = BENCH_NAME) -> Settings:
    """The same servers with database and vhost `name` (created when missing): a bench
    never touches the data of the database it was pointed at."""
    conn = await db.connect(str(settings.database_url))
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    amqp = urlsplit(broker.first_url(settings.amqp_url))  # the bench uses one node
    if shutil.which("rabbitmqctl"):
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], capture_output=True)
        subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name,
                        amqp.username or "guest", ".*", ".*", ".*"],
                       capture_output=True, check=True)
    place = urlsplit(str(settings.database_url))._replace(path="/" + name)
    return settings.model_copy(update={"database_url": urlunsplit(place),
                                       "amqp_url": urlunsplit(amqp._replace(path="/" + name))})


Maker = Callable[[int, str], list[dict[str, Any]]]


def workload(domain: str, hot_store_share: float = 0.0) -> tuple[Maker, list[str]]:
    """How to make n input events for a domain, and the result types that answer them."""
    now = load.now_utc()
    if hot_store_share and domain != "settlement":
        raise ValueError("--hot-store-share applies to settlement (orders of one store)")
    if domain == "certification":
        return (lambda n, tag: list(load.interest_applications(n, tag, now)),
                ["certification.approved"])
    if domain == "settlement":
        return (lambda n, tag: list(load.confirmed_orders(
            n, tag, now, hot_store_share=hot_store_share)),
                ["settlement.scheduled"])
    if domain == "compliance":
        return (lambda n, tag: list(compliance_load.product_submissions(n, tag, now)),
                compliance_load.RESULT_KEYS)
    raise ValueError(f"no benchmark for {domain!r} yet")


async def prepare_domain(bench: Settings, domain: str) -> None:
    """Rows a domain's timed drain presupposes, written before timing starts."""
    if domain == "compliance":
        await compliance_load.open_stores(bench, load.now_utc())


def retention_env(every_s: float, window_s: float) -> dict[str, str]:
    """The worker under test's retention: off, or every `every_s` with inbox and outbox
    windows of `window_s` (the soak's month seven in minutes)."""
    if every_s <= 0:
        return {"HAODIAN_RETENTION_ENABLED": "false"}
    return {"HAODIAN_RETENTION_ENABLED": "true", "HAODIAN_RETENTION_EVERY_S": str(every_s),
            "HAODIAN_RETENTION_INBOX_S": str(window_s),
            "HAODIAN_RETENTION_OUTBOX_S": str(window_s)}


async def start_after_prefill(bench: Settings, domain: str, events: list[dict[str, Any]],
                              env: dict[str, str] | None = None) -> "WorkerUnderTest":
    """Fill the domain queue first, so the worker is timed on a full queue."""

    from workers.bench.runner import prefill

    connection = await broker.connect(str(bench.amqp_url))
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await prefill(channel, domain, _bodies(events), lambda i: events[i]["type"])
    return WorkerUnderTest(bench, domain, env)


def _bodies(events: list[dict[str, Any]]) -> list[bytes]:
    return [orjson.dumps(e) for e in events]


async def bench_domain(settings: Settings, domain: str, events: int, latency_s: float,
                       run_orders: int, console: Console, soak_s: float = 0,
                       two_workers: bool = True, retention_every_s: float = 0,
                       retention_window_s: float = 30, place: str = BENCH_NAME,
                       soak_rate: float = 0, hot_store_share: float = 0.0) -> dict[str, Any]:
    make, result_keys = workload(domain, hot_store_share)
    bench = await bench_place(settings, place)
    await prepare(bench)
    await prepare_domain(bench, domain)
    report: dict[str, Any] = {"domain": domain, "hot_store_share": hot_store_share,
                              "settings": {
        "prefetch": bench.prefetch, "batch_size": bench.batch_size,
        "batch_wait_ms": bench.batch_wait_ms, "retention_every_s": retention_every_s,
        "retention_window_s": retention_window_s if retention_every_s > 0 else None}}
    drain_events = make(events, "drain")
    bodies = _bodies(drain_events)
    console.print(f"[bold]{domain}[/bold]: bare baseline over {events} messages …")
    report["bare"] = await run_bare(bench, bodies)
    console.print(f"  bare: {report['bare']['events_per_s']} events/s")
    idle = WorkerUnderTest(bench, domain)
    await asyncio.sleep(3.0)
    report["idle_worker_rss_mib"] = round(idle.rss()[0] / 2**20, 1)
    idle.stop()
    console.print(f"{domain}: worker draining {events} pre-filled events …")
    sizes_before = await growth.table_bytes(str(bench.database_url))
    worker = await start_after_prefill(bench, domain, drain_events,
                                       retention_env(retention_every_s, retention_window_s))
    locks = Contention(str(bench.database_url), [worker.metrics_port])
    try:
        report["worker"] = await run_worker_drain(
            bench, domain, [], lambda i: "", result_keys, worker, expected=events,
            contention=locks)
        report["growth"] = growth.per_event(
            sizes_before, await growth.table_bytes(str(bench.database_url)), events)
        report["ratio"] = round(report["worker"]["events_per_s"]
                                / max(1, report["bare"]["events_per_s"]), 3)
        console.print(f"  worker: {report['worker']['events_per_s']} events/s, "
                      f"ratio {report['ratio']}")
        if latency_s > 0:
            rate = report["worker"]["events_per_s"] / 2
            console.print(f"{domain}: latency at {rate:.0f} events/s for {latency_s:.0f} s …")

            def latency_bodies(n: int) -> list[tuple[str, bytes, str]]:
                return [(e["id"], orjson.dumps(e), e["type"]) for e in make(n, "lat")]

            report["latency"] = await run_latency(bench, rate, latency_s, latency_bodies,
                                                  result_keys)
        if soak_s > 0:
            rate = soak_rate or report["worker"]["events_per_s"] / 4
            console.print(f"{domain}: soak at {rate:.0f} events/s for {soak_s:.0f} s …")

            def soak_bodies(n: int) -> list[tuple[str, bytes, str]]:
                return [(e["id"], orjson.dumps(e), e["type"]) for e in make(n, "soak")]

            report["soak"] = await run_soak(bench, worker, rate, soak_s, soak_bodies,
                                            result_keys)
    finally:
        worker.stop()
    report["worker"]["contention"] = await locks.finish()
    if two_workers:
        console.print(f"{domain}: two worker processes draining {events} events …")
        pair = make(events, "pair")
        report["two_workers"] = await saturation.run_two_workers(
            bench, domain, _bodies(pair), [e["type"] for e in pair], result_keys)
    if domain == "settlement" and run_orders:
        report["run"] = await bench_settlement_run(bench, run_orders, console)
    return report


async def bench_settlement_run(bench: Settings, orders: int, console: Console
                               ) -> dict[str, Any]:
    """Load `orders` due orders, then time one settlement run over all of them."""
    import time

    from workers import topology
    from workers.bench.procfs import rss_bytes
    from workers.bench.runner import Timing, publish_all, watch_results

    now = load.now_utc()
    events = list(load.confirmed_orders(orders, "run", now, days_ago=10))
    console.print(f"settlement: loading {orders} due orders …")
    sizes = [await growth.table_bytes(str(bench.database_url))]
    await run_worker_drain(bench, "settlement", _bodies(events), lambda _: "order.confirmed",
                           ["settlement.scheduled"])
    sizes.append(await growth.table_bytes(str(bench.database_url)))
    worker = WorkerUnderTest(bench, "settlement")
    try:
        connection = await broker.connect(str(bench.amqp_url))
        async with connection:
            channel = await connection.channel(publisher_confirms=True)
            timing = Timing(1)
            await watch_results(channel, ["settlement.run_completed"], timing)
            run = load.cloudevent("settlement.run_requested", "cron",
                                  {"run_id": "bench-run", "as_of": now.isoformat()},
                                  now + timedelta(seconds=1))
            console.print(f"settlement: one run over {orders} due orders …")
            started = time.monotonic()
            peak = 0
            await publish_all(channel, topology.EVENTS, [orjson.dumps(run)],
                              lambda _: "settlement.run_requested")
            while not timing.done.is_set():
                peak = max(peak, rss_bytes(worker.proc.pid)[1])
                try:
                    await asyncio.wait_for(timing.done.wait(), 0.5)
                except TimeoutError:
                    pass
            duration = time.monotonic() - started
    finally:
        worker.stop()
    sizes.append(await growth.table_bytes(str(bench.database_url)))
    return {"orders": orders, "seconds": round(duration, 2),
            "orders_per_s": round(orders / duration), "worker_peak_rss_mib": round(peak / 2**20, 1),
            "growth_confirmed": growth.per_event(sizes[0], sizes[1], orders),
            "growth_run": growth.per_event(sizes[1], sizes[2], orders)}


def print_report(report: dict[str, Any], console: Console) -> None:
    share = report.get("hot_store_share") or 0
    table = Table(title=f"haodian bench {report['domain']}"
                  + (f", one store with {share:.0%} of the orders" if share else ""))
    table.add_column("measure")
    table.add_column("value", justify="right")
    bare, worker = report["bare"], report["worker"]
    table.add_row("bare baseline events/s", str(bare["events_per_s"]))
    table.add_row("worker events/s", str(worker["events_per_s"]))
    table.add_row("ratio (target ≥ 0.7)", str(report["ratio"]))
    if "contention" in worker:
        table.add_row("one worker: " + CONTENTION_LABEL, contention_cell(worker["contention"]))
        serial = worker["contention"]["batches"].get("events_per_handling_s")
        table.add_row("one worker: events per second of batch handling (serial ceiling)",
                      str(serial))
    if "latency" in report:
        lat = report["latency"]
        table.add_row(f"p50 / p99 latency at {lat['rate_per_s']}/s (ms, target p99 ≤ 100)",
                      f"{lat['p50_ms']} / {lat['p99_ms']}")
    for who, cpu in (("bare", bare["cpu_s_per_1000"]), ("worker", worker["cpu_s_per_1000"])):
        table.add_row(f"CPU s per 1000 events ({who} run)",
                      ", ".join(f"{k} {v}" for k, v in cpu.items()))
    table.add_row("idle worker RSS (MiB, target ≤ 100)", str(report["idle_worker_rss_mib"]))
    if "growth" in report:
        top = list(report["growth"]["bytes_per_event"].items())[:4]
        table.add_row("table bytes per drained event (total; largest)",
                      f"{report['growth']['total_bytes_per_event']}; "
                      + ", ".join(f"{t} {b}" for t, b in top))
    table.add_row("worker RSS after drain / peak (MiB)",
                  f"{worker['worker_rss_mib']} / {worker['worker_peak_rss_mib']}")
    if "soak" in report:
        soak = report["soak"]
        table.add_row(f"soak {soak['seconds']:.0f} s at {soak['rate_per_s']}/s: RSS MiB "
                      "first / last / max", f"{soak['rss_mib_first']} / {soak['rss_mib_last']}"
                      f" / {soak['rss_mib_max']}")
        table.add_row("soak p50 / p99 latency (ms)",
                      f"{soak['latency']['p50_ms']} / {soak['latency']['p99_ms']}")
        seen = [t for t in soak["tables"] if "inbox_mib" in t]
        table.add_row("soak inbox / outbox MiB: first / last / max", " / ".join(
            f"{seen[0][k]} / {seen[-1][k]} / {max(t[k] for t in seen)}"
            for k in ("inbox_mib", "outbox_mib")) if seen else "—")
        table.add_row("soak WAL bytes per event (whole cluster)",
                      str(soak["wal_bytes_per_event"]))
    if "two_workers" in report:
        pair = report["two_workers"]
        table.add_row("two worker processes: events/s", str(pair["events_per_s"]))
        table.add_row("two workers: cores used",
                      ", ".join(f"{k} {v}" for k, v in pair["cores"].items())
                      + f"; machine {pair['machine_busy_cores']} of {pair['cpus']}")
        table.add_row("two workers: saturated", pair["saturated"])
        if "contention" in pair:
            table.add_row("two workers: " + CONTENTION_LABEL, contention_cell(pair["contention"]))
            table.add_row("two workers / one worker events/s", str(round(
                pair["events_per_s"] / max(1, worker["events_per_s"]), 2)))
    if "run" in report:
        run = report["run"]
        table.add_row(f"settlement run over {run['orders']} orders",
                      f"{run['seconds']} s ({run['orders_per_s']}/s), peak RSS "
                      f"{run['worker_peak_rss_mib']} MiB")
    console.print(table)


CONTENTION_LABEL = ("deadlocks / conflict retries / lock waits (mean backends waiting, "
                    "share of samples, backend-s)")


def contention_cell(c: dict[str, Any]) -> str:
    waits = c["lock_waits"]
    retries = "?" if c["conflict_retries"] is None else str(c["conflict_retries"])
    return (f"{c['deadlocks']} / {retries} / {waits['mean_waiting']}, "
            f"{waits['waiting_share']:.0%}, {waits['wait_backend_s']}")


def save(report: dict[str, Any], directory: Path) -> Path:
    """artifacts/bench-<domain>.json; a hot-store run goes to bench-<domain>-hot.json, so
    that `scale advise` keeps reading the spread workload's per-process figure."""
    directory.mkdir(parents=True, exist_ok=True)
    hot = "-hot" if report.get("hot_store_share") else ""
    path = directory / f"bench-{report['domain']}{hot}.json"
    path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    return path
