"""`haodian status`, `haodian scale advise` and `haodian monitor`: the operations side
(workers/ops)."""

import sys
from pathlib import Path
from typing import Annotated

import asyncpg
import typer
from rich.table import Table

from workers import logs
from workers.cli.common import console, err, run, settings_and
from workers.cli.printable import shown
from workers.settings import OpsSettings


def _domains(domain: list[str]) -> list[str]:
    from workers.registry import RegistryError, select

    try:
        return select(domain)
    except RegistryError as exc:
        err.print(f"[red]{shown(exc)}[/red]")
        raise typer.Exit(2) from None


OpsDomainOpt = Annotated[list[str], typer.Option(
    "--domain", "-d", help="a domain, or all; repeatable")]
ManagementOpt = Annotated[str | None, typer.Option(
    help="RabbitMQ management API, e.g. http://guest:guest@127.0.0.1:15672; '' = AMQP only "
         "[env HAODIAN_MANAGEMENT_URL]")]


def status(
    domain: OpsDomainOpt = ["all"],  # noqa: B006
    watch: Annotated[bool, typer.Option(
        help="redraw until Ctrl-C, fitted to the terminal (80x24 and up)")] = False,
    interval_s: Annotated[float, typer.Option(help="--watch refresh period")] = 2.0,
    json_: Annotated[bool, typer.Option("--json", help="one JSON report, for scripts")] = False,
    management_url: ManagementOpt = None,
) -> None:
    """Queues (ready, unacked, consumers, rates, DLQ, retry), lag, live workers, overdue reviews."""
    import contextlib

    import aiormq
    import orjson

    from workers.ops import status as ops_status
    from workers.ops.status_screen import watch as watch_screen
    if watch and json_:
        err.print("[red]--watch redraws a screen; --json writes one report: choose one[/red]")
        raise typer.Exit(2)
    (s, ops), names = settings_and(OpsSettings), _domains(domain)
    logs.configure("warning", "console")
    url = ops.management_url if management_url is None else management_url
    if watch:
        with contextlib.suppress(KeyboardInterrupt):
            run(watch_screen(s, ops, names, url or None, interval_s, console))
        return
    try:
        report = run(ops_status.collect(s, ops, names, url or None))
    except (OSError, aiormq.exceptions.AMQPError, asyncpg.PostgresError) as exc:
        err.print(f"[red]status unavailable: {type(exc).__name__}: {shown(exc)}[/red]")
        raise typer.Exit(1) from None
    if json_:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        console.print(ops_status.render(report))


scale_app = typer.Typer(no_args_is_help=True, help="Capacity planning for the workers.")


@scale_app.command("advise")
def scale_advise(
    target_lag_s: Annotated[float, typer.Option(help="keep end-to-end lag under this")] = 60.0,
    domain: OpsDomainOpt = ["all"],  # noqa: B006
    window_s: Annotated[float, typer.Option(help="measure arrivals over this")] = 5.0,
    json_: Annotated[bool, typer.Option("--json", help="JSON, for scripts")] = False,
) -> None:
    """Worker processes per domain to drain the backlog and keep lag under the target."""
    import orjson

    from workers.ops.scale import measure
    (s, ops), names = settings_and(OpsSettings), _domains(domain)
    advice = run(measure(str(s.amqp_url), str(s.database_url), ops, names, target_lag_s,
                         window_s))
    if json_:
        sys.stdout.write(orjson.dumps([a.as_json() for a in advice]).decode() + "\n")
        return
    table = Table(title=f"worker processes to keep lag under {target_lag_s:g} s")
    for col in ("domain", "backlog", "arrivals/s", "per process/s", "processes"):
        table.add_column(col, justify="left" if col == "domain" else "right")
    for a in advice:
        table.add_row(a.domain, f"{a.depth:,}", f"{a.arrival_per_s:,.1f}",
                      f"{a.throughput_per_process:,.0f}", f"[bold]{a.processes}[/bold]")
    console.print(table)


def monitor(
    host: Annotated[str, typer.Option(help="address to bind [env HAODIAN_MONITOR_HOST]")
                    ] = "",
    port: Annotated[int | None, typer.Option(help="TCP port [env HAODIAN_MONITOR_PORT]")
                    ] = None,
    domain: OpsDomainOpt = ["all"],  # noqa: B006
    management_url: ManagementOpt = None,
) -> None:
    """HTTP dashboard: live queues, DLQ by reason (replay/purge), workers, business panels.
    Needs HAODIAN_MONITOR_TOKEN (or HAODIAN_MONITOR_TOKEN_FILE); open /?token=… once."""
    from workers.ops.monitor.app import Monitor, serve
    (s, ops), names = settings_and(OpsSettings), _domains(domain)
    try:
        token = ops.monitor_secret()
    except OSError as exc:
        err.print(f"[red]HAODIAN_MONITOR_TOKEN_FILE cannot be read: {exc}[/red]")
        raise typer.Exit(2) from exc
    if not token:
        err.print("[red]HAODIAN_MONITOR_TOKEN is not set: the dashboard refuses to run "
                  "without a token (`haodian monitor-token --output FILE` makes one)[/red]")
        raise typer.Exit(2)
    logs.configure(s.log_level, s.log_format)
    url = ops.management_url if management_url is None else management_url
    mon = Monitor(s, ops, token, names, url or None)
    bind_host = host or ops.monitor_host
    bind_port = ops.monitor_port if port is None else port
    console.print(f"haodian monitor on http://{bind_host}:{bind_port}/ (open /?token=…)")
    raise typer.Exit(run(serve(mon, bind_host, bind_port)))


def monitor_token(
    output: Annotated[Path | None, typer.Option(
        help="write the token to this file (mode 0644: Prometheus reads it) instead of "
             "printing it")] = None,
    force: Annotated[bool, typer.Option(help="replace an existing file")] = False,
) -> None:
    """A new random dashboard token: for HAODIAN_MONITOR_TOKEN, or the file that both the
    monitor (HAODIAN_MONITOR_TOKEN_FILE) and Prometheus (credentials_file) read."""
    import secrets
    token = secrets.token_urlsafe(32)
    if output is None:
        console.print(token, soft_wrap=True)
        return
    if output.exists() and not force:
        err.print(f"[red]{output} exists; --force replaces it (and logs out every "
                  "dashboard viewer and Prometheus until they read the new one)[/red]")
        raise typer.Exit(2)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(token + "\n")
    output.chmod(0o644)
    console.print(f"wrote a new monitor token to {output}")
