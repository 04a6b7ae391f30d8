"""HAODIAN_AMQP_URL with several nodes: parsed, checked, redacted; single URLs unchanged."""

import socket

import aio_pika
import pytest

from workers import broker
from workers.ops.queues import vhost_of
from workers.settings import SettingsError, load_settings, redact


def test_one_url_is_read_as_before() -> None:
    assert load_settings().amqp_url == "amqp://guest:guest@127.0.0.1:5672/"
    one = load_settings(amqp_url="amqp://u:p@rabbit:5672/v").amqp_url
    assert one == "amqp://u:p@rabbit:5672/v" and broker.node_urls(one) == [one]


def test_several_nodes_are_kept_in_order() -> None:
    s = load_settings(amqp_url="amqp://u:p@r1:5672/v , amqps://u:p@r2:5671/v?cafile=/ca.pem")
    assert broker.node_urls(s.amqp_url) == ["amqp://u:p@r1:5672/v",
                                           "amqps://u:p@r2:5671/v?cafile=/ca.pem"]
    assert broker.first_url(s.amqp_url) == "amqp://u:p@r1:5672/v"
    assert vhost_of(s.amqp_url) == "v"


@pytest.mark.parametrize(("value", "problem"), [
    ("amqp://r1/v,,amqp://r2/v", "node 2: empty"),
    ("amqp://r1/v,", "node 2: empty"),
    ("amqp://r1/v,http://r2/v", "node 2: URL scheme should be 'amqp' or 'amqps'"),
    ("amqp://r1/a,amqp://r2/b", "different vhosts"),
    (" ", "no URL"),
])
def test_a_bad_node_is_named(value: str, problem: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(amqp_url=value)
    (line,) = caught.value.problems
    assert line.startswith("HAODIAN_AMQP_URL: ") and problem in line
    assert "secret" not in line


def test_every_password_is_redacted() -> None:
    text = redact("amqp://u:secret@r1:5672/v,amqps://u:secret@r2:5671/v")
    assert text == "amqp://u:***@r1:5672/v,amqps://u:***@r2:5671/v"
    assert redact("postgresql://u:secret@db:5432/x") == "postgresql://u:***@db:5432/x"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_no_reachable_node_raises_the_last_error() -> None:
    urls = ",".join(f"amqp://guest:guest@127.0.0.1:{_closed_port()}/" for _ in range(2))
    with pytest.raises(aio_pika.exceptions.AMQPConnectionError):
        await broker.connect(urls)
    with pytest.raises(aio_pika.exceptions.AMQPConnectionError):
        await broker.connect_robust(urls)
