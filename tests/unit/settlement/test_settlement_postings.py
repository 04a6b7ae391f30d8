"""Settlement journal entries: balanced, and the §3.3 worked example leaves the right balances."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from ledger_sums import balances

from handlers.ledger import (
    BANK,
    CLEARING,
    COMMISSION,
    compute_debt_fen,
    entry,
    store_account,
)
from handlers.settlement.postings import (
    clawback_entry,
    order_confirmed_entry,
    refund_entry,
    settlement_entry,
)
from handlers.settlement.rules import compute_clawback, compute_settlement

AT = datetime(2021, 10, 8, 2, 0, tzinfo=UTC)
CAUSE = ("test", "evt-1")
PENDING = store_account("s-1", "pending")
AVAILABLE = store_account("s-1", "available")


def test_worked_example_books_commission_payouts_and_the_debt() -> None:
    entries = []
    month_net = 0
    for order_id, gross in (("o-1", 800_000), ("o-2", 400_000), ("o-3", 30)):
        entries.append(order_confirmed_entry(order_id, "s-1", gross, AT, CAUSE))
        s = compute_settlement(gross, 0, month_net, 0)
        month_net = s.month_net_after_fen
        entries.append(settlement_entry(order_id, "s-1", s, AT, CAUSE))
    assert balances(entries) == {
        COMMISSION: -10_002,  # earned
        BANK: 10_002,  # kept by the platform; the payouts left
    }
    claw = compute_clawback(500_000, month_net)
    entries.append(clawback_entry("as-1", "s-1", claw, AT, CAUSE))
    assert balances(entries) == {
        AVAILABLE: 489_998,  # debit: the store owes 489998 (merchant view -489998)
        BANK: 10_002 - 500_000,  # the platform refunded the buyer
    }


def test_later_payout_pays_the_debt_before_transferring() -> None:
    entries = [clawback_entry("as-1", "s-1", compute_clawback(500_000, 1_200_030), AT, CAUSE)]
    s = compute_settlement(600_000, 0, 0, compute_debt_fen(balances(entries)[AVAILABLE]))
    entries += [
        order_confirmed_entry("o-4", "s-1", 600_000, AT, CAUSE),
        settlement_entry("o-4", "s-1", s, AT, CAUSE),
    ]
    assert (s.debt_offset_fen, s.transferred_fen) == (489_998, 110_002)
    assert AVAILABLE not in balances(entries)  # back to zero
    assert PENDING not in balances(entries)


def test_refund_before_settlement_returns_escrow() -> None:
    entries = [
        order_confirmed_entry("o-1", "s-1", 10_000, AT, CAUSE),
        refund_entry("as-1", "s-1", 4_000, AT, CAUSE),
    ]
    assert balances(entries) == {CLEARING: 6_000, PENDING: -6_000}
    entries.append(
        settlement_entry("o-1", "s-1", compute_settlement(10_000, 4_000, 0, 0), AT, CAUSE)
    )
    assert balances(entries) == {}  # transferred out whole: nothing left on the platform


@given(
    gross=st.integers(0, 5_000_000),
    refunded=st.integers(0, 5_000_000),
    before=st.integers(0, 5_000_000),
    debt=st.integers(0, 5_000_000),
    clawback=st.integers(0, 5_000_000),
)
def test_every_entry_balances(
    gross: int, refunded: int, before: int, debt: int, clawback: int
) -> None:
    refunded = min(refunded, gross)
    s = compute_settlement(gross, refunded, before, debt)
    claw = compute_clawback(min(clawback, s.month_net_after_fen), s.month_net_after_fen)
    for e in (
        order_confirmed_entry("o", "s", gross, AT, CAUSE),
        refund_entry("a", "s", refunded, AT, CAUSE),
        settlement_entry("o", "s", s, AT, CAUSE),
        clawback_entry("a", "s", claw, AT, CAUSE),
    ):
        assert sum(p.amount_fen for p in e.postings) == 0  # JournalEntry refuses otherwise
    entry = settlement_entry("o", "s", s, AT, CAUSE)
    by_account = {p.account: p.amount_fen for p in entry.postings}
    assert by_account.get(store_account("s", "available"), 0) == -s.debt_offset_fen
    assert by_account.get(COMMISSION, 0) == -s.commission_fen


@given(
    gross=st.integers(0, 5_000_000),
    refunded=st.integers(0, 5_000_000),
    before=st.integers(0, 5_000_000),
    debt=st.integers(0, 5_000_000),
)
def test_settlement_entry_is_the_merge_of_its_movements(
    gross: int, refunded: int, before: int, debt: int
) -> None:
    s = compute_settlement(gross, min(refunded, gross), before, debt)
    movements = entry(
        "settlement",
        "o",
        AT,
        CAUSE,
        (store_account("s", "pending"), s.net_fen),  # the order leaves escrow ...
        (CLEARING, -s.net_fen),
        (BANK, s.net_fen),  # ... into the bank
        (COMMISSION, -s.commission_fen),  # the fee is earned
        (store_account("s", "available"), -s.payout_fen),  # the payout is owed ...
        (store_account("s", "available"), s.transferred_fen),  # ... and transferred
        (BANK, -s.transferred_fen),
    )
    booked = settlement_entry("o", "s", s, AT, CAUSE)
    assert set(booked.postings) == set(movements.postings)
    assert (booked.kind, booked.ref, booked.event_id) == ("settlement", "o", "evt-1")
