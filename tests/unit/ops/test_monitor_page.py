"""The dashboard page without servers: rates labelled with their windows, the history
embedded inertly, the colours readable (WCAG AA)."""

import re
from typing import Any

import orjson
import pytest
from test_rate_windows import REPORT

from workers.ops.monitor import assets, page


def test_page_labels_rates_and_embeds_the_history_inertly() -> None:
    history = {"t": [1.0], "series": {"ready": {"label": "</script><script>alert(1)//",
                                                "unit": "messages"}}}
    html = page.page(REPORT, {}, _business(), assets.CSS, history)
    assert "ack/s (5 s)" in html and "committed/s (5 min)" in html
    assert 'id="chart-settlement-messages"' in html and 'id="chart-settlement-rates"' in html
    block = re.search(r'<script type="application/json" id="history-data">(.*?)</script>',
                      html, re.S)
    assert block is not None and "<" not in block[1]
    assert orjson.loads(block[1]) == history, "the JSON reads back as it was"
    assert html.count("<script") == 2, "the embedded label opened no script"


def _business() -> dict[str, Any]:
    return {"applications": [], "overdue_reviews": [], "overdue_review_count": 0,
            "products": [], "settlement": {}, "settlements_per_day": [],
            "buyers_gmv_per_day": [], "deposit_refunds": {}}


# ---- contrast (WCAG 2.x: relative luminance, AA needs 4.5:1 for text) ---------------------

def css_rules(css: str) -> dict[str, dict[str, str]]:
    """selector -> {property: value}, from the flat stylesheet of assets.py."""
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        props = dict(p.split(":", 1) for p in body.split(";") if ":" in p)
        for sel in selectors.split(","):
            rules.setdefault(" ".join(sel.split()), {}).update(
                {k.strip(): v.strip() for k, v in props.items()})
    return rules


def luminance(color: str) -> float:
    hexa = color.lstrip("#")
    if len(hexa) == 3:
        hexa = "".join(c * 2 for c in hexa)
    channels = [int(hexa[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: str) -> float:
    hi, lo = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_contrast_formula_matches_known_pairs() -> None:
    assert contrast("#000", "#fff") == pytest.approx(21.0)
    assert contrast("#777", "#fff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#6b7280", "#1d2330") < 4.5, "the old header note was unreadable"


def test_header_and_muted_text_meet_wcag_aa() -> None:
    rules = css_rules(assets.CSS)
    header_bg = rules["header"]["background"]
    section_bg = rules["section"]["background"]
    pairs = {"header title": (rules["header"]["color"], header_bg),
             "header note": (rules["header .note"]["color"], header_bg),
             "body text": (rules["body"]["color"], rules["body"]["background"]),
             "muted on a section": (rules[".muted"]["color"], section_bg),
             "muted on the page": (rules[".muted"]["color"], rules["body"]["background"]),
             "alert": (rules[".alert"]["color"], section_bg),
             "figure caption": (rules["figcaption"]["color"], section_bg),
             "chart text": (assets.CHART_TEXT, assets.CHART_BG)}
    low = {name: round(contrast(fg, bg), 2) for name, (fg, bg) in pairs.items()
           if contrast(fg, bg) < 4.5}
    assert low == {}


def test_chart_lines_stand_out_from_the_chart_background() -> None:
    """Non-text graphics need 3:1 (WCAG 1.4.11)."""
    low = {k: round(contrast(c, assets.CHART_BG), 2) for k, c in assets.SERIES_COLORS.items()
           if contrast(c, assets.CHART_BG) < 3.0}
    assert low == {}
