"""`haodian bench gateway`: events/s through the HTTP gateway with confirms, beside the bare
AMQP publish rate of the same events in the same run.

Each side publishes the same n `order.confirmed` events to haodian.events and is timed
until the broker has confirmed the last one (a 202 is sent only after the confirm), then
the settlement queue's depth is checked to be n. The gateway runs as a `haodian gateway
serve` child process; the client (workers.bench.http_client, keep-alive connections) has
`concurrency` requests in flight, one event per request, then again in batches of
`batch_size`. On a small machine the client's own CPU (reported) weighs on the figure."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import httpx
import orjson
from rich.console import Console
from rich.table import Table

from workers import broker, db, topology
from workers.bench import load
from workers.bench.http_client import LeanClient
from workers.bench.procfs import CpuMeter, rss_bytes
from workers.bench.runner import infra_groups, per_thousand, prepare, publish_all, wait_depth
from workers.bench.runner import worker_env as bench_env
from workers.bench.suite import bench_place
from workers.gateway.tokens import add_token
from workers.settings import Settings

SOURCE = "order-service"  # the source of load.confirmed_orders
SETTLEMENT = topology.domain_queue("settlement")
# Its own database and vhost: a domain bench running meanwhile drops haodian_bench's rows.
PLACE = "haodian_bench_gateway"


async def _purge(settings: Settings) -> None:
    connection = await broker.connect(str(settings.amqp_url))
    async with connection:
        channel = await connection.channel()
        await (await channel.get_queue(SETTLEMENT)).purge()


async def _wait_queued(settings: Settings, n: int) -> None:
    connection = await broker.connect(str(settings.amqp_url))
    async with connection:
        await wait_depth(await connection.channel(), SETTLEMENT, n, 120)


async def run_bare_publish(settings: Settings, bodies: Sequence[bytes]) -> dict[str, Any]:
    """The same events published straight to haodian.events, 1000 confirms outstanding."""
    connection = await broker.connect(str(settings.amqp_url))
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        meter = CpuMeter({"client": [os.getpid()], **infra_groups()})
        meter.start()
        started = time.monotonic()
        await publish_all(channel, topology.EVENTS, bodies, lambda _: "order.confirmed")
        seconds = time.monotonic() - started
        cpu = meter.stop()
    await _wait_queued(settings, len(bodies))
    await _purge(settings)
    return {"events": len(bodies), "seconds": round(seconds, 3),
            "events_per_s": round(len(bodies) / seconds),
            "cpu_s_per_1000": per_thousand(cpu, len(bodies))}


class GatewayUnderTest:
    """`haodian gateway serve` on a free port of 127.0.0.1, access logs off (warning)."""

    def __init__(self, settings: Settings) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "workers", "gateway", "serve", "--port", str(self.port)],
            env=bench_env(settings))

    async def ready(self, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            while True:
                try:
                    if (await client.get("/openapi.json")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the gateway did not start")
                await asyncio.sleep(0.1)

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(30)


async def run_gateway(gateway: GatewayUnderTest, settings: Settings, token: str,
                      requests: Sequence[tuple[str, bytes]], events: int, concurrency: int
                      ) -> dict[str, Any]:
    """POST every (path, body) with `concurrency` in flight; all must be 202."""
    headers = {"Authorization": f"Bearer {token}"}
    statuses: Counter[int] = Counter()
    pending = iter(requests)
    clients = [await LeanClient.open("127.0.0.1", gateway.port) for _ in range(concurrency)]

    async def sender(client: LeanClient) -> None:
        for path, body in pending:
            content_type = ("application/cloudevents-batch+json" if path != "/events"
                            else "application/cloudevents+json")
            status, _ = await client.post(path, {**headers, "Content-Type": content_type},
                                          body)
            statuses[status] += 1

    meter = CpuMeter({"gateway": [gateway.proc.pid], "client": [os.getpid()],
                      **infra_groups()})
    try:
        meter.start()
        started = time.monotonic()
        await asyncio.gather(*(sender(c) for c in clients))
        seconds = time.monotonic() - started
        cpu = meter.stop()
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    if set(statuses) != {202}:
        raise RuntimeError(f"the gateway did not accept every request: {dict(statuses)}")
    await _wait_queued(settings, events)
    await _purge(settings)
    return {"events": events, "requests": len(requests), "concurrency": concurrency,
            "seconds": round(seconds, 3), "events_per_s": round(events / seconds),
            "cpu_s_per_1000": per_thousand(cpu, events),
            "gateway_rss_mib": round(rss_bytes(gateway.proc.pid)[0] / 2**20, 1)}


async def bench_gateway(settings: Settings, events: int, console: Console,
                        concurrency: int = 32, batch_size: int = 100) -> dict[str, Any]:
    bench = await bench_place(settings, PLACE)
    await prepare(bench)
    conn = await db.connect(str(bench.database_url))
    try:
        _, token = await add_token(conn, SOURCE)
    finally:
        await conn.close()
    now = load.now_utc()
    report: dict[str, Any] = {"domain": "gateway", "events": events}
    console.print(f"[bold]gateway[/bold]: bare AMQP publish of {events} events …")
    report["bare_publish"] = await run_bare_publish(
        bench, [orjson.dumps(e) for e in load.confirmed_orders(events, "bare", now)])
    console.print(f"  bare publish: {report['bare_publish']['events_per_s']} events/s")
    gateway = GatewayUnderTest(bench)
    try:
        await gateway.ready()
        singles = [("/events", orjson.dumps(e)) for e in load.confirmed_orders(events, "one", now)]
        console.print(f"gateway: {events} events, one per request, {concurrency} in flight …")
        report["gateway"] = await run_gateway(gateway, bench, token, singles, events,
                                              concurrency)
        console.print(f"  gateway: {report['gateway']['events_per_s']} events/s")
        batched = list(load.confirmed_orders(events, "batch", now))
        batches = [("/events:batch", orjson.dumps(batched[i:i + batch_size]))
                   for i in range(0, events, batch_size)]
        in_flight = max(1, concurrency // 8)  # 100 events per request already
        console.print(f"gateway: {events} events in batches of {batch_size}, {in_flight} in "
                      "flight …")
        report["gateway_batch"] = await run_gateway(gateway, bench, token, batches, events,
                                                    in_flight)
        report["gateway_batch"]["batch_size"] = batch_size
    finally:
        gateway.stop()
    bare = max(1, report["bare_publish"]["events_per_s"])
    report["ratio"] = round(report["gateway"]["events_per_s"] / bare, 3)
    report["ratio_batch"] = round(report["gateway_batch"]["events_per_s"] / bare, 3)
    return report


def print_gateway_report(report: dict[str, Any], console: Console) -> None:
    table = Table(title=f"haodian bench gateway ({report['events']} order.confirmed events)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    bare, one, batch = report["bare_publish"], report["gateway"], report["gateway_batch"]
    table.add_row("bare AMQP publish events/s (confirms)", str(bare["events_per_s"]))
    table.add_row(f"gateway events/s, one per request ({one['concurrency']} in flight)",
                  str(one["events_per_s"]))
    table.add_row(f"gateway events/s, batches of {batch['batch_size']} "
                  f"({batch['concurrency']} in flight)", str(batch["events_per_s"]))
    table.add_row("ratio gateway / bare (one, batch)",
                  f"{report['ratio']} / {report['ratio_batch']}")
    for who, run in (("bare", bare), ("gateway", one), ("gateway batch", batch)):
        table.add_row(f"CPU s per 1000 events ({who})",
                      ", ".join(f"{k} {v}" for k, v in run["cpu_s_per_1000"].items()))
    table.add_row("gateway RSS (MiB)", str(one["gateway_rss_mib"]))
    console.print(table)
