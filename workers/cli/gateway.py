"""`haodian gateway serve` and `haodian gateway token add|list|revoke`."""

from typing import Annotated

import typer
from rich.table import Table

from workers import logs
from workers.cli.common import console, err, run, settings, settings_and, write_json
from workers.cli.printable import shown

gateway_app = typer.Typer(no_args_is_help=True, help="The HTTP gateway for CloudEvents.")
token_app = typer.Typer(no_args_is_help=True, help="Per-source gateway tokens.")
gateway_app.add_typer(token_app, name="token")


@gateway_app.command("serve")
def gateway_serve(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8080,
) -> None:
    """Accept CloudEvents over HTTP; 202 once the broker confirmed each one."""
    from workers.gateway.commands import serve
    from workers.gateway.config import GatewaySettings

    s, config = settings_and(GatewaySettings)
    logs.configure(s.log_level, s.log_format)
    raise typer.Exit(run(serve(s, config, host, port)))


@token_app.command("add")
def gateway_token_add(
    source: Annotated[str, typer.Option(help="the CloudEvents source it may publish for")],
) -> None:
    """Create a token for a source; it is printed once and stored only as a hash."""
    from workers.gateway.commands import token_add

    row, token = run(token_add(settings(), source))
    err.print(f"token {row.token_id} for source {shown(repr(row.source))} "
              "(shown once, keep it safe):")
    print(token)


@token_app.command("list")
def gateway_token_list(
    json_: Annotated[bool, typer.Option("--json", help="one JSON document, for scripts")
                     ] = False,
) -> None:
    """Every token: id, source, created, revoked (never the token)."""
    from workers.gateway.commands import token_list

    rows = run(token_list(settings()))
    if json_:
        write_json([{"id": row.token_id, "source": row.source,
                     "created_at": row.created_at.isoformat(),
                     "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None}
                    for row in rows])
        return
    table = Table(title="gateway tokens")
    for col in ("id", "source", "created", "revoked"):
        table.add_column(col)
    for row in rows:
        table.add_row(str(row.token_id), shown(row.source), row.created_at.isoformat(),
                      row.revoked_at.isoformat() if row.revoked_at else "")
    console.print(table)


@token_app.command("revoke")
def gateway_token_revoke(token_id: Annotated[int, typer.Argument(help="id from list")]) -> None:
    """Revoke a token (the gateway refuses it within HAODIAN_GATEWAY_TOKEN_CACHE_S)."""
    from workers.gateway.commands import token_revoke

    row = run(token_revoke(settings(), token_id))
    if row is None:
        err.print(f"no token {token_id}")
        raise typer.Exit(1)
    console.print(f"token {row.token_id} for source {shown(repr(row.source))} revoked")
