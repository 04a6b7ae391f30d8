"""The statement's arithmetic without a database: yuan from fen, month boundaries, and a
store-month simulated with the settlement rules whose lines reconcile with the ledger
movements they imply, commission total = C(total net)."""

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.base import SHANGHAI
from handlers.settlement.rules import (
    compute_clawback,
    compute_month_commission,
    compute_settlement,
)
from workers.statements import FORMATS, renderer
from workers.statements.model import (
    Balances,
    Clawback,
    Header,
    Line,
    Movement,
    Settled,
    StoreMonth,
    Totals,
    month_bounds,
    reconcile,
    status,
    yuan,
    yuan_grouped,
)

AT = datetime(2021, 8, 11, tzinfo=SHANGHAI)


@given(st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1))
def test_yuan_is_fen_over_100_exactly(fen: int) -> None:
    assert Decimal(yuan(fen)) * 100 == fen
    assert Decimal(yuan_grouped(fen).replace(",", "")) * 100 == fen


def test_yuan_examples() -> None:
    assert [yuan(f) for f in (0, 5, -5, 100, 123456, -1000002)] == [
        "0.00", "0.05", "-0.05", "1.00", "1234.56", "-10000.02"]
    assert yuan_grouped(120003000) == "1,200,030.00"


@given(st.integers(min_value=1, max_value=9998), st.integers(min_value=1, max_value=12))
def test_months_are_shanghai_midnights_that_chain(year: int, number: int) -> None:
    start, end = month_bounds(f"{year:04d}-{number:02d}")
    assert (start.day, start.hour, start.minute) == (1, 0, 0)
    if year >= 1992:  # before: China's summer time (1986-1991) and local mean time
        assert start.utcoffset() == timedelta(hours=8) == end.utcoffset()
    next_year, next_number = (year + 1, 1) if number == 12 else (year, number + 1)
    assert end == month_bounds(f"{next_year:04d}-{next_number:02d}")[0]


def test_a_month_ends_at_shanghai_midnight_which_is_16_utc() -> None:
    start, end = month_bounds("2021-09")
    assert start.astimezone(UTC) == datetime(2021, 8, 31, 16, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2021, 9, 30, 16, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["2021-13", "2021-00", "21-08", "2021/08", "2021-8", "abcd-ef"])
def test_bad_months_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        month_bounds(bad)


# A step of a store-month: ("order", gross, refunded) or ("clawback", share of an order).
steps = st.lists(
    st.one_of(
        st.tuples(st.just("order"), st.integers(0, 3_000_000), st.integers(0, 100)),
        st.tuples(st.just("clawback"), st.integers(0, 10**6), st.integers(0, 100)),
    ),
    max_size=30,
)


def simulate(plan: list[tuple[str, int, int]], debt_fen: int) -> tuple[list[Line], Header]:
    """A store-month played through the settlement rules, with the ledger movements its
    entries book (credit-positive, as `gather.read_header` reads them)."""
    lines: list[Line] = []
    cumulative = 0
    debt = debt_fen
    settled: list[tuple[str, int]] = []  # (order id, net left to claw back)
    moved: dict[tuple[str, str], int] = {}

    def move(kind: str, account: str, fen: int) -> None:
        moved[(kind, account)] = moved.get((kind, account), 0) + fen

    for n, (what, amount, percent) in enumerate(plan):
        if what == "order":
            refunded = amount * percent // 100
            s = compute_settlement(amount, refunded, cumulative, debt)
            order_id = f"o-{n}"
            lines.append(Settled(AT, "2021-08", order_id, cumulative if s.net_fen else None,
                                 s.month_net_after_fen if s.net_fen else None, amount, refunded,
                                 s.net_fen, s.commission_fen, s.payout_fen, s.debt_offset_fen,
                                 s.transferred_fen))
            cumulative, debt = s.month_net_after_fen, debt - s.debt_offset_fen
            settled.append((order_id, s.net_fen))
            move("settlement", "pending", -s.net_fen)
            move("settlement", "available", s.debt_offset_fen)
            move("settlement", "commission", s.commission_fen)
        elif settled:
            index = amount % len(settled)
            order_id, left = settled[index]
            refund = left * percent // 100
            if refund == 0:
                continue
            c = compute_clawback(refund, cumulative)
            lines.append(Clawback(AT, "2021-08", f"a-{n}", order_id, cumulative,
                                  c.month_net_after_fen, refund, c.commission_returned_fen,
                                  c.store_debit_fen))
            cumulative, debt = c.month_net_after_fen, debt + c.store_debit_fen
            settled[index] = (order_id, left - refund)
            move("clawback", "available", -c.store_debit_fen)
            move("clawback", "commission", -c.commission_returned_fen)
    lines.sort(key=lambda line: isinstance(line, Clawback))  # settlements first, as read
    commission = sum(line.commission_fen for line in lines if isinstance(line, Settled)) - sum(
        line.commission_returned_fen for line in lines if isinstance(line, Clawback))
    opening = Balances(0, -debt_fen, 0)
    pending = sum(fen for (_, a), fen in moved.items() if a == "pending")
    available = sum(fen for (_, a), fen in moved.items() if a == "available")
    header = Header(
        "s-1", "2021-08", *month_bounds("2021-08"), opening,
        Balances(pending, opening.available_fen + available, 0),
        {k: Movement(1, fen) for k, fen in moved.items()},
        StoreMonth("2021-08", cumulative, commission, len(lines), 0, 0),
    )
    return lines, header


