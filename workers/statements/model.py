"""A merchant statement as data, and its arithmetic: pure, integer fen, no I/O.

A statement covers one store and one Asia/Shanghai month [start, end). The header holds
what the ledger says (balances at both boundaries, movements per entry kind); the lines
hold the rows behind those movements (orders, after-sales, deposits). `Totals` adds the
lines up as they stream past and `reconcile` sets each total beside the ledger movement
it must equal. docs/statements.md explains every figure and its source.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from handlers.base import SHANGHAI
from handlers.settlement.rules import compute_month_commission

ACCOUNT_KINDS = ("pending", "available", "deposit")
COMMISSION = "commission"  # the platform's commission account, through the store's entries


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of an Asia/Shanghai month `YYYY-MM` as aware datetimes."""
    year_s, _, month_s = month.partition("-")
    if len(year_s) != 4 or len(month_s) != 2 or not (year_s + month_s).isdigit():
        raise ValueError(f"month must be YYYY-MM, not {month!r}")
    year, number = int(year_s), int(month_s)
    if not 1 <= number <= 12 or year < 1:
        raise ValueError(f"month must be YYYY-MM, not {month!r}")
    start = datetime(year, number, 1, tzinfo=SHANGHAI)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=SHANGHAI)
    return start, end


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, by integer arithmetic: 123456 -> '1234.56'.

    The decimal point is put into the integer's digits (the CSV writes nine of these per
    order, so this is the fast way; `yuan_grouped` is the readable one)."""
    digits = str(-fen if fen < 0 else fen).rjust(3, "0")
    return f"{'-' if fen < 0 else ''}{digits[:-2]}.{digits[-2:]}"


def yuan_grouped(fen: int) -> str:
    """Yuan with thousands separators for people: 123456789 -> '1,234,567.89'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


@dataclass(frozen=True, slots=True)
class Balances:
    """Merchant view (positive = the platform owes the store). `available` below zero is
    the store's debt."""

    pending_fen: int
    available_fen: int
    deposit_fen: int

    @property
    def debt_fen(self) -> int:
        return max(0, -self.available_fen)

    @classmethod
    def from_ledger(cls, debit_positive: Mapping[str, int]) -> "Balances":
        """From debit-positive sums keyed by account kind (pending, available, deposit)."""
        return cls(*(-debit_positive.get(kind, 0) for kind in ACCOUNT_KINDS))


@dataclass(frozen=True, slots=True)
class Movement:
    lines: int
    amount_fen: int  # credit-positive: the merchant's view on store accounts, the platform's
    # earning on `commission`


@dataclass(frozen=True, slots=True)
class StoreMonth:
    """The store-month of the statement's month, to date (what `ledger verify` checks)."""

    month: str
    net_fen: int
    commission_fen: int
    steps: int
    commission_later_fen: int  # booked after the month's end: on later statements
    steps_later: int

    @property
    def expected_commission_fen(self) -> int:
        return compute_month_commission(self.net_fen)

    @property
    def ok(self) -> bool:
        return self.commission_fen == self.expected_commission_fen


@dataclass(frozen=True, slots=True)
class Header:
    store_id: str
    month: str
    start: datetime
    end: datetime
    opening: Balances
    closing: Balances
    # (entry kind, account kind) -> movement; account kind is pending, available, deposit
    # or commission.
    movements: Mapping[tuple[str, str], Movement]
    store_month: StoreMonth
    # Store-months of the settlements and clawbacks booked in the month (the lines' months).
    step_months: tuple[str, ...] = ()

    def moved(self, kind: str, account: str) -> int:
        found = self.movements.get((kind, account))
        return 0 if found is None else found.amount_fen

    def count(self, kind: str, account: str = "pending") -> int:
        found = self.movements.get((kind, account))
        return 0 if found is None else found.lines

    def account_total(self, account: str) -> int:
        return sum(m.amount_fen for (_, a), m in self.movements.items() if a == account)


@dataclass(frozen=True, slots=True)
class Settled:
    booked_at: datetime
    month: str  # the store-month (Asia/Shanghai month of settle_at)
    order_id: str
    before_fen: int | None  # the store-month's cumulative net before / after; None: no entry
    after_fen: int | None
    gross_fen: int
    refunded_fen: int
    net_fen: int
    commission_fen: int
    payout_fen: int
    debt_offset_fen: int
    transferred_fen: int

    @property
    def expected_commission_fen(self) -> int:
        """C(b) − C(a); an order that booked nothing (net 0) pays nothing."""
        if self.before_fen is None or self.after_fen is None:
            return 0
        return compute_month_commission(self.after_fen) - compute_month_commission(self.before_fen)


@dataclass(frozen=True, slots=True)
class Clawback:
    booked_at: datetime
    month: str
    aftersale_id: str
    order_id: str
    before_fen: int
    after_fen: int
    refund_fen: int
    commission_returned_fen: int
    store_debit_fen: int

    @property
    def expected_returned_fen(self) -> int:
        return compute_month_commission(self.before_fen) - compute_month_commission(self.after_fen)


@dataclass(frozen=True, slots=True)
class Refund:
    booked_at: datetime
    aftersale_id: str
    order_id: str
    refund_fen: int


