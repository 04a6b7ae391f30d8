"""`haodian status --watch`: the status report as one frame that fits the terminal.

The frame is laid out for the size it is drawn at (rich passes it on every redraw, so a
resized terminal gets a new layout at the next refresh). From the top:

- one header line that never wraps: time, refresh period, where the queue figures come
  from (shorter forms on narrower terminals); without the management API a second line
  says why;
- the domain queues, one row per figure, without the figures no domain has (rates and
  unacked without the management API);
- one line: unroutable messages, overdue reviews, the lag window;
- the live workers, as many as the remaining rows hold, then "+ N more"; a worker's host,
  pid and domains are never cut (they fold onto a second line if they must); seen, done
  and uptime are added as the width allows;
- the table sizes, when every row of them fits too.

At 80x24 with the four domains and the management API this leaves five rows for workers:
five of them, or four and "+ N more" (an 80x24 terminal under tmux's status line has one
row less). `haodian status` prints everything; `--json` has every figure."""

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.live import Live
from rich.measure import Measurement
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from workers.cli.printable import visible
from workers.ops import rates
from workers.ops.status import _ROWS, _fmt, collect, duration, tables_table
from workers.registry import DOMAIN_NAMES
from workers.settings import OpsSettings, Settings

Lines = list[list[Segment]]


class WatchFrame:
    """One report as a frame of at most the console's height and width."""

    def __init__(self, report: dict[str, Any], interval_s: float | None = None) -> None:
        self.report = report
        self.interval_s = interval_s

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        height = options.height or options.max_height

        def drawn(part: RenderableType) -> Lines:
            return console.render_lines(part, options.update(height=None), pad=False)

        top: list[RenderableType] = [*header(self.report, self.interval_s, options.max_width),
                                     queues_table(console, options, self.report),
                                     totals(self.report)]
        lines: Lines = [line for part in top for line in drawn(part)]
        workers = workers_part(console, options, self.report, height - len(lines))
        if workers is not None:
            lines += drawn(workers)
        if self.report.get("tables"):
            tables = tables_table(self.report["tables"])
            tables.title_justify = "left"
            if len(lines) + len(tables_lines := drawn(tables)) <= height:
                lines += tables_lines
        for line in lines[:height]:  # a terminal shorter than the queues: the top of them
            yield from line
            yield Segment.line()


def header(report: dict[str, Any], interval_s: float | None, width: int) -> list[Text]:
    """The first line (never wrapped: the longest form that fits, then cropped), and the
    reason for AMQP figures when that is where they come from."""
    at = report["generated_at"][:19]
    every = f"every {interval_s:g} s" if interval_s else ""
    management = report["source"] == "management"
    source = "RabbitMQ management API" if management else "AMQP (no rates)"
    forms = [[f"{at.replace('T', ' ')}Z", every, f"queue figures: {source}"],
             [f"{at[11:]}Z", every, f"queues: {source}"],
             [f"{at[11:]}Z", f"queues: {source}"],
             [f"{at[11:]}Z"]]
    line = Text()
    for form in forms:
        line = Text.assemble(("haodian status", "bold"), *(
            ("  " + piece, "dim" if n else "") for n, piece in enumerate(form) if piece))
        if line.cell_len <= width:
            break
    line.no_wrap, line.overflow = True, "ellipsis"
    out = [line]
    if not management:
        note = Text("  " + visible(report["source_note"]), style="dim", no_wrap=True,
                    overflow="ellipsis")
        out.append(note)
    return out


def short_names(names: Sequence[str]) -> list[str]:
    """The shortest prefixes (4 letters at least) that still tell the domains apart."""
    for n in range(4, max(map(len, names), default=0)):
        if len({name[:n] for name in names}) == len(names):
            return [name[:n] for name in names]
    return list(names)


def measured(console: Console, options: ConsoleOptions, part: RenderableType,
             least: bool = False) -> int:
    """The width a part takes when nothing is wrapped (or, `least`, when all that may wrap
    does); measured in a very wide space, since rich clamps a measure to the width."""
    found = Measurement.get(console, options.update_width(MEASURE_CELLS), part)
    return found.minimum if least else found.maximum


def queues_table(console: Console, options: ConsoleOptions, report: dict[str, Any]) -> Table:
    """The domain queues at this width: full domain names when they fit; else short ones
    and labels wrapped at their spaces (60 columns and up); else figures are cut too."""
    full = domains_table(report)
    if measured(console, options, full) <= options.max_width:
        return full
    short = short_names(list(report["domains"]))
    wrapped = domains_table(report, short, wrap_labels=True)
    if measured(console, options, wrapped, least=True) <= options.max_width:
        return wrapped
    return domains_table(report, short)


