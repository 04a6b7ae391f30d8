"""The settlement run: settles due orders one bounded chunk per transaction.

Each step locks the run's row (chunks of one run never overlap, so its totals see every
chunk), takes the next due orders with SKIP LOCKED (an overlapping run on another worker
takes other orders, never the same ones), then locks in the project-wide order:
store-months ascending (store_id, month), then ledger balances through
`ledger.lock_balances`. A constant number of round trips per chunk.
"""

from collections.abc import Sequence
from typing import Any

from handlers import ledger
from handlers.base import Chunk, Db, Incoming, PermanentError, Result
from handlers.ledger import store_account
from handlers.queries import load_queries
from handlers.settlement import postings, rules
from handlers.settlement.reasons import RUN_CONFLICT
from schema.settlement import SettlementPaid, SettlementRunCompleted, SettlementRunRequested

Q = load_queries("settlement")

DEFAULT_CHUNK_SIZE = 500  # orders per transaction; the worker passes HAODIAN_CHUNK_SIZE


async def handle_run_requested(db: Db, event: Incoming[SettlementRunRequested],
                               chunk_size: int = DEFAULT_CHUNK_SIZE) -> Chunk:
    """Settle the next chunk of orders due at `as_of`; when none are left, complete the run.

    A redelivered or repeated request continues the same run; a completed run has
    nothing more to do (its completion was emitted when it completed)."""
    data = event.data
    run = await db.fetchrow(Q.lock_run, data.run_id, data.as_of, event.time, event.source, event.id)
    if run["as_of"] != data.as_of:
        raise PermanentError(
            RUN_CONFLICT, f"run {data.run_id} was requested as of {run['as_of'].isoformat()}"
        )
    if run["completed_at"] is not None:
        return Chunk(results=(), done=True)

    due = await db.fetch(Q.lock_due_orders, data.as_of, chunk_size)
    chunk = await _settle(db, event, due) if due else None
    paid = [] if chunk is None else _paid(chunk, data.run_id)
    done = len(due) < chunk_size
    totals = await db.fetchrow(
        Q.mark_run_progress,
        data.run_id,
        len(paid),
        0 if chunk is None else chunk.net_total_fen,
        0 if chunk is None else chunk.commission_total_fen,
        0 if chunk is None else chunk.payout_total_fen,
        done,
        event.time,
    )
    if not done:
        return Chunk(results=paid, done=False)
    completed = SettlementRunCompleted(
        run_id=data.run_id,
        as_of=data.as_of,
        orders_settled=totals["orders_settled"],
        net_total_fen=totals["net_total_fen"],
        commission_total_fen=totals["commission_total_fen"],
        payout_total_fen=totals["payout_total_fen"],
    )
    last = Result("settlement.run_completed", data.run_id, completed, id_key=data.run_id)
    return Chunk(results=[*paid, last], done=True)


async def _settle(
    db: Db, event: Incoming[SettlementRunRequested], due: Sequence[Any]
) -> rules.ChunkSettlement:
    """Settle locked due orders in their (settle_at, order_id) order: lock their
    store-months and balances, compute, book, write the new totals and the orders."""
    orders = [
        rules.DueOrder(
            row["order_id"], row["store_id"], row["month"], row["gross_fen"], row["refunded_fen"]
        )
        for row in due
    ]
    keys = sorted({(o.store_id, o.month) for o in orders})
    month_rows = await db.fetch(Q.lock_store_months, [k[0] for k in keys], [k[1] for k in keys])
    store_months = {
        (r["store_id"], r["month"]): rules.StoreMonth(r["cumulative_net_fen"], r["commission_fen"])
        for r in month_rows
    }
    stores = sorted({o.store_id for o in orders})
    balances = await ledger.lock_balances(
        db, [store_account(s, kind) for s in stores for kind in ("available", "pending")]
    )
    debts = {
        s: ledger.compute_debt_fen(balances.get(store_account(s, "available"), 0)) for s in stores
    }

    chunk = rules.compute_chunk_settlement(orders, store_months, debts)

    cause = (event.source, event.id)
    await ledger.book(db, [
        postings.settlement_entry(o.order_id, o.store_id, s, event.time, cause)
        for o, s in chunk.settled
    ])
    touched = list(chunk.store_months.items())
    await db.execute(
        Q.update_store_months,
        [key[0] for key, _ in touched],
        [key[1] for key, _ in touched],
        [m.cumulative_net_fen for _, m in touched],
        [m.commission_fen for _, m in touched],
        [m.orders_settled for _, m in touched],
    )
    settled = chunk.settled
    status = await db.execute(
        Q.mark_orders_settled,
        event.data.run_id,
        event.time,
        [o.order_id for o, _ in settled],
        [s.net_fen for _, s in settled],
        [s.commission_fen for _, s in settled],
        [s.payout_fen for _, s in settled],
        [s.debt_offset_fen for _, s in settled],
        [s.transferred_fen for _, s in settled],
    )
    if status != f"UPDATE {len(settled)}":
        # The orders were locked above: anything else means the books would be wrong.
        raise RuntimeError(f"settling {len(settled)} orders updated {status!r}")
    return chunk


def _paid(chunk: rules.ChunkSettlement, run_id: str) -> list[Result]:
    """One `settlement.paid` per order; an order is paid once, whichever run pays it, so
    its id is the result's id key."""
    return [
        Result(
            "settlement.paid",
            o.order_id,
            SettlementPaid(
                order_id=o.order_id,
                store_id=o.store_id,
                month=o.month,
                gross_fen=s.gross_fen,
                refunded_fen=s.refunded_fen,
                net_fen=s.net_fen,
                commission_fen=s.commission_fen,
                payout_fen=s.payout_fen,
                debt_offset_fen=s.debt_offset_fen,
                transferred_fen=s.transferred_fen,
                run_id=run_id,
            ),
            id_key=o.order_id,
        )
        for o, s in chunk.settled
    ]
