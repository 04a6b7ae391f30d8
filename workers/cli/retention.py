"""`haodian retention run [--dry-run]`: delete the runtime's old rows now."""

import sys
import time
from typing import Annotated

import asyncpg
import typer
from rich.table import Table

from workers import db, logs
from workers.cli.common import console, err, run, settings_and
from workers.settings import OpsSettings

retention_app = typer.Typer(no_args_is_help=True,
                            help="Retention of the runtime's tables (inbox, outbox, audit).")
PROGRESS_EVERY_S = 2.0


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option(help="count what would be deleted, delete nothing")
                       ] = False,
    json_: Annotated[bool, typer.Option("--json", help="one JSON report, for scripts")] = False,
) -> None:
    """Delete rows older than their windows (HAODIAN_RETENTION_*), in bounded batches.
    Exit 0 when every table is done (or another run holds the lock), 1 when a table was
    deferred (a lock or statement timeout: the next run continues)."""
    import orjson

    from workers.ops.status import duration
    from workers.runtime import retention

    s, ops = settings_and(OpsSettings)
    logs.configure("warning", "console")
    shown = {"at": time.monotonic()}

    def progress(table: retention.Pruned) -> None:
        if json_ or time.monotonic() - shown["at"] < PROGRESS_EVERY_S:
            return
        shown["at"] = time.monotonic()
        err.print(f"  {table.table}: {table.rows:,} rows deleted so far "
                  f"({table.batches:,} batches) …")

    async def go() -> retention.Report:
        conn = await db.connect(str(s.database_url))
        try:
            if dry_run:
                return await retention.count(conn, ops)
            return await retention.prune(conn, ops, progress)
        finally:
            await conn.close()

    try:
        report = run(go())
    except (OSError, asyncpg.PostgresError, db.NoWritableServer) as exc:
        err.print(f"[red]retention failed: {type(exc).__name__}: {exc}[/red]")
        raise typer.Exit(1) from None
    if json_:
        sys.stdout.write(orjson.dumps(report.as_json(), option=orjson.OPT_INDENT_2).decode()
                         + "\n")
    elif report.locked_out:
        console.print("another retention run holds the lock: nothing deleted")
    else:
        table = Table(title="retention: rows that would be deleted" if dry_run
                      else f"retention: rows deleted in {report.seconds:.1f} s")
        for col in ("table", "window", "rows", "batches", "note"):
            table.add_column(col, justify="left" if col in ("table", "note") else "right")
        for t in report.tables:
            table.add_row(t.table, duration(t.window_s), f"{t.rows:,}",
                          "—" if dry_run else f"{t.batches:,}",
                          f"[red]deferred: {t.error}[/red]" if t.error else "")
        console.print(table)
    raise typer.Exit(0 if report.complete or report.locked_out else 1)
