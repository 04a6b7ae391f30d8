"""§3.3's worked example through the real queue, as a golden statement: the text output
equals tests/integration/statements/golden/worked_example_2021-08.txt to the character
(HAODIAN_UPDATE_GOLDEN=1 rewrites it; read the diff before committing it)."""

import os
from pathlib import Path

from harness import Bus
from statement_helpers import MONTH, STORE, statement, statement_json, worked_example

from workers.settings import Settings

GOLDEN = Path(__file__).parent / "golden"


async def test_the_worked_example_is_the_golden_statement(bus: Bus, settings: Settings) -> None:
    await worked_example(bus, settings)
    text = await statement(settings, STORE, MONTH, "text")
    path = GOLDEN / f"worked_example_{MONTH}.txt"
    if os.environ.get("HAODIAN_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")

    s = await statement_json(settings, STORE, MONTH)
    assert s["status"] == "reconciled"
    settled = [line for line in s["lines"] if line["section"] == "settled"]
    assert [(x["order_id"], x["before_fen"], x["after_fen"], x["commission_fen"],
             x["payout_fen"]) for x in settled] == [
        ("o-1", 0, 800_000, 0, 800_000),
        ("o-2", 800_000, 1_200_000, 10_000, 390_000),
        ("o-3", 1_200_000, 1_200_030, 2, 28)]
    (claw,) = [line for line in s["lines"] if line["section"] == "clawback"]
    assert (claw["before_fen"], claw["after_fen"], claw["commission_returned_fen"],
            claw["store_debit_fen"]) == (1_200_030, 700_030, 10_002, 489_998)
    assert s["totals"]["commission_fen"] == 10_002  # C(1200030), before the clawback
    assert s["store_month"] == {
        "month": MONTH, "net_fen": 700_030, "commission_fen": 0,
        "expected_commission_fen": 0, "steps": 4, "commission_later_fen": 0,
        "steps_later": 0, "ok": True}
    assert s["closing"] == {"pending_fen": 0, "available_fen": -489_998, "deposit_fen": 0,
                            "debt_fen": 489_998}
