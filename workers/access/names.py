"""The account names of each part, derived from one prefix (HAODIAN_ROLE_PREFIX).

    PostgreSQL  <prefix>_migrator  owns the schema and its tables (`haodian migrate`)
                <prefix>_runtime   workers: rows, never DDL
                <prefix>_readonly  status, monitor, DLQ tooling: reads (+ the DLQ audit)
                <prefix>_gateway   the HTTP gateway: its token table only
    RabbitMQ    <prefix>_worker    workers (and `haodian migrate`'s topology)
                <prefix>_gateway   publishes to haodian.events only
                <prefix>_monitor   reads DLQs, replays them; management tag `monitoring`
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PgRoles:
    migrator: str
    runtime: str
    readonly: str
    gateway: str

    @property
    def users(self) -> tuple[str, str, str]:
        """The roles that use the tables without owning them."""
        return (self.runtime, self.readonly, self.gateway)

    @property
    def all(self) -> tuple[str, str, str, str]:
        return (self.migrator, self.runtime, self.readonly, self.gateway)


@dataclass(frozen=True)
class BrokerUsers:
    worker: str
    gateway: str
    monitor: str

    @property
    def all(self) -> tuple[str, str, str]:
        return (self.worker, self.gateway, self.monitor)


def pg_roles(prefix: str) -> PgRoles:
    return PgRoles(f"{prefix}_migrator", f"{prefix}_runtime", f"{prefix}_readonly",
                   f"{prefix}_gateway")


def broker_users(prefix: str) -> BrokerUsers:
    return BrokerUsers(f"{prefix}_worker", f"{prefix}_gateway", f"{prefix}_monitor")
