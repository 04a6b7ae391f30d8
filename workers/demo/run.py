"""`haodian demo`: a realistic workload end to end on the local services, then a summary.

    migrate ─> an in-process worker for every domain ─> the story, phase by phase: publish,
    then wait for every answer on a private queue bound to haodian.results (or for the inbox
    row / the DLQ copy when an event has no result) ─> tables read back from PostgreSQL,
    the DLQ depths and `haodian ledger verify`.

Exit code 0 only when every phase completed, every event answered as the story expects
and the ledger verifies. The run's tag (`demo-<yyyymmddHHMMSS>-<hex>`) is in every id, so
the demo can run again on the same database and vhost.
"""

import asyncio
import contextlib
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aio_pika
import asyncpg
import orjson
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.progress import TimeElapsedColumn as Elapsed
from rich.table import Table

from workers import db, topology
from workers.demo import report, shops
from workers.demo.events import DLQ, INBOX, Phase, Planned, Story
from workers.demo.money import NOW, SECOND_RUN_AT, Trade
from workers.registry import resolve
from workers.runtime.worker import Worker
from workers.settings import OpsSettings, Settings
from workers.tools.dlq import Filter, list_dead_letters
from workers.tools.ledger import verify
from workers.tools.migrate import migrate_all
from workers.tools.publisher import Publisher, PublishOutcome

POLL_S = 0.2
BURST_S = 0.05
DLQ_POLL_S = 1.0
MIN_ORDERS = 100  # enough for claims on three different stores and a busy flagship


class DemoAborted(Exception):
    """A phase timed out or the worker stopped: the message says which and why."""


def new_tag() -> str:
    return f"demo-{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(2)}"


class Collector:
    """Result events from a private queue bound to every result type."""

    def __init__(self) -> None:
        self.by_cause: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.by_subject: dict[tuple[str, str], dict[str, Any]] = {}
        self.seen: set[str] = set()
        self.arrived = asyncio.Event()

    async def bind(self, connection: AbstractConnection) -> None:
        channel = await connection.channel()
        results = await channel.get_exchange(topology.RESULTS)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(results, routing_key="#")
        await queue.consume(self._on_result, no_ack=True)

    async def _on_result(self, message: AbstractIncomingMessage) -> None:
        doc = orjson.loads(message.body)
        if doc["id"] in self.seen:  # the outbox relay may publish a result twice
            return
        self.seen.add(doc["id"])
        self.by_cause[doc.get("causationid", "")].append(doc)
        self.by_subject[(doc["type"], doc.get("subject", ""))] = doc
        self.arrived.set()

    def caused_by(self, event_id: str) -> list[dict[str, Any]]:
        return self.by_cause.get(event_id, [])

    def about(self, result_type: str, subject: str) -> dict[str, Any] | None:
        return self.by_subject.get((result_type, subject))


@dataclass(frozen=True)
class Surprise:
    phase: str
    label: str
    what: str
    event: str  # the event as published, for the bug report


@dataclass
class PhaseReport:
    name: str
    events: int
    seconds: float = 0.0
    surprises: list[Surprise] = field(default_factory=list)


