"""The result events certification publishes, built from their schema/ models."""

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from handlers.base import SHANGHAI, Result
from handlers.certification.rules import SubmissionDecision, Track
from schema.certification import (
    CertificationApproved,
    CertificationPendingReview,
    CertificationRejected,
    CertificationSubmitted,
)


def submission_result(
    data: CertificationSubmitted, decision: SubmissionDecision, at: datetime
) -> Result:
    """The result of a submission's pre-checks: rejected, pending review or approved."""
    if decision.outcome == "rejected":
        return rejected(data.application_id, data.account_id, data.track, "pre_check",
                        decision.reasons)
    if decision.outcome == "pending_review":
        assert decision.review_due_at is not None
        pending = CertificationPendingReview(
            application_id=data.application_id,
            account_id=data.account_id,
            track=data.track,
            fee_fen=decision.fee_fen,
            legacy_migration=decision.legacy_migration,
            flags=list(decision.flags),
            review_due_at=_local(decision.review_due_at),
        )
        return Result("certification.pending_review", data.application_id, pending)
    assert decision.valid_until is not None
    return approved(data.application_id, data.account_id, data.track, decision.fee_fen,
                    decision.legacy_migration, at, decision.valid_until)


def rejected(
    application_id: str, account_id: str, track: Track,
    stage: Literal["pre_check", "review"], reasons: Sequence[str],
) -> Result:
    body = CertificationRejected(application_id=application_id, account_id=account_id,
                                 track=track, stage=stage, reasons=list(reasons))
    return Result("certification.rejected", application_id, body)


def approved(
    application_id: str, account_id: str, track: Track, fee_fen: int, legacy: bool,
    at: datetime, valid_until: datetime,
) -> Result:
    body = CertificationApproved(
        application_id=application_id,
        account_id=account_id,
        track=track,
        fee_fen=fee_fen,
        legacy_migration=legacy,
        certified_at=_local(at),
        valid_until=_local(valid_until),
    )
    return Result("certification.approved", application_id, body)


def _local(at: datetime) -> datetime:
    """In Asia/Shanghai, so that results read like the inputs."""
    return at.astimezone(SHANGHAI)
