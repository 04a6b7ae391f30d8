"""Untrusted text prints as the characters it holds: no markup, no terminal control."""

from rich.console import Console
from rich.table import Table

from workers.cli.printable import shown

CRAFTED = "[/x] [link=https://evil.example]click[/link] \x1b]0;title\x07\x1b[2J"


def render(text: str) -> str:
    console = Console(width=200, record=True, force_terminal=False)
    table = Table()
    table.add_column("id")
    table.add_row(text)
    console.print(table)
    console.print(text)
    return console.export_text()


def test_markup_and_control_characters_are_shown_literally() -> None:
    out = render(shown(CRAFTED))
    assert out.count("[/x] [link=https://evil.example]click[/link] \\x1b]0;title\\x07\\x1b[2J"
                     ) == 2
    assert "\x1b" not in out and "\x07" not in out


def test_line_breaks_bidi_overrides_and_backslashes() -> None:
    assert shown("a\nb\tc\u202ed") == "a\\nb\\tc\\u202ed"
    assert shown("a\nb", lines=True) == "a\nb"
    assert render(shown("ends with \\")).count("ends with \\") == 2
    assert shown(b"\xff[b]") == "\ufffd\\[b]"
