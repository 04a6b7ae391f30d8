"""The capacity plan for a shopping-festival peak: a pure function of a resolved profile
(workers/ops/peak_profile.py), no servers involved.

Per domain, arrivals are λn = normal orders/s × events per order, and λp = λn × the peak
multiplier for the peak's duration D, starting at t = 0 with an empty queue. n worker
processes of μ events/s each serve at most c(n) = min(n μ, ceiling), where the ceiling
is the lower of two (settlement only, docs/scaling.md §5 and §6):

    serial_per_s                  every batch holds the day's statistics row from its
                                  first statement to its commit: batches serialize
    hot_store_per_s × min(1, hot_store_bench_share / flagship_share)

Every batch that holds a flagship order also waits for the flagship's balance row, so
while batches are full the domain is capped near the hot-store bench's figure whatever
the share (the 1 in the min); a share above the bench's also caps the store itself (the
ratio). Until `scale_up_delay_s` only the processes running at the peak's start serve,
then all of the peak's. The queue is a FIFO fluid: the backlog Q grows at λ − c while
λ > c or Q > 0, and the lag of an event arriving at t is the time until everything
before it is served. Lag here is queueing only: add the batch latency
(docs/scaling.md §1, p99 57 ms).

Processes for the peak: the steady rule of `scale advise` at λp (at most 80 % busy).
In this model more never lower the peak lag: with that headroom the queue keeps up once
they run, so a lag comes from what ran before them (a late scale-up) or from a
ceiling, which no number of processes lifts. So the plan also says how many must
already run when the peak begins (the fewest that keep the peak lag within the target;
all of them when even that is not enough, and `target_met` is false).
"""

import itertools
import math
from dataclasses import asdict, dataclass
from typing import Any

from workers.ops.peak_profile import PeakProfile
from workers.ops.scale import UTILISATION, processes_needed

INF = math.inf


@dataclass(frozen=True)
class Fluid:
    """One queue through the peak (rates in events/s, times in s from the peak's start)."""

    peak_rate: float
    normal_rate: float
    peak_s: float
    before_capacity: float  # until delay_s
    capacity: float  # from delay_s on
    delay_s: float = 0.0

    def _pieces(self) -> list[tuple[float, float, float, float]]:
        cuts = sorted({0.0, self.delay_s, self.peak_s})
        return [(a, b, self.peak_rate if a < self.peak_s else self.normal_rate,
                 self.before_capacity if a < self.delay_s else self.capacity)
                for a, b in zip(cuts, [*cuts[1:], INF], strict=True)]

    def backlog_points(self) -> tuple[list[tuple[float, float]], float]:
        """(t, backlog) at every kink of the backlog, and its slope after the last."""
        points, q = [(0.0, 0.0)], 0.0
        for a, b, rate, cap in self._pieces():
            slope = rate - cap if (q > 0 or rate > cap) else 0.0
            if slope < 0 and a + q / -slope < b:
                points.append((a + q / -slope, 0.0))
                q, slope = 0.0, 0.0
            if b == INF:
                return points, slope
            q += slope * (b - points[-1][0])
            points.append((b, q))
        raise AssertionError("the last piece is unbounded")

    def arrived(self, t: float) -> float:
        return self.peak_rate * min(t, self.peak_s) + self.normal_rate * max(0.0, t - self.peak_s)

    def arrival_time(self, v: float) -> float:
        """When the v-th event arrives."""
        at_peak_end = self.peak_rate * self.peak_s
        if v <= at_peak_end:
            return v / self.peak_rate
        return self.peak_s + (v - at_peak_end) / self.normal_rate

    def backlog(self, t: float) -> float:
        points, slope = self.backlog_points()
        return max(0.0, _interpolate(points, slope, t))

    def served(self, t: float) -> float:
        return self.arrived(t) - self.backlog(t)

    def served_time(self, v: float) -> float:
        """When the v-th event has been served (served() is increasing)."""
        points, slope = self.backlog_points()
        knots = sorted({t for t, _ in points} | {self.peak_s})
        done = [(t, self.arrived(t) - max(0.0, _interpolate(points, slope, t))) for t in knots]
        for (t0, s0), (t1, s1) in itertools.pairwise(done):
            if v <= s1:
                return t0 + (v - s0) * (t1 - t0) / (s1 - s0) if s1 > s0 else t0
        t_last, s_last = done[-1]
        final_rate = self.normal_rate - slope  # served per second after the last kink
        return t_last + (v - s_last) / final_rate

    def lag(self, t: float) -> float:
        """Seconds an event arriving at t waits for everything ahead of it."""
        wait = self.served_time(self.arrived(t)) - t
        return wait if wait > 1e-6 else 0.0  # float noise of an empty queue

    def drained_at(self) -> float | None:
        """When the backlog is gone for good (0.0 when it never built); None when it never
        drains (capacity after the peak at or below the normal rate)."""
        points, slope = self.backlog_points()
        if slope > 0 or points[-1][1] > 0:
            return None
        last = 0.0
        for (_, q0), (t1, q1) in itertools.pairwise(points):
            if q0 > 0 and q1 == 0:
                last = t1
        return last

    def horizon(self) -> float:
        """The end of the story: the backlog drained, or the peak's end when it never is."""
        drained = self.drained_at()
        return max(self.peak_s, drained if drained is not None else self.peak_s)

    def peak_lag(self) -> float:
        """The largest lag of an event arriving up to the horizon. Lag is piecewise linear
        in t, kinked where the arrival or the service curve is: the maximum is at one of
        those times."""
        points, _ = self.backlog_points()
        end = self.horizon()
        kinks = {t for t, _ in points} | {self.peak_s, end}
        kinks |= {self.arrival_time(self.served(t)) for t in list(kinks)}
        return max(self.lag(t) for t in kinks if 0 <= t <= end)


