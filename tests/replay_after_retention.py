"""Replaying an event whose inbox key retention has deleted: through the real worker.

    outcome = await replay_after_prune(bus, settings, stages, replayed)

runs each stage (publish, then a burst worker over every domain), prunes the inbox and the
outbox with retention itself (windows of a millisecond), publishes `replayed` again with
the same ids and bodies, and returns what the replay did: the business tables' contents
before and after, the result events it caused, and the DLQ messages."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from harness import Bus, run_worker_burst

from workers import topology
from workers.registry import DOMAIN_NAMES
from workers.runtime import retention
from workers.settings import OpsSettings, Settings

# The runtime's own tables: everything else is a business table a replay must not touch.
RUNTIME_TABLES = frozenset({"inbox", "outbox", "dlq_audit", "worker_heartbeats",
                            "schema_migrations", "gateway_tokens"})
INSTANT = OpsSettings(retention_inbox_s=0.001, retention_outbox_s=0.001)


@dataclass
class Replay:
    before: dict[str, str]  # table -> md5 of its ordered rows
    after: dict[str, str]
    earlier_results: list[dict[str, Any]]
    results: list[dict[str, Any]]  # caused by the replay
    dead_letters: list[tuple[str, str]]  # (domain, reason)
    retrying: int  # messages waiting in a retry queue


async def fingerprint(settings: Settings) -> dict[str, str]:
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        names = [r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        return {n: await conn.fetchval(
            f'SELECT coalesce(md5(string_agg(t::text, \'|\' ORDER BY t::text)), \'\') '
            f'FROM "{n}" t') for n in names if n not in RUNTIME_TABLES}
    finally:
        await conn.close()


async def prune_all(settings: Settings) -> None:
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        # A worker's periodic run may hold the retention lock for a moment: wait it out.
        for _ in range(100):
            report = await retention.prune(conn, INSTANT)
            if not report.locked_out:
                break
            await asyncio.sleep(0.1)
        assert report.complete, report.as_json()
        assert await conn.fetchval("SELECT count(*) FROM inbox") == 0
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        await conn.close()


async def process(bus: Bus, settings: Settings, events: Sequence[dict[str, Any]]) -> None:
    await bus.publish(*events)
    await run_worker_burst(settings, list(DOMAIN_NAMES))
    await bus.settle(0.3)


async def replay_after_prune(bus: Bus, settings: Settings,
                             stages: Sequence[Sequence[dict[str, Any]]],
                             replayed: Sequence[dict[str, Any]]) -> Replay:
    for stage in stages:
        await process(bus, settings, stage)
    earlier = list(bus.collected)
    await prune_all(settings)
    before = await fingerprint(settings)
    await process(bus, settings, replayed)
    dead = []
    for domain in DOMAIN_NAMES:
        for m in await bus.take_all(topology.dlq_name(domain)):
            dead.append((domain, str((m.headers or {}).get("x-haodian-reason"))))
    retrying = sum([await bus.depth(topology.retry_queue(d, delay))
                    for d in DOMAIN_NAMES for delay in settings.retry_delays_s])
    return Replay(before, await fingerprint(settings), earlier, bus.collected[len(earlier):],
                  dead, retrying)


def answered(results: Sequence[dict[str, Any]]) -> list[str]:
    """The distinct result events (a result may be published twice: same id), by type."""
    return sorted({r["id"]: r["type"] for r in results}.values())


def assert_no_second_effect(replay: Replay) -> None:
    """Business tables unchanged, nothing dead-lettered, and any answer is one already
    published: the same id and the same bytes as before."""
    assert replay.after == replay.before
    assert replay.dead_letters == []
    assert replay.retrying == 0
    earlier = {r["id"]: r for r in replay.earlier_results}
    for result in replay.results:
        assert earlier.get(result["id"]) == result, result
