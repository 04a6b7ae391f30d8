"""What every `haodian` command module shares: the consoles, settings that fail cleanly
(exit 2 with every bad variable named, one line each), and the uvloop runner."""

import asyncio
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

import typer
import uvloop
from pydantic_settings import BaseSettings
from rich.console import Console

from workers.settings import Settings, SettingsError, load

console = Console()
err = Console(stderr=True)
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
