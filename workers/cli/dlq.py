"""`haodian dlq list|show|replay|purge`: dead letters from the command line.

Every text a dead letter carries came from outside: it is printed through
workers/printable.py, never as markup or raw control characters. Outside a terminal every
value is printed whole (workers/cli/common.py); `list --json` and `show --json` are for
scripts."""

import getpass
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from workers.cli.common import brief, console, err, run, settings, write_json
from workers.cli.printable import shown, visible

if TYPE_CHECKING:
    from workers.tools.dlq import DeadLetter, Filter

dlq_app = typer.Typer(no_args_is_help=True, help="Inspect, replay and purge dead letters.")

DomainOpt = Annotated[str, typer.Option(
    "--domain", "-d", help="the domain whose dead letters, or unroutable")]
ReasonOpt = Annotated[str | None, typer.Option(help="only this reason code")]
TypeOpt = Annotated[str | None, typer.Option("--type", help="only this event type (glob)")]
IdOpt = Annotated[str | None, typer.Option("--event-id", help="only this event id")]
ContainsOpt = Annotated[str | None, typer.Option(help="only bodies containing this text")]
LimitOpt = Annotated[int | None, typer.Option(min=1, help="at most this many")]
JsonOpt = Annotated[bool, typer.Option("--json", help="one JSON document, for scripts")]


def _place(domain: str) -> str:
    """The place named on the command line (exit 2 if unknown); logs go to stderr."""
    from workers import logs
    from workers.registry import RegistryError, select_place

    logs.configure(settings().log_level, "console")
    try:
        return select_place(domain)
    except RegistryError as exc:
        err.print(f"[red]{shown(exc)}[/red]")
        raise typer.Exit(2) from None


def _where(place: str) -> str:
    from workers import topology

    return topology.dead_letter_queue(place)


def _filter(reason: str | None = None, type_: str | None = None, event_id: str | None = None,
            limit: int | None = None, contains: str | None = None,
            everything: bool = False) -> "Filter":
    from workers.tools.dlq import Filter

    return Filter(reason=reason, type=type_, event_id=event_id, limit=limit,
                  contains=contains, everything=everything)


def _fresh(place: str) -> None:
    """Collect what waits in the broker first; without a broker, show what is kept."""
    import aiormq

    from workers.tools.dlq import ingest_places

    s = settings()
    try:
        run(ingest_places(str(s.amqp_url), str(s.database_url), [place]))
    except (OSError, aiormq.exceptions.AMQPError) as exc:
        err.print(f"[yellow]broker unavailable ({shown(type(exc).__name__)}): showing the "
                  "dead letters kept so far[/yellow]")


def _refused(exc: Exception) -> typer.Exit:
    err.print(f"[red]{shown(exc)}[/red]")
    return typer.Exit(1)


@dlq_app.command("list")
def dlq_list(domain: DomainOpt, reason: ReasonOpt = None, type_: TypeOpt = None,
             event_id: IdOpt = None, contains: ContainsOpt = None, limit: LimitOpt = None,
             json_: JsonOpt = False) -> None:
    """List dead letters with their reasons (# is the number `show` takes); on a terminal
    the detail is cut at 80 characters, elsewhere every value is whole."""
    from workers.tools.dlq import list_dead_letters

    place = _place(domain)
    _fresh(place)
    s = settings()
    found = run(list_dead_letters(str(s.amqp_url), str(s.database_url), place,
                                  _filter(reason, type_, event_id, limit, contains),
                                  fresh=False))
    if json_:
        write_json([d.summary() for d in found])
        return
    table = Table(title=f"{_where(place)}: {len(found)} message(s)")
    for col in ("#", "reason", "type", "event id", "rejected at", "detail"):
        # Ids are what an operator copies into `show`/`replay`: never wrapped; the detail
        # gives way first.
        table.add_column(col, no_wrap=col in ("#", "event id"))
    for d in found:
        table.add_row(str(d.position), shown(d.reason), shown(d.type), shown(d.event_id),
                      d.rejected_at[:26], shown(brief(d.detail)))
    console.print(table)


