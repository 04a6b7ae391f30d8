"""The gateway refuses with the right status and reason, and then nothing reaches the broker."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from gateway_helpers import BATCH, ORDER_SOURCE, add_token, bearer, binary, order, structured
from harness import Bus, event

from workers import topology
from workers.gateway.app import create_app
from workers.gateway.config import GatewaySettings
from workers.settings import Settings

WATCHED = [topology.domain_queue(d) for d in ("settlement", "certification", "compliance")]


async def nothing_queued(bus: Bus) -> bool:
    return all([await bus.depth(q) == 0 for q in [*WATCHED, topology.UNROUTABLE]])


def without(e: dict[str, Any], attribute: str) -> dict[str, Any]:
    return {k: v for k, v in e.items() if k != attribute}


# The publisher's table (tests/integration/tooling/test_publisher_tooling.py), over HTTP.
INVALID: list[tuple[str, bytes]] = [
    ("money_not_integer", orjson.dumps(order(amount_fen=12.5))),
    ("money_not_integer", orjson.dumps(order(amount_fen="129900"))),
    ("schema_invalid", orjson.dumps(order(amount_fen=-1))),
    ("schema_invalid", orjson.dumps(order(coupon="x"))),
    ("event_type_unknown", orjson.dumps(event("order.cancelled", {"x": 1},
                                              source=ORDER_SOURCE))),
    ("envelope_invalid", orjson.dumps(without(order(), "specversion"))),
    ("envelope_invalid", orjson.dumps({**order(), "time": "2021-08-03T10:15:00"})),
    ("envelope_invalid", orjson.dumps(without(order(), "type"))),
    ("envelope_invalid", orjson.dumps(without(order(), "source"))),
    ("envelope_invalid", b"[1, 2]"),
    ("malformed_json", b'{"specversion": "1.0", '),
]


@pytest.mark.parametrize(("reason", "body"), INVALID,
                         ids=[f"{r}-{i}" for i, (r, _) in enumerate(INVALID)])
async def test_invalid_event_is_400_with_the_workers_reason(
        client: httpx.AsyncClient, token: str, bus: Bus, reason: str, body: bytes) -> None:
    response = await client.post("/events", content=body, headers=structured(token))
    assert response.status_code == 400, response.text
    assert response.json()["reason"] == reason
    assert response.json()["detail"]
    assert await nothing_queued(bus)


async def test_invalid_binary_event_is_400(client: httpx.AsyncClient, token: str, bus: Bus
                                           ) -> None:
    headers, body = binary(token, order(amount_fen=12.5))
    response = await client.post("/events", content=body, headers=headers)
    assert (response.status_code, response.json()["reason"]) == (400, "money_not_integer")
    headers, _ = binary(token, order())
    response = await client.post("/events", content=b"{oops", headers=headers)
    assert (response.status_code, response.json()["reason"]) == (400, "malformed_json")
    response = await client.post("/events", content=body,
                                 headers={**headers, "ce-data": "x"})
    assert (response.status_code, response.json()["reason"]) == (400, "envelope_invalid")
    assert await nothing_queued(bus)


async def test_non_json_content_is_415(client: httpx.AsyncClient, token: str, bus: Bus
                                       ) -> None:
    response = await client.post("/events", content=b"hello",
                                 headers={**bearer(token), "Content-Type": "text/plain"})
    assert (response.status_code, response.json()["reason"]) == (415,
                                                                 "content_type_unsupported")
    headers, _ = binary(token, order())
    response = await client.post("/events", content=b"<order/>",
                                 headers={**headers, "Content-Type": "application/xml"})
    assert response.status_code == 415
    assert await nothing_queued(bus)


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Basic b3JkZXI6c2VydmljZQ==",
                                           "Bearer hdg_not-a-token"])
async def test_missing_or_unknown_token_is_401(
        client: httpx.AsyncClient, bus: Bus, authorization: str | None) -> None:
    headers = {"Content-Type": "application/cloudevents+json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    for path in ("/events", "/events:batch"):
        response = await client.post(path, content=orjson.dumps(order()), headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["reason"] in ("token_missing", "token_unknown")
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert await nothing_queued(bus)


async def test_event_of_another_source_is_403(
        client: httpx.AsyncClient, token: str, bus: Bus, settings: Settings) -> None:
    e = {**order(), "source": "payments"}
    response = await client.post("/events", content=orjson.dumps(e), headers=structured(token))
    assert response.status_code == 403, response.text
    assert response.json()["reason"] == "source_forbidden"
    assert response.json()["id"] == e["id"]
    payments = await add_token(settings, "payments")
    headers, body = binary(payments, order())  # binary mode: ce-source is checked the same
    assert (await client.post("/events", content=body, headers=headers)).status_code == 403
    assert await nothing_queued(bus)


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient, token: str, bus: Bus,
                                          gateway_config: GatewaySettings) -> None:
    big = order(description="x" * gateway_config.max_body_bytes)
    response = await client.post("/events", content=orjson.dumps(big),
                                 headers=structured(token))
    assert (response.status_code, response.json()["reason"]) == (413, "body_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for _ in range(gateway_config.max_body_bytes // 1024 + 1):
            yield b" " * 1024

    response = await client.post("/events", content=chunks(), headers=structured(token))
    assert (response.status_code, response.json()["reason"]) == (413, "body_too_large")
    many = [order(f"o-{i}") for i in range(gateway_config.max_batch_events + 1)]
    response = await client.post("/events:batch", content=orjson.dumps(many),
                                 headers={**bearer(token), "Content-Type": BATCH})
    assert response.status_code == 413, response.text
    assert await nothing_queued(bus)


@pytest.mark.parametrize(("body", "reason"), [(b"[]", "envelope_invalid"),
                                              (b'{"a": 1}', "envelope_invalid"),
                                              (b"[{", "malformed_json")])
async def test_unreadable_batch_is_400(client: httpx.AsyncClient, token: str, body: bytes,
                                       reason: str) -> None:
    response = await client.post("/events:batch", content=body,
                                 headers={**bearer(token), "Content-Type": BATCH})
    assert (response.status_code, response.json()["reason"]) == (400, reason)


@pytest.fixture
async def unreachable(settings: Settings, gateway_config: GatewaySettings
                      ) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway with a broker URL where nothing listens."""
    nowhere = settings.model_copy(update={"amqp_url": "amqp://guest:guest@127.0.0.1:1/"})
    app = create_app(nowhere, gateway_config)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://gateway", timeout=30) as c:
            yield c


