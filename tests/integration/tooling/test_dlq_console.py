"""The dead-letter console is safe to read and safe to operate (real broker, database):
crafted text is printed literally, purging all is explicit, unroutable is a place, and
browsing never changes a dead letter."""

import getpass
from pathlib import Path

import aio_pika
import orjson
from harness import Bus, event, run_worker_burst, scalar
from tooling_helpers import audit_rows, cli, professional_application

from workers import topology
from workers.ops.status import collect
from workers.settings import OpsSettings, Settings
from workers.tools.dlq import Filter, list_dead_letters

DOMAIN = "certification"
CRAFTED = "[/x] [link=https://evil.example]click[/link] \x1b]0;title\x07\x1b[2J end"
CRAFTED_SHOWN = "[/x] [link=https://evil.example]click[/link] \\x1b]0;title\\x07\\x1b[2J end"


async def held(settings: Settings, place: str = DOMAIN) -> int:
    return await scalar(settings, "SELECT count(*) FROM dead_letters "
                                  f"WHERE place = '{place}' AND status = 'dead'")


async def dead_letter_crafted(bus: Bus, settings: Settings) -> dict[str, object]:
    """A gateway client's event with a crafted id and a schema violation: dead-lettered
    with the id in x-haodian-event-id."""
    bad = event("certification.submitted",
                {**professional_application("app-c", "acc-c"), "x": 1}, id=CRAFTED)
    await bus.publish(bad)
    await run_worker_burst(settings, [DOMAIN])
    return bad


async def test_a_crafted_id_is_shown_literally_by_list_and_show(bus: Bus,
                                                                 settings: Settings) -> None:
    await dead_letter_crafted(bus, settings)

    listed = await cli(settings, "dlq", "list", "-d", DOMAIN)
    assert listed.exit_code == 0, listed.output
    assert CRAFTED_SHOWN in listed.stdout
    assert b"\x1b" not in listed.stdout_bytes and b"\x07" not in listed.stdout_bytes

    (row,) = orjson.loads((await cli(settings, "dlq", "list", "-d", DOMAIN, "--json")).stdout)
    assert row["event_id"] == CRAFTED  # JSON carries the id itself, escaped by JSON
    shown = await cli(settings, "dlq", "show", "-d", DOMAIN, str(row["position"]))
    assert shown.exit_code == 0, shown.output
    assert f"x-haodian-event-id: {CRAFTED_SHOWN}" in shown.stdout
    assert b"\x1b" not in shown.stdout_bytes and b"\x07" not in shown.stdout_bytes


