"""`haodian status --json` against a queue holding a known number of messages, with the
management API and with AMQP alone."""

import asyncio
import sys
from pathlib import Path
from typing import Any

import aio_pika
import orjson
import pytest
from harness import Bus, settings_env
from ops_helpers import applications, free_port, wait_until

from workers import topology
from workers.ops import queues
from workers.settings import Settings

READY, HELD, DEAD = 137, 10, 3


async def status_json(settings: Settings, management_url: str) -> dict[str, Any]:
    env = settings_env(settings) | {"HAODIAN_MANAGEMENT_URL": management_url}
    haodian = str(Path(sys.executable).parent / "haodian")
    proc = await asyncio.create_subprocess_exec(
        haodian, "status", "--json", "--domain", "certification", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, errors = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, errors.decode()
    report: dict[str, Any] = orjson.loads(out)
    return report


@pytest.fixture
async def known_queue(bus: Bus, settings: Settings) -> Any:
    """READY + HELD applications in the queue, HELD of them held unacked by a consumer
    that never acks, and DEAD messages in the DLQ."""
    await bus.publish(*applications(READY + HELD, "status"))
    dlx = await bus.channel.get_exchange(topology.DLX)
    for i in range(DEAD):
        await dlx.publish(aio_pika.Message(b"{}", headers={"x-haodian-reason": "test"},
                                           message_id=str(i)), routing_key="certification")
    connection = await aio_pika.connect(str(settings.amqp_url))
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=HELD)
    queue = await channel.get_queue(topology.domain_queue("certification"))
    held: list[aio_pika.abc.AbstractIncomingMessage] = []
    got_all = asyncio.Event()

    async def hold(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        held.append(message)
        if len(held) == HELD:
            got_all.set()

    await queue.consume(hold)
    await asyncio.wait_for(got_all.wait(), 10)
    yield
    await connection.close()


def assert_figures(d: dict[str, Any]) -> None:
    assert d["name"] == "haodian.certification"
    assert d["ready"] == READY
    assert d["consumers"] == 1
    assert d["dlq"] == DEAD
    assert d["retry"] == 0


async def test_status_json_from_the_management_api(settings: Settings, management: str,
                                                   known_queue: None) -> None:
    last: dict[str, Any] = {}

    async def settled() -> bool:  # the API's statistics lag by up to 5 s
        nonlocal last
        last = await status_json(settings, management)
        d = last["domains"]["certification"]
        return d["ready"] == READY and d["unacked"] == HELD and d["dlq"] == DEAD

    await wait_until(settled, 30, "the management figures", every_s=0.5)
    assert last["source"] == "management"
    d = last["domains"]["certification"]
    assert_figures(d)
    assert d["unacked"] == HELD
    assert d["publish_rate"] is not None and d["ack_rate"] is not None


async def test_status_json_falls_back_to_amqp_without_the_management_api(
        settings: Settings, known_queue: None) -> None:
    closed = f"http://guest:guest@127.0.0.1:{free_port()}"
    report = await status_json(settings, closed)
    assert report["source"] == "amqp"
    assert "management API unavailable" in report["source_note"]
    d = report["domains"]["certification"]
    assert_figures(d)
    assert d["unacked"] is None and d["publish_rate"] is None


async def test_management_snapshot_shows_a_dead_letter_at_once(
        bus: Bus, settings: Settings, management: str) -> None:
    """The API's counts lag by its 5 s statistics interval; the live AMQP counts do not,
    so a message dead-lettered a moment ago is already in the figure."""
    dlq = topology.dlq_name("certification")
    await wait_until(lambda: _listed(settings, management, dlq), 30, "the API to list the DLQ",
                     every_s=0.5)
    dlx = await bus.channel.get_exchange(topology.DLX)
    await dlx.publish(aio_pika.Message(b"{}", message_id="late"), routing_key="certification")
    snap = await queues.snapshot(str(settings.amqp_url), management, [dlq])
    assert snap.source == "management"
    assert snap.queues[dlq].ready == 1


async def _listed(settings: Settings, management: str, name: str) -> bool:
    try:
        await queues.from_management(management, queues.vhost_of(str(settings.amqp_url)),
                                     [name], 2.0)
    except LookupError:
        return False
    return True
