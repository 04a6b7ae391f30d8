"""`haodian status --watch` at tmux's default 80x24, from the real services: a report
collected from RabbitMQ (management API) and PostgreSQL with messages waiting, dead
letters, committed events and nine live workers, drawn by rich at 80x24; then the
command itself in a detached tmux session, its pane captured after a refresh."""

import asyncio
import io
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from harness import Bus, run_worker_burst, settings_env
from ops_helpers import applications, wait_until
from rich.cells import cell_len
from rich.console import Console

from workers import db, topology
from workers.ops.status import _ROWS, collect
from workers.ops.status_screen import WatchFrame, worker_domains
from workers.registry import DOMAIN_NAMES
from workers.runtime.heartbeat import Heartbeat, live_workers
from workers.settings import OpsSettings, Settings

WIDTH, HEIGHT = 80, 24
TMUX = shutil.which("tmux") or "/usr/bin/tmux"
# Where workers run: Kubernetes pods, cloud VMs, a laptop.
FLEET = [("haodian-worker-7d9f8b6c5d-x2x9z", list(DOMAIN_NAMES)),
         ("haodian-settlement-5c6f7d8b9-k4m2p", ["settlement"]),
         ("ip-10-0-12-34.ec2.internal", ["certification", "compliance"]),
         ("haodian-worker-7d9f8b6c5d-q8w7e", list(DOMAIN_NAMES)),
         ("ops-laptop", ["deposit"]),
         ("haodian-settlement-5c6f7d8b9-z1y2x", ["settlement"]),
         ("ip-10-0-56-78.ec2.internal", ["certification", "compliance"]),
         ("haodian-worker-7d9f8b6c5d-a1b2c", list(DOMAIN_NAMES)),
         ("haodian-deposit-6d7e8f9a0-r5t6y", ["deposit"])]


@pytest.fixture
async def busy(bus: Bus, settings: Settings) -> AsyncIterator[list[Heartbeat]]:
    """Committed events (lag figures), messages waiting, dead letters, and the fleet's
    heartbeats written by the workers' own code every second while the test runs."""
    await bus.publish(*applications(40, "done"))
    await run_worker_burst(settings, ["certification"])
    await bus.publish(*applications(137, "waiting"))
    dlx = await bus.channel.get_exchange(topology.DLX)
    for i in range(3):
        await dlx.publish(aio_pika.Message(b"{}", headers={"x-haodian-reason": "test"},
                                           message_id=str(i)), routing_key="certification")
    fleet = []
    for n, (host, domains) in enumerate(FLEET):
        beat = Heartbeat(domains)
        beat.host, beat.pid = host, 1_000_000 + n
        fleet.append(beat)
    pool = await db.create_pool(str(settings.database_url), min_size=1, max_size=2)

    async def beating() -> None:
        while True:
            for n, beat in enumerate(fleet):
                await beat.beat(pool, 1_234_567 * (n + 1))
            await asyncio.sleep(1)

    task = asyncio.create_task(beating())
    try:
        await wait_until(lambda: _all_live(settings), 10, "the fleet's heartbeats")
        yield fleet
    finally:
        task.cancel()
        for beat in fleet:
            await beat.stopped(pool, 0)
        await pool.close()


async def _all_live(settings: Settings) -> bool:
    return len(await live(settings)) == len(FLEET)


async def live(settings: Settings) -> list[dict[str, Any]]:
    conn = await db.connect(str(settings.database_url))
    try:
        return await live_workers(conn, OpsSettings().heartbeat_gone_s)
    finally:
        await conn.close()


def check_frame(lines: list[str], workers: list[dict[str, Any]], height: int) -> int:
    """What the brief asks of the frame; returns how many workers it lists."""
    assert len(lines) <= height, "\n".join(lines)
    assert [line for line in lines if cell_len(line) > WIDTH] == []
    header = lines[0]
    assert header.startswith("haodian status ") and re.search(r"\d\d:\d\d:\d\dZ", header)
    assert "RabbitMQ management API" in header, "the header is whole on its line"
    assert lines[1].split() == list(DOMAIN_NAMES), "the header did not wrap"
    listed = 0
    for w in workers:
        row = next((line for line in lines if re.search(rf"\s{w['pid']}\s", line)), None)
        if row is None:
            break
        assert w["host"] in row and worker_domains(w["domains"]) in row, row
        assert "…" not in row, row
        listed += 1
    if listed < len(workers):
        assert lines[-1].startswith(f"+ {len(workers) - listed} more of {len(workers)} "
                                    "live workers"), lines[-1]
    return listed


