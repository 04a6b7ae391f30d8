"""Errors the event's data causes in PostgreSQL are permanent (DLQ at once); contention and
resource errors are retried; the neighbours of a bad event in its batch still commit."""

import asyncio

import asyncpg
import harness
import orjson
import pytest
from harness import Bus
from probe_domain import CASES, PROBE, TRANSIENT, body, prepare, probe_event, stored_keys

from schema.envelope import CONTENT_TYPE
from workers import topology
from workers.registry import routes_by_type
from workers.runtime.batch import BatchEntry, BatchProcessor, Fate
from workers.runtime.decode import decode
from workers.runtime.worker import Worker
from workers.settings import Settings

DATA_ERRORS = {code: "data_invalid" for code in CASES if code.startswith("22")}
CONSTRAINT_ERRORS = {code: "constraint_violated" for code in CASES if code.startswith("23")}
PERMANENT = {**DATA_ERRORS, **CONSTRAINT_ERRORS}


def entry(key: str, case: str) -> BatchEntry:
    item = decode(body(key, case), CONTENT_TYPE, "probe.run", routes_by_type(PROBE))
    return BatchEntry(body(key, case), "probe.run", 0, item)


async def run_batch(settings: Settings, entries: list[BatchEntry]) -> None:
    pool = await asyncpg.create_pool(str(settings.database_url), min_size=1, max_size=2)
    try:
        await BatchProcessor(PROBE, settings.max_attempts, 100).commit_batch(pool, entries)
    finally:
        await pool.close()


@pytest.mark.parametrize(("code", "reason"), sorted(PERMANENT.items()))
async def test_data_error_rejects_the_event_at_once_and_its_neighbours_commit(
        settings: Settings, code: str, reason: str) -> None:
    await prepare(settings)
    entries = [entry("before", "ok"), entry("bad", code), entry("after", "ok")]
    await run_batch(settings, entries)
    before, bad, after = entries
    assert (bad.fate, bad.reason) == (Fate.REJECT, reason)
    assert bad.detail.startswith(f"SQLSTATE {code}: ")  # the database's own message follows
    assert [e.fate for e in (before, after)] == [Fate.ACK, Fate.ACK]
    assert await stored_keys(settings) == {"before", "after"}
    assert [r.routing_key for r in bad.results] == ["event.rejected"]


@pytest.mark.parametrize("code", TRANSIENT)
async def test_contention_and_resource_errors_are_retried(settings: Settings, code: str
                                                          ) -> None:
    await prepare(settings)
    entries = [entry("before", "ok"), entry("busy", code)]
    await run_batch(settings, entries)
    expected = "database_busy" if code in ("53200", "57014") else "database_conflict"
    assert (entries[1].fate, entries[1].reason) == (Fate.RETRY, expected)
    assert entries[1].detail.startswith(f"SQLSTATE {code}: probe")
    assert entries[0].fate is Fate.ACK and await stored_keys(settings) == {"before"}


async def test_an_unexpected_error_is_still_retried_as_handler_error(settings: Settings
                                                                     ) -> None:
    await prepare(settings)
    entries = [entry("bug", "42P01"), entry("after", "ok")]
    await run_batch(settings, entries)
    assert (entries[0].fate, entries[0].reason) == (Fate.RETRY, "handler_error")
    assert await stored_keys(settings) == {"after"}


async def test_worker_dead_letters_data_errors_at_attempt_0_and_retries_transient_ones(
        bus: Bus, settings: Settings) -> None:
    await prepare(settings)
    quick = harness.test_settings(str(settings.amqp_url), str(settings.database_url),
                          retry_delays_s=(1,))
    events = [probe_event("first", "ok"), probe_event("nan", "22P02"),
              probe_event("twice", "23505"), probe_event("nul", "22021"),
              probe_event("deadlock", "40P01"), probe_event("last", "ok")]
    await bus.publish(*events)
    worker = Worker(quick, [PROBE], burst=True, burst_idle_s=0.3)
    await asyncio.wait_for(worker.run(), 60)
    dead = await bus.take_all(topology.dlq_name(PROBE.name))
    by_id = {m.headers["x-haodian-event-id"]: m for m in dead}
    assert {k: (m.headers["x-haodian-reason"], m.headers["x-haodian-attempt"])
            for k, m in by_id.items()} == {
        "probe-nan": ("data_invalid", 0), "probe-twice": ("constraint_violated", 0),
        "probe-nul": ("data_invalid", 0),
        # retried once (max_attempts 2), then dead-lettered with the transient reason
        "probe-deadlock": ("retries_exhausted", 1)}
    assert str(by_id["probe-deadlock"].headers["x-haodian-detail"]).startswith(
        "database_conflict: SQLSTATE 40P01")
    assert by_id["probe-nan"].body == orjson.dumps(events[1])  # the raw message, intact
    assert await stored_keys(settings) == {"first", "last"}
    results = {r["id"]: r for r in await bus.settle()}.values()  # at least once
    assert sorted(r["subject"] for r in results if r["type"] == "event.rejected") == [
        "probe-deadlock", "probe-nan", "probe-nul", "probe-twice"]
    assert sorted(r["subject"] for r in results if r["type"] == "probe.done") == [
        "first", "last"]
