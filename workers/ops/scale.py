"""`haodian scale advise`: how many worker processes each domain needs.

With n processes draining μ events/s each, a backlog Q under arrivals λ empties in
Q / (nμ − λ) seconds. Keeping that under the target lag S and the processes at most
80 % busy gives

    n = ceil(max(λ / (0.8 μ), (Q / S + λ) / μ)), at least 1.

λ is measured, not asked of the broker's 5-second statistics: two passive declares
`window_s` apart give the change in ready messages, the inbox gives what was committed
meanwhile, and arrivals = (change + committed) / elapsed. μ is the per-process figure
of `haodian bench` (HAODIAN_THROUGHPUT_PER_PROCESS, else artifacts/bench-<domain>.json,
else the defaults measured on the 2-core development machine)."""

import asyncio
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from handlers.queries import load_queries
from workers import db, topology
from workers.ops import queues
from workers.ops.metrics import ARRIVAL, RECOMMENDED
from workers.settings import OpsSettings

Q = load_queries("ops")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
UTILISATION = 0.8

@dataclass(frozen=True)
class Advice:
    domain: str
    depth: int
    arrival_per_s: float
    throughput_per_process: float
    target_lag_s: float
    processes: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def processes_needed(depth: int, arrival_per_s: float, per_process: float,
                     target_lag_s: float) -> int:
    keep_up = arrival_per_s / (UTILISATION * per_process)
    drain = (depth / target_lag_s + arrival_per_s) / per_process
    return max(1, math.ceil(max(keep_up, drain) - 1e-9))


def throughput(domain: str, ops: OpsSettings, artifacts: Path = ARTIFACTS) -> float:
    """Events/s per process: the setting when given, else the bench report, else the default."""
    if "throughput_per_process" in ops.model_fields_set and domain in ops.throughput_per_process:
        return ops.throughput_per_process[domain]
    report = artifacts / f"bench-{domain}.json"
    if report.exists():
        try:
            return float(orjson.loads(report.read_bytes())["worker"]["events_per_s"])
        except (KeyError, TypeError, ValueError):
            pass
    return ops.throughput_per_process.get(domain, 1000.0)


async def _depths(amqp_url: str, domains: Sequence[str]) -> dict[str, int]:
    names = [topology.domain_queue(d) for d in domains]
    found = await queues.from_amqp(amqp_url, names)
    return {d: found[topology.domain_queue(d)].ready for d in domains}


async def measure(amqp_url: str, database_url: str, ops: OpsSettings, domains: Sequence[str],
                  target_lag_s: float, window_s: float) -> list[Advice]:
    """Sample, wait window_s, sample again; advise and set the gauges."""
    conn = await db.connect(database_url)
    try:
        t1 = await conn.fetchval("SELECT clock_timestamp()")
        first = await _depths(amqp_url, domains)
        await asyncio.sleep(window_s)
        second = await _depths(amqp_url, domains)
        t2 = await conn.fetchval("SELECT clock_timestamp()")
        done = {r["domain"]: r["committed"]
                for r in await conn.fetch(Q.count_committed_between, t1, t2)}
    finally:
        await conn.close()
    elapsed = max((t2 - t1).total_seconds(), 1e-3)
    advice = []
    for d in domains:
        arrival = max(0.0, (second[d] - first[d] + done.get(d, 0)) / elapsed)
        mu = throughput(d, ops)
        a = Advice(d, second[d], round(arrival, 1), mu, target_lag_s,
                   processes_needed(second[d], arrival, mu, target_lag_s))
        RECOMMENDED.labels(d).set(a.processes)
        ARRIVAL.labels(d).set(a.arrival_per_s)
        advice.append(a)
    return advice
