"""The status screen and its figures' formats, from a report built by hand."""

import pytest
from rich.console import Console

from workers.ops.queues import QueueFigures, vhost_of
from workers.ops.status import duration, render


@pytest.mark.parametrize(("seconds", "shown"), [
    (0.012, "12 ms"), (4.24, "4.2 s"), (210, "3.5 min"), (7200, "2.0 h"), (9 * 86400, "9.0 d")])
def test_durations_read_in_the_best_unit(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown


@pytest.mark.parametrize(("url", "vhost"), [
    ("amqp://guest:guest@127.0.0.1:5672/", "/"), ("amqp://h:5672", "/"),
    ("amqp://h/haodian_t_1", "haodian_t_1"), ("amqp://h/%2Fprod", "/prod")])
def test_vhost_is_read_from_the_amqp_url(url: str, vhost: str) -> None:
    assert vhost_of(url) == vhost


def test_screen_says_where_the_figures_come_from_and_flags_the_dlq() -> None:
    domain = {"name": "haodian.settlement", "ready": 1200, "consumers": 2, "unacked": None,
              "publish_rate": None, "deliver_rate": None, "ack_rate": None, "dlq": 4,
              "retry": 0, "oldest_ready_age_s": 3.0, "lag_p50_s": 0.04, "lag_p99_s": 0.2,
              "committed_per_s": 2100.0, "workers": 2}
    report = {"generated_at": "2026-01-01T00:00:00+00:00", "source": "amqp",
              "source_note": "management API unavailable (refused)", "lag_window_s": 300,
              "overdue_reviews": 3, "domains": {"settlement": domain},
              "unroutable": {"name": "haodian.unroutable", "ready": 2, "kept": 5, "total": 7},
              "workers": [{"host": "h1", "pid": 42, "domains": ["settlement"],
                           "started_at": "2026-01-01T00:00:00", "seen_s_ago": 1.2,
                           "messages_done": 5000}]}
    console = Console(width=120, record=True)
    console.print(render(report))
    text = console.export_text()
    assert "AMQP passive declares" in text and "management API unavailable" in text
    assert "1,200" in text and "40 ms" in text and "5,000" in text
    assert "overdue certification reviews: 3" in text
    assert "haodian.unroutable" in text and "7" in text and "kept 5" in text


def test_untrusted_host_names_are_printed_literally() -> None:
    crafted = "[/x][link=https://evil]h[/link]\x1b]0;title\x07\x1b[2J"
    report = {"generated_at": "2026-01-01T00:00:00+00:00", "source": "amqp",
              "source_note": "note \x1b[2J", "lag_window_s": 300, "overdue_reviews": 0,
              "domains": {},
              "unroutable": {"name": "haodian.unroutable", "ready": 0, "kept": 0, "total": 0},
              "workers": [{"host": crafted, "pid": 1, "domains": ["[b]x"],
                           "started_at": "2026-01-01T00:00:00", "seen_s_ago": 1.0,
                           "messages_done": 0}]}
    console = Console(width=300, record=True)
    console.print(render(report))
    text = console.export_text()
    assert "[/x][link=https://evil]h[/link]\\x1b]0;title\\x07\\x1b[2J" in text
    assert "[b]x" in text and "note \\x1b[2J" in text and "\x1b" not in text


def test_screen_shows_pruned_tables_with_their_windows_then_the_largest_others() -> None:
    tables = [{"table": "journal_lines", "bytes": 3 * 2**30, "rows_estimate": 9_000_000,
               "retention_s": None},
              {"table": "inbox", "bytes": 5 * 2**20, "rows_estimate": 40_000,
               "retention_s": 30 * 86400.0}]
    tables += [{"table": f"t{i}", "bytes": 1000 - i, "rows_estimate": 1, "retention_s": None}
               for i in range(12)]
    report = {"generated_at": "2026-01-01T00:00:00+00:00", "source": "management",
              "source_note": "", "lag_window_s": 300, "overdue_reviews": 0, "domains": {},
              "unroutable": {"name": "haodian.unroutable", "ready": 0, "kept": 0, "total": 0},
              "workers": [], "tables": tables}
    console = Console(width=120, record=True)
    console.print(render(report))
    text = console.export_text()
    assert "inbox" in text and "30.0 d" in text and "5.0 MiB" in text
    assert "journal_lines" in text and "3.0 GiB" in text and "kept" in text
    assert "t6" in text and "t7" not in text, "the pruned ones, then the 8 largest others"


def test_quorum_queues_show_leader_members_and_a_queue_below_quorum() -> None:
    report = {"generated_at": "2026-01-01T00:00:00+00:00", "source": "management",
              "source_note": "", "lag_window_s": 300, "overdue_reviews": 0, "domains": {},
              "unroutable": {"name": "haodian.unroutable", "ready": 0, "kept": 0, "total": 0},
              "workers": [], "quorum_queues": [
                  {"name": "haodian.settlement", "leader": "hd2@localhost",
                   "members": ["hd1@localhost", "hd2@localhost", "hd3@localhost"],
                   "online": ["hd1@localhost", "hd2@localhost"], "quorum": "degraded"},
                  {"name": "haodian.deposit", "leader": None,
                   "members": ["hd1@localhost", "hd2@localhost", "hd3@localhost"],
                   "online": ["hd1@localhost"], "quorum": "below_quorum"}]}
    console = Console(width=200, record=True)
    console.print(render(report))
    text = console.export_text()
    assert "leader and members" in text and "hd2@localhost" in text
    assert "2/3" in text and "hd3@localhost (down)" in text and "degraded" in text
    assert "BELOW QUORUM" in text and "below quorum" in text and "haodian.deposit" in text


def test_a_queue_reads_below_quorum_without_a_majority_online() -> None:
    members = ("a", "b", "c")
    assert QueueFigures("q", 0, 0, members=members, online=members).quorum == "ok"
    assert QueueFigures("q", 0, 0, members=members, online=("a", "b")).quorum == "degraded"
    assert QueueFigures("q", 0, 0, members=members, online=("a",)).quorum == "below_quorum"
    assert QueueFigures("q", 0, 0).quorum is None
    assert QueueFigures("q", 0, 0, members=members).quorum is None  # online not known
