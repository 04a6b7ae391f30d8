"""The statement as plain text for a terminal or an e-mail: fixed columns, fen."""

from typing import TextIO

from workers.statements import labels
from workers.statements.labels import ACCOUNTS, ENTRY_KINDS, SECTIONS, both, ljust
from workers.statements.model import (
    ACCOUNT_KINDS,
    Balances,
    Check,
    Header,
    Line,
    Totals,
    status,
    yuan_grouped,
)
from workers.statements.model import (
    SECTION_ORDER as ORDER,
)

MONEY = 14
ID = 18
LABEL = 56
HEADS = {"gross": "gross", "refunded": "refunded", "net": "net", "before": "cum. before",
         "after": "cum. after", "commission": "commission", "payout": "payout",
         "debt_offset": "debt offset", "transferred": "transferred", "refund": "refund",
         "returned": "comm. returned", "debit": "store debit", "amount": "amount",
         "offset": "debt offset"}


def _money(fen: int | None) -> str:
    return ("—" if fen is None else str(fen)).rjust(MONEY)


class TextRenderer:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.next_section = 0  # index in model.SECTIONS of the next section to open
        self.header: Header | None = None

    def _w(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def _balances(self, title: tuple[str, str], b: Balances) -> None:
        self._w(f"{both(title)} (fen; yuan)")
        for kind in ACCOUNT_KINDS:
            fen = getattr(b, f"{kind}_fen")
            self._w(f"  {ljust(both(ACCOUNTS[kind]), LABEL)}{fen:>{MONEY}}  "
                    f"{yuan_grouped(fen):>16}")
        self._w(f"  {ljust('欠款 debt', LABEL)}{b.debt_fen:>{MONEY}}  "
                f"{yuan_grouped(b.debt_fen):>16}")
        self._w()

    def begin(self, header: Header) -> None:
        self.header = header
        self._w(f"{both(labels.TITLE)}")
        self._w(f"店铺 store: {header.store_id}    月份 month: {header.month}")
        self._w(f"期间 period: {labels.period(header)}")
        self._w()
        self._balances(("期初余额", "Opening balances"), header.opening)
        self._w("账户变动 Ledger movements (lines; fen, credit-positive)")
        for kind, account, count, fen in labels.movement_rows(header):
            name = both(ENTRY_KINDS.get(kind, (kind, kind)))
            self._w(f"  {ljust(name, 36)}{ljust(both(ACCOUNTS[account]), 52)}{count:>8}"
                    f"{fen:>{MONEY}}")
        self._w()

    def _close_up_to(self, index: int) -> None:
        """Close the open section; sections skipped before `index` say they are empty."""
        if self.next_section > 0:
            self._w()
        for skipped in range(self.next_section, index):
            section = SECTIONS[ORDER[skipped]]
            self._w(f"{section.zh} {section.en}: 无 none")
            self._w()
        self.next_section = index + 1

    def line(self, line: Line) -> None:
        index = ORDER.index(type(line))
        if index >= self.next_section:
            self._close_up_to(index)
            section = SECTIONS[ORDER[index]]
            self._w(f"{section.zh} {section.en}")
            cells = [f"{c[1]:<{w}}" for c, w in zip(labels.REF_COLUMNS,
                                                    (19, 11, ID, ID, 20), strict=True)]
            cells += [HEADS[c].rjust(MONEY) for c in section.columns]
            self._w("  " + " ".join(cells).rstrip())
        r = labels.row(line)
        cells = [f"{r.booked_at:<19}", f"{r.store_month:<11}", f"{r.order_id:<{ID}}",
                 f"{r.ref:<{ID}}", f"{r.detail:<20}"]
        cells += [_money(r.fen[c]) for c in r.section.columns]
        self._w("  " + " ".join(cells).rstrip())

    def end(self, totals: Totals, checks: list[Check]) -> None:
        header = self.header
        assert header is not None
        self._close_up_to(len(ORDER))
        t = totals
        self._w("合计 Totals (fen)")
        for label, value in (
            (f"确认收货订单 orders confirmed ({header.count('order_confirmed')})",
             header.moved("order_confirmed", "pending")),
            (f"结算前退款 refunds before settlement ({t.refunds})", t.refund_fen),
            (f"结算订单净额 net settled ({t.settled} orders)", t.net_fen),
            ("技术服务费 commission charged", t.commission_fen),
            ("应结金额 payout", t.payout_fen),
            ("抵扣欠款 debt offset from payouts", t.debt_offset_fen),
            ("实际打款 transferred", t.transferred_fen),
            (f"追回退款 clawed back ({t.clawbacks})", t.clawback_refund_fen),
            ("退还服务费 commission returned", t.commission_returned_fen),
            ("商家承担 store debit", t.store_debit_fen),
            (f"保证金缴纳 deposit paid ({t.deposit_payments})", t.deposit_paid_fen),
            (f"保证金抵扣欠款 debt paid from deposit ({t.deposit_requests} requests)",
             t.deposit_offset_fen),
            ("保证金退还 deposit refunded", t.deposit_refund_fen),
            ("本对账单净技术服务费 commission net on this statement", t.commission_net_fen),
        ):
            self._w(f"  {ljust(label, 64)}{value:>{MONEY}}")
        for month, fen in sorted(t.by_month.items()):
            self._w(f"    {ljust(f'结算月 store-month {month}', 62)}{fen:>{MONEY}}")
        self._w()
        sm = header.store_month
        mark = "✓" if sm.ok else "✗"
        self._w("佣金核对 Commission check")
        self._w(f"  结算月 store-month {sm.month}: commission {sm.commission_fen} "
                f"= C({sm.net_fen}) = {sm.expected_commission_fen} {mark}"
                f"  ({sm.steps} steps to date)")
        if sm.steps_later:
            self._w(f"  of which {sm.commission_later_fen} fen in {sm.steps_later} steps booked "
                    f"after {labels.when(header.end)}: on later statements")
        self._w()
        self._w("对账 Reconciliation (lines = ledger)")
        for c in checks:
            self._w(f"  {'✓' if c.ok else '✗'} {ljust(c.name, 56)}{c.lines_fen:>{MONEY}}"
                    f"{c.ledger_fen:>{MONEY}}")
        self._w(f"  {status(checks)}")
        self._w()
        self._balances(("期末余额", "Closing balances"), header.closing)
