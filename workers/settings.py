"""Configuration from HAODIAN_* environment variables, with working local defaults.

    Settings      connections, batching, retries, logging: every command reads these
    OpsSettings   monitoring, heartbeats, retention, supervisor, status and dashboard
    RoleSettings  passwords `haodian roles apply` gives the PostgreSQL roles and broker users
    load()        reads any of them (and the gateway's own); a bad variable is named
"""

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import orjson
from pydantic import (
    AfterValidator,
    AnyUrl,
    BeforeValidator,
    Field,
    SecretStr,
    UrlConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from workers.db import split_url

AmqpUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["amqp", "amqps"])]
PostgresUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["postgresql", "postgres"])]


def _json(example: str) -> Callable[[Any], Any]:
    """Parses a complex setting's environment text as JSON here rather than in
    pydantic-settings, whose own parse error names no variable and stops at the first."""
    def parse(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            raise ValueError(f"not JSON; write it like {example}") from None
    return parse


def _log_level(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    names = [n.lower() for n in logging.getLevelNamesMapping() if n != "NOTSET"]
    if value.lower() not in names:
        raise ValueError(f"unknown log level; one of {', '.join(sorted(names))}")
    return value.lower()


_HOST = re.compile(r"[A-Za-z0-9._:-]+")


def _host(value: str) -> str:
    if not _HOST.fullmatch(value):
        raise ValueError("not a host name or IP address (e.g. 127.0.0.1 or 0.0.0.0)")
    return value


def _http_url_or_empty(value: str) -> str:
    parts = urlsplit(value)
    if value and (parts.scheme not in ("http", "https") or not parts.hostname):
        raise ValueError("not an http(s) URL such as http://guest:guest@127.0.0.1:15672 "
                         "(or empty for none)")
    return value


LogLevel = Annotated[str, BeforeValidator(_log_level)]
Host = Annotated[str, AfterValidator(_host)]


class Settings(BaseSettings):
    """Everything a worker, the publisher and the tools need; read once at start."""

    model_config = SettingsConfigDict(env_prefix="HAODIAN_", extra="ignore", frozen=True)

    amqp_url: AmqpUrl = Field(default=AmqpUrl("amqp://guest:guest@127.0.0.1:5672/"))
    database_url: PostgresUrl = Field(default=PostgresUrl("postgresql://127.0.0.1:5432/test"))

    prefetch: int = Field(default=1000, ge=1, le=65535)
    batch_size: int = Field(default=500, ge=1, le=10000)
    batch_wait_ms: int = Field(default=10, ge=0, le=10000)
    grace_period_s: float = Field(default=30.0, gt=0)
    db_pool_size: int = Field(default=4, ge=2, le=100)

    # Durable retries: attempt n waits retry_delays_s[n-1]; past the last, the DLQ.
    retry_delays_s: Annotated[tuple[int, ...], NoDecode, BeforeValidator(_json("[1, 5, 30]"))
                              ] = (1, 5, 30, 120, 600)
    # A message redelivered this often by the broker (a worker died on it) is poison.
    max_redeliveries: int = Field(default=5, ge=1)
    chunk_size: int = Field(default=500, ge=1)
    # Workers move their DLQs and haodian.unroutable into the dead_letters table, looking
    # again every dlq_ingest_interval_s while they are empty.
    dlq_ingest: bool = True
    dlq_ingest_interval_s: float = Field(default=1.0, gt=0)

    log_level: LogLevel = "info"
    log_format: Literal["json", "console"] = "json"
    metrics_port: int = Field(default=0, ge=0, le=65535)  # 0 = no metrics server

    # Names of the PostgreSQL roles (<prefix>_migrator, ...) and RabbitMQ users
    # (<prefix>_worker, ...): workers/access/names.py.
    role_prefix: str = Field(default="haodian", pattern=r"^[a-z][a-z0-9_]{0,40}$")

    @field_validator("database_url")
    @classmethod
    def _cache_size_valid(cls, url: AnyUrl) -> AnyUrl:
        split_url(url)  # `?statement_cache_size=` must be a whole number: fail at start
        return url

    @field_validator("retry_delays_s")
    @classmethod
    def _delays_positive(cls, delays: tuple[int, ...]) -> tuple[int, ...]:
        if not delays or any(d <= 0 for d in delays):
            raise ValueError("retry delays must be positive seconds, e.g. [1, 5, 30]")
        return delays

    @property
    def max_attempts(self) -> int:
        return len(self.retry_delays_s) + 1


# Events per second one worker process drains on the 2-core development machine
# (`haodian bench <domain>`, artifacts/bench-*.json); override per deployment with
# HAODIAN_THROUGHPUT_PER_PROCESS='{"settlement": 2300, ...}'.
DEFAULT_THROUGHPUT = {"certification": 2000.0, "compliance": 1500.0, "settlement": 2300.0,
                      "deposit": 2000.0}

# The monitor's chart history holds at most this many samples (3 h at 5 s is 2,160).
MONITOR_HISTORY_MAX_POINTS = 20_000


class OpsSettings(BaseSettings):
    """Monitoring, heartbeat, retention, supervisor and dashboard settings; read once at
    start."""

    model_config = SettingsConfigDict(env_prefix="HAODIAN_", extra="ignore", frozen=True)

    metrics_host: Host = "127.0.0.1"  # 0.0.0.0 where Prometheus scrapes from another host
    probe_interval_s: float = Field(default=5.0, gt=0)
    outbox_stuck_s: float = Field(default=60.0, gt=0)  # oldest unpublished result older = unready

    heartbeat_interval_s: float = Field(default=5.0, gt=0)
    heartbeat_gone_s: float = Field(default=30.0, gt=0)  # not seen for this long = gone
    heartbeat_prune_s: float = Field(default=86400.0, gt=0)  # retention window of heartbeats

    # Retention (workers/runtime/retention.py): windows after which rows are deleted, and
    # the periodic run every worker process attempts (one at a time: an advisory lock).
    retention_enabled: bool = True
    retention_every_s: float = Field(default=3600.0, gt=0)
    retention_outbox_s: float = Field(default=7 * 86400.0, gt=0)  # after publication
    retention_inbox_s: float = Field(default=30 * 86400.0, gt=0)  # the duplicate window
    retention_dlq_audit_s: float = Field(default=365 * 86400.0, gt=0)
    retention_batch_rows: int = Field(default=5000, ge=1, le=100000)  # per transaction
    retention_pause_s: float = Field(default=0.05, ge=0)  # between batches
    retention_lock_timeout_ms: int = Field(default=500, ge=1)
    # VACUUM each table a run pruned, so freed space is reused even where autovacuum is
    # off or behind (the table's size on disk then levels off).
    retention_vacuum: bool = True

    restart_backoff_s: float = Field(default=1.0, gt=0)  # supervisor: first restart delay
    restart_backoff_max_s: float = Field(default=30.0, gt=0)

    management_url: Annotated[str, AfterValidator(_http_url_or_empty)] = (
        "http://guest:guest@127.0.0.1:15672")
    management_timeout_s: float = Field(default=2.0, gt=0)
    lag_window_s: int = Field(default=300, gt=0)  # status: end-to-end lag percentiles over this

    throughput_per_process: Annotated[
        dict[str, Annotated[float, Field(gt=0)]], NoDecode,
        BeforeValidator(_json('{"settlement": 2300}'))] = Field(
            default_factory=lambda: dict(DEFAULT_THROUGHPUT))
    target_lag_s: float = Field(default=60.0, gt=0)

    monitor_host: Host = "127.0.0.1"
    monitor_port: int = Field(default=8765, ge=0, le=65535)
    monitor_token: str | None = None
    # The same token from a file (a compose or Kubernetes secret; Prometheus reads the
    # same file as its bearer credentials). HAODIAN_MONITOR_TOKEN wins when both are set.
    monitor_token_file: Path | None = None
    # The monitor's server-side chart history (workers/ops/monitor/history.py): one sample
    # of every domain's queue figures each _every_s, kept for _keep_s in a ring buffer of at
    # most MONITOR_HISTORY_MAX_POINTS samples (memory is bounded whatever the two say).
    monitor_history_every_s: float = Field(default=5.0, ge=0.2, le=3600)
    monitor_history_keep_s: float = Field(default=3 * 3600.0, gt=0, le=7 * 86400)

    def monitor_secret(self) -> str | None:
        """The dashboard's token: the variable, else the file's first line."""
        if self.monitor_token:
            return self.monitor_token
        if self.monitor_token_file is None:
            return None
        lines = self.monitor_token_file.read_text().splitlines()
        return (lines[0].strip() or None) if lines else None

    @field_validator("monitor_history_keep_s")
    @classmethod
    def _history_bounded(cls, keep_s: float, info: ValidationInfo) -> float:
        every_s = info.data.get("monitor_history_every_s")
        if every_s and keep_s / every_s > MONITOR_HISTORY_MAX_POINTS:
            raise ValueError(f"keeps more than {MONITOR_HISTORY_MAX_POINTS:,} samples at "
                             "HAODIAN_MONITOR_HISTORY_EVERY_S; keep less or sample less often")
        return keep_s

    @field_validator("throughput_per_process")
    @classmethod
    def _known_domains(cls, rates: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(rates) - set(DEFAULT_THROUGHPUT))
        if unknown:
            raise ValueError(f"unknown domain {', '.join(unknown)}; domains are "
                             f"{', '.join(DEFAULT_THROUGHPUT)}")
        return rates


class RoleSettings(BaseSettings):
    """Passwords for `haodian roles apply`; an unset one leaves the account's password as
    it is (a new account then has none: certificate or peer authentication, or set it)."""

    model_config = SettingsConfigDict(env_prefix="HAODIAN_", extra="ignore", frozen=True)

    pg_password_migrator: SecretStr | None = None
    pg_password_runtime: SecretStr | None = None
    pg_password_readonly: SecretStr | None = None
    pg_password_gateway: SecretStr | None = None
    amqp_password_worker: SecretStr | None = None
    amqp_password_gateway: SecretStr | None = None
    amqp_password_monitor: SecretStr | None = None


class SettingsError(Exception):
    """Settings are missing or malformed: `problems` has one line per bad variable, naming
    it (the value itself is never repeated: it may be a secret)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))
        self.problems = problems


S = TypeVar("S", bound=BaseSettings)
_SOURCE_FIELD = re.compile(r'field "([^"]+)"')


def load(model: type[S], **overrides: Any) -> S:
    """`model` from the environment, with the given overrides (None = not overridden);
    a SettingsError names every bad variable and its problem."""
    prefix = str(model.model_config.get("env_prefix", ""))
    try:
        return model(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        by_variable: dict[str, list[str]] = {}
        for e in exc.errors():
            name = f"{prefix}{str(e['loc'][0]).upper()}" if e["loc"] else model.__name__
            where = "".join(f"[{p}]" for p in e["loc"][1:])
            msg = e["msg"].removeprefix("Value error, ")
            by_variable.setdefault(name, []).append(f"{where}: {msg}" if where else msg)
        raise SettingsError([f"{name}: {'; '.join(msgs)}"
                             for name, msgs in by_variable.items()]) from None
    except SourceError as exc:  # a source that parses before validation (a .env file, …)
        found = _SOURCE_FIELD.search(str(exc))
        name = f"{prefix}{found[1].upper()}" if found else model.__name__
        raise SettingsError([f"{name}: cannot be parsed ({exc.__cause__ or exc})"]) from None


def load_settings(**overrides: Any) -> Settings:
    return load(Settings, **overrides)


def load_ops_settings(**overrides: Any) -> OpsSettings:
    return load(OpsSettings, **overrides)


def redact(url: object) -> str:
    """A connection URL fit for logs: the password is replaced."""
    parts = urlsplit(str(url))
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)
