"""The rows certification writes, by name. Each class's field order is the order of its
columns in the statement that takes it (sql/queries/certification.sql), which receives
one array per column (`unnest`): `columns` turns a list of rows into those arrays."""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from handlers.base import Incoming
from handlers.certification.rules import SubmissionDecision
from schema.certification import CertificationSubmitted


@dataclass(frozen=True, slots=True)
class ApplicationRow:
    """A new application with its pre-check outcome: `insert_applications` $1-$17."""

    application_id: str
    account_id: str
    account_name: str
    track: str
    profession: str | None
    enterprise_uscc: str | None
    status: str
    fee_fen: int
    legacy_migration: bool
    reasons: str  # comma-joined codes (`codes`)
    flags: str  # comma-joined codes (`codes`)
    submitted_at: datetime
    review_due_at: datetime | None
    decided_at: datetime | None
    valid_until: datetime | None
    event_source: str
    event_id: str


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """A review's decision on an application: `mark_applications_decided` $1-$6."""

    application_id: str
    status: str
    reasons: str  # comma-joined codes (`codes`)
    decided_at: datetime
    reviewer: str
    valid_until: datetime | None


@dataclass(frozen=True, slots=True)
class AccountRow:
    """A professional_accounts row an approval writes: the 8 parameters after the
    applications' (or decisions') in both statements."""

    account_id: str
    account_name: str
    track: str
    profession: str | None
    enterprise_uscc: str | None
    application_id: str
    certified_at: datetime
    valid_until: datetime


def columns(rows: Sequence[Any], row_type: type[Any]) -> list[list[Any]]:
    """Rows of `row_type` to the per-column lists that `unnest` takes, in field order
    (one empty list per column when there are no rows)."""
    return [[getattr(row, f.name) for row in rows] for f in fields(row_type)]


def codes(values: Sequence[str]) -> str:
    # unnest cannot carry ragged text[] columns; codes are snake_case, never with a comma.
    return ",".join(values)


def _uscc(data: CertificationSubmitted) -> str | None:
    return data.enterprise.uscc if data.enterprise is not None else None


def _profession(data: CertificationSubmitted) -> str | None:
    return data.professional.profession if data.professional is not None else None


def application_row(
    event: Incoming[CertificationSubmitted], decision: SubmissionDecision
) -> ApplicationRow:
    """A submission and its pre-check decision as a new application row."""
    data = event.data
    return ApplicationRow(
        application_id=data.application_id,
        account_id=data.account_id,
        account_name=data.account_name,
        track=data.track,
        profession=_profession(data),
        enterprise_uscc=_uscc(data),
        status=decision.outcome,
        fee_fen=decision.fee_fen,
        legacy_migration=decision.legacy_migration,
        reasons=codes(decision.reasons),
        flags=codes(decision.flags),
        submitted_at=event.time,
        review_due_at=decision.review_due_at,
        decided_at=None if decision.outcome == "pending_review" else event.time,
        valid_until=decision.valid_until,
        event_source=event.source,
        event_id=event.id,
    )


def submitted_account_row(
    event: Incoming[CertificationSubmitted], valid_until: datetime
) -> AccountRow:
    """The account an approved submission certifies until `valid_until`."""
    data = event.data
    return AccountRow(
        account_id=data.account_id,
        account_name=data.account_name,
        track=data.track,
        profession=_profession(data),
        enterprise_uscc=_uscc(data),
        application_id=data.application_id,
        certified_at=event.time,
        valid_until=valid_until,
    )
