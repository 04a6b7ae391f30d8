"""`haodian publish` refuses hostile input before sending: exit 1, each line's reason."""

from harness import Bus
from hostile import HOSTILE, dumps, order
from tooling_helpers import cli

from workers import topology
from workers.settings import Settings


async def test_publish_refuses_hostile_lines_and_sends_the_valid_one(
        bus: Bus, settings: Settings) -> None:
    lines = [dumps(e) for _, e, _ in HOSTILE] + [dumps(order(order_id="o-ok"))]
    result = await cli(settings, "publish", "-", stdin=b"\n".join(lines))
    assert result.exit_code == 1, result.output
    assert f"published 1, refused {len(HOSTILE)}" in result.stdout
    for reason in {r for _, _, r in HOSTILE}:
        assert f"{reason}: {sum(r == reason for _, _, r in HOSTILE)}" in result.stdout
    assert await bus.depth(topology.domain_queue("settlement")) == 1
    assert await bus.depth(topology.domain_queue("compliance")) == 0
