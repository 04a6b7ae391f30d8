"""Settlement rules: commission table, month keys, the §3.3 worked example, money invariants."""

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.base import SHANGHAI
from handlers.ledger import compute_debt_fen
from handlers.settlement.rules import (
    FREE_MONTHLY_NET_FEN,
    check_refund_exceeds_order,
    compute_clawback,
    compute_commission,
    compute_day,
    compute_month,
    compute_month_commission,
    compute_settle_at,
    compute_settlement,
    round_half_up,
)


@pytest.mark.parametrize(
    ("cumulative_net_fen", "commission_fen"),
    [
        (0, 0),
        (999_999, 0),
        (1_000_000, 0),  # the free allowance is exactly 1,000,000 fen
        (1_000_001, 0),  # 0.05 fen rounds down
        (1_000_009, 0),  # 0.45 fen rounds down
        (1_000_010, 1),  # 0.5 fen rounds up
        (1_000_030, 2),  # 1.5 fen rounds up
        (1_000_029, 1),  # 1.45 fen rounds down
        (1_200_000, 10_000),
        (1_200_030, 10_002),  # 10001.5 -> 10002 (§3.3)
        (1_200_010, 10_001),  # 10000.5 -> 10001
        (3_000_000, 100_000),
    ],
)
def test_month_commission_table(cumulative_net_fen: int, commission_fen: int) -> None:
    assert compute_month_commission(cumulative_net_fen) == commission_fen


@pytest.mark.parametrize(
    ("before_fen", "after_fen", "commission_fen"),
    [
        (0, 800_000, 0),  # entirely inside the free allowance
        (0, 1_000_000, 0),  # ends exactly on the threshold
        (1_000_000, 1_000_020, 1),  # starts exactly on the threshold
        (800_000, 1_200_000, 10_000),  # crosses the threshold inside one order
        (900_000, 1_100_010, 5_001),  # crossing plus a half fen
        (1_200_000, 1_200_030, 2),
        (1_200_030, 700_030, -10_002),  # a clawback gives commission back
    ],
)
def test_commission_of_one_step_is_the_difference_of_month_totals(
    before_fen: int, after_fen: int, commission_fen: int
) -> None:
    assert compute_commission(before_fen, after_fen) == commission_fen


def test_round_half_up_is_exact_integer_arithmetic() -> None:
    assert [round_half_up(n, 2) for n in range(6)] == [0, 1, 1, 2, 2, 3]
    assert round_half_up(5 * 200_030, 100) == 10_002
    assert round_half_up(10**30 + 1, 2) == 5 * 10**29 + 1  # no float precision loss
    with pytest.raises(ValueError):
        round_half_up(-1, 2)


def test_worked_example_of_section_3_3() -> None:
    first = compute_settlement(800_000, 0, month_net_before_fen=0, store_debt_fen=0)
    assert (first.commission_fen, first.payout_fen, first.month_net_after_fen) == (
        0,
        800_000,
        800_000,
    )
    second = compute_settlement(400_000, 0, first.month_net_after_fen, store_debt_fen=0)
    assert (second.commission_fen, second.payout_fen, second.month_net_after_fen) == (
        10_000,
        390_000,
        1_200_000,
    )
    third = compute_settlement(30, 0, second.month_net_after_fen, store_debt_fen=0)
    assert (third.commission_fen, third.payout_fen, third.month_net_after_fen) == (
        2,
        28,
        1_200_030,
    )
    assert first.commission_fen + second.commission_fen + third.commission_fen == 10_002
    assert compute_month_commission(1_200_030) == 10_002

    clawback = compute_clawback(500_000, third.month_net_after_fen)
    assert clawback.month_net_after_fen == 700_030
    assert clawback.commission_returned_fen == 10_002
    assert clawback.store_debit_fen == 489_998
    # The store's available balance (debit-positive) is its debt: -489998 merchant view.
    assert compute_debt_fen(clawback.store_debit_fen) == 489_998


