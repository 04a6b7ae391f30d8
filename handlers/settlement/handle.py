"""Settlement handlers for orders and after-sales: load rows, apply the rules, book, return.

`order.confirmed` is the hot path: a whole batch costs a constant number of round trips
(one statement for orders and daily figures, three for the ledger). After-sales are rare
and run one event at a time.
"""

from collections.abc import Sequence
from datetime import date, datetime

from handlers import ledger
from handlers.base import Db, Incoming, PermanentError, Result, TransientError
from handlers.queries import load_queries
from handlers.settlement import postings, rules
from handlers.settlement.reasons import (
    AFTERSALE_CONFLICT,
    ORDER_CONFLICT,
    ORDER_UNKNOWN,
    REFUND_EXCEEDS_ORDER,
)
from schema.settlement import (
    AftersaleClosed,
    AftersaleOpened,
    OrderConfirmed,
    SettlementClawback,
    SettlementScheduled,
)

Q = load_queries("settlement")


async def handle_order_confirmed(
    db: Db, events: Sequence[Incoming[OrderConfirmed]]
) -> list[list[Result]]:
    """Schedule a batch of confirmed orders at T+7 and book their funds into clearing.

    An order already known (another event for the same order_id) has no new effects when
    its data match, and is a conflict when they differ."""
    order_ids: list[str] = []
    store_ids: list[str] = []
    buyer_ids: list[str] = []
    gross: list[int] = []
    confirmed: list[datetime] = []
    days: list[date] = []
    settle: list[datetime] = []
    months: list[str] = []
    for event in events:
        data = event.data
        settle_at = rules.compute_settle_at(data.confirmed_at)
        order_ids.append(data.order_id)
        store_ids.append(data.store_id)
        buyer_ids.append(data.buyer_id)
        gross.append(data.amount_fen)
        confirmed.append(data.confirmed_at)
        days.append(rules.compute_day(data.confirmed_at))
        settle.append(settle_at)
        months.append(rules.compute_month(settle_at))

    rows = await db.fetch(
        Q.insert_orders, order_ids, store_ids, buyer_ids, gross, confirmed, days, settle, months
    )
    inserted = {row["order_id"] for row in rows}
    booked: set[str] = set()
    repeated: list[Incoming[OrderConfirmed]] = []
    entries: list[ledger.JournalEntry] = []
    for event in events:
        data = event.data
        if data.order_id in inserted and data.order_id not in booked:
            booked.add(data.order_id)
            entries.append(
                postings.order_confirmed_entry(
                    data.order_id,
                    data.store_id,
                    data.amount_fen,
                    event.time,
                    (event.source, event.id),
                )
            )
        else:
            repeated.append(event)
    if repeated:
        await _check_repeated(db, repeated)
    await ledger.book(db, entries)
    return [
        [
            Result(
                "settlement.scheduled",
                order_id,
                SettlementScheduled(
                    order_id=order_id, store_id=store_id, amount_fen=amount_fen, settle_at=at
                ),
            )
        ]
        for order_id, store_id, amount_fen, at in zip(
            order_ids, store_ids, gross, settle, strict=True
        )
    ]


async def _check_repeated(db: Db, events: Sequence[Incoming[OrderConfirmed]]) -> None:
    """Orders confirmed before: the same facts again are harmless, other facts conflict."""
    rows = await db.fetch(Q.get_orders, sorted({e.data.order_id for e in events}))
    stored = {row["order_id"]: row for row in rows}
    for event in events:
        data = event.data
        row = stored[data.order_id]
        same = (
            row["store_id"] == data.store_id
            and row["buyer_id"] == data.buyer_id
            and row["gross_fen"] == data.amount_fen
            and row["confirmed_at"] == data.confirmed_at
        )
        if not same:
            raise PermanentError(
                ORDER_CONFLICT, f"order {data.order_id} was confirmed before with other data"
            )


async def handle_aftersale_opened(db: Db, event: Incoming[AftersaleOpened]) -> list[Result]:
    """An open after-sale holds its order's settlement until it closes."""
    data = event.data
    order = await db.fetchrow(Q.lock_order, data.order_id)
    if order is None:
        raise TransientError(ORDER_UNKNOWN, f"order {data.order_id}")
    created = await db.fetchval(
        Q.insert_open_aftersale, data.aftersale_id, data.order_id, data.opened_at
    )
    if created is not None:
        await db.execute(Q.add_open_aftersale, data.order_id)
        return []
    known = await db.fetchrow(Q.lock_aftersale, data.aftersale_id)
    if known["order_id"] != data.order_id:
        raise PermanentError(
            AFTERSALE_CONFLICT, f"after-sale {data.aftersale_id} is on order {known['order_id']}"
        )
    return []  # opened twice, or its close arrived first: nothing left to hold