@settings(max_examples=300)
@given(steps, st.integers(0, 2_000_000))
def test_a_simulated_store_month_reconciles_and_its_commission_is_c_of_net(
    plan: list[tuple[str, int, int]], debt_fen: int
) -> None:
    lines, header = simulate(plan, debt_fen)
    totals = Totals()
    for line in lines:
        totals.add(line)
    checks = reconcile(header, totals)
    assert [c.name for c in checks if not c.ok] == []
    assert status(checks) == "reconciled"
    assert totals.commission_net_fen == compute_month_commission(header.store_month.net_fen)


@given(steps.filter(lambda p: any(s[0] == "order" and s[1] > 0 and s[2] < 100 for s in p)))
def test_a_line_off_by_one_fen_fails_the_reconciliation(plan: list[tuple[str, int, int]]) -> None:
    lines, header = simulate(plan, 0)
    totals = Totals()
    tampered = False
    for line in lines:
        if not tampered and isinstance(line, Settled) and line.net_fen > 0:
            line = Settled(**{**{f: getattr(line, f) for f in Settled.__slots__},
                              "commission_fen": line.commission_fen + 1})
            tampered = True
        totals.add(line)
    assert status(reconcile(header, totals)) == "MISMATCH"


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_renders_a_simulated_month(fmt: str) -> None:
    lines, header = simulate([("order", 800_000, 0), ("order", 400_000, 0), ("order", 30, 0),
                              ("clawback", 0, 62)], 0)
    out = io.StringIO()
    r = renderer(fmt, out)
    r.begin(header)
    totals = Totals()
    for line in lines:
        totals.add(line)
        r.line(line)
    r.end(totals, reconcile(header, totals))
    text = out.getvalue()
    assert "o-1" in text and "reconciled" in text


def test_identifiers_that_look_like_formulas_are_defused_in_csv() -> None:
    from workers.statements.render_csv import text

    assert [text(c) for c in ("=HYPERLINK(1)", "+1", "-2", "@x", "s-1", "")] == [
        "'=HYPERLINK(1)", "'+1", "'-2", "'@x", "s-1", ""]


def test_csv_settled_rows_put_every_figure_under_its_heading() -> None:
    import csv

    lines, header = simulate([("order", 800_000, 10), ("order", 400_000, 0),
                              ("order", 0, 0), ("order", 30, 50)], 1_000)
    out = io.StringIO()
    r = renderer("csv", out)
    r.begin(header)
    totals = Totals()
    for line in lines:
        totals.add(line)
        r.line(line)
    r.end(totals, reconcile(header, totals))
    rows = [row for row in csv.DictReader(io.StringIO(out.getvalue().lstrip("\ufeff")))
            if row["类型 row"] == "settled"]
    settled = [line for line in lines if isinstance(line, Settled)]
    assert len(rows) == len(settled) == 4
    for row, line in zip(rows, settled, strict=True):
        assert row["订单 order"] == line.order_id and row["结算月 store-month"] == "2021-08"
        for heading, fen in (("订单金额", line.gross_fen), ("已退款", line.refunded_fen),
                             ("净额", line.net_fen), ("月累计（前）", line.before_fen),
                             ("月累计（后）", line.after_fen), ("技术服务费", line.commission_fen),
                             ("应结金额", line.payout_fen), ("抵扣欠款", line.debt_offset_fen),
                             ("实际打款", line.transferred_fen)):
            cell = next(v for k, v in row.items() if k.startswith(heading + "（分）"))
            assert cell == ("" if fen is None else str(fen))
        assert row["退款（分） refund fen"] == "" and row["核对值（分） expected fen"] == ""
