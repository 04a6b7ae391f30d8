"""Settings of the operations side (HAODIAN_* variables), apart from the worker's own."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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


def load_ops_settings(**overrides: object) -> OpsSettings:
    return OpsSettings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
