"""Certification handlers: load rows, apply the rules, write rows, return result events."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from handlers.base import Db, Incoming, PermanentError, Result, TransientError
from handlers.certification import rules
from handlers.queries import load_queries
from schema.certification import CertificationReviewed, CertificationSubmitted

Q = load_queries("certification")


async def handle_submitted(db: Db, event: Incoming[CertificationSubmitted]) -> list[Result]:
    """Pre-check a new application: reject it, approve it (interest track) or send it to
    review. A second submission of a known application has no new effects."""
    data = event.data
    await db.execute(Q.lock_account, data.account_id)
    known = await db.fetchrow(Q.get_application, data.application_id)
    if known is not None:
        if known["account_id"] == data.account_id and known["track"] == data.track:
            return []
        raise PermanentError("application_id_conflict", f"application {data.application_id}")

    submission = _submission(data, event.time)
    state = await db.fetchrow(Q.get_account_state, data.account_id)
    account = rules.AccountState(state["has_pending_application"], state["certified_until"])
    window = await _legacy_window(db) if rules.check_legacy_migration_applies(submission) else None
    decision = rules.decide_submission(submission, account, window)

    uscc = data.enterprise.uscc if data.enterprise is not None else None
    profession = data.professional.profession if data.professional is not None else None
    decided_at = None if decision.outcome == "pending_review" else event.time
    await db.execute(
        Q.insert_application,
        data.application_id,
        data.account_id,
        data.account_name,
        data.track,
        profession,
        uscc,
        decision.outcome,
        decision.fee_fen,
        decision.legacy_migration,
        list(decision.reasons),
        list(decision.flags),
        event.time,
        decision.review_due_at,
        decided_at,
        decision.valid_until,
        event.source,
        event.id,
    )
    base = {
        "application_id": data.application_id,
        "account_id": data.account_id,
        "track": data.track,
    }
    if decision.outcome == "rejected":
        return [_rejected(base, "pre_check", decision.reasons)]
    if decision.outcome == "pending_review":
        assert decision.review_due_at is not None
        pending = {
            **base,
            "fee_fen": decision.fee_fen,
            "legacy_migration": decision.legacy_migration,
            "flags": list(decision.flags),
            "review_due_at": _iso(decision.review_due_at),
        }
        return [Result("certification.pending_review", data.application_id, pending)]
    assert decision.valid_until is not None
    await db.execute(
        Q.upsert_professional_account,
        data.account_id,
        data.account_name,
        data.track,
        profession,
        uscc,
        data.application_id,
        event.time,
        decision.valid_until,
    )
    return [
        _approved(
            base, decision.fee_fen, decision.legacy_migration, event.time, decision.valid_until
        )
    ]


async def handle_reviewed(db: Db, event: Incoming[CertificationReviewed]) -> list[Result]:
    """Apply the auditor's decision to an application in review. Unknown application:
    retry later; already decided the same way: nothing new; the other way: DLQ."""
    data = event.data
    known = await db.fetchrow(Q.get_application, data.application_id)
    if known is None:
        raise TransientError("application_unknown", f"application {data.application_id}")
    await db.execute(Q.lock_account, known["account_id"])
    row = await db.fetchrow(Q.lock_application, data.application_id)
    action = rules.decide_review(row["status"], data.decision)
    if action == "already_applied":
        return []
    if action == "conflict":
        raise PermanentError(
            "application_already_decided",
            f"application {data.application_id} is {row['status']}, review says {data.decision}",
        )

    base = {
        "application_id": data.application_id,
        "account_id": row["account_id"],
        "track": row["track"],
    }
    if data.decision == "rejected":
        reasons = rules.decide_review_reasons(data.reasons)
        await db.execute(
            Q.mark_application_decided,
            data.application_id,
            "rejected",
            list(reasons),
            event.time,
            data.reviewer,
            None,
        )
        return [_rejected(base, "review", reasons)]

    valid_until = rules.compute_valid_until(event.time)
    await db.execute(
        Q.mark_application_decided,
        data.application_id,
        "approved",
        [],
        event.time,
        data.reviewer,
        valid_until,
    )
    await db.execute(
        Q.upsert_professional_account,
        row["account_id"],
        row["account_name"],
        row["track"],
        row["profession"],
        row["enterprise_uscc"],
        data.application_id,
        event.time,
        valid_until,
    )
    return [_approved(base, row["fee_fen"], row["legacy_migration"], event.time, valid_until)]


async def handle_submitted_batch(
    db: Db, events: Sequence[Incoming[CertificationSubmitted]]
) -> list[list[Result]]:
    """Lock the batch's accounts in ascending order first (no deadlock between two
    workers' batches), then handle the events one by one in delivery order."""
    await _lock_accounts(db, (event.data.account_id for event in events))
    return [await handle_submitted(db, event) for event in events]


async def handle_reviewed_batch(
    db: Db, events: Sequence[Incoming[CertificationReviewed]]
) -> list[list[Result]]:
    """Like `handle_submitted_batch`, for reviews (their accounts come from the rows)."""
    ids = sorted({event.data.application_id for event in events})
    rows = await db.fetch(Q.get_application_accounts, ids)
    await _lock_accounts(db, (row["account_id"] for row in rows))
    return [await handle_reviewed(db, event) for event in events]


async def _lock_accounts(db: Db, account_ids: Iterable[str]) -> None:
    # Advisory locks are re-entrant within a transaction: the per-event handlers take
    # them again at no cost.
    await db.executemany(Q.lock_account, [(account_id,) for account_id in sorted(set(account_ids))])


async def _legacy_window(db: Db) -> rules.LegacyWindow:
    row = await db.fetchrow(Q.get_legacy_window)
    try:
        if row is None:
            raise ValueError("policy not set")
        return rules.LegacyWindow.from_policy({"from": row["first_day"], "to": row["last_day"]})
    except ValueError as error:
        # Not the message's fault: retry (then DLQ) until an operator fixes the policy.
        raise TransientError("policy_invalid", str(error)) from error


def _submission(data: CertificationSubmitted, at: datetime) -> rules.Submission:
    enterprise = professional = None
    if data.enterprise is not None:
        enterprise = rules.EnterpriseDocs(
            uscc=data.enterprise.uscc,
            license_valid_until=data.enterprise.license_valid_until,
            operator_id_number=data.enterprise.operator_id_number,
        )
    if data.professional is not None:
        professional = rules.ProfessionalDocs(
            profession=data.professional.profession,
            credential_number=data.professional.credential_number,
            credential_valid_until=data.professional.credential_valid_until,
            holder_id_number=data.professional.holder_id_number,
        )
    return rules.Submission(
        account_name=data.account_name,
        track=data.track,
        submitted_at=at,
        enterprise=enterprise,
        professional=professional,
        legacy_enterprise_uscc=data.legacy_enterprise_uscc,
    )


def _rejected(base: dict[str, Any], stage: str, reasons: Sequence[str]) -> Result:
    data = {**base, "stage": stage, "reasons": list(reasons)}
    return Result("certification.rejected", base["application_id"], data)


def _approved(
    base: dict[str, Any], fee_fen: int, legacy: bool, at: datetime, valid_until: datetime
) -> Result:
    data = {
        **base,
        "fee_fen": fee_fen,
        "legacy_migration": legacy,
        "certified_at": _iso(at),
        "valid_until": _iso(valid_until),
    }
    return Result("certification.approved", base["application_id"], data)


def _iso(at: datetime) -> str:
    """ISO 8601 in Asia/Shanghai, so that results read like the inputs."""
    return at.astimezone(rules.SHANGHAI).isoformat()