def _interpolate(points: list[tuple[float, float]], final_slope: float, t: float) -> float:
    for (t0, v0), (t1, v1) in itertools.pairwise(points):
        if t <= t1:
            return v0 + (v1 - v0) * (t - t0) / (t1 - t0) if t1 > t0 else v1
    t_last, v_last = points[-1]
    return v_last + final_slope * (t - t_last)


@dataclass(frozen=True)
class DomainPlan:
    domain: str
    normal_per_s: float
    peak_per_s: float
    per_process_per_s: float
    ceiling_per_s: float | None  # serial or flagship cap on the domain; None: none
    ceiling_from: str | None  # "serial" (every batch) or "flagship" (its balance row)
    processes_normal: int  # `scale advise`'s rule at the normal rate
    processes: int  # for the peak: the same rule at the peak rate
    processes_at_start: int  # already running when the peak begins
    capacity_per_s: float
    capped: bool  # the ceiling, not the processes, bounds the peak capacity
    peak_lag_s: float  # with processes_at_start, then processes after the scale-up delay
    peak_lag_unprepared_s: float  # with processes_normal until the scale-up delay
    drained_after_s: float | None  # from the peak's start; None: never drains
    target_met: bool
    queue_shards: int  # consistent-hash shards one queue leader can carry


def ceilings(profile: PeakProfile, domain: str) -> dict[str, float]:
    """What no number of processes passes: the serial ceiling, and the flagship's."""
    d = profile.domains[domain]
    caps = {} if d.serial_per_s is None else {"serial": d.serial_per_s}
    if profile.flagship_share and d.hot_store_per_s is not None:
        bench_share = d.hot_store_bench_share or profile.flagship_share
        caps["flagship"] = d.hot_store_per_s * min(1.0, bench_share / profile.flagship_share)
    return caps


def ceiling(profile: PeakProfile, domain: str) -> float | None:
    return min(ceilings(profile, domain).values(), default=None)


def fluid(profile: PeakProfile, domain: str, processes: int, at_start: int) -> Fluid:
    """The domain's queue with `at_start` processes until the scale-up, `processes` after."""
    d = profile.domains[domain]
    assert d.per_process_per_s is not None, "resolve the profile first"
    mu, cap = d.per_process_per_s, ceiling(profile, domain)
    normal = profile.normal_orders_per_s * d.events_per_order
    return Fluid(normal * profile.peak_multiplier, normal, profile.peak_duration_min * 60,
                 min(at_start * mu, cap or INF), min(processes * mu, cap or INF),
                 profile.scale_up_delay_s)


