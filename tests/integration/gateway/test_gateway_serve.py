"""`haodian gateway serve` as a real uvicorn process: access logs, and a schemathesis run
against its OpenAPI document with no server error."""

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from gateway_helpers import order, structured
from harness import settings_env

from workers.gateway import openapi
from workers.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent


class Served:
    """A `haodian gateway serve` child process on a free port of 127.0.0.1."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = log_path.open("ab")
        env = {**settings_env(settings), "HAODIAN_GATEWAY_TOKEN_CACHE_S": "0"}
        self.proc = subprocess.Popen([str(BIN / "haodian"), "gateway", "serve", "--port",
                                      str(self.port)], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the gateway did not start: {log_path.read_text()}")
            time.sleep(0.1)

    def stop(self) -> int:
        self.proc.terminate()
        code = self.proc.wait(20)
        self.log.close()
        return code

    def lines(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.log_path.read_bytes().splitlines()]


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[Served]:
    server = Served(settings, tmp_path / "gateway.log")
    yield server
    if server.proc.poll() is None:
        server.stop()


async def test_serve_answers_and_logs_each_request_without_the_token(
        served: Served, token: str) -> None:
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
        e = order("o-served")
        accepted = await client.post("/events", content=orjson.dumps(e),
                                     headers=structured(token))
        refused = await client.post("/events", content=orjson.dumps(order(amount_fen=1.5)),
                                    headers=structured(token))
        anonymous = await client.post("/events", content=orjson.dumps(e))
    assert (accepted.status_code, refused.status_code, anonymous.status_code) == (202, 400, 401)
    assert served.stop() == 0
    assert token.encode() not in served.log_path.read_bytes()
    answered = [line for line in served.lines() if line["event"] == "request_answered"]
    posts = [{k: line.get(k) for k in ("method", "path", "status", "source", "reason",
                                       "events")}
             for line in answered if line["method"] == "POST"]
    assert posts == [
        {"method": "POST", "path": "/events", "status": 202, "source": "order-service",
         "reason": None, "events": 1},
        {"method": "POST", "path": "/events", "status": 400, "source": "order-service",
         "reason": "money_not_integer", "events": None},
        {"method": "POST", "path": "/events", "status": 401, "source": None,
         "reason": "token_missing", "events": None}]
    assert all(isinstance(line["duration_ms"], float) for line in answered)


def test_checked_in_openapi_document_is_current() -> None:
    assert (ROOT / "docs" / "gateway-openapi.json").read_text() == openapi.render(), (
        f"docs/gateway-openapi.json is stale; regenerate it with `{openapi.REGENERATE}`")


async def test_served_openapi_document_is_the_generated_one(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
        response = await client.get("/openapi.json")
    assert response.json() == openapi.document()


async def test_schemathesis_finds_no_server_error(served: Served, token: str,
                                                  tmp_path: Path) -> None:
    # Every check but positive_data_acceptance: whether a binary-mode body is valid depends
    # on its ce- headers together, and a float 0.0 is a JSON Schema integer but never money.
    command = [str(BIN / "st"), "run", f"{served.url}/openapi.json",
               "--header", f"Authorization: Bearer {token}", "--checks", "all",
               "--exclude-checks", "positive_data_acceptance", "--max-examples", "25",
               "--seed", "20210803", "--request-timeout", "10", "--warnings", "off"]
    result = await _run(command, tmp_path)
    assert result.returncode == 0, result.stdout[-8000:]
    assert served.stop() == 0
    statuses = {line["status"] for line in served.lines() if line["event"] == "request_answered"}
    assert 500 not in statuses
    assert {400, 401, 403} <= statuses  # the requests got past the token and the parsing


async def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(subprocess.run, command, cwd=cwd, capture_output=True,
                                   text=True, timeout=240)
