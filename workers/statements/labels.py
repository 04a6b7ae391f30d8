"""What every renderer shows: bilingual labels (中文 / English), the sections and their
columns, and each line as a flat row of text and fen. Shared so that text, CSV, HTML and
JSON always say the same thing in the same order."""

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from handlers.base import SHANGHAI
from workers.statements.model import (
    ACCOUNT_KINDS,
    COMMISSION,
    Clawback,
    DepositPayment,
    DepositRefund,
    Header,
    Line,
    Refund,
    Settled,
    Totals,
)

TITLE = ("商家对账单", "Merchant statement")

ACCOUNTS = {
    "pending": ("待结算", "pending"),
    "available": ("可用余额（负数为欠款）", "available (negative = debt)"),
    "deposit": ("保证金", "deposit"),
    COMMISSION: ("平台技术服务费", "platform commission"),
}

ENTRY_KINDS = {
    "order_confirmed": ("确认收货", "orders confirmed"),
    "refund": ("结算前退款", "refunds before settlement"),
    "settlement": ("结算", "settlements"),
    "clawback": ("结算后退款（追回）", "clawbacks"),
    "deposit_paid": ("缴纳保证金", "deposit paid"),
    "deposit_debt_offset": ("保证金抵扣欠款", "debt paid from deposit"),
    "deposit_refund": ("退还保证金", "deposit refunded"),
}


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    zh: str
    en: str
    columns: tuple[str, ...]  # money columns, in fen (keys of COLUMNS)


COLUMNS = {
    "gross": ("订单金额", "gross"),
    "refunded": ("已退款", "refunded"),
    "net": ("净额", "net"),
    "before": ("月累计（前）", "cumulative before"),
    "after": ("月累计（后）", "cumulative after"),
    "commission": ("技术服务费", "commission"),
    "payout": ("应结金额", "payout"),
    "debt_offset": ("抵扣欠款", "debt offset"),
    "transferred": ("实际打款", "transferred"),
    "refund": ("退款", "refund"),
    "returned": ("退还服务费", "commission returned"),
    "debit": ("商家承担", "store debit"),
    "amount": ("金额", "amount"),
    "offset": ("保证金抵扣欠款", "deposit debt offset"),
}

SECTIONS = {
    Refund: Section("refund", "结算前退款", "Refunds before settlement", ("refund",)),
    Settled: Section("settled", "本月结算订单", "Orders settled",
                     ("gross", "refunded", "net", "before", "after", "commission", "payout",
                      "debt_offset", "transferred")),
    Clawback: Section("clawback", "结算后退款（追回）", "Clawbacks",
                      ("refund", "before", "after", "returned", "debit")),
    DepositPayment: Section("deposit_paid", "保证金缴纳", "Deposit payments", ("amount",)),
    DepositRefund: Section("deposit_refund", "保证金退还", "Deposit refunds",
                           ("offset", "refund")),
}

# Header cells of the text columns every line shares.
REF_COLUMNS = (("记账时间", "booked at"), ("结算月", "store-month"), ("订单", "order"),
               ("单号", "reference"), ("说明", "detail"))


@dataclass(frozen=True, slots=True)
class Row:
    section: Section
    booked_at: str
    store_month: str
    order_id: str
    ref: str
    detail: str
    fen: dict[str, int | None]  # column key -> fen (None: not applicable)


def when(at: datetime) -> str:
    """An instant as Asia/Shanghai wall time with its offset, second precision."""
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def row(line: Line) -> Row:
    if isinstance(line, Settled):
        return Row(SECTIONS[Settled], when(line.booked_at), line.month, line.order_id, "", "", {
            "gross": line.gross_fen, "refunded": line.refunded_fen, "net": line.net_fen,
            "before": line.before_fen, "after": line.after_fen,
            "commission": line.commission_fen, "payout": line.payout_fen,
            "debt_offset": line.debt_offset_fen, "transferred": line.transferred_fen})
    if isinstance(line, Clawback):
        return Row(SECTIONS[Clawback], when(line.booked_at), line.month, line.order_id,
                   line.aftersale_id, "", {
                       "refund": line.refund_fen, "before": line.before_fen,
                       "after": line.after_fen, "returned": line.commission_returned_fen,
                       "debit": line.store_debit_fen})
    if isinstance(line, Refund):
        return Row(SECTIONS[Refund], when(line.booked_at), "", line.order_id, line.aftersale_id,
                   "", {"refund": line.refund_fen})
    if isinstance(line, DepositPayment):
        return Row(SECTIONS[DepositPayment], when(line.booked_at), "", "", line.payment_id,
                   line.plan, {"amount": line.amount_fen})
    return Row(SECTIONS[DepositRefund], when(line.booked_at), "", "", line.request_id,
               f"{line.reason}/{line.outcome}",
               {"offset": line.debt_offset_fen, "refund": line.refund_fen})


def period(header: Header) -> str:
    return (f"{when(header.start)} – {when(header.end)} Asia/Shanghai "
            f"(entries booked at or after the first, before the second)")


def movement_rows(header: Header) -> list[tuple[str, str, int, int]]:
    """(entry kind, account kind, lines, credit-positive fen) in a stable order."""
    order = list(ENTRY_KINDS)
    accounts = [*ACCOUNT_KINDS, COMMISSION]
    keys = sorted(header.movements, key=lambda k: (
        order.index(k[0]) if k[0] in order else len(order), k[0],
        accounts.index(k[1]) if k[1] in accounts else len(accounts), k[1]))
    return [(k, a, header.movements[(k, a)].lines, header.movements[(k, a)].amount_fen)
            for k, a in keys]


def total_rows(header: Header, t: Totals) -> list[tuple[str, int]]:
    """The totals block, (label, fen) in order: the same lines in CSV and HTML."""
    return [
        ("确认收货 orders confirmed", header.moved("order_confirmed", "pending")),
        ("结算前退款 refunds before settlement", t.refund_fen),
        ("结算订单净额 net settled", t.net_fen),
        ("技术服务费 commission charged", t.commission_fen),
        ("应结金额 payout", t.payout_fen),
        ("抵扣欠款 debt offset from payouts", t.debt_offset_fen),
        ("实际打款 transferred", t.transferred_fen),
        ("追回退款 clawed back", t.clawback_refund_fen),
        ("退还服务费 commission returned", t.commission_returned_fen),
        ("商家承担 store debit", t.store_debit_fen),
        ("保证金缴纳 deposit paid", t.deposit_paid_fen),
        ("保证金抵扣欠款 debt paid from deposit", t.deposit_offset_fen),
        ("保证金退还 deposit refunded", t.deposit_refund_fen),
        ("本对账单净技术服务费 commission net on this statement", t.commission_net_fen),
    ]


def both(pair: tuple[str, str]) -> str:
    return f"{pair[0]} {pair[1]}"


def width(text: str) -> int:
    """Terminal columns: CJK wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def ljust(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))
