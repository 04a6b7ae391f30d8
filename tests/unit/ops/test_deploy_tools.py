"""deploy/ checked by the real tools, as an operator's CI would: promtool (config, rules,
rule unit tests), check-jsonschema with the compose specification and KEDA's CRD
schemas, and the Grafana dashboard's structure. No servers: these read files only."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
CRDS = Path(__file__).resolve().parent / "keda-crds"


def tool(name: str, *args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    path = BIN / name
    assert path.exists(), f"{path} is missing: run `bash scripts/setup`"
    return subprocess.run([str(path), *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_prometheus_config_passes_promtool() -> None:
    token = DEPLOY / "prometheus" / "haodian-monitor-token"
    assert token.exists(), ("the monitor token Prometheus reads is missing: "
                            "`haodian monitor-token --output " + str(token) + "`")
    done = tool("promtool", "check", "config", DEPLOY / "prometheus" / "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_alert_rules_pass_promtool_check() -> None:
    done = tool("promtool", "check", "rules", DEPLOY / "prometheus" / "alerts.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_promtool_unit_tests_that_pass() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    cases = yaml.safe_load((DEPLOY / "prometheus" / "alerts_test.yml").read_text())["tests"]
    fired = {t["alertname"] for c in cases for t in c["alert_rule_test"] if t["exp_alerts"]}
    assert fired == alerts, f"alerts without a firing test: {sorted(alerts - fired)}"
    done = tool("promtool", "test", "rules", DEPLOY / "prometheus" / "alerts_test.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_test_rules_fails_on_a_wrong_expectation(tmp_path: Path) -> None:
    """The rule tests can fail: a threshold moved by one breaks them."""
    rules = (DEPLOY / "prometheus" / "alerts.yml").read_text()
    (tmp_path / "alerts.yml").write_text(rules.replace(
        "max(haodian_outbox_oldest_seconds) > 120", "max(haodian_outbox_oldest_seconds) > 900"))
    (tmp_path / "alerts_test.yml").write_text(
        (DEPLOY / "prometheus" / "alerts_test.yml").read_text())
    done = tool("promtool", "test", "rules", tmp_path / "alerts_test.yml")
    assert done.returncode != 0 and "HaodianOutboxStuck" in done.stdout + done.stderr


@pytest.mark.parametrize("compose", ["compose.yaml", "deploy/compose.scale.yaml"])
def test_compose_files_match_the_compose_specification(compose: str) -> None:
    done = tool("check-jsonschema", "--builtin-schema", "vendor.compose-spec", compose)
    assert done.returncode == 0, done.stdout + done.stderr


def strict(schema: Any) -> Any:
    """Kubernetes' strict field validation: an object schema with properties accepts no
    other keys unless it says so (a misspelt `minReplicaCont` is an error, not pruned)."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if ("properties" in out and "additionalProperties" not in out
                and not out.get("x-kubernetes-preserve-unknown-fields")):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def crd_schema(kind: str) -> dict[str, Any]:
    for path in CRDS.glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        if crd["spec"]["names"]["kind"] == kind:
            version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
            schema: dict[str, Any] = strict(version["schema"]["openAPIV3Schema"])
            schema["properties"]["metadata"] = {"type": "object"}
            return schema
    raise AssertionError(f"no CRD for {kind} in {CRDS}")


def keda_objects() -> list[dict[str, Any]]:
    docs = yaml.safe_load_all((DEPLOY / "keda" / "scaledobjects.yaml").read_text())
    return [d for d in docs if d and d["apiVersion"].startswith("keda.sh/")]


def test_keda_objects_match_kedas_crd_schemas(tmp_path: Path) -> None:
    objects = keda_objects()
    assert {o["kind"] for o in objects} == {"ScaledObject", "TriggerAuthentication"}
    for i, obj in enumerate(objects):
        schema, instance = tmp_path / f"{obj['kind']}.json", tmp_path / f"object-{i}.json"
        schema.write_text(json.dumps(crd_schema(obj["kind"])))
        instance.write_text(json.dumps(obj))
        done = tool("check-jsonschema", "--schemafile", schema, instance)
        assert done.returncode == 0, f"{obj['metadata']['name']}: {done.stdout}{done.stderr}"


def test_the_keda_schema_check_catches_a_misspelt_field(tmp_path: Path) -> None:
    scaled = next(o for o in keda_objects() if o["kind"] == "ScaledObject")
    scaled["spec"]["minReplicaCont"] = scaled["spec"].pop("minReplicaCount")
    (tmp_path / "schema.json").write_text(json.dumps(crd_schema("ScaledObject")))
    (tmp_path / "object.json").write_text(json.dumps(scaled))
    done = tool("check-jsonschema", "--schemafile", tmp_path / "schema.json",
                tmp_path / "object.json")
    assert done.returncode == 1 and "minReplicaCont" in done.stdout + done.stderr


def test_grafana_dashboard_is_an_importable_dashboard() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "haodian-dashboard.json").read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    sources = {v["name"]: v["query"] for v in dashboard["templating"]["list"]
               if v["type"] == "datasource"}
    assert set(sources.values()) == {"prometheus", "grafana-postgresql-datasource"}
    for panel in dashboard["panels"]:
        uid, kind = panel["datasource"]["uid"], panel["datasource"]["type"]
        assert uid.startswith("${") and sources.get(uid[2:-1]) == kind, panel["title"]
        for target in panel["targets"]:
            assert target.get("expr") or target.get("rawSql"), panel["title"]
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, panel["title"]