def test_worked_example_month_is_shanghai_not_utc() -> None:
    confirmed_at = datetime(2021, 9, 23, 17, 30, tzinfo=UTC)
    settle_at = compute_settle_at(confirmed_at)
    assert settle_at == datetime(2021, 9, 30, 17, 30, tzinfo=UTC)
    assert settle_at.astimezone(SHANGHAI) == datetime(2021, 10, 1, 1, 30, tzinfo=SHANGHAI)
    assert compute_month(settle_at) == "2021-10"
    assert settle_at.strftime("%Y-%m") == "2021-09"  # what a UTC month would have said


@pytest.mark.parametrize(
    ("settle_at", "month"),
    [
        (datetime(2021, 10, 31, 15, 59, 59, tzinfo=UTC), "2021-10"),
        (datetime(2021, 10, 31, 16, 0, tzinfo=UTC), "2021-11"),  # Shanghai midnight
        (datetime(2021, 12, 31, 16, 0, tzinfo=UTC), "2022-01"),  # and a new year
        (datetime(2021, 8, 1, 0, 0, tzinfo=SHANGHAI), "2021-08"),
        (datetime(2021, 7, 31, 23, 59, tzinfo=SHANGHAI), "2021-07"),
    ],
)
def test_month_boundaries_are_asia_shanghai(settle_at: datetime, month: str) -> None:
    assert compute_month(settle_at) == month


def test_day_is_asia_shanghai() -> None:
    assert compute_day(datetime(2021, 8, 2, 16, 0, tzinfo=UTC)) == date(2021, 8, 3)
    assert compute_day(datetime(2021, 8, 2, 15, 59, tzinfo=UTC)) == date(2021, 8, 2)


def test_settle_at_is_seven_days_later_and_refuses_naive_times() -> None:
    confirmed_at = datetime(2021, 8, 3, 10, 15, tzinfo=SHANGHAI)
    assert compute_settle_at(confirmed_at) - confirmed_at == timedelta(days=7)
    with pytest.raises(ValueError):
        compute_settle_at(datetime(2021, 8, 3, 10, 15))
    with pytest.raises(ValueError):
        compute_month(datetime(2021, 8, 3, 10, 15))


def test_refund_before_settlement_reduces_the_net() -> None:
    s = compute_settlement(100_000, 30_000, month_net_before_fen=0, store_debt_fen=0)
    assert (s.net_fen, s.commission_fen, s.payout_fen) == (70_000, 0, 70_000)


def test_payout_pays_the_store_debt_first() -> None:
    partly = compute_settlement(400_000, 0, month_net_before_fen=0, store_debt_fen=489_998)
    assert (partly.debt_offset_fen, partly.transferred_fen) == (400_000, 0)
    fully = compute_settlement(600_000, 0, month_net_before_fen=0, store_debt_fen=489_998 - 400_000)
    assert (fully.debt_offset_fen, fully.transferred_fen) == (89_998, 510_002)


@pytest.mark.parametrize(
    ("gross_fen", "refunded_fen", "clawed_back_fen", "refund_fen", "exceeds"),
    [
        (100, 0, 0, 100, False),
        (100, 0, 0, 101, True),
        (100, 60, 0, 40, False),
        (100, 60, 0, 41, True),
        (100, 0, 70, 31, True),
        (100, 30, 70, 0, False),
    ],
)
def test_refund_exceeds_order(
    gross_fen: int, refunded_fen: int, clawed_back_fen: int, refund_fen: int, exceeds: bool
) -> None:
    assert check_refund_exceeds_order(gross_fen, refunded_fen, clawed_back_fen, refund_fen) is (
        exceeds
    )


def test_inconsistent_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        compute_settlement(100, 101, 0, 0)
    with pytest.raises(ValueError):
        compute_clawback(10, month_net_before_fen=9)


# --- properties -------------------------------------------------------------------------

