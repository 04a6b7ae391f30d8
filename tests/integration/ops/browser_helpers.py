"""The monitor's browser tests' helpers: a real monitor on a free port, a headless Chromium
(Debian's chromium and chromedriver, driven by selenium), the artifacts directory."""

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from ops_helpers import free_port, wait_until
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from workers.ops.monitor.app import Monitor, create_app

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,1800")


@contextlib.asynccontextmanager
async def running_monitor(monitor: Monitor) -> AsyncIterator[str]:
    """The monitor served by uvicorn (lifespan on: its background loops run); its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(monitor), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())

    async def up() -> bool:
        return server.started

    await wait_until(up, 10, "the monitor to listen")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


def chromium() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (*CHROMIUM_ARGS, f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
