"""`haodian scale advise --peak FILE`: the plan of workers/ops/peak.py as tables, or JSON."""

import math
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from workers.ops.peak import PeakPlan
from workers.ops.peak_profile import Resolved


def as_json(resolved: Resolved, plan: PeakPlan) -> dict[str, Any]:
    return {"profile": resolved.profile.model_dump(mode="json"),
            "sources": resolved.sources, **plan.as_json()}


def _lag(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:,.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:,.1f} min"
    return f"{seconds / 3600:,.1f} h"


def render(resolved: Resolved, plan: PeakPlan) -> Group:
    p = resolved.profile
    title = (f"peak: {p.normal_orders_per_s:,.0f} orders/s × {p.peak_multiplier:g} for "
             f"{p.peak_duration_min:g} min, flagship {p.flagship_share:.0%} of orders, "
             f"target lag {p.target_lag_s:g} s"
             + (f", processes added {p.scale_up_delay_s:g} s into the peak"
                if p.scale_up_delay_s else ", processes running before the peak"))
    domains = Table(title=title)
    for col in ("domain", "events/s normal → peak", "per process/s", "ceiling/s",
                "processes normal / at start / peak", "capacity/s", "peak lag", "backlog gone",
                "queue shards"):
        domains.add_column(col, justify="left" if col == "domain" else "right")
    for d in plan.domains:
        flag = "" if d.target_met else " [red](over target)[/red]"
        domains.add_row(
            d.domain, f"{d.normal_per_s:,.0f} → {d.peak_per_s:,.0f}",
            f"{d.per_process_per_s:,.0f}",
            "—" if d.ceiling_per_s is None else f"{d.ceiling_per_s:,.0f} {d.ceiling_from}"
            + (" [yellow](binds)[/yellow]" if d.capped else ""),
            f"{d.processes_normal} / {d.processes_at_start} / [bold]{d.processes}[/bold]",
            f"{d.capacity_per_s:,.0f}", _lag(d.peak_lag_s) + flag,
            (f"minute {d.drained_after_s / 60:,.0f}" if d.drained_after_s
             else "never" if d.drained_after_s is None else "no backlog"),
            str(d.queue_shards))
    infra = Table(title=f"at the peak: {plan.peak_events_per_s:,.0f} events/s")
    infra.add_column("part")
    infra.add_column("needed", justify="right")
    infra.add_column("busy at the peak", justify="right")
    b, pg = p.broker, p.postgres
    infra.add_row("worker processes (one core each)", f"[bold]{plan.worker_cores}[/bold]",
                  "")
    infra.add_row(f"RabbitMQ nodes ({b.cores_per_node:g} cores each, {b.replicas} replicas "
                  "per queue)", f"[bold]{plan.broker_nodes}[/bold]",
                  f"{plan.broker_cores_busy:g} cores")
    infra.add_row("PostgreSQL cores (at most 80 % busy)", f"[bold]{plan.postgres_cores}[/bold]",
                  f"{plan.postgres_cores_busy:g} cores")
    infra.add_row(f"PostgreSQL connections ({pg.pool_per_process} per process)",
                  str(plan.postgres_connections), "")
    over_time = Table(title="lag over time (minutes from the peak's start; queueing only)")
    over_time.add_column("minute", justify="right")
    over_time.add_column("orders/s", justify="right")
    for d in plan.domains:
        for col in ("arrivals/s", "capacity/s", "backlog", "lag"):
            over_time.add_column(f"{d.domain} {col}", justify="right")
    for row in plan.timeline:
        cells = [f"{row['minute']:g}", f"{row['orders_per_s']:,.0f}"]
        for d in plan.domains:
            q = row[d.domain]
            cells += [f"{q['arrivals_per_s']:,.0f}", f"{q['capacity_per_s']:,.0f}",
                      f"{q['backlog']:,}", _lag(q["lag_s"])]
        over_time.add_row(*cells)
    notes = [Text("figures not in the profile:", style="bold")] + [
        Text(f"  {field} = {_value(resolved, field)}: {source}")
        for field, source in resolved.sources.items()]
    for d in plan.domains:
        if d.capped and d.ceiling_per_s is not None:
            useful = math.ceil(d.ceiling_per_s / d.per_process_per_s - 1e-9)
            why = (
                "every batch holds the day's statistics row until its commit "
                "(docs/scaling.md §5): take those figures out of the batch transaction to "
                "lift it; sharding the queue does not (it is one row)"
                if d.ceiling_from == "serial" else
                "batches holding flagship orders queue for its balance row: shard the "
                "queue by store (docs/scaling.md §3) so that only the flagship's shard waits")
            notes.append(Text(
                f"{d.domain}: no number of processes passes {d.ceiling_per_s:,.0f}/s "
                f"(peak {d.peak_per_s:,.0f}/s; more than {useful} processes add nothing): "
                f"{why}.", style="yellow"))
        if p.scale_up_delay_s and d.peak_lag_unprepared_s > d.peak_lag_s:
            notes.append(Text(
                f"{d.domain}: with the usual {d.processes_normal} until the scale-up the lag "
                f"would peak at {_lag(d.peak_lag_unprepared_s)}: have "
                f"{d.processes_at_start} running when the peak begins (KEDA minReplicaCount).",
                style="yellow"))
    return Group(domains, infra, over_time, *notes)


def _value(resolved: Resolved, dotted: str) -> str:
    node: Any = resolved.profile
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
    return f"{node:g}" if isinstance(node, int | float) else str(node)
