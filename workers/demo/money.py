"""The demo's story, third part: orders, after-sales, settlement runs, clawbacks, deposit refunds.

"Now" is the first settlement run, 2021-09-06 10:00 Asia/Shanghai: most orders were
confirmed 8-20 days before it (due at T+7), a few in the last days (due only at the
second run a week later). The legacy merchant's month stays under the free 1,000,000 fen,
so its clawback returns no commission and leaves exactly docs/rules.md §3.4's debt of 150,000.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from workers.demo.events import DLQ, INBOX, Answers, Phase, Planned, Store, Story, at, with_
from workers.demo.shops import LEGACY_DEPOSIT_FEN, STANDARD_DEPOSIT_FEN

NOW = at("2021-09-06", "10:00")
CLAWBACKS_OPENED_AT = at("2021-09-06", "14:00")
CLAWBACKS_CLOSED_AT = at("2021-09-07", "11:00")
REFUNDS_AT = at("2021-09-08", "10:00")
SECOND_MIGRATION_AT = at("2021-09-09", "10:00")
SECOND_RUN_AT = at("2021-09-13", "10:00")

AMOUNTS_FEN = (990, 1990, 4990, 9900, 19900, 59900, 129900, 499900)
LEGACY_ORDERS_FEN = (400000, 300000, 200000)  # one month, 900,000 net: no commission
LEGACY_CLAWBACK_FEN = 150000
HOT_SHARE = 0.15  # of the orders go to one flagship store, far above the free 1,000,000


@dataclass(frozen=True)
class Order:
    order_id: str
    store: Store
    amount_fen: int
    confirmed_at: datetime
    due_first_run: bool


class Trade:
    """Orders and money of the stores the first half of the story opened."""

    def __init__(self, story: Story, orders: int) -> None:
        self.story, self.n = story, orders
        self.orders: dict[str, Order] = {}
        self.legacy = story.cast_stores["legacy migration in window"]
        self.hot = story.cast_stores["pilot-era USCC checksum"]
        self.others = [s for s in story.stores.values()
                       if s.store_id not in (self.legacy.store_id, self.hot.store_id)]
        self.held: Order | None = None
        self.refunded: Order | None = None
        self.claim_rejected: Order | None = None
        self.hot_clawed: Order | None = None
        self.legacy_clawed: Order | None = None
        self.refund_fen = 0

    def _order(self, key: str, store: Store, amount_fen: int, confirmed_at: datetime,
               due: bool, label: str = "") -> Planned:
        order = Order(f"{self.story.tag}-{key}", store, amount_fen, confirmed_at, due)
        self.orders[order.order_id] = order
        buyer = f"{self.story.tag}-u{self.story.rng.randrange(max(50, self.n // 3)):05d}"
        return self.story.event("order.confirmed", "order-service", {
            "order_id": order.order_id, "store_id": store.store_id, "buyer_id": buyer,
            "amount_fen": amount_fen, "confirmed_at": confirmed_at.isoformat()},
            confirmed_at, "settlement.scheduled", fields={"amount_fen": amount_fen}, label=label)

    def confirmed(self) -> Phase:
        rng = self.story.rng
        planned = []
        for i in range(self.n):
            store = self.hot if rng.random() < HOT_SHARE else rng.choice(self.others)
            when = NOW - timedelta(days=8, seconds=rng.randrange(12 * 86400))
            planned.append(self._order(f"o{i:05d}", store, rng.choice(AMOUNTS_FEN), when, True))
        for k, amount_fen in enumerate(LEGACY_ORDERS_FEN):
            planned.append(self._order(f"legacy{k}", self.legacy, amount_fen,
                                       NOW - timedelta(days=18 - k), True, "legacy store order"))
        planned.append(self._order("hotbig", self.hot, max(AMOUNTS_FEN), NOW - timedelta(days=10),
                                   True, "big order, refunded after settlement"))
        self.legacy_clawed = self.orders[f"{self.story.tag}-legacy0"]
        self.hot_clawed = self.orders[f"{self.story.tag}-hotbig"]
        for i in range(max(6, self.n // 50)):
            store = self.hot if i % 2 == 0 else rng.choice(self.others)
            when = NOW - timedelta(days=1, seconds=rng.randrange(4 * 86400))
            planned.append(self._order(f"late{i:03d}", store, rng.choice(AMOUNTS_FEN), when,
                                       False, "confirmed too recently for the first run"))
        due = [o for o in self.orders.values() if o.due_first_run and o.store in self.others]
        by_store = {o.store.store_id: o for o in due}  # one order of each of three stores
        self.held, self.refunded, self.claim_rejected = list(by_store.values())[:3]
        self.refund_fen = self.refunded.amount_fen // 3
        return Phase("orders: confirmed receipts", planned)

    def _aftersale(self, key: str, order: Order, event_type: str, time: datetime,
                   expect: str, label: str, refund_fen: int | None = None,
                   **kw: Any) -> Planned:
        data: dict[str, Any] = {"aftersale_id": f"{order.order_id}-as{key}",
                                "order_id": order.order_id}
        if refund_fen is None:
            data["opened_at"] = time.isoformat()
        else:
            data.update(refund_fen=refund_fen, closed_at=time.isoformat())
        return self.story.event(event_type, "aftersale-service", data, time, expect,
                                label=label, **kw)

    def aftersales_opened(self) -> Phase:
        assert self.held and self.refunded and self.claim_rejected
        return Phase("after-sales: claims opened", [
            self._aftersale("1", o, "aftersale.opened", o.confirmed_at + timedelta(days=d),
                            INBOX, label)
            for o, d, label in ((self.held, 2, "open claim holds its order"),
                                (self.refunded, 1, "partial refund before settlement"),
                                (self.claim_rejected, 1, "claim rejected (0 fen)"))])

    def aftersales_closed(self) -> Phase:
        assert self.refunded and self.claim_rejected
        return Phase("after-sales: claims closed", [
            self._aftersale("1", self.refunded, "aftersale.closed",
                            self.refunded.confirmed_at + timedelta(days=3), INBOX,
                            "partial refund before settlement", self.refund_fen),
            self._aftersale("1", self.claim_rejected, "aftersale.closed",
                            self.claim_rejected.confirmed_at + timedelta(days=2), INBOX,
                            "claim rejected (0 fen)", 0)])

    def run(self, key: str, as_of: datetime) -> Phase:
        """A settlement run; it must pay every due order of the story but the held one."""
        assert self.held is not None
        first = key == "1"
        due = {o.order_id for o in self.orders.values()
               if o.due_first_run == first and o is not self.held}
        planned = [self.story.event(
            "settlement.run_requested", "settlement-cron",
            {"run_id": f"{self.story.tag}-run{key}", "as_of": as_of.isoformat()}, as_of,
            "settlement.run_completed", label=f"settlement run {key}",
            answer_types=frozenset({"settlement.run_completed", "event.rejected"}))]
        check = self._check_first_run if first else self._check_second_run
        return Phase(f"settlement: run {key} as of {as_of:%Y-%m-%d %H:%M}", planned,
                     awaited={"settlement.paid": due}, check=check)

    def _paid(self, seen: Answers, order: Order) -> dict[str, Any]:
        result = seen.about("settlement.paid", order.order_id)
        return result["data"] if result else {}

    def _check_first_run(self, seen: Answers) -> list[str]:
        assert self.held and self.refunded
        surprises = []
        if seen.about("settlement.paid", self.held.order_id):
            surprises.append(f"held order {self.held.order_id} was paid despite its open claim")
        paid = self._paid(seen, self.refunded)
        want = {"refunded_fen": self.refund_fen,
                "net_fen": self.refunded.amount_fen - self.refund_fen}
        if {k: paid.get(k) for k in want} != want:
            surprises.append(f"refunded order {self.refunded.order_id}: paid {paid}, want {want}")
        for o in self.orders.values():
            if o.store is self.legacy and self._paid(seen, o).get("commission_fen") != 0:
                surprises.append(f"legacy order {o.order_id} paid commission: "
                                 f"{self._paid(seen, o)}")
        return surprises

    def _check_second_run(self, seen: Answers) -> list[str]:
        """The hot store's clawback debt is paid from its next payouts first."""
        assert self.hot_clawed and self.held
        surprises = []
        if seen.about("settlement.paid", self.held.order_id):
            surprises.append(f"held order {self.held.order_id} was paid despite its open claim")
        claw = seen.about("settlement.clawback", self.hot_clawed.order_id)
        debt = claw["data"]["store_debit_fen"] if claw else 0
        paid = [self._paid(seen, o) for o in self.orders.values()
                if o.store is self.hot and not o.due_first_run]
        offsets = sum(p.get("debt_offset_fen", 0) for p in paid)
        payouts = sum(p.get("payout_fen", 0) for p in paid)
        if offsets != min(debt, payouts):
            surprises.append(f"hot store {self.hot.store_id}: debt {debt}, payouts {payouts}, "
                             f"offsets {offsets} (want {min(debt, payouts)})")
        return surprises

    def clawbacks_opened(self) -> Phase:
        assert self.hot_clawed and self.legacy_clawed
        return Phase("after-sales: claims after settlement", [
            self._aftersale("9", o, "aftersale.opened", CLAWBACKS_OPENED_AT, INBOX, label)
            for o, label in ((self.legacy_clawed, "clawback on the legacy store"),
                             (self.hot_clawed, "clawback above the free 1,000,000"))])

    def clawbacks_closed(self) -> Phase:
        assert self.hot_clawed and self.legacy_clawed
        return Phase("after-sales: refunds after settlement", [
            self._aftersale("9", self.legacy_clawed, "aftersale.closed", CLAWBACKS_CLOSED_AT,
                            "settlement.clawback", "clawback on the legacy store",
                            LEGACY_CLAWBACK_FEN, fields={
                                "refund_fen": LEGACY_CLAWBACK_FEN, "commission_returned_fen": 0,
                                "store_debit_fen": LEGACY_CLAWBACK_FEN}),
            self._aftersale("9", self.hot_clawed, "aftersale.closed", CLAWBACKS_CLOSED_AT,
                            "settlement.clawback", "clawback above the free 1,000,000",
                            self.hot_clawed.amount_fen,
                            fields={"refund_fen": self.hot_clawed.amount_fen})])

    def _refund(self, key: str, store_id: str, reason: str, time: datetime, expect: str,
                label: str, **kw: Any) -> Planned:
        return self.story.event("deposit.refund_requested", "payment-service", {
            "request_id": f"{self.story.tag}-rr{key}", "store_id": store_id, "reason": reason},
            time, expect, label=label, **kw)

    def refund_requests(self) -> Phase:
        assert self.held
        legacy = self.legacy.store_id
        required = STANDARD_DEPOSIT_FEN[self.legacy.store_type]
        unopened = self.story.cast_stores["four pre-check failures"].store_id
        return Phase("deposits: refund requests", [
            self._refund("1", legacy, "plan_migration", REFUNDS_AT, "deposit.refunded",
                         "legacy merchant moves to the standard plan", fields={
                             "balance_fen": LEGACY_DEPOSIT_FEN, "debt_fen": LEGACY_CLAWBACK_FEN,
                             "debt_offset_fen": LEGACY_CLAWBACK_FEN, "required_fen": required,
                             "refund_fen": LEGACY_DEPOSIT_FEN - LEGACY_CLAWBACK_FEN - required}),
            self._refund("2", self.hot.store_id, "plan_migration", REFUNDS_AT,
                         "deposit.refund_rejected", "standard store asks to migrate",
                         reasons=frozenset({"not_legacy_merchant"})),
            self._refund("3", self.held.store.store_id, "store_closed", REFUNDS_AT,
                         "deposit.refund_rejected", "closing with an open claim",
                         reasons=frozenset({"store_has_open_obligations"})),
            self._refund("4", unopened, "store_closed", REFUNDS_AT, "deposit.refund_rejected",
                         "deposit of a store that never opened",
                         reasons=frozenset({"store_unknown"})),
        ])

    def second_migration(self) -> Phase:
        return Phase("deposits: second migration request", [
            self._refund("5", self.legacy.store_id, "plan_migration", SECOND_MIGRATION_AT,
                         "deposit.refund_rejected", "legacy merchant asks again",
                         reasons=frozenset({"no_excess_deposit"}),
                         fields={"balance_fen": STANDARD_DEPOSIT_FEN["enterprise"],
                                 "debt_fen": 0})])

    def broken(self) -> Phase:
        """Messages the publisher would refuse, sent raw: they must end in the DLQs."""
        tag = self.story.tag
        marker = f"{tag}-broken-json"
        truncated = (f'{{"specversion": "1.0", "id": "{marker}", "source": "store-admin", '
                     f'"type": "product.submitted", "data": {{"product_id": "{tag}-px", ')
        float_amount = self.story.event("order.confirmed", "order-service", {
            "order_id": f"{tag}-ofloat", "store_id": self.hot.store_id, "buyer_id": f"{tag}-u0",
            "amount_fen": 1999.5, "confirmed_at": SECOND_RUN_AT.isoformat()}, SECOND_RUN_AT,
            "event.rejected", reasons=frozenset({"money_not_integer"}),
            label="float amount (raw)")
        extra_field = self.story.event("deposit.paid", "payment-service", {
            "payment_id": f"{tag}-pay-coupon", "store_id": self.hot.store_id,
            "amount_fen": 100000, "plan": "standard", "coupon_code": "SUMMER21"},
            SECOND_RUN_AT, "event.rejected", reasons=frozenset({"schema_invalid"}),
            label="unknown field (raw)")
        return Phase("broken messages: straight to the DLQs", [
            Planned(truncated.encode(), "product.submitted", None, "store-admin", DLQ,
                    label="truncated JSON (raw)", dlq_domain="compliance", marker=marker),
            with_(float_amount, body=orjson.dumps(float_amount.body), dlq_domain="settlement"),
            with_(extra_field, body=orjson.dumps(extra_field.body), dlq_domain="deposit"),
        ])
