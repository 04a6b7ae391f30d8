"""How a migration file is read for online application, and the database URL's statement
cache parameter."""

import pytest

from workers.db import split_url
from workers.tools.online import outside_transaction, statements


def test_the_first_line_marker_puts_a_migration_outside_a_transaction() -> None:
    assert outside_transaction("-- haodian: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (c);")
    assert not outside_transaction("ALTER TABLE t ADD COLUMN c text;\n"
                                   "-- haodian: no-transaction\n")


def test_statements_split_at_line_ending_semicolons_without_comments() -> None:
    sql = ("-- haodian: no-transaction\n-- why: a comment\n"
           "CREATE INDEX CONCURRENTLY IF NOT EXISTS a ON t (x);\n"
           "CREATE INDEX CONCURRENTLY IF NOT EXISTS b\n    ON t (y, ';');\n")
    assert statements(sql) == ["CREATE INDEX CONCURRENTLY IF NOT EXISTS a ON t (x)",
                               "CREATE INDEX CONCURRENTLY IF NOT EXISTS b\n    ON t (y, ';')"]


@pytest.mark.parametrize(("url", "dsn", "cache"), [
    ("postgresql://h:5432/d", "postgresql://h:5432/d", 100),
    ("postgresql://h:6432/d?statement_cache_size=0", "postgresql://h:6432/d", 0),
    ("postgresql://h/d?sslmode=require&statement_cache_size=250",
     "postgresql://h/d?sslmode=require", 250),
])
def test_the_statement_cache_size_is_taken_out_of_the_url(url: str, dsn: str, cache: int
                                                          ) -> None:
    assert split_url(url) == (dsn, cache)


@pytest.mark.parametrize("value", ["off", "-1", ""])
def test_a_malformed_statement_cache_size_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="statement_cache_size"):
        split_url(f"postgresql://h/d?statement_cache_size={value}")