async def test_publish_shows_a_refused_crafted_id_literally(bus: Bus, settings: Settings,
                                                            tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(orjson.dumps(event("voucher.issued", {}, id=CRAFTED)) + b"\n")
    published = await cli(settings, "publish", str(path))
    assert published.exit_code == 1, published.output
    assert CRAFTED_SHOWN in published.stdout
    assert b"\x1b" not in published.stdout_bytes


async def test_purge_needs_a_filter_or_all_and_limits_are_at_least_one(
        bus: Bus, settings: Settings) -> None:
    await dead_letter_crafted(bus, settings)
    await bus.publish_raw(b"{not json", "certification.submitted")
    await run_worker_burst(settings, [DOMAIN])

    for args in (("purge", "-d", DOMAIN, "--yes"), ("purge", "-d", DOMAIN, "--limit", "0",
                                                    "--yes"),
                 ("purge", "-d", DOMAIN, "--all", "--reason", "schema_invalid", "--yes"),
                 ("list", "-d", DOMAIN, "--limit", "-1"), ("replay", "-d", DOMAIN,
                                                           "--limit", "0")):
        refused = await cli(settings, "dlq", *args)
        assert refused.exit_code == 2, (args, refused.output)
    listed = await cli(settings, "dlq", "list", "-d", DOMAIN, "--limit", "1", "--json")
    assert len(orjson.loads(listed.stdout)) == 1
    assert await held(settings) == 2
    assert await audit_rows(str(settings.database_url)) == []  # refusals did nothing

    purged = await cli(settings, "dlq", "purge", "-d", DOMAIN, "--all", "--yes")
    assert purged.exit_code == 0, purged.output
    assert "purged 2 message(s)" in purged.stdout
    assert await held(settings) == 0
    assert [(r["action"], r["filter"], r["messages"], r["actor"])
            for r in await audit_rows(str(settings.database_url))] == [
        ("purge", {"all": True}, 2, getpass.getuser())]


async def test_unroutable_is_a_place_to_list_show_replay_and_purge(
        bus: Bus, settings: Settings) -> None:
    voucher = event("voucher.issued", {"voucher_id": "v-1"})
    await bus.publish(voucher)
    # Kept unroutable while no domain was bound (before `haodian migrate`, say), with a
    # type a domain handles now.
    late = event("certification.submitted", professional_application("app-u", "acc-u"))
    fanout = await bus.channel.get_exchange(topology.UNROUTABLE)
    await fanout.publish(aio_pika.Message(orjson.dumps(late), content_type="application/json"),
                         routing_key="certification.submitted")

    listed = await cli(settings, "dlq", "list", "-d", "unroutable", "--json")
    assert listed.exit_code == 0, listed.output
    rows = {r["event_id"]: r for r in orjson.loads(listed.stdout)}
    assert {r["reason"] for r in rows.values()} == {"unroutable"}
    assert rows[voucher["id"]]["type"] == "voucher.issued"
    assert await bus.depth(topology.UNROUTABLE) == 0

    shown = await cli(settings, "dlq", "show", "-d", "unroutable",
                      str(rows[voucher["id"]]["position"]))
    assert shown.exit_code == 0, shown.output
    assert shown.stdout_bytes.endswith(orjson.dumps(voucher) + b"\n")

    report = await collect(settings, OpsSettings(), [DOMAIN], None)  # status --json
    assert report["unroutable"] == {"name": "haodian.unroutable", "ready": 0, "kept": 2,
                                    "total": 2}

    refused = await cli(settings, "dlq", "replay", "-d", "unroutable")
    assert refused.exit_code == 1
    assert "voucher.issued" in refused.output and "not replayed" in refused.output
    assert await held(settings, "unroutable") == 2

    replayed = await cli(settings, "dlq", "replay", "-d", "unroutable", "--type",
                         "certification.*")
    assert replayed.exit_code == 0, replayed.output
    assert "replayed 1 message(s) from haodian.unroutable" in replayed.stdout
    await run_worker_burst(settings, [DOMAIN])
    results = await bus.wait_results(1)
    assert [(r["type"], r["subject"]) for r in results] == [
        ("certification.pending_review", "app-u")]

    purged = await cli(settings, "dlq", "purge", "-d", "unroutable", "--event-id",
                       voucher["id"], "--yes")
    assert "purged 1 message(s) from haodian.unroutable" in purged.stdout
    assert await held(settings, "unroutable") == 0

    unknown = await cli(settings, "dlq", "list", "-d", "nosuch")
    assert unknown.exit_code == 2
    assert "unknown domain 'nosuch'" in unknown.output and "unroutable" in unknown.output
    assert "Traceback" not in unknown.output


async def test_the_worker_moves_its_dead_letters_into_the_table(
        bus: Bus, settings: Settings) -> None:
    await bus.publish_raw(b"{not json", "certification.submitted")
    await bus.publish(event("voucher.issued", {}))
    await run_worker_burst(settings.model_copy(update={"dlq_ingest": True}), [DOMAIN])
    assert await bus.depth(topology.dlq_name(DOMAIN)) == 0
    assert await bus.depth(topology.UNROUTABLE) == 0
    assert await held(settings) == 1 and await held(settings, "unroutable") == 1
    (d,) = await list_dead_letters(str(settings.amqp_url), str(settings.database_url), DOMAIN,
                                   Filter(), fresh=False)
    assert (d.reason, d.body, d.routing_key) == ("malformed_json", b"{not json",
                                                 "certification.submitted")
