"""Migrations: applied once, recorded with checksums, edited history refused."""

from pathlib import Path

import asyncpg
import pytest

from workers.tools.migrate import MIGRATIONS_DIR, REWORDED, MigrationError, discover, migrate


async def test_second_migrate_applies_nothing(pg: asyncpg.Connection) -> None:
    assert await migrate(pg) == []
    versions = [r["version"] for r in await pg.fetch(
        "SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == [m.version for m in discover()]


async def test_edited_migration_is_refused(pg: asyncpg.Connection, tmp_path: Path) -> None:
    for source in MIGRATIONS_DIR.glob("*.sql"):
        (tmp_path / source.name).write_text(source.read_text())
    first = sorted(tmp_path.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match="edited after it was applied"):
        await migrate(pg, tmp_path)


async def test_badly_named_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "1_core.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_name"):
        discover(tmp_path)


async def test_database_migrated_before_a_comment_rewording_is_accepted(
        pg: asyncpg.Connection) -> None:
    (old,) = REWORDED[5]
    await pg.execute("UPDATE schema_migrations SET checksum = $1 WHERE version = 5", old)
    assert await migrate(pg) == []


async def test_rewording_acceptance_is_only_for_its_own_checksum(
        pg: asyncpg.Connection) -> None:
    await pg.execute("UPDATE schema_migrations SET checksum = 'other' WHERE version = 5")
    with pytest.raises(MigrationError, match=r"0005_settlement\.sql was edited"):
        await migrate(pg)
