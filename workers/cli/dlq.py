"""`haodian dlq list|show|replay|purge`: the dead-letter queues from the command line."""

import getpass
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from workers.cli.common import console, err, run, settings

if TYPE_CHECKING:
    from workers.tools.dlq import Filter

dlq_app = typer.Typer(no_args_is_help=True, help="Inspect, replay and purge dead letters.")

DomainOpt = Annotated[str, typer.Option("--domain", "-d", help="the domain whose DLQ")]
ReasonOpt = Annotated[str | None, typer.Option(help="only this reason code")]
TypeOpt = Annotated[str | None, typer.Option("--type", help="only this event type (glob)")]
IdOpt = Annotated[str | None, typer.Option("--event-id", help="only this event id")]
LimitOpt = Annotated[int | None, typer.Option(help="at most this many")]


def _filter(reason: str | None, type_: str | None, event_id: str | None,
            limit: int | None) -> "Filter":
    from workers.tools.dlq import Filter

    return Filter(reason=reason, type=type_, event_id=event_id, limit=limit)


@dlq_app.command("list")
def dlq_list(domain: DomainOpt, reason: ReasonOpt = None, type_: TypeOpt = None,
             event_id: IdOpt = None, limit: LimitOpt = None,
             json_: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List dead letters with their reasons."""
    import orjson

    from workers.tools.dlq import list_dead_letters

    s = settings()
    found = run(list_dead_letters(str(s.amqp_url), domain,
                                  _filter(reason, type_, event_id, limit)))
    if json_:
        console.print_json(orjson.dumps([d.summary() for d in found]).decode())
        return
    table = Table(title=f"haodian.{domain}.dlq: {len(found)} message(s)")
    for col in ("#", "reason", "type", "event id", "rejected at", "detail"):
        table.add_column(col)
    for d in found:
        table.add_row(str(d.position), d.reason, d.type, d.event_id, d.rejected_at,
                      d.detail[:80])
    console.print(table)


@dlq_app.command("show")
def dlq_show(domain: DomainOpt, position: Annotated[int, typer.Argument(help="# from list")]
             ) -> None:
    """Show one dead letter: headers and the raw body, exactly as received."""
    from workers.tools.dlq import Filter, list_dead_letters

    s = settings()
    found = [d for d in run(list_dead_letters(str(s.amqp_url), domain, Filter()))
             if d.position == position]
    if not found:
        err.print(f"no dead letter #{position} in haodian.{domain}.dlq")
        raise typer.Exit(1)
    d = found[0]
    console.print({k: (v.decode() if isinstance(v, bytes) else v) for k, v in d.headers.items()})
    sys.stdout.buffer.write(d.body + b"\n")


@dlq_app.command("replay")
def dlq_replay(domain: DomainOpt, reason: ReasonOpt = None, type_: TypeOpt = None,
               event_id: IdOpt = None, limit: LimitOpt = None) -> None:
    """Republish matching dead letters to haodian.events (audited)."""
    from workers.tools.dlq import replay

    s = settings()
    n = run(replay(str(s.amqp_url), str(s.database_url), domain,
                   _filter(reason, type_, event_id, limit), getpass.getuser()))
    console.print(f"replayed {n} message(s) from haodian.{domain}.dlq")


@dlq_app.command("purge")
def dlq_purge(domain: DomainOpt, reason: ReasonOpt = None, type_: TypeOpt = None,
              event_id: IdOpt = None, limit: LimitOpt = None,
              yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False) -> None:
    """Delete matching dead letters for good (audited)."""
    from workers.tools.dlq import purge

    s = settings()  # a bad setting is said before the question, not after
    if not yes:
        typer.confirm(f"Delete matching dead letters of haodian.{domain}.dlq for good?",
                      abort=True)
    n = run(purge(str(s.amqp_url), str(s.database_url), domain,
                  _filter(reason, type_, event_id, limit), getpass.getuser()))
    console.print(f"purged {n} message(s) from haodian.{domain}.dlq")
