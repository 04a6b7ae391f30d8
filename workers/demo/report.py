"""The demo's summary: figures of one run read back from PostgreSQL and the DLQs, as tables."""

from collections import Counter
from dataclasses import dataclass
from typing import Any

import asyncpg
from rich.console import Console
from rich.table import Table

from workers.cli.printable import shown
from workers.registry import DOMAIN_NAMES
from workers.tools.dlq import Filter, list_dead_letters

# Every query takes $1 = the run's id prefix as a LIKE pattern ('demo-…-%').
QUERIES: dict[str, str] = {
    "applications": """
        SELECT track, status, count(*) AS n, sum(fee_fen)::bigint AS fees_fen,
               count(*) FILTER (WHERE legacy_migration) AS legacy,
               count(*) FILTER (WHERE cardinality(flags) > 0) AS flagged
        FROM certification_applications WHERE application_id LIKE $1
        GROUP BY track, status ORDER BY track, status""",
    "stores": """
        SELECT store_type, 'opened' AS status, count(*) AS n,
               sum(deposit_required_fen)::bigint AS deposit_required_fen
        FROM stores WHERE store_id LIKE $1 GROUP BY store_type
        UNION ALL
        SELECT store_type, 'rejected', count(*), 0
        FROM store_rejections WHERE store_id LIKE $1 GROUP BY store_type
        ORDER BY 1, 2""",
    "store_reasons": """
        SELECT r AS reason, count(*) AS n FROM store_rejections, unnest(reasons) AS r
        WHERE store_id LIKE $1 GROUP BY r ORDER BY n DESC, r""",
    "products": """
        SELECT status, count(*) AS n FROM products WHERE product_id LIKE $1
        GROUP BY status ORDER BY status""",
    "product_reasons": """
        SELECT r AS reason, count(*) AS n FROM products, unnest(reasons) AS r
        WHERE product_id LIKE $1 AND status = 'rejected' GROUP BY r ORDER BY n DESC, r""",
    "orders": """
        SELECT status, run_id, open_aftersales > 0 AS held, count(*) AS n,
               sum(gross_fen)::bigint AS gross_fen,
               sum(refunded_fen)::bigint AS refunded_fen,
               sum(clawed_back_fen)::bigint AS clawed_back_fen,
               sum(net_fen)::bigint AS net_fen,
               sum(commission_fen)::bigint AS commission_fen,
               sum(payout_fen)::bigint AS payout_fen,
               sum(debt_offset_fen)::bigint AS debt_offset_fen,
               sum(transferred_fen)::bigint AS transferred_fen
        FROM settlement_orders WHERE order_id LIKE $1
        GROUP BY status, run_id, held ORDER BY run_id NULLS LAST, held""",
    "store_months": """
        SELECT month, count(*) AS stores,
               count(*) FILTER (WHERE cumulative_net_fen > 1000000) AS above_free,
               sum(cumulative_net_fen)::bigint AS net_fen,
               sum(commission_fen)::bigint AS commission_fen
        FROM store_months WHERE store_id LIKE $1 GROUP BY month ORDER BY month""",
    "aftersales": """
        SELECT a.aftersale_id, a.order_id, o.store_id, a.status, a.kind, a.refund_fen,
               a.month, a.commission_returned_fen, a.store_debit_fen
        FROM aftersales a JOIN settlement_orders o USING (order_id)
        WHERE a.aftersale_id LIKE $1 ORDER BY a.aftersale_id""",
    "debts": """
        SELECT store_id, balance_fen AS debt_fen FROM ledger_balances
        WHERE store_id LIKE $1 AND account LIKE 'store:%:available' AND balance_fen > 0
        ORDER BY store_id""",
    "payments": """
        SELECT plan, count(*) AS n, sum(amount_fen)::bigint AS amount_fen FROM deposit_payments
        WHERE payment_id LIKE $1 GROUP BY plan ORDER BY plan""",
    "refunds": """
        SELECT request_id, store_id, reason, outcome, balance_fen, debt_fen, debt_offset_fen,
               required_fen, refund_fen, reasons
        FROM deposit_refunds WHERE request_id LIKE $1 ORDER BY request_id""",
    "deposits_held": """
        SELECT coalesce(-sum(balance_fen), 0)::bigint AS held_fen FROM ledger_balances
        WHERE store_id LIKE $1 AND account LIKE 'store:%:deposit'""",
}


async def gather(conn: asyncpg.Connection, tag: str) -> dict[str, list[dict[str, Any]]]:
    """Every table's rows for the run `tag`, as plain dicts."""
    pattern = tag + "-%"
    return {name: [dict(r) for r in await conn.fetch(sql, pattern)]
            for name, sql in QUERIES.items()}


@dataclass(frozen=True)
class DlqDepth:
    domain: str
    depth: int
    this_run: int
    reasons: dict[str, int]
    run_reasons: dict[str, int]


async def dlq_depths(amqp_url: str, database_url: str, tag: str) -> list[DlqDepth]:
    """Each domain's DLQ: how many dead letters, how many of this run, and why."""
    found = []
    marker = tag.encode()
    for domain in DOMAIN_NAMES:
        letters = await list_dead_letters(amqp_url, database_url, domain, Filter())
        mine = [d for d in letters if marker in d.body]
        found.append(DlqDepth(domain, len(letters), len(mine),
                              dict(Counter(d.reason for d in letters)),
                              dict(Counter(d.reason for d in mine))))
    return found