class Runner:
    """Publishes a phase and waits until everything it expects has arrived."""

    def __init__(self, settings: Settings, publisher: Publisher, collector: Collector,
                 conn: asyncpg.Connection, worker: "asyncio.Task[int] | None",
                 progress: Progress, timeout_s: float, reports: list[PhaseReport]) -> None:
        self.settings, self.publisher, self.collector = settings, publisher, collector
        self.conn, self.worker, self.progress, self.timeout_s = conn, worker, progress, timeout_s
        self.reports = reports

    async def run(self, phase: Phase) -> Phase:
        started = time.monotonic()
        report = PhaseReport(phase.name, len(phase.planned))
        self.reports.append(report)
        total = len(phase.planned) + sum(len(s) for s in phase.awaited.values())
        task = self.progress.add_task(phase.name, total=total, note="publishing")
        refused = await self._publish(phase, task)
        deadline = started + self.timeout_s + len(phase.planned) / 200
        in_inbox: set[str] = set()
        in_dlq: set[str] = set()
        dlq_polled = 0.0
        waiting = list(phase.planned)
        missing = [(t, s) for t, subjects in phase.awaited.items() for s in sorted(subjects)]
        while True:
            self.collector.arrived.clear()
            if self.worker is not None and self.worker.done():
                raise DemoAborted(f"phase {phase.name!r}: the worker stopped "
                                  f"({_worker_end(self.worker)})")
            waiting = [p for p in waiting if not self._answered(p, refused, in_inbox, in_dlq)]
            missing = [(t, s) for t, s in missing if self.collector.about(t, s) is None]
            self.progress.update(task, completed=total - len(waiting) - len(missing),
                                 note="waiting for answers")
            if not waiting and not missing:
                break
            if time.monotonic() > deadline:
                raise DemoAborted(_timeout_message(phase, time.monotonic() - started, waiting,
                                                   missing))
            keys = [(p.source, p.event_id) for p in waiting if p.expect == INBOX and p.event_id]
            if keys:
                rows = await self.conn.fetch(
                    "SELECT event_id FROM inbox WHERE (source, event_id) IN "
                    "(SELECT * FROM unnest($1::text[], $2::text[]))",
                    [k[0] for k in keys], [k[1] for k in keys])
                in_inbox.update(r["event_id"] for r in rows)
            if any(p.dlq_domain for p in waiting) and time.monotonic() - dlq_polled > DLQ_POLL_S:
                in_dlq.update(await self._in_dlq([p for p in waiting if p.dlq_domain]))
                dlq_polled = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.collector.arrived.wait(), POLL_S)
            # Results come in bursts (a batch, a settlement chunk): let one gather rather
            # than re-checking thousands of events for each result.
            await asyncio.sleep(BURST_S)
        report.surprises = [Surprise(phase.name, p.label or p.routing_key, what, _shown(p))
                            for p in phase.planned
                            if (what := self._judge(p, refused)) is not None]
        if phase.check is not None:
            report.surprises += [Surprise(phase.name, "story check", what, "")
                                 for what in phase.check(self.collector)]
        report.seconds = time.monotonic() - started
        note = f"[red]{len(report.surprises)} surprise(s)[/red]" if report.surprises else "done"
        self.progress.update(task, note=note)
        return phase

    async def _publish(self, phase: Phase, task: TaskID) -> dict[str, PublishOutcome]:
        checked = [p for p in phase.planned if isinstance(p.body, dict)]
        published = 0

        def advance(n: int) -> None:
            nonlocal published
            published += n
            self.progress.update(task, note=f"published {published}/{len(phase.planned)}")

        outcomes = await self.publisher.publish_many([p.body for p in checked], progress=advance)
        for p in phase.planned:  # past the publisher's checks, as a broken upstream would
            if isinstance(p.body, bytes):
                await self.publisher.exchange.publish(aio_pika.Message(
                    p.body, content_type="application/cloudevents+json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=p.routing_key)
                advance(1)
        return {p.marker: o for p, o in zip(checked, outcomes, strict=True) if not o.published}

    async def _in_dlq(self, planned: list[Planned]) -> set[str]:
        found: set[str] = set()
        for domain in {p.dlq_domain for p in planned if p.dlq_domain}:
            letters = await list_dead_letters(str(self.settings.amqp_url),
                                              str(self.settings.database_url), domain, Filter())
            found.update(p.marker for p in planned for d in letters
                         if p.dlq_domain == domain and p.marker.encode() in d.body)
        return found

    def _answered(self, p: Planned, refused: dict[str, PublishOutcome], in_inbox: set[str],
                  in_dlq: set[str]) -> bool:
        if p.marker in refused:
            return True
        if p.dlq_domain and p.marker not in in_dlq:
            return False
        if p.expect == DLQ or p.event_id is None:
            return True
        got = self.collector.caused_by(p.event_id)
        if p.expect == INBOX:
            return p.event_id in in_inbox or bool(got)
        return any(p.answer_types is None or r["type"] in p.answer_types for r in got)

    def _judge(self, p: Planned, refused: dict[str, PublishOutcome]) -> str | None:
        """What differs from the story's expectation, or None."""
        if p.marker in refused:
            o = refused[p.marker]
            return f"the publisher refused it: {o.reason} ({o.detail})"
        if p.expect == DLQ or p.event_id is None:
            return None
        got = self.collector.caused_by(p.event_id)
        if p.expect == INBOX:
            return f"expected no result, got {_describe(got)}" if got else None
        match = [r for r in got if r["type"] == p.expect]
        if not match:
            return f"expected {p.expect}, got {_describe(got)}"
        data = match[0]["data"]
        if p.reasons is not None and set(data.get("reasons", [])) != p.reasons:
            return f"expected reasons {sorted(p.reasons)}, got {data.get('reasons')}"
        wrong = {k: data.get(k) for k, v in p.fields.items() if not _same(data.get(k), v)}
        if wrong:
            return f"expected {dict(p.fields)}, got {wrong}"
        return None


def _same(got: Any, want: Any) -> bool:
    if isinstance(got, list) and isinstance(want, list):
        return sorted(got) == sorted(want)
    return bool(got == want)


def _describe(results: list[dict[str, Any]]) -> str:
    if not results:
        return "nothing"
    return "; ".join(f"{r['type']} {r['data'].get('reasons', '')}".strip() for r in results)


def _shown(p: Planned) -> str:
    text = orjson.dumps(p.body).decode() if isinstance(p.body, dict) else p.body.decode(
        errors="replace")
    return text[:700]


def _timeout_message(phase: Phase, waited_s: float, waiting: list[Planned],
                     missing: list[tuple[str, str]]) -> str:
    lines = [f"phase {phase.name!r} timed out after {waited_s:.0f} s: "
             f"{len(waiting)} of {len(phase.planned)} events unanswered"
             + (f", {len(missing)} awaited results missing" if missing else "")]
    lines += [f"  waiting: {p.routing_key} {p.event_id or p.marker} (expects {p.expect}) "
              f"{_shown(p)[:300]}" for p in waiting[:5]]
    lines += [f"  missing: {t} for {s}" for t, s in missing[:5]]
    return "\n".join(lines)


def _worker_end(task: "asyncio.Task[int]") -> str:
    if task.cancelled():
        return "cancelled"
    exc = task.exception()
    return f"exit code {task.result()}" if exc is None else repr(exc)[:300]


async def play(runner: Runner, story: Story, orders: int) -> None:
    """The story, phase after phase; later phases are built from earlier answers."""
    seen = runner.collector

    def of(phase: Phase, result_type: str) -> list[dict[str, Any]]:
        return [r for r in phase.answers(seen) if r["type"] == result_type]

    applications = await runner.run(story.applications())
    await runner.run(story.repeat_applications())
    reviews = await runner.run(story.reviews(of(applications, "certification.pending_review")))
    certified = {r["data"]["account_id"] for phase in (applications, reviews)
                 for r in of(phase, "certification.approved")}
    openings = await runner.run(shops.openings(story, certified))
    await runner.run(shops.deposits(story, of(openings, "store.opened")))
    products = await runner.run(shops.products(story))
    await runner.run(shops.product_reviews(story, of(products, "product.flagged")))
    trade = Trade(story, orders)
    for build in (trade.confirmed, trade.aftersales_opened, trade.aftersales_closed):
        await runner.run(build())
    await runner.run(trade.run("1", NOW))
    for build in (trade.clawbacks_opened, trade.clawbacks_closed, trade.refund_requests,
                  trade.second_migration):
        await runner.run(build())
    await runner.run(trade.run("2", SECOND_RUN_AT))
    await runner.run(trade.broken())


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description:<44}"), BarColumn(bar_width=30),
                    MofNCompleteColumn(), Elapsed(), TextColumn("{task.fields[note]}"),
                    console=console)


