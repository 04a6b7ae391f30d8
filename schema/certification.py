"""Wire models of the certification events: submissions, reviews and their results."""

from typing import Annotated, Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, model_validator
from pydantic.config import JsonDict, JsonValue

from schema.common import LINE, Day, EventData, Fen, Id, Timestamp, check_entry, checked

Track = Literal["enterprise", "professional", "interest"]
Profession = Literal["lawyer", "doctor", "teacher"]
Decision = Literal["approved", "rejected"]
# Names and document numbers are checked by the rules (a bad one is a business
# rejection with a reason code), so the schema only bounds their size.
Text = Annotated[StrictStr, Field(min_length=1, max_length=200), LINE]
DocumentNumber = Annotated[StrictStr, Field(max_length=64), LINE]
ReasonCode = Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]

# ---- the pre-checks, as publishers read them in the JSON Schemas --------------------------
# handlers/certification/rules.py applies them to a schema-valid submission; a failure is a
# business rejection (`certification.rejected`, stage `pre_check`) with a reason code, never
# a schema refusal, so the schema describes them (`checked`, schema/common.py) and never
# enforces them. The patterns below are checked against the rules by
# tests/unit/certification/test_certification_prechecks.py.
REJECTED = "certification.rejected"
ACCOUNT_NAME_FORMAT = "^[^@《/]{2,24}$"
# GB 32100-2015: the code's 31 characters (no I, O, S, V, Z), digits in positions 3-8.
USCC_FORMAT = "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
# GB 11643-1999: 17 digits and a check character (X for 10).
RESIDENT_ID_FORMAT = "^[0-9]{17}[0-9X]$"
CREDENTIAL_FORMATS = {"lawyer": "^([0-9]{17}|[0-9]{12})$", "doctor": "^[0-9]{15}$",
                      "teacher": "^[0-9]{17}$"}
PRE_CHECK = "Pre-check (a business rejection, not a schema error): "


def business_check(reason: str, result: str = REJECTED, **format_: JsonValue) -> JsonDict:
    """An `x-businessChecks` entry of a certification pre-check (see `checked`)."""
    return check_entry(reason, result, **format_)


AccountName = Annotated[StrictStr, Field(max_length=200), LINE, checked(
    PRE_CHECK + "2-24 characters, none of `@`, `《`, `/`; otherwise the application is "
    "rejected with `account_name_invalid`.",
    business_check("account_name_invalid", pattern=ACCOUNT_NAME_FORMAT))]
Uscc = Annotated[DocumentNumber, checked(
    PRE_CHECK + "a Unified Social Credit Code (GB 32100-2015): 18 characters of "
    "`0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O, S, V, Z) with digits in positions 3-8, "
    "otherwise rejected with `uscc_malformed`. The 18th character is a check character "
    "(each character's index in that charset, weights 3^(i-1) mod 31 for positions 1-17, "
    "check index (31 - sum mod 31) mod 31); a mismatch is not a rejection: the application "
    "goes to review flagged `uscc_checksum_mismatch`, as pilot-era codes fail it legally.",
    business_check("uscc_malformed", pattern=USCC_FORMAT),
    business_check("uscc_checksum_mismatch", "certification.pending_review"))]
ResidentIdNumber = Annotated[DocumentNumber, checked(
    PRE_CHECK + "a resident id number (GB 11643-1999): 17 digits and a check character, "
    "upper-case `X` for 10. The check character is `10X98765432`[sum of digit i times "
    "weight i, mod 11] with weights 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2; "
    "characters 7-14 are a real birth date (YYYYMMDD) from 1900-01-01 to the submission "
    "date. Otherwise the application is rejected with `id_number_invalid`.",
    business_check("id_number_invalid", pattern=RESIDENT_ID_FORMAT))]
CredentialNumber = Annotated[DocumentNumber, checked(
    PRE_CHECK + "by `profession`, ASCII digits only: lawyer 17 digits (or the pre-2008 12), "
    "doctor 15, teacher 17; otherwise rejected with `credential_invalid`.",
    business_check("credential_invalid",
                   patternByProfession=dict[str, JsonValue](CREDENTIAL_FORMATS)))]
ValidUntil = Annotated[Day | None, checked(
    "Last day of validity; null means long-term. " + PRE_CHECK + "not before the "
    "submission date (Asia/Shanghai) plus 3 calendar months (11-30 + 3 months = 02-28), "
    "otherwise rejected with `document_expiring`.",
    business_check("document_expiring"))]


class EnterpriseDocuments(EventData):
    """The enterprise track's documents; a null date means long-term validity."""

    company_name: Text
    uscc: Uscc
    license_valid_until: ValidUntil
    operator_name: Text
    operator_id_number: ResidentIdNumber
    trademark_certificate_no: Id | None = None


