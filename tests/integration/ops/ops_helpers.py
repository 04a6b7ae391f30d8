"""Helpers of the operations tests: free ports, HTTP against real servers, waits, loads."""

import asyncio
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

from harness import event
from prometheus_client.parser import text_string_to_metric_families


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, headers: dict[str, str] | None = None,
             timeout_s: float = 5) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


async def aget(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    return await asyncio.to_thread(http_get, url, headers)


async def wait_until(predicate: Callable[[], Awaitable[bool]], timeout_s: float, what: str,
                     every_s: float = 0.05) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if await predicate():
                return
        except OSError:
            pass
        await asyncio.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def sample(metrics_text: str, name: str, **labels: str) -> float:
    """The value of one sample of a Prometheus text exposition (0 when absent)."""
    for family in text_string_to_metric_families(metrics_text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def applications(n: int, prefix: str, **overrides: Any) -> list[dict[str, Any]]:
    """Interest-track applications: auto-approved, one result each."""
    return [event("certification.submitted", {
        "application_id": f"{prefix}-{i}", "account_id": f"{prefix}-acc-{i}",
        "account_name": "Tea lover", "track": "interest", "interest": {"field": "tea"}},
        **overrides) for i in range(n)]


def rabbitmqctl(*args: str, timeout_s: float = 60) -> str:
    return subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True,
                          text=True, timeout=timeout_s).stdout
