"""Deposit refund rules (docs/rules.md §3.4): integer-fen arithmetic over facts read under lock.

Every amount here is in the merchant's view: a positive deposit is money the platform
holds for the store, a positive debt is money the store owes the platform.

Order of a decision:
1. a store that was never opened is rejected (`store_unknown`);
2. eligibility: `plan_migration` needs a legacy_mall deposit (`not_legacy_merchant`;
   a store that ever paid under legacy_mall keeps counting as legacy after migrating,
   so §3.4's second migration request gets `no_excess_deposit`),
   `store_closed` needs no unsettled orders or open after-sales
   (`store_has_open_obligations`); an ineligible request moves no money;
3. the debt is paid from the deposit first, as far as the deposit goes. A debt larger
   than the deposit takes the whole deposit and the rest of the debt stays on the
   store's available account (later payouts pay it, docs/rules.md §3.3);
4. refund = what is left minus what must stay (the standard plan's requirement for the
   store's type on a migration, read from compliance's policy table by the handler;
   nothing for a closing store); zero or less is `no_excess_deposit`.
   The debt offset of step 3 stands even then: the deposit is security for that debt.
"""

from dataclasses import dataclass, replace
from typing import Literal

from handlers.deposit.reasons import (
    NO_EXCESS_DEPOSIT,
    NOT_LEGACY_MERCHANT,
    STORE_HAS_OPEN_OBLIGATIONS,
    STORE_UNKNOWN,
)

RefundReason = Literal["plan_migration", "store_closed"]


@dataclass(frozen=True, slots=True)
class StoreDeposit:
    """A store's deposit position, read under its balance locks (merchant view, fen)."""

    opened: bool  # compliance approved the store's opening at some point
    standard_required_fen: int  # the standard plan's deposit for the store's type
    balance_fen: int  # deposit held for the store
    debt_fen: int  # what the store owes the platform, >= 0
    holds_legacy_deposit: bool  # paid (part of) its deposit under legacy_mall
    has_open_obligations: bool  # unsettled orders or open after-sales


@dataclass(frozen=True, slots=True)
class RefundDecision:
    """The outcome of one refund request with the figures it was computed from."""

    reason: RefundReason
    balance_fen: int
    required_fen: int
    debt_fen: int
    debt_offset_fen: int
    refund_fen: int
    reasons: tuple[str, ...]

    @property
    def refunded(self) -> bool:
        return not self.reasons


def compute_debt_offset_fen(balance_fen: int, debt_fen: int) -> int:
    """The part of the debt the deposit can pay."""
    return max(0, min(balance_fen, debt_fen))


def check_eligibility(reason: RefundReason, store: StoreDeposit) -> tuple[str, ...]:
    """Reasons that stop a request before any money moves."""
    if not store.opened:
        return (STORE_UNKNOWN,)
    if reason == "plan_migration" and not store.holds_legacy_deposit:
        return (NOT_LEGACY_MERCHANT,)
    if reason == "store_closed" and store.has_open_obligations:
        return (STORE_HAS_OPEN_OBLIGATIONS,)
    return ()


def decide_refund(reason: RefundReason, store: StoreDeposit) -> RefundDecision:
    """Decide one request: debt offset first, then the refund above what must stay."""
    # A closing store keeps nothing; a store that never opened is refused anyway.
    required_fen = store.standard_required_fen if reason == "plan_migration" and store.opened else 0

    def outcome(offset_fen: int, refund_fen: int, reasons: tuple[str, ...]) -> RefundDecision:
        return RefundDecision(
            reason=reason,
            balance_fen=store.balance_fen,
            required_fen=required_fen,
            debt_fen=store.debt_fen,
            debt_offset_fen=offset_fen,
            refund_fen=refund_fen,
            reasons=reasons,
        )

    blocked = check_eligibility(reason, store)
    if blocked:
        return outcome(0, 0, blocked)
    offset_fen = compute_debt_offset_fen(store.balance_fen, store.debt_fen)
    excess_fen = store.balance_fen - offset_fen - required_fen
    if excess_fen <= 0:
        return outcome(offset_fen, 0, (NO_EXCESS_DEPOSIT,))
    return outcome(offset_fen, excess_fen, ())


def apply_decision(store: StoreDeposit, decision: RefundDecision) -> StoreDeposit:
    """The store's position after a decision, for the next request in the same batch."""
    return replace(
        store,
        balance_fen=store.balance_fen - decision.debt_offset_fen - decision.refund_fen,
        debt_fen=store.debt_fen - decision.debt_offset_fen,
    )


def check_closes_store(decision: RefundDecision) -> bool:
    """Refunding a closing store's deposit closes the store: compliance lists nothing more
    in it (`store_not_open`) and no debt can build up behind it."""
    return decision.refunded and decision.reason == "store_closed"
