"""`haodian roles apply`: the PostgreSQL roles and RabbitMQ users of each part."""

from typing import Annotated

import typer

from workers.cli.common import console, err, refuse, run, settings_and
from workers.settings import OpsSettings, RoleSettings, SettingsError, load

roles_app = typer.Typer(no_args_is_help=True, help="Least privilege: the PostgreSQL roles "
                        "and RabbitMQ users of each part (docs/security.md).")


@roles_app.command("apply")
def roles_apply(
    postgres: Annotated[bool, typer.Option(help="the roles and grants on the database of "
                                           "HAODIAN_DATABASE_URL")] = True,
    rabbitmq: Annotated[bool, typer.Option(help="the users and permissions on the vhost of "
                                           "HAODIAN_AMQP_URL, via HAODIAN_MANAGEMENT_URL")
                        ] = True,
) -> None:
    """Create or correct every role, user and privilege, printing each change; run as an
    administrator. Applying again changes nothing."""
    import asyncpg
    import httpx

    from workers.access.broker_users import BrokerAdminError
    from workers.access.commands import apply_postgres, apply_rabbitmq

    s, ops = settings_and(OpsSettings)
    try:
        passwords = load(RoleSettings)
    except SettingsError as exc:
        refuse(exc.problems)
    try:
        if postgres:
            _report("postgres", run(apply_postgres(s, passwords)))
        if rabbitmq:
            _report("rabbitmq", run(apply_rabbitmq(s, ops, passwords)))
    except (asyncpg.PostgresError, BrokerAdminError, httpx.HTTPError) as exc:
        err.print(f"[red]roles apply refused: {exc}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _report(side: str, done: list[str]) -> None:
    for line in done:
        console.print(f"{side}: {line}", highlight=False, soft_wrap=True)
    console.print(f"{side}: {len(done)} change(s)" if done else f"{side}: nothing to change")