def _display(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return visible(value)
    return visible(value if isinstance(value, str) else repr(value))


def _print_letter(d: "DeadLetter") -> None:
    from workers.runtime.amqp_codec import property_values

    console.print(f"dead letter #{d.position} of {_where(d.place)}: {shown(d.reason)}, "
                  f"routing key {shown(d.routing_key)}, {d.copies} cop"
                  + ("y" if d.copies == 1 else "ies"), soft_wrap=True, highlight=False)
    values = property_values(d.properties)
    headers = values.pop("headers", {})
    for title, items in (("properties", values), ("headers", headers)):
        console.print(f"{title}:", highlight=False)
        for k, v in items.items():
            console.print(f"  {shown(k)}: {shown(_display(v))}", soft_wrap=True,
                          highlight=False)


@dlq_app.command("show")
def dlq_show(domain: DomainOpt, position: Annotated[int, typer.Argument(help="# from list")],
             raw: Annotated[bool, typer.Option(
                 help="write the body's bytes even to a terminal")] = False,
             json_: JsonOpt = False) -> None:
    """Show one dead letter: properties, headers and the body as received (to a terminal
    with control characters made visible, unless --raw). --json: the list's fields, every
    property and header, the body as text (when UTF-8) and as base64."""
    from workers.tools.dlq import get_dead_letter

    place = _place(domain)
    _fresh(place)
    s = settings()
    d = run(get_dead_letter(str(s.database_url), place, position))
    if d is None:
        err.print(f"no dead letter #{position} in {_where(place)}")
        raise typer.Exit(1)
    if json_:
        write_json(d.as_json())
        return
    _print_letter(d)
    console.file.flush()
    if raw or not sys.stdout.isatty():
        sys.stdout.buffer.write(d.body + b"\n")
    else:
        console.print(shown(d.body), soft_wrap=True, highlight=False)


@dlq_app.command("replay")
def dlq_replay(domain: DomainOpt, reason: ReasonOpt = None, type_: TypeOpt = None,
               event_id: IdOpt = None, contains: ContainsOpt = None,
               limit: LimitOpt = None) -> None:
    """Republish matching dead letters to haodian.events (audited)."""
    from workers.tools.dlq import DlqError, replay

    place = _place(domain)
    s = settings()
    try:
        n = run(replay(str(s.amqp_url), str(s.database_url), place,
                       _filter(reason, type_, event_id, limit, contains), getpass.getuser()))
    except DlqError as exc:
        raise _refused(exc) from None
    console.print(f"replayed {n} message(s) from {_where(place)}")


@dlq_app.command("purge")
def dlq_purge(domain: DomainOpt, reason: ReasonOpt = None, type_: TypeOpt = None,
              event_id: IdOpt = None, contains: ContainsOpt = None, limit: LimitOpt = None,
              all_: Annotated[bool, typer.Option(
                  "--all", help="every dead letter of the domain (no filter)")] = False,
              yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False) -> None:
    """Delete matching dead letters for good (audited). Without a filter, needs --all."""
    from workers.tools.dlq import DlqError, check_purge, purge

    place = _place(domain)
    try:
        flt = _filter(reason, type_, event_id, limit, contains, all_)
        check_purge(flt)
    except DlqError as exc:
        err.print(f"[red]{shown(exc)}[/red]")
        raise typer.Exit(2) from None
    s = settings()  # a bad setting is said before the question, not after
    if not yes:
        what = "EVERY dead letter" if all_ else "matching dead letters"
        typer.confirm(f"Delete {what} of {_where(place)} for good?", abort=True)
    try:
        n = run(purge(str(s.amqp_url), str(s.database_url), place, flt, getpass.getuser()))
    except DlqError as exc:
        raise _refused(exc) from None
    console.print(f"purged {n} message(s) from {_where(place)}")
