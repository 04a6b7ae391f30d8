"""`haodian monitor` in a real headless Chromium (Debian's chromium and chromedriver,
driven by selenium): token access, live queue figures, a DLQ group replayed away."""

import asyncio
import urllib.error
import urllib.request
from collections.abc import AsyncIterator

import asyncpg
import orjson
import pytest
from browser_helpers import ARTIFACTS, chromium, running_monitor
from harness import Bus, run_worker_burst
from ops_helpers import aget, applications
from selenium.common.exceptions import NoSuchElementException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from workers import topology
from workers.ops.monitor.app import Monitor
from workers.settings import OpsSettings, Settings

TOKEN = "t0ken-for-the-browser-test"


@pytest.fixture
async def monitor_url(settings: Settings) -> AsyncIterator[str]:
    monitor = Monitor(settings, OpsSettings(), TOKEN, ["certification", "settlement"], None)
    async with running_monitor(monitor) as base:
        yield base


def browse(base: str) -> dict[str, object]:
    """What a person sees and does, in a real browser (runs in a thread)."""
    seen: dict[str, object] = {}
    driver = chromium()
    try:
        driver.set_page_load_timeout(30)
        driver.get(base + "/")
        seen["without_token"] = driver.find_element(By.TAG_NAME, "h1").text
        driver.get(base + "/?token=wrong")
        seen["wrong_token"] = driver.find_element(By.TAG_NAME, "h1").text
        driver.get(base + f"/?token={TOKEN}")
        seen["url_after_login"] = driver.current_url
        wait = WebDriverWait(driver, 15)
        seen["ready"] = driver.find_element(By.ID, "q-certification-ready").text
        seen["dlq_figure"] = driver.find_element(By.ID, "q-certification-dlq").text
        seen["inbox_size"] = driver.find_element(By.ID, "table-inbox").text
        group = driver.find_element(By.ID, "dlq-certification-malformed_json")
        row = group.find_element(By.XPATH, "./ancestor::tr")
        seen["group_row"] = row.text
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "monitor-dashboard.png"))
        row.find_element(By.CSS_SELECTOR, "button[data-action=replay]").click()
        alert = wait.until(expected_conditions.alert_is_present())
        seen["confirmation"] = alert.text
        alert.accept()
        wait.until(expected_conditions.staleness_of(row))
        wait.until(lambda d: d.find_element(By.ID, "dlq-groups"))
        try:
            driver.find_element(By.ID, "dlq-certification-malformed_json")
            seen["group_after_replay"] = True
        except NoSuchElementException:
            seen["group_after_replay"] = False
        seen["dlq_table_after"] = driver.find_element(By.ID, "dlq-groups").text
        driver.save_screenshot(str(ARTIFACTS / "monitor-after-replay.png"))
    finally:
        driver.quit()
    return seen


async def test_dashboard_in_chromium_shows_queues_and_replays_a_dlq_group(
        bus: Bus, settings: Settings, monitor_url: str) -> None:
    await bus.publish_raw(b'{"specversion": "1.0", "id": "broken', "certification.submitted")
    await run_worker_burst(settings, ["certification"])
    assert await bus.depth(topology.dlq_name("certification")) == 1
    await bus.publish(*applications(7, "waiting"))

    seen = await asyncio.to_thread(browse, monitor_url)

    assert "401" in str(seen["without_token"]) and "401" in str(seen["wrong_token"])
    assert seen["url_after_login"] == monitor_url + "/", "the token leaves the address bar"
    assert seen["ready"] == "7" and seen["dlq_figure"] == "1"
    assert str(seen["inbox_size"]).endswith(("B", "KiB", "MiB")), "table sizes are shown"
    assert "malformed_json" in str(seen["group_row"]) and " 1 " in f' {seen["group_row"]} '
    assert "Replay 1 message(s) with reason malformed_json" in str(seen["confirmation"])
    assert seen["group_after_replay"] is False
    assert "every DLQ is empty" in str(seen["dlq_table_after"])
    assert await bus.depth(topology.dlq_name("certification")) == 0
    assert await bus.depth(topology.domain_queue("certification")) == 8  # 7 + the replayed
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        audit = await conn.fetchrow("SELECT action, domain, messages, actor FROM dlq_audit")
    finally:
        await conn.close()
    assert audit is not None and dict(audit) == {"action": "replay", "domain": "certification",
                                                 "messages": 1, "actor": "monitor@127.0.0.1"}


async def test_api_refuses_without_the_token_and_actions_need_the_header(monitor_url: str
                                                                         ) -> None:
    assert (await aget(monitor_url + "/api/status"))[0] == 401
    assert (await aget(monitor_url + "/metrics"))[0] == 401
    status, _ = await aget(monitor_url + "/api/status", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200
    metrics = await aget(monitor_url + "/metrics", {"Authorization": f"Bearer {TOKEN}"})
    assert metrics[0] == 200 and b"haodian_scale_recommended_processes" in metrics[1]
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    body = b'{"reason": "malformed_json", "confirm": true}'
    assert await apost(monitor_url + "/api/dlq/certification/purge", body, auth) == 403
    assert await apost(monitor_url + "/api/dlq/certification/purge", body,
                       {"Content-Type": "application/json"} | {"X-Haodian-Action": "1"}) == 401
    assert await apost(monitor_url + "/api/dlq/certification/purge",
                       b'{"reason": "malformed_json"}', auth | {"X-Haodian-Action": "1"}) == 400


async def apost(url: str, body: bytes, headers: dict[str, str]) -> int:
    def post() -> int:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
    return await asyncio.to_thread(post)


async def test_purge_api_needs_a_reason_or_all_and_shows_unroutable(
        bus: Bus, settings: Settings, monitor_url: str) -> None:
    await bus.publish_raw(b"{not json", "certification.submitted")
    await run_worker_burst(settings, ["certification"])
    await bus.publish_raw(b'{"type": "voucher.issued"}', "voucher.issued")
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json",
            "X-Haodian-Action": "1"}
    url = monitor_url + "/api/dlq/certification/purge"

    assert await apost(url, b'{"confirm": true}', auth) == 400
    assert await apost(url, b'{"confirm": true, "all": true, "reason": "malformed_json"}',
                       auth) == 400
    status, body = await aget(monitor_url + "/api/dlq", auth)
    groups = orjson.loads(body)
    assert status == 200 and [g["count"] for g in groups["certification"]] == [1]
    assert [(g["reason"], g["count"]) for g in groups["unroutable"]] == [("unroutable", 1)]
    report = orjson.loads((await aget(monitor_url + "/api/status", auth))[1])
    assert report["unroutable"]["total"] == 1

    assert await apost(url, b'{"confirm": true, "all": true}', auth) == 200
    assert await apost(monitor_url + "/api/dlq/unroutable/purge",
                       b'{"confirm": true, "reason": "unroutable"}', auth) == 200
    assert orjson.loads((await aget(monitor_url + "/api/dlq", auth))[1]) == {
        "certification": [], "settlement": [], "unroutable": []}
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        audit = [(r["domain"], orjson.loads(r["filter"]), r["messages"]) for r in
                 await conn.fetch("SELECT domain, filter, messages FROM dlq_audit ORDER BY id")]
    finally:
        await conn.close()
    assert audit == [("certification", {"all": True}, 1),
                     ("unroutable", {"reason": "unroutable"}, 1)]
