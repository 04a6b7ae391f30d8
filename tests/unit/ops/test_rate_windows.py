"""Every rate says over which window it was measured: the labels, `haodian status` and
its --watch frame."""

from typing import Any

import pytest
from rich.console import Console
from test_watch_frame import frame, report

from workers.ops import rates
from workers.ops.status import render

DOMAIN = {"name": "haodian.settlement", "ready": 1200, "consumers": 2, "unacked": 30,
          "publish_rate": 2000.0, "deliver_rate": 2100.0, "ack_rate": 2100.0, "dlq": 0,
          "retry": 0, "oldest_ready_age_s": 3.0, "lag_p50_s": 0.04, "lag_p99_s": 0.2,
          "committed_per_s": 1500.0, "workers": 2}
REPORT: dict[str, Any] = {
    "generated_at": "2026-12-02T15:00:00+00:00", "source": "management", "source_note": "",
    "lag_window_s": 300, "overdue_reviews": 0, "domains": {"settlement": DOMAIN},
    "unroutable": {"name": "haodian.unroutable", "ready": 0, "kept": 0, "total": 0},
    "workers": [], "tables": []}


@pytest.mark.parametrize(("seconds", "shown"), [
    (5, "5 s"), (90, "90 s"), (300, "5 min"), (5400, "90 min"), (3600, "1 h"),
    (7200, "2 h"), (2.5, "2.5 s")])
def test_windows_read_as_people_write_them(seconds: float, shown: str) -> None:
    assert rates.span(seconds) == shown


def test_every_rate_says_its_window() -> None:
    assert rates.labels(300) == {"publish_rate": "publish/s (5 s)",
                                 "deliver_rate": "deliver/s (5 s)", "ack_rate": "ack/s (5 s)",
                                 "committed_per_s": "committed/s (5 min)"}
    assert rates.labels(60)["committed_per_s"] == "committed/s (1 min)"


def test_status_screen_labels_rates_with_their_windows() -> None:
    console = Console(width=120, record=True)
    console.print(render(REPORT))
    text = console.export_text()
    assert "ack/s (5 s)" in text and "publish/s (5 s)" in text and "deliver/s (5 s)" in text
    assert "committed/s (5 min)" in text and "ack /s" not in text


def test_the_watch_frame_at_80x24_labels_rates_with_their_windows() -> None:
    text = "\n".join(frame(report(9), 80, 24))
    assert "ack/s (5 s)" in text and "publish/s (5 s)" in text
    assert "committed/s (5 min)" in text
