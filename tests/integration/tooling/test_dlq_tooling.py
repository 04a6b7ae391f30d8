"""DLQ tooling against the real broker and database: list, show, replay, purge, audit."""

import getpass

import orjson
from harness import Bus, event, run_worker_burst, scalar
from tooling_helpers import (
    Tap,
    approval,
    audit_rows,
    broker_dead_letter,
    cli,
    professional_application,
)

from workers import topology
from workers.settings import Settings
from workers.tools.dlq import DeadLetter, Filter, list_dead_letters, purge, replay

DOMAIN = "certification"


def by_reason(found: list[DeadLetter]) -> dict[str, DeadLetter]:
    return {d.reason: d for d in found}


async def held(settings: Settings, place: str = DOMAIN) -> int:
    """Dead letters kept in the table (not replayed) for a place."""
    return await scalar(settings, "SELECT count(*) FROM dead_letters "
                                  f"WHERE place = '{place}' AND status = 'dead'")


async def dead_letter_three(bus: Bus, settings: Settings) -> dict[str, dict]:
    """Malformed JSON, a schema violation, and a review whose application never came
    (retried, then dead-lettered): three dead letters with different reasons."""
    bad_schema = event("certification.submitted",
                       {**professional_application("app-s", "acc-s"), "x": 1})
    orphan_review = event("certification.reviewed", approval("app-r"))
    await bus.publish_raw(b"{not json", "certification.submitted")
    await bus.publish(bad_schema, orphan_review)
    await run_worker_burst(settings, [DOMAIN])
    return {"schema_invalid": bad_schema, "retries_exhausted": orphan_review}


async def test_list_filters_by_reason_and_type(bus: Bus, settings: Settings) -> None:
    sent = await dead_letter_three(bus, settings)
    url, db = str(settings.amqp_url), str(settings.database_url)

    everything = await list_dead_letters(url, db, DOMAIN, Filter())
    assert sorted(d.reason for d in everything) == [
        "malformed_json", "retries_exhausted", "schema_invalid"]
    assert [d.position for d in everything] == [1, 2, 3]

    exhausted = await list_dead_letters(url, db, DOMAIN, Filter(reason="retries_exhausted"))
    assert [(d.event_id, d.type, d.routing_key) for d in exhausted] == [
        (sent["retries_exhausted"]["id"], "certification.reviewed", "certification.reviewed")]
    assert exhausted[0].attempt == 3  # test settings: retry delays (1, 1, 1)
    assert "application_unknown" in exhausted[0].detail

    submitted = await list_dead_letters(url, db, DOMAIN, Filter(type="certification.submitted"))
    assert [d.reason for d in submitted] == ["schema_invalid"]  # bad JSON names no type
    any_certification = await list_dead_letters(url, db, DOMAIN, Filter(type="certification.*"))
    assert sorted(d.reason for d in any_certification) == ["retries_exhausted",
                                                           "schema_invalid"]
    assert await list_dead_letters(url, db, DOMAIN, Filter(reason="schema_invalid",
                                                       type="certification.reviewed")) == []
    assert len(await list_dead_letters(url, db, DOMAIN, Filter(limit=2))) == 2

    # Listing takes nothing: the table still holds all three, in the same order; the
    # broker's DLQ was only their way in.
    again = await list_dead_letters(url, db, DOMAIN, Filter())
    assert [(d.position, d.reason) for d in again] == [(d.position, d.reason)
                                                       for d in everything]
    assert await held(settings) == 3
    assert await bus.depth(topology.dlq_name(DOMAIN)) == 0


async def test_dead_letter_keeps_the_raw_body_and_the_reason_headers(
        bus: Bus, settings: Settings) -> None:
    sent = await dead_letter_three(bus, settings)
    found = by_reason(await list_dead_letters(str(settings.amqp_url),
                                              str(settings.database_url), DOMAIN, Filter()))

    malformed = found["malformed_json"]
    assert malformed.body == b"{not json"
    assert malformed.event_id == "" and malformed.type == ""
    assert malformed.routing_key == "certification.submitted"
    assert malformed.headers["x-haodian-domain"] == DOMAIN

    schema = found["schema_invalid"]
    assert orjson.loads(schema.body) == sent["schema_invalid"]
    assert "x" in schema.detail
    assert schema.headers["x-haodian-source"] == "test-upstream"
    assert schema.attempt == 0
    assert schema.rejected_at  # ISO time the worker dead-lettered it


async def test_replay_of_an_exhausted_review_succeeds_once_its_application_arrived(
        bus: Bus, settings: Settings) -> None:
    sent = await dead_letter_three(bus, settings)
    review = sent["retries_exhausted"]
    await bus.wait_results(2)  # event.rejected for the two messages that name their event
    assert [r["data"]["reasons"] for r in bus.of_type("event.rejected")
            if r["data"]["event_id"] == review["id"]] == [["retries_exhausted"]]

    await bus.publish(event("certification.submitted",
                            professional_application("app-r", "acc-r")))
    await run_worker_burst(settings, [DOMAIN])
    await bus.wait_results(3)  # two event.rejected, one pending_review
    assert [r["subject"] for r in bus.of_type("certification.pending_review")] == ["app-r"]

    events_tap = await Tap.open(bus.channel, topology.EVENTS, "#")
    replayed = await replay(str(settings.amqp_url), str(settings.database_url), DOMAIN,
                            Filter(reason="retries_exhausted"), "tester")
    assert replayed == 1
    (copy,) = await events_tap.wait(1)
    assert copy.routing_key == "certification.reviewed"
    assert orjson.loads(copy.body) == review
    assert not [k for k in (copy.headers or {}) if k.startswith(("x-haodian-", "x-death"))]

    left = await list_dead_letters(str(settings.amqp_url), str(settings.database_url), DOMAIN,
                                   Filter())
    assert sorted(d.reason for d in left) == ["malformed_json", "schema_invalid"]
    assert await audit_rows(str(settings.database_url)) == [
        {"action": "replay", "domain": DOMAIN, "filter": {"reason": "retries_exhausted"},
         "messages": 1, "actor": "tester"}]

    await run_worker_burst(settings, [DOMAIN])
    await bus.wait_results(4)
    approved = bus.of_type("certification.approved")
    assert [(r["subject"], r["causationid"]) for r in approved] == [("app-r", review["id"])]
    assert await held(settings) == 2


