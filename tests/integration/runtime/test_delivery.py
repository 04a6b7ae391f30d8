"""End-to-end delivery through the real broker and database, certification as the domain."""

import orjson
from harness import Bus, event, run_worker_burst

from workers import db, topology
from workers.settings import Settings


def interest(application_id: str, account_id: str) -> dict:
    return {"application_id": application_id, "account_id": account_id,
            "account_name": "Tea lover", "track": "interest", "interest": {"field": "tea"}}


async def test_interest_application_is_approved_end_to_end(bus: Bus, settings: Settings) -> None:
    e = event("certification.submitted", interest("app-1", "acc-1"))
    await bus.publish(e)
    await run_worker_burst(settings, ["certification"])
    results = await bus.wait_results(1)
    assert [r["type"] for r in results] == ["certification.approved"]
    r = results[0]
    assert r["source"] == "haodian" and r["subject"] == "app-1" and r["causationid"] == e["id"]
    assert r["data"]["fee_fen"] == 0


async def test_same_key_twice_has_effects_once(bus: Bus, settings: Settings) -> None:
    e = event("certification.submitted", interest("app-2", "acc-2"))
    await bus.publish(e)
    await run_worker_burst(settings, ["certification"])
    await bus.publish(e)  # a redelivery in a later batch
    await run_worker_burst(settings, ["certification"])
    results = await bus.settle()
    conn = await db.connect(str(settings.database_url))
    try:
        assert await conn.fetchval("SELECT count(*) FROM certification_applications") == 1
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 1
    finally:
        await conn.close()
    assert len({r["id"] for r in results}) == 1


async def test_bad_messages_go_to_the_dlq_and_good_ones_still_pass(
        bus: Bus, settings: Settings) -> None:
    good = event("certification.submitted", interest("app-3", "acc-3"))
    float_money = event("settlement.run_requested", {})  # placeholder, replaced below
    wrong_types = event("certification.submitted", {**interest("app-4", "acc-4"),
                                                    "account_id": 42})
    unknown_field = event("certification.submitted", {**interest("app-5", "acc-5"), "x": 1})
    conflicting = event("certification.submitted", interest("app-6", "acc-6"))
    changed = {**conflicting, "data": interest("app-6", "acc-other")}
    await bus.publish_raw(b"{not json", "certification.submitted")
    await bus.publish_raw(orjson.dumps(good), "certification.reviewed")  # type != key
    await bus.publish(good, wrong_types, unknown_field, conflicting)
    del float_money
    await run_worker_burst(settings, ["certification"])
    await bus.publish(changed)
    await run_worker_burst(settings, ["certification"])
    dead = await bus.take_all(topology.dlq_name("certification"))
    reasons = sorted(str(m.headers["x-haodian-reason"]) for m in dead)
    assert reasons == ["conflicting_duplicate", "malformed_json", "schema_invalid",
                       "schema_invalid", "type_mismatch"]
    raw = {bytes(m.body) for m in dead}
    assert b"{not json" in raw  # the raw message is kept intact
    results = await bus.settle()
    assert {r["subject"] for r in bus.of_type("certification.approved")} == {"app-3", "app-6"}
    rejected = bus.of_type("event.rejected")
    assert len(rejected) == 4  # all but the unreadable JSON name their event
    assert results


async def test_unknown_event_type_is_kept_in_unroutable(bus: Bus, settings: Settings) -> None:
    await bus.publish(event("loyalty.points_awarded", {"points": 5}))
    await run_worker_burst(settings, ["certification"])
    kept = await bus.take_all(topology.UNROUTABLE)
    assert [orjson.loads(m.body)["type"] for m in kept] == ["loyalty.points_awarded"]
