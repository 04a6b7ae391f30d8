"""`haodian ledger verify | balance`: the double-entry ledger."""

from typing import Annotated

import typer

from workers import db
from workers.cli.common import console, err, run, settings
from workers.cli.printable import shown

ledger_app = typer.Typer(no_args_is_help=True, help="The double-entry ledger.")


@ledger_app.command("verify")
def ledger_verify() -> None:
    """Check every ledger invariant over the whole database; non-zero exit on a failure."""
    from workers.tools.ledger import Violation, verify

    s = settings()

    async def go() -> tuple[list[str], list[Violation]]:
        conn = await db.connect(str(s.database_url))
        try:
            return await verify(conn)
        finally:
            await conn.close()

    ran, violations = run(go())
    for v in violations:
        err.print(f"[red]FAILED[/red] {shown(v.check)}: {shown(v.rows)}")
    console.print(f"{len(ran)} checks, {len(violations)} failed")
    raise typer.Exit(1 if violations else 0)


@ledger_app.command("balance")
def ledger_balance(store: Annotated[str, typer.Option(help="store id")]) -> None:
    """A store's balances and its month-to-date net and commission."""
    import orjson

    from workers.tools.ledger import store_balance

    s = settings()

    async def go() -> dict[str, object]:
        conn = await db.connect(str(s.database_url))
        try:
            return await store_balance(conn, store)
        finally:
            await conn.close()

    console.print_json(orjson.dumps(run(go()), default=str).decode())
