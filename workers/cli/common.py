"""What every `haodian` command module shares: the consoles, settings that fail cleanly
(exit 2 with the bad variable named), and the uvloop runner for a command's coroutine."""

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import typer
import uvloop
from rich.console import Console

from workers.settings import OpsSettings, Settings, SettingsError, load_ops_settings, load_settings

console = Console()
err = Console(stderr=True)
T = TypeVar("T")


def settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def ops_settings(**overrides: object) -> OpsSettings:
    try:
        return load_ops_settings(**overrides)
    except SettingsError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine on uvloop."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)
