"""The `haodian` command line: one console script for every operation."""

from pathlib import Path
from typing import Annotated

import typer

from workers import logs
from workers.cli import ops, publish
from workers.cli.common import console, err, run, settings, settings_and
from workers.cli.dlq import dlq_app
from workers.cli.gateway import gateway_app
from workers.cli.ledger import ledger_app
from workers.cli.printable import shown
from workers.cli.retention import retention_app
from workers.cli.roles import roles_app
from workers.cli.schema import schema_app
from workers.cli.statement import statement as statement_command
from workers.settings import OpsSettings, Settings

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="haodian: event-processing workers for a social-commerce platform.")
app.add_typer(dlq_app, name="dlq")
app.add_typer(gateway_app, name="gateway")
app.add_typer(schema_app, name="schema")
app.add_typer(ledger_app, name="ledger")
app.add_typer(ops.scale_app, name="scale")
app.add_typer(roles_app, name="roles")
app.add_typer(retention_app, name="retention")


def main() -> None:
    from workers.broker import TLSRefused
    from workers.db import DatabaseTLSRefused
    try:
        app()
    except (TLSRefused, DatabaseTLSRefused) as exc:  # a setting to fix, not a crash
        err.print(f"[red]{exc}[/red]", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None


# ---- migrate ----------------------------------------------------------------------------
@app.command()
def migrate() -> None:
    """Apply database migrations and declare the broker topology (both idempotent)."""
    from workers.tools.migrate import MigrationError, migrate_all

    s = settings()
    logs.configure(s.log_level, "console")
    try:
        done = run(migrate_all(s, progress=console.print))
    except MigrationError as exc:
        err.print(f"[red]{exc}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    applied = done.applied
    console.print(f"migrations applied: {', '.join(applied) if applied else 'none (up to date)'}")
    for statement in done.grants:
        console.print(f"privileges: {statement}", highlight=False)
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

    s, ops = settings_and(OpsSettings, prefetch=prefetch, batch_size=batch_size,
                          batch_wait_ms=batch_wait_ms, grace_period_s=grace_period_s,
                          metrics_port=metrics_port)
    logs.configure(s.log_level, s.log_format)
    try:
        domains = resolve(domain)
    except RegistryError as exc:
        err.print(f"[red]{shown(exc)}[/red]")
        raise typer.Exit(2) from None
    if processes is not None:
        raise typer.Exit(_supervise(s, ops, processes, burst, [f"--domain={d}" for d in domain] + [
            f"--{name.replace('_', '-')}={value}" for name, value in (
                ("prefetch", prefetch), ("batch_size", batch_size),
                ("batch_wait_ms", batch_wait_ms), ("grace_period_s", grace_period_s))
            if value is not None]))
    raise typer.Exit(run(Worker(s, domains, burst=burst, ops=ops).run()))


def _supervise(s: Settings, ops: OpsSettings, processes: int, burst: bool,
               worker_args: list[str]) -> int:
    from workers.ops.supervisor import Supervisor, child_command

    if burst:
        err.print("[red]--burst runs one process: leave out --processes[/red]")
        return 2
    return run(Supervisor(lambda slot: child_command(worker_args, s.metrics_port, slot),
                          processes, s.grace_period_s, ops.restart_backoff_s,
                          ops.restart_backoff_max_s).run())


# ---- bench ------------------------------------------------------------------------------
@app.command()
def bench(
    domain: Annotated[str, typer.Argument(help="certification, compliance, settlement, "
                                        "gateway, or statements")],
    events: Annotated[int, typer.Option(help="pre-filled events to drain")] = 20000,
    latency_s: Annotated[float, typer.Option(help="seconds at half rate; 0 = skip")] = 20,
    run_orders: Annotated[int, typer.Option(help="settlement: due orders in one run; 0 = skip")
                          ] = 0,
    soak_s: Annotated[float, typer.Option(help="steady load at a quarter of the rate while "
                                          "RSS is sampled; 0 = skip")] = 0,
    soak_rate: Annotated[float, typer.Option(
        help="soak events/s; 0 = a quarter of the drain rate")] = 0,
    two_workers: Annotated[bool, typer.Option(help="also drain with two worker processes "
                                              "and report which resource saturates")] = True,
    retention_every_s: Annotated[float, typer.Option(
        help="the worker under test runs retention this often; 0 = retention off")] = 0,
    retention_window_s: Annotated[float, typer.Option(
        help="with --retention-every-s: inbox and outbox windows in seconds")] = 30,
    place: Annotated[str, typer.Option(help="database and vhost the bench may wipe")
                     ] = "haodian_bench",
    out: Annotated[Path, typer.Option(help="where the JSON report goes")] = Path("artifacts"),
    hot_store_share: Annotated[float, typer.Option(
        min=0, max=1, help="settlement: this fraction of the orders goes to one store "
        "(a festival's flagship); the report goes to bench-settlement-hot.json")] = 0,
) -> None:
    """Throughput, latency, CPU and memory against the bare baseline (docs/rules.md §5);
    deadlocks, conflict retries and lock waits with one and two worker processes."""
    from workers.bench.suite import bench_domain, print_report, save
    from workers.gateway.config import GatewaySettings

    # The processes it starts (workers, a gateway) read their settings too: check them now.
    s, _ = settings_and(GatewaySettings if domain == "gateway" else OpsSettings)
    if hot_store_share and domain != "settlement":
        err.print("[red]--hot-store-share applies to settlement only (orders of one "
                  "store)[/red]")
        raise typer.Exit(2)
    logs.configure("warning", "console")
    if domain == "statements":  # statement rendering: time and peak RSS (docs/statements.md)
        import orjson

        from workers.bench.statements import bench_statements_in

        where = "haodian_bench_statements" if place == "haodian_bench" else place
        report = run(bench_statements_in(s, where, events, console))
        console.print_json(orjson.dumps(report).decode())
        console.print(f"report: {save(report, out)}")
        return
    if domain == "gateway":  # events/s through `haodian gateway` beside bare AMQP publishing
        from workers.bench.gateway import bench_gateway, print_gateway_report

        report = run(bench_gateway(s, events, console))
        print_gateway_report(report, console)
        console.print(f"report: {save(report, out)}")
        return
    report = run(bench_domain(s, domain, events, latency_s, run_orders, console, soak_s,
                              two_workers, retention_every_s, retention_window_s, place,
                              soak_rate, hot_store_share))
    print_report(report, console)
    console.print(f"report: {save(report, out)}")


# ---- demo -------------------------------------------------------------------------------
@app.command()
def demo(
    orders: Annotated[int, typer.Option(min=100, help="confirmed orders in the workload")] = 3000,
    worker: Annotated[bool, typer.Option(help="run a worker in-process; --no-worker relies on "
                                         "`haodian worker` processes already running")] = True,
    migrate: Annotated[bool, typer.Option(help="migrate first; --no-migrate when `haodian "
                                          "migrate` ran as the migration role")] = True,
) -> None:
    """Run a realistic workload end to end on the local services and print a summary."""
    from workers.demo.run import run_demo

    s, ops = settings_and(OpsSettings)
    logs.configure("error", "console")  # the demo's own output tells the story
    raise typer.Exit(run(run_demo(s, console, orders=orders, start_worker=worker, ops=ops,
                                  migrate=migrate)))


# Commands that live in their own modules, after the ones above in `haodian --help`.
app.command()(publish.publish)
app.command()(ops.status)
app.command()(ops.monitor)
app.command(name="monitor-token")(ops.monitor_token)
app.command()(statement_command)
