"""Binary-mode CloudEvents through the real broker and database, certification as the domain."""

from typing import Any

import aio_pika
import orjson
from harness import Bus, event, run_worker_burst

from workers import db, topology
from workers.settings import Settings


def interest(application_id: str, account_id: str) -> dict[str, Any]:
    return {"application_id": application_id, "account_id": account_id,
            "account_name": "Tea lover", "track": "interest", "interest": {"field": "tea"}}


def binary_headers(e: dict[str, Any], prefix: str = "cloudEvents_") -> dict[str, Any]:
    return {f"{prefix}{k}": v for k, v in e.items() if k not in ("data", "datacontenttype")}


async def publish_binary(bus: Bus, e: dict[str, Any], body: bytes | None = None,
                         **extra_headers: Any) -> None:
    exchange = await bus.channel.get_exchange(topology.EVENTS)
    await exchange.publish(aio_pika.Message(
        orjson.dumps(e["data"]) if body is None else body, content_type="application/json",
        headers={**binary_headers(e), **extra_headers},
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=e["type"])


async def test_binary_mode_event_is_processed_end_to_end(bus: Bus, settings: Settings) -> None:
    e = event("certification.submitted", interest("app-b1", "acc-b1"))
    await publish_binary(bus, e)
    await run_worker_burst(settings, ["certification"])
    results = await bus.wait_results(1)
    assert [r["type"] for r in results] == ["certification.approved"]
    assert results[0]["subject"] == "app-b1" and results[0]["causationid"] == e["id"]


async def test_same_event_in_both_modes_has_effects_once(bus: Bus, settings: Settings) -> None:
    e = event("certification.submitted", interest("app-b2", "acc-b2"))
    await bus.publish(e)
    await run_worker_burst(settings, ["certification"])
    await publish_binary(bus, e, body=orjson.dumps(e["data"], option=orjson.OPT_INDENT_2))
    await run_worker_burst(settings, ["certification"])
    await bus.settle()
    assert await bus.take_all(topology.dlq_name("certification")) == []  # not a conflict
    conn = await db.connect(str(settings.database_url))
    try:
        assert await conn.fetchval("SELECT count(*) FROM certification_applications") == 1
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 1
    finally:
        await conn.close()


async def test_malformed_binary_message_is_dead_lettered_as_received(
        bus: Bus, settings: Settings) -> None:
    e = event("certification.submitted", interest("app-b3", "acc-b3"))
    await publish_binary(bus, e, cloudEvents_priority=1.5)  # a float cannot be an attribute
    await run_worker_burst(settings, ["certification"])
    [dead] = await bus.take_all(topology.dlq_name("certification"))
    headers = dead.headers or {}
    assert headers["x-haodian-reason"] == "envelope_invalid"
    assert "cloudEvents_priority" in str(headers["x-haodian-detail"])
    assert headers["x-haodian-event-id"] == e["id"]
    assert headers["cloudEvents_id"] == e["id"]  # the original headers and body are kept
    assert orjson.loads(dead.body) == e["data"]
    rejected = await bus.wait_results(1)
    assert [r["type"] for r in rejected] == ["event.rejected"]
    assert rejected[0]["data"]["reasons"] == ["envelope_invalid"]
    assert rejected[0]["data"]["event_id"] == e["id"]
