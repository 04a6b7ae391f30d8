"""Rules for a batch of submissions: a repeated application id, and the account state a
later submission of the same batch sees."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.certification.rules import (
    AccountState,
    Submission,
    SubmissionDecision,
    check_submission_repeat,
    compute_account_state_after,
    compute_valid_until,
    decide_submission,
)

SH = ZoneInfo("Asia/Shanghai")
AT = datetime(2021, 8, 3, 10, 15, tzinfo=SH)
FRESH = AccountState(has_pending_application=False, certified_until=None)
CERTIFIED = AccountState(has_pending_application=False, certified_until=AT + timedelta(days=10))
UNTIL = compute_valid_until(AT)


def decision(outcome: str) -> SubmissionDecision:
    return {
        "rejected": SubmissionDecision("rejected", ("account_name_invalid",), (), 0, False, None,
                                       None),
        "pending_review": SubmissionDecision("pending_review", (), (), 30000, False,
                                             AT + timedelta(days=3), None),
        "approved": SubmissionDecision("approved", (), (), 0, False, None, UNTIL),
    }[outcome]


@pytest.mark.parametrize(
    ("known", "account_id", "track", "repeat"),
    [
        (None, "acc-1", "interest", "new"),
        (("acc-1", "interest"), "acc-1", "interest", "same"),
        (("acc-1", "interest"), "acc-2", "interest", "conflict"),
        (("acc-1", "interest"), "acc-1", "enterprise", "conflict"),
    ],
)
def test_a_repeated_application_id(
    known: tuple[str, str] | None, account_id: str, track: str, repeat: str
) -> None:
    assert check_submission_repeat(known, account_id, track) == repeat


@pytest.mark.parametrize(
    ("before", "outcome", "after"),
    [
        (FRESH, "rejected", FRESH),
        (FRESH, "pending_review", AccountState(True, None)),
        (FRESH, "approved", AccountState(False, UNTIL)),
        (CERTIFIED, "rejected", CERTIFIED),
        (CERTIFIED, "pending_review", AccountState(True, CERTIFIED.certified_until)),
        (CERTIFIED, "approved", AccountState(False, UNTIL)),  # a renewal replaces the term
    ],
)
def test_state_a_later_submission_of_the_batch_sees(
    before: AccountState, outcome: str, after: AccountState
) -> None:
    assert compute_account_state_after(before, decision(outcome)) == after


def test_a_second_interest_application_in_one_batch_is_already_certified() -> None:
    first = decide_submission(Submission("爱做饭", "interest", AT), FRESH, None)
    state = compute_account_state_after(FRESH, first)
    second = decide_submission(Submission("爱做饭", "interest", AT), state, None)
    assert (first.outcome, second.outcome, second.reasons) == (
        "approved",
        "rejected",
        ("already_certified",),
    )
