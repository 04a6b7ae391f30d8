"""What every `haodian` command module shares: the consoles and settings that fail
cleanly (exit 2 with the bad variable named)."""

import typer
from rich.console import Console

from workers.settings import Settings, SettingsError, load_settings

console = Console()
err = Console(stderr=True)


def settings(**overrides: object) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
