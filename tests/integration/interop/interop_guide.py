"""The code blocks of docs/publishing.md marked `<!-- tested: NAME -->`, and running them."""

import asyncio
import os
import re
import shutil
import sys
from pathlib import Path

from workers.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
GUIDE = ROOT / "docs" / "publishing.md"
NODE_DIR = Path(__file__).parent / "node"
SETUP_HINT = "run `bash scripts/setup` (it installs amqp-tools and the node package)"


def block(name: str) -> str:
    """The fenced code block right after `<!-- tested: name -->` in the guide."""
    found = re.search(rf"<!-- tested: {re.escape(name)} -->\n```\w+\n(.*?)\n```",
                      GUIDE.read_text(), re.DOTALL)
    assert found, f"docs/publishing.md has no block marked `tested: {name}`"
    return found.group(1) + "\n"


def require_tools() -> None:
    """Fail (never skip) when a client the guide names is missing."""
    for tool in ("amqp-publish", "node"):
        assert shutil.which(tool), f"{tool} is not installed; {SETUP_HINT}"
    assert (NODE_DIR / "node_modules" / "amqplib").is_dir(), (
        f"amqplib is not installed in {NODE_DIR}; {SETUP_HINT}")


async def run(settings: Settings, *command: str, stdin: bytes = b"") -> str:
    """Runs a client with AMQP_URL set to the test vhost; returns its output, asserts exit 0."""
    env = {**os.environ, "AMQP_URL": str(settings.amqp_url),
           "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT, env=env, cwd=NODE_DIR)
    out, _ = await asyncio.wait_for(proc.communicate(stdin), 60)
    text = out.decode(errors="replace")
    assert proc.returncode == 0, f"{command[0]} exited {proc.returncode}: {text}"
    return text


async def run_bash(settings: Settings, script: str) -> str:
    return await run(settings, "bash", "-euo", "pipefail", "-c", script)


async def run_python(settings: Settings, script: str) -> str:
    return await run(settings, sys.executable, "-c", script)


async def run_node(settings: Settings, event: bytes, *args: str) -> str:
    return await run(settings, "node", "publish.js", *args, stdin=event)
