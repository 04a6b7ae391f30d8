"""`haodian gateway serve` as a real uvicorn process: access logs, and a schemathesis run
against its OpenAPI document with no server error."""

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from gateway_helpers import order, structured
from served_gateway import BIN, Served

from workers.gateway import openapi
from workers.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


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


async def test_uvicorn_own_lines_come_out_as_json(served: Served) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    writer.write(b"NOT HTTP AT ALL\r\n\r\n")
    answer = await reader.read()  # uvicorn answers 400 and closes
    writer.close()
    assert answer.startswith(b"HTTP/1.1 400")
    assert served.stop() == 0
    lines = served.lines()  # every line parses as JSON
    uvicorn = [line for line in lines if str(line.get("logger", "")).startswith("uvicorn")]
    assert {"logger": "uvicorn.error", "level": "warning",
            "event": "Invalid HTTP request received."}.items() <= next(
        line for line in uvicorn if line["level"] == "warning").items()
    assert any(str(line["event"]).startswith("Started server process") for line in uvicorn)
    assert all(isinstance(line["timestamp"], str) for line in lines)


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
