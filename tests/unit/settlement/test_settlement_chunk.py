"""A run's chunk: orders settled one after another against running month nets and debts."""

from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.settlement.rules import (
    DueOrder,
    StoreMonth,
    compute_chunk_settlement,
    compute_month_commission,
    compute_settlement,
)


def test_worked_example_in_one_chunk() -> None:
    orders = [
        DueOrder("o-1", "s-1", "2021-10", 800_000, 0),
        DueOrder("o-2", "s-1", "2021-10", 400_000, 0),
        DueOrder("o-3", "s-1", "2021-10", 30, 0),
    ]
    chunk = compute_chunk_settlement(orders, {("s-1", "2021-10"): StoreMonth(0, 0)}, {"s-1": 0})
    assert [(o.order_id, s.commission_fen, s.payout_fen) for o, s in chunk.settled] == [
        ("o-1", 0, 800_000),
        ("o-2", 10_000, 390_000),
        ("o-3", 2, 28),
    ]
    assert chunk.store_months == {("s-1", "2021-10"): StoreMonth(1_200_030, 10_002, 3)}
    assert (chunk.net_total_fen, chunk.commission_total_fen, chunk.payout_total_fen) == (
        1_200_030,
        10_002,
        1_190_028,
    )


def test_a_store_debt_is_paid_by_its_first_payouts_in_the_chunk() -> None:
    orders = [
        DueOrder("o-1", "s-1", "2021-10", 400_000, 0),
        DueOrder("o-2", "s-2", "2021-10", 50_000, 0),
        DueOrder("o-3", "s-1", "2021-11", 600_000, 100_000),
    ]
    months = {
        ("s-1", "2021-10"): StoreMonth(0, 0),
        ("s-1", "2021-11"): StoreMonth(0, 0),
        ("s-2", "2021-10"): StoreMonth(0, 0),
    }
    chunk = compute_chunk_settlement(orders, months, {"s-1": 489_998, "s-2": 0})
    assert [(s.debt_offset_fen, s.transferred_fen) for _, s in chunk.settled] == [
        (400_000, 0),
        (0, 50_000),
        (89_998, 410_002),
    ]
    assert chunk.debts_fen == {"s-1": 0, "s-2": 0}


def test_months_not_settled_into_are_left_out() -> None:
    chunk = compute_chunk_settlement(
        [DueOrder("o-1", "s-1", "2021-10", 100, 0)],
        {("s-1", "2021-10"): StoreMonth(5, 0), ("s-1", "2021-09"): StoreMonth(7, 0)},
        {"s-1": 0},
    )
    assert chunk.store_months == {("s-1", "2021-10"): StoreMonth(105, 0, 1)}


due_orders = st.lists(
    st.tuples(
        st.sampled_from(["s-1", "s-2"]),
        st.sampled_from(["2021-10", "2021-11"]),
        st.integers(min_value=0, max_value=2_000_000),
        st.integers(min_value=0, max_value=100),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(planned=due_orders, debts=st.tuples(st.integers(0, 10**7), st.integers(0, 10**7)))
def test_chunk_equals_settling_orders_one_by_one(
    planned: list[tuple[str, str, int, int]], debts: tuple[int, int]
) -> None:
    orders = [
        DueOrder(f"o-{i}", store, month, gross, gross * percent // 100)
        for i, (store, month, gross, percent) in enumerate(planned)
    ]
    keys = {(s, m) for s in ("s-1", "s-2") for m in ("2021-10", "2021-11")}
    start = {"s-1": debts[0], "s-2": debts[1]}
    chunk = compute_chunk_settlement(orders, {k: StoreMonth(0, 0) for k in keys}, start)

    month_net = dict.fromkeys(keys, 0)
    debt = dict(start)
    for (order, s), expected_order in zip(chunk.settled, orders, strict=True):
        assert order == expected_order
        key = (order.store_id, order.month)
        assert s == compute_settlement(
            order.gross_fen, order.refunded_fen, month_net[key], debt[order.store_id]
        )
        month_net[key] = s.month_net_after_fen
        debt[order.store_id] -= s.debt_offset_fen
        assert s.payout_fen + s.commission_fen == s.net_fen
        assert s.debt_offset_fen + s.transferred_fen == s.payout_fen
    assert chunk.debts_fen == debt
    assert all(d >= 0 for d in debt.values())
    for key, month in chunk.store_months.items():
        assert month.cumulative_net_fen == month_net[key]
        assert month.commission_fen == compute_month_commission(month_net[key])
        assert month.orders_settled == sum((o.store_id, o.month) == key for o in orders)
    assert chunk.net_total_fen == sum(s.net_fen for _, s in chunk.settled)
    assert chunk.commission_total_fen + chunk.payout_total_fen == chunk.net_total_fen
