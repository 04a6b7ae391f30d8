"""docs/reason-codes.md is current, and every reason code is documented once, one way."""

import ast
import importlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from workers.contract import reason_docs

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "reason-codes.md"
# Calls whose first argument is a reason code: handler errors, the runtime's rejections.
REASON_CALLS = {"PermanentError", "TransientError", "HaodianError", "reject", "Rejected"}


def documented() -> set[str]:
    return {code for _, table in reason_docs.sources() for code in table}


def test_reason_codes_doc_is_current() -> None:
    assert DOC.read_text() == reason_docs.render(), (
        f"docs/reason-codes.md is stale; regenerate it with `{reason_docs.REGENERATE}`")


def test_no_code_has_two_meanings() -> None:
    assert reason_docs.conflicts() == {}, (
        "a reason code means different things to different owners; rename one of them")


def test_codes_are_snake_case_and_described() -> None:
    for owner, table in reason_docs.sources():
        for code, description in table.items():
            assert re.fullmatch(r"[a-z][a-z0-9_]*", code), (owner, code)
            assert description.strip(), (owner, code)


def _raised_codes() -> Iterator[tuple[str, int, str]]:
    """(file, line, code) of every literal reason code passed to REASON_CALLS, resolving
    module-level constants such as ORDER_UNKNOWN."""
    for path in sorted([*(ROOT / "handlers").rglob("*.py"), *(ROOT / "workers").rglob("*.py")]):
        tree = ast.parse(path.read_text())
        module = None
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else "")
            if name not in REASON_CALLS:
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield path.name, node.lineno, arg.value
            elif isinstance(arg, ast.Name) and arg.id.isupper():
                dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
                module = module or importlib.import_module(dotted)
                yield path.name, node.lineno, getattr(module, arg.id)


def test_every_code_the_code_raises_is_documented() -> None:
    raised = list(_raised_codes())
    assert len(raised) > 10  # the scan finds the handlers' and the runtime's codes
    missing = [(f, line, code) for f, line, code in raised if code not in documented()]
    assert missing == [], "add these codes to the owner's REASONS, then regenerate the doc"


def test_conflicts_and_shared_codes_are_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    tables: list[tuple[str, Mapping[str, str]]] = [
        ("runtime", {"shared": "same words", "clash": "one meaning"}),
        ("settlement", {"shared": "same  words", "clash": "another meaning"}),
    ]
    monkeypatch.setattr(reason_docs, "sources", lambda: tables)
    assert reason_docs.conflicts() == {
        "clash": {"runtime": "one meaning", "settlement": "another meaning"}}
    rendered = reason_docs.render()
    assert "| `shared` | runtime, settlement | same words |" in rendered
    assert rendered.count("| `clash` |") == 2


def test_table_cells_escape_pipes_and_newlines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reason_docs, "sources",
                        lambda: [("runtime", {"odd": "a | b\n  c"})])
    assert "| `odd` | runtime | a \\| b c |" in reason_docs.render()
