"""The `status --watch` frame at tmux's default 80x24, narrower and wider, from a report
built by hand with the worst case's figures (tests/integration/ops/test_status_watch.py
draws one collected from the real services)."""

import io
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console

from workers.ops.status_screen import WatchFrame, short_names, worker_domains
from workers.registry import DOMAIN_NAMES

LONG_HOST = "haodian-worker-7d9f8b6c5d-x2x9z"  # a Kubernetes pod name
HOSTS = (LONG_HOST, "ip-10-0-12-34.ec2.internal", "w1")
DOMAIN_SETS = (list(DOMAIN_NAMES), ["settlement"], ["certification", "compliance"])


def domain(name: str, management: bool) -> dict[str, Any]:
    rate = 2_100.5 if management else None
    return {"name": f"haodian.{name}", "ready": 1_234_567, "unacked": 1_000 if management
            else None, "consumers": 12, "publish_rate": rate, "deliver_rate": rate,
            "ack_rate": rate, "dlq": 4_321, "retry": 12_345, "oldest_ready_age_s": 210.0,
            "lag_p50_s": 0.04, "lag_p99_s": 1.2, "committed_per_s": 2_100.0, "workers": 12}


def worker(i: int, host: str | None = None) -> dict[str, Any]:
    return {"worker_id": f"w-{i}", "host": host or HOSTS[i % 3], "pid": 400_000 + i,
            "domains": DOMAIN_SETS[i % 3], "started_at": "2026-12-02T12:00:00+00:00",
            "last_seen_at": "2026-12-02T15:49:56+00:00", "seen_s_ago": 1.2,
            "messages_done": 12_345_678}


def report(workers: int, management: bool = True, **more: Any) -> dict[str, Any]:
    return {"generated_at": "2026-12-02T15:49:57.123456+00:00",
            "source": "management" if management else "amqp",
            "source_note": "" if management else
            "management API unavailable (ConnectError: All connection attempts failed)",
            "lag_window_s": 300, "overdue_reviews": 3,
            "domains": {d: domain(d, management) for d in DOMAIN_NAMES},
            "unroutable": {"name": "haodian.unroutable", "ready": 2, "kept": 5, "total": 7},
            "workers": [worker(i) for i in range(workers)],
            "tables": [{"table": "inbox", "bytes": 5 * 2**20, "rows_estimate": 40_000,
                        "retention_s": 30 * 86400.0},
                       {"table": "journal_lines", "bytes": 3 * 2**30,
                        "rows_estimate": 9_000_000, "retention_s": None}], **more}


def frame(r: dict[str, Any], width: int, height: int) -> list[str]:
    console = Console(width=width, height=height, record=True, file=io.StringIO())
    console.print(WatchFrame(r, 2.0))
    return console.export_text().rstrip("\n").split("\n")


def assert_fits(lines: list[str], width: int, height: int) -> None:
    assert len(lines) <= height, "\n".join(lines)
    wide = [line for line in lines if cell_len(line) > width]
    assert wide == []


def worker_rows(lines: list[str], workers: list[dict[str, Any]]) -> list[str]:
    """The line of each worker shown: host, pid and domains whole on it, nothing cut."""
    found = []
    for w in workers:
        row = next((line for line in lines if f" {w['pid']} " in line), None)
        if row is None:
            break
        assert w["host"] in row and worker_domains(w["domains"]) in row, row
        assert "…" not in row
        found.append(row)
    return found


@pytest.mark.parametrize("management", [True, False])
def test_the_worst_case_fits_80_by_24_with_one_header_line(management: bool) -> None:
    r = report(workers=9, management=management)
    lines = frame(r, 80, 24)
    assert_fits(lines, 80, 24)
    assert lines[0].startswith("haodian status") and "15:49:57Z" in lines[0]
    assert ("queues: RabbitMQ management API" if management else
            "queue figures: AMQP (no rates)") in lines[0]
    if not management:
        assert lines[1].strip().startswith("management API unavailable (ConnectError")
    assert all(name in lines[2 if not management else 1] for name in DOMAIN_NAMES)
    assert "…" not in "\n".join(lines[:-1])
    shown = worker_rows(lines, r["workers"])
    assert len(shown) >= 4
    assert lines[-1].startswith(f"+ {9 - len(shown)} more of 9 live workers")
    assert len(lines) == 24, "the workers take the rows that are left"


