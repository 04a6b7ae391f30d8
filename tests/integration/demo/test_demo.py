"""`haodian demo` end to end on the session's private database and vhost, smaller workload:
the story's figures read back from PostgreSQL, the broken messages in the DLQs, the ledger
verified; and a phase that never gets its answers named in a non-zero exit."""

import io
import re
from typing import Any

import asyncpg
from grafana_business import assert_grafana_business_panels_agree
from rich.console import Console

from workers.demo.report import dlq_depths, gather
from workers.demo.run import new_tag, run_demo
from workers.settings import Settings

PHASES = (
    "certification: applications", "certification: repeat applications",
    "certification: audit answers", "stores: opening requests",
    "deposits: standard plan payments", "products: submissions", "products: human review",
    "orders: confirmed receipts", "after-sales: claims opened", "after-sales: claims closed",
    "settlement: run 1 as of 2021-09-06 10:00", "after-sales: claims after settlement",
    "after-sales: refunds after settlement", "deposits: refund requests",
    "deposits: second migration request", "settlement: run 2 as of 2021-09-13 10:00",
    "broken messages: straight to the DLQs",
)


def recording_console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=160, force_terminal=False, color_system=None), out


async def figures_of(settings: Settings, tag: str) -> dict[str, list[dict[str, Any]]]:
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        return await gather(conn, tag)
    finally:
        await conn.close()


def by_short_id(rows: list[dict[str, Any]], key: str, tag: str) -> dict[str, dict[str, Any]]:
    return {r[key].removeprefix(tag + "-"): r for r in rows}


async def test_demo_tells_the_whole_story_and_verifies(settings: Settings) -> None:
    console, out = recording_console()
    tag = new_tag()

    code = await run_demo(settings, console, orders=300, applications=60, tag=tag)

    text = out.getvalue()
    assert code == 0, text
    assert "demo complete" in text and "surprises: 0" in text
    assert re.search(r"ledger verify: \d+ checks, 0 failed", text), text
    phases_table = text[text.index("Phases"):]
    for name in PHASES:  # every phase ran to its end (a timeout stops the story)
        assert name in phases_table, name

    f = await figures_of(settings, tag)
    apps = {(r["track"], r["status"]): r for r in f["applications"]}
    assert apps[("enterprise", "approved")]["legacy"] == 1  # re-certified free in the window
    assert apps[("enterprise", "approved")]["flagged"] == 1  # pilot-era USCC went to review
    assert apps[("interest", "approved")]["fees_fen"] == 0

    refunds = by_short_id(f["refunds"], "request_id", tag)
    legacy = refunds["rr1"]
    assert legacy["outcome"] == "refunded"
    assert legacy["debt_offset_fen"] == legacy["debt_fen"] == 150_000
    assert legacy["refund_fen"] == legacy["balance_fen"] - legacy["debt_fen"] - 2_000_000
    assert legacy["refund_fen"] == 850_000  # docs/rules.md §3.4's worked example
    assert refunds["rr5"]["reasons"] == ["no_excess_deposit"]
    assert refunds["rr5"]["balance_fen"] == 2_000_000
    assert refunds["rr2"]["reasons"] == ["not_legacy_merchant"]
    assert refunds["rr3"]["reasons"] == ["store_has_open_obligations"]
    assert refunds["rr4"]["reasons"] == ["store_unknown"]

    orders = {(r["run_id"].removeprefix(tag + "-") if r["run_id"] else "held"): r
              for r in f["orders"]}
    assert orders["held"]["n"] == 1 and orders["held"]["held"]
    for run in ("run1", "run2"):
        o = orders[run]
        assert o["net_fen"] == o["gross_fen"] - o["refunded_fen"]
        assert o["payout_fen"] == o["net_fen"] - o["commission_fen"]
        assert o["transferred_fen"] == o["payout_fen"] - o["debt_offset_fen"]
    assert orders["run1"]["n"] == 300 + 3 + 1 - 1  # crowd, legacy store, big one, not the held
    assert orders["run1"]["refunded_fen"] > 0 and orders["run1"]["debt_offset_fen"] == 0
    assert orders["run2"]["debt_offset_fen"] > 0  # the flagship's clawback debt paid first
    assert orders["run1"]["commission_fen"] > 0

    aftersales = by_short_id(f["aftersales"], "aftersale_id", tag)
    legacy_claw = aftersales["legacy0-as9"]
    assert (legacy_claw["kind"], legacy_claw["refund_fen"], legacy_claw["commission_returned_fen"],
            legacy_claw["store_debit_fen"]) == ("clawback", 150_000, 0, 150_000)
    big_claw = aftersales["hotbig-as9"]
    assert big_claw["store_debit_fen"] == big_claw["refund_fen"] - big_claw[
        "commission_returned_fen"]
    # The legacy debt was paid from the deposit; the flagship's from its next payouts, as
    # far as they went.
    debts = {r["store_id"].removeprefix(tag + "-"): r["debt_fen"] for r in f["debts"]}
    assert set(debts) <= {"st-pilot"}
    assert debts.get("st-pilot", 0) == big_claw["store_debit_fen"] - orders["run2"][
        "debt_offset_fen"]

    products = {r["status"]: r["n"] for r in f["products"]}
    assert products["listed"] == 1 and products["rejected"] == 9
    stores = {(r["store_type"], r["status"]): r["n"] for r in f["stores"]}
    assert stores[("personal", "rejected")] == 3

    dlq = {d.domain: d for d in await dlq_depths(str(settings.amqp_url),
                                                 str(settings.database_url), tag)}
    assert dlq["compliance"].run_reasons == {"malformed_json": 1}
    assert dlq["settlement"].run_reasons == {"money_not_integer": 1}
    assert dlq["deposit"].run_reasons == {"schema_invalid": 1}
    assert dlq["certification"].this_run == 0

    # The same story as Grafana's business panels (PostgreSQL data source) tell it.
    await assert_grafana_business_panels_agree(settings)


async def test_demo_names_the_phase_whose_answers_never_come(settings: Settings) -> None:
    console, out = recording_console()

    # No in-process worker and none running on the private vhost: nothing answers.
    code = await run_demo(settings, console, orders=100, applications=20, phase_timeout_s=1,
                          start_worker=False)

    text = out.getvalue()
    assert code == 1
    assert "demo aborted" in text
    assert "phase 'certification: applications' timed out" in text
    assert "20 of 20 events unanswered" in text
