"""Deposit refund rules: every reason code, the arithmetic and the worked example of §3.4."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.deposit.reasons import (
    NO_EXCESS_DEPOSIT,
    NOT_LEGACY_MERCHANT,
    REASONS,
    STORE_HAS_OPEN_OBLIGATIONS,
    STORE_UNKNOWN,
)
from handlers.deposit.rules import (
    RefundReason,
    StoreDeposit,
    apply_decision,
    decide_refund,
)

PERSONAL_FEN, ENTERPRISE_FEN = 100_000, 2_000_000  # standard plan, docs/rules.md §3.2


def store(
    required_fen: int | None = ENTERPRISE_FEN,
    balance_fen: int = 3_000_000,
    debt_fen: int = 0,
    legacy: bool = True,
    obligations: bool = False,
) -> StoreDeposit:
    """A store's position; `required_fen` None for a store that never opened."""
    return StoreDeposit(
        opened=required_fen is not None,
        standard_required_fen=required_fen or 0,
        balance_fen=balance_fen,
        debt_fen=debt_fen,
        holds_legacy_deposit=legacy,
        has_open_obligations=obligations,
    )


def test_worked_example_migration_pays_debt_then_refunds_excess_then_nothing_left() -> None:
    legacy_enterprise = store(ENTERPRISE_FEN, balance_fen=3_000_000, debt_fen=150_000)

    first = decide_refund("plan_migration", legacy_enterprise)

    assert first.refunded
    assert (first.debt_offset_fen, first.required_fen, first.refund_fen) == (
        150_000,
        2_000_000,
        850_000,
    )
    after = apply_decision(legacy_enterprise, first)
    assert (after.balance_fen, after.debt_fen) == (2_000_000, 0)

    second = decide_refund("plan_migration", after)

    assert second.reasons == (NO_EXCESS_DEPOSIT,)
    assert (second.debt_offset_fen, second.refund_fen) == (0, 0)
    assert apply_decision(after, second) == after


@pytest.mark.parametrize(
    ("reason", "facts", "reasons", "offset_fen", "refund_fen"),
    [
        # store_unknown: never opened, even if it paid a deposit already
        ("plan_migration", store(None, balance_fen=100_000), (STORE_UNKNOWN,), 0, 0),
        ("store_closed", store(None, balance_fen=100_000), (STORE_UNKNOWN,), 0, 0),
        # not_legacy_merchant: no money moves, not even the debt offset
        ("plan_migration", store(legacy=False, debt_fen=10), (NOT_LEGACY_MERCHANT,), 0, 0),
        # store_has_open_obligations: no money moves
        (
            "store_closed",
            store(obligations=True, debt_fen=10),
            (STORE_HAS_OPEN_OBLIGATIONS,),
            0,
            0,
        ),
        # obligations do not matter to a migration, legacy does not matter to a closure
        ("plan_migration", store(obligations=True), (), 0, 1_000_000),
        ("store_closed", store(legacy=False), (), 0, 3_000_000),
        # no_excess_deposit: excess exactly zero
        ("plan_migration", store(balance_fen=2_000_000), (NO_EXCESS_DEPOSIT,), 0, 0),
        (
            "plan_migration",
            store(balance_fen=2_100_000, debt_fen=100_000),
            (NO_EXCESS_DEPOSIT,),
            100_000,
            0,
        ),
        # one fen above the requirement is refunded
        ("plan_migration", store(balance_fen=2_000_001), (), 0, 1),
        # below the requirement
        ("plan_migration", store(balance_fen=1_000_000), (NO_EXCESS_DEPOSIT,), 0, 0),
        # closure: everything after debt; a closing store with nothing left
        ("store_closed", store(balance_fen=100_000, debt_fen=30_000), (), 30_000, 70_000),
        ("store_closed", store(balance_fen=0), (NO_EXCESS_DEPOSIT,), 0, 0),
        (
            "store_closed",
            store(balance_fen=100_000, debt_fen=100_000),
            (NO_EXCESS_DEPOSIT,),
            100_000,
            0,
        ),
    ],
)
def test_refund_decision_table(
    reason: RefundReason,
    facts: StoreDeposit,
    reasons: tuple[str, ...],
    offset_fen: int,
    refund_fen: int,
) -> None:
    decision = decide_refund(reason, facts)

    assert decision.reasons == reasons
    assert decision.refunded is (reasons == ())
    assert (decision.debt_offset_fen, decision.refund_fen) == (offset_fen, refund_fen)


