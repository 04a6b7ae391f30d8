"""Deposit journal entries: balanced, on the right accounts, and the §3.4 worked example."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ledger_sums import balances

from handlers.deposit.postings import payment_entry, refund_entries
from handlers.deposit.rules import RefundDecision, StoreDeposit, check_closes_store, decide_refund
from handlers.ledger import BANK, merchant_view, store_account

AT = datetime(2021, 10, 8, 2, 0, tzinfo=UTC)
CAUSE = ("test", "evt-1")
DEPOSIT = store_account("s-1", "deposit")
AVAILABLE = store_account("s-1", "available")


def test_worked_example_pays_the_debt_then_refunds_the_excess() -> None:
    entries = [payment_entry("pay-1", "s-1", 3_000_000, AT, CAUSE)]
    position = StoreDeposit(True, 2_000_000, 3_000_000, 150_000, True, False)
    decision = decide_refund("plan_migration", position)
    entries += refund_entries("req-1", "s-1", decision, AT, CAUSE)
    assert [(e.kind, e.ref) for e in entries] == [
        ("deposit_paid", "pay-1"),
        ("deposit_debt_offset", "req-1"),
        ("deposit_refund", "req-1"),
    ]
    after = balances(entries)
    assert merchant_view(after[DEPOSIT]) == 2_000_000
    assert after[AVAILABLE] == -150_000  # credited: the store owes 150000 less
    assert after[BANK] == 3_000_000 - 850_000


def test_a_decision_that_moves_nothing_books_nothing() -> None:
    position = StoreDeposit(False, 0, 0, 0, False, False)
    entries = refund_entries("req-1", "s-1", decide_refund("store_closed", position), AT, CAUSE)
    assert [e.postings for e in entries] == [(), ()]


@given(
    balance_fen=st.integers(0, 10**10),
    debt_fen=st.integers(0, 10**10),
    required_fen=st.integers(0, 10**8),
    reason=st.sampled_from(["plan_migration", "store_closed"]),
)
def test_refund_entries_balance_and_move_exactly_the_decision(
    balance_fen: int, debt_fen: int, required_fen: int, reason: str
) -> None:
    position = StoreDeposit(True, required_fen, balance_fen, debt_fen, True, False)
    decision = decide_refund(reason, position)  # type: ignore[arg-type]
    entries = refund_entries("req-1", "s-1", decision, AT, CAUSE)
    for e in entries:
        assert sum(p.amount_fen for p in e.postings) == 0
    moved = balances(entries)
    assert moved.get(DEPOSIT, 0) == decision.debt_offset_fen + decision.refund_fen
    assert moved.get(AVAILABLE, 0) == -decision.debt_offset_fen
    assert moved.get(BANK, 0) == -decision.refund_fen


@given(amount_fen=st.integers(1, 10**12))
def test_a_payment_moves_bank_money_into_the_deposit(amount_fen: int) -> None:
    e = payment_entry("pay-1", "s-1", amount_fen, AT, CAUSE)
    assert balances([e]) == {BANK: amount_fen, DEPOSIT: -amount_fen}


def decision(reason: str, reasons: tuple[str, ...]) -> RefundDecision:
    return RefundDecision(reason, 1_000, 0, 0, 0, 0 if reasons else 1_000, reasons)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("refund", "closes"),
    [
        (decision("store_closed", ()), True),
        (decision("store_closed", ("store_has_open_obligations",)), False),
        (decision("plan_migration", ()), False),
        (decision("plan_migration", ("no_excess_deposit",)), False),
    ],
)
def test_only_a_granted_closing_refund_closes_the_store(
    refund: RefundDecision, closes: bool
) -> None:
    assert check_closes_store(refund) is closes
