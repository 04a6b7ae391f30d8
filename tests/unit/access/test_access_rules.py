"""The pure parts of the role split: broker permission patterns over the topology's names,
table privileges from defaults and exceptions, SCRAM verifiers."""

import re

import pytest

from workers import topology
from workers.access import scram
from workers.access.broker_users import user_specs
from workers.access.names import broker_users
from workers.access.pg_privileges import (
    DML,
    NOTHING,
    READ,
    Part,
    sequence_privileges,
    table_privileges,
)
from workers.registry import DOMAIN_NAMES

SPECS = {s.name: s for s in user_specs(broker_users("hd"), list(DOMAIN_NAMES))}
WORKER, GATEWAY, MONITOR = SPECS["hd_worker"], SPECS["hd_gateway"], SPECS["hd_monitor"]


def allows(pattern: str, name: str) -> bool:
    return re.search(pattern, name) is not None


@pytest.mark.parametrize(("name", "configure", "write", "read"), [
    ("haodian.events", True, False, True),
    ("haodian.results", True, True, False),
    ("haodian.settlement", True, True, True),
    ("haodian.settlement.dlq", True, True, False),
    ("haodian.settlement.retry.600s", True, True, True),
    ("haodian.settlement.retry.s", False, False, False),
    ("haodian.intruder", False, False, False),
    ("xhaodian.events", False, False, False),
    ("haodian.eventsx", False, False, False),
])
def test_worker_permissions_cover_exactly_the_topology(name: str, configure: bool, write: bool,
                                                       read: bool) -> None:
    p = WORKER.permissions
    assert (allows(p.configure, name), allows(p.write, name), allows(p.read, name)) == (
        configure, write, read)


def test_every_declared_name_is_the_workers_to_configure() -> None:
    declared = topology.build_topology([(d, ()) for d in DOMAIN_NAMES], (1, 5, 30, 120, 600))
    names = [e.name for e in declared.exchanges] + [q.name for q in declared.queues]
    assert all(allows(WORKER.permissions.configure, n) for n in names)


@pytest.mark.parametrize("name", ["haodian.events", "haodian.results", "haodian.deposit",
                                  "haodian.deposit.dlq", "amq.gen-x"])
def test_gateway_writes_only_events_and_monitor_reads_only_dlqs(name: str) -> None:
    assert allows(GATEWAY.permissions.write, name) == (name == "haodian.events")
    assert not allows(GATEWAY.permissions.read, name)
    assert not allows(GATEWAY.permissions.configure, name)
    assert allows(MONITOR.permissions.read, name) == name.endswith(".dlq")
    assert not allows(MONITOR.permissions.configure, name)
    assert MONITOR.tags == "monitoring"


@pytest.mark.parametrize(("table", "part", "expected"), [
    ("inbox", Part.RUNTIME, DML),
    ("inbox", Part.READONLY, READ),
    ("inbox", Part.GATEWAY, NOTHING),
    ("a_table_from_a_later_migration", Part.RUNTIME, DML),
    ("policies", Part.RUNTIME, READ),
    ("gateway_tokens", Part.RUNTIME, NOTHING),
    ("gateway_tokens", Part.READONLY, NOTHING),
    ("gateway_tokens", Part.GATEWAY, frozenset({"SELECT", "INSERT", "UPDATE"})),
    ("dlq_audit", Part.READONLY, frozenset({"SELECT", "INSERT"})),
    ("dlq_audit", Part.RUNTIME, frozenset({"SELECT", "DELETE"})),  # retention prunes it
])
def test_table_privileges_are_the_default_unless_listed(table: str, part: Part,
                                                        expected: frozenset[str]) -> None:
    assert table_privileges(table, part) == expected


def test_a_sequence_follows_insert_on_its_table() -> None:
    assert sequence_privileges("dlq_audit", Part.READONLY) == {"USAGE"}
    assert sequence_privileges("dlq_audit", Part.RUNTIME) == NOTHING
    assert sequence_privileges("outbox", Part.RUNTIME) == {"USAGE"}
    assert sequence_privileges(None, Part.RUNTIME) == {"USAGE"}
    assert sequence_privileges(None, Part.READONLY) == NOTHING


def test_scram_verifier_matches_its_password_only() -> None:
    made = scram.scram_verifier("s3cret", salt=b"0123456789abcdef")
    assert made.startswith("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$")
    assert scram.matches("s3cret", made)
    assert not scram.matches("s3cret!", made)
    assert not scram.matches("s3cret", None)
    assert not scram.matches("s3cret", "md5abcdef")
