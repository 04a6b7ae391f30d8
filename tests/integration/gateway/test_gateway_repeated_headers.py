"""A ce- header repeated with another value is refused (400 envelope_invalid, as over
AMQP) and nothing is published; repeated with the same value it is one attribute."""

import httpx
import orjson
from gateway_helpers import binary, order
from harness import Bus

from workers import topology

SETTLEMENT = topology.domain_queue("settlement")


async def test_two_different_ce_source_headers_are_refused(
        client: httpx.AsyncClient, token: str, bus: Bus) -> None:
    headers, body = binary(token, order("o-twice"))
    repeated = [*headers.items(), ("ce-source", "payment-service")]
    response = await client.post("/events", content=body, headers=repeated)
    assert response.status_code == 400, response.text
    assert response.json()["reason"] == "envelope_invalid"
    assert response.json()["detail"] == "header ce-source given twice with different values"
    assert await bus.depth(SETTLEMENT) == 0
    assert await bus.depth(topology.UNROUTABLE) == 0


async def test_any_ce_header_repeated_differently_is_refused_whichever_comes_first(
        client: httpx.AsyncClient, token: str, bus: Bus) -> None:
    headers, body = binary(token, order("o-twice"))
    for name, other in (("ce-id", "another-id"), ("ce-type", "order.cancelled"),
                        ("ce-time", "2021-08-04T10:15:00%2B08:00")):
        first_other = [(name, other), *headers.items()]
        response = await client.post("/events", content=body, headers=first_other)
        assert (response.status_code, response.json()["reason"]) == (400, "envelope_invalid")
        assert name in response.json()["detail"]
    assert await bus.depth(SETTLEMENT) == 0


async def test_the_same_value_twice_is_one_attribute(client: httpx.AsyncClient, token: str,
                                                     bus: Bus) -> None:
    e = order("o-same-twice")
    headers, body = binary(token, e)
    # The same value, once percent-encoded differently: equal once decoded.
    repeated = [*headers.items(), ("CE-Source", "order%2Dservice")]
    response = await client.post("/events", content=body, headers=repeated)
    assert response.status_code == 202, response.text
    [message] = await bus.take_all(SETTLEMENT)
    assert orjson.loads(message.body) == e
