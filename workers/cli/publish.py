"""`haodian publish`: NDJSON CloudEvents to the broker with a progress bar and a summary."""

from collections import Counter
from typing import BinaryIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from workers.settings import Settings
from workers.tools.publisher import Publisher

SHOWN_REFUSALS = 50


async def publish_ndjson(settings: Settings, stream: BinaryIO, console: Console) -> int:
    """Returns how many lines were refused. Refusals name the line in the file (blank lines
    are skipped but counted)."""
    numbered = [(n, line) for n, line in enumerate(stream.read().splitlines(), start=1)
                if line.strip()]
    async with Publisher.connect(str(settings.amqp_url)) as publisher:
        with Progress(TextColumn("publishing"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=False) as progress:
            task = progress.add_task("publish", total=len(numbered))
            results = await publisher.publish_many(
                [line for _, line in numbered], progress=lambda n: progress.advance(task, n))
    outcomes = [(n, o) for (n, _), o in zip(numbered, results, strict=True)]
    refused = [(n, o) for n, o in outcomes if not o.published]
    console.print(f"published {len(outcomes) - len(refused)}, refused {len(refused)}")
    if refused:
        table = Table(title="refused")
        for col in ("line", "event id", "type", "reason", "detail"):
            table.add_column(col)
        for n, o in refused[:SHOWN_REFUSALS]:
            table.add_row(str(n), o.event_id or "", o.type or "", o.reason, o.detail[:80])
        console.print(table)
        if len(refused) > SHOWN_REFUSALS:
            console.print(f"… and {len(refused) - SHOWN_REFUSALS} more refused lines")
        for reason, count in Counter(o.reason for _, o in refused).most_common():
            console.print(f"  {reason}: {count}")
    return len(refused)
