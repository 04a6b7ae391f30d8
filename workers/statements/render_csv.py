"""The statement as CSV for spreadsheet programs (Excel, WPS, Numbers): UTF-8 with a
byte-order mark (without it Excel reads the Chinese labels as GBK mojibake), CRLF line
ends, one table. Every money figure has a fen column (integer, exact) and a yuan column
(text made from fen by integer arithmetic, never a float).

Row kinds, in the first column: `opening` / `closing` (one row per account),
`movement` (the ledger per entry kind and account), one row per line of each section
(`refund`, `settled`, `clawback`, `deposit_paid`, `deposit_refund`), `total`,
`check` (the reconciliation: `amount` is the lines' figure, `expected` the ledger's or
C(total net)) and `status`. An identifier that a spreadsheet would take for a formula
(leading =, +, -, @) is written with a leading apostrophe."""

import csv
from datetime import datetime
from typing import TextIO

from workers.statements import labels
from workers.statements.labels import ACCOUNTS, COLUMNS, ENTRY_KINDS, both
from workers.statements.model import (
    ACCOUNT_KINDS,
    Balances,
    Check,
    Header,
    Line,
    Settled,
    Totals,
    status,
    yuan,
)

BOM = "\ufeff"
# The settled section's columns lead MONEY_COLUMNS, in order (the fast path relies on it).
assert tuple(COLUMNS)[:9] == labels.SECTIONS[Settled].columns
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MONEY_COLUMNS = (*COLUMNS, "expected")
LABELS = {**COLUMNS, "expected": ("核对值", "expected")}


def text(cell: str) -> str:
    """An identifier as a spreadsheet must not read it: a leading =, +, -, @ would make it
    a formula (CSV injection), so such a cell starts with an apostrophe."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def header_row() -> list[str]:
    cells = ["类型 row", "店铺 store", "月份 month", *(both(c) for c in labels.REF_COLUMNS),
             "项目 item"]
    for key in MONEY_COLUMNS:
        zh, en = LABELS[key]
        cells += [f"{zh}（分） {en} fen", f"{zh}（元） {en} yuan"]
    return cells


class CsvRenderer:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.writer = csv.writer(out, lineterminator="\r\n")
        self.store = ""
        self.month = ""
        self.header: Header | None = None

    def _money(self, fen: dict[str, int | None]) -> list[str]:
        cells: list[str] = []
        for key in MONEY_COLUMNS:
            value = fen.get(key)
            cells += ["", ""] if value is None else [str(value), yuan(value)]
        return cells

    def _row(self, kind: str, item: str, fen: dict[str, int | None], booked_at: str = "",
             store_month: str = "", order_id: str = "", ref: str = "", detail: str = "") -> None:
        self.writer.writerow([kind, text(self.store), self.month, booked_at, store_month,
                              text(order_id), text(ref), text(detail), item,
                              *self._money(fen)])

    def _balances(self, kind: str, b: Balances) -> None:
        for account in ACCOUNT_KINDS:
            self._row(kind, both(ACCOUNTS[account]), {"amount": getattr(b, f"{account}_fen")})
        self._row(kind, "欠款 debt", {"amount": b.debt_fen})

    def begin(self, header: Header) -> None:
        self.header = header
        self.store, self.month = header.store_id, header.month
        section = labels.SECTIONS[Settled]
        self._settled_prefix = ("settled", text(self.store), self.month,
                                both((section.zh, section.en)))
        self._settled_tail = [""] * (2 * (len(MONEY_COLUMNS) - len(section.columns)))
        self._at: datetime | None = None
        self._at_text = ""
        self.out.write(BOM)
        self.writer.writerow(header_row())
        self._balances("opening", header.opening)
        for kind, account, count, fen in labels.movement_rows(header):
            self._row("movement", f"{both(ENTRY_KINDS.get(kind, (kind, kind)))} / "
                      f"{both(ACCOUNTS[account])}", {"amount": fen}, detail=f"{count} lines")

    def line(self, line: Line) -> None:
        if type(line) is Settled:  # the bulk of a big month: straight to the cells
            if line.booked_at != self._at:
                self._at, self._at_text = line.booked_at, labels.when(line.booked_at)
            cells = [*self._settled_prefix[:3], self._at_text, line.month, text(line.order_id),
                     "", "", self._settled_prefix[3]]
            for fen in (line.gross_fen, line.refunded_fen, line.net_fen, line.before_fen,
                        line.after_fen, line.commission_fen, line.payout_fen,
                        line.debt_offset_fen, line.transferred_fen):
                if fen is None:
                    cells += ("", "")
                else:
                    cells += (str(fen), yuan(fen))
            cells += self._settled_tail
            self.writer.writerow(cells)
            return
        r = labels.row(line)
        self._row(r.section.key, both((r.section.zh, r.section.en)), r.fen, r.booked_at,
                  r.store_month, r.order_id, r.ref, r.detail)

    def end(self, totals: Totals, checks: list[Check]) -> None:
        header = self.header
        assert header is not None
        t = totals
        for item, fen in labels.total_rows(header, t):
            self._row("total", item, {"amount": fen})
        for month, fen in sorted(t.by_month.items()):
            self._row("total", "技术服务费（按结算月） commission by store-month", {"amount": fen},
                      store_month=month)
        sm = header.store_month
        self._row("check", f"结算月佣金 = C(净额合计) store-month commission = C(total net "
                  f"{sm.net_fen})", {"amount": sm.commission_fen,
                                     "expected": sm.expected_commission_fen},
                  store_month=sm.month, detail="ok" if sm.ok else "MISMATCH")
        for c in checks:
            self._row("check", c.name, {"amount": c.lines_fen, "expected": c.ledger_fen},
                      detail="ok" if c.ok else "MISMATCH")
        self._balances("closing", header.closing)
        self._row("status", status(checks), {})