@pytest.mark.parametrize("reason", ["plan_migration", "store_closed"])
def test_debt_larger_than_deposit_takes_the_whole_deposit_and_the_rest_stays(
    reason: RefundReason,
) -> None:
    in_debt = store(PERSONAL_FEN, balance_fen=100_000, debt_fen=489_998)

    decision = decide_refund(reason, in_debt)

    assert decision.reasons == (NO_EXCESS_DEPOSIT,)
    assert (decision.debt_offset_fen, decision.refund_fen) == (100_000, 0)
    after = apply_decision(in_debt, decision)
    assert (after.balance_fen, after.debt_fen) == (0, 389_998)


@pytest.mark.parametrize(
    ("required_fen", "refund_fen"),
    [(PERSONAL_FEN, 2_900_000), (ENTERPRISE_FEN, 1_000_000)],
    ids=["personal", "enterprise"],
)
def test_migration_keeps_the_standard_requirement_of_the_store(
    required_fen: int, refund_fen: int
) -> None:
    decision = decide_refund("plan_migration", store(required_fen, balance_fen=3_000_000))

    assert decision.required_fen == required_fen
    assert decision.refund_fen == refund_fen
    assert decision.balance_fen - decision.refund_fen == required_fen


def test_closing_store_keeps_nothing_on_deposit() -> None:
    decision = decide_refund("store_closed", store(ENTERPRISE_FEN, balance_fen=3_000_000))

    assert (decision.required_fen, decision.refund_fen) == (0, 3_000_000)


def test_store_never_opened_reports_no_requirement() -> None:
    decision = decide_refund("plan_migration", store(None, balance_fen=3_000_000))

    assert (decision.required_fen, decision.reasons) == (0, (STORE_UNKNOWN,))


def test_every_rule_reason_is_documented() -> None:
    for code in (STORE_UNKNOWN, NOT_LEGACY_MERCHANT, NO_EXCESS_DEPOSIT, STORE_HAS_OPEN_OBLIGATIONS):
        assert REASONS[code]


fen = st.integers(min_value=0, max_value=10**12)


@given(
    reason=st.sampled_from(["plan_migration", "store_closed"]),
    required_fen=st.sampled_from([PERSONAL_FEN, ENTERPRISE_FEN]),
    balance_fen=fen,
    debt_fen=fen,
    legacy=st.booleans(),
    obligations=st.booleans(),
)
def test_money_is_conserved_and_never_refunded_below_what_must_stay(
    reason: RefundReason,
    required_fen: int,
    balance_fen: int,
    debt_fen: int,
    legacy: bool,
    obligations: bool,
) -> None:
    before = store(required_fen, balance_fen, debt_fen, legacy, obligations)

    decision = decide_refund(reason, before)
    after = apply_decision(before, decision)

    assert decision.debt_offset_fen >= 0 and decision.refund_fen >= 0
    assert decision.refunded is (decision.refund_fen > 0)
    assert after.debt_fen >= 0
    # what left the deposit went to the debt or to the merchant, nothing else
    assert before.balance_fen - after.balance_fen == decision.debt_offset_fen + decision.refund_fen
    assert before.debt_fen - after.debt_fen == decision.debt_offset_fen
    if decision.refunded:
        assert after.debt_fen == 0
        assert after.balance_fen == decision.required_fen
    else:
        assert after.balance_fen >= 0
    # a second identical request never refunds again
    assert not decide_refund(reason, after).refunded
