"""The festival-peak plan (`haodian scale advise --peak`): the fluid queue, the processes,
and what must hold for every profile."""

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from workers.ops.peak import Fluid, PeakPlan, ceiling, plan
from workers.ops.peak_profile import (
    BrokerProfile,
    DomainProfile,
    PeakProfile,
    PostgresProfile,
)
from workers.ops.scale import processes_needed


def profile(rate: float = 250, multiplier: float = 20, minutes: float = 120,
            share: float = 0.2, target: float = 60, delay: float = 0, mu: float = 2300,
            hot: float | None = 2000, bench_share: float = 0.5, step: float = 10,
            serial: float | None = None) -> PeakProfile:
    return PeakProfile(
        normal_orders_per_s=rate, peak_multiplier=multiplier, peak_duration_min=minutes,
        flagship_share=share, target_lag_s=target, scale_up_delay_s=delay, step_min=step,
        domains={"settlement": DomainProfile(per_process_per_s=mu, serial_per_s=serial,
                                             hot_store_per_s=hot,
                                             hot_store_bench_share=bench_share)},
        broker=BrokerProfile(cores_per_1000_per_s=0.12, queue_leader_max_per_s=6667),
        postgres=PostgresProfile(cores_per_1000_per_s=0.07))


# ---- the fluid queue, by hand ------------------------------------------------------------

def test_a_late_scale_up_builds_a_backlog_that_drains_after_it() -> None:
    # 1,000/s arrive; 500/s are served for 10 minutes, then 2,000/s.
    f = Fluid(peak_rate=1000, normal_rate=100, peak_s=3600, before_capacity=500,
              capacity=2000, delay_s=600)
    assert f.backlog(600) == 500 * 600
    assert f.drained_at() == 900  # 300,000 events at 2,000 − 1,000 a second
    assert f.lag(600) == 150  # everything ahead served at 2,000/s
    assert f.lag(300) == 300  # 150,000 ahead: 300 s at 500/s
    assert f.peak_lag() == 300  # = delay × (1 − 500 / 1,000)
    assert f.lag(1000) == 0


def test_capacity_above_the_rate_never_builds_a_backlog() -> None:
    f = Fluid(1000, 100, 3600, 2000, 2000)
    assert f.drained_at() == 0 and f.peak_lag() == 0 and f.backlog(1800) == 0


def test_a_capped_queue_lags_by_what_it_could_not_serve() -> None:
    f = Fluid(5000, 250, 7200, 2000, 2000)
    assert f.backlog(7200) == 3000 * 7200
    assert f.lag(7200) == pytest.approx(3000 * 7200 / 2000)
    assert f.drained_at() == pytest.approx(7200 + 3000 * 7200 / 1750)
    assert f.peak_lag() == pytest.approx(f.lag(7200))


def test_a_queue_that_cannot_keep_up_with_the_normal_rate_never_drains() -> None:
    f = Fluid(5000, 2500, 600, 2000, 2000)
    assert f.drained_at() is None and f.horizon() == 600


# ---- the plan ----------------------------------------------------------------------------

def test_the_flagship_cap_follows_the_share_above_the_bench_share() -> None:
    assert ceiling(profile(share=0.2), "settlement") == 2000  # batches serialize anyway
    assert ceiling(profile(share=1.0), "settlement") == 1000  # the store itself is the cap
    assert ceiling(profile(share=0.0), "settlement") is None
    assert ceiling(profile(hot=None), "settlement") is None


def test_the_serial_ceiling_caps_the_domain_without_a_flagship_too() -> None:
    assert ceiling(profile(share=0.0, serial=4000), "settlement") == 4000
    assert ceiling(profile(share=0.2, serial=4000), "settlement") == 2000  # the lower
    d = plan(profile(share=0.0, serial=4000)).domains[0]
    assert d.capped and d.capacity_per_s == 4000 and not d.target_met


def test_without_a_flagship_the_steady_rule_is_the_plan() -> None:
    p = plan(profile(share=0))
    d = p.domains[0]
    assert d.processes == d.processes_at_start == processes_needed(0, 5000, 2300, 60) == 3
    assert d.peak_lag_s == 0 and d.target_met and not d.capped
    assert all(row["settlement"]["lag_s"] == 0 for row in p.timeline)
    assert p.broker_nodes == 3 and p.postgres_cores == 1 and p.postgres_connections == 12


def test_a_binding_flagship_is_reported_with_its_lag() -> None:
    d = plan(profile()).domains[0]
    assert d.capped and not d.target_met
    assert d.capacity_per_s == 2000 and d.peak_lag_s == pytest.approx(3 * 7200 / 2, abs=1)


def test_a_late_scale_up_is_met_by_processes_running_before_the_peak() -> None:
    d = plan(profile(share=0, delay=300, target=60)).domains[0]
    # with the usual one process until then: 300 s × (1 − 2,300 / 5,000) of lag
    assert d.processes_normal == 1 and d.peak_lag_unprepared_s == pytest.approx(162, abs=0.1)
    assert d.processes == 3 and d.processes_at_start == 2  # 2 × 2,300: 300 × 0.08 = 24 s
    assert d.target_met and d.peak_lag_s == pytest.approx(24, abs=0.1)


