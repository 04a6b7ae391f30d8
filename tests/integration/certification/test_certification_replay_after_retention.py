"""Certification events replayed after retention deleted their inbox keys: the
application's own id catches them (no second effect, no new result)."""

from typing import Any

from harness import Bus, event
from replay_after_retention import answered, assert_no_second_effect, replay_after_prune

from workers.settings import Settings

SUBMITTED_AT = "2021-08-03T10:15:00+08:00"
ENTERPRISE = {"company_name": "好店科技有限公司", "uscc": "91350100M000100Y43",
              "license_valid_until": None, "operator_name": "张三",
              "operator_id_number": "11010519491231002X"}


def submitted(application_id: str, track: str, docs: dict[str, Any]) -> dict[str, Any]:
    return event("certification.submitted", {
        "application_id": application_id, "account_id": f"acc-{application_id}",
        "account_name": "好店", "track": track, track: docs},
        source="account-service", time=SUBMITTED_AT)


async def test_replayed_submission_approves_nothing_twice(bus: Bus, settings: Settings) -> None:
    sub = submitted("app-interest", "interest", {"field": "tea"})
    replay = await replay_after_prune(bus, settings, [[sub]], [sub])
    assert answered(replay.earlier_results) == ["certification.approved"]
    assert replay.results == []
    assert_no_second_effect(replay)


async def test_replayed_submission_and_review_decide_nothing_twice(bus: Bus, settings: Settings
                                                                   ) -> None:
    sub = submitted("app-ent", "enterprise", ENTERPRISE)
    review = event("certification.reviewed", {
        "application_id": "app-ent", "decision": "approved", "reasons": [],
        "reviewer": "auditor-1"}, source="audit-service", time="2021-08-04T10:00:00+08:00")
    replay = await replay_after_prune(bus, settings, [[sub], [review]], [sub, review])
    assert answered(replay.earlier_results) == [
        "certification.approved", "certification.pending_review"]
    assert replay.results == []
    assert_no_second_effect(replay)
