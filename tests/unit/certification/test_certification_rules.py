"""Pure certification rules: expiry, renewal, validity, SLA, fees, legacy window, decisions."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.certification import rules
from handlers.certification.reasons import REASONS
from handlers.certification.rules import (
    AccountState,
    EnterpriseDocs,
    LegacyWindow,
    ProfessionalDocs,
    Submission,
)

SH = ZoneInfo("Asia/Shanghai")
AT = datetime(2021, 8, 3, 10, 15, tzinfo=SH)  # a Tuesday
WINDOW = LegacyWindow(date(2021, 8, 1), date(2021, 9, 30))
FRESH = AccountState(has_pending_application=False, certified_until=None)
VALID_USCC = "91350100M000100Y43"
VALID_ID = "11010519491231002X"


def enterprise(**changes: object) -> Submission:
    docs = EnterpriseDocs(uscc=VALID_USCC, license_valid_until=None, operator_id_number=VALID_ID)
    base = Submission(account_name="好店旗下", track="enterprise", submitted_at=AT, enterprise=docs)
    return replace(base, **changes)  # type: ignore[arg-type]


def professional(**changes: object) -> Submission:
    docs = ProfessionalDocs(
        profession="lawyer",
        credential_number="1" * 17,
        credential_valid_until=date(2030, 1, 1),
        holder_id_number=VALID_ID,
    )
    base = Submission(
        account_name="律师张", track="professional", submitted_at=AT, professional=docs
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def interest(**changes: object) -> Submission:
    return replace(Submission(account_name="爱做饭", track="interest", submitted_at=AT), **changes)  # type: ignore[arg-type]


# --- dates: expiry, renewal, validity, SLA --------------------------------------------


@pytest.mark.parametrize(
    ("submitted_at", "valid_until", "long_enough"),
    [
        (AT, None, True),  # long-term
        (AT, date(2021, 11, 3), True),
        (AT, date(2021, 11, 2), False),
        (AT, date(2021, 8, 1), False),  # already expired
        # 16:30Z on 08-02 is already 08-03 in Shanghai.
        (datetime(2021, 8, 2, 16, 30, tzinfo=UTC), date(2021, 11, 2), False),
        (datetime(2021, 8, 2, 15, 59, tzinfo=UTC), date(2021, 11, 2), True),
        # Month ends clamp: 11-30 + 3 months = 02-28.
        (datetime(2021, 11, 30, 9, tzinfo=SH), date(2022, 2, 28), True),
        (datetime(2021, 11, 30, 9, tzinfo=SH), date(2022, 2, 27), False),
    ],
)
def test_document_must_stay_valid_three_months(
    submitted_at: datetime, valid_until: date | None, long_enough: bool
) -> None:
    assert rules.check_document_valid_long_enough(valid_until, submitted_at) is long_enough


@pytest.mark.parametrize(
    ("certified_until", "blocked"),
    [
        (None, False),
        (AT - timedelta(days=1), False),  # lapsed
        (AT + timedelta(days=30), False),  # last 30 days: renewal allowed
        (AT + timedelta(days=30, seconds=1), True),
        (AT + timedelta(days=200), True),
    ],
)
def test_already_certified_leaves_thirty_days_to_renew(
    certified_until: datetime | None, blocked: bool
) -> None:
    assert rules.check_already_certified(certified_until, AT) is blocked


@pytest.mark.parametrize(
    ("approved_at", "valid_until"),
    [
        (AT, datetime(2022, 8, 3, 10, 15, tzinfo=SH)),
        (datetime(2024, 2, 29, 12, tzinfo=SH), datetime(2025, 2, 28, 12, tzinfo=SH)),
        (datetime(2021, 12, 31, 17, tzinfo=UTC), datetime(2023, 1, 1, 1, tzinfo=SH)),
    ],
)
def test_valid_until_is_one_year_after_approval(
    approved_at: datetime, valid_until: datetime
) -> None:
    result = rules.compute_valid_until(approved_at)
    assert result == valid_until
    assert result.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("submitted_at", "due_at"),
    [
        # Monday -> end of Thursday.
        (datetime(2021, 8, 2, 10, tzinfo=SH), datetime(2021, 8, 6, tzinfo=SH)),
        # Wednesday -> Thu, Fri, Mon -> end of Monday.
        (datetime(2021, 8, 4, 23, 59, tzinfo=SH), datetime(2021, 8, 10, tzinfo=SH)),
        # Friday, Saturday and Sunday -> Mon, Tue, Wed -> end of Wednesday.
        (datetime(2021, 8, 6, 9, tzinfo=SH), datetime(2021, 8, 12, tzinfo=SH)),
        (datetime(2021, 8, 7, 9, tzinfo=SH), datetime(2021, 8, 12, tzinfo=SH)),
        (datetime(2021, 8, 8, 23, tzinfo=SH), datetime(2021, 8, 12, tzinfo=SH)),
        # 16:30Z on Friday is already Saturday in Shanghai.
        (datetime(2021, 8, 6, 16, 30, tzinfo=UTC), datetime(2021, 8, 12, tzinfo=SH)),
        # 15:59Z on Thursday is still Thursday: Fri, Mon, Tue.
        (datetime(2021, 8, 5, 15, 59, tzinfo=UTC), datetime(2021, 8, 11, tzinfo=SH)),
    ],
)
def test_review_due_after_three_working_days(submitted_at: datetime, due_at: datetime) -> None:
    assert rules.compute_review_due_at(submitted_at) == due_at


def test_month_arithmetic_clamps_to_month_end() -> None:
    assert rules.add_months(date(2021, 11, 30), 3) == date(2022, 2, 28)
    assert rules.add_months(date(2023, 11, 30), 3) == date(2024, 2, 29)
    assert rules.add_months(date(2021, 10, 31), 3) == date(2022, 1, 31)
    assert rules.add_months(date(2021, 12, 15), 1) == date(2022, 1, 15)


# --- fees and the legacy migration window ---------------------------------------------


@pytest.mark.parametrize(
    ("submission", "fee_fen"),
    [(enterprise(), 60000), (professional(), 30000), (interest(), 0)],
)
def test_fee_table(submission: Submission, fee_fen: int) -> None:
    fee = rules.compute_fee(submission, WINDOW)
    assert fee == rules.Fee(fee_fen, legacy_migration=False)
    assert isinstance(fee.fee_fen, int)


@pytest.mark.parametrize(
    ("submitted_at", "legacy"),
    [
        (datetime(2021, 7, 31, 23, 59, tzinfo=SH), False),
        (datetime(2021, 8, 1, 0, 0, tzinfo=SH), True),
        (datetime(2021, 7, 31, 16, 0, tzinfo=UTC), True),  # already 08-01 in Shanghai
        (datetime(2021, 7, 31, 15, 59, 59, tzinfo=UTC), False),
        (datetime(2021, 9, 30, 23, 59, tzinfo=SH), True),
        (datetime(2021, 10, 1, 0, 0, tzinfo=SH), False),
        (datetime(2021, 9, 30, 16, 0, tzinfo=UTC), False),  # already 10-01 in Shanghai
    ],
)
def test_legacy_window_edges(submitted_at: datetime, legacy: bool) -> None:
    submission = enterprise(submitted_at=submitted_at, legacy_enterprise_uscc=VALID_USCC)
    expected = rules.Fee(0, True) if legacy else rules.Fee(60000, False)
    assert rules.compute_fee(submission, WINDOW) == expected


@pytest.mark.parametrize(
    ("submission", "window"),
    [
        (enterprise(legacy_enterprise_uscc="91110000600037341L"), WINDOW),  # other USCC
        (professional(legacy_enterprise_uscc=VALID_USCC), WINDOW),  # other track
        (enterprise(), WINDOW),  # not a legacy account
        (enterprise(legacy_enterprise_uscc=VALID_USCC), None),  # no window in force
    ],
)
def test_changed_qualification_pays_full_fee(
    submission: Submission, window: LegacyWindow | None
) -> None:
    assert rules.compute_fee(submission, window).fee_fen == rules.FEES_FEN[submission.track]


def test_legacy_window_from_policy() -> None:
    assert LegacyWindow.from_policy({"from": "2021-08-01", "to": "2021-09-30"}) == WINDOW
    for bad in (
        {"from": "2021-08-01"},
        {"from": "2021-10-01", "to": "2021-09-30"},
        {"from": 1, "to": 2},
    ):
        with pytest.raises(ValueError):
            LegacyWindow.from_policy(bad)


# --- the submission decision: every reason, all at once -------------------------------

EXPIRED = date(2021, 9, 1)
REJECTIONS = [
    (enterprise(enterprise=EnterpriseDocs("91350100M00010", None, VALID_ID)), "uscc_malformed"),
    (
        enterprise(enterprise=EnterpriseDocs(VALID_USCC, None, "110105194912310021")),
        "id_number_invalid",
    ),
    (enterprise(enterprise=EnterpriseDocs(VALID_USCC, EXPIRED, VALID_ID)), "document_expiring"),
    (
        professional(professional=ProfessionalDocs("doctor", "1" * 17, None, VALID_ID)),
        "credential_invalid",
    ),
    (
        professional(professional=ProfessionalDocs("doctor", "1" * 15, None, "1" * 18)),
        "id_number_invalid",
    ),
    (
        professional(professional=ProfessionalDocs("teacher", "1" * 17, EXPIRED, VALID_ID)),
        "document_expiring",
    ),
    (interest(account_name="x"), "account_name_invalid"),
    (professional(account_name="a/b"), "account_name_invalid"),
]


@pytest.mark.parametrize(("submission", "reason"), REJECTIONS)
def test_each_pre_check_rejects_with_its_reason(submission: Submission, reason: str) -> None:
    decision = rules.decide_submission(submission, FRESH, WINDOW)
    assert decision.outcome == "rejected"
    assert decision.reasons == (reason,)
    assert decision.fee_fen == 0  # never entered review: nothing charged
    assert reason in REASONS


@pytest.mark.parametrize("submission", [enterprise(), professional(), interest()])
@pytest.mark.parametrize(
    ("account", "reason"),
    [
        (AccountState(True, None), "application_in_progress"),
        (AccountState(False, AT + timedelta(days=31)), "already_certified"),
    ],
)
def test_account_state_rejects_every_track(
    submission: Submission, account: AccountState, reason: str
) -> None:
    decision = rules.decide_submission(submission, account, WINDOW)
    assert (decision.outcome, decision.reasons) == ("rejected", (reason,))
    assert reason in REASONS


def test_all_failing_reasons_are_reported_at_once() -> None:
    submission = enterprise(
        account_name="@",
        enterprise=EnterpriseDocs("not-a-uscc", date(2021, 8, 1), "123"),
    )
    decision = rules.decide_submission(
        submission, AccountState(True, AT + timedelta(days=90)), WINDOW
    )
    assert decision.outcome == "rejected"
    assert decision.reasons == (
        "uscc_malformed",
        "id_number_invalid",
        "document_expiring",
        "account_name_invalid",
        "application_in_progress",
        "already_certified",
    )


def test_professional_failures_are_reported_at_once() -> None:
    submission = professional(
        professional=ProfessionalDocs("teacher", "12", date(2021, 9, 1), "1"), account_name=""
    )
    decision = rules.decide_submission(submission, FRESH, WINDOW)
    assert decision.reasons == (
        "credential_invalid",
        "id_number_invalid",
        "document_expiring",
        "account_name_invalid",
    )


def test_checksum_mismatch_goes_to_review_with_a_flag() -> None:
    submission = enterprise(enterprise=EnterpriseDocs("91350100M000100Y44", None, VALID_ID))
    decision = rules.decide_submission(submission, FRESH, WINDOW)
    assert decision.outcome == "pending_review"
    assert decision.flags == ("uscc_checksum_mismatch",)
    assert decision.fee_fen == 60000
    assert decision.review_due_at == datetime(2021, 8, 7, tzinfo=SH)  # Tue -> end of Fri
    assert "uscc_checksum_mismatch" in REASONS


def test_checksum_mismatch_flag_is_kept_alongside_rejections() -> None:
    submission = enterprise(enterprise=EnterpriseDocs("91350100M000100Y44", None, "1"))
    decision = rules.decide_submission(submission, FRESH, WINDOW)
    assert (decision.outcome, decision.reasons) == ("rejected", ("id_number_invalid",))
    assert decision.flags == ("uscc_checksum_mismatch",)


def test_passing_professional_goes_to_review() -> None:
    decision = rules.decide_submission(professional(), FRESH, WINDOW)
    assert decision == rules.SubmissionDecision(
        "pending_review", (), (), 30000, False, datetime(2021, 8, 7, tzinfo=SH), None
    )


def test_interest_is_approved_at_once_for_a_year() -> None:
    decision = rules.decide_submission(interest(), FRESH, WINDOW)
    assert decision == rules.SubmissionDecision(
        "approved", (), (), 0, False, None, datetime(2022, 8, 3, 10, 15, tzinfo=SH)
    )


def test_renewal_in_the_last_thirty_days_is_admitted() -> None:
    account = AccountState(False, AT + timedelta(days=30))
    assert rules.decide_submission(enterprise(), account, WINDOW).outcome == "pending_review"


def test_legacy_enterprise_in_window_enters_review_free() -> None:
    submission = enterprise(legacy_enterprise_uscc=VALID_USCC)
    decision = rules.decide_submission(submission, FRESH, WINDOW)
    assert (decision.outcome, decision.fee_fen, decision.legacy_migration) == (
        "pending_review",
        0,
        True,
    )


def test_every_documented_reason_is_emitted_somewhere() -> None:
    emitted = {reason for _, reason in REJECTIONS}
    emitted |= {"application_in_progress", "already_certified", "uscc_checksum_mismatch"}
    # Raised by the handlers, tested in tests/integration/certification.
    raised = {"application_unknown", "application_already_decided", "application_id_conflict"}
    raised |= {"policy_invalid"}
    assert set(REASONS) == emitted | raised


# --- reviews --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "decision", "action"),
    [
        ("pending_review", "approved", "apply"),
        ("pending_review", "rejected", "apply"),
        ("approved", "approved", "already_applied"),
        ("rejected", "rejected", "already_applied"),
        ("approved", "rejected", "conflict"),
        ("rejected", "approved", "conflict"),
    ],
)
def test_review_actions(status: str, decision: str, action: str) -> None:
    assert rules.decide_review(status, decision) == action


def test_review_reasons_are_deduplicated_in_order() -> None:
    assert rules.decide_review_reasons(["b", "a", "b"]) == ("b", "a")
