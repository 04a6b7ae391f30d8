"""Deposit handlers: payments into a store's deposit, refund requests decided under lock.

The money moves are built in handlers/deposit/postings.py and booked through the ledger.

Locks, in the project-wide order (docs/architecture.md): first the batch's own
deposit_payments / deposit_refunds rows by ascending key, then the stores' ledger balance
rows in one `ledger.lock_balances` call. A refund request reads its store's deposit,
debt, legacy status and obligations only after that lock, so a second request for the
same store on another worker waits and then sees the reduced deposit.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from handlers import ledger
from handlers.base import Db, Incoming, PermanentError, Result, TransientError
from handlers.deposit import postings, rules
from handlers.deposit.reasons import (
    DEPOSIT_PAYMENT_CONFLICT,
    DEPOSIT_REQUIREMENT_MISSING,
    REFUND_REQUEST_CONFLICT,
    REFUND_REQUEST_UNDECIDED,
)
from handlers.queries import load_queries
from schema.deposit import (
    DepositPaid,
    DepositRefunded,
    DepositRefundRejected,
    DepositRefundRequested,
)

Q = load_queries("deposit")

# What makes two sightings of one payment_id / request_id the same payment / request.
PAYMENT_FIELDS = ("store_id", "amount_fen", "plan")
REQUEST_FIELDS = ("store_id", "reason")


async def handle_deposit_paid(
    db: Db, events: Sequence[Incoming[DepositPaid]]
) -> list[list[Result]]:
    """Record each new payment and book it into the store's deposit; no result event.

    A payment_id seen before with the same content has no effect; with other content it
    is a conflict (DLQ)."""
    first = _first_by_key(
        events, lambda e: e.data.payment_id, PAYMENT_FIELDS, DEPOSIT_PAYMENT_CONFLICT
    )
    ordered = [first[key] for key in sorted(first)]
    rows = await db.fetch(
        Q.insert_payments,
        [e.data.payment_id for e in ordered],
        [e.data.store_id for e in ordered],
        [e.data.amount_fen for e in ordered],
        [e.data.plan for e in ordered],
        [e.time for e in ordered],
        [e.source for e in ordered],
        [e.id for e in ordered],
    )
    inserted = {row["payment_id"] for row in rows}
    seen_before = [e for e in ordered if e.data.payment_id not in inserted]
    if seen_before:
        stored = await db.fetch(Q.get_payments, [e.data.payment_id for e in seen_before])
        by_id = {row["payment_id"]: row for row in stored}
        for event in seen_before:
            _check_same(
                by_id[event.data.payment_id], event, PAYMENT_FIELDS, DEPOSIT_PAYMENT_CONFLICT
            )
    await ledger.book(
        db,
        [
            postings.payment_entry(
                e.data.payment_id, e.data.store_id, e.data.amount_fen, e.time, (e.source, e.id)
            )
            for e in ordered
            if e.data.payment_id in inserted
        ],
    )
    return [[] for _ in events]


async def handle_refund_requested(
    db: Db, events: Sequence[Incoming[DepositRefundRequested]]
) -> list[list[Result]]:
    """Decide each request once: book the debt offset and the refund, record the decision
    and answer `deposit.refunded` or `deposit.refund_rejected`.

    A request_id seen before gets the recorded answer again (same result id, so the
    outbox does not publish it twice); with another store or reason it is a conflict."""
    first = _first_by_key(
        events, lambda e: e.data.request_id, REQUEST_FIELDS, REFUND_REQUEST_CONFLICT
    )
    ordered = [first[key] for key in sorted(first)]
    rows = await db.fetch(
        Q.insert_refund_requests,
        [e.data.request_id for e in ordered],
        [e.data.store_id for e in ordered],
        [e.data.reason for e in ordered],
        [e.time for e in ordered],
        [e.source for e in ordered],
        [e.id for e in ordered],
    )
    claimed = {row["request_id"] for row in rows}
    answers: dict[str, Result] = {}
    seen_before = [e for e in ordered if e.data.request_id not in claimed]
    if seen_before:
        stored = await db.fetch(Q.get_refund_requests, [e.data.request_id for e in seen_before])
        by_id = {row["request_id"]: row for row in stored}
        for event in seen_before:
            row = by_id[event.data.request_id]
            _check_same(row, event, REQUEST_FIELDS, REFUND_REQUEST_CONFLICT)
            answers[event.data.request_id] = _answer(event.data, _recorded_decision(row))

    # Decide in delivery order: a later request for the same store sees the earlier one's
    # effect on the deposit.
    fresh = [e for e in events if e.data.request_id in claimed and first[e.data.request_id] is e]
    positions = await _load_positions(db, fresh)
    entries: list[ledger.JournalEntry] = []
    decided: list[tuple[str, rules.RefundDecision]] = []
    for event in fresh:
        data = event.data
        position = positions[data.store_id]
        decision = rules.decide_refund(data.reason, position)
        positions[data.store_id] = rules.apply_decision(position, decision)
        entries.extend(
            postings.refund_entries(
                data.request_id, data.store_id, decision, event.time, (event.source, event.id)
            )
        )
        decided.append((data.request_id, decision))
        answers[data.request_id] = _answer(data, decision)
    await ledger.book(db, entries)
    closing = sorted(
        {e.data.store_id for e, (_, d) in zip(fresh, decided, strict=True)
         if rules.check_closes_store(d)}
    )
    if closing:
        await db.execute(Q.mark_stores_closed, closing)
    if decided:
        await db.execute(
            Q.mark_refund_decisions,
            [request_id for request_id, _ in decided],
            ["refunded" if d.refunded else "rejected" for _, d in decided],
            [d.balance_fen for _, d in decided],
            [d.required_fen for _, d in decided],
            [d.debt_fen for _, d in decided],
            [d.debt_offset_fen for _, d in decided],
            [d.refund_fen for _, d in decided],
            [",".join(d.reasons) for _, d in decided],
        )
    return [[answers[e.data.request_id]] for e in events]


async def _load_positions(
    db: Db, events: Sequence[Incoming[DepositRefundRequested]]
) -> dict[str, rules.StoreDeposit]:
    """Each requesting store's deposit position, its balance rows locked first."""
    store_ids = sorted({e.data.store_id for e in events})
    if not store_ids:
        return {}
    stores = {row["store_id"]: row for row in await db.fetch(Q.get_stores, store_ids)}
    opened = [s for s in store_ids if s in stores]
    by_reason = {
        reason: sorted({e.data.store_id for e in events if e.data.reason == reason} & set(opened))
        for reason in ("plan_migration", "store_closed")
    }
    for s in by_reason["plan_migration"]:
        if stores[s]["standard_required_fen"] is None:
            # A policy row an operator removed: no sensible figure to keep on deposit.
            raise PermanentError(DEPOSIT_REQUIREMENT_MISSING, f"{s}: {stores[s]['store_type']}")
    closing = by_reason["store_closed"]
    # A closing store's pending account is locked too: settlement books every confirmed
    # order there, so an order confirmed while the store closes is either seen below as
    # an open obligation or waits until this refund has committed.
    accounts = [ledger.store_account(s, k) for s in opened for k in ("available", "deposit")]
    accounts += [ledger.store_account(s, "pending") for s in closing]
    balances = await ledger.lock_balances(db, accounts)
    never_opened = [s for s in store_ids if s not in stores]
    if never_opened:
        # Reported, not locked: no money moves for a store that never opened.
        rows = await db.fetch(
            Q.get_balances, [ledger.store_account(s, "deposit") for s in never_opened]
        )
        balances.update({row["account"]: row["balance_fen"] for row in rows})
    legacy = await _store_set(db, Q.get_legacy_stores, opened)
    obligated = await _store_set(db, Q.get_stores_with_open_obligations, closing)
    return {
        s: rules.StoreDeposit(
            opened=s in stores,
            standard_required_fen=(stores[s]["standard_required_fen"] or 0) if s in stores else 0,
            balance_fen=ledger.merchant_view(balances.get(ledger.store_account(s, "deposit"), 0)),
            debt_fen=ledger.compute_debt_fen(
                balances.get(ledger.store_account(s, "available"), 0)
            ),
            holds_legacy_deposit=s in legacy,
            has_open_obligations=s in obligated,
        )
        for s in store_ids
    }


