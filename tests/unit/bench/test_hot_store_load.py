"""The bench's order workload with a hot store, and how the bench reads contention."""

from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client import Counter as PromCounter

from workers.bench import load
from workers.bench.contention import conflicts_from_metrics, figures, statement

NOW = datetime(2026, 11, 11, 12, tzinfo=UTC)


@given(st.integers(min_value=0, max_value=5000), st.floats(min_value=0, max_value=1))
def test_exactly_the_share_of_orders_goes_to_the_hot_store(n: int, share: float) -> None:
    assert sum(load.goes_to_hot_store(i, share) for i in range(n)) == int(n * share)


def test_hot_orders_are_spread_through_the_queue() -> None:
    """Every stretch of a batch's length holds its share: no batch without the store."""
    hot = [load.goes_to_hot_store(i, 0.2) for i in range(5000)]
    assert all(sum(hot[i:i + 500]) in (99, 100, 101) for i in range(0, 4500, 500))


def test_the_rest_of_the_orders_are_unchanged_by_the_share() -> None:
    spread = list(load.confirmed_orders(1000, "r", NOW))
    hot = list(load.confirmed_orders(1000, "r", NOW, hot_store_share=0.5))
    stores = Counter(e["data"]["store_id"] for e in hot)
    assert stores[load.hot_store("r")] == 500
    assert len(stores) > 150  # the other half still spread over the 200 stores
    for a, b in zip(spread, hot, strict=True):
        assert a["data"]["amount_fen"] == b["data"]["amount_fen"]
        assert a["data"]["buyer_id"] == b["data"]["buyer_id"]
        assert b["data"]["store_id"] in (a["data"]["store_id"], load.hot_store("r"))


def test_a_share_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="hot_store_share"):
        next(load.confirmed_orders(1, "r", NOW, hot_store_share=1.5))


def test_conflict_retries_are_read_from_a_workers_metrics_page() -> None:
    registry = CollectorRegistry()
    c = PromCounter("haodian_batch_conflicts_total", "x", ["domain", "sqlstate"],
                    registry=registry)
    c.labels("settlement", "40P01").inc(2)
    c.labels("deposit", "40P01").inc(1)
    c.labels("settlement", "40001").inc(4)
    PromCounter("haodian_retries_total", "y", ["domain"], registry=registry).labels("a").inc()
    assert conflicts_from_metrics(generate_latest(registry).decode()) == {"40P01": 3,
                                                                          "40001": 4}
    assert conflicts_from_metrics("") == {}


def test_batch_handling_is_read_from_a_workers_metrics_page() -> None:
    registry = CollectorRegistry()
    size = Histogram("haodian_batch_size", "x", ["domain"], registry=registry)
    seconds = Histogram("haodian_batch_commit_seconds", "y", ["domain"], registry=registry)
    for n, s in ((500, 0.25), (300, 0.125)):
        size.labels("settlement").observe(n)
        seconds.labels("settlement").observe(s)
    found = figures(generate_latest(registry).decode())
    assert (found["batches"], found["events"], found["handling_s"]) == (2, 800, 0.375)


def test_a_waiting_statement_is_named_by_the_rows_it_waits_for() -> None:
    assert statement("WITH input AS (SELECT ...) INSERT INTO settlement_orders AS o") \
        == "orders + day statistics (insert_orders)"
    assert statement("INSERT INTO ledger_balances (account, store_id, balance_fen)") \
        == "store balances (ledger.book)"
    assert statement("SELECT   1\n FROM   somewhere_else") == "SELECT 1 FROM somewhere_else"
