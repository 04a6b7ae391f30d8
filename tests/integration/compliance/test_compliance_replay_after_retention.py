"""Compliance events replayed after retention deleted their inbox keys: the store id, and
the event recorded with every refusal and every product review, catch them."""

from typing import Any

import asyncpg
from harness import Bus, event
from replay_after_retention import answered, assert_no_second_effect, replay_after_prune

from workers.settings import Settings

AT = "2021-08-03T10:15:00+08:00"
ENTERPRISE = {"company_name": "好店科技有限公司", "uscc": "91350100M000100Y43",
              "license_valid_until": None, "operator_name": "张三",
              "operator_id_number": "11010519491231002X"}


def certified_enterprise(account_id: str) -> list[list[dict[str, Any]]]:
    submitted = event("certification.submitted", {
        "application_id": f"app-{account_id}", "account_id": account_id,
        "account_name": "好店", "track": "enterprise", "enterprise": ENTERPRISE},
        source="account-service", time=AT)
    reviewed = event("certification.reviewed", {
        "application_id": f"app-{account_id}", "decision": "approved", "reasons": [],
        "reviewer": "auditor-1"}, source="audit-service", time="2021-08-03T12:00:00+08:00")
    return [[submitted], [reviewed]]


def open_request(store_id: str, account_id: str) -> dict[str, Any]:
    return event("store.open_requested", {
        "store_id": store_id, "account_id": account_id, "store_type": "enterprise",
        "store_name": "阿珍的小店"}, source="store-admin", time="2021-08-04T10:00:00+08:00")


async def test_replayed_store_opening_opens_nothing_twice(bus: Bus, settings: Settings) -> None:
    opening = open_request("s-1", "acc-1")
    replay = await replay_after_prune(bus, settings, [*certified_enterprise("acc-1"), [opening]],
                                      [opening])
    assert "store.opened" in answered(replay.earlier_results)
    assert replay.results == []
    assert_no_second_effect(replay)


async def test_replayed_refused_opening_is_not_refused_twice(bus: Bus, settings: Settings
                                                             ) -> None:
    opening = open_request("s-2", "acc-uncertified")
    replay = await replay_after_prune(bus, settings, [[opening]], [opening])
    assert answered(replay.earlier_results) == ["store.rejected"]
    assert replay.results == []
    assert_no_second_effect(replay)  # one store_rejections row, not two


async def test_replayed_submission_and_review_keep_the_reviewers_decision(
        bus: Bus, settings: Settings) -> None:
    product = event("product.submitted", {
        "product_id": "p-1", "store_id": "s-3", "title": "全网ＮＯ．１纯棉T恤",
        "description": "夏季新款，透气舒适。", "category": "apparel", "price_fen": 9900,
        "qualifications": []}, source="store-admin", time="2021-08-05T10:00:00+08:00")
    review = event("product.reviewed", {
        "product_id": "p-1", "decision": "approved", "reasons": [], "reviewer": "r-7"},
        source="review-desk", time="2021-08-05T13:00:00+08:00")
    stages = [*certified_enterprise("acc-3"), [open_request("s-3", "acc-3")], [product],
              [review]]
    replay = await replay_after_prune(bus, settings, stages, [product, review])
    assert {"product.flagged", "product.approved"} <= set(answered(replay.earlier_results))
    assert replay.results == []
    assert_no_second_effect(replay)  # still listed, one automatic and one human review
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        assert await conn.fetchval("SELECT status FROM products WHERE product_id = 'p-1'") == (
            "listed")
    finally:
        await conn.close()
