"""The gateway accepts structured, binary and batched events: 202, then processed."""

import httpx
import orjson
from gateway_helpers import BATCH, ORDER_SOURCE, binary, order, structured
from harness import Bus, run_worker_burst

from workers import topology
from workers.settings import Settings

SETTLEMENT = topology.domain_queue("settlement")


async def test_structured_event_is_confirmed_queued_persistent_and_processed(
        client: httpx.AsyncClient, token: str, bus: Bus, settings: Settings) -> None:
    e = order("o-struct")
    response = await client.post("/events", content=orjson.dumps(e), headers=structured(token))
    assert response.status_code == 202, response.text
    assert response.json() == {"status": 202, "id": e["id"], "source": ORDER_SOURCE,
                               "type": "order.confirmed"}
    [message] = await bus.take_all(SETTLEMENT)
    assert orjson.loads(message.body) == e
    assert (message.routing_key, message.exchange) == ("order.confirmed", topology.EVENTS)
    assert message.delivery_mode == 2  # persistent
    assert message.content_type == "application/cloudevents+json"
    assert message.message_id == e["id"]
    await client.post("/events", content=orjson.dumps(order("o-struct-2")),
                      headers=structured(token))
    await run_worker_burst(settings, ["settlement"])
    [scheduled] = await bus.wait_results(1)
    assert (scheduled["type"], scheduled["subject"]) == ("settlement.scheduled", "o-struct-2")


async def test_binary_event_becomes_the_same_structured_event_and_is_processed(
        client: httpx.AsyncClient, token: str, bus: Bus, settings: Settings) -> None:
    e = order("o-binary", store_id="店铺 1%")
    headers, body = binary(token, e)
    assert headers["ce-time"] != e["time"]  # "+" is percent-encoded
    response = await client.post("/events", content=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["id"] == e["id"]
    [message] = await bus.take_all(SETTLEMENT)
    assert orjson.loads(message.body) == e
    await client.post("/events", content=body, headers=headers)  # same event again
    await run_worker_burst(settings, ["settlement"])
    results = await bus.settle()
    assert [(r["type"], r["subject"]) for r in results] == [
        ("settlement.scheduled", "o-binary")]


async def test_plain_json_without_ce_headers_is_structured_mode(
        client: httpx.AsyncClient, token: str, bus: Bus) -> None:
    e = order("o-plain")
    response = await client.post("/events", content=orjson.dumps(e), headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert response.status_code == 202, response.text
    assert [orjson.loads(m.body)["id"] for m in await bus.take_all(SETTLEMENT)] == [e["id"]]


async def test_batch_of_valid_events_is_202_in_order(
        client: httpx.AsyncClient, token: str, bus: Bus, settings: Settings) -> None:
    events = [order(f"o-batch-{i}") for i in range(20)]
    response = await client.post("/events:batch", content=orjson.dumps(events),
                                 headers={**structured(token), "Content-Type": BATCH})
    assert response.status_code == 202, response.text
    outcome = response.json()
    assert (outcome["accepted"], outcome["refused"]) == (20, 0)
    assert [r["id"] for r in outcome["results"]] == [e["id"] for e in events]
    assert {r["status"] for r in outcome["results"]} == {202}
    queued = await bus.take_all(SETTLEMENT)
    assert [orjson.loads(m.body)["id"] for m in queued] == [e["id"] for e in events]


async def test_batch_answers_each_event_and_publishes_only_the_valid_ones(
        client: httpx.AsyncClient, token: str, bus: Bus) -> None:
    good = order("o-good")
    foreign = {**order("o-foreign"), "source": "payments"}
    events = [good, order("o-float", amount_fen=12.5), foreign, {"not": "an event"}]
    response = await client.post("/events/batch", content=orjson.dumps(events),
                                 headers={**structured(token), "Content-Type": BATCH})
    assert response.status_code == 207, response.text
    results = response.json()["results"]
    assert [(r["index"], r["status"], r.get("reason")) for r in results] == [
        (0, 202, None), (1, 400, "money_not_integer"), (2, 403, "source_forbidden"),
        (3, 400, "envelope_invalid")]
    assert results[1]["id"] == events[1]["id"]
    assert response.json()["accepted"] == 1
    queued = await bus.take_all(SETTLEMENT)
    assert [orjson.loads(m.body)["id"] for m in queued] == [good["id"]]
