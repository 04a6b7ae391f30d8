"""`haodian bench` end to end on a small load: every part of the report is there and
means something (the figures themselves come from full runs, not from tests)."""

import asyncio
import sys
from pathlib import Path

import orjson
from harness import settings_env

from workers.settings import Settings


async def test_bench_reports_drain_latency_cpu_and_the_two_worker_saturation(
        settings: Settings, tmp_path: Path) -> None:
    haodian = str(Path(sys.executable).parent / "haodian")
    proc = await asyncio.create_subprocess_exec(
        haodian, "bench", "certification", "--events", "3000", "--latency-s", "2",
        "--out", str(tmp_path), env=settings_env(settings),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 300)
    assert proc.returncode == 0, out.decode()[-3000:]
    report = orjson.loads((tmp_path / "bench-certification.json").read_bytes())
    assert report["bare"]["events"] == report["worker"]["events"] == 3000
    assert report["bare"]["events_per_s"] > 0 and report["worker"]["events_per_s"] > 0
    assert report["ratio"] == round(report["worker"]["events_per_s"]
                                    / report["bare"]["events_per_s"], 3)
    latency = report["latency"]
    assert latency["events"] > 0
    assert 0 < latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"]
    assert report["worker"]["cpu_s_per_1000"]["worker"] > 0
    assert report["worker"]["cpu_s_per_1000"]["database"] > 0
    assert 0 < report["idle_worker_rss_mib"] < 100
    pair = report["two_workers"]
    assert pair["events"] == 3000 and pair["events_per_s"] > 0
    assert set(pair["cores"]) == {"worker-1", "worker-2", "broker", "database"}
    assert pair["cores"]["worker-1"] + pair["cores"]["worker-2"] > 0
    assert isinstance(pair["saturated"], str) and pair["saturated"]
    assert "two workers: saturated" in out.decode()
