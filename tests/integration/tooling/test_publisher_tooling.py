"""The publisher refuses locally what a worker would dead-letter, with the same reason."""

from pathlib import Path
from typing import Any

import orjson
import pytest
from harness import Bus, event, run_worker_burst
from tooling_helpers import cli, professional_application

from workers import topology
from workers.settings import Settings
from workers.tools.publisher import Publisher


def order(**overrides: Any) -> dict[str, Any]:
    data = {"order_id": "o-1", "store_id": "s-1", "buyer_id": "u-9", "amount_fen": 129900,
            "confirmed_at": "2021-08-03T10:15:00+08:00"}
    return event("order.confirmed", {**data, **overrides})


def without(e: dict[str, Any], attribute: str) -> dict[str, Any]:
    return {k: v for k, v in e.items() if k != attribute}


VALID = [order(), event("certification.submitted", professional_application("app-1", "acc-1"))]

# (reason, body, routing key a careless upstream would publish it under)
INVALID: list[tuple[str, bytes, str]] = [
    ("money_not_integer", orjson.dumps(order(amount_fen=12.5)), "order.confirmed"),
    ("money_not_integer", orjson.dumps(order(amount_fen="129900")), "order.confirmed"),
    ("schema_invalid", orjson.dumps(order(amount_fen=-1)), "order.confirmed"),
    ("schema_invalid", orjson.dumps(order(coupon="x")), "order.confirmed"),
    ("schema_invalid", orjson.dumps(event("certification.submitted", {
        **professional_application("app-2", "acc-2"), "track": "interest"})),
     "certification.submitted"),
    ("event_type_unknown", orjson.dumps(event("certification.revoked", {"x": 1})),
     "certification.revoked"),
    ("envelope_invalid", orjson.dumps(without(order(), "specversion")), "order.confirmed"),
    ("envelope_invalid", orjson.dumps({**order(), "time": "2021-08-03T10:15:00"}),
     "order.confirmed"),
    ("envelope_invalid", orjson.dumps(without(order(), "type")), "order.confirmed"),
    ("envelope_invalid", b"[1, 2]", "order.confirmed"),
    ("malformed_json", b'{"specversion": "1.0", ', "certification.submitted"),
]


@pytest.mark.parametrize(("reason", "body"), [(r, b) for r, b, _ in INVALID],
                         ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(INVALID)])
async def test_publisher_refuses_invalid_events_before_sending(
        bus: Bus, settings: Settings, reason: str, body: bytes) -> None:
    async with Publisher.connect(str(settings.amqp_url)) as publisher:
        outcome = await publisher.publish(body)
    assert (outcome.published, outcome.reason) == (False, reason)
    assert outcome.detail
    for queue in (topology.domain_queue("settlement"), topology.domain_queue("certification"),
                  topology.UNROUTABLE):
        assert await bus.depth(queue) == 0


async def test_publisher_refuses_an_unknown_type_that_the_broker_would_keep_unroutable(
        bus: Bus, settings: Settings) -> None:
    e = event("loyalty.points_awarded", {"points": 5})
    async with Publisher.connect(str(settings.amqp_url)) as publisher:
        outcome = await publisher.publish(e)
    assert (outcome.published, outcome.reason, outcome.event_id, outcome.type) == (
        False, "event_type_unknown", e["id"], "loyalty.points_awarded")
    assert await bus.depth(topology.UNROUTABLE) == 0


async def test_refusal_reasons_are_the_ones_the_worker_gives(bus: Bus, settings: Settings
                                                             ) -> None:
    async with Publisher.connect(str(settings.amqp_url)) as publisher:
        local = {body: publisher.check(body) for _, body, _ in INVALID}
    for _, body, key in INVALID:  # sent anyway, around the publisher
        await bus.publish_raw(body, key)
    await run_worker_burst(settings, ["certification", "settlement"])
    dead = [*await bus.take_all(topology.dlq_name("certification")),
            *await bus.take_all(topology.dlq_name("settlement"))]
    by_worker = {bytes(m.body): str((m.headers or {})["x-haodian-reason"]) for m in dead}
    assert by_worker == {body: refusal.reason for body, refusal in local.items() if refusal}
    assert len(by_worker) == len(INVALID)


async def test_publisher_publishes_valid_events_with_confirms(bus: Bus, settings: Settings
                                                              ) -> None:
    async with Publisher.connect(str(settings.amqp_url)) as publisher:
        outcomes = await publisher.publish_many(VALID)
    assert [(o.published, o.event_id, o.type) for o in outcomes] == [
        (True, e["id"], e["type"]) for e in VALID]
    assert await bus.depth(topology.domain_queue("settlement")) == 1
    assert await bus.depth(topology.domain_queue("certification")) == 1
    await run_worker_burst(settings, ["certification", "settlement"])
    results = await bus.wait_results(2)
    assert sorted(r["type"] for r in results) == ["certification.pending_review",
                                                  "settlement.scheduled"]


def ndjson(*lines: bytes) -> bytes:
    return b"\n".join(lines) + b"\n"


def refused_rows(output: str) -> list[tuple[str, str]]:
    """(line, reason) of each row of the `refused` table."""
    rows = []
    for text in output.splitlines():
        cells = [c.strip() for c in text.split("│")]
        if len(cells) == 7 and cells[1].isdigit():
            rows.append((cells[1], cells[4]))
    return rows


async def test_cli_publishes_a_mixed_file_and_exits_1_with_the_refusals(
        bus: Bus, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(ndjson(
        orjson.dumps(VALID[0]),
        orjson.dumps(order(order_id="o-2", amount_fen=12.5)),
        b"",
        b"{oops",
        orjson.dumps(VALID[1]),
        orjson.dumps(event("certification.revoked", {"x": 1}))))
    result = await cli(settings, "publish", str(path))
    assert result.exit_code == 1, result.output
    assert "published 2, refused 3" in result.stdout
    assert refused_rows(result.stdout) == [("2", "money_not_integer"),
                                           ("4", "malformed_json"),
                                           ("6", "event_type_unknown")]
    assert await bus.depth(topology.domain_queue("settlement")) == 1
    assert await bus.depth(topology.domain_queue("certification")) == 1


async def test_cli_exits_0_when_every_line_is_published(bus: Bus, settings: Settings,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "events.ndjson"
    path.write_bytes(ndjson(*(orjson.dumps(e) for e in VALID)))
    result = await cli(settings, "publish", str(path))
    assert result.exit_code == 0, result.output
    assert "published 2, refused 0" in result.stdout
    assert refused_rows(result.stdout) == []


async def test_cli_reads_stdin_for_dash(bus: Bus, settings: Settings) -> None:
    result = await cli(settings, "publish", "-",
                       stdin=ndjson(orjson.dumps(VALID[0]), orjson.dumps(order(amount_fen=1.5))))
    assert result.exit_code == 1, result.output
    assert "published 1, refused 1" in result.stdout
    assert refused_rows(result.stdout) == [("2", "money_not_integer")]
    assert await bus.depth(topology.domain_queue("settlement")) == 1