class ProfessionalDocuments(EventData):
    """The professional track's documents; a null date means long-term validity."""

    profession: Profession
    credential_number: CredentialNumber
    credential_valid_until: ValidUntil
    holder_name: Text
    holder_id_number: ResidentIdNumber


class InterestDocuments(EventData):
    """The interest track needs no documents, only the field of interest."""

    field: Text


def _track_names_its_block() -> list[JsonValue]:
    """JSON Schema of "exactly one document block, the one named by `track`": per track,
    its block is an object and the other blocks are absent or null."""
    blocks = get_args(Track)
    return [{"if": {"properties": {"track": {"const": track}}, "required": ["track"]},
             "then": {"required": [track], "properties": {
                 block: {"type": "object" if block == track else "null"} for block in blocks}}}
            for track in blocks]


class CertificationSubmitted(EventData):
    """`certification.submitted`: exactly one document block, the one named by `track`.
    A schema-valid submission then meets the pre-checks: those in the fields'
    descriptions, and the account's (an application already in review is
    `application_in_progress`, a certification valid for more than 30 more days
    `already_certified`). One `certification.rejected` answers every failing reason."""

    model_config = ConfigDict(json_schema_extra={"allOf": _track_names_its_block()})

    application_id: Id
    account_id: Id
    account_name: AccountName
    track: Track
    enterprise: EnterpriseDocuments | None = None
    professional: ProfessionalDocuments | None = None
    interest: InterestDocuments | None = None
    legacy_enterprise_uscc: DocumentNumber | None = None

    @model_validator(mode="after")
    def _one_block_matching_track(self) -> Self:
        present = {
            name
            for name in ("enterprise", "professional", "interest")
            if getattr(self, name) is not None
        }
        if present != {self.track}:
            raise ValueError(
                f"track {self.track!r} needs exactly the {self.track!r} block, got "
                f"{sorted(present) or 'none'}"
            )
        return self


def _reasons_follow_decision() -> list[JsonValue]:
    """JSON Schema of "a rejection names at least one reason; an approval names none"."""
    return [{"if": {"properties": {"decision": {"const": "rejected"}}, "required": ["decision"]},
             "then": {"required": ["reasons"], "properties": {"reasons": {"minItems": 1}}}},
            {"if": {"properties": {"decision": {"const": "approved"}}, "required": ["decision"]},
             "then": {"properties": {"reasons": {"maxItems": 0}}}}]


class CertificationReviewed(EventData):
    """`certification.reviewed`: the third-party audit's decision. A rejection names at
    least one reason; an approval names none."""

    model_config = ConfigDict(json_schema_extra={"allOf": _reasons_follow_decision()})

    application_id: Id
    decision: Decision
    reasons: list[ReasonCode] = Field(default_factory=list, max_length=50)
    reviewer: Id

    @model_validator(mode="after")
    def _reasons_match_decision(self) -> Self:
        if self.decision == "rejected" and not self.reasons:
            raise ValueError("a rejection needs at least one reason")
        if self.decision == "approved" and self.reasons:
            raise ValueError("an approval carries no reasons")
        return self


class CertificationPendingReview(EventData):
    """`certification.pending_review`: the fee is charged now; review is due by
    `review_due_at`; `flags` tell the reviewer what to look at."""

    application_id: Id
    account_id: Id
    track: Track
    fee_fen: Fen
    legacy_migration: StrictBool
    flags: list[ReasonCode]
    review_due_at: Timestamp


class CertificationApproved(EventData):
    """`certification.approved`: the account is professional until `valid_until`.
    `fee_fen` repeats the fee charged on entering review (interest: 0)."""

    application_id: Id
    account_id: Id
    track: Track
    fee_fen: Fen
    legacy_migration: StrictBool
    certified_at: Timestamp
    valid_until: Timestamp


class CertificationRejected(EventData):
    """`certification.rejected`: by the pre-checks (no fee charged) or by the review
    (the fee charged on entering review is not refunded)."""

    application_id: Id
    account_id: Id
    track: Track
    stage: Literal["pre_check", "review"]
    reasons: list[ReasonCode] = Field(min_length=1)


INPUTS: dict[str, type[BaseModel]] = {
    "certification.submitted": CertificationSubmitted,
    "certification.reviewed": CertificationReviewed,
}

RESULTS: dict[str, type[BaseModel]] = {
    "certification.pending_review": CertificationPendingReview,
    "certification.approved": CertificationApproved,
    "certification.rejected": CertificationRejected,
}
