"""`haodian ledger verify | balance`: the double-entry ledger."""

from typing import Annotated

import typer

from workers import db
from workers.cli.common import console, err, run, settings, write_json
from workers.cli.printable import shown

ledger_app = typer.Typer(no_args_is_help=True, help="The double-entry ledger.")
JsonOpt = Annotated[bool, typer.Option("--json", help="one JSON document, for scripts")]


@ledger_app.command("verify")
def ledger_verify(json_: JsonOpt = False) -> None:
    """Check every ledger invariant over the whole database; non-zero exit on a failure.
    --json: {"checks": [...], "failed": [{"check", "rows"}]} with amounts in fen as ints."""
    from workers.tools.ledger import Violation, verify

    s = settings()

    async def go() -> tuple[list[str], list[Violation]]:
        conn = await db.connect(str(s.database_url))
        try:
            return await verify(conn)
        finally:
            await conn.close()

    ran, violations = run(go())
    if json_:
        write_json({"checks": ran, "failed": [{"check": v.check, "rows": v.rows}
                                              for v in violations]})
        raise typer.Exit(1 if violations else 0)
    for v in violations:
        err.print(f"[red]FAILED[/red] {shown(v.check)}: {shown(v.rows)}")
    console.print(f"{len(ran)} checks, {len(violations)} failed")
    raise typer.Exit(1 if violations else 0)


@ledger_app.command("balance")
def ledger_balance(store: Annotated[str, typer.Option(help="store id")],
                   json_: JsonOpt = False) -> None:
    """A store's balances and its month-to-date net and commission, in fen (JSON, shown
    indented and coloured on a terminal; --json: one compact document)."""
    import orjson

    from workers.tools.ledger import store_balance

    s = settings()

    async def go() -> dict[str, object]:
        conn = await db.connect(str(s.database_url))
        try:
            return await store_balance(conn, store)
        finally:
            await conn.close()

    balance = run(go())
    if json_:
        write_json(balance)
    else:
        console.print_json(orjson.dumps(balance, default=str).decode())
