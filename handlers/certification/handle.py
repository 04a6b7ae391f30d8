"""Certification handlers: load rows, apply the rules, write rows, return result events.

Both event types are handled a batch at a time, at a constant number of round trips
whatever the batch's size: lock the batch's accounts (one statement), load what the rules
need (one, two for reviews), decide every event in delivery order against the state that
the earlier events of the batch left, then write everything (one). A submission whose
legacy claim needs the migration window costs one more read per batch.
"""

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from handlers.base import Db, Incoming, PermanentError, Result, TransientError
from handlers.certification import rules
from handlers.queries import load_queries
from schema.certification import CertificationReviewed, CertificationSubmitted

Q = load_queries("certification")

# (account_id, account_name, track, profession, enterprise_uscc, application_id,
#  certified_at, valid_until): one professional_accounts row.
AccountRow = tuple[str, str, str, str | None, str | None, str, datetime, datetime]
APPLICATION_COLUMNS = 17
ACCOUNT_COLUMNS = 8
DECISION_COLUMNS = 6


async def handle_submitted(db: Db, event: Incoming[CertificationSubmitted]) -> list[Result]:
    """One submission: a batch of one."""
    [results] = await handle_submitted_batch(db, [event])
    return results


async def handle_reviewed(db: Db, event: Incoming[CertificationReviewed]) -> list[Result]:
    """One review: a batch of one."""
    [results] = await handle_reviewed_batch(db, [event])
    return results


async def handle_submitted_batch(
    db: Db, events: Sequence[Incoming[CertificationSubmitted]]
) -> list[list[Result]]:
    """Pre-check new applications: reject each, approve it (interest track) or send it to
    review. A second submission of a known application has no new effects; the same id
    for another account or track is a conflict (the whole batch fails, and the runtime's
    isolated retry sends only that event to the DLQ)."""
    if not events:
        return []
    await db.execute(Q.lock_accounts, sorted({event.data.account_id for event in events}))
    rows = await db.fetch(
        Q.get_submission_states,
        [event.data.application_id for event in events],
        [event.data.account_id for event in events],
    )
    known: dict[str, tuple[str, str]] = {}
    accounts: dict[str, rules.AccountState] = {}
    for row in rows:
        if row["known_account_id"] is not None:
            known[row["application_id"]] = (row["known_account_id"], row["known_track"])
        accounts[row["account_id"]] = rules.AccountState(
            row["has_pending_application"], row["certified_until"]
        )

    window: rules.LegacyWindow | None = None
    applications: list[tuple[Any, ...]] = []
    certified: dict[str, AccountRow] = {}
    out: list[list[Result]] = []
    for event in events:
        data = event.data
        seen = known.get(data.application_id)
        if seen is not None:
            if seen == (data.account_id, data.track):
                out.append([])
                continue
            raise PermanentError("application_id_conflict", f"application {data.application_id}")
        known[data.application_id] = (data.account_id, data.track)

        submission = _submission(data, event.time)
        legacy = rules.check_legacy_migration_applies(submission)
        if legacy and window is None:
            window = await _legacy_window(db)  # at most once per batch
        account = accounts[data.account_id]
        decision = rules.decide_submission(submission, account, window if legacy else None)
        # Later applications of the same account in this batch see this one's effect,
        # as they would see its rows had it been committed before them.
        if decision.outcome == "pending_review":
            accounts[data.account_id] = replace(account, has_pending_application=True)
        elif decision.outcome == "approved":
            accounts[data.account_id] = replace(account, certified_until=decision.valid_until)

        uscc = data.enterprise.uscc if data.enterprise is not None else None
        profession = data.professional.profession if data.professional is not None else None
        applications.append(
            (
                data.application_id,
                data.account_id,
                data.account_name,
                data.track,
                profession,
                uscc,
                decision.outcome,
                decision.fee_fen,
                decision.legacy_migration,
                _codes(decision.reasons),
                _codes(decision.flags),
                event.time,
                decision.review_due_at,
                None if decision.outcome == "pending_review" else event.time,
                decision.valid_until,
                event.source,
                event.id,
            )
        )
        base = {
            "application_id": data.application_id,
            "account_id": data.account_id,
            "track": data.track,
        }
        if decision.outcome == "rejected":
            out.append([_rejected(base, "pre_check", decision.reasons)])
        elif decision.outcome == "pending_review":
            assert decision.review_due_at is not None
            pending = {
                **base,
                "fee_fen": decision.fee_fen,
                "legacy_migration": decision.legacy_migration,
                "flags": list(decision.flags),
                "review_due_at": _iso(decision.review_due_at),
            }
            out.append([Result("certification.pending_review", data.application_id, pending)])
        else:
            assert decision.valid_until is not None
            # A later renewal in the same batch replaces this term, as its upsert would.
            certified[data.account_id] = (
                data.account_id,
                data.account_name,
                data.track,
                profession,
                uscc,
                data.application_id,
                event.time,
                decision.valid_until,
            )
            out.append(
                [
                    _approved(
                        base,
                        decision.fee_fen,
                        decision.legacy_migration,
                        event.time,
                        decision.valid_until,
                    )
                ]
            )

    if applications:
        await db.execute(
            Q.insert_applications,
            *_columns(applications, APPLICATION_COLUMNS),
            *_columns(list(certified.values()), ACCOUNT_COLUMNS),
        )
    return out


