"""The worker's HTTP routes, without a socket."""

import orjson
from prometheus_client import CollectorRegistry, Counter

from workers.runtime.health import route


def _split(response: bytes) -> tuple[int, bytes]:
    head, body = response.split(b"\r\n\r\n", 1)
    return int(head.split()[1]), body


def test_readyz_is_503_when_any_check_fails() -> None:
    status, body = _split(route("GET", "/readyz", lambda: {"broker_connected": True,
                                                            "database_reachable": False}))
    assert status == 503
    assert orjson.loads(body) == {"ready": False, "checks": {"broker_connected": True,
                                                             "database_reachable": False}}


def test_readyz_is_200_when_every_check_passes() -> None:
    assert _split(route("GET", "/readyz", lambda: {"a": True, "b": True}))[0] == 200


def test_metrics_serve_the_registry() -> None:
    registry = CollectorRegistry()
    Counter("demo_total", "a demo", registry=registry).inc(3)
    status, body = _split(route("GET", "/metrics?x=1", dict, registry))
    assert status == 200 and b"demo_total 3.0" in body


def test_unknown_paths_and_methods_are_refused() -> None:
    assert _split(route("GET", "/nope", dict))[0] == 404
    assert _split(route("POST", "/healthz", dict))[0] == 405
    assert _split(route("GET", "/healthz", dict))[0] == 200