def test_a_scale_up_late_enough_needs_every_process_from_the_start() -> None:
    d = plan(profile(share=0, delay=900, target=10)).domains[0]
    assert d.processes_at_start == d.processes == 3 and d.peak_lag_s == 0


def test_broker_nodes_grow_with_the_rate_and_the_replicas() -> None:
    big = plan(profile(rate=5000, share=0)).as_json()
    # 100,000 events/s × 0.12 cores per 1,000 × 3 replicas on 4-core nodes at 80 %
    assert big["broker_nodes"] == math.ceil(100 * 0.12 * 3 / 3.2)
    assert big["postgres_cores"] == math.ceil(100 * 0.07 / 0.8)
    assert big["domains"][0]["queue_shards"] == math.ceil(100_000 / 6667)


# ---- for every profile -------------------------------------------------------------------

profiles = st.builds(
    profile,
    rate=st.floats(1, 3000), multiplier=st.floats(1, 40), minutes=st.floats(1, 300),
    share=st.sampled_from([0.0, 0.05, 0.2, 0.5, 0.9]), target=st.floats(1, 900),
    delay=st.sampled_from([0.0, 60.0, 300.0]), mu=st.floats(200, 5000),
    hot=st.one_of(st.none(), st.floats(500, 50_000)), bench_share=st.floats(0.1, 1),
    step=st.sampled_from([10.0, 15.0]), serial=st.one_of(st.none(), st.floats(500, 50_000)))
fast = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _one(p: PeakProfile) -> tuple[PeakPlan, Fluid]:
    from workers.ops.peak import fluid
    result = plan(p)
    d = result.domains[0]
    return result, fluid(p, "settlement", d.processes, d.processes_at_start)


@fast
@given(profiles)
def test_never_fewer_processes_than_the_steady_rule(p: PeakProfile) -> None:
    d = plan(p).domains[0]
    assert d.processes == processes_needed(
        0, d.peak_per_s, p.domains["settlement"].per_process_per_s or 0, p.target_lag_s)
    assert d.processes >= d.processes_at_start >= d.processes_normal >= 1
    assert d.peak_lag_s <= d.peak_lag_unprepared_s + 1e-6


@fast
@given(profiles, st.floats(1.01, 10))
def test_more_orders_never_need_fewer_processes(p: PeakProfile, factor: float) -> None:
    p = p.model_copy(update={"scale_up_delay_s": 0.0})
    more = p.model_copy(update={"normal_orders_per_s": p.normal_orders_per_s * factor})
    assert plan(more).domains[0].processes >= plan(p).domains[0].processes
    higher = p.model_copy(update={"peak_multiplier": p.peak_multiplier * factor})
    assert plan(higher).domains[0].processes >= plan(p).domains[0].processes


@fast
@given(profiles, st.floats(1.01, 10))
def test_a_higher_peak_never_needs_fewer_processes_even_scaled_late(
        p: PeakProfile, factor: float) -> None:
    higher = p.model_copy(update={"peak_multiplier": p.peak_multiplier * factor})
    assert plan(higher).domains[0].processes >= plan(p).domains[0].processes


@fast
@given(profiles)
def test_the_lag_curve_is_never_negative_and_peaks_where_the_plan_says(
        p: PeakProfile) -> None:
    result, f = _one(p)
    d = result.domains[0]
    for row in result.timeline:
        assert row["settlement"]["lag_s"] >= 0 and row["settlement"]["backlog"] >= 0
        if row["minute"] * 60 <= f.horizon() + 1e-6:
            assert row["settlement"]["lag_s"] <= d.peak_lag_s + 0.1
    # the maximum is found between the table's rows too
    for i in range(101):
        assert f.lag(f.horizon() * i / 100) <= f.peak_lag() + 1e-6 * max(1, f.peak_lag())
    assert d.target_met == (d.peak_lag_s <= p.target_lag_s + 0.05)


@fast
@given(profiles)
def test_the_lag_returns_to_zero_after_the_peak_when_capacity_exceeds_the_rate(
        p: PeakProfile) -> None:
    result, f = _one(p)
    assume(f.capacity > f.normal_rate * 1.001)
    d = result.domains[0]
    assert d.drained_after_s is not None
    last = result.timeline[-1]["settlement"]
    assume(len(result.timeline) < 200)  # the table stops at 200 rows
    assert last["backlog"] == 0 and last["lag_s"] == 0
    assert f.lag(f.horizon() + 1) == 0


@fast
@given(profiles)
def test_without_a_cap_or_a_late_start_there_is_no_lag(p: PeakProfile) -> None:
    p = p.model_copy(update={"flagship_share": 0.0, "scale_up_delay_s": 0.0, "domains": {
        "settlement": p.domains["settlement"].model_copy(update={"serial_per_s": None})}})
    d = plan(p).domains[0]
    assert d.peak_lag_s == 0 and d.target_met and d.drained_after_s == 0
