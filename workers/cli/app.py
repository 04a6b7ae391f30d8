"""The `haodian` command line: one console script for every operation."""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import asyncpg
import typer
from rich.table import Table

from workers import logs
from workers.cli.common import console, err, run, settings
from workers.cli.dlq import dlq_app
from workers.cli.gateway import gateway_app
from workers.settings import Settings

if TYPE_CHECKING:
    pass

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="haodian: event-processing workers for a social-commerce platform.")
schema_app = typer.Typer(no_args_is_help=True, help="Wire contract documents.")
ledger_app = typer.Typer(no_args_is_help=True, help="The double-entry ledger.")
app.add_typer(dlq_app, name="dlq")
app.add_typer(gateway_app, name="gateway")
app.add_typer(schema_app, name="schema")
app.add_typer(ledger_app, name="ledger")


def main() -> None:
    app()


# ---- migrate ----------------------------------------------------------------------------
@app.command()
def migrate() -> None:
    """Apply database migrations and declare the broker topology (both idempotent)."""
    from workers.tools.setup import migrate_all

    s = settings()
    logs.configure(s.log_level, "console")
    applied = run(migrate_all(s))
    console.print(f"migrations applied: {', '.join(applied) if applied else 'none (up to date)'}")
    console.print("topology declared")


# ---- worker -----------------------------------------------------------------------------
@app.command()
def worker(
    domain: Annotated[list[str], typer.Option(help="certification, compliance, settlement, "
                                              "deposit, or all; repeatable")] = ["all"],  # noqa: B006
    prefetch: Annotated[int | None, typer.Option(help="unacked messages per domain")] = None,
    batch_size: Annotated[int | None, typer.Option(help="messages per transaction")] = None,
    batch_wait_ms: Annotated[int | None, typer.Option(help="wait for a batch to fill")] = None,
    grace_period_s: Annotated[float | None, typer.Option(help="SIGTERM drain limit")] = None,
    burst: Annotated[bool, typer.Option(help="exit once the queues are drained")] = False,
    metrics_port: Annotated[int | None, typer.Option(
        help="serve /metrics, /healthz, /readyz on this port; 0 = off")] = None,
    processes: Annotated[int | None, typer.Option(
        min=1, help="supervise N worker processes (metrics on port + slot)")] = None,
) -> None:
    """Consume and process events until SIGTERM (or, with --burst, until idle)."""
    from workers.registry import RegistryError, resolve
    from workers.runtime.worker import Worker

    s = settings(prefetch=prefetch, batch_size=batch_size, batch_wait_ms=batch_wait_ms,
                 grace_period_s=grace_period_s, metrics_port=metrics_port)
    logs.configure(s.log_level, s.log_format)
    try:
        domains = resolve(domain)
    except RegistryError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if processes is not None:
        raise typer.Exit(_supervise(s, processes, burst, [f"--domain={d}" for d in domain] + [
            f"--{name.replace('_', '-')}={value}" for name, value in (
                ("prefetch", prefetch), ("batch_size", batch_size),
                ("batch_wait_ms", batch_wait_ms), ("grace_period_s", grace_period_s))
            if value is not None]))
    raise typer.Exit(run(Worker(s, domains, burst=burst).run()))


def _supervise(s: Settings, processes: int, burst: bool, worker_args: list[str]) -> int:
    from workers.ops.config import load_ops_settings
    from workers.ops.supervisor import Supervisor, child_command

    if burst:
        err.print("[red]--burst runs one process: leave out --processes[/red]")
        return 2
    ops = load_ops_settings()
    return run(Supervisor(lambda slot: child_command(worker_args, s.metrics_port, slot),
                          processes, s.grace_period_s, ops.restart_backoff_s,
                          ops.restart_backoff_max_s).run())


# ---- publish ----------------------------------------------------------------------------
@app.command()
def publish(
    file: Annotated[str, typer.Argument(help="NDJSON file of CloudEvents, or - for stdin")],
) -> None:
    """Publish CloudEvents (one JSON object per line) to haodian.events, with confirms."""
    from workers.cli.publish import publish_ndjson

    s = settings()
    logs.configure(s.log_level, "console")
    try:
        stream = sys.stdin.buffer if file == "-" else Path(file).open("rb")
    except OSError as exc:
        err.print(f"[red]cannot read {file}: {exc.strerror}[/red]")
        raise typer.Exit(2) from None
    with stream:
        refused = run(publish_ndjson(s, stream, console))
    raise typer.Exit(1 if refused else 0)


