"""Certification rules: identity formats, fees, expiry, SLA and the submission decision.

Pure functions over plain values and frozen dataclasses: no I/O, no clock. "Now" is
always a parameter (the input event's time); calendar rules use Asia/Shanghai.
"""

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Literal
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

Track = Literal["enterprise", "professional", "interest"]
Profession = Literal["lawyer", "doctor", "teacher"]
Outcome = Literal["pending_review", "approved", "rejected"]

# Review fee per application, charged when it enters review (docs/rules.md §3.1).
FEES_FEN: Mapping[str, int] = {"enterprise": 60000, "professional": 30000, "interest": 0}

# GB 32100-2015: the 31 characters of a Unified Social Credit Code (no I, O, S, V, Z).
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_USCC_VALUE = {char: value for value, char in enumerate(USCC_CHARSET)}

# GB 11643-1999: weights 2^(17-i) mod 11 and the check characters indexed by the sum mod 11.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
_ID_FORMAT = re.compile(r"[0-9]{17}[0-9X]")
# No one alive was born before this; a birth date after the submission is impossible.
_EARLIEST_BIRTH = date(1900, 1, 1)

# ASCII digits only: str.isdigit() would accept full-width and other scripts' digits.
_CREDENTIAL_FORMATS: Mapping[str, tuple[re.Pattern[str], ...]] = {
    "lawyer": (re.compile(r"[0-9]{17}"), re.compile(r"[0-9]{12}")),  # 12 = pre-2008 format
    "doctor": (re.compile(r"[0-9]{15}"),),
    "teacher": (re.compile(r"[0-9]{17}"),),
}

ACCOUNT_NAME_MIN_CHARS = 2
ACCOUNT_NAME_MAX_CHARS = 24
ACCOUNT_NAME_BANNED_CHARS = frozenset("@《/")

DOCUMENT_MIN_VALID_MONTHS = 3
RENEWAL_WINDOW = timedelta(days=30)
CERTIFICATION_YEARS = 1
REVIEW_SLA_WORKING_DAYS = 3


class UsccCheck(Enum):
    """What `check_uscc` found."""

    VALID = "valid"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class EnterpriseDocs:
    """The enterprise documents the rules look at."""

    uscc: str
    license_valid_until: date | None
    operator_id_number: str


@dataclass(frozen=True, slots=True)
class ProfessionalDocs:
    """The professional documents the rules look at."""

    profession: Profession
    credential_number: str
    credential_valid_until: date | None
    holder_id_number: str


@dataclass(frozen=True, slots=True)
class Submission:
    """One application as submitted; `submitted_at` is the event's time."""

    account_name: str
    track: Track
    submitted_at: datetime
    enterprise: EnterpriseDocs | None = None
    professional: ProfessionalDocs | None = None
    legacy_enterprise_uscc: str | None = None


@dataclass(frozen=True, slots=True)
class AccountState:
    """What the database knows about the applying account."""

    has_pending_application: bool
    certified_until: datetime | None


@dataclass(frozen=True, slots=True)
class LegacyWindow:
    """The legacy migration window, inclusive, in Asia/Shanghai dates (a policy)."""

    first_day: date
    last_day: date

    @classmethod
    def from_policy(cls, value: Mapping[str, object]) -> "LegacyWindow":
        """Parse the policy value `{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}`."""
        first, last = value.get("from"), value.get("to")
        if not isinstance(first, str) or not isinstance(last, str):
            raise ValueError("legacy migration window needs 'from' and 'to' dates")
        window = cls(date.fromisoformat(first), date.fromisoformat(last))
        if window.last_day < window.first_day:
            raise ValueError("legacy migration window ends before it starts")
        return window


@dataclass(frozen=True, slots=True)
class Fee:
    """The review fee and whether the legacy migration waived it."""

    fee_fen: int
    legacy_migration: bool


@dataclass(frozen=True, slots=True)
class SubmissionDecision:
    """The outcome of a submission. Rejected applications never enter review: fee 0."""

    outcome: Outcome
    reasons: tuple[str, ...]
    flags: tuple[str, ...]
    fee_fen: int
    legacy_migration: bool
    review_due_at: datetime | None
    valid_until: datetime | None


ReviewAction = Literal["apply", "already_applied", "conflict"]
SubmissionRepeat = Literal["new", "same", "conflict"]


