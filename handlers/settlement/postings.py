"""The journal entries settlement books, one builder per money movement.

Debit-positive, like the ledger (+ debits, − credits). Accounts:

    clearing             buyer funds held for confirmed, unsettled orders (escrow)
    store:S:pending      owed to the store for its unsettled orders (credit balance)
    store:S:available    settled balance; a debit balance is the store's debt
    platform:commission  technical service fees earned (credit balance)
    external:bank        the platform's own money at the bank: debited when money
                         comes in, credited when it leaves (payouts, clawback refunds)

    order confirmed g    clearing +g, pending −g
    refund r (unpaid)    pending +r, clearing −r           the escrow goes back to the buyer
    settlement           pending +n, clearing −n           the order leaves escrow ...
                         bank +n, bank −t                  ... into the bank; t leaves it
                         commission −c                     the fee is earned
                         available −p, available +t        payout credited, transfer debited:
                                                           net −d, the debt it paid
    clawback r           bank −r                           the buyer is refunded by the platform
                         commission +cr                    the fee is given back
                         available +(r − cr)               the store owes the rest (a debt)

`ledger.entry` merges the postings of one account, so a settlement books
bank +(n − t) and available −d.
"""

from datetime import datetime

from handlers.ledger import (
    BANK,
    CLEARING,
    COMMISSION,
    JournalEntry,
    Posting,
    entry,
    store_account,
)
from handlers.settlement.rules import Clawback, Settlement

KIND_ORDER_CONFIRMED = "order_confirmed"
KIND_REFUND = "refund"
KIND_SETTLEMENT = "settlement"
KIND_CLAWBACK = "clawback"

Cause = tuple[str, str]  # (event source, event id)


def order_confirmed_entry(
    order_id: str, store_id: str, gross_fen: int, booked_at: datetime, cause: Cause
) -> JournalEntry:
    """Buyer funds enter clearing; the platform owes them to the store once settled."""
    # The hot path (one per confirmed order): built directly, since its two postings
    # never need `entry`'s merging; a free order books nothing.
    lines = (
        (Posting(CLEARING, gross_fen), Posting(store_account(store_id, "pending"), -gross_fen))
        if gross_fen
        else ()
    )
    return JournalEntry(KIND_ORDER_CONFIRMED, order_id, booked_at, cause[0], cause[1], lines)


def refund_entry(
    aftersale_id: str, store_id: str, refund_fen: int, booked_at: datetime, cause: Cause
) -> JournalEntry:
    """A refund before settlement: the escrow returns to the buyer, the store is owed less."""
    return entry(
        KIND_REFUND,
        aftersale_id,
        booked_at,
        cause,
        (store_account(store_id, "pending"), refund_fen),
        (CLEARING, -refund_fen),
    )


def settlement_entry(
    order_id: str, store_id: str, s: Settlement, booked_at: datetime, cause: Cause
) -> JournalEntry:
    """An order settled: out of escrow, fee earned, debt paid, the rest transferred out.

    Written already merged (bank +n −t, available −p +t = −d) because a run builds one
    per order; `test_settlement_postings` checks it against the unmerged movements."""
    lines = (
        Posting(store_account(store_id, "pending"), s.net_fen),
        Posting(CLEARING, -s.net_fen),
        Posting(BANK, s.net_fen - s.transferred_fen),
        Posting(COMMISSION, -s.commission_fen),
        Posting(store_account(store_id, "available"), s.transferred_fen - s.payout_fen),
    )
    return JournalEntry(
        KIND_SETTLEMENT,
        order_id,
        booked_at,
        cause[0],
        cause[1],
        tuple(line for line in lines if line.amount_fen),
    )


def clawback_entry(
    aftersale_id: str, store_id: str, c: Clawback, booked_at: datetime, cause: Cause
) -> JournalEntry:
    """A refund after settlement, paid by the platform and charged to the store."""
    return entry(
        KIND_CLAWBACK,
        aftersale_id,
        booked_at,
        cause,
        (BANK, -c.refund_fen),
        (COMMISSION, c.commission_returned_fen),
        (store_account(store_id, "available"), c.store_debit_fen),
    )