orders = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3 * FREE_MONTHLY_NET_FEN),  # gross
        st.integers(min_value=0, max_value=100),  # percent refunded before settlement
    ),
    min_size=1,
    max_size=25,
)


@st.composite
def store_month_histories(draw: st.DrawFn) -> list[tuple[str, int, int]]:
    """Interleavings of settlements and clawbacks: ("settle", gross, refunded) or
    ("clawback", order index, refund) — a clawback only on an already settled order."""
    planned = draw(orders)
    steps: list[tuple[str, int, int]] = []
    settled: list[int] = []
    pending = list(range(len(planned)))
    clawbacks_left = draw(st.integers(min_value=0, max_value=10))
    while pending or (settled and clawbacks_left):
        if pending and (not settled or not clawbacks_left or draw(st.booleans())):
            i = pending.pop(draw(st.integers(min_value=0, max_value=len(pending) - 1)))
            gross, percent = planned[i]
            steps.append(("settle", gross, gross * percent // 100))
            settled.append(len([s for s in steps if s[0] == "settle"]) - 1)
        else:
            clawbacks_left -= 1
            steps.append(("clawback", draw(st.sampled_from(settled)), draw(st.integers(0, 10**7))))
    return steps


@settings(max_examples=300, deadline=None)
@given(history=store_month_histories(), debt_fen=st.integers(min_value=0, max_value=10**7))
def test_month_commissions_sum_to_c_of_total_net_in_any_order(
    history: list[tuple[str, int, int]], debt_fen: int
) -> None:
    month_net = 0
    commissions = 0
    available = debt_fen  # debit-positive: the store starts owing debt_fen
    remaining: list[int] = []  # per settled order, net not yet clawed back
    for kind, a, b in history:
        if kind == "settle":
            s = compute_settlement(a, b, month_net, compute_debt_fen(available))
            assert s.payout_fen + s.commission_fen == s.net_fen
            assert s.debt_offset_fen + s.transferred_fen == s.payout_fen
            assert min(s.commission_fen, s.payout_fen, s.debt_offset_fen, s.transferred_fen) >= 0
            month_net, commissions = s.month_net_after_fen, commissions + s.commission_fen
            available += -s.payout_fen + s.transferred_fen
            assert available >= 0  # transferred out: back to zero, or a debt still owed
            remaining.append(s.net_fen)
        else:
            refund = min(b, remaining[a])
            c = compute_clawback(refund, month_net)
            assert 0 <= c.commission_returned_fen <= refund
            assert c.store_debit_fen == refund - c.commission_returned_fen
            remaining[a] -= refund
            month_net, commissions = c.month_net_after_fen, commissions - c.commission_returned_fen
            available += c.store_debit_fen
        assert month_net == sum(remaining)
        assert commissions == compute_month_commission(month_net)


@settings(max_examples=200, deadline=None)
@given(planned=orders, data=st.data())
def test_month_total_does_not_depend_on_settlement_order(
    planned: list[tuple[int, int]], data: st.DataObject
) -> None:
    nets = [gross - gross * percent // 100 for gross, percent in planned]
    shuffled = data.draw(st.permutations(nets))
    totals = []
    for sequence in (nets, shuffled):
        month_net, commissions = 0, 0
        for net in sequence:
            s = compute_settlement(net, 0, month_net, 0)
            month_net, commissions = s.month_net_after_fen, commissions + s.commission_fen
        totals.append(commissions)
    assert totals[0] == totals[1] == compute_month_commission(sum(nets))


@given(st.integers(min_value=0, max_value=10**12))
def test_c_matches_exact_rational_half_up(x: int) -> None:
    exact = Fraction(5, 100) * max(0, x - FREE_MONTHLY_NET_FEN)
    floor = exact.numerator // exact.denominator
    expected = floor + (1 if exact - floor >= Fraction(1, 2) else 0)
    assert compute_month_commission(x) == expected