def fen(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def short(ident: str | None, tag: str) -> str:
    return "" if ident is None else ident.removeprefix(tag + "-")


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    for n, col in enumerate(columns):
        table.add_column(col, justify="left" if n == 0 or not col.endswith("fen") else "right")
    return table


def print_figures(console: Console, f: dict[str, list[dict[str, Any]]], tag: str) -> None:
    t = _table("Certification applications", "track", "status", "count", "fees fen",
               "legacy free", "flagged")
    for r in f["applications"]:
        t.add_row(r["track"], r["status"], str(r["n"]), fen(r["fees_fen"]), str(r["legacy"]),
                  str(r["flagged"]))
    console.print(t)

    t = _table("Stores", "type", "status", "count", "deposit required fen")
    for r in f["stores"]:
        t.add_row(r["store_type"], r["status"], str(r["n"]),
                  fen(r["deposit_required_fen"]) if r["status"] == "opened" else "")
    console.print(t)
    console.print("  store rejections: " + _counts(f["store_reasons"]))

    t = _table("Products", "status", "count")
    for r in f["products"]:
        t.add_row(r["status"], str(r["n"]))
    console.print(t)
    console.print("  product rejections: " + _counts(f["product_reasons"]))

    _print_orders(console, f["orders"], tag)

    t = _table("Store-months (commission: 5% above the first 1,000,000 fen)", "month", "stores",
               "above free", "net fen", "commission fen")
    for r in f["store_months"]:
        t.add_row(r["month"], str(r["stores"]), str(r["above_free"]), fen(r["net_fen"]),
                  fen(r["commission_fen"]))
    console.print(t)

    t = _table("After-sales", "after-sale", "store", "outcome", "refund fen",
               "commission back fen", "store debit fen")
    for r in f["aftersales"]:
        outcome = r["status"] if r["kind"] is None else r["kind"]
        if r["month"]:
            outcome += f" ({r['month']})"
        t.add_row(short(r["aftersale_id"], tag), short(r["store_id"], tag), outcome,
                  fen(r["refund_fen"]), fen(r["commission_returned_fen"]),
                  fen(r["store_debit_fen"]))
    console.print(t)
    debts = ", ".join(f"{short(r['store_id'], tag)} {fen(r['debt_fen'])}" for r in f["debts"])
    console.print(f"  store debts outstanding (fen): {debts or 'none'}")

    t = _table("Deposit payments", "plan", "count", "amount fen")
    for r in f["payments"]:
        t.add_row(r["plan"], str(r["n"]), fen(r["amount_fen"]))
    console.print(t)
    t = _table("Deposit refund requests (fen)", "request", "store", "decision")
    for r in f["refunds"]:
        t.add_row(short(r["request_id"], tag), short(r["store_id"], tag), _refund_decision(r))
    console.print(t)
    held = f["deposits_held"][0]["held_fen"] if f["deposits_held"] else 0
    console.print(f"  deposits held for this run's stores now: {fen(held)} fen")


ORDER_MEASURES = (("orders", "n"), ("gross", "gross_fen"), ("refunded before", "refunded_fen"),
                  ("clawed back after", "clawed_back_fen"), ("net", "net_fen"),
                  ("commission", "commission_fen"), ("payout", "payout_fen"),
                  ("debt offset", "debt_offset_fen"), ("transferred", "transferred_fen"))


def _print_orders(console: Console, rows: list[dict[str, Any]], tag: str) -> None:
    """One column per settlement run (and for orders still waiting), one row per figure."""
    heads = [("held (open claim)" if r["held"] else
              f"settled {short(r['run_id'], tag)}" if r["run_id"] else r["status"]) for r in rows]
    t = _table("Orders (fen)", "", *heads)
    for label, key in ORDER_MEASURES:
        t.add_row(label, *(str(r[key]) if key == "n" else fen(r[key]) for r in rows))
    for n in range(1, len(rows) + 1):
        t.columns[n].justify = "right"
    console.print(t)


def _refund_decision(r: dict[str, Any]) -> str:
    if r["outcome"] is None:
        return "undecided"
    figures = f"balance {fen(r['balance_fen'])}"
    if r["debt_fen"]:
        figures += f", debt {fen(r['debt_fen'])} (paid {fen(r['debt_offset_fen'])})"
    if r["outcome"] == "refunded":
        return (f"{r['reason']}: {figures}, required {fen(r['required_fen'])} → refund "
                f"{fen(r['refund_fen'])}")
    return f"{r['reason']}: rejected {', '.join(r['reasons'])} ({figures})"


def print_dlq(console: Console, depths: list[DlqDepth]) -> None:
    t = _table("Dead letters kept per domain", "domain", "depth", "this run",
               "reasons of this run", "all reasons")
    for d in depths:
        t.add_row(d.domain, str(d.depth), str(d.this_run), shown(_pairs(d.run_reasons)),
                  shown(_pairs(d.reasons)))
    console.print(t)


def _counts(rows: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['reason']} ×{r['n']}" for r in rows) or "none"


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} ×{v}" for k, v in sorted(counts.items())) or "—"
