"""The profile of a shopping-festival peak (`haodian scale advise --peak FILE`): what the
business expects, and the measured costs the plan is built from.

A profile is YAML or JSON (deploy/peak-profile.example.yaml documents every field). The
measured figures may be left out: `resolve` fills them in from the bench reports in
artifacts/ when they exist, else from the medians of docs/scaling.md, and says where
each figure came from."""

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from workers.ops.scale import ARTIFACTS, throughput
from workers.settings import DEFAULT_THROUGHPUT, OpsSettings

# docs/scaling.md §1 (medians of six runs, 2-core development machine) and §6 (the
# hot-store bench): the defaults when neither the profile nor artifacts/ has a figure.
DOCS = "docs/scaling.md"
BROKER_CORES_PER_1000 = 0.12
POSTGRES_CORES_PER_1000 = 0.07
# Settlement's ceilings as multiples of one worker's rate measured in the same run (a
# ratio survives a noisy machine; absolute rates do not): events per second of one
# worker's batch handling ÷ its events/s, spread orders and half of them one store's.
SERIAL_RATIO = 2.2
HOT_STORE_RATIO = 2.2
HOT_STORE_BENCH_SHARE = 0.5


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DomainProfile(Strict):
    events_per_order: float = Field(default=1.0, gt=0, le=1000)
    per_process_per_s: float | None = Field(default=None, gt=0)
    serial_per_s: float | None = Field(default=None, gt=0)
    hot_store_per_s: float | None = Field(default=None, gt=0)
    hot_store_bench_share: float | None = Field(default=None, gt=0, le=1)


class BrokerProfile(Strict):
    cores_per_1000_per_s: float | None = Field(default=None, gt=0)
    cores_per_node: float = Field(default=4, gt=0)
    replicas: int = Field(default=3, ge=1, le=7)
    queue_leader_max_per_s: float | None = Field(default=None, gt=0)


class PostgresProfile(Strict):
    cores_per_1000_per_s: float | None = Field(default=None, gt=0)
    pool_per_process: int = Field(default=4, ge=1, le=100)


def _settlement_only() -> dict[str, DomainProfile]:
    return {"settlement": DomainProfile()}


class PeakProfile(Strict):
    normal_orders_per_s: float = Field(gt=0)
    peak_multiplier: float = Field(ge=1, le=1000)
    peak_duration_min: float = Field(gt=0, le=7 * 24 * 60)
    flagship_share: float = Field(default=0.0, ge=0, le=1)
    target_lag_s: float = Field(default=60.0, gt=0)
    scale_up_delay_s: float = Field(default=0.0, ge=0, le=24 * 3600)
    step_min: float = Field(default=15.0, ge=1, le=24 * 60)
    domains: dict[str, DomainProfile] = Field(default_factory=_settlement_only)
    broker: BrokerProfile = Field(default_factory=BrokerProfile)
    postgres: PostgresProfile = Field(default_factory=PostgresProfile)

    @field_validator("domains")
    @classmethod
    def _known_domains(cls, domains: dict[str, DomainProfile]) -> dict[str, DomainProfile]:
        unknown = sorted(set(domains) - set(DEFAULT_THROUGHPUT))
        if unknown:
            raise ValueError(f"unknown domain {', '.join(unknown)}; domains are "
                             f"{', '.join(DEFAULT_THROUGHPUT)}")
        if "settlement" not in domains:
            raise ValueError("settlement is missing: orders are settlement events "
                             "(give it at least `settlement: {}`)")
        return domains


class ProfileError(Exception):
    """A profile that cannot be planned with: one line per problem, field first."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse(text: str, name: str = "profile") -> PeakProfile:
    """A profile from YAML or JSON text (JSON is YAML); ProfileError names each bad field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ProfileError([f"{name}: not valid YAML or JSON{where}: "
                            f"{getattr(exc, 'problem', None) or exc}"]) from None
    if not isinstance(raw, dict):
        raise ProfileError([f"{name}: a mapping of fields is expected, not "
                            f"{type(raw).__name__}"])
    try:
        return PeakProfile.model_validate(raw)
    except ValidationError as exc:
        raise ProfileError([_problem(e) for e in exc.errors()]) from None


def _problem(error: Any) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "profile"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "not a profile field (deploy/peak-profile.example.yaml lists them)"
    elif error["type"] == "missing":
        message = "required"
    return f"{where}: {message}"


def load_file(path: Path) -> PeakProfile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError([f"{path}: cannot be read ({exc.__class__.__name__}: "
                            f"{getattr(exc, 'strerror', None) or exc})"]) from None
    return parse(text, str(path))


@dataclass(frozen=True)
class Resolved:
    """A profile with every measured figure filled in, and where each came from."""

    profile: PeakProfile
    sources: dict[str, str] = field(default_factory=dict)


def _report(artifacts: Path, name: str) -> dict[str, Any] | None:
    path = artifacts / name
    if not path.exists():
        return None
    try:
        found = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        return None
    return found if isinstance(found, dict) else None


