"""Hostile input over HTTP is a 400 with the workers' reason (never a 503 "resend later"),
and nothing reaches the broker."""

from urllib.parse import quote

import httpx
import pytest
from gateway_helpers import binary, structured
from harness import Bus
from hostile import CJK_86, HOSTILE, dumps, order
from test_gateway_refuses import nothing_queued


@pytest.mark.parametrize(("event", "reason"), [(e, r) for _, e, r in HOSTILE],
                         ids=[name for name, _, _ in HOSTILE])
async def test_hostile_event_is_400_with_the_reason(
        client: httpx.AsyncClient, token: str, bus: Bus, event: dict[str, object],
        reason: str) -> None:
    response = await client.post("/events", content=dumps(event),
                                 headers=structured(token))
    assert (response.status_code, response.json()["reason"]) == (400, reason), response.text
    assert await nothing_queued(bus)


async def test_binary_mode_id_over_255_bytes_is_400(client: httpx.AsyncClient, token: str,
                                                     bus: Bus) -> None:
    headers, body = binary(token, order())
    headers["ce-id"] = quote(CJK_86)
    response = await client.post("/events", content=body, headers=headers)
    assert (response.status_code, response.json()["reason"]) == (400, "envelope_invalid")
    assert "255 bytes" in response.json()["detail"]
    assert await nothing_queued(bus)
