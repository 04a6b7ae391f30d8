"""Balances per account of a list of journal entries, for the postings unit tests."""

from collections import defaultdict

from handlers.ledger import JournalEntry


def balances(entries: list[JournalEntry]) -> dict[str, int]:
    """Each account's sum over the entries; accounts that net to zero are left out."""
    totals: dict[str, int] = defaultdict(int)
    for e in entries:
        for p in e.postings:
            totals[p.account] += p.amount_fen
    return {account: v for account, v in totals.items() if v != 0}