# ---- schema -----------------------------------------------------------------------------
@schema_app.command("export")
def schema_export(directory: Annotated[Path, typer.Argument(help="output folder")]) -> None:
    """Write one JSON Schema per event type (inputs/ and results/)."""
    from workers.contract.schema_export import export

    written = export(directory)
    console.print(f"wrote {len(written)} schema files under {directory}")


# ---- ledger -----------------------------------------------------------------------------
@ledger_app.command("verify")
def ledger_verify() -> None:
    """Check every ledger invariant over the whole database; non-zero exit on a failure."""
    from workers.tools.verify import verify

    s = settings()

    async def go() -> tuple[list[str], list[object]]:
        conn = await asyncpg.connect(str(s.database_url))
        try:
            return await verify(conn)  # type: ignore[return-value]
        finally:
            await conn.close()

    ran, violations = run(go())
    for v in violations:
        err.print(f"[red]FAILED[/red] {v.check}: {v.rows}")  # type: ignore[attr-defined]
    console.print(f"{len(ran)} checks, {len(violations)} failed")
    raise typer.Exit(1 if violations else 0)


@ledger_app.command("balance")
def ledger_balance(store: Annotated[str, typer.Option(help="store id")]) -> None:
    """A store's balances and its month-to-date net and commission."""
    import orjson

    from workers.tools.ledger import store_balance

    s = settings()

    async def go() -> dict[str, object]:
        conn = await asyncpg.connect(str(s.database_url))
        try:
            return await store_balance(conn, store)
        finally:
            await conn.close()

    console.print_json(orjson.dumps(run(go()), default=str).decode())


# ---- bench ------------------------------------------------------------------------------
@app.command()
def bench(
    domain: Annotated[str, typer.Argument(help="certification, compliance, settlement, "
                                        "or gateway")],
    events: Annotated[int, typer.Option(help="pre-filled events to drain")] = 20000,
    latency_s: Annotated[float, typer.Option(help="seconds at half rate; 0 = skip")] = 20,
    run_orders: Annotated[int, typer.Option(help="settlement: due orders in one run; 0 = skip")
                          ] = 0,
    soak_s: Annotated[float, typer.Option(help="steady load at a quarter of the rate while "
                                          "RSS is sampled; 0 = skip")] = 0,
    two_workers: Annotated[bool, typer.Option(help="also drain with two worker processes "
                                              "and report which resource saturates")] = True,
    out: Annotated[Path, typer.Option(help="where the JSON report goes")] = Path("artifacts"),
) -> None:
    """Throughput, latency, CPU and memory against the bare baseline (DESIGN §5)."""
    from workers.bench.suite import bench_domain, print_report, save

    s = settings()
    logs.configure("warning", "console")
    if domain == "gateway":  # events/s through `haodian gateway` beside bare AMQP publishing
        from workers.bench.gateway import bench_gateway, print_gateway_report

        report = run(bench_gateway(s, events, console))
        print_gateway_report(report, console)
        console.print(f"report: {save(report, out)}")
        return
    report = run(bench_domain(s, domain, events, latency_s, run_orders, console, soak_s,
                              two_workers))
    print_report(report, console)
    console.print(f"report: {save(report, out)}")


# ---- demo -------------------------------------------------------------------------------
@app.command()
def demo(
    orders: Annotated[int, typer.Option(min=100, help="confirmed orders in the workload")] = 3000,
    worker: Annotated[bool, typer.Option(help="run a worker in-process; --no-worker relies on "
                                         "`haodian worker` processes already running")] = True,
) -> None:
    """Run a realistic workload end to end on the local services and print a summary."""
    from workers.demo.run import run_demo

    s = settings()
    logs.configure("error", "console")  # the demo's own output tells the story
    raise typer.Exit(run(run_demo(s, console, orders=orders, start_worker=worker)))


