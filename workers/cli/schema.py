"""`haodian schema export`: the wire contract's documents."""

from pathlib import Path
from typing import Annotated

import typer

from workers.cli.common import console

schema_app = typer.Typer(no_args_is_help=True, help="Wire contract documents.")


@schema_app.command("export")
def schema_export(directory: Annotated[Path, typer.Argument(help="output folder")]) -> None:
    """Write one JSON Schema per event type (inputs/ and results/)."""
    from workers.contract.schema_export import export

    written = export(directory)
    console.print(f"wrote {len(written)} schema files under {directory}")