def _number(report: dict[str, Any] | None, *keys: str) -> float | None:
    value: Any = report
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok and math.isfinite(value) and value > 0 else None


def resolve(profile: PeakProfile, ops: OpsSettings, artifacts: Path = ARTIFACTS) -> Resolved:
    """Fill in every figure the profile left out: artifacts/bench-settlement.json (the
    worker's run: per-process rate, broker and database CPU per event),
    artifacts/bench-settlement-hot.json (the hot-store run), else docs/scaling.md."""
    sources: dict[str, str] = {}
    spread = _report(artifacts, "bench-settlement.json")
    hot = _report(artifacts, "bench-settlement-hot.json")
    domains: dict[str, DomainProfile] = {}
    for name, d in profile.domains.items():
        update: dict[str, Any] = {}
        if d.per_process_per_s is None:
            update["per_process_per_s"] = throughput(name, ops, artifacts)
            sources[f"domains.{name}.per_process_per_s"] = _throughput_source(
                name, ops, artifacts)
        if name == "settlement":
            mu = update.get("per_process_per_s") or d.per_process_per_s or 0.0
            if d.serial_per_s is None:
                ratio, origin = _ceiling_ratio(spread, artifacts / "bench-settlement.json",
                                               SERIAL_RATIO)
                update["serial_per_s"] = round(ratio * mu)
                sources["domains.settlement.serial_per_s"] = f"{ratio:.2f} × μ: {origin}"
            if d.hot_store_per_s is None:
                ratio, origin = _ceiling_ratio(hot, artifacts / "bench-settlement-hot.json",
                                               HOT_STORE_RATIO)
                measured = _number(hot, "hot_store_share") if "bench-settlement-hot" in origin \
                    else HOT_STORE_BENCH_SHARE
                update["hot_store_per_s"] = round(ratio * mu)
                sources["domains.settlement.hot_store_per_s"] = f"{ratio:.2f} × μ: {origin}"
                if d.hot_store_bench_share is None:
                    update["hot_store_bench_share"] = measured
                    sources["domains.settlement.hot_store_bench_share"] = (
                        origin.split(" (")[0] + " (the bench's share)")
        if d.hot_store_per_s is not None and d.hot_store_bench_share is None:
            update["hot_store_bench_share"] = HOT_STORE_BENCH_SHARE
            sources[f"domains.{name}.hot_store_bench_share"] = "assumed: the bench's default 0.5"
        domains[name] = d.model_copy(update=update)
    broker, postgres = profile.broker, profile.postgres
    if broker.cores_per_1000_per_s is None:
        measured = _number(spread, "worker", "cpu_s_per_1000", "broker")
        broker = broker.model_copy(update={
            "cores_per_1000_per_s": measured or BROKER_CORES_PER_1000})
        sources["broker.cores_per_1000_per_s"] = (
            str(artifacts / "bench-settlement.json") if measured else f"{DOCS} §1 (median)")
    if broker.queue_leader_max_per_s is None:
        assert broker.cores_per_1000_per_s is not None
        broker = broker.model_copy(update={
            "queue_leader_max_per_s": round(0.8 * 1000 / broker.cores_per_1000_per_s)})
        sources["broker.queue_leader_max_per_s"] = (
            "assumed: one core per queue leader at 80 % (not measured)")
    if postgres.cores_per_1000_per_s is None:
        measured = _number(spread, "worker", "cpu_s_per_1000", "database")
        postgres = postgres.model_copy(update={
            "cores_per_1000_per_s": measured or POSTGRES_CORES_PER_1000})
        sources["postgres.cores_per_1000_per_s"] = (
            str(artifacts / "bench-settlement.json") if measured else f"{DOCS} §1 (median)")
    return Resolved(profile.model_copy(update={"domains": domains, "broker": broker,
                                               "postgres": postgres}), sources)


def _ceiling_ratio(report: dict[str, Any] | None, path: Path, default: float
                   ) -> tuple[float, str]:
    """One worker's events per second of batch handling ÷ its events/s, from a bench
    report; the docs' median without one."""
    serial = _number(report, "worker", "contention", "batches", "events_per_handling_s")
    rate = _number(report, "worker", "events_per_s")
    if serial and rate:
        return serial / rate, f"{path} (one worker's batch handling)"
    return default, f"{DOCS} §6 (median ratio of the hot-store bench runs)"


def _throughput_source(domain: str, ops: OpsSettings, artifacts: Path) -> str:
    if "throughput_per_process" in ops.model_fields_set and domain in ops.throughput_per_process:
        return "HAODIAN_THROUGHPUT_PER_PROCESS"
    if (artifacts / f"bench-{domain}.json").exists():
        return str(artifacts / f"bench-{domain}.json")
    return "OpsSettings default (docs/scaling.md §1: rules.md §5's target)"
