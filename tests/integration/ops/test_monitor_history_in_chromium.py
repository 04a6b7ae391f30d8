"""The monitor's server-side chart history, end to end: a real monitor (management API on)
samples the real broker and database while load flows for two minutes; then a fresh page
in headless Chromium draws charts with those points at once (time axis, legend, units),
and the live script keeps appending.

The sampling period is 1 s here instead of the default 5 s, so two minutes give about
130 samples rather than 24; everything else is the production path."""

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from browser_helpers import ARTIFACTS, chromium, running_monitor
from harness import Bus, WorkerProcess
from ops_helpers import aget, applications, wait_until
from selenium.webdriver.common.by import By

from workers import topology
from workers.ops.monitor import assets
from workers.ops.monitor.app import Monitor
from workers.settings import OpsSettings, Settings

pytestmark = pytest.mark.slow

TOKEN = "t0ken-for-the-history-test"
LOAD_S = 120  # the two minutes of load
EVERY_S = 1.0  # the sampling period of this test (default 5 s)
RATE_PER_S = 40  # applications published per second
WORKER_AFTER_S = 20  # a backlog builds first, then a worker drains it under the load
MIN_POINTS = 100

# Per chart canvas: pixels close to each series' colour, and pixels that are not background.
PIXELS_JS = """
const colors = arguments[0], out = {};
const rgb = h => [1, 3, 5].map(i => parseInt(h.slice(i, i + 2), 16));
for (const c of document.querySelectorAll("canvas.chart")) {
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  const counts = {}; let painted = 0;
  for (const [key, color] of Object.entries(colors)) {
    const [r, g, b] = rgb(color); let n = 0;
    for (let i = 0; i < d.length; i += 4)
      if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 60) n++;
    counts[key] = n;
  }
  for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] < 740) painted++;
  out[c.id] = {counts, painted};
}
return out;
"""
DATASETS_JS = """
const out = {};
for (const c of document.querySelectorAll("canvas.chart")) out[c.id] = {...c.dataset};
return out;
"""


async def load(bus: Bus, settings: Settings, log: Path, workers: list[WorkerProcess]) -> None:
    """RATE_PER_S applications a second for LOAD_S; a worker joins after WORKER_AFTER_S."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for second in range(LOAD_S):
        if second == WORKER_AFTER_S:
            workers.append(WorkerProcess(settings, "certification", str(log)))
        await bus.publish(*applications(RATE_PER_S, f"load{second}"))
        await asyncio.sleep(max(0.0, start + second + 1 - loop.time()))


def look(base: str) -> dict[str, Any]:
    """A fresh page load, what it drew, screenshots; then a few seconds of live updates."""
    seen: dict[str, Any] = {}
    driver = chromium()
    try:
        driver.set_page_load_timeout(30)
        driver.get(f"{base}/?token={TOKEN}")  # sets the cookie, then loads / afresh
        seen["url"] = driver.current_url
        seen["embedded"] = driver.execute_script(
            "return JSON.parse(document.getElementById('history-data').textContent).t.length")
        seen["charts"] = driver.execute_script(DATASETS_JS)
        seen["pixels"] = driver.execute_script(PIXELS_JS, assets.SERIES_COLORS)
        seen["header_note"] = driver.execute_script(
            "return getComputedStyle(document.querySelector('header .note')).color")
        seen["rate_rows"] = [row.text for row in driver.find_elements(
            By.CSS_SELECTOR, "#queues tbody tr") if "/s" in row.text]
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "monitor-history.png"))
        driver.find_element(By.CSS_SELECTOR, ".charts").screenshot(
            str(ARTIFACTS / "monitor-history-charts.png"))
        time.sleep(4 * EVERY_S)
        seen["charts_later"] = driver.execute_script(DATASETS_JS)
    finally:
        driver.quit()
    return seen


async def test_a_fresh_page_draws_the_last_minutes_from_the_server_history(
        bus: Bus, settings: Settings, management: str, tmp_path: Path) -> None:
    ops = OpsSettings(monitor_history_every_s=EVERY_S, monitor_history_keep_s=3600.0)
    monitor = Monitor(settings, ops, TOKEN, ["certification", "settlement"], management)
    workers: list[WorkerProcess] = []

    async def drained() -> bool:
        return await bus.depth(topology.domain_queue("certification")) == 0

    async with running_monitor(monitor) as base:
        try:
            await load(bus, settings, tmp_path / "worker.log", workers)
            await wait_until(drained, 60, "the worker to drain the queue", every_s=0.5)
            auth = {"Authorization": f"Bearer {TOKEN}"}
            status, body = await aget(base + "/api/history", auth)
            assert status == 200
            history = orjson.loads(body)
            seen = await asyncio.to_thread(look, base)
            assert (await aget(base + "/api/history"))[0] == 401, "the token guards it"
        finally:
            codes = [await asyncio.to_thread(w.terminate) for w in workers]
    assert codes == [0], "the worker drained and stopped on SIGTERM"

    # The server kept the load: many samples, the backlog and the rates in them.
    cert = history["domains"]["certification"]
    assert len(history["t"]) >= MIN_POINTS and history["every_s"] == EVERY_S
    assert all(b - a > 0 for a, b in zip(history["t"], history["t"][1:], strict=False))
    assert max(cert["ready"]) >= RATE_PER_S * WORKER_AFTER_S / 2, "the backlog is recorded"
    assert max(v or 0 for v in cert["ack_rate"]) > 0, "acks from the management API"
    assert max(v or 0 for v in cert["committed_per_s"]) > 0, "commits from PostgreSQL"

    # A fresh page drew them at once, from the embedded history.
    assert seen["url"] == base + "/"
    assert seen["embedded"] >= MIN_POINTS
    charts = seen["charts"]
    assert set(charts) == {f"chart-{d}-{c}" for d in ("certification", "settlement")
                           for c in ("messages", "rates")}
    for name, chart in charts.items():
        assert int(chart["pointsOnLoad"]) >= MIN_POINTS, name
        ticks = chart["ticks"].split()
        assert len(ticks) >= 2 and all(re.fullmatch(r"\d\d:\d\d(:\d\d)?", t) for t in ticks)
    messages, rates = charts["chart-certification-messages"], charts["chart-certification-rates"]
    assert (messages["unit"], messages["legend"]) == ("messages", "ready|unacked")
    assert rates["unit"] == "messages/s"
    assert rates["legend"] == "publish/s (5 s)|ack/s (5 s)|committed/s (5 min)"
    # ...and the canvases are not blank: each line is there in its colour.
    pixels = seen["pixels"]
    assert pixels["chart-certification-messages"]["counts"]["ready"] > 200
    for key in ("publish_rate", "ack_rate", "committed_per_s"):
        assert pixels["chart-certification-rates"]["counts"][key] > 100, key
    assert all(p["painted"] > 2000 for p in pixels.values())
    # Every rate on the page says its window; the header note is readable (#d1d5db).
    assert any(r.startswith("ack/s (5 s)") for r in seen["rate_rows"])
    assert any(r.startswith("committed/s (5 min)") for r in seen["rate_rows"])
    assert seen["header_note"] == "rgb(209, 213, 219)"
    # The live script appends the samples taken since.
    later = seen["charts_later"]["chart-certification-messages"]
    assert int(later["points"]) > int(messages["pointsOnLoad"])
