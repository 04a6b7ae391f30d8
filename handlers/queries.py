"""Named SQL blocks loaded once from sql/queries/<domain>.sql.

A file holds blocks like

    -- get_order --
    -- One order by id, locked for the settlement that reads it.
    SELECT ... ;

The first comment line names the block, the next comment lines describe it, and the
SQL runs until the next name line."""

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
_NAME_LINE = re.compile(r"^--\s*([a-z_][a-z0-9_]*)\s*--\s*$")


class Queries:
    """Attribute access to a file's named blocks; an unknown name is an AttributeError."""

    def __init__(self, blocks: dict[str, str], origin: str) -> None:
        self._blocks = blocks
        self._origin = origin

    def __getattr__(self, name: str) -> str:
        try:
            return self._blocks[name]
        except KeyError:
            raise AttributeError(f"no query {name!r} in {self._origin}") from None

    def names(self) -> list[str]:
        return sorted(self._blocks)


def parse_blocks(text: str, origin: str = "<string>") -> dict[str, str]:
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        match = _NAME_LINE.match(line.strip())
        if match:
            name = match.group(1)
            if name in blocks:
                raise ValueError(f"duplicate query {name!r} in {origin}")
            current = blocks[name] = []
        elif current is not None and not (not current and line.strip().startswith("--")):
            current.append(line)
    return {name: "\n".join(lines).strip() for name, lines in blocks.items()}


@cache
def load_queries(domain: str) -> Queries:
    path = SQL_DIR / "queries" / f"{domain}.sql"
    return Queries(parse_blocks(path.read_text(encoding="utf-8"), str(path)), str(path))
