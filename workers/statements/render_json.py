"""The statement as one JSON object, written as it streams (lines one at a time): fen as
integers, instants as RFC 3339 in Asia/Shanghai, keys in a fixed order."""

from dataclasses import asdict
from datetime import datetime
from typing import Any, TextIO

import orjson

from handlers.base import SHANGHAI
from workers.statements.labels import SECTIONS, movement_rows
from workers.statements.model import Balances, Check, Header, Line, Totals, status


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _dumps(value: Any) -> str:
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME).decode()


def _balances(b: Balances) -> dict[str, int]:
    return {"pending_fen": b.pending_fen, "available_fen": b.available_fen,
            "deposit_fen": b.deposit_fen, "debt_fen": b.debt_fen}


def line_json(line: Line) -> dict[str, Any]:
    return {"section": SECTIONS[type(line)].key, **asdict(line)}


class JsonRenderer:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.header: Header | None = None
        self.first = True

    def begin(self, header: Header) -> None:
        self.header = header
        sm = header.store_month
        head = {
            "store_id": header.store_id,
            "month": header.month,
            "period": {"start": header.start, "end": header.end},
            "opening": _balances(header.opening),
            "movements": [
                {"entry_kind": kind, "account": account, "lines": count, "amount_fen": fen}
                for kind, account, count, fen in movement_rows(header)
            ],
            "store_month": {"month": sm.month, "net_fen": sm.net_fen,
                            "commission_fen": sm.commission_fen,
                            "expected_commission_fen": sm.expected_commission_fen,
                            "steps": sm.steps, "commission_later_fen": sm.commission_later_fen,
                            "steps_later": sm.steps_later, "ok": sm.ok},
        }
        self.out.write(_dumps(head)[:-1] + ',"lines":[')

    def line(self, line: Line) -> None:
        self.out.write(("\n" if self.first else ",\n") + _dumps(line_json(line)))
        self.first = False

    def end(self, totals: Totals, checks: list[Check]) -> None:
        header = self.header
        assert header is not None
        tail = {
            "orders_confirmed": header.count("order_confirmed"),
            "orders_confirmed_fen": header.moved("order_confirmed", "pending"),
            "totals": asdict(totals),
            "checks": [{"name": c.name, "lines_fen": c.lines_fen, "ledger_fen": c.ledger_fen,
                        "ok": c.ok} for c in checks],
            "status": status(checks),
            "closing": _balances(header.closing),
        }
        self.out.write("\n]," + _dumps(tail)[1:] + "\n")