async def _stop(worker: Worker, task: "asyncio.Task[int]") -> None:
    worker.request_stop()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.shield(task), worker.settings.grace_period_s + 10)


async def run_demo(settings: Settings, console: Console, *, orders: int = 3000,
                   applications: int = 300, tag: str | None = None,
                   phase_timeout_s: float = 60.0, start_worker: bool = True,
                   ops: OpsSettings | None = None, migrate: bool = True) -> int:
    """Run the whole story once; 0 when everything went as the story says. Without
    `start_worker`, `haodian worker` processes already running must do the work; without
    `migrate`, the database and topology must be ready (the role split: the demo's
    accounts may not change the schema)."""
    if orders < MIN_ORDERS:
        raise ValueError(f"the story needs at least {MIN_ORDERS} orders")
    tag = tag or new_tag()
    started = time.monotonic()
    console.rule(f"haodian demo · run {tag}")
    if migrate:
        applied = (await migrate_all(settings)).applied
        console.print(f"migrations applied: {', '.join(applied) or 'none (up to date)'}; "
                      "topology declared")
    worker = Worker(settings, resolve(["all"]), ops=ops) if start_worker else None
    worker_task = asyncio.create_task(worker.run(), name="demo-worker") if worker else None
    aborted: str | None = None
    reports: list[PhaseReport] = []
    conn = await db.connect(str(settings.database_url))
    try:
        try:
            async with Publisher.connect(str(settings.amqp_url)) as publisher:
                collector = Collector()
                await collector.bind(publisher.connection)
                with _progress(console) as progress:
                    runner = Runner(settings, publisher, collector, conn, worker_task, progress,
                                    phase_timeout_s, reports)
                    try:
                        await play(runner, Story(tag, applications), orders)
                    except DemoAborted as exc:
                        aborted = str(exc)
        finally:
            if worker is not None and worker_task is not None:
                await _stop(worker, worker_task)
        story_s = time.monotonic() - started
        report.print_figures(console, await report.gather(conn, tag), tag)
        depths = await report.dlq_depths(str(settings.amqp_url), str(settings.database_url),
                                         tag)
        report.print_dlq(console, depths)
        checks, violations = await verify(conn)
    finally:
        await conn.close()
    return _verdict(console, reports, checks, violations, aborted, story_s)