async def test_unreachable_broker_is_503_never_202(
        unreachable: httpx.AsyncClient, token: str) -> None:
    response = await unreachable.post("/events", content=orjson.dumps(order()),
                                      headers=structured(token))
    assert (response.status_code, response.json()["reason"]) == (503, "broker_unavailable")
    events = [order("o-a"), order("o-b", amount_fen=1.5)]
    response = await unreachable.post("/events:batch", content=orjson.dumps(events),
                                      headers={**bearer(token), "Content-Type": BATCH})
    assert response.status_code == 503
    assert [r["status"] for r in response.json()["results"]] == [503, 400]
    assert response.json()["accepted"] == 0


async def test_batch_with_nothing_accepted_takes_the_refusals_status(
        client: httpx.AsyncClient, token: str, bus: Bus) -> None:
    headers = {**bearer(token), "Content-Type": BATCH}
    invalid = [order("o-1", amount_fen=1.5), order("o-2", coupon="x")]
    response = await client.post("/events:batch", content=orjson.dumps(invalid),
                                 headers=headers)
    assert response.status_code == 400, response.text
    assert [r["reason"] for r in response.json()["results"]] == ["money_not_integer",
                                                                 "schema_invalid"]
    foreign = [{**order("o-3"), "source": "payments"}]
    response = await client.post("/events:batch", content=orjson.dumps(foreign),
                                 headers=headers)
    assert response.status_code == 403, response.text
    mixed = [*invalid, *foreign]
    response = await client.post("/events:batch", content=orjson.dumps(mixed), headers=headers)
    assert response.status_code == 207, response.text
    assert response.json()["accepted"] == 0
    assert await nothing_queued(bus)


async def test_token_store_down_is_503_and_the_gateway_still_starts(
        settings: Settings, gateway_config: GatewaySettings, bus: Bus) -> None:
    nowhere = settings.model_copy(update={"database_url": "postgresql://127.0.0.1:1/test"})
    app = create_app(nowhere, gateway_config)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://gateway", timeout=30) as c:
            response = await c.post("/events", content=orjson.dumps(order()),
                                    headers=structured("hdg_any"))
    assert (response.status_code, response.json()["reason"]) == (503,
                                                                 "token_store_unavailable")
    assert await nothing_queued(bus)
