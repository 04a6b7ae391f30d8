"""Merchant statements (`haodian statement`, docs/statements.md): one store-month
explained to the fen from the ledger and the rows `haodian ledger verify` checks.

    gather.py   SQL reads in one snapshot; lines streamed through server-side cursors
    model.py    the statement as dataclasses, its totals and reconciliation (pure)
    labels.py   bilingual labels, sections and columns shared by every format
    render_*.py text, CSV (UTF-8 with BOM), HTML (self-contained, printable), JSON
    bulk.py     every store's statement for a month into a directory
"""

from collections.abc import Callable
from typing import TextIO

from workers.statements.gather import Renderer
from workers.statements.render_csv import CsvRenderer
from workers.statements.render_html import HtmlRenderer
from workers.statements.render_json import JsonRenderer
from workers.statements.render_text import TextRenderer

FORMATS: dict[str, tuple[Callable[[TextIO], Renderer], str]] = {
    "text": (TextRenderer, "txt"),
    "csv": (CsvRenderer, "csv"),
    "html": (HtmlRenderer, "html"),
    "json": (JsonRenderer, "json"),
}


def renderer(fmt: str, out: TextIO) -> Renderer:
    try:
        cls, _ = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}") from None
    return cls(out)


def suffix(fmt: str) -> str:
    return FORMATS[fmt][1]