def shanghai_date(at: datetime) -> date:
    """The calendar date of an aware instant in Asia/Shanghai."""
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    return at.astimezone(SHANGHAI).date()


def add_months(day: date, months: int) -> date:
    """Calendar months; the day is clamped to the target month's end (11-30 + 3 = 02-28)."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_uscc(code: str) -> UsccCheck:
    """Validate a Unified Social Credit Code (GB 32100-2015).

    Malformed: not 18 characters of the code's charset, or positions 3-8 (the
    administrative division code) not digits. A well-formed code whose check character
    disagrees is only a checksum mismatch: pilot-era codes are legal and fail it."""
    if len(code) != 18 or any(char not in _USCC_VALUE for char in code):
        return UsccCheck.MALFORMED
    if not all("0" <= char <= "9" for char in code[2:8]):
        return UsccCheck.MALFORMED
    if code[17] != compute_uscc_check_char(code[:17]):
        return UsccCheck.CHECKSUM_MISMATCH
    return UsccCheck.VALID


def compute_uscc_check_char(body: str) -> str:
    """The 18th character of a USCC from its first 17: (31 - Σ v·3^(i-1) mod 31) mod 31."""
    total = sum(_USCC_VALUE[char] * weight for char, weight in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def compute_id_check_char(body: str) -> str:
    """The 18th character of a resident id number from its first 17 digits."""
    total = sum(int(char) * weight for char, weight in zip(body, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def check_resident_id(number: str, as_of: date) -> bool:
    """An 18-character resident id (GB 11643-1999): 17 digits and a check character
    (upper-case X for 10), a real birth date between 1900-01-01 and `as_of`."""
    if _ID_FORMAT.fullmatch(number) is None:
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not _EARLIEST_BIRTH <= born <= as_of:
        return False
    return number[17] == compute_id_check_char(number[:17])


def check_credential(profession: Profession, number: str) -> bool:
    """Lawyer 17 digits (legacy 12 accepted), doctor 15 digits, teacher 17 digits."""
    return any(pattern.fullmatch(number) for pattern in _CREDENTIAL_FORMATS[profession])


def check_account_name(name: str) -> bool:
    """2-24 characters, none of `@`, `《`, `/`."""
    return ACCOUNT_NAME_MIN_CHARS <= len(name) <= ACCOUNT_NAME_MAX_CHARS and not (
        ACCOUNT_NAME_BANNED_CHARS & set(name)
    )


def check_document_valid_long_enough(valid_until: date | None, submitted_at: datetime) -> bool:
    """A document must stay valid until at least the submission date + 3 calendar months
    (Asia/Shanghai); `None` means long-term."""
    if valid_until is None:
        return True
    return valid_until >= add_months(shanghai_date(submitted_at), DOCUMENT_MIN_VALID_MONTHS)


def check_already_certified(certified_until: datetime | None, at: datetime) -> bool:
    """True when a certification is still valid for more than 30 more days: renewing is
    allowed only in its last 30 days (or after it lapsed)."""
    return certified_until is not None and certified_until - at > RENEWAL_WINDOW


def compute_fee(submission: Submission, window: LegacyWindow | None) -> Fee:
    """The review fee. A legacy enterprise account re-certifying the same USCC on the
    enterprise track on a day inside the migration window pays 0; any changed
    qualification (other USCC, other track) pays the full fee. `window=None` means
    no window is in force."""
    legacy = (
        window is not None
        and submission.track == "enterprise"
        and submission.enterprise is not None
        and submission.legacy_enterprise_uscc is not None
        and submission.legacy_enterprise_uscc == submission.enterprise.uscc
        and window.first_day <= shanghai_date(submission.submitted_at) <= window.last_day
    )
    return Fee(0, True) if legacy else Fee(FEES_FEN[submission.track], False)


def check_legacy_migration_applies(submission: Submission) -> bool:
    """Whether the legacy window matters for this submission (so the policy is needed)."""
    return submission.track == "enterprise" and submission.legacy_enterprise_uscc is not None


def compute_valid_until(approved_at: datetime) -> datetime:
    """Approval + 1 calendar year, in Asia/Shanghai (02-29 becomes 02-28)."""
    local = approved_at.astimezone(SHANGHAI)
    year = local.year + CERTIFICATION_YEARS
    try:
        return local.replace(year=year)
    except ValueError:
        return local.replace(year=year, day=28)


def compute_review_due_at(submitted_at: datetime) -> datetime:
    """The review SLA deadline: the end of the 3rd working day after the submission date,
    returned as 00:00 Asia/Shanghai of the following day. Working days are Monday to
    Friday; public holidays and make-up working days are not modelled (a holiday
    calendar would be a policy table, not code)."""
    day = shanghai_date(submitted_at)
    remaining = REVIEW_SLA_WORKING_DAYS
    while remaining:
        day += timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI)


def check_documents(submission: Submission) -> tuple[list[str], list[str]]:
    """The track's document pre-checks: (rejection reasons, review flags)."""
    reasons: list[str] = []
    flags: list[str] = []
    as_of = shanghai_date(submission.submitted_at)
    valid_until: date | None = None
    if submission.track == "enterprise":
        docs = submission.enterprise
        if docs is None:
            raise ValueError("enterprise track without enterprise documents")
        uscc = check_uscc(docs.uscc)
        if uscc is UsccCheck.MALFORMED:
            reasons.append("uscc_malformed")
        elif uscc is UsccCheck.CHECKSUM_MISMATCH:
            flags.append("uscc_checksum_mismatch")
        if not check_resident_id(docs.operator_id_number, as_of):
            reasons.append("id_number_invalid")
        valid_until = docs.license_valid_until
    elif submission.track == "professional":
        pro = submission.professional
        if pro is None:
            raise ValueError("professional track without professional documents")
        if not check_credential(pro.profession, pro.credential_number):
            reasons.append("credential_invalid")
        if not check_resident_id(pro.holder_id_number, as_of):
            reasons.append("id_number_invalid")
        valid_until = pro.credential_valid_until
    if not check_document_valid_long_enough(valid_until, submission.submitted_at):
        reasons.append("document_expiring")
    return reasons, flags