def domains_table(report: dict[str, Any], headings: Sequence[str] | None = None,
                  wrap_labels: bool = False) -> Table:
    """Domains across, figures down; a figure no domain has is left out. A figure is
    never split over two lines (too narrow a terminal cuts it with "…")."""
    domains = report["domains"]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
    table.add_column("", no_wrap=not wrap_labels, overflow="fold")
    for name in headings or domains:
        table.add_column(name, justify="right", no_wrap=True)
    # Rates with their windows ("ack/s (5 s)", "committed/s (5 min)") where the full table
    # fits; the narrower layouts keep the short labels, which do not wrap into extra rows.
    windowed = rates.labels(report["lag_window_s"]) if headings is None else {}
    for label, key, unit in _ROWS:
        if domains and all(d[key] is None for d in domains.values()):
            continue
        cells: list[RenderableType] = []
        for d in domains.values():
            style = "red bold" if key == "dlq" and d[key] else ""
            cells.append(Text(_fmt(d[key], unit), style=style))
        table.add_row(windowed.get(key, label), *cells)
    return table


def totals(report: dict[str, Any]) -> Text:
    u, overdue = report["unroutable"], report["overdue_reviews"]
    return Text.assemble(
        ("unroutable ", "dim"), (f"{u['total']:,}", "red bold" if u["total"] else ""),
        (f" (waiting {u['ready']:,}, kept {u['kept']:,})", "dim"),
        ("  overdue reviews ", "dim"), (f"{overdue:,}", "red bold" if overdue else ""),
        ("  lag over ", "dim"), duration(report["lag_window_s"]))


def worker_domains(domains: Sequence[str]) -> str:
    """"all" for a worker of every domain (as `--domain all` started it), else the list."""
    return "all" if set(DOMAIN_NAMES) <= set(domains) else ",".join(domains)


# The columns after host, pid and domains, in the order the width lets them in.
OPTIONAL = ("seen", "done", "up")
MEASURE_CELLS = 100_000


def _cells(w: dict[str, Any], columns: Sequence[str], now: datetime) -> list[str]:
    values = {"host": visible(w["host"]), "pid": str(w["pid"]),
              "domains": visible(worker_domains(w["domains"])),
              "seen": f"{w['seen_s_ago']} s ago", "done": f"{w['messages_done']:,}",
              "up": duration(max(0.0, (now - datetime.fromisoformat(w["started_at"]))
                                 .total_seconds()))}
    return [values[c] for c in columns]


def workers_table(workers: Sequence[dict[str, Any]], columns: Sequence[str],
                  now: datetime) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
    for col in columns:
        right = col in ("pid", "done", "seen", "up")
        table.add_column(col, justify="right" if right else "left", overflow="fold",
                         no_wrap=col in ("pid", "seen", "done", "up"))
    for w in workers:  # Text, not markup: a host name is whatever the worker's host says
        table.add_row(*(Text(cell) for cell in _cells(w, columns, now)))
    return table


def worker_columns(console: Console, options: ConsoleOptions,
                   workers: Sequence[dict[str, Any]], now: datetime) -> list[str]:
    """host, pid, domains, then each optional column while the table still fits."""
    columns = ["host", "pid", "domains"]
    for extra in OPTIONAL:
        wider = [*columns, extra]
        if measured(console, options, workers_table(workers, wider, now)) > options.max_width:
            break
        columns = wider
    return columns


def workers_part(console: Console, options: ConsoleOptions, report: dict[str, Any],
                 room: int) -> RenderableType | None:
    """The workers that fit in `room` lines (header, rule, rows, "+ N more")."""
    workers = report["workers"]
    if not workers:
        return Text("no live workers", style="dim") if room >= 1 else None
    now = datetime.fromisoformat(report["generated_at"])
    columns = worker_columns(console, options, workers, now)
    for shown in range(len(workers), 0, -1):
        more = len(workers) - shown
        table = workers_table(workers[:shown], columns, now)
        if more:
            table.caption = f"+ {more} more of {len(workers)} live workers (haodian status)"
            table.caption_justify = "left"
        drawn = console.render_lines(table, options.update(height=None), pad=False)
        if len(drawn) <= room:
            return table
    summary = Text(f"{len(workers)} live workers (haodian status lists them)", style="dim")
    return summary if room >= 1 else None


async def watch(s: Settings, ops: OpsSettings, domains: Sequence[str],
                management_url: str | None, interval_s: float, console: Console) -> None:
    """Redraw the frame every interval_s until interrupted."""
    with Live(console=console, auto_refresh=False) as live:
        while True:
            report = await collect(s, ops, domains, management_url)
            live.update(WatchFrame(report, interval_s), refresh=True)
            await asyncio.sleep(interval_s)

