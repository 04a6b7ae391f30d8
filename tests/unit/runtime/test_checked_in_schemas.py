"""docs/schemas/ is what `haodian schema export` writes now, and no change to it is breaking."""

import json
from pathlib import Path
from typing import Any

import pytest

from workers.contract import schema_compat
from workers.contract.schema_export import KINDS, REGENERATE, export, render, schemas

ROOT = Path(__file__).resolve().parents[3]
CHECKED_IN = ROOT / "docs" / "schemas"
ROLE: dict[str, schema_compat.Role] = {"inputs": "input", "results": "result"}


def checked_in(kind: str) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((CHECKED_IN / kind).glob("*.json"))}


def listing(changes: dict[str, list[schema_compat.Change]], role: schema_compat.Role) -> str:
    return "\n".join(
        f"  [{'breaking' if change.breaking(role) else 'additive'}] {name} {change}"
        for name, found in changes.items() for change in found)


@pytest.mark.parametrize("kind", KINDS)
def test_no_breaking_change_to_the_checked_in_schemas(kind: str) -> None:
    changes = schema_compat.compare_catalogues(checked_in(kind), schemas()[kind])
    broken = schema_compat.breaking(changes, ROLE[kind])
    assert not broken, (
        f"breaking change(s) to {kind} against docs/schemas/{kind}/:\n"
        f"{listing(broken, ROLE[kind])}\n"
        "Within a type only additive changes are allowed (docs/schema-evolution.md): publish "
        "the change as a new type or a new `dataschema` version, keep the old one, and do not "
        "regenerate docs/schemas to make this test pass.")


@pytest.mark.parametrize("kind", KINDS)
def test_checked_in_schemas_are_current(kind: str) -> None:
    current = schemas()[kind]
    files = {p.stem: p.read_text() for p in sorted((CHECKED_IN / kind).glob("*.json"))}
    stale = sorted(name for name in set(files) | set(current)
                   if name not in files or name not in current
                   or files[name] != render(current[name]))
    changes = listing(schema_compat.compare_catalogues(checked_in(kind), current), ROLE[kind])
    assert not stale, (
        f"docs/schemas/{kind} is stale for {stale}; regenerate with `{REGENERATE}`.\n"
        + (f"Changes (additive ones only need the regeneration):\n{changes}" if changes
           else "No change a validator would notice (descriptions or titles only)."))


def test_export_removes_the_files_of_types_that_no_longer_exist(tmp_path: Path) -> None:
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "order.cancelled.json").write_text("{}")
    (tmp_path / "inputs" / "notes.txt").write_text("kept")
    export(tmp_path)
    assert not (tmp_path / "inputs" / "order.cancelled.json").exists()
    assert (tmp_path / "inputs" / "notes.txt").exists()
    assert (tmp_path / "inputs" / "order.confirmed.json").is_file()