def decide_submission(
    submission: Submission, account: AccountState, window: LegacyWindow | None
) -> SubmissionDecision:
    """Decide a submission, reporting every failing reason at once. Interest applications
    that pass are approved at once; the others go to review with their flags."""
    at = submission.submitted_at
    reasons, flags = check_documents(submission)
    if not check_account_name(submission.account_name):
        reasons.append("account_name_invalid")
    if account.has_pending_application:
        reasons.append("application_in_progress")
    if check_already_certified(account.certified_until, at):
        reasons.append("already_certified")
    if reasons:
        return SubmissionDecision("rejected", tuple(reasons), tuple(flags), 0, False, None, None)
    fee = compute_fee(submission, window)
    if submission.track == "interest":
        return SubmissionDecision(
            "approved", (), (), fee.fee_fen, fee.legacy_migration, None, compute_valid_until(at)
        )
    return SubmissionDecision(
        "pending_review",
        (),
        tuple(flags),
        fee.fee_fen,
        fee.legacy_migration,
        compute_review_due_at(at),
        None,
    )


def check_submission_repeat(
    known: tuple[str, str] | None, account_id: str, track: str
) -> SubmissionRepeat:
    """A submission under an application id already stored as (account, track): the same
    again has no new effects; another account or track under that id is a conflict."""
    if known is None:
        return "new"
    return "same" if known == (account_id, track) else "conflict"


def compute_account_state_after(
    account: AccountState, decision: SubmissionDecision
) -> AccountState:
    """The account as a later submission of the same batch sees it, as it would see this
    one's rows had it been committed first: in review, or certified until `valid_until`."""
    if decision.outcome == "pending_review":
        return replace(account, has_pending_application=True)
    if decision.outcome == "approved":
        return replace(account, certified_until=decision.valid_until)
    return account


def decide_review(current_status: str, decision: str) -> ReviewAction:
    """What a review does to an application: apply it while pending; an application
    already decided the same way is a duplicate (no new effects); a different decision
    on a decided application is a conflict."""
    if current_status == "pending_review":
        return "apply"
    return "already_applied" if current_status == decision else "conflict"


def decide_review_reasons(reasons: list[str]) -> tuple[str, ...]:
    """The reviewer's reason codes, de-duplicated, in the reviewer's order."""
    return tuple(dict.fromkeys(reasons))
