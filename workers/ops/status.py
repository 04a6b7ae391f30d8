"""`haodian status`: every domain queue, the lag, the live workers, table sizes, on one screen.

Queue figures come from workers/ops/queues.py (management API or AMQP); lag and live
workers from PostgreSQL (inbox, worker_heartbeats); dead letters are those kept in the
dead_letters table plus those still waiting in the broker to be ingested (the broker is
read first, so a letter moved in between is counted twice rather than missed); overdue
certification reviews from the certification tables. The age of the oldest ready message
is an estimate: quorum queues do not tell a message's age without consuming it, so it is
the age of the newest event committed for the domain (the head of the queue was
published after it)."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from handlers.queries import load_queries
from workers import db, topology
from workers.cli.printable import shown, visible
from workers.ops import queues, rates
from workers.runtime import retention
from workers.runtime.dead_letters import count_held
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
    snap = await queues.snapshot(str(s.amqp_url), management_url,
                                 [*names, topology.UNROUTABLE], ops.management_timeout_s)
    now = datetime.now(UTC)
    conn = await db.connect(str(s.database_url))
    try:
        held = await count_held(conn)
        lag = {r["domain"]: r for r in await conn.fetch(Q.get_domain_lag, ops.lag_window_s)}
        try:
            workers = await live_workers(conn, ops.heartbeat_gone_s)
        except asyncpg.UndefinedTableError:  # not migrated yet: `haodian migrate`
            workers = []
        overdue = int(await conn.fetchval(CERT.count_overdue_reviews, now))
        tables = await retention.table_sizes(conn)
    finally:
        await conn.close()
    report: dict[str, Any] = {
        "generated_at": now.isoformat(), "source": snap.source, "source_note": snap.note,
        "lag_window_s": ops.lag_window_s, "overdue_reviews": overdue, "workers": workers,
        "rate_windows_s": rates.windows_s(ops.lag_window_s),
        "unroutable": _unroutable(snap.queues[topology.UNROUTABLE],
                                  held.get(topology.UNROUTABLE_PLACE, 0)),
        "tables": _with_windows(tables, ops), "domains": {}}
    for d in domains:
        main = snap.queues[topology.domain_queue(d)]
        retry = [snap.queues[topology.retry_queue(d, x)] for x in s.retry_delays_s]
        row = lag.get(d)
        report["domains"][d] = {
            **main.as_json(),
            "dlq": snap.queues[topology.dlq_name(d)].ready + held.get(d, 0),
            "retry": sum(q.ready + (q.unacked or 0) for q in retry),
            "oldest_ready_age_s": _oldest_age(main.ready, row, now),
            "lag_p50_s": _round(row["p50_s"]) if row else None,
            "lag_p99_s": _round(row["p99_s"]) if row else None,
            "committed_per_s": round(row["committed"] / ops.lag_window_s, 2) if row else 0.0,
            "workers": sum(1 for w in workers if d in w["domains"]),
        }
    return report


def _unroutable(queue: queues.QueueFigures, kept: int) -> dict[str, Any]:
    """haodian.unroutable: messages no domain took, waiting in the queue or kept."""
    return {"name": queue.name, "ready": queue.ready, "kept": kept,
            "total": queue.ready + kept}


def _with_windows(tables: list[dict[str, Any]], ops: OpsSettings) -> list[dict[str, Any]]:
    """Each table with its retention window in seconds (None: never pruned)."""
    windows = retention.windows(ops)
    return [{**t, "retention_s": windows.get(t["table"])} for t in tables]


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
                           ("queue figures from: ", "dim"), visible(source))
    table = Table(title="domain queues")
    table.add_column("")
    domains = report["domains"]
    for name in domains:
        table.add_column(name, justify="right")
    windowed = rates.labels(report["lag_window_s"])  # "ack/s (5 s)", "committed/s (5 min)"
    for label, key, unit in _ROWS:
        cells: list[RenderableType] = []
        for d in domains.values():
            style = "red bold" if key == "dlq" and d[key] else ""
            cells.append(Text(_fmt(d[key], unit), style=style))
        table.add_row(windowed.get(key, label), *cells)
    workers = Table(title=f"live workers ({len(report['workers'])})")
    for col in ("host", "pid", "domains", "started", "seen", "messages done"):
        workers.add_column(col, overflow="fold")  # a host or domain list is never cut
    for w in report["workers"]:
        workers.add_row(shown(w["host"]), str(w["pid"]), shown(",".join(w["domains"])),
                        w["started_at"][:19], f"{w['seen_s_ago']} s ago",
                        f"{w['messages_done']:,}")
    u = report["unroutable"]
    unroutable = Text.assemble(
        ("haodian.unroutable (no domain took them): ", "dim"),
        (f"{u['total']:,}", "red bold" if u["total"] else ""),
        ("   waiting ", "dim"), f"{u['ready']:,}", ("   kept ", "dim"), f"{u['kept']:,}")
    footer = Text.assemble(
        ("overdue certification reviews: ", "dim"),
        (str(report["overdue_reviews"]), "red bold" if report["overdue_reviews"] else ""),
        ("   lag over the last ", "dim"), f"{report['lag_window_s']} s",
        ("   oldest ready = age of the newest committed event (estimate)", "dim"))
    return Group(header, table, unroutable, workers, tables_table(report.get("tables", [])),
                 footer)


SHOWN_TABLES = 8  # besides the pruned ones: the largest tables


def shown_tables(tables: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pruned tables, then the largest of the others (the report has every table)."""
    pruned = [t for t in tables if t["retention_s"] is not None]
    kept = [t for t in tables if t["retention_s"] is None][:SHOWN_TABLES]
    return pruned + kept


def size(n_bytes: int) -> str:
    for limit, unit in ((2**10, "B"), (2**20, "KiB"), (2**30, "MiB"), (2**40, "GiB")):
        if n_bytes < limit:
            return f"{n_bytes:,} B" if unit == "B" else f"{n_bytes / (limit / 2**10):,.1f} {unit}"
    return f"{n_bytes / 2**40:,.1f} TiB"


def tables_table(tables: list[dict[str, Any]]) -> Table:
    out = Table(title="tables (size with indexes; rows estimated)")
    for col in ("table", "rows", "size", "retention"):
        out.add_column(col, justify="left" if col == "table" else "right")
    for t in shown_tables(tables):
        out.add_row(t["table"], f"{t['rows_estimate']:,}", size(t["bytes"]),
                    duration(t["retention_s"]) if t["retention_s"] is not None else "kept")
    return out