async def handle_aftersale_closed(db: Db, event: Incoming[AftersaleClosed]) -> list[Result]:
    """Close an after-sale as `rules.decide_aftersale_close` says: a refund before
    settlement reduces the order, one after settlement is a clawback charged to the store;
    either way the hold is released."""
    data = event.data
    order = await db.fetchrow(Q.lock_order, data.order_id)
    if order is None:
        raise TransientError(ORDER_UNKNOWN, f"order {data.order_id}")
    known = await db.fetchrow(Q.lock_aftersale, data.aftersale_id)
    state = rules.OrderState(
        order["gross_fen"], order["refunded_fen"], order["clawed_back_fen"],
        order["status"] == "settled",
    )
    close = rules.decide_aftersale_close(
        data.order_id,
        state,
        None if known is None else rules.KnownAftersale(
            known["order_id"], known["status"] == "closed", known["refund_fen"]
        ),
        data.refund_fen,
    )
    if close.outcome == "duplicate":
        return []  # closed twice with the same outcome: effects once
    if close.outcome == "on_other_order":
        raise PermanentError(
            AFTERSALE_CONFLICT, f"after-sale {data.aftersale_id} is on order {known['order_id']}"
        )
    if close.outcome == "closed_differently":
        raise PermanentError(AFTERSALE_CONFLICT, f"after-sale {data.aftersale_id} closed before")
    if close.outcome == "refund_exceeds_order":
        remaining = rules.compute_remaining(
            state.gross_fen, state.refunded_fen, state.clawed_back_fen
        )
        raise PermanentError(
            REFUND_EXCEEDS_ORDER,
            f"refund {data.refund_fen} > {remaining} left of order {data.order_id}",
        )
    released = int(close.releases_hold)
    if close.outcome == "clawback":
        return [await _claw_back(db, event, order["store_id"], order["month"], released)]

    await db.execute(
        Q.upsert_closed_aftersale, data.aftersale_id, data.order_id, close.outcome,
        data.refund_fen, None, None, None, data.closed_at,
    )
    await db.execute(Q.apply_aftersale_close, data.order_id, data.refund_fen, 0, released)
    if close.outcome == "refund":
        await ledger.book(db, [postings.refund_entry(
            data.aftersale_id, order["store_id"], data.refund_fen, event.time,
            (event.source, event.id),
        )])
    return []


async def _claw_back(
    db: Db, event: Incoming[AftersaleClosed], store_id: str, month: str, released: int
) -> Result:
    """A refund after settlement: the store-month's net drops, the commission delta goes
    back to the store and the rest of the refund is the store's debt."""
    data = event.data
    store_month = await db.fetchrow(Q.lock_store_month, store_id, month)
    if store_month is None:
        # A settled order always has its store-month: the books are broken, stop here.
        raise RuntimeError(f"settled order {data.order_id} has no store-month {month}")
    claw = rules.compute_clawback(data.refund_fen, store_month["cumulative_net_fen"])
    await db.execute(
        Q.apply_clawback_to_store_month, store_id, month, claw.refund_fen,
        claw.commission_returned_fen,
    )
    await db.execute(
        Q.upsert_closed_aftersale, data.aftersale_id, data.order_id, "clawback",
        claw.refund_fen, month, claw.commission_returned_fen, claw.store_debit_fen,
        data.closed_at,
    )
    await db.execute(Q.apply_aftersale_close, data.order_id, 0, claw.refund_fen, released)
    await ledger.book(db, [postings.clawback_entry(
        data.aftersale_id, store_id, claw, event.time, (event.source, event.id)
    )])
    result = SettlementClawback(
        order_id=data.order_id,
        store_id=store_id,
        aftersale_id=data.aftersale_id,
        refund_fen=claw.refund_fen,
        commission_returned_fen=claw.commission_returned_fen,
        store_debit_fen=claw.store_debit_fen,
    )
    return Result("settlement.clawback", data.order_id, result)