# ---- operations: status, scale, monitor (workers/ops) -----------------------------------
def _domains(domain: list[str]) -> list[str]:
    from workers.registry import DOMAIN_NAMES

    names = list(DOMAIN_NAMES) if "all" in domain else domain
    unknown = [d for d in names if d not in DOMAIN_NAMES]
    if unknown:
        err.print(f"[red]unknown domain {unknown[0]!r}; choose from "
                  f"{', '.join(DOMAIN_NAMES)} or all[/red]")
        raise typer.Exit(2)
    return names


OpsDomainOpt = Annotated[list[str], typer.Option(
    "--domain", "-d", help="a domain, or all; repeatable")]
ManagementOpt = Annotated[str | None, typer.Option(
    help="RabbitMQ management API, e.g. http://guest:guest@127.0.0.1:15672; '' = AMQP only "
         "[env HAODIAN_MANAGEMENT_URL]")]


@app.command()
def status(
    domain: OpsDomainOpt = ["all"],  # noqa: B006
    watch: Annotated[bool, typer.Option(help="redraw until Ctrl-C")] = False,
    interval_s: Annotated[float, typer.Option(help="--watch refresh period")] = 2.0,
    json_: Annotated[bool, typer.Option("--json", help="one JSON report, for scripts")] = False,
    management_url: ManagementOpt = None,
) -> None:
    """Queues (ready, unacked, consumers, rates, DLQ, retry), lag, live workers, overdue reviews."""
    import contextlib

    import aiormq
    import orjson

    from workers.ops import status as ops_status
    from workers.ops.config import load_ops_settings

    s, ops, names = settings(), load_ops_settings(), _domains(domain)
    logs.configure("warning", "console")
    url = ops.management_url if management_url is None else management_url
    if watch:
        with contextlib.suppress(KeyboardInterrupt):
            run(ops_status.watch(s, ops, names, url or None, interval_s, console))
        return
    try:
        report = run(ops_status.collect(s, ops, names, url or None))
    except (OSError, aiormq.exceptions.AMQPError, asyncpg.PostgresError) as exc:
        err.print(f"[red]status unavailable: {type(exc).__name__}: {exc}[/red]")
        raise typer.Exit(1) from None
    if json_:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        console.print(ops_status.render(report))


scale_app = typer.Typer(no_args_is_help=True, help="Capacity planning for the workers.")
app.add_typer(scale_app, name="scale")


@scale_app.command("advise")
def scale_advise(
    target_lag_s: Annotated[float, typer.Option(help="keep end-to-end lag under this")] = 60.0,
    domain: OpsDomainOpt = ["all"],  # noqa: B006
    window_s: Annotated[float, typer.Option(help="measure arrivals over this")] = 5.0,
    json_: Annotated[bool, typer.Option("--json", help="JSON, for scripts")] = False,
) -> None:
    """Worker processes per domain to drain the backlog and keep lag under the target."""
    import orjson

    from workers.ops.config import load_ops_settings
    from workers.ops.scale import measure

    s, ops, names = settings(), load_ops_settings(), _domains(domain)
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


@app.command()
def monitor(
    host: Annotated[str, typer.Option(help="address to bind [env HAODIAN_MONITOR_HOST]")
                    ] = "",
    port: Annotated[int | None, typer.Option(help="TCP port [env HAODIAN_MONITOR_PORT]")
                    ] = None,
    domain: OpsDomainOpt = ["all"],  # noqa: B006
    management_url: ManagementOpt = None,
) -> None:
    """HTTP dashboard: live queues, DLQ by reason (replay/purge), workers, business panels.
    Needs HAODIAN_MONITOR_TOKEN; open /?token=… once."""
    from workers.ops.config import load_ops_settings
    from workers.ops.monitor.app import Monitor, serve

    s, ops, names = settings(), load_ops_settings(), _domains(domain)
    if not ops.monitor_token:
        err.print("[red]HAODIAN_MONITOR_TOKEN is not set: the dashboard refuses to run "
                  "without a token[/red]")
        raise typer.Exit(2)
    logs.configure(s.log_level, s.log_format)
    url = ops.management_url if management_url is None else management_url
    mon = Monitor(s, ops, ops.monitor_token, names, url or None)
    bind_host = host or ops.monitor_host
    bind_port = ops.monitor_port if port is None else port
    console.print(f"haodian monitor on http://{bind_host}:{bind_port}/ (open /?token=…)")
    raise typer.Exit(run(serve(mon, bind_host, bind_port)))
