"""Certification handlers: load rows, apply the rules, write rows, return result events.

Both event types are handled a batch at a time, at a constant number of round trips
whatever the batch's size: lock the batch's accounts (one statement), load what the rules
need (one, two for reviews), decide every event in delivery order against the state that
the earlier events of the batch left, then write everything (one). A submission whose
legacy claim needs the migration window costs one more read per batch.
"""

from collections.abc import Sequence
from datetime import datetime

from handlers.base import Db, Incoming, PermanentError, Result, TransientError
from handlers.certification import results, rows, rules
from handlers.certification.rows import AccountRow, ApplicationRow, DecisionRow, codes, columns
from handlers.queries import load_queries
from schema.certification import CertificationReviewed, CertificationSubmitted

Q = load_queries("certification")


async def handle_submitted(db: Db, event: Incoming[CertificationSubmitted]) -> list[Result]:
    """One submission: a batch of one."""
    [one] = await handle_submitted_batch(db, [event])
    return one


async def handle_reviewed(db: Db, event: Incoming[CertificationReviewed]) -> list[Result]:
    """One review: a batch of one."""
    [one] = await handle_reviewed_batch(db, [event])
    return one


# --- certification.submitted --------------------------------------------------------------


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
    known, accounts = await _load_submission_states(db, events)
    window = _LegacyWindow(db)
    applications: list[ApplicationRow] = []
    certified: dict[str, AccountRow] = {}
    out: list[list[Result]] = []
    for event in events:
        data = event.data
        repeat = rules.check_submission_repeat(
            known.get(data.application_id), data.account_id, data.track
        )
        if repeat == "same":
            out.append([])
            continue
        if repeat == "conflict":
            raise PermanentError("application_id_conflict", f"application {data.application_id}")
        known[data.application_id] = (data.account_id, data.track)

        submission = _submission(data, event.time)
        legacy = rules.check_legacy_migration_applies(submission)
        account = accounts[data.account_id]
        decision = rules.decide_submission(
            submission, account, await window.get() if legacy else None
        )
        accounts[data.account_id] = rules.compute_account_state_after(account, decision)
        applications.append(rows.application_row(event, decision))
        if decision.outcome == "approved":
            assert decision.valid_until is not None
            # A later renewal in the same batch replaces this term, as its upsert would.
            certified[data.account_id] = rows.submitted_account_row(event, decision.valid_until)
        out.append([results.submission_result(data, decision, event.time)])

    if applications:
        await db.execute(
            Q.insert_applications,
            *columns(applications, ApplicationRow),
            *columns(list(certified.values()), AccountRow),
        )
    return out


async def _load_submission_states(
    db: Db, events: Sequence[Incoming[CertificationSubmitted]]
) -> tuple[dict[str, tuple[str, str]], dict[str, rules.AccountState]]:
    """The (account, track) of each application id already stored, and each account's
    state, in one round trip (after the accounts are locked)."""
    states = await db.fetch(
        Q.get_submission_states,
        [event.data.application_id for event in events],
        [event.data.account_id for event in events],
    )
    known: dict[str, tuple[str, str]] = {}
    accounts: dict[str, rules.AccountState] = {}
    for row in states:
        if row["known_account_id"] is not None:
            known[row["application_id"]] = (row["known_account_id"], row["known_track"])
        accounts[row["account_id"]] = rules.AccountState(
            row["has_pending_application"], row["certified_until"]
        )
    return known, accounts


class _LegacyWindow:
    """The legacy migration window policy, read at most once per batch and only when a
    submission's legacy claim needs it."""

    def __init__(self, db: Db) -> None:
        self._db = db
        self._window: rules.LegacyWindow | None = None

    async def get(self) -> rules.LegacyWindow:
        if self._window is None:
            self._window = await _read_legacy_window(self._db)
        return self._window


async def _read_legacy_window(db: Db) -> rules.LegacyWindow:
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


# --- certification.reviewed ---------------------------------------------------------------


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
    locked = {r["application_id"]: r for r in await db.fetch(Q.lock_applications, ids, owners)}

    status: dict[str, str] = {}
    decided: list[DecisionRow] = []
    certified: dict[str, AccountRow] = {}
    out: list[list[Result]] = []
    for event in events:
        data = event.data
        row = locked.get(data.application_id)
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

        if data.decision == "rejected":
            reasons = rules.decide_review_reasons(data.reasons)
            decided.append(DecisionRow(data.application_id, "rejected", codes(reasons),
                                       event.time, data.reviewer, None))
            out.append([results.rejected(data.application_id, row["account_id"], row["track"],
                                  "review", reasons)])
            continue

        valid_until = rules.compute_valid_until(event.time)
        decided.append(DecisionRow(data.application_id, "approved", "", event.time,
                                   data.reviewer, valid_until))
        certified[row["account_id"]] = AccountRow(
            account_id=row["account_id"],
            account_name=row["account_name"],
            track=row["track"],
            profession=row["profession"],
            enterprise_uscc=row["enterprise_uscc"],
            application_id=data.application_id,
            certified_at=event.time,
            valid_until=valid_until,
        )
        out.append([results.approved(data.application_id, row["account_id"], row["track"],
                              row["fee_fen"], row["legacy_migration"], event.time, valid_until)])

    if decided:
        await db.execute(
            Q.mark_applications_decided,
            *columns(decided, DecisionRow),
            *columns(list(certified.values()), AccountRow),
        )
    return out