def _verdict(console: Console, reports: list[PhaseReport], checks: list[str],
             violations: list[Any], aborted: str | None, story_s: float) -> int:
    t = Table(title="Phases", title_justify="left", title_style="bold")
    for col in ("phase", "events", "seconds", "surprises"):
        t.add_column(col, justify="left" if col == "phase" else "right")
    for r in reports:
        t.add_row(r.name, str(r.events), f"{r.seconds:.1f}" if r.seconds else "—",
                  str(len(r.surprises)))
    console.print(t)
    surprises = [s for r in reports for s in r.surprises]
    for s in surprises:
        console.print(f"[red]SURPRISE[/red] {s.phase} · {s.label}: {s.what}")
        if s.event:
            console.print(f"    event: {s.event}", markup=False, highlight=False)
    for v in violations:
        console.print(f"[red]LEDGER[/red] {v.check}: {v.rows}")
    console.print(f"ledger verify: {len(checks)} checks, {len(violations)} failed")
    console.print(f"events published: {sum(r.events for r in reports)}, "
                  f"surprises: {len(surprises)}, story time: {story_s:.1f} s")
    if aborted:
        console.print(f"[red]demo aborted[/red]: {aborted}", highlight=False)
        return 1
    if surprises or violations:
        console.print("[red]demo finished with surprises[/red]")
        return 1
    console.print("[green]demo complete: every phase answered as expected, ledger verified[/green]")
    return 0
