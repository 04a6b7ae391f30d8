"""The sizing rule of `haodian scale advise`, and where the per-process figure comes from."""

from pathlib import Path

import orjson
import pytest

from workers.ops.scale import processes_needed, throughput
from workers.settings import OpsSettings


@pytest.mark.parametrize(("depth", "arrival", "per_process", "target", "expected"), [
    (0, 0.0, 2300, 60, 1),  # idle: one process stays
    (0, 2000.0, 2300, 60, 2),  # 2000/s would keep one process 87 % busy: two
    (138_000, 0.0, 2300, 60, 1),  # exactly one minute of work for one process
    (138_000, 1000.0, 2300, 60, 2),  # the same backlog while 1000/s keep coming
    (1_000_000, 5000.0, 2300, 30, 17),  # (1e6/30 + 5000) / 2300 = 16.7
])
def test_processes_cover_the_backlog_and_the_arrivals(depth: int, arrival: float,
                                                      per_process: float, target: float,
                                                      expected: int) -> None:
    assert processes_needed(depth, arrival, per_process, target) == expected


def test_growing_backlog_needs_more_than_a_draining_one() -> None:
    growing = processes_needed(10_000, 3000.0, 2300, 10)
    draining = processes_needed(10_000, 0.0, 2300, 10)
    assert growing > draining


def test_throughput_prefers_the_setting_then_the_bench_report(tmp_path: Path) -> None:
    (tmp_path / "bench-settlement.json").write_bytes(orjson.dumps(
        {"worker": {"events_per_s": 2079}}))
    assert throughput("settlement", OpsSettings(), tmp_path) == 2079
    assert throughput("settlement", OpsSettings(throughput_per_process={"settlement": 900}),
                      tmp_path) == 900
    assert throughput("deposit", OpsSettings(), tmp_path) == 2000.0  # built-in default