async def handle_reviewed_batch(
    db: Db, events: Sequence[Incoming[CertificationReviewed]]
) -> list[list[Result]]:
    """Apply the auditor's decisions to applications in review. Unknown application:
    retry later; already decided the same way: nothing new; the other way: DLQ (as for
    submissions, one such event fails the batch and the isolated retry singles it out)."""
    if not events:
        return []
    ids = sorted({event.data.application_id for event in events})
    owners = [row["account_id"] for row in await db.fetch(Q.get_application_accounts, ids)]
    await db.execute(Q.lock_accounts, sorted(owners))
    # Only applications of the accounts just locked: one stored meanwhile is unknown to
    # this try, and the retry locks its account first.
    rows = {row["application_id"]: row for row in await db.fetch(Q.lock_applications, ids, owners)}

    status: dict[str, str] = {}
    decided: list[tuple[Any, ...]] = []
    certified: dict[str, AccountRow] = {}
    out: list[list[Result]] = []
    for event in events:
        data = event.data
        row = rows.get(data.application_id)
        if row is None:
            raise TransientError("application_unknown", f"application {data.application_id}")
        current = status.get(data.application_id, row["status"])
        action = rules.decide_review(current, data.decision)
        if action == "already_applied":
            out.append([])
            continue
        if action == "conflict":
            raise PermanentError(
                "application_already_decided",
                f"application {data.application_id} is {current}, review says {data.decision}",
            )
        status[data.application_id] = data.decision

        base = {
            "application_id": data.application_id,
            "account_id": row["account_id"],
            "track": row["track"],
        }
        if data.decision == "rejected":
            reasons = rules.decide_review_reasons(data.reasons)
            decided.append(
                (data.application_id, "rejected", _codes(reasons), event.time, data.reviewer, None)
            )
            out.append([_rejected(base, "review", reasons)])
            continue

        valid_until = rules.compute_valid_until(event.time)
        decided.append(
            (data.application_id, "approved", "", event.time, data.reviewer, valid_until)
        )
        certified[row["account_id"]] = (
            row["account_id"],
            row["account_name"],
            row["track"],
            row["profession"],
            row["enterprise_uscc"],
            data.application_id,
            event.time,
            valid_until,
        )
        out.append(
            [_approved(base, row["fee_fen"], row["legacy_migration"], event.time, valid_until)]
        )

    if decided:
        await db.execute(
            Q.mark_applications_decided,
            *_columns(decided, DECISION_COLUMNS),
            *_columns(list(certified.values()), ACCOUNT_COLUMNS),
        )
    return out


async def _legacy_window(db: Db) -> rules.LegacyWindow:
    row = await db.fetchrow(Q.get_legacy_window)
    try:
        if row is None:
            raise ValueError("policy not set")
        return rules.LegacyWindow.from_policy({"from": row["first_day"], "to": row["last_day"]})
    except ValueError as error:
        # Not the message's fault: retry (then DLQ) until an operator fixes the policy.
        raise TransientError("policy_invalid", str(error)) from error


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows to the per-column lists that `unnest` takes (`width` empty lists for none)."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


def _codes(codes: Sequence[str]) -> str:
    # unnest cannot carry ragged text[] columns; codes are snake_case, never with a comma.
    return ",".join(codes)


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
