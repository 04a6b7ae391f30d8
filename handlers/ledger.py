"""Double-entry ledger in integer fen: building balanced entries and booking them.

Amounts are debit-positive: a posting of +100 debits an account, -100 credits it, and
every entry sums to zero. A store's own view of an account is the opposite sign
(`merchant_view`): the platform *owes* the store what is credited to it.

Lock order: every transaction that locks `ledger_balances` rows locks them through
`lock_balances`, which takes them in ascending account order, so settlement and
deposit never deadlock on a store.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from handlers.base import Db
from handlers.queries import load_queries

CLEARING = "clearing"
COMMISSION = "platform:commission"
BANK = "external:bank"

Q = load_queries("ledger")


def store_account(store_id: str, kind: str) -> str:
    """`kind` is one of pending, available, deposit."""
    return f"store:{store_id}:{kind}"


def store_of(account: str) -> str | None:
    if account.startswith("store:"):
        return account.split(":", 2)[1] if account.count(":") >= 2 else None
    return None


def merchant_view(balance_fen: int) -> int:
    """A store account's balance as the merchant sees it (positive = owed to them)."""
    return -balance_fen


def compute_debt_fen(available_balance_fen: int) -> int:
    """A store's debt from its debit-positive `available` balance: a debit balance is
    money the store owes the platform; a credit balance is no debt. The only place the
    debt rule is written: settlement pays it from payouts, deposit from the deposit, and
    `haodian ledger balance` reports it."""
    return max(0, available_balance_fen)


@dataclass(frozen=True, slots=True)
class Posting:
    account: str
    amount_fen: int  # debit-positive


@dataclass(frozen=True, slots=True)
class JournalEntry:
    kind: str
    ref: str
    booked_at: datetime
    event_source: str
    event_id: str
    postings: tuple[Posting, ...]

    def __post_init__(self) -> None:
        if sum(p.amount_fen for p in self.postings) != 0:
            raise ValueError(f"unbalanced journal entry {self.kind}/{self.ref}: {self.postings}")
        if len({p.account for p in self.postings}) != len(self.postings):
            raise ValueError(f"journal entry {self.kind}/{self.ref} names an account twice")


def entry(
    kind: str,
    ref: str,
    booked_at: datetime,
    cause: tuple[str, str],
    *postings: tuple[str, int],
) -> JournalEntry:
    """Build an entry, dropping zero postings and merging postings to the same account."""
    merged: dict[str, int] = defaultdict(int)
    for account, amount_fen in postings:
        merged[account] += amount_fen
    return JournalEntry(
        kind=kind,
        ref=ref,
        booked_at=booked_at,
        event_source=cause[0],
        event_id=cause[1],
        postings=tuple(Posting(a, v) for a, v in merged.items() if v != 0),
    )


async def lock_balances(db: Db, accounts: Iterable[str]) -> dict[str, int]:
    """Lock (creating if needed) balance rows in ascending order; returns debit-positive
    balances."""
    ordered = sorted(set(accounts))
    if not ordered:
        return {}
    await db.execute(Q.ensure_balances, ordered, [store_of(a) for a in ordered])
    rows = await db.fetch(Q.lock_balances, ordered)
    return {row["account"]: row["balance_fen"] for row in rows}


async def book(db: Db, entries: Sequence[JournalEntry]) -> None:
    """Insert entries and their lines in three statements and move store balances.

    A repeated (kind, ref) raises a unique violation: an entry is booked once."""
    entries = [e for e in entries if e.postings]
    if not entries:
        return
    rows = await db.fetch(
        Q.insert_entries,
        [e.kind for e in entries],
        [e.ref for e in entries],
        [e.booked_at for e in entries],
        [e.event_source for e in entries],
        [e.event_id for e in entries],
    )
    ids = {(row["kind"], row["ref"]): row["id"] for row in rows}
    line_ids: list[int] = []
    line_accounts: list[str] = []
    line_amounts: list[int] = []
    deltas: dict[str, int] = defaultdict(int)
    for e in entries:
        entry_id = ids[(e.kind, e.ref)]
        for p in e.postings:
            line_ids.append(entry_id)
            line_accounts.append(p.account)
            line_amounts.append(p.amount_fen)
            if p.account.startswith("store:"):
                deltas[p.account] += p.amount_fen
    await db.execute(Q.insert_lines, line_ids, line_accounts, line_amounts)
    if deltas:
        accounts = sorted(deltas)
        await db.execute(
            Q.add_to_balances,
            accounts,
            [store_of(a) for a in accounts],
            [deltas[a] for a in accounts],
        )
