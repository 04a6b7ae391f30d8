"""Configuration from HAODIAN_* environment variables, with working local defaults."""

from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from pydantic import AnyUrl, Field, UrlConstraints, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    @field_validator("retry_delays_s")
    @classmethod
    def _delays_grow(cls, delays: tuple[int, ...]) -> tuple[int, ...]:
        if not delays or any(d <= 0 for d in delays):
            raise ValueError("retry delays must be positive seconds, e.g. [1, 5, 30]")
        return delays

    @property
    def max_attempts(self) -> int:
        return len(self.retry_delays_s) + 1


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = "HAODIAN_" + "_".join(str(p) for p in error["loc"][:1]).upper()
            lines.append(f"{name}: {error['msg']}")
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(lines)) from None


def redact(url: object) -> str:
    """A connection URL fit for logs: the password is replaced."""
    parts = urlsplit(str(url))
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)
