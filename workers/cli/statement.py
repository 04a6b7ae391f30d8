"""`haodian statement`: a store-month explained to the fen (docs/statements.md)."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from workers import db
from workers.cli.common import console, err, run, settings
from workers.cli.printable import shown, visible


def statement(
    month: Annotated[str, typer.Option(help="YYYY-MM, an Asia/Shanghai month")],
    store: Annotated[str | None, typer.Option(help="store id")] = None,
    all_stores: Annotated[bool, typer.Option("--all", help="every store with a balance or a "
                                             "movement; --output is then a directory")] = False,
    fmt: Annotated[str, typer.Option("--format", help="text, csv, html or json")] = "text",
    output: Annotated[Path | None, typer.Option(help="file (directory with --all); "
                                                "default standard output")] = None,
) -> None:
    """A store's statement for a month: balances, every order settled with its commission
    C(b) − C(a), refunds, clawbacks, deposits, and the reconciliation with the ledger.
    Exit 1 when a check fails."""
    from workers.statements import FORMATS, renderer
    from workers.statements.model import month_bounds

    problems = []
    if fmt not in FORMATS:
        problems.append(f"--format must be one of {', '.join(FORMATS)}")
    try:
        month_bounds(month)
    except ValueError as exc:
        problems.append(str(exc))
    if all_stores == (store is not None):
        problems.append("give either --store S or --all")
    if all_stores and output is None:
        problems.append("--all needs --output DIR")
    if problems:
        for p in problems:
            err.print(visible(p), style="red", markup=False, highlight=False)
        raise typer.Exit(2)
    s = settings()
    if all_stores:
        assert output is not None
        output.mkdir(parents=True, exist_ok=True)
        raise typer.Exit(run(_all(str(s.database_url), month, fmt, output)))

    from workers.statements.gather import write_statement

    async def one() -> bool:
        conn = await db.connect(str(s.database_url))
        try:
            assert store is not None
            if output is None:
                checks = await write_statement(conn, store, month, renderer(fmt, sys.stdout))
            else:
                with output.open("w", encoding="utf-8", newline="") as out:
                    checks = await write_statement(conn, store, month, renderer(fmt, out))
            return all(c.ok for c in checks)
        finally:
            await conn.close()

    ok = run(one())
    if not ok:
        err.print(f"statement {visible(store)} {month}: a check failed (see the reconciliation)",
                  style="red", markup=False, highlight=False)
    raise typer.Exit(0 if ok else 1)


async def _all(url: str, month: str, fmt: str, directory: Path) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from workers.statements.bulk import count_stores, write_all

    conn = await db.connect(url)
    try:
        total = await count_stores(conn, month)
        with Progress("[progress.description]{task.description}", BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=err) as progress:
            task = progress.add_task(f"statements {month}", total=total)
            written = await write_all(conn, month, fmt, directory,
                                      lambda _: progress.advance(task))
    finally:
        await conn.close()
    console.print(f"{written.statements} statements in {shown(str(directory))}, "
                  f"{len(written.mismatched)} with a failed check")
    for store_id in written.mismatched[:20]:
        err.print(f"  check failed: {visible(store_id)}", style="red", markup=False)
    return 1 if written.mismatched else 0
