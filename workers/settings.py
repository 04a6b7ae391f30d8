"""Configuration from HAODIAN_* environment variables, with working local defaults.

    Settings      connections, batching, retries, logging: every command reads these
    OpsSettings   monitoring, heartbeats, supervisor, status and dashboard
    load()        reads any of them (and the gateway's own); a bad variable is named
"""

from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import AnyUrl, Field, UrlConstraints, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workers.db import split_url

AmqpUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["amqp", "amqps"])]
PostgresUrl = Annotated[AnyUrl, UrlConstraints(allowed_schemes=["postgresql", "postgres"])]


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
    retry_delays_s: tuple[int, ...] = (1, 5, 30, 120, 600)
    # A message redelivered this often by the broker (a worker died on it) is poison.
    max_redeliveries: int = Field(default=5, ge=1)
    chunk_size: int = Field(default=500, ge=1)

    log_level: str = "info"
    log_format: str = Field(default="json", pattern="^(json|console)$")
    metrics_port: int = Field(default=0, ge=0, le=65535)  # 0 = no metrics server

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


class OpsSettings(BaseSettings):
    """Monitoring, heartbeat, supervisor and dashboard settings; read once at start."""

    model_config = SettingsConfigDict(env_prefix="HAODIAN_", extra="ignore", frozen=True)

    metrics_host: str = "127.0.0.1"  # 0.0.0.0 where Prometheus scrapes from another host
    probe_interval_s: float = Field(default=5.0, gt=0)
    outbox_stuck_s: float = Field(default=60.0, gt=0)  # oldest unpublished result older = unready

    heartbeat_interval_s: float = Field(default=5.0, gt=0)
    heartbeat_gone_s: float = Field(default=30.0, gt=0)  # not seen for this long = gone
    heartbeat_prune_s: float = Field(default=86400.0, gt=0)  # rows older than this are deleted

    restart_backoff_s: float = Field(default=1.0, gt=0)  # supervisor: first restart delay
    restart_backoff_max_s: float = Field(default=30.0, gt=0)

    management_url: str = "http://guest:guest@127.0.0.1:15672"
    management_timeout_s: float = Field(default=2.0, gt=0)
    lag_window_s: int = Field(default=300, gt=0)  # status: end-to-end lag percentiles over this

    throughput_per_process: dict[str, float] = Field(default_factory=lambda: dict(
        DEFAULT_THROUGHPUT))
    target_lag_s: float = Field(default=60.0, gt=0)

    monitor_host: str = "127.0.0.1"
    monitor_port: int = Field(default=8765, ge=0, le=65535)
    monitor_token: str | None = None


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


S = TypeVar("S", bound=BaseSettings)


def load(model: type[S], **overrides: Any) -> S:
    """`model` from the environment, with the given overrides (None = not overridden);
    a SettingsError names every bad variable and its problem."""
    try:
        return model(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        prefix = str(model.model_config.get("env_prefix", ""))
        lines = [f"{prefix}{str(e['loc'][0]).upper() if e['loc'] else ''}: {e['msg']}"
                 for e in exc.errors()]
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(lines)) from None


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
