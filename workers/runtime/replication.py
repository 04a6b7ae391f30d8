"""The primary's replication as the worker and `haodian status` see it.

With `synchronous_standby_names` set, a commit returns only once enough standbys have
flushed it (docs/operations.md, Failover): while they are missing, commits wait, the
worker acks nothing, and /readyz says `sync_standby_present: false`."""

import re
from dataclasses import dataclass
from typing import Any

import asyncpg

from handlers.queries import load_queries

Q = load_queries("runtime")
_COUNT = re.compile(r"^\s*(?:(?:FIRST|ANY)\s+)?(\d+)\s*\(", re.IGNORECASE)


def required_sync_standbys(sync_names: str) -> int:
    """How many synchronous standbys `synchronous_standby_names` asks for (0: none):
    'FIRST 2 (a, b, c)', 'ANY 1 (a, b)', '2 (a, b)' name a number; 'a, b' or '*' mean 1."""
    if not sync_names.strip():
        return 0
    found = _COUNT.match(sync_names)
    return int(found[1]) if found else 1


@dataclass(frozen=True, slots=True)
class ReplicationState:
    server: str  # host:port of the server that answered (the primary)
    sync_names: str
    in_recovery: bool
    can_see: bool  # a member of pg_read_all_stats (pg_monitor): sync_state is shown
    standbys: int
    sync_standbys: int
    replay_lag_s: float | None
    replay_lag_bytes: int | None

    @property
    def sync_required(self) -> int:
        return required_sync_standbys(self.sync_names)

    @property
    def sync_standby_missing(self) -> bool:
        """Commits wait: fewer synchronous standbys stream than the setting needs. Unknown
        (False) to a role that may not see sync_state; `commits_flowing` still tells."""
        return self.can_see and self.sync_standbys < self.sync_required

    def as_json(self) -> dict[str, Any]:
        return {"server": self.server, "synchronous_standby_names": self.sync_names,
                "in_recovery": self.in_recovery,
                "can_see_standbys": self.can_see,
                "standbys": self.standbys, "sync_standbys": self.sync_standbys,
                "sync_required": self.sync_required,
                "sync_standby_missing": self.sync_standby_missing,
                "replay_lag_s": self.replay_lag_s, "replay_lag_bytes": self.replay_lag_bytes}


async def state(conn: asyncpg.Connection) -> ReplicationState:
    row = await conn.fetchrow(Q.get_replication_state)
    assert row is not None
    lag_s = row["replay_lag_s"]
    lag_bytes = row["replay_lag_bytes"]
    return ReplicationState(
        server=str(row["server"]), sync_names=str(row["sync_names"]),
        in_recovery=bool(row["in_recovery"]), can_see=bool(row["can_see"]),
        standbys=int(row["standbys"]), sync_standbys=int(row["sync_standbys"]),
        replay_lag_s=None if lag_s is None else float(lag_s),
        replay_lag_bytes=None if lag_bytes is None else int(lag_bytes))