@dataclass(frozen=True, slots=True)
class DepositPayment:
    booked_at: datetime
    payment_id: str
    plan: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class DepositRefund:
    booked_at: datetime
    request_id: str
    reason: str
    outcome: str
    debt_offset_fen: int
    refund_fen: int


Line = Settled | Clawback | Refund | DepositPayment | DepositRefund
SECTION_ORDER: tuple[type, ...] = (Refund, Settled, Clawback, DepositPayment, DepositRefund)


@dataclass(slots=True)
class Totals:
    """The lines added up while they stream past (constant memory)."""

    refunds: int = 0
    refund_fen: int = 0
    settled: int = 0
    gross_fen: int = 0
    refunded_fen: int = 0
    net_fen: int = 0
    commission_fen: int = 0
    payout_fen: int = 0
    debt_offset_fen: int = 0
    transferred_fen: int = 0
    clawbacks: int = 0
    clawback_refund_fen: int = 0
    commission_returned_fen: int = 0
    store_debit_fen: int = 0
    deposit_payments: int = 0
    deposit_paid_fen: int = 0
    deposit_requests: int = 0
    deposit_offset_fen: int = 0
    deposit_refund_fen: int = 0
    commission_mismatches: int = 0  # lines whose commission is not C(b) − C(a)
    by_month: dict[str, int] = field(default_factory=dict)  # commission per store-month

    def add(self, line: Line) -> None:
        if isinstance(line, Settled):
            self.settled += 1
            self.gross_fen += line.gross_fen
            self.refunded_fen += line.refunded_fen
            self.net_fen += line.net_fen
            self.commission_fen += line.commission_fen
            self.payout_fen += line.payout_fen
            self.debt_offset_fen += line.debt_offset_fen
            self.transferred_fen += line.transferred_fen
            self.by_month[line.month] = self.by_month.get(line.month, 0) + line.commission_fen
            self.commission_mismatches += line.commission_fen != line.expected_commission_fen
        elif isinstance(line, Clawback):
            self.clawbacks += 1
            self.clawback_refund_fen += line.refund_fen
            self.commission_returned_fen += line.commission_returned_fen
            self.store_debit_fen += line.store_debit_fen
            self.by_month[line.month] = (
                self.by_month.get(line.month, 0) - line.commission_returned_fen
            )
            self.commission_mismatches += (
                line.commission_returned_fen != line.expected_returned_fen
            )
        elif isinstance(line, Refund):
            self.refunds += 1
            self.refund_fen += line.refund_fen
        elif isinstance(line, DepositPayment):
            self.deposit_payments += 1
            self.deposit_paid_fen += line.amount_fen
        else:
            self.deposit_requests += 1
            self.deposit_offset_fen += line.debt_offset_fen
            self.deposit_refund_fen += line.refund_fen

    @property
    def commission_net_fen(self) -> int:
        """Commission booked on this statement: charged minus returned."""
        return self.commission_fen - self.commission_returned_fen


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    lines_fen: int  # from the statement's lines
    ledger_fen: int  # from the ledger's movements (or C(total net))

    @property
    def ok(self) -> bool:
        return self.lines_fen == self.ledger_fen


Status = Literal["reconciled", "MISMATCH"]


def reconcile(header: Header, totals: Totals) -> list[Check]:
    """Each total of the lines beside the ledger movement it must equal (merchant view on
    store accounts), the balances' roll-forward, and the store-month's commission beside
    C(total net)."""
    h = header
    roll = [
        Check(
            f"closing {kind} = opening + movements",
            getattr(h.opening, f"{kind}_fen") + h.account_total(kind),
            getattr(h.closing, f"{kind}_fen"),
        )
        for kind in ACCOUNT_KINDS
    ]
    return [
        *roll,
        Check("refunds before settlement: pending", -totals.refund_fen,
              h.moved("refund", "pending")),
        Check("settled net: pending", -totals.net_fen, h.moved("settlement", "pending")),
        Check("settled debt offset: available", totals.debt_offset_fen,
              h.moved("settlement", "available")),
        Check("settled commission: platform", totals.commission_fen,
              h.moved("settlement", COMMISSION)),
        Check("clawback store debit: available", -totals.store_debit_fen,
              h.moved("clawback", "available")),
        Check("clawback commission returned: platform", -totals.commission_returned_fen,
              h.moved("clawback", COMMISSION)),
        Check("deposit paid: deposit", totals.deposit_paid_fen, h.moved("deposit_paid", "deposit")),
        Check("deposit debt offset: deposit", -totals.deposit_offset_fen,
              h.moved("deposit_debt_offset", "deposit")),
        Check("deposit debt offset: available", totals.deposit_offset_fen,
              h.moved("deposit_debt_offset", "available")),
        Check("deposit refunded: deposit", -totals.deposit_refund_fen,
              h.moved("deposit_refund", "deposit")),
        Check("lines with commission = C(b) − C(a)", totals.commission_mismatches, 0),
        Check(f"store-month {h.store_month.month} commission = C(total net)",
              h.store_month.commission_fen, h.store_month.expected_commission_fen),
    ]


def status(checks: list[Check]) -> Status:
    return "reconciled" if all(c.ok for c in checks) else "MISMATCH"