async def _store_set(db: Db, query: str, store_ids: list[str]) -> set[str]:
    if not store_ids:
        return set()
    return {row["store_id"] for row in await db.fetch(query, store_ids)}


def _answer(data: DepositRefundRequested, decision: rules.RefundDecision) -> Result:
    # The request, not the event that carried it, determines the result id.
    if decision.refunded:
        refunded = DepositRefunded(
            request_id=data.request_id,
            store_id=data.store_id,
            reason=decision.reason,
            balance_fen=decision.balance_fen,
            required_fen=decision.required_fen,
            debt_fen=decision.debt_fen,
            debt_offset_fen=decision.debt_offset_fen,
            refund_fen=decision.refund_fen,
        )
        return Result("deposit.refunded", data.request_id, refunded, id_key=data.request_id)
    rejected = DepositRefundRejected(
        request_id=data.request_id,
        store_id=data.store_id,
        reason=decision.reason,
        balance_fen=decision.balance_fen,
        required_fen=decision.required_fen,
        debt_fen=decision.debt_fen,
        debt_offset_fen=decision.debt_offset_fen,
        reasons=list(decision.reasons),
    )
    return Result("deposit.refund_rejected", data.request_id, rejected, id_key=data.request_id)


def _recorded_decision(row: Mapping[str, Any]) -> rules.RefundDecision:
    if row["outcome"] is None:
        # Only possible if the deciding transaction has not committed, which the claim's
        # row lock rules out; retry rather than answer without a decision.
        raise TransientError(REFUND_REQUEST_UNDECIDED, row["request_id"])
    return rules.RefundDecision(
        reason=row["reason"],
        balance_fen=row["balance_fen"],
        required_fen=row["required_fen"],
        debt_fen=row["debt_fen"],
        debt_offset_fen=row["debt_offset_fen"],
        refund_fen=row["refund_fen"],
        reasons=tuple(row["reasons"]),
    )


def _first_by_key(
    events: Iterable[Incoming[Any]],
    key: Callable[[Incoming[Any]], str],
    fields: tuple[str, ...],
    conflict: str,
) -> dict[str, Incoming[Any]]:
    """The first event per business key; a later one that differs in `fields` conflicts."""
    first: dict[str, Incoming[Any]] = {}
    for event in events:
        earlier = first.setdefault(key(event), event)
        _check_same(earlier.data.model_dump(include=set(fields)), event, fields, conflict)
    return first


def _check_same(
    recorded: Mapping[str, Any], event: Incoming[Any], fields: tuple[str, ...], conflict: str
) -> None:
    """`recorded` (a stored row or an earlier event's data) must match the event's data."""
    for name in fields:
        if recorded[name] != getattr(event.data, name):
            raise PermanentError(
                conflict,
                f"event {event.source}|{event.id}: {name} {getattr(event.data, name)!r}, "
                f"recorded {recorded[name]!r}",
            )
