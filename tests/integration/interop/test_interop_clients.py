"""Clients we did not write publish exactly as docs/publishing.md says; the results arrive."""

import uuid
from typing import Any

import orjson
import pytest
from harness import Bus, event, run_worker_burst
from interop_guide import NODE_DIR, block, require_tools, run_bash, run_node, run_python

from workers import topology
from workers.settings import Settings


@pytest.fixture(autouse=True)
def tools() -> None:
    require_tools()


def order(order_id: str, amount_fen: Any = 129900) -> dict[str, Any]:
    return event("order.confirmed", {"order_id": order_id, "store_id": "s-1",
                                     "buyer_id": "u-9", "amount_fen": amount_fen,
                                     "confirmed_at": "2021-08-03T10:15:00+08:00"},
                 source="order-service", time="2021-08-03T10:15:00+08:00")


async def scheduled(bus: Bus, settings: Settings, count: int) -> list[str]:
    await run_worker_burst(settings, ["settlement"])
    await bus.wait_results(count)
    return sorted(r["subject"] for r in bus.of_type("settlement.scheduled"))


def test_the_node_script_is_the_one_in_the_guide() -> None:
    assert (NODE_DIR / "publish.js").read_text() == block("node"), (
        "docs/publishing.md and tests/integration/interop/node/publish.js differ; keep the "
        "guide's Node example and the tested script the same")


async def test_python_example_of_the_guide(bus: Bus, settings: Settings) -> None:
    out = await run_python(settings, block("python"))
    assert "confirmed 0b4f5a2e-6c1d-4d0e-9a77-3f2b8c1d9e01" in out
    assert await scheduled(bus, settings, 1) == ["o-1001"]


async def test_amqp_publish_structured_and_binary_as_in_the_guide(
        bus: Bus, settings: Settings) -> None:
    await run_bash(settings, block("shell-structured"))
    await run_bash(settings, block("shell-binary"))
    assert await scheduled(bus, settings, 2) == ["o-1002", "o-1003"]
    assert await bus.take_all(topology.dlq_name("settlement")) == []


async def test_amqplib_structured_and_binary(bus: Bus, settings: Settings) -> None:
    structured, binary = order("o-2001"), order("o-2002")
    out = await run_node(settings, orjson.dumps(structured))
    assert f"confirmed order-service {structured['id']}" in out
    await run_node(settings, orjson.dumps(binary), "--binary")
    assert await scheduled(bus, settings, 2) == ["o-2001", "o-2002"]


async def test_same_event_from_two_clients_in_two_modes_has_effects_once(
        bus: Bus, settings: Settings) -> None:
    e = order("o-3001")
    await run_node(settings, orjson.dumps(e), "--binary")
    await run_bash(settings, (
        'amqp-publish --url="$AMQP_URL" --exchange=haodian.events '
        "--routing-key=order.confirmed --persistent "
        f"--content-type=application/cloudevents+json --body='{orjson.dumps(e).decode()}'"))
    assert await scheduled(bus, settings, 1) == ["o-3001"]
    await bus.settle()
    assert len(bus.collected) == 1
    assert await bus.take_all(topology.dlq_name("settlement")) == []


async def test_refused_events_from_amqplib_are_dead_lettered_with_a_result(
        bus: Bus, settings: Settings) -> None:
    float_money, bad_header = order("o-4001", 12.5), order("o-4002")
    await run_node(settings, orjson.dumps(float_money))
    await run_node(settings, orjson.dumps({**bad_header, "Trace-Id": uuid.uuid4().hex}),
                   "--binary")
    await run_worker_burst(settings, ["settlement"])
    dead = await bus.take_all(topology.dlq_name("settlement"))
    by_id = {str(m.headers["x-haodian-event-id"]): m for m in dead if m.headers}
    assert by_id[float_money["id"]].headers["x-haodian-reason"] == "money_not_integer"
    binary_dead = by_id[bad_header["id"]]
    assert binary_dead.headers["x-haodian-reason"] == "envelope_invalid"
    assert binary_dead.headers["cloudEvents_id"] == bad_header["id"]  # kept as received
    rejected = await bus.wait_results(2)
    assert sorted(r["data"]["reasons"][0] for r in rejected) == [
        "envelope_invalid", "money_not_integer"]
