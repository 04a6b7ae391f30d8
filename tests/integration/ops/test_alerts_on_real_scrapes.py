"""deploy/prometheus/alerts.yml against what the real processes export: a worker that
processed events, the monitor (in the same process, so the worker's default registry is
right there to leak), and the broker's rabbitmq_prometheus plugin. Every metric the
alerts and their unit tests name exists in those scrapes, and promtool, fed the scrapes
as steady series, keeps every alert silent for the healthy worker and for the monitor."""

import asyncio
import contextlib
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
import yaml
from harness import Bus
from ops_helpers import aget, applications, free_port, sample, wait_until
from prometheus_client.parser import text_string_to_metric_families

from workers.ops.monitor.app import Monitor, create_app
from workers.registry import resolve
from workers.runtime.worker import Worker
from workers.settings import OpsSettings, Settings

PROMETHEUS = Path(__file__).resolve().parents[3] / "deploy" / "prometheus"
TOKEN = "token-of-the-alert-test"
STEPS = 300  # five hours of one-minute samples: past every alert's `for` and window


def metric_names(text: str) -> set[str]:
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}


def names_in(expr: str) -> set[str]:
    return set(re.findall(r"\b((?:haodian|rabbitmq)_[a-z_]+)", expr))


@pytest.fixture
async def worker_scrape(settings: Settings, bus: Bus) -> AsyncIterator[tuple[str, str]]:
    """A certification worker's /metrics before and after it processed 40 events and ran
    retention once (the counters' pace comes from the difference: this test process's
    registry also holds what earlier tests' workers counted)."""
    s = settings.model_copy(update={"metrics_port": free_port()})
    worker = Worker(s, resolve(["certification"]))
    worker.monitoring.ops = OpsSettings(probe_interval_s=0.2)
    task = asyncio.create_task(worker.run())
    base = f"http://127.0.0.1:{s.metrics_port}"
    try:
        await wait_until(lambda: _status_ok(base + "/readyz"), 20, "the worker to be ready")
        before = (await aget(base + "/metrics"))[1].decode()
        await bus.publish(*applications(40, "alerts"))
        await bus.wait_results(40)

        async def settled() -> bool:
            text = (await aget(base + "/metrics"))[1].decode()
            return (sample(text, "haodian_event_lag_seconds_count", domain="certification") >= 40
                    and sample(text, "haodian_retention_last_success_timestamp_seconds") > 0)

        await wait_until(settled, 20, "40 lags and a retention run in /metrics")
        yield before, (await aget(base + "/metrics"))[1].decode()
    finally:
        worker.request_stop()
        assert await asyncio.wait_for(task, 30) == 0


async def _status_ok(url: str) -> bool:
    return (await aget(url))[0] == 200


