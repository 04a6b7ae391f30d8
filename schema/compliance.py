"""Wire contracts of the compliance domain: store openings and product reviews (§2.3, §2.4)."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictStr

from schema.common import FREE_TEXT, LINE, AmountFen, Day, EventData, Fen, Id, Timestamp

StoreType = Literal["personal", "individual_business", "enterprise", "flagship", "specialty"]
Decision = Literal["approved", "rejected"]
# Stable snake_case codes (ours, or a reviewer's own codes on product.reviewed).
ReasonCode = Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
# Category and qualification kind are free strings on the wire: the taxonomy is data in
# tables, so an unknown category is a business outcome (`category_unknown`), not a schema
# violation, and operators can add kinds without a release.
Code = Annotated[StrictStr, Field(min_length=1, max_length=64), LINE]
StoreName = Annotated[StrictStr, Field(min_length=1, max_length=64), LINE]
Title = Annotated[StrictStr, Field(min_length=1, max_length=200), LINE]
# The one multi-line text: TAB, LF and CR are kept, other control characters refused.
Description = Annotated[StrictStr, Field(max_length=20000), FREE_TEXT]
Brand = Annotated[StrictStr, Field(min_length=1, max_length=128), LINE]
Term = Annotated[StrictStr, Field(min_length=1, max_length=64), LINE]


# --- inputs -------------------------------------------------------------------------------


class StoreOpenRequested(EventData):
    """`store.open_requested`: an account asks to open its one store."""

    store_id: Id
    account_id: Id
    store_type: StoreType
    store_name: StoreName


class Qualification(EventData):
    """One document attached to a product; `valid_until` null means long-term."""

    kind: Code
    number: Annotated[StrictStr, Field(min_length=1, max_length=64), LINE]
    valid_until: Day | None


class ProductSubmitted(EventData):
    """`product.submitted`: a product (new, or a new version of an existing one) for review."""

    product_id: Id
    store_id: Id
    title: Title
    description: Description
    category: Code
    price_fen: AmountFen
    brand: Brand | None = None
    qualifications: Annotated[list[Qualification], Field(max_length=20)]


class ProductReviewed(EventData):
    """`product.reviewed`: a human reviewer's decision on a flagged product."""

    product_id: Id
    decision: Decision
    reasons: Annotated[list[ReasonCode], Field(max_length=20)]
    reviewer: Id


# --- results ------------------------------------------------------------------------------


class StoreOpened(EventData):
    """`store.opened`: the store is open and bound to its account."""

    store_id: Id
    account_id: Id
    store_type: StoreType
    store_name: StoreName
    deposit_plan: Literal["standard"]
    deposit_required_fen: Fen
    opened_at: Timestamp


class StoreRejected(EventData):
    """`store.rejected`: every reason the opening was refused; `banned_words` found in the name."""

    store_id: Id
    account_id: Id
    store_type: StoreType
    reasons: list[ReasonCode]
    banned_words: list[Term]


class TermMatch(EventData):
    """One advertising term and the field (`title` or `description`) it was found in."""

    term: Term
    field: Literal["title", "description"]


class ProductApproved(EventData):
    """`product.approved`: on the shelf; `reviewer` is set when a human cleared a flag."""

    product_id: Id
    store_id: Id
    reasons: list[ReasonCode]
    status: Literal["approved", "listed"]
    reviewer: Id | None


class ProductRejected(EventData):
    """`product.rejected`: every reason at once (rule codes, or the reviewer's codes)."""

    product_id: Id
    store_id: Id
    reasons: list[ReasonCode]
    reviewer: Id | None


class ProductFlagged(EventData):
    """`product.flagged`: held for human review with the absolute terms found and where."""

    product_id: Id
    store_id: Id
    reasons: list[ReasonCode]
    terms: list[Term]
    matches: list[TermMatch]


INPUTS: dict[str, type[BaseModel]] = {
    "store.open_requested": StoreOpenRequested,
    "product.submitted": ProductSubmitted,
    "product.reviewed": ProductReviewed,
}

RESULTS: dict[str, type[BaseModel]] = {
    "store.opened": StoreOpened,
    "store.rejected": StoreRejected,
    "product.approved": ProductApproved,
    "product.rejected": ProductRejected,
    "product.flagged": ProductFlagged,
}
