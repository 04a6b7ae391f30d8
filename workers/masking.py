"""Identity numbers in log text, found and masked: standalone, glued to letters, or split.

Two passes. The first masks anything standing alone that has the shape of an identity
or credential number (12-19 digits, an 18-character resident id or USCC). The second
looks inside longer tokens ("ID110105199003071239", "uscc91350100M000100Y43") and across
single spaces or hyphens ("110105 19900307 1239"); there the shape alone would hit order
numbers and hashes, so a candidate is masked only when its check character is right (and,
for a resident id, its region and birth date are real).
"""

import re
from datetime import date

# UUIDs are matched first only to be left alone: their last group can be 12 digits.
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
_ID_LIKE = (r"\d{17}[\dXx]"  # resident id (GB 11643-1999)
            r"|[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}"  # USCC (GB 32100-2015)
            r"|\d{12,19}")  # credential numbers, legacy 15-digit ids, bank cards
# ASCII boundaries, not \b: in "身份证110105…" the digits follow a word character. A
# hyphen joined to a letter or digit glues too: "o-100000000000" is an order id.
_STANDALONE = re.compile(
    rf"(?<![0-9A-Za-z])(?<![0-9A-Za-z]-)(?:(?P<uuid>{_UUID})|(?P<id>{_ID_LIKE}))"
    rf"(?![0-9A-Za-z])(?!-[0-9A-Za-z])")
_UUID_ONLY = re.compile(_UUID)
# Letters and digits joined by single spaces or hyphens: where a glued or split number hides.
_RUN = re.compile(r"[0-9A-Za-z]+(?:[ -][0-9A-Za-z]+)*")
_LENGTH = 18
_MIN_DIGITS = 7  # a USCC: 6-digit region code and at least 1 more (A1000000…); an id: 17
_ENOUGH_DIGITS = re.compile(rf"(?:[^0-9]*[0-9]){{{_MIN_DIGITS}}}")  # the cheap test first

_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_CHECK = "10X98765432"
_PROVINCES = frozenset({11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42,
                        43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
                        83, 91})
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"[1-9ANY][1-9]\d{6}[0-9A-HJ-NPQRTUWXY]{10}")


def resident_check(first17: str) -> str:
    """The check character of a resident id (ISO 7064 MOD 11-2)."""
    total = sum(int(c) * w for c, w in zip(first17, _RESIDENT_WEIGHTS, strict=True))
    return _RESIDENT_CHECK[total % 11]


def uscc_check(first17: str) -> str:
    """The check character of a unified social credit code (MOD 31)."""
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[-total % 31]


def _is_resident_id(s: str) -> bool:
    if not (s[:17].isdigit() and s[17] in "0123456789Xx" and int(s[:2]) in _PROVINCES):
        return False
    try:
        date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return resident_check(s[:17]) == s[17].upper()


def _is_uscc(s: str) -> bool:
    return bool(_USCC_SHAPE.fullmatch(s)) and uscc_check(s[:17]) == s[17]


def _hidden(found: str) -> str:
    return found[:3] + "*" * (len(found) - 5) + found[-2:]


def _mask_standalone(m: re.Match[str]) -> str:
    return m[0] if m["uuid"] else _hidden(m[0])


def _mask_embedded(text: str) -> str:
    """Checked 18-character numbers inside runs; separators stay where they were."""
    chars = list(text)
    guarded = {i for m in _UUID_ONLY.finditer(text) for i in range(m.start(), m.end())}
    for run in _RUN.finditer(text):
        where = [i for i in range(run.start(), run.end()) if text[i] not in " -"]
        compact = "".join(text[i] for i in where)
        if len(compact) < _LENGTH or not _ENOUGH_DIGITS.match(compact):
            continue
        start = 0
        while start + _LENGTH <= len(compact):
            span = where[start:start + _LENGTH]
            if _bounded(text, span) and not guarded.intersection(span):
                candidate = compact[start:start + _LENGTH]
                if _is_resident_id(candidate) or _is_uscc(candidate):
                    for i in span[3:-2]:
                        chars[i] = "*"
                    start += _LENGTH
                    continue
            start += 1
    return "".join(chars)


def _bounded(text: str, span: list[int]) -> bool:
    """Not glued to a digit on either side: a longer number is another number."""
    before, after = span[0] - 1, span[-1] + 1
    return ((before < 0 or not text[before].isdigit())
            and (after >= len(text) or not text[after].isdigit()))


def mask(text: str) -> str:
    """Keep the first 3 and last 2 characters of anything that is, or looks like, an
    identity number."""
    if not _ENOUGH_DIGITS.match(text):
        return text
    return _mask_embedded(_STANDALONE.sub(_mask_standalone, text))
