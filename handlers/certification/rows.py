"""The rows certification writes, by name. Each class's field order is the order of its
columns in the statement that takes it (sql/queries/certification.sql), which receives
one array per column (`unnest`): `columns` turns a list of rows into those arrays."""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any


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