def plan_domain(profile: PeakProfile, domain: str) -> DomainPlan:
    d = profile.domains[domain]
    assert d.per_process_per_s is not None and profile.broker.queue_leader_max_per_s
    mu, cap, target = d.per_process_per_s, ceiling(profile, domain), profile.target_lag_s
    caps = ceilings(profile, domain)
    normal = profile.normal_orders_per_s * d.events_per_order
    peak = normal * profile.peak_multiplier
    steady = processes_needed(0, peak, mu, target)
    usual = min(steady, processes_needed(0, normal, mu, target))
    unprepared = fluid(profile, domain, steady, usual).peak_lag()
    lo, hi = (steady, steady) if not profile.scale_up_delay_s else (usual, steady)
    while lo < hi:  # the fewest already running (lag falls as they grow)
        mid = (lo + hi) // 2
        if fluid(profile, domain, steady, mid).peak_lag() <= target:
            hi = mid
        else:
            lo = mid + 1
    f = fluid(profile, domain, steady, lo)
    lag = f.peak_lag()
    drained = f.drained_at()
    return DomainPlan(
        domain, round(normal, 1), round(peak, 1), mu, None if cap is None else round(cap, 1),
        min(caps, key=lambda k: caps[k]) if caps else None, usual, steady, lo,
        round(f.capacity, 1), cap is not None and cap <= steady * mu,
        round(lag, 1), round(unprepared, 1), None if drained is None else round(drained, 1),
        lag <= target, max(1, math.ceil(peak / profile.broker.queue_leader_max_per_s - 1e-9)))


@dataclass(frozen=True)
class PeakPlan:
    domains: list[DomainPlan]
    peak_events_per_s: float
    worker_cores: int
    broker_nodes: int
    broker_cores_busy: float
    postgres_cores: int
    postgres_cores_busy: float
    postgres_connections: int
    timeline: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def timeline(profile: PeakProfile, plans: list[DomainPlan]) -> list[dict[str, Any]]:
    """One row per step from the peak's start to the horizon (every backlog drained, or
    the peak's end when one never drains), a row at the horizon, one after it when all
    drained; at most 200 rows."""
    step = profile.step_min * 60
    queues = {p.domain: fluid(profile, p.domain, p.processes, p.processes_at_start)
              for p in plans}
    end = max(f.horizon() for f in queues.values())
    times = [i * step for i in range(math.ceil(end / step - 1e-9))] + [end]
    if all(f.drained_at() is not None for f in queues.values()):
        times.append(end + step)  # the lag back at zero
    rows = []
    for t in times[:200]:
        in_peak = t < profile.peak_duration_min * 60
        row: dict[str, Any] = {"minute": round(t / 60, 1), "orders_per_s": round(
            profile.normal_orders_per_s * (profile.peak_multiplier if in_peak else 1), 1)}
        for name, f in queues.items():
            row[name] = {"arrivals_per_s": round(f.peak_rate if in_peak else f.normal_rate, 1),
                         "capacity_per_s": round(f.before_capacity if t < f.delay_s
                                                 else f.capacity, 1),
                         "backlog": round(f.backlog(t)), "lag_s": round(f.lag(t), 1)}
        rows.append(row)
    return rows


def plan(profile: PeakProfile) -> PeakPlan:
    """The plan for a resolved profile (every measured figure filled in)."""
    b, pg = profile.broker, profile.postgres
    assert b.cores_per_1000_per_s and pg.cores_per_1000_per_s, "resolve the profile first"
    plans = [plan_domain(profile, name) for name in profile.domains]
    total = sum(p.peak_per_s for p in plans)
    broker_busy = total / 1000 * b.cores_per_1000_per_s
    # Every quorum queue member applies every message: replicas × one node's work, spread
    # over nodes kept at most 80 % busy, and never fewer nodes than members.
    nodes = max(b.replicas, math.ceil(broker_busy * b.replicas
                                      / (UTILISATION * b.cores_per_node) - 1e-9))
    pg_busy = total / 1000 * pg.cores_per_1000_per_s
    processes = sum(p.processes for p in plans)
    return PeakPlan(plans, round(total, 1), processes, nodes, round(broker_busy * b.replicas, 2),
                    max(1, math.ceil(pg_busy / UTILISATION - 1e-9)), round(pg_busy, 2),
                    processes * pg.pool_per_process, timeline(profile, plans))
