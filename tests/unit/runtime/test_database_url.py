"""The database URL in libpq's multi-host form: accepted, passed to asyncpg whole, refused
without target_session_attrs, never logged with its password."""

import pytest

from workers.db import hosts, split_url
from workers.runtime.replication import required_sync_standbys
from workers.settings import SettingsError, load_settings, redact

PAIR = ("postgresql://haodian:s3cret@pg-a:5433,pg-b:5434/haodian"
        "?target_session_attrs=read-write&statement_cache_size=0")


def test_multi_host_url_is_a_valid_setting() -> None:
    s = load_settings(database_url=PAIR)
    assert [(h["host"], h["port"]) for h in s.database_url.hosts()] == [
        ("pg-a", 5433), ("pg-b", 5434)]
    dsn, cache = split_url(s.database_url)
    assert cache == 0
    assert dsn == ("postgresql://haodian:s3cret@pg-a:5433,pg-b:5434/haodian"
                   "?target_session_attrs=read-write")
    assert hosts(dsn) == ["pg-a:5433", "pg-b:5434"]


def test_single_host_url_unchanged() -> None:
    assert split_url("postgresql://127.0.0.1:5432/test") == (
        "postgresql://127.0.0.1:5432/test", 100)


@pytest.mark.parametrize("target", ["", "&target_session_attrs=any",
                                    "&target_session_attrs=prefer-standby"])
def test_several_hosts_need_a_writable_target(target: str) -> None:
    url = f"postgresql://pg-a:5432,pg-b:5432/haodian?statement_cache_size=5{target}"
    with pytest.raises(SettingsError) as err:
        load_settings(database_url=url)
    assert err.value.problems[0].startswith("HAODIAN_DATABASE_URL: several hosts need")


def test_primary_target_accepted() -> None:
    split_url("postgresql://pg-a,pg-b/haodian?target_session_attrs=primary")


def test_password_of_multi_host_url_redacted() -> None:
    shown = redact(load_settings(database_url=PAIR).database_url)
    assert "s3cret" not in shown
    assert shown.startswith("postgresql://haodian:***@pg-a:5433,pg-b:5434/haodian?")


@pytest.mark.parametrize(("names", "wanted"), [
    ("", 0), ("  ", 0), ("*", 1), ("hdstandby", 1), ("a, b", 1), ("FIRST 2 (a, b, c)", 2),
    ("ANY 1 (a, b)", 1), ("any 3 (a,b,c)", 3), ("2 (a, b)", 2), ('"my standby"', 1)])
def test_required_sync_standbys(names: str, wanted: int) -> None:
    assert required_sync_standbys(names) == wanted