@pytest.fixture
async def monitor_scrape(settings: Settings) -> AsyncIterator[str]:
    port = free_port()
    monitor = Monitor(settings, OpsSettings(), TOKEN, ["certification", "settlement"], None)
    server = uvicorn.Server(uvicorn.Config(create_app(monitor), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    url = f"http://127.0.0.1:{port}/metrics"
    auth = {"Authorization": f"Bearer {TOKEN}"}

    async def counted() -> bool:
        status, body = await aget(url, auth)
        return status == 200 and sample(
            body.decode(), "haodian_dead_letters_refreshed_timestamp_seconds") > 0

    try:
        await wait_until(counted, 20, "the monitor's first dead-letter count")
        yield (await aget(url, auth))[1].decode()
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


async def broker_scrape(settings: Settings) -> str:
    """The plugin's figures once they show the worker's consumer (the plugin refreshes its
    per-queue figures every few seconds)."""
    vhost = urlsplit(str(settings.amqp_url)).path.lstrip("/") or "/"
    url = ("http://127.0.0.1:15692/metrics/detailed?family=queue_coarse_metrics"
           f"&family=queue_consumer_count&vhost={vhost}")
    found: list[str] = []

    async def consumed() -> bool:
        status, body = await aget(url)
        assert status == 200, "rabbitmq_prometheus is not enabled: run `bash scripts/setup`"
        found[:] = [body.decode()]
        return sample(found[0], "rabbitmq_detailed_queue_consumers",
                      queue="haodian.certification") >= 1

    await wait_until(consumed, 30, "the broker plugin to show the worker's consumer", 0.5)
    return found[0]


def only_queues(text: str, prefix: str) -> str:
    """The broker's lines for one domain's queues (the others have no worker here)."""
    return "\n".join(line for line in text.splitlines()
                     if line.startswith("#") or f'queue="{prefix}' in line) + "\n"


def values_of(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(text) for s in f.samples}


def series(text: str, job: str, instance: str, before: str = ""
           ) -> Iterable[dict[str, str]]:
    """Each sample as a promtool input series, steady as a healthy target is: gauges keep
    their value, counters grow each minute by what they grew between `before` and `text`,
    timestamps stay current."""
    earlier = values_of(before)
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            pace = s.value - earlier.get((s.name, tuple(sorted(s.labels.items()))), 0.0)
            labels = {**s.labels, "job": job, "instance": instance}
            body = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items()))
            if s.name.endswith("_timestamp_seconds") or s.name.endswith("_created"):
                values = f"0+60x{STEPS}"  # "just now" at every step
            elif family.type in ("counter", "histogram", "summary") and not s.name.endswith(
                    "_created"):
                values = f"{s.value:g}+{pace:g}x{STEPS}"
            else:
                values = f"{s.value:g}x{STEPS}"
            yield {"series": f"{s.name}{{{body}}}", "values": values}
    yield {"series": f'up{{job="{job}", instance="{instance}"}}', "values": f"1x{STEPS}"}


async def test_alerts_name_real_metrics_and_stay_silent_for_healthy_targets(
        settings: Settings, worker_scrape: tuple[str, str], monitor_scrape: str,
        tmp_path: Path) -> None:
    worker_before, worker_after = worker_scrape
    broker = await broker_scrape(settings)
    exported = metric_names(worker_after) | metric_names(monitor_scrape) | metric_names(broker)

    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    alerts = [r for g in rules["groups"] for r in g["rules"]]
    for rule in alerts:
        missing = names_in(rule["expr"]) - exported
        assert not missing, f"{rule['alert']} names metrics nobody exports: {missing}"
    cases = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
    for case in cases:
        for s in case["input_series"]:
            name = s["series"].split("{")[0]
            assert name == "up" or name in exported, f"{case['name']}: {name}"

    # The monitor serves its own figures, none of the worker's.
    monitor_names = metric_names(monitor_scrape)
    assert "haodian_worker_ready" in metric_names(worker_after)
    assert not {"haodian_worker_ready", "haodian_outbox_oldest_seconds",
                "haodian_outbox_backlog", "haodian_event_lag_seconds_count"} & monitor_names
    assert {"haodian_dead_letters_place_total",
            "haodian_dead_letters_refreshed_timestamp_seconds"} <= monitor_names

    inputs = [*series(worker_after, "haodian-workers", "worker:9100", worker_before),
              *series(monitor_scrape, "haodian-monitor", "monitor:8765"),
              *series(only_queues(broker, "haodian.certification"), "rabbitmq-queues",
                      "rabbitmq:15692")]
    (tmp_path / "alerts.yml").write_text((PROMETHEUS / "alerts.yml").read_text())
    silent = [{"eval_time": f"{m}m", "alertname": r["alert"], "exp_alerts": []}
              for m in (5, 30, 240) for r in alerts]
    (tmp_path / "healthy_test.yml").write_text(yaml.safe_dump({
        "rule_files": ["alerts.yml"], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": inputs, "alert_rule_test": silent}]}))
    done = await asyncio.to_thread(
        subprocess.run, [str(Path(sys.executable).parent / "promtool"), "test", "rules",
                         str(tmp_path / "healthy_test.yml")], capture_output=True, text=True,
        timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
