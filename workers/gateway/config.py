"""The gateway's own settings, from HAODIAN_GATEWAY_* variables with working defaults."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from workers.settings import load


class GatewaySettings(BaseSettings):
    """Limits and timeouts of `haodian gateway serve`; connections come from Settings."""

    model_config = SettingsConfigDict(env_prefix="HAODIAN_GATEWAY_", extra="ignore",
                                      frozen=True)

    # One request's body, whatever the mode (a batch counts as one request).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    max_batch_events: int = Field(default=1000, ge=1, le=100_000)
    # How long a request waits for the broker's confirm before answering 503.
    confirm_timeout_s: float = Field(default=5.0, gt=0, le=120)
    # A failed connection attempt is not retried for this long: requests answer 503 at once.
    reconnect_backoff_s: float = Field(default=1.0, ge=0, le=60)
    # A token seen valid is trusted this long; a revocation takes effect within it.
    token_cache_s: float = Field(default=5.0, ge=0, le=3600)
    db_pool_size: int = Field(default=4, ge=1, le=100)

    # Slow or idle clients: a request's headers must arrive within header_timeout_s of
    # its first byte (or of the connection opening), its body within body_timeout_s of
    # the headers; an idle keep-alive connection is closed after keep_alive_s.
    header_timeout_s: float = Field(default=10.0, gt=0, le=300)
    body_timeout_s: float = Field(default=30.0, gt=0, le=600)
    keep_alive_s: int = Field(default=5, ge=1, le=300)
    max_header_bytes: int = Field(default=32 * 1024, ge=1024, le=1024 * 1024)
    # Open connections (and requests in flight) at once; beyond, requests answer 503.
    max_connections: int = Field(default=500, ge=1, le=100_000)


def load_gateway_settings(**overrides: object) -> GatewaySettings:
    return load(GatewaySettings, **overrides)
