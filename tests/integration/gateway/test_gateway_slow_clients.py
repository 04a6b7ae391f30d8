"""Slow and oversized clients cannot hold the gateway: a real `haodian gateway serve` on
127.0.0.1 against raw sockets that send a byte at a time (each stops by itself after a
bounded number of bytes), while a normal client is still served."""

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from gateway_helpers import order, structured
from served_gateway import Served

from workers.settings import Settings

TIMEOUT_S = 3  # header and body timeouts of the served gateway
DRIP_EVERY_S = 0.2
MAX_DRIPS = 100  # a slow client gives up after 20 s by itself, far past the timeouts
LIMITS = {"HAODIAN_GATEWAY_HEADER_TIMEOUT_S": str(TIMEOUT_S),
          "HAODIAN_GATEWAY_BODY_TIMEOUT_S": str(TIMEOUT_S),
          "HAODIAN_GATEWAY_KEEP_ALIVE_S": "1"}


@dataclass
class Outcome:
    answer: bytes  # everything the server sent
    closed_by_server: bool  # before the client gave up
    drips: int

    @property
    def status(self) -> int:
        return int(self.answer.split(b" ", 2)[1]) if self.answer else 0

    @property
    def reason(self) -> str:
        return str(orjson.loads(self.answer.partition(b"\r\n\r\n")[2])["reason"])


class SlowClient:
    """One connection: sends `start`, then `drip` one byte every DRIP_EVERY_S (nothing,
    when empty) until the server closes or MAX_DRIPS have gone."""

    def __init__(self, port: int, start: bytes, drip: bytes) -> None:
        self.port, self.start, self.drip = port, start, drip
        self.connected = asyncio.Event()

    async def run(self) -> Outcome:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        received = bytearray()

        async def read_all() -> None:
            while chunk := await reader.read(65536):
                received.extend(chunk)

        reading = asyncio.create_task(read_all())
        drips = 0
        try:
            writer.write(self.start)
            await writer.drain()
            self.connected.set()
            for byte in itertools.islice(itertools.cycle(self.drip or b"\0"), MAX_DRIPS):
                await asyncio.wait([reading], timeout=DRIP_EVERY_S)
                if reading.done():
                    break
                if self.drip:
                    writer.write(bytes([byte]))
                    await writer.drain()
                drips += 1
        except ConnectionError:
            pass  # the server closed while we wrote: what we read says why
        finally:
            self.connected.set()
            closed = reading.done() or await _closes_soon(reading)
            writer.close()
        return Outcome(bytes(received), closed, drips)


async def _closes_soon(reading: asyncio.Task[None]) -> bool:
    done, _ = await asyncio.wait([reading], timeout=2)
    if not done:
        reading.cancel()
    return bool(done)


def request_head(length: int, token: str | None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"POST /events HTTP/1.1\r\nHost: gateway\r\n{auth}"
            f"Content-Type: application/cloudevents+json\r\nContent-Length: {length}\r\n\r\n"
            ).encode()


@pytest.fixture
def served(settings: Settings, tmp_path: Path, request: pytest.FixtureRequest
           ) -> Iterator[Served]:
    server = Served(settings, tmp_path / "gateway.log", {**LIMITS, **getattr(
        request, "param", {})})
    yield server
    if server.proc.poll() is None:
        server.stop()


async def test_slow_headers_and_bodies_are_closed_while_a_normal_client_is_served(
        served: Served, token: str) -> None:
    body = orjson.dumps(order("o-slow"))
    clients = {
        "idle": [SlowClient(served.port, b"", b"") for _ in range(2)],
        "slow_headers": [SlowClient(served.port, b"POST /events HTTP/1.1\r\nHost: g\r\n",
                                    b"X-Slow: " + b"a" * 200) for _ in range(20)],
        "slow_body_no_token": [SlowClient(served.port, request_head(len(body), None), body)
                               for _ in range(10)],
        "slow_body": [SlowClient(served.port, request_head(len(body), token), body)
                      for _ in range(10)],
    }
    every = [c for group in clients.values() for c in group]
    running = [asyncio.create_task(c.run()) for c in every]
    await asyncio.gather(*(c.connected.wait() for c in every))

    async with httpx.AsyncClient(base_url=served.url, timeout=10) as normal:
        response = await normal.post("/events", content=orjson.dumps(order("o-normal")),
                                     headers=structured(token))
    assert response.status_code == 202, response.text
    held = sum(not task.done() for task in running)
    assert held == len(every)  # the normal request was served while all 42 were held

    outcomes = dict(zip(every, await asyncio.gather(*running), strict=True))
    by_group = {name: [outcomes[c] for c in group] for name, group in clients.items()}
    for name, results in by_group.items():
        assert all(o.closed_by_server and o.drips < MAX_DRIPS for o in results), name
    assert {(o.status, o.reason) for o in by_group["idle"]} == {(408, "header_timeout")}
    assert {(o.status, o.reason) for o in by_group["slow_headers"]} == {
        (408, "header_timeout")}
    assert {(o.status, o.reason) for o in by_group["slow_body"]} == {(408, "body_timeout")}
    assert all(b"connection: close" in o.answer for o in by_group["slow_body"])
    # No token: answered at once, then closed when its body was still dripping.
    assert {(o.status, o.reason) for o in by_group["slow_body_no_token"]} == {
        (401, "token_missing")}

    assert served.stop() == 0
    lines = served.lines()
    reasons = [line.get("reason") for line in lines if line["event"] == "request_answered"]
    assert reasons.count("header_timeout") == 22
    timed_out = [line["duration_ms"] for line in lines if line.get("reason") == "header_timeout"]
    assert min(timed_out) >= TIMEOUT_S * 1000 - 50  # never before the deadline
    assert reasons.count("body_timeout") == 10
    assert reasons.count("token_missing") == 10
    assert sum(line["event"] == "connection_closed" for line in lines) == 10


async def test_headers_over_the_limit_are_refused_with_431(served: Served) -> None:
    big = SlowClient(served.port, b"POST /events HTTP/1.1\r\nHost: g\r\nX-Big: "
                     + b"a" * (40 * 1024), b"a")
    outcome = await big.run()
    assert (outcome.status, outcome.reason) == (431, "headers_too_large")
    assert outcome.closed_by_server


@pytest.mark.parametrize("served", [{"HAODIAN_GATEWAY_MAX_CONNECTIONS": "5"}],
                         indirect=True)
async def test_beyond_the_connection_cap_requests_get_503_until_slow_ones_are_closed(
        served: Served, token: str) -> None:
    slow = [SlowClient(served.port, b"GET /openapi.json HTTP/1.1\r\n", b"X-Slow: abc")
            for _ in range(5)]
    running = [asyncio.create_task(c.run()) for c in slow]
    await asyncio.gather(*(c.connected.wait() for c in slow))
    async with httpx.AsyncClient(base_url=served.url, timeout=10) as normal:
        refused = await normal.post("/events", content=orjson.dumps(order("o-capped")),
                                    headers=structured(token))
        assert all(not task.done() for task in running)
        assert refused.status_code == 503  # answered at once, by the server
        outcomes = await asyncio.gather(*running)
        assert all(o.closed_by_server and o.status == 408 for o in outcomes)
        accepted = await normal.post("/events", content=orjson.dumps(order("o-capped")),
                                     headers=structured(token))
    assert accepted.status_code == 202, accepted.text
