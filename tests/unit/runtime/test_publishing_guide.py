"""docs/publishing.md tells a publisher every business check: each input type has its
place in "Business checks", and every reason code a domain answers with is named there."""

import importlib
import re
from pathlib import Path

from workers.contract.schema_export import catalogue
from workers.registry import DOMAIN_NAMES

ROOT = Path(__file__).resolve().parents[3]
GUIDE = (ROOT / "docs" / "publishing.md").read_text()


def business_section() -> str:
    found = re.search(r"^## Business checks.*?(?=^## )", GUIDE, re.MULTILINE | re.DOTALL)
    assert found, "docs/publishing.md has no '## Business checks' section"
    return found.group(0)


def test_every_input_type_has_a_business_checks_heading() -> None:
    headings = " ".join(re.findall(r"^### (.*)$", business_section(), re.MULTILINE))
    missing = [t for t in catalogue()[0] if f"`{t}`" not in headings]
    assert missing == []


def test_every_domain_reason_code_is_named_in_the_business_checks() -> None:
    section = business_section()
    codes = {code for name in DOMAIN_NAMES
             for code in importlib.import_module(f"handlers.{name}.reasons").REASONS}
    assert sorted(code for code in codes if f"`{code}`" not in section) == []

