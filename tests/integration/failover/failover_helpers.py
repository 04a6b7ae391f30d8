"""Helpers of the failover tier: the settlement load, a worker process with its /readyz,
queue figures from the broker, figures from one server of the pair."""

import asyncio
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import orjson
from harness import Bus, event, settings_env, worker_command
from pg_pair import Cluster, free_port

from workers import topology
from workers.settings import Settings

DATABASE = "haodian_failover"  # on the pair, never on the machine's cluster
N_STANDBY_DOWN = 3000  # orders published while the synchronous standby is down
AS_OF = "2021-08-11T00:00:00+08:00"
DUE = "2021-08-03T10:15:00+08:00"  # paid by the run as of AS_OF (T+7)
NOT_DUE = "2021-08-09T10:15:00+08:00"  # scheduled only


def http_get(url: str, timeout_s: float = 2) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def orders(n: int, prefix: str, confirmed_at: str) -> list[dict[str, Any]]:
    return [event("order.confirmed", {
        "order_id": f"{prefix}-{i}", "store_id": f"s-{i % 20}", "buyer_id": f"u-{i % 50}",
        "amount_fen": 10_000 + i, "confirmed_at": confirmed_at}) for i in range(n)]


def run_request(run_id: str) -> dict[str, Any]:
    return event("settlement.run_requested", {"run_id": run_id, "as_of": AS_OF})


def load(n: int) -> list[dict[str, Any]]:
    """n/2 due orders, the run that pays them, n/2 orders not due yet: n + 1 inputs."""
    half = n // 2
    return [*orders(half, "due", DUE), run_request("r-failover"),
            *orders(n - half, "later", NOT_DUE)]


class Worker:
    """`haodian worker --domain settlement` with a metrics port; one process throughout."""

    def __init__(self, settings: Settings, log_path: Path, **env: str) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.log = open(log_path, "ab")
        variables = settings_env(settings)
        variables.update({"HAODIAN_PROBE_INTERVAL_S": "0.5", "HAODIAN_COMMIT_STUCK_S": "3",
                          "HAODIAN_CHUNK_SIZE": str(settings.chunk_size), **env})
        haodian = str(Path(sys.executable).parent / "haodian")
        self.proc = subprocess.Popen(
            [haodian, *worker_command("settlement"), "--metrics-port", str(self.port)],
            env=variables, stdout=self.log, stderr=subprocess.STDOUT)

    def readyz(self) -> tuple[int, dict[str, Any]]:
        try:
            code, body = http_get(f"http://127.0.0.1:{self.port}/readyz", timeout_s=2)
        except OSError:
            return 0, {}
        return code, orjson.loads(body) if body else {}

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def log_count(self, needle: str) -> int:
        return self.log_path.read_text(errors="replace").count(needle)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()
        return int(self.proc.returncode)


def queue_counts(vhost: str, queue: str) -> tuple[int, int]:
    """(ready, unacked) of a queue, as the broker has them."""
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "--no-table-headers",
                          "name", "messages_ready", "messages_unacknowledged"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == queue:
            return int(parts[1]), int(parts[2])
    raise AssertionError(f"no queue {queue} in {vhost}")


def settlement_queue_counts(settings: Settings) -> tuple[int, int]:
    vhost = str(settings.amqp_url).rsplit("/", 1)[1]
    return queue_counts(vhost, topology.domain_queue("settlement"))


async def figures(cluster: Cluster, database: str) -> dict[str, int]:
    """What one server holds: inputs processed, orders, settled orders, runs completed."""
    conn = await asyncpg.connect(host="127.0.0.1", port=cluster.port, user="postgres",
                                 database=database)
    try:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM inbox) AS inbox,"
            " (SELECT count(*) FROM settlement_orders) AS orders,"
            " (SELECT count(*) FROM settlement_orders WHERE status = 'settled') AS settled,"
            " (SELECT count(*) FROM settlement_runs WHERE completed_at IS NOT NULL) AS runs")
        assert row is not None
        return dict(row)
    finally:
        await conn.close()


async def processed_keys(cluster: Cluster, database: str) -> set[str]:
    conn = await asyncpg.connect(host="127.0.0.1", port=cluster.port, user="postgres",
                                 database=database)
    try:
        return {r["event_id"] for r in await conn.fetch("SELECT event_id FROM inbox")}
    finally:
        await conn.close()


async def wait_until(predicate: Callable[[], Awaitable[bool]], timeout_s: float, what: str,
                     every_s: float = 0.05) -> float:
    """Waits for predicate; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            if await predicate():
                return time.monotonic() - started
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            pass
        await asyncio.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def answered(bus: Bus) -> dict[str, Any]:
    """Results collected on the bus: per type the distinct ids, and repeats of one id (a
    result published again after the failover: same id, same bytes)."""
    ids = Counter(r["id"] for r in bus.collected)
    by_type: dict[str, set[str]] = {}
    for r in bus.collected:
        by_type.setdefault(r["type"], set()).add(r["id"])
    return {"distinct": {t: len(v) for t, v in by_type.items()},
            "republished": sum(n - 1 for n in ids.values()),
            "subjects": Counter((r["type"], r["subject"]) for r in bus.collected
                                if ids[r["id"]] >= 1)}


def ledger_verify(settings: Settings) -> subprocess.CompletedProcess[str]:
    """`haodian ledger verify` on whatever server the URL finds writable."""
    haodian = str(Path(sys.executable).parent / "haodian")
    return subprocess.run([haodian, "ledger", "verify"], env=settings_env(settings),
                          capture_output=True, text=True, timeout=120)


def status_json(settings: Settings) -> dict[str, Any]:
    haodian = str(Path(sys.executable).parent / "haodian")
    env = settings_env(settings)
    env["HAODIAN_MANAGEMENT_URL"] = ""
    out = subprocess.run([haodian, "status", "--json", "--domain", "settlement"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    parsed: dict[str, Any] = orjson.loads(out.stdout)
    return parsed


def report(name: str, values: dict[str, Any]) -> None:
    """The figures, on the test's output and in artifacts/ (the closing note's source)."""
    text = orjson.dumps(values, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    print(f"\n{name}: {text}")
    out = Path(os.environ.get("HAODIAN_FAILOVER_REPORT_DIR", "artifacts"))
    out.mkdir(exist_ok=True)
    (out / f"failover-{name}.json").write_text(text + "\n")


async def open_bus(settings: Settings) -> tuple[aio_pika.abc.AbstractConnection, Bus]:
    connection = await aio_pika.connect(str(settings.amqp_url))
    return connection, await Bus.open(connection)


async def is_ready(worker: Worker) -> bool:
    code, _ = await asyncio.to_thread(worker.readyz)
    return code == 200