def test_without_the_management_api_unknown_rates_make_room_for_workers() -> None:
    with_api = worker_rows(frame(report(9), 80, 24), report(9)["workers"])
    amqp = worker_rows(frame(report(9, management=False), 80, 24), report(9)["workers"])
    assert len(amqp) == len(with_api) + 3  # four rate rows gone, one note line added


def test_every_figure_of_every_domain_is_whole_at_80() -> None:
    text = "\n".join(frame(report(2), 80, 24))
    for label in ("ready", "unacked", "publish/s (5 s)", "DLQ", "retry", "oldest ready (est.)",
                  "lag p99", "committed/s (5 min)", "live workers"):
        assert label in text
    assert text.count("1,234,567") == 4 and text.count("12,345") >= 4


def test_a_taller_terminal_shows_every_worker_and_the_tables() -> None:
    r = report(9)
    lines = frame(r, 80, 50)
    assert_fits(lines, 80, 50)
    assert len(worker_rows(lines, r["workers"])) == 9
    assert "more of" not in "\n".join(lines)
    assert any(line.startswith("tables (size with indexes") for line in lines)
    assert any("journal_lines" in line and "3.0 GiB" in line for line in lines)


def test_a_wider_terminal_adds_the_optional_worker_columns_and_the_full_header() -> None:
    lines = frame(report(3), 160, 24)
    assert_fits(lines, 160, 24)
    assert "2026-12-02 15:49:57Z" in lines[0] and "every 2 s" in lines[0]
    assert "queue figures: RabbitMQ management API" in lines[0]
    header = next(line for line in lines if line.startswith("host"))
    assert header.split() == ["host", "pid", "domains", "seen", "done", "up"]
    row = worker_rows(lines, report(3)["workers"])[0]
    assert "12,345,678" in row and "3.8 h" in row and "1.2 s ago" in row


@pytest.mark.parametrize("width", [60, 64, 72])
def test_narrower_terminals_shorten_the_domain_names_and_never_split_a_figure(
        width: int) -> None:
    r = report(4)
    lines = frame(r, width, 24)
    assert_fits(lines, width, 24)
    assert lines[0].startswith("haodian status")
    assert lines[1].split() == short_names(list(DOMAIN_NAMES)) == ["cert", "comp", "sett",
                                                                   "depo"]
    ready = next(line for line in lines if line.startswith("ready"))
    assert ready.split()[1:] == ["1,234,567"] * 4
    assert worker_rows(lines, r["workers"])


def test_a_host_too_long_for_the_width_folds_onto_the_next_line_whole() -> None:
    host = "haodian-worker-7d9f8b6c5d-x2x9z.a-rather-long-cluster-name.svc.cluster.local"
    r = report(2)
    r["workers"][0] = worker(0, host)
    lines = frame(r, 80, 24)
    assert_fits(lines, 80, 24)
    text = "\n".join(lines)
    assert "…" not in text.split("unroutable")[1]
    first = next(n for n, line in enumerate(lines) if "400000" in line)
    assert (lines[first].split()[0] + lines[first + 1].split()[0]) == host


def test_no_workers_and_no_domains_still_draw() -> None:
    lines = frame(report(0, domains={}), 80, 24)
    assert_fits(lines, 80, 24)
    assert "no live workers" in "\n".join(lines)


def test_worker_domains_say_all_for_every_domain() -> None:
    assert worker_domains(list(reversed(DOMAIN_NAMES))) == "all"
    assert worker_domains(["settlement", "deposit"]) == "settlement,deposit"


def test_untrusted_host_names_and_notes_are_drawn_literally() -> None:
    crafted = "[/x][link=https://evil]h[/link]\x1b]0;title\x07"
    r = report(1, management=False, source_note="note \x1b[2J [b]bold")
    r["workers"][0] = {**worker(0), "host": crafted, "domains": ["[b]x"]}
    text = "\n".join(frame(r, 120, 24))
    assert "[/x][link=https://evil]h[/link]\\x1b]0;title\\x07" in text
    assert "[b]x" in text and "note \\x1b[2J [b]bold" in text and "\x1b" not in text
