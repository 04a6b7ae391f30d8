"""Untrusted text made safe to print on a rich console: markup escaped, control
characters shown as visible escapes (`\\x1b`), so a crafted event id can neither break
a table nor drive the operator's terminal."""

import unicodedata

from rich.markup import escape

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Bidirectional overrides reorder what a terminal shows ("Trojan source").
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _visible(ch: str) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI:
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return ch


def visible(value: object, *, lines: bool = False) -> str:
    """The text with every control character written out (but line breaks, with
    `lines`); no markup escaping."""
    text = (bytes(value).decode("utf-8", "replace") if isinstance(value, bytes | bytearray)
            else str(value))
    if text.isprintable():
        return text
    if lines:
        return "\n".join(visible(line) for line in text.split("\n"))
    return "".join(_visible(ch) for ch in text)


def shown(value: object, *, lines: bool = False) -> str:
    """Text for console.print or a table cell: shows exactly the characters it holds."""
    return escape(visible(value, lines=lines))
