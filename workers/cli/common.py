"""What every `haodian` command module shares: the consoles (whole values when not
writing to a terminal), settings that fail cleanly (exit 2 with every bad variable named,
one line each), and the uvloop runner."""

import asyncio
import base64
import sys
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any, NoReturn, TypeVar

import orjson
import typer
import uvloop
from pydantic_settings import BaseSettings
from rich.align import AlignMethod
from rich.console import Console, ConsoleDimensions
from rich.rule import Rule
from rich.style import Style
from rich.text import Text

from workers.settings import Settings, SettingsError, load

# Lines written to a pipe or a file are as long as their content (up to this many cells).
UNLIMITED = 1_000_000
RULE_CELLS = 80  # a rule drawn outside a terminal: as wide as a classic terminal


def on_terminal(out: Console) -> bool:
    """Whether the console's stream is a terminal (its own isatty, not rich's guess)."""
    isatty = getattr(out.file, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class WholeConsole(Console):
    """A rich console that never narrows what it writes outside a terminal.

    On a terminal it is rich's console: the terminal's width, tables that wrap and cut.
    Written to a pipe or a file (`haodian dlq list | grep`, `> report.txt`, CI logs), rich
    would take the width of whatever terminal stdin or stderr is attached to, or COLUMNS,
    or 80, and cut every longer value with "…". Here the width is then unlimited instead:
    a table is as wide as its longest value, each row stays one line, every value whole;
    COLUMNS is ignored. Whether it is a terminal is the stream's own isatty(), so
    FORCE_COLOR (colours in a pipe) keeps the whole values. Nothing printed here fills the
    width (no expanding panels or tables, no justified text); rules are drawn
    RULE_CELLS wide."""

    def writes_to_terminal(self) -> bool:
        return on_terminal(self)

    @property
    def size(self) -> ConsoleDimensions:
        measured = super().size
        if self.writes_to_terminal():
            return measured
        return ConsoleDimensions(UNLIMITED, measured.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size

    def rule(self, title: str | Text = "", *, characters: str = "─",
             style: str | Style = "rule.line", align: AlignMethod = "center") -> None:
        if self.writes_to_terminal():
            super().rule(title, characters=characters, style=style, align=align)
        else:
            self.print(Rule(title, characters=characters, style=style, align=align),
                       width=RULE_CELLS)


console = WholeConsole()
err = WholeConsole(stderr=True)


def brief(text: str, out: Console = console, cells: int = 80) -> str:
    """A long free text (a detail) in a table: on a terminal cut to `cells` characters
    with a visible "…"; outside one, whole."""
    if len(text) <= cells or not on_terminal(out):
        return text
    return text[:cells - 1] + "…"


def json_value(value: object) -> object:
    """orjson's default for what JSON lacks: bytes as {"base64": ...}; a decimal as an
    int when it is whole (sums of fen), else as its exact text."""
    if isinstance(value, bytes | bytearray):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def write_json(document: object, *, indent: bool = False) -> None:
    """`--json`: one JSON document on stdout, whole values, no colours, then a newline."""
    option = orjson.OPT_INDENT_2 if indent else 0
    sys.stdout.write(orjson.dumps(document, default=json_value, option=option).decode()
                     + "\n")
T = TypeVar("T")
S = TypeVar("S", bound=BaseSettings)


def settings(**overrides: object) -> Settings:
    """The command's Settings (its options as overrides), or exit 2."""
    problems: list[str] = []
    s = _loaded(Settings, overrides, problems)
    if s is None:
        refuse(problems)
    return s


def settings_and(extra: type[S], **overrides: object) -> tuple[Settings, S]:
    """Settings and one more settings class the command reads (OpsSettings,
    GatewaySettings); every bad variable of both is named before exit 2."""
    problems: list[str] = []
    s = _loaded(Settings, overrides, problems)
    more = _loaded(extra, {}, problems)
    if s is None or more is None:
        refuse(problems)
    return s, more


def _loaded(model: type[S], overrides: dict[str, object], problems: list[str]) -> S | None:
    try:
        return load(model, **overrides)
    except SettingsError as exc:
        problems += exc.problems
        return None


def refuse(problems: list[str]) -> NoReturn:
    """Exit 2 after one plain line per problem (no markup: a message may hold brackets;
    no wrapping: a line stays one line whatever the terminal's width)."""
    err.print("invalid configuration:", style="red", markup=False, highlight=False)
    for line in problems:
        err.print(f"  {line}", style="red", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine on uvloop."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)
