"""Wire models of the certification events: submissions, reviews and their results."""

from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, StrictBool, StrictStr, model_validator

from schema.common import LINE, Day, EventData, Fen, Id, Timestamp

Track = Literal["enterprise", "professional", "interest"]
Profession = Literal["lawyer", "doctor", "teacher"]
Decision = Literal["approved", "rejected"]
# Names and document numbers are checked by the rules (a bad one is a business
# rejection with a reason code), so the schema only bounds their size.
Text = Annotated[StrictStr, Field(min_length=1, max_length=200), LINE]
AccountName = Annotated[StrictStr, Field(max_length=200), LINE]
DocumentNumber = Annotated[StrictStr, Field(max_length=64), LINE]
ReasonCode = Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class EnterpriseDocuments(EventData):
    """The enterprise track's documents; a null date means long-term validity."""

    company_name: Text
    uscc: DocumentNumber
    license_valid_until: Day | None
    operator_name: Text
    operator_id_number: DocumentNumber
    trademark_certificate_no: Id | None = None


class ProfessionalDocuments(EventData):
    """The professional track's documents; a null date means long-term validity."""

    profession: Profession
    credential_number: DocumentNumber
    credential_valid_until: Day | None
    holder_name: Text
    holder_id_number: DocumentNumber


class InterestDocuments(EventData):
    """The interest track needs no documents, only the field of interest."""

    field: Text


class CertificationSubmitted(EventData):
    """`certification.submitted`: exactly one document block, the one named by `track`."""

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


class CertificationReviewed(EventData):
    """`certification.reviewed`: the third-party audit's decision. A rejection names at
    least one reason; an approval names none."""

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
