"""Deposit events replayed after retention deleted their inbox keys: the payment id and
the request id catch them; a refund request is answered with its recorded decision (the
result already published: same id, same bytes) and moves no money."""

import asyncpg
from harness import Bus, event
from replay_after_retention import answered, assert_no_second_effect, replay_after_prune

from workers.settings import Settings


async def test_replayed_payment_and_refund_move_no_money_twice(bus: Bus, settings: Settings
                                                               ) -> None:
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        await conn.execute(
            "INSERT INTO stores (store_id, account_id, store_type, store_name, "
            "deposit_required_fen, opened_at, event_source, event_id) "
            "VALUES ('s-1', 'acc-1', 'enterprise', '店', 2000000, now(), 'store-admin', 'e-0')")
    finally:
        await conn.close()
    payment = event("deposit.paid", {"payment_id": "pay-1", "store_id": "s-1",
                                     "amount_fen": 5_000_000, "plan": "legacy_mall"},
                    source="payment-service", time="2021-08-03T10:00:00+08:00")
    request = event("deposit.refund_requested", {"request_id": "req-1", "store_id": "s-1",
                                                 "reason": "plan_migration"},
                    source="store-admin", time="2021-08-10T10:00:00+08:00")
    replay = await replay_after_prune(bus, settings, [[payment], [request]], [payment, request])
    assert answered(replay.earlier_results) == ["deposit.refunded"]
    assert answered(replay.results) == ["deposit.refunded"]
    assert_no_second_effect(replay)
