"""`haodian status`: every domain queue, the lag, the live workers, on one screen.

Queue figures come from workers/ops/queues.py (management API or AMQP); lag and live
workers from PostgreSQL (inbox, worker_heartbeats); overdue certification reviews from
the certification tables. The age of the oldest ready message is an estimate: quorum
queues do not tell a message's age without consuming it, so it is the age of the newest
event committed for the domain (the head of the queue was published after it)."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
from rich.console import Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from handlers.queries import load_queries
from workers import db, topology
from workers.ops import queues
from workers.runtime.heartbeat import live_workers
from workers.settings import OpsSettings, Settings

Q = load_queries("ops")
CERT = load_queries("certification")


def queue_names(domain: str, retry_delays_s: Sequence[int]) -> list[str]:
    return [topology.domain_queue(domain), topology.dlq_name(domain),
            *(topology.retry_queue(domain, d) for d in retry_delays_s)]


async def collect(s: Settings, ops: OpsSettings, domains: Sequence[str],
                  management_url: str | None) -> dict[str, Any]:
    """The status report as plain JSON-able values."""
    names = [n for d in domains for n in queue_names(d, s.retry_delays_s)]
    snap = await queues.snapshot(str(s.amqp_url), management_url, names,
                                 ops.management_timeout_s)
    now = datetime.now(UTC)
    conn = await db.connect(str(s.database_url))
    try:
        lag = {r["domain"]: r for r in await conn.fetch(Q.get_domain_lag, ops.lag_window_s)}
        try:
            workers = await live_workers(conn, ops.heartbeat_gone_s)
        except asyncpg.UndefinedTableError:  # not migrated yet: `haodian migrate`
            workers = []
        overdue = int(await conn.fetchval(CERT.count_overdue_reviews, now))
    finally:
        await conn.close()
    report: dict[str, Any] = {
        "generated_at": now.isoformat(), "source": snap.source, "source_note": snap.note,
        "lag_window_s": ops.lag_window_s, "overdue_reviews": overdue, "workers": workers,
        "domains": {}}
    for d in domains:
        main = snap.queues[topology.domain_queue(d)]
        retry = [snap.queues[topology.retry_queue(d, x)] for x in s.retry_delays_s]
        row = lag.get(d)
        report["domains"][d] = {
            **main.as_json(),
            "dlq": snap.queues[topology.dlq_name(d)].ready,
            "retry": sum(q.ready + (q.unacked or 0) for q in retry),
            "oldest_ready_age_s": _oldest_age(main.ready, row, now),
            "lag_p50_s": _round(row["p50_s"]) if row else None,
            "lag_p99_s": _round(row["p99_s"]) if row else None,
            "committed_per_s": round(row["committed"] / ops.lag_window_s, 2) if row else 0.0,
            "workers": sum(1 for w in workers if d in w["domains"]),
        }
    return report


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def _oldest_age(ready: int, lag_row: Any, now: datetime) -> float | None:
    if ready == 0:
        return 0.0
    if lag_row is None or lag_row["newest_event_time"] is None:
        return None  # nothing consumed within the window: unknown, and worth a look
    newest: datetime = lag_row["newest_event_time"]
    return round(max(0.0, (now - newest).total_seconds()), 1)


def duration(seconds: float) -> str:
    """A duration in the unit a person reads best: 12 ms, 4.2 s, 3.5 min, 2.0 h, 9.1 d."""
    for limit, div, unit in ((1, 0.001, "ms"), (120, 1, "s"), (7200, 60, "min"),
                             (172800, 3600, "h")):
        if seconds < limit:
            return f"{seconds / div:.0f} ms" if unit == "ms" else f"{seconds / div:.1f} {unit}"
    return f"{seconds / 86400:,.1f} d"


def _fmt(value: object, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit == " s" and isinstance(value, float | int):
        return duration(float(value))
    if isinstance(value, float):
        return f"{value:,.1f}{unit}"
    return f"{value:,}{unit}" if isinstance(value, int) else f"{value}{unit}"


_ROWS = (("ready", "ready", ""), ("unacked", "unacked", ""), ("consumers", "consumers", ""),
         ("publish /s", "publish_rate", ""), ("deliver /s", "deliver_rate", ""),
         ("ack /s", "ack_rate", ""), ("DLQ", "dlq", ""), ("retry", "retry", ""),
         ("oldest ready (est.)", "oldest_ready_age_s", " s"), ("lag p50", "lag_p50_s", " s"),
         ("lag p99", "lag_p99_s", " s"), ("committed /s", "committed_per_s", ""),
         ("live workers", "workers", ""))


def render(report: dict[str, Any]) -> RenderableType:
    """The rich screen for one report."""
    source = ("RabbitMQ management API" if report["source"] == "management"
              else f"AMQP passive declares — {report['source_note']}")
    header = Text.assemble(("haodian status ", "bold"), f"at {report['generated_at'][:19]}Z  ",
                           ("queue figures from: ", "dim"), source)
    table = Table(title="domain queues")
    table.add_column("")
    domains = report["domains"]
    for name in domains:
        table.add_column(name, justify="right")
    for label, key, unit in _ROWS:
        cells: list[RenderableType] = []
        for d in domains.values():
            style = "red bold" if key == "dlq" and d[key] else ""
            cells.append(Text(_fmt(d[key], unit), style=style))
        table.add_row(label, *cells)
    workers = Table(title=f"live workers ({len(report['workers'])})")
    for col in ("host", "pid", "domains", "started", "seen", "messages done"):
        workers.add_column(col)
    for w in report["workers"]:
        workers.add_row(w["host"], str(w["pid"]), ",".join(w["domains"]),
                        w["started_at"][:19], f"{w['seen_s_ago']} s ago",
                        f"{w['messages_done']:,}")
    footer = Text.assemble(
        ("overdue certification reviews: ", "dim"),
        (str(report["overdue_reviews"]), "red bold" if report["overdue_reviews"] else ""),
        ("   lag over the last ", "dim"), f"{report['lag_window_s']} s",
        ("   oldest ready = age of the newest committed event (estimate)", "dim"))
    return Group(header, table, workers, footer)


async def watch(s: Settings, ops: OpsSettings, domains: Sequence[str],
                management_url: str | None, interval_s: float, console: Any) -> None:
    """Redraw the screen every interval_s until interrupted."""
    with Live(console=console, auto_refresh=False) as live:
        while True:
            live.update(render(await collect(s, ops, domains, management_url)), refresh=True)
            await asyncio.sleep(interval_s)
