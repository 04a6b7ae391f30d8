"""The monitor's chart history without servers: the ring buffer (bounded, ordered, windows),
the sampler's record of status reports, the JSON the page and /api/history serve."""

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from workers.ops.monitor.history import CHARTED, FIELDS, History, Ring
from workers.settings import MONITOR_HISTORY_MAX_POINTS, OpsSettings, SettingsError, load

T0 = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def report(at: datetime, **figures: dict[str, Any]) -> dict[str, Any]:
    return {"generated_at": at.isoformat(), "domains": figures}


def test_the_ring_never_holds_more_than_its_capacity_and_forgets_the_oldest() -> None:
    ring = Ring(capacity=3, width=1)
    for t in range(10):
        ring.append(float(t), [t * 10])
        assert len(ring) == min(t + 1, 3)
    assert ring.capacity == 3
    assert ring.window() == [(7.0, [70.0]), (8.0, [80.0]), (9.0, [90.0])]
    assert (ring.oldest(), ring.newest()) == (7.0, 9.0)


def test_a_large_ring_stays_at_its_capacity() -> None:
    ring = Ring(capacity=2161, width=4 * len(FIELDS))
    for t in range(10 * 2161):
        ring.append(float(t), [1.0] * ring.width)
    assert len(ring) == 2161 and ring.oldest() == 10 * 2161 - 2161


def test_the_ring_keeps_time_order_when_the_clock_steps_back() -> None:
    ring = Ring(capacity=10, width=1)
    for t in (1.0, 2.0, 3.0, 4.0):
        ring.append(t, [t])
    ring.append(2.5, [99])  # the wall clock went back: what claims to be later goes
    assert [t for t, _ in ring.window()] == [1.0, 2.0, 2.5]
    ring.append(2.5, [100])  # the same time again replaces
    assert ring.window()[-1] == (2.5, [100.0]) and len(ring) == 3


def test_window_is_since_exclusive_until_inclusive_oldest_first() -> None:
    ring = Ring(capacity=100, width=2)
    for t in range(20):
        ring.append(float(t), [t, None if t % 2 else t / 2])
    assert [t for t, _ in ring.window(since=15)] == [16.0, 17.0, 18.0, 19.0]
    assert [t for t, _ in ring.window(since=4, until=7)] == [5.0, 6.0, 7.0]
    assert ring.window(since=19) == [] and ring.window(since=100) == []
    assert ring.window(since=-1, until=1) == [(0.0, [0.0, 0.0]), (1.0, [1.0, None])]
    assert len(ring.window()) == 20


def test_unknown_figures_come_back_as_none_and_the_width_is_checked() -> None:
    ring = Ring(capacity=2, width=2)
    ring.append(1.0, [None, 3])
    assert ring.window() == [(1.0, [None, 3.0])]
    with pytest.raises(ValueError, match="2 figures"):
        ring.append(2.0, [1])
    with pytest.raises(ValueError):
        Ring(capacity=0, width=1)


def test_drop_before_trims_by_time() -> None:
    ring = Ring(capacity=10, width=0)
    for t in range(6):
        ring.append(float(t), [])
    ring.drop_before(3.0)
    assert [t for t, _ in ring.window()] == [3.0, 4.0, 5.0]


def test_capacity_covers_the_kept_window_within_the_cap() -> None:
    assert History(["settlement"], 5.0, 3 * 3600.0, 300).ring.capacity == 2161
    assert History(["settlement"], 1.0, 600.0, 300).ring.capacity == 601
    huge = History(["settlement"], 0.2, 7 * 86400.0, 300)  # only reachable in code
    assert huge.ring.capacity == MONITOR_HISTORY_MAX_POINTS


def test_settings_refuse_a_history_past_the_cap_and_name_the_variable() -> None:
    ops = OpsSettings()
    assert (ops.monitor_history_every_s, ops.monitor_history_keep_s) == (5.0, 10800.0)
    with pytest.raises(SettingsError) as err:
        load(OpsSettings, monitor_history_every_s=1.0, monitor_history_keep_s=86400.0)
    assert err.value.problems[0].startswith("HAODIAN_MONITOR_HISTORY_KEEP_S: keeps more than")
    with pytest.raises(SettingsError, match="HAODIAN_MONITOR_HISTORY_EVERY_S"):
        load(OpsSettings, monitor_history_every_s=0.0)


def test_history_records_each_report_once_and_forgets_past_keep() -> None:
    history = History(["certification", "settlement"], 5.0, 60.0, 300)
    for i in range(20):
        at = T0 + timedelta(seconds=5 * i)
        assert history.record(report(at, certification={"ready": i, "ack_rate": None},
                                     settlement={"ready": 2 * i, "ack_rate": 1.5,
                                                 "unacked": True}))
    assert not history.record(report(T0 + timedelta(seconds=95))), "the same report again"
    body = history.as_json()
    assert len(body["t"]) == 13, "60 s kept: the newest and the 12 before it"
    assert body["t"][0] == (T0 + timedelta(seconds=35)).timestamp()
    assert body["t"] == sorted(body["t"])
    cert, settle = body["domains"]["certification"], body["domains"]["settlement"]
    assert cert["ready"] == list(range(7, 20)) and cert["ack_rate"] == [None] * 13
    assert settle["ready"][-1] == 38 and settle["ack_rate"][-1] == 1.5
    assert settle["unacked"] == [None] * 13, "a bool is no figure"
    assert isinstance(settle["ready"][-1], int), "whole figures stay integers"
    assert body["samples"] == 13 and body["oldest"] == body["t"][0]


def test_history_json_windows_fields_and_labels() -> None:
    history = History(["settlement"], 1.0, 3600.0, 300)
    for i in range(100):
        history.record(report(T0 + timedelta(seconds=i), settlement={
            "ready": i, "unacked": 1, "publish_rate": 2.25, "ack_rate": 2.0,
            "committed_per_s": 1.0 / 3}))
    since = (T0 + timedelta(seconds=89)).timestamp()
    body = history.as_json(since=since, fields=CHARTED)
    assert len(body["t"]) == 10 and set(body["domains"]["settlement"]) == set(CHARTED)
    assert body["domains"]["settlement"]["committed_per_s"][0] == 0.333
    labels = {k: v["label"] for k, v in body["series"].items()}
    assert labels["ack_rate"] == "ack/s (5 s)" and labels["publish_rate"] == "publish/s (5 s)"
    assert labels["committed_per_s"] == "committed/s (5 min)"
    assert {v["unit"] for v in body["series"].values()} == {"messages", "messages/s"}
    assert [c["id"] for c in body["charts"]] == ["messages", "rates"]
    assert body["charts"][1] == {"id": "rates", "title": "message rates", "unit": "messages/s",
                                 "series": ["publish_rate", "ack_rate", "committed_per_s"]}
    assert history.as_json(fields=["ready", "nosuch"])["series"].keys() == {"ready"}
    assert history.as_json(since=math.inf)["t"] == []
