"""The statement's outputs as people get them: the CSV written by `haodian statement` read
back by Python's csv module (BOM, fen and yuan columns), `--all` writing every store's
file, and the HTML page of the monitor in a real headless Chromium, reached from the
settlements panel (screenshot: artifacts/statement.png)."""

import asyncio
import contextlib
import csv
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
import uvicorn
from harness import Bus, event, run_worker_burst, settings_env
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from statement_helpers import MONTH, STORE, closed, order, run_request, worked_example

from workers.ops.monitor.app import Monitor, create_app
from workers.settings import OpsSettings, Settings

HAODIAN = str(Path(sys.executable).parent / "haodian")
TOKEN = "t0ken-for-the-statement-test"
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"
# As tests/integration/ops/test_monitor_browser.py runs Debian's chromium and chromedriver.
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,2400")


def chromium() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (*CHROMIUM_ARGS, f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


async def richer_month(bus: Bus, settings: Settings) -> None:
    """The worked example, plus a deposit, an order refunded in part before it settles,
    and a second store."""
    await worked_example(bus, settings)
    await bus.publish(
        event("deposit.paid", {"payment_id": "p-1", "store_id": STORE, "amount_fen": 100_000,
                               "plan": "standard"}, time="2021-08-02T12:00:00+08:00"),
        order("o-4", 50_000, when="2021-08-05T09:00:00+08:00"),
        order("o-9", 12_345, store_id="s-2", when="2021-08-05T09:30:00+08:00"))
    await run_worker_burst(settings, ["all"])
    await bus.publish(closed("a-4", "o-4", 20_000, when="2021-08-06T10:00:00+08:00"))
    await run_worker_burst(settings, ["settlement"])
    await bus.publish(run_request("r-2", "2021-08-20T00:00:00+08:00"))
    await run_worker_burst(settings, ["settlement"])


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HAODIAN, "statement", *args], env=settings_env(settings),
                          capture_output=True, text=True, timeout=120)


async def test_the_csv_reads_back_with_the_csv_module(bus: Bus, settings: Settings,
                                                      tmp_path: Path) -> None:
    await richer_month(bus, settings)
    path = tmp_path / "s.csv"
    done = await asyncio.to_thread(cli, settings, "--store", STORE, "--month", MONTH,
                                   "--format", "csv", "--output", str(path))
    assert done.returncode == 0, done.stderr
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark for Excel"
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    head = list(rows[0])
    assert head[0] == "类型 row" and "技术服务费（分） commission fen" in head
    settled = [r for r in rows if r["类型 row"] == "settled"]
    assert [r["订单 order"] for r in settled] == ["o-1", "o-2", "o-3", "o-4"]
    for r in rows:  # every yuan cell is its fen cell / 100, exactly
        for name, cell in r.items():
            if name.endswith(" fen") and cell:
                assert Decimal(r[name.replace("（分）", "（元）").replace(" fen", " yuan")]) * 100 \
                    == int(cell)
    o4 = next(r for r in settled if r["订单 order"] == "o-4")
    assert (o4["已退款（分） refunded fen"], o4["净额（元） net yuan"]) == ("20000", "300.00")
    assert rows[-1]["类型 row"] == "status" and rows[-1]["项目 item"] == "reconciled"


async def test_all_writes_one_reconciled_file_per_store(bus: Bus, settings: Settings,
                                                        tmp_path: Path) -> None:
    await richer_month(bus, settings)
    done = await asyncio.to_thread(cli, settings, "--all", "--month", MONTH, "--format",
                                   "csv", "--output", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == [f"statement-s-1-{MONTH}.csv", f"statement-s-2-{MONTH}.csv"]
    assert "2 statements" in done.stdout


def test_the_command_refuses_bad_arguments() -> None:
    done = subprocess.run([HAODIAN, "statement", "--month", "2021-13", "--format", "pdf"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "YYYY-MM" in done.stderr and "--format" in done.stderr and "--store" in done.stderr


@pytest.fixture
async def monitor_url(settings: Settings) -> AsyncIterator[str]:
    port = free_port()
    monitor = Monitor(settings, OpsSettings(), TOKEN, ["settlement"], None)
    server = uvicorn.Server(uvicorn.Config(create_app(monitor), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


def browse(base: str) -> dict[str, str]:
    seen: dict[str, str] = {}
    driver = chromium()
    try:
        driver.set_page_load_timeout(30)
        driver.get(base + "/statement?store=s-1&month=2021-08")
        seen["without_token"] = driver.find_element(By.TAG_NAME, "h1").text
        driver.get(base + f"/?token={TOKEN}")
        link = driver.find_element(By.CSS_SELECTOR, "form.statement-link")
        link.find_element(By.NAME, "store").send_keys(STORE)
        link.find_element(By.NAME, "month").send_keys(MONTH)
        link.find_element(By.TAG_NAME, "button").click()
        # The click does not wait for the statement page: wait for its check line.
        WebDriverWait(driver, 20).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "div.check"))
        seen["url"] = driver.current_url
        seen["title"] = driver.find_element(By.TAG_NAME, "h1").text
        seen["check"] = driver.find_element(By.CSS_SELECTOR, "div.check").text
        seen["headings"] = " | ".join(h.text for h in driver.find_elements(By.TAG_NAME, "h2"))
        seen["external"] = str(driver.execute_script(
            "return performance.getEntriesByType('resource').length"))
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "statement.png"))
    finally:
        driver.quit()
    return seen


async def test_the_statement_page_in_chromium(bus: Bus, settings: Settings,
                                              monitor_url: str) -> None:
    await richer_month(bus, settings)
    seen = await asyncio.to_thread(browse, monitor_url)
    assert "401" in seen["without_token"]
    assert seen["url"].endswith("/statement?store=s-1&month=2021-08")
    assert seen["title"].startswith("商家对账单")
    assert "C(" in seen["check"] and "✓" in seen["check"]
    assert "本月结算订单 Orders settled" in seen["headings"]
    assert "期末余额 Closing balances" in seen["headings"]
    assert seen["external"] == "0", "self-contained: nothing fetched besides the page"
    status, body = await asyncio.to_thread(
        http_get, monitor_url + "/statement?store=s-1&month=2021-08&format=csv",
        {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and body.startswith(b"\xef\xbb\xbf")