async def test_purge_takes_only_the_matching_messages_and_is_audited(
        bus: Bus, settings: Settings) -> None:
    await dead_letter_three(bus, settings)
    url, db = str(settings.amqp_url), str(settings.database_url)

    assert await purge(url, db, DOMAIN, Filter(reason="malformed_json"), "tester") == 1
    assert await purge(url, db, DOMAIN, Filter(reason="malformed_json"), "tester") == 0
    left = await list_dead_letters(url, db, DOMAIN, Filter())
    assert sorted(d.reason for d in left) == ["retries_exhausted", "schema_invalid"]

    assert await purge(url, db, DOMAIN, Filter(type="certification.*", limit=1), "ops") == 1
    assert await held(settings) == 1
    assert [(r["action"], r["filter"], r["messages"], r["actor"])
            for r in await audit_rows(db)] == [
        ("purge", {"reason": "malformed_json"}, 1, "tester"),
        ("purge", {"reason": "malformed_json"}, 0, "tester"),
        ("purge", {"limit": 1, "type": "certification.*"}, 1, "ops")]


async def test_a_message_the_broker_dead_lettered_replays_under_its_original_key(
        bus: Bus, settings: Settings) -> None:
    """Past the delivery limit the broker dead-letters on its own: no x-haodian-* headers,
    and the message arrives under the DLX's key (the domain name)."""
    e = event("certification.submitted", professional_application("app-b", "acc-b"))
    dlq = await Tap.open(bus.channel, topology.DLX, DOMAIN)
    await bus.publish(e)
    await broker_dead_letter(bus.channel, topology.domain_queue(DOMAIN))
    await dlq.wait(1)  # dead-lettering is asynchronous; the tap sees the same copy

    (found,) = await list_dead_letters(str(settings.amqp_url), str(settings.database_url),
                                       DOMAIN, Filter())
    assert (found.reason, found.event_id, found.type, found.routing_key) == (
        "broker_rejected", e["id"], "certification.submitted", "certification.submitted")

    events_tap = await Tap.open(bus.channel, topology.EVENTS, "#")
    assert await replay(str(settings.amqp_url), str(settings.database_url), DOMAIN,
                        Filter(type="certification.submitted"), "tester") == 1
    (copy,) = await events_tap.wait(1)
    assert copy.routing_key == "certification.submitted"
    assert "x-delivery-count" not in (copy.headers or {})
    await run_worker_burst(settings, [DOMAIN])
    results = await bus.wait_results(1)
    assert [(r["type"], r["subject"]) for r in results] == [
        ("certification.pending_review", "app-b")]
    assert await bus.depth(topology.UNROUTABLE) == 0


async def test_the_cli_lists_shows_replays_and_purges(bus: Bus, settings: Settings) -> None:
    sent = await dead_letter_three(bus, settings)

    listed = await cli(settings, "dlq", "list", "--domain", DOMAIN, "--json")
    assert listed.exit_code == 0, listed.output
    rows = orjson.loads(listed.stdout)
    assert sorted(r["reason"] for r in rows) == ["malformed_json", "retries_exhausted",
                                                 "schema_invalid"]
    filtered = await cli(settings, "dlq", "list", "-d", DOMAIN, "--type",
                         "certification.reviewed", "--json")
    assert [r["event_id"] for r in orjson.loads(filtered.stdout)] == [
        sent["retries_exhausted"]["id"]]

    position = next(r["position"] for r in rows if r["reason"] == "malformed_json")
    shown = await cli(settings, "dlq", "show", "-d", DOMAIN, str(position))
    assert shown.exit_code == 0, shown.output
    assert shown.stdout_bytes.endswith(b"{not json\n")
    assert "x-haodian-reason" in shown.stdout and "malformed_json" in shown.stdout
    missing = await cli(settings, "dlq", "show", "-d", DOMAIN, "99")
    assert missing.exit_code == 1

    replayed = await cli(settings, "dlq", "replay", "-d", DOMAIN,
                         "--reason", "schema_invalid")
    assert replayed.exit_code == 0, replayed.output
    assert "replayed 1 message(s)" in replayed.stdout
    assert await bus.depth(topology.domain_queue(DOMAIN)) == 1  # back, waiting for a worker

    refused = await cli(settings, "dlq", "purge", "-d", DOMAIN, "--all", stdin=b"n\n")
    assert refused.exit_code == 1
    assert await held(settings) == 2
    purged = await cli(settings, "dlq", "purge", "-d", DOMAIN, "--all", "--yes")
    assert purged.exit_code == 0, purged.output
    assert "purged 2 message(s)" in purged.stdout
    assert await held(settings) == 0

    assert [(r["action"], r["filter"], r["messages"], r["actor"])
            for r in await audit_rows(str(settings.database_url))] == [
        ("replay", {"reason": "schema_invalid"}, 1, getpass.getuser()),
        ("purge", {"all": True}, 2, getpass.getuser())]
