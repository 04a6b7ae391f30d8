"""`haodian publish`: NDJSON CloudEvents to the broker with a progress bar and a summary."""

from collections import Counter
from typing import BinaryIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from workers.publisher import Publisher, PublishOutcome
from workers.settings import Settings


async def publish_ndjson(settings: Settings, stream: BinaryIO, console: Console) -> int:
    """Returns how many lines were refused."""
    lines = [line for line in stream.read().splitlines() if line.strip()]
    outcomes: list[tuple[int, PublishOutcome]] = []
    async with Publisher.connect(str(settings.amqp_url)) as publisher:
        with Progress(TextColumn("publishing"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=False) as progress:
            task = progress.add_task("publish", total=len(lines))
            results = await publisher.publish_many(
                lines, progress=lambda n: progress.advance(task, n))
    outcomes = list(enumerate(results, start=1))
    refused = [(n, o) for n, o in outcomes if not o.published]
    console.print(f"published {len(outcomes) - len(refused)}, refused {len(refused)}")
    if refused:
        table = Table(title="refused")
        for col in ("line", "event id", "type", "reason", "detail"):
            table.add_column(col)
        for n, o in refused[:50]:
            table.add_row(str(n), o.event_id or "", o.type or "", o.reason, o.detail[:80])
        console.print(table)
        for reason, count in Counter(o.reason for _, o in refused).most_common():
            console.print(f"  {reason}: {count}")
    return len(refused)
