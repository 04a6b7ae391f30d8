"""The command line's consoles: a terminal gets rich's usual width; a pipe or a file gets
every value whole, one line per row, whatever COLUMNS says."""

import io
from decimal import Decimal

import orjson
import pytest
from rich.table import Table

from workers.cli.common import WholeConsole, brief, json_value

LONG = "evt-" + "0123456789" * 30 + "-end"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def table() -> Table:
    out = Table(title="haodian.certification.dlq: 1 message(s)")
    for col in ("#", "event id", "detail"):
        out.add_column(col)
    out.add_row("1", LONG, "data.x: " + "Extra inputs are not permitted; " * 10)
    return out


@pytest.fixture(autouse=True)
def narrow_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


def test_a_pipe_gets_every_value_whole_and_each_row_on_one_line() -> None:
    stream = io.StringIO()
    WholeConsole(file=stream).print(table())
    lines = stream.getvalue().splitlines()
    (row,) = [line for line in lines if LONG in line]
    assert "Extra inputs are not permitted; " * 10 in row
    assert "…" not in stream.getvalue()
    assert len(lines) == 6, stream.getvalue()  # title, top, header, rule, the row, bottom


def test_a_terminal_keeps_its_width() -> None:
    stream = Terminal()
    WholeConsole(file=stream, color_system=None).print(table())
    assert all(len(line) <= 80 for line in stream.getvalue().splitlines())
    assert LONG not in stream.getvalue()


def test_a_rule_outside_a_terminal_is_80_wide() -> None:
    stream = io.StringIO()
    WholeConsole(file=stream).rule("demo")
    (line,) = stream.getvalue().splitlines()
    assert len(line) == 80 and " demo " in line


def test_a_detail_is_cut_visibly_on_a_terminal_only() -> None:
    text = "x" * 100
    assert brief(text, WholeConsole(file=io.StringIO())) == text
    cut = brief(text, WholeConsole(file=Terminal()))
    assert cut == "x" * 79 + "…"
    assert brief("short", WholeConsole(file=Terminal())) == "short"


def test_json_writes_bytes_as_base64_and_whole_decimals_as_ints() -> None:
    doc = {"raw": b"\x00\xff", "sum_fen": Decimal("-70000"), "ratio": Decimal("0.10"),
           "nested": [bytearray(b"ab")]}
    assert orjson.loads(orjson.dumps(doc, default=json_value)) == {
        "raw": {"base64": "AP8="}, "sum_fen": -70000, "ratio": "0.10",
        "nested": [{"base64": "YWI="}]}
    with pytest.raises(TypeError):
        orjson.dumps({"x": object()}, default=json_value)
