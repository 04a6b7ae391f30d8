"""Certification integration tests start from empty certification tables."""

import asyncpg
import pytest


@pytest.fixture
async def pg(pg: asyncpg.Connection) -> asyncpg.Connection:
    """The shared `pg` connection with the certification tables emptied inside the test's
    own transaction (rolled back with it), so rows that worker tests committed to the
    session database cannot leak into these expectations."""
    await pg.execute("DELETE FROM professional_accounts")
    await pg.execute("DELETE FROM certification_applications")
    return pg
