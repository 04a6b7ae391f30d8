"""Peak profiles: parsing, the errors a planner sees, and where missing figures come from;
`haodian scale advise --peak` end to end (no servers: the plan needs none)."""

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from workers.ops.peak_profile import (
    BROKER_CORES_PER_1000,
    HOT_STORE_RATIO,
    POSTGRES_CORES_PER_1000,
    SERIAL_RATIO,
    ProfileError,
    load_file,
    parse,
    resolve,
)
from workers.settings import OpsSettings

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "deploy" / "peak-profile.example.yaml"
BIN = Path(sys.executable).parent
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("HAODIAN_")}
MINIMAL = "normal_orders_per_s: 100\npeak_multiplier: 10\npeak_duration_min: 60\n"


def test_the_example_profile_parses() -> None:
    p = load_file(EXAMPLE)
    assert p.normal_orders_per_s == 300 and p.peak_multiplier == 20
    assert p.flagship_share == 0.2 and set(p.domains) == {"settlement"}


def test_json_is_a_profile_too() -> None:
    p = parse(orjson.dumps({"normal_orders_per_s": 1, "peak_multiplier": 2,
                            "peak_duration_min": 3, "domains": {
                                "settlement": {}, "compliance": {"events_per_order": 0.01}}}
                           ).decode())
    assert p.domains["compliance"].events_per_order == 0.01
    assert p.domains["settlement"].events_per_order == 1.0


@pytest.mark.parametrize(("text", "expected"), [
    ("peak_multiplier: 10\npeak_duration_min: 60\n", "normal_orders_per_s: required"),
    (MINIMAL + "flagship_share: 1.5\n", "flagship_share: Input should be less than or equal to 1"),
    (MINIMAL + "flagship_shar: 0.2\n", "flagship_shar: not a profile field"),
    (MINIMAL + "target_lag_s: soon\n", "target_lag_s: Input should be a valid number"),
    (MINIMAL + "domains: {shipping: {}, settlement: {}}\n", "domains: unknown domain shipping"),
    (MINIMAL + "domains: {compliance: {}}\n", "domains: settlement is missing"),
    (MINIMAL + "broker: {replicas: 0}\n", "broker.replicas: Input should be greater than"),
    (MINIMAL + "domains: {settlement: {per_process_per_s: -1}}\n",
     "domains.settlement.per_process_per_s: Input should be greater than 0"),
    ("normal_orders_per_s: [1\n", "profile: not valid YAML or JSON (line 2"),
    ("- 1\n- 2\n", "profile: a mapping of fields is expected, not list"),
])
def test_a_bad_profile_names_the_field_and_the_problem(text: str, expected: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse(text)
    assert any(line.startswith(expected) for line in caught.value.problems), \
        caught.value.problems


def test_missing_figures_come_from_the_docs_without_bench_reports(tmp_path: Path) -> None:
    r = resolve(parse(MINIMAL), OpsSettings(), tmp_path)
    s = r.profile.domains["settlement"]
    assert s.per_process_per_s == 2300 and s.hot_store_per_s == round(HOT_STORE_RATIO * 2300)
    assert s.serial_per_s == round(SERIAL_RATIO * 2300) and s.hot_store_bench_share == 0.5
    assert r.profile.broker.cores_per_1000_per_s == BROKER_CORES_PER_1000
    assert r.profile.postgres.cores_per_1000_per_s == POSTGRES_CORES_PER_1000
    assert "docs/scaling.md" in r.sources["broker.cores_per_1000_per_s"]


def test_missing_figures_come_from_the_bench_reports_when_present(tmp_path: Path) -> None:
    (tmp_path / "bench-settlement.json").write_bytes(orjson.dumps({"worker": {
        "events_per_s": 2100, "cpu_s_per_1000": {"worker": 0.3, "broker": 0.15,
                                                 "database": 0.08},
        "contention": {"batches": {"events_per_handling_s": 4200}}}}))
    (tmp_path / "bench-settlement-hot.json").write_bytes(orjson.dumps({
        "hot_store_share": 0.4, "worker": {
            "events_per_s": 1000, "contention": {"batches": {"events_per_handling_s": 1500}}},
        "two_workers": {"events_per_s": 1200}}))
    r = resolve(parse(MINIMAL), OpsSettings(), tmp_path)
    s = r.profile.domains["settlement"]
    # ceilings as the bench's ratios to one worker times μ: 2 × 2,100 and 1.5 × 2,100
    assert (s.per_process_per_s, s.serial_per_s) == (2100, 4200)
    assert (s.hot_store_per_s, s.hot_store_bench_share) == (3150, 0.4)
    assert r.profile.broker.cores_per_1000_per_s == 0.15
    assert r.profile.postgres.cores_per_1000_per_s == 0.08
    assert "bench-settlement-hot.json" in r.sources["domains.settlement.hot_store_per_s"]


def test_figures_in_the_profile_win(tmp_path: Path) -> None:
    (tmp_path / "bench-settlement.json").write_bytes(orjson.dumps({"worker": {
        "events_per_s": 2100, "cpu_s_per_1000": {"broker": 0.15}}}))
    r = resolve(parse(MINIMAL + "domains: {settlement: {per_process_per_s: 3000}}\n"
                      "broker: {cores_per_1000_per_s: 0.2}\n"), OpsSettings(), tmp_path)
    assert r.profile.domains["settlement"].per_process_per_s == 3000
    assert r.profile.broker.cores_per_1000_per_s == 0.2
    assert "domains.settlement.per_process_per_s" not in r.sources
    assert "broker.cores_per_1000_per_s" not in r.sources


def _advise(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "haodian"), "scale", "advise", *args],
                          env={**CLEAN_ENV, "COLUMNS": "200"}, capture_output=True, text=True,
                          timeout=60)


def test_advise_peak_prints_the_plan_and_the_lag_over_time() -> None:
    done = _advise("--peak", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    for part in ("processes normal / at start / peak", "RabbitMQ nodes", "PostgreSQL cores",
                 "lag over time", "figures not in the profile"):
        assert part in done.stdout


def test_advise_peak_json(tmp_path: Path) -> None:
    profile = tmp_path / "p.json"
    profile.write_text(orjson.dumps({"normal_orders_per_s": 100, "peak_multiplier": 10,
                                     "peak_duration_min": 30, "step_min": 15}).decode())
    done = _advise("--peak", str(profile), "--json")
    assert done.returncode == 0, done.stderr
    plan = orjson.loads(done.stdout)
    assert plan["domains"][0]["domain"] == "settlement" and plan["broker_nodes"] >= 3
    assert [row["minute"] for row in plan["timeline"]] == [0, 15, 30, 45]
    assert plan["profile"]["domains"]["settlement"]["per_process_per_s"] > 0


def test_advise_peak_with_a_bad_profile_exits_2_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL + "flagship_share: -0.1\nstep_mins: 5\n")
    done = _advise("--peak", str(bad))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "flagship_share: Input should be greater than or equal to 0" in done.stderr
    assert "step_mins: not a profile field" in done.stderr
    missing = _advise("--peak", str(tmp_path / "none.yaml"))
    assert missing.returncode == 2 and "cannot be read" in missing.stderr
