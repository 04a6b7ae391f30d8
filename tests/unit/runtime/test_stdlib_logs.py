"""The libraries' standard-library loggers come out as our JSON lines: same processors,
same masking, exceptions formatted and masked."""

import logging
from collections.abc import Iterator

import orjson
import pytest

from workers import logs

RESIDENT_ID = "110105199003071239"


@pytest.fixture
def routed() -> Iterator[None]:
    """logs.configure() sets the root logger and the libraries' loggers: put them back."""
    names = ("", *logs.LIBRARY_LOGGERS)
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level,
                 logging.getLogger(n).propagate) for n in names}
    yield
    for n, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(n)
        logger.handlers[:], logger.level, logger.propagate = handlers, level, propagate


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_a_library_error_with_a_traceback_is_one_masked_json_line(
        routed: None, capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("info", "json")
    try:
        raise ConnectionError(f"server closed while sending ID{RESIDENT_ID}")
    except ConnectionError:
        logging.getLogger("asyncpg").error("query for %s failed", f"{RESIDENT_ID[:6]} "
                                           f"{RESIDENT_ID[6:14]} {RESIDENT_ID[14:]}",
                                           exc_info=True)
    (line,) = lines(capsys)
    assert line["logger"] == "asyncpg" and line["level"] == "error"
    assert line["event"] == "query for 110*** ******** **39 failed"
    assert str(line["timestamp"]).endswith("Z")
    exception = str(line["exception"])
    assert exception.startswith("Traceback (most recent call last):")
    assert "ConnectionError: server closed while sending ID110*************39" in exception
    assert RESIDENT_ID not in exception


@pytest.mark.parametrize("name", logs.LIBRARY_LOGGERS)
def test_every_library_logger_is_routed_at_the_configured_level(
        name: str, routed: None, capsys: pytest.CaptureFixture[str]) -> None:
    logging.getLogger(name).addHandler(logging.StreamHandler())  # as if it set up its own
    logging.getLogger(name).setLevel(logging.DEBUG)
    logs.configure("warning", "json")
    logging.getLogger(name).info("below the level")
    logging.getLogger(name).warning("connection lost")
    (line,) = lines(capsys)
    assert line == {"event": "connection lost", "logger": name, "level": "warning",
                    "timestamp": line["timestamp"]}


def test_configuring_twice_leaves_one_handler(routed: None,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("info", "json")
    logs.configure("info", "json")
    logging.getLogger("aiormq").warning("once")
    assert [line["event"] for line in lines(capsys)] == ["once"]