async def test_the_watch_frame_of_a_real_report_fits_80_by_24(
        settings: Settings, management: str, busy: list[Heartbeat]) -> None:
    report = await collect(settings, OpsSettings(), list(DOMAIN_NAMES), management)
    assert report["source"] == "management" and len(report["workers"]) == len(FLEET)
    console = Console(width=WIDTH, height=HEIGHT, record=True, file=io.StringIO())
    console.print(WatchFrame(report, 2.0))
    lines = console.export_text().rstrip("\n").split("\n")
    listed = check_frame(lines, report["workers"], HEIGHT)
    # 1 header + 15 queue lines + 1 totals + 2 above the workers + 4 of them + "+ 5 more"
    assert len(lines) == HEIGHT and listed == 4, "nine workers fill the frame"
    totals = next(n for n, line in enumerate(lines) if line.startswith("unroutable 0 "))
    assert len(lines[3:totals]) == len(_ROWS), "with the management API: every figure"
    ready = next(line for line in lines if line.startswith("ready"))
    assert ready.split()[1] == f"{report['domains']['certification']['ready']:,}"


# ---- the command in tmux ----------------------------------------------------------------
class Tmux:
    """A tmux server of its own (its socket name is unique, no configuration file),
    killed at the end."""

    def __init__(self, env: dict[str, str], height: int) -> None:
        self.socket = f"haodian-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.env, self.height = env, height

    def __call__(self, *args: str) -> str:
        return subprocess.run([TMUX, "-L", self.socket, "-f", os.devnull, *args],
                              check=True, capture_output=True, text=True, env=self.env,
                              timeout=30).stdout

    def kill(self) -> None:
        """Stop the server and remove its socket file (tmux leaves it behind)."""
        found = subprocess.run([TMUX, "-L", self.socket, "display-message", "-p",
                                "#{socket_path}"], capture_output=True, text=True,
                               env=self.env, timeout=30).stdout.strip()
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True,
                       env=self.env, timeout=30)
        if found.endswith(self.socket):
            Path(found).unlink(missing_ok=True)


# A detached session's window is -x by -y; an 80x24 terminal attached to tmux shows a
# status line, which leaves the pane 23 rows.
@pytest.fixture(params=[HEIGHT, HEIGHT - 1], ids=["80x24", "80x23 under a status line"])
def tmux(request: pytest.FixtureRequest, settings: Settings, management: str
         ) -> Iterator[Tmux]:
    assert Path(TMUX).exists(), "tmux is missing: run `bash scripts/setup`"
    env = settings_env(settings) | {"HAODIAN_MANAGEMENT_URL": management, "TERM": "xterm"}
    for sized in ("COLUMNS", "LINES"):
        env.pop(sized, None)
    server = Tmux(env, request.param)
    try:
        yield server
    finally:
        server.kill()


def header_time(pane: str) -> str | None:
    first = pane.split("\n", 1)[0]
    found = re.search(r"\d\d:\d\d:\d\dZ", first) if first.startswith("haodian status") else None
    return found.group(0) if found else None


async def test_status_watch_in_tmux_at_80_by_24(tmux: Tmux, busy: list[Heartbeat],
                                                settings: Settings) -> None:
    haodian = str(Path(sys.executable).parent / "haodian")
    command = f"{haodian} status --watch --interval-s 0.5; echo exited $?; sleep 60"
    tmux("new-session", "-d", "-s", "watch", "-x", str(WIDTH), "-y", str(tmux.height),
         command)
    size = tmux("display-message", "-p", "-t", "watch", "#{pane_width}x#{pane_height}")
    assert size.strip() == f"{WIDTH}x{tmux.height}"

    async def capture() -> str:
        return await asyncio.to_thread(tmux, "capture-pane", "-p", "-t", "watch")

    first: str | None = None
    refreshed = ""

    async def redrawn() -> bool:
        nonlocal first, refreshed
        pane = await capture()
        assert "exited" not in pane and "Traceback" not in pane, pane
        now = header_time(pane)
        if first is None:
            first = now
        elif now is not None and now != first:
            await asyncio.sleep(0.2)  # let the redraw finish
            refreshed = await capture()
            return header_time(refreshed) is not None
        return False

    await wait_until(redrawn, 30, "a refreshed watch screen", every_s=0.2)
    lines = refreshed.rstrip("\n").split("\n")
    listed = check_frame(lines, await live(settings), tmux.height)
    assert len(lines) == tmux.height and listed == tmux.height - 20, "\n".join(lines)
    assert lines[-1] == f"+ {len(FLEET) - listed} more of {len(FLEET)} live workers " \
        "(haodian status)"
