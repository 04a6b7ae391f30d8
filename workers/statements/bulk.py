"""`haodian statement --all`: every store's statement for a month into a directory, one
file per store, one store in memory at a time (the store list is read a page at a time,
each statement streamed to its file)."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from workers.statements import renderer, suffix
from workers.statements.gather import stores, write_statement

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def file_name(store_id: str, month: str, fmt: str) -> str:
    """A file name for any store id: unsafe characters become their code point, so two
    ids never share a file."""
    safe = _UNSAFE.sub(lambda m: f"~{ord(m.group()):x}", store_id)
    return f"statement-{safe}-{month}.{suffix(fmt)}"


@dataclass
class Written:
    statements: int = 0
    mismatched: list[str] = field(default_factory=list)


async def count_stores(conn: asyncpg.Connection, month: str) -> int:
    return sum([1 async for _ in stores(conn, month)])


async def write_all(conn: asyncpg.Connection, month: str, fmt: str, directory: Path,
                    on_done: Callable[[str], None] = lambda _: None) -> Written:
    """Statements of every store into `directory` (which must exist)."""
    written = Written()
    # `stores` reads a page with one query and yields it before reading the next, so the
    # statements can use the same connection in between.
    async for store_id in stores(conn, month):
        path = directory / file_name(store_id, month, fmt)
        with path.open("w", encoding="utf-8", newline="") as out:
            checks = await write_statement(conn, store_id, month, renderer(fmt, out))
        written.statements += 1
        if not all(c.ok for c in checks):
            written.mismatched.append(store_id)
        on_done(store_id)
    return written
