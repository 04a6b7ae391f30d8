"""`haodian publish`: NDJSON CloudEvents to the broker with a progress bar and a summary."""

import sys
from collections import Counter
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from workers import logs
from workers.cli.common import brief, console, err, run, settings
from workers.cli.printable import shown
from workers.settings import Settings
from workers.tools.publisher import Publisher

SHOWN_REFUSALS = 50


async def publish_ndjson(s: Settings, stream: BinaryIO, out: Console) -> int:
    """Returns how many lines were refused. Refusals name the line in the file (blank lines
    are skipped but counted)."""
    numbered = [(n, line) for n, line in enumerate(stream.read().splitlines(), start=1)
                if line.strip()]
    async with Publisher.connect(str(s.amqp_url)) as publisher:
        with Progress(TextColumn("publishing"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=out, transient=False) as progress:
            task = progress.add_task("publish", total=len(numbered))
            results = await publisher.publish_many(
                [line for _, line in numbered], progress=lambda n: progress.advance(task, n))
    outcomes = [(n, o) for (n, _), o in zip(numbered, results, strict=True)]
    refused = [(n, o) for n, o in outcomes if not o.published]
    out.print(f"published {len(outcomes) - len(refused)}, refused {len(refused)}")
    if refused:
        table = Table(title="refused")
        for col in ("line", "event id", "type", "reason", "detail"):
            table.add_column(col)
        for n, o in refused[:SHOWN_REFUSALS]:
            table.add_row(str(n), shown(o.event_id or ""), shown(o.type or ""), shown(o.reason),
                          shown(brief(o.detail, out)))
        out.print(table)
        if len(refused) > SHOWN_REFUSALS:
            out.print(f"… and {len(refused) - SHOWN_REFUSALS} more refused lines")
        for reason, count in Counter(o.reason for _, o in refused).most_common():
            out.print(f"  {shown(reason)}: {count}")
    return len(refused)


def publish(
    file: Annotated[str, typer.Argument(help="NDJSON file of CloudEvents, or - for stdin")],
) -> None:
    """Publish CloudEvents (one JSON object per line) to haodian.events, with confirms."""
    s = settings()
    logs.configure(s.log_level, "console")
    try:
        stream = sys.stdin.buffer if file == "-" else Path(file).open("rb")
    except OSError as exc:
        err.print(f"[red]cannot read {shown(file)}: {shown(exc.strerror)}[/red]")
        raise typer.Exit(2) from None
    with stream:
        refused = run(publish_ndjson(s, stream, console))
    raise typer.Exit(1 if refused else 0)
