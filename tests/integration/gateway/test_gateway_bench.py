"""`haodian bench gateway` runs end to end on a small load (the figures themselves are the
bench's business, not a test's)."""

from rich.console import Console

from workers.bench.gateway import bench_gateway, print_gateway_report
from workers.settings import Settings


async def test_bench_gateway_reports_both_rates(settings: Settings) -> None:
    console = Console(record=True, width=120)
    report = await bench_gateway(settings, 300, console, concurrency=8, batch_size=50)
    for side in ("bare_publish", "gateway", "gateway_batch"):
        assert report[side]["events"] == 300
        assert report[side]["events_per_s"] > 0
    assert report["gateway_batch"]["requests"] == 6
    print_gateway_report(report, console)
    assert "gateway events/s" in console.export_text()
