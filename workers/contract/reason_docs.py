"""docs/reason-codes.md, rendered from the runtime's and every domain's REASONS table."""

from collections.abc import Mapping

from workers import reasons
from workers.registry import DOMAIN_NAMES, load_domain

REGENERATE = "python -m workers.contract.reason_docs > docs/reason-codes.md"

_PREAMBLE = f"""\
# Reason codes

Generated from `workers/reasons.py` (owner `runtime`) and each domain's
`handlers/<domain>/reasons.py`; do not edit by hand. Regenerate with
`{REGENERATE}` (a unit test fails while this file is stale).

Codes are stable snake_case strings. They appear in the `reasons` of business
rejections (`certification.rejected`, `store.rejected`, `product.rejected`,
`deposit.refund_rejected`, …), as flags (`certification.pending_review`,
`product.flagged`), in `event.rejected` results, in the `x-haodian-reason` header of
dead letters (`haodian dlq list --reason CODE`), and in the publisher's refusals.
A rejection by a human reviewer or the third-party audit carries that reviewer's own
codes, which are not listed here.
"""


def sources() -> list[tuple[str, Mapping[str, str]]]:
    """(owner, its REASONS), the runtime first, then the domains in registry order."""
    return [("runtime", reasons.REASONS),
            *((name, load_domain(name).reasons) for name in DOMAIN_NAMES)]


def conflicts() -> dict[str, dict[str, str]]:
    """Codes that two owners describe differently (beyond spacing): code -> {owner:
    description}."""
    seen: dict[str, dict[str, str]] = {}
    for owner, table in sources():
        for code, description in table.items():
            seen.setdefault(code, {})[owner] = description
    return {code: by_owner for code, by_owner in seen.items()
            if len({_cell(d) for d in by_owner.values()}) > 1}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render() -> str:
    """One Markdown table of every code, sorted by code; a code two owners share with the
    same meaning is one row naming both."""
    rows: dict[tuple[str, str], list[str]] = {}
    for owner, table in sources():
        for code, description in table.items():
            rows.setdefault((code, _cell(description)), []).append(owner)
    lines = [_PREAMBLE, "| code | owner | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{code}` | {', '.join(owners)} | {description} |"
              for (code, description), owners in sorted(rows.items())]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
