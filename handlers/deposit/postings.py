"""The journal entries the deposit domain books, one builder per money movement.

Debit-positive, like the ledger (+ debits, − credits):

    deposit_paid         ref payment_id   external:bank +amount, store:S:deposit −amount
    deposit_debt_offset  ref request_id   store:S:deposit +offset, store:S:available −offset
    deposit_refund       ref request_id   store:S:deposit +refund, external:bank −refund

A payment is money coming in from the bank and held for the store; a debt offset pays
the store's debt (a debit balance on `available`) out of its deposit; a refund leaves the
platform to the merchant. Zero postings are dropped (`ledger.entry`), so a decision that
moves nothing books nothing.
"""

from datetime import datetime

from handlers.deposit.rules import RefundDecision
from handlers.ledger import BANK, JournalEntry, entry, store_account

KIND_PAID = "deposit_paid"
KIND_DEBT_OFFSET = "deposit_debt_offset"
KIND_REFUND = "deposit_refund"

Cause = tuple[str, str]  # (event source, event id)


def payment_entry(
    payment_id: str, store_id: str, amount_fen: int, booked_at: datetime, cause: Cause
) -> JournalEntry:
    """A deposit paid: the bank receives it, the platform holds it for the store."""
    return entry(
        KIND_PAID,
        payment_id,
        booked_at,
        cause,
        (BANK, amount_fen),
        (store_account(store_id, "deposit"), -amount_fen),
    )


def refund_entries(
    request_id: str, store_id: str, decision: RefundDecision, booked_at: datetime, cause: Cause
) -> list[JournalEntry]:
    """A refund request's movements: the debt paid from the deposit, then the refund."""
    deposit = store_account(store_id, "deposit")
    available = store_account(store_id, "available")
    offset_fen, refund_fen = decision.debt_offset_fen, decision.refund_fen
    return [
        entry(
            KIND_DEBT_OFFSET,
            request_id,
            booked_at,
            cause,
            (deposit, offset_fen),
            (available, -offset_fen),
        ),
        entry(
            KIND_REFUND, request_id, booked_at, cause, (deposit, refund_fen), (BANK, -refund_fen)
        ),
    ]
