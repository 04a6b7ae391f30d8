"""The settlement run: settles due orders one bounded chunk per transaction.

Each step locks the run's row (chunks of one run never overlap, so its totals see every
chunk), takes the next due orders with SKIP LOCKED (an overlapping run on another worker
takes other orders, never the same ones), then locks in the project-wide order:
store-months ascending (store_id, month), then ledger balances through
`ledger.lock_balances`. A constant number of round trips per chunk.
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from handlers import ledger
from handlers.base import Chunk, Db, Incoming, PermanentError, Result
from handlers.ledger import store_account
from handlers.queries import load_queries
from handlers.settlement import postings, rules
from handlers.settlement.reasons import RUN_CONFLICT
from schema.settlement import SettlementRunRequested

Q = load_queries("settlement")

CHUNK_SIZE = 500


async def handle_run_requested(db: Db, event: Incoming[SettlementRunRequested]) -> Chunk:
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

    due = await db.fetch(Q.lock_due_orders, data.as_of, CHUNK_SIZE)
    paid = await _settle(db, event, due) if due else []
    done = len(due) < CHUNK_SIZE
    totals = await db.fetchrow(
        Q.mark_run_progress,
        data.run_id,
        len(paid),
        sum(r.data["net_fen"] for r in paid),
        sum(r.data["commission_fen"] for r in paid),
        sum(r.data["payout_fen"] for r in paid),
        done,
        event.time,
    )
    if not done:
        return Chunk(results=paid, done=False)
    completed = Result(
        "settlement.run_completed",
        data.run_id,
        {
            "run_id": data.run_id,
            "as_of": data.as_of.isoformat(),
            "orders_settled": totals["orders_settled"],
            "net_total_fen": totals["net_total_fen"],
            "commission_total_fen": totals["commission_total_fen"],
            "payout_total_fen": totals["payout_total_fen"],
        },
        id_key=data.run_id,
    )
    return Chunk(results=[*paid, completed], done=True)


async def _settle(
    db: Db, event: Incoming[SettlementRunRequested], due: Sequence[Any]
) -> list[Result]:
    """Settle locked due orders in their (settle_at, order_id) order."""
    run_id = event.data.run_id
    keys = sorted({(row["store_id"], row["month"]) for row in due})
    month_rows = await db.fetch(Q.lock_store_months, [k[0] for k in keys], [k[1] for k in keys])
    month_net = {(r["store_id"], r["month"]): r["cumulative_net_fen"] for r in month_rows}
    month_commission = {(r["store_id"], r["month"]): r["commission_fen"] for r in month_rows}
    stores = sorted({row["store_id"] for row in due})
    balances = await ledger.lock_balances(
        db, [store_account(s, kind) for s in stores for kind in ("available", "pending")]
    )
    debt = {s: rules.compute_debt(balances.get(store_account(s, "available"), 0)) for s in stores}

    month_orders: dict[tuple[str, str], int] = defaultdict(int)
    settled: list[tuple[str, rules.Settlement]] = []
    entries: list[ledger.JournalEntry] = []
    results: list[Result] = []
    cause = (event.source, event.id)
    for row in due:
        order_id, store_id, month = row["order_id"], row["store_id"], row["month"]
        key = (store_id, month)
        s = rules.compute_settlement(
            row["gross_fen"], row["refunded_fen"], month_net[key], debt[store_id]
        )
        month_net[key] = s.month_net_after_fen
        month_commission[key] += s.commission_fen
        month_orders[key] += 1
        debt[store_id] -= s.debt_offset_fen
        settled.append((order_id, s))
        entries.append(postings.settlement_entry(order_id, store_id, s, event.time, cause))
        results.append(
            Result(
                "settlement.paid",
                order_id,
                {
                    "order_id": order_id,
                    "store_id": store_id,
                    "month": month,
                    "gross_fen": s.gross_fen,
                    "refunded_fen": s.refunded_fen,
                    "net_fen": s.net_fen,
                    "commission_fen": s.commission_fen,
                    "payout_fen": s.payout_fen,
                    "debt_offset_fen": s.debt_offset_fen,
                    "transferred_fen": s.transferred_fen,
                    "run_id": run_id,
                },
                id_key=order_id,  # an order is paid once, whichever run pays it
            )
        )

    await ledger.book(db, entries)
    touched = sorted(month_orders)
    await db.execute(
        Q.update_store_months,
        [k[0] for k in touched],
        [k[1] for k in touched],
        [month_net[k] for k in touched],
        [month_commission[k] for k in touched],
        [month_orders[k] for k in touched],
    )
    status = await db.execute(
        Q.mark_orders_settled,
        run_id,
        event.time,
        [order_id for order_id, _ in settled],
        [s.net_fen for _, s in settled],
        [s.commission_fen for _, s in settled],
        [s.payout_fen for _, s in settled],
        [s.debt_offset_fen for _, s in settled],
        [s.transferred_fen for _, s in settled],
    )
    if status != f"UPDATE {len(settled)}":
        # The orders were locked above: anything else means the books would be wrong.
        raise RuntimeError(f"settling {len(settled)} orders updated {status!r}")
    return results
