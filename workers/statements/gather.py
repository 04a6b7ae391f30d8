"""Reading a statement from PostgreSQL: the header's few aggregates, then the lines
streamed through server-side cursors (bounded memory whatever the month's size), all in
one repeatable-read, read-only snapshot so the lines and the ledger agree.

    async with snapshot(conn):
        header = await read_header(conn, store_id, month)
        async for line in read_lines(conn, header): ...

`write_statement` does exactly that into a renderer and returns the reconciliation.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import asyncpg

from handlers.ledger import store_account
from handlers.queries import load_queries
from workers.statements.model import (
    ACCOUNT_KINDS,
    COMMISSION,
    Balances,
    Check,
    Clawback,
    DepositPayment,
    DepositRefund,
    Header,
    Line,
    Movement,
    Refund,
    Settled,
    StoreMonth,
    Totals,
    month_bounds,
    reconcile,
)

Q = load_queries("statements")

PREFETCH = 10_000  # rows per cursor round trip (a few MiB)
STORES_PAGE = 500


class Renderer(Protocol):
    def begin(self, header: Header) -> None: ...
    def line(self, line: Line) -> None: ...
    def end(self, totals: Totals, checks: list[Check]) -> None: ...


@asynccontextmanager
async def snapshot(conn: asyncpg.Connection) -> AsyncIterator[None]:
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        # A big month's steps are sorted for the running sums: in memory, not on disk.
        await conn.execute("SET LOCAL work_mem = '64MB'")
        yield


def _accounts(store_id: str) -> list[str]:
    return [store_account(store_id, kind) for kind in ACCOUNT_KINDS]


def _kind_of(store_id: str, account: str) -> str:
    if account == "platform:commission":
        return COMMISSION
    return account.removeprefix(f"store:{store_id}:")


async def read_header(conn: asyncpg.Connection, store_id: str, month: str) -> Header:
    """Balances at both boundaries and the month's movements (one pass over the store's
    lines), the commission its entries booked, and the store-month's totals."""
    start, end = month_bounds(month)
    accounts = _accounts(store_id)
    opening: dict[str, int] = {}
    closing: dict[str, int] = {}
    movements: dict[tuple[str, str], Movement] = {}
    for r in await conn.fetch(Q.account_lines, accounts, start, end):
        kind = _kind_of(store_id, r["account"])
        opening[kind] = opening.get(kind, 0) + r["before_fen"]
        closing[kind] = closing.get(kind, 0) + r["until_fen"]
        if r["lines"]:
            movements[(r["kind"], kind)] = Movement(r["lines"], -r["month_fen"])
    for r in await conn.fetch(Q.commission_lines, accounts[0], start, end, store_id):
        movements[(r["kind"], COMMISSION)] = Movement(r["lines"], -r["amount_fen"])
    sm = await conn.fetchrow(Q.store_month_totals, store_id, month, end)
    months = [r["month"] for r in await conn.fetch(Q.settlement_months, store_id, start, end)]
    return Header(
        store_id=store_id,
        month=month,
        start=start,
        end=end,
        opening=Balances.from_ledger(opening),
        closing=Balances.from_ledger(closing),
        movements=movements,
        store_month=StoreMonth(month, sm["net_fen"], sm["commission_fen"], sm["steps"],
                               sm["commission_later_fen"], sm["steps_later"]),
        step_months=tuple(months),
    )


def _step(r: Any) -> Settled | Clawback:
    if r["kind"] == "settlement":
        return Settled(r["booked_at"], r["month"], r["order_id"], r["before_fen"],
                       r["after_fen"], r["gross_fen"], r["refunded_fen"], r["net_fen"],
                       r["commission_fen"], r["payout_fen"], r["debt_offset_fen"],
                       r["transferred_fen"])
    return Clawback(r["booked_at"], r["month"], r["aftersale_id"], r["order_id"],
                    r["before_fen"], r["after_fen"], r["refund_fen"],
                    r["commission_returned_fen"], r["store_debit_fen"])


async def read_lines(conn: asyncpg.Connection, header: Header) -> AsyncIterator[Line]:
    """The month's lines, section by section in `model.SECTIONS` order (inside a
    transaction: the cursors are server-side)."""
    args = (header.store_id, header.start, header.end)
    async for r in conn.cursor(Q.refunds, *args, prefetch=PREFETCH):
        yield Refund(r["booked_at"], r["aftersale_id"], r["order_id"], r["refund_fen"])
    async for r in conn.cursor(Q.settlement_steps, *args, list(header.step_months),
                               prefetch=PREFETCH):
        yield _step(r)
    async for r in conn.cursor(Q.deposit_payments, *args, prefetch=PREFETCH):
        yield DepositPayment(r["booked_at"], r["payment_id"], r["plan"], r["amount_fen"])
    async for r in conn.cursor(Q.deposit_refunds, *args, prefetch=PREFETCH):
        yield DepositRefund(r["booked_at"], r["request_id"], r["reason"], r["outcome"],
                            r["debt_offset_fen"], r["refund_fen"])


async def write_statement(
    conn: asyncpg.Connection, store_id: str, month: str, renderer: Renderer
) -> list[Check]:
    """One statement from one snapshot into `renderer`; returns its reconciliation."""
    async with snapshot(conn):
        header = await read_header(conn, store_id, month)
        renderer.begin(header)
        totals = Totals()
        async for line in read_lines(conn, header):
            totals.add(line)
            renderer.line(line)
        checks = reconcile(header, totals)
        renderer.end(totals, checks)
    return checks


async def stores(conn: asyncpg.Connection, month: str) -> AsyncIterator[str]:
    """Every store with something to state for `month`, a page at a time, in id order."""
    _, end = month_bounds(month)
    after = ""
    while True:
        page = [r["store_id"] for r in await conn.fetch(Q.stores_page, end, after, STORES_PAGE)]
        for store_id in page:
            yield store_id
        if len(page) < STORES_PAGE:
            return
        after = page[-1]
