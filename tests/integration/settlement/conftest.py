"""Settlement handler tests: the shared `pg` connection with settlement's and the ledger's
rows emptied inside the test's own (rolled-back) transaction."""

import asyncpg
import pytest

# Tables whose rows these tests reason about; other suites may have committed rows to
# the session database, so they are emptied inside each test's rolled-back transaction.
_OWN_TABLES = (
    "aftersales",
    "settlement_orders",
    "store_months",
    "settlement_runs",
    "settlement_daily_buyers",
    "settlement_daily_stats",
    "journal_lines",
    "journal_entries",
    "ledger_balances",
)


@pytest.fixture
async def pg(pg: asyncpg.Connection) -> asyncpg.Connection:
    """The shared `pg` connection with settlement's and the ledger's rows emptied inside
    the test's own transaction (rolled back with it)."""
    for table in _OWN_TABLES:
        await pg.execute(f"DELETE FROM {table}")
    return pg
