"""deploy/: every file parses, and names only metrics, queues and commands that exist."""

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY
from typer.testing import CliRunner

import workers.runtime.metrics  # noqa: F401  (registers the worker's metrics)
from workers.cli.app import app
from workers.ops.metrics import REGISTRY as MONITOR_REGISTRY
from workers.registry import DOMAIN_NAMES
from workers.settings import DEFAULT_THROUGHPUT

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
RABBITMQ_METRICS = {"rabbitmq_detailed_queue_messages_ready",
                    "rabbitmq_detailed_queue_messages_unacked",
                    "rabbitmq_detailed_queue_messages", "rabbitmq_detailed_queue_consumers"}


def known_metrics() -> set[str]:
    names = set(RABBITMQ_METRICS)
    for family in [*REGISTRY.collect(), *MONITOR_REGISTRY.collect()]:
        if family.name.startswith("haodian_"):
            names.add(family.name)
            names.update(s.name for s in family.samples)
            names.update(f"{family.name}_{x}" for x in ("bucket", "sum", "count", "total"))
    return names


def metrics_in(expr: str) -> set[str]:
    return set(re.findall(r"\b((?:haodian|rabbitmq)_[a-z_]+)", expr))


def test_alert_rules_cover_the_issue_and_use_real_metrics() -> None:
    rules = [r for g in yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())[
        "groups"] for r in g["rules"]]
    names = {r["alert"] for r in rules}
    assert {"HaodianQueueGrowing", "HaodianQueueConsumersZero", "HaodianDeadLetters",
            "HaodianLagOverTarget"} <= names
    for rule in rules:
        assert rule["for"] and rule["annotations"]["summary"], rule["alert"]
        used = metrics_in(rule["expr"])
        # `up` is Prometheus' own series for every target; any other alert names ours.
        assert used or rule["expr"].startswith("up{"), rule["alert"]
        assert used <= known_metrics(), (rule["alert"], used - known_metrics())


def test_scrape_config_loads_the_rules() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    assert {j["job_name"] for j in config["scrape_configs"]} >= {
        "haodian-workers", "rabbitmq-queues", "haodian-monitor"}


def test_grafana_dashboard_queries_real_metrics() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "haodian-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"] if "expr" in t]
    assert len(exprs) >= 12
    for expr in exprs:
        assert metrics_in(expr) <= known_metrics(), expr


def test_keda_scales_every_domain_queue_with_the_documented_figures() -> None:
    docs = list(yaml.safe_load_all((DEPLOY / "keda" / "scaledobjects.yaml").read_text()))
    scaled = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ScaledObject"}
    assert set(scaled) == {f"haodian-worker-{d}" for d in DOMAIN_NAMES}
    for domain in DOMAIN_NAMES:
        triggers = scaled[f"haodian-worker-{domain}"]["spec"]["triggers"]
        length = next(t for t in triggers if t["metadata"]["mode"] == "QueueLength")
        assert length["metadata"]["queueName"] == f"haodian.{domain}"
        assert int(length["metadata"]["value"]) == int(DEFAULT_THROUGHPUT[domain] * 60)


def test_compose_override_names_existing_services_and_valid_commands() -> None:
    base = yaml.safe_load((DEPLOY.parent / "compose.yaml").read_text())["services"]
    override = yaml.safe_load((DEPLOY / "compose.scale.yaml").read_text())["services"]
    for domain in DOMAIN_NAMES:
        service = override[f"worker-{domain}"]
        assert f"worker-{domain}" in base and service["deploy"]["replicas"] >= 1
        assert service["environment"]["HAODIAN_METRICS_PORT"] == "9100"
    runner = CliRunner()
    for name, service in override.items():
        if service.get("entrypoint") == ["haodian"]:
            result = runner.invoke(app, [*service["command"], "--help"])
            assert result.exit_code == 0, f"{name}: {result.output}"
