"""Wire contracts of the compliance domain: store openings and product reviews (§2.3, §2.4)."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictStr

from schema.common import (
    FREE_TEXT,
    LINE,
    AmountFen,
    Day,
    EventData,
    Fen,
    Id,
    Timestamp,
    check_entry,
    checked,
)

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
# The rules' checks of a schema-valid input, described (schema/common.py `checked`): a
# failure is a `store.rejected` / `product.rejected` / `product.flagged`, not a schema error.
CHECK = "Business check (a business result, not a schema error): "
STORE_REJECTED, PRODUCT_REJECTED = "store.rejected", "product.rejected"
OpeningStoreType = Annotated[StoreType, checked(
    CHECK + "`individual_business`, `enterprise`, `flagship` and `specialty` need an "
    "enterprise-track certification (`personal` takes any track), else "
    "`store_type_not_allowed`.", check_entry("store_type_not_allowed", STORE_REJECTED))]
OpeningStoreName = Annotated[StoreName, checked(
    CHECK + "a `personal`, `individual_business` or `enterprise` store's name holds none of "
    "the words reserved for other store types (docs/rules.md §3.2: 品牌, 旗舰, 专卖, 官方, …), "
    "else `store_name_banned_word` (the result lists them in `banned_words`).",
    check_entry("store_name_banned_word", STORE_REJECTED))]
ADVERTISING = check_entry("absolute_advertising_term", "product.flagged")
ProductTitle = Annotated[Title, checked(
    CHECK + "an absolute advertising term (最, 第一, NO.1, … docs/rules.md §3.2) holds the "
    "product for human review: `product.flagged`, `absolute_advertising_term`.", ADVERTISING)]
ProductDescription = Annotated[Description, checked(
    CHECK + "an absolute advertising term (最, 第一, NO.1, … docs/rules.md §3.2) holds the "
    "product for human review: `product.flagged`, `absolute_advertising_term`.", ADVERTISING)]
Category = Annotated[Code, checked(
    CHECK + "the taxonomy is data (docs/rules.md §3.2): an unknown category is "
    "`category_unknown`, a prohibited one `category_prohibited`, `mother_baby` in a "
    "`personal` store `category_not_allowed_for_store_type`, a restricted one without a "
    "qualification of the needed kind `qualification_missing`.",
    *(check_entry(code, PRODUCT_REJECTED) for code in (
        "category_unknown", "category_prohibited", "category_not_allowed_for_store_type",
        "qualification_missing")))]
ProductBrand = Annotated[Brand | None, checked(
    CHECK + "a `flagship` or `specialty` store selling a brand needs a `brand_authorization` "
    "qualification, else `brand_authorization_missing`.",
    check_entry("brand_authorization_missing", PRODUCT_REJECTED))]
QualificationNumber = Annotated[StrictStr, Field(min_length=1, max_length=64), LINE, checked(
    CHECK + "a needed qualification's number has its kind's format (docs/rules.md §3.2: "
    "`SC` + 14 digits for `food_production_license`, `JY` + 14 for "
    "`food_business_license`, `国妆特字G` + 8 for `cosmetics_registration`, …), else "
    "`qualification_invalid`.", check_entry("qualification_invalid", PRODUCT_REJECTED))]
QualificationValidUntil = Annotated[Day | None, checked(
    "Last day of validity; null means long-term. " + CHECK + "a needed qualification "
    "valid until before the submission date is `qualification_expired`.",
    check_entry("qualification_expired", PRODUCT_REJECTED))]


class StoreOpenRequested(EventData):
    """`store.open_requested`: an account asks to open its one store."""

    store_id: Id
    account_id: Id
    store_type: OpeningStoreType
    store_name: OpeningStoreName


class Qualification(EventData):
    """One document attached to a product; `valid_until` null means long-term."""

    kind: Code
    number: QualificationNumber
    valid_until: QualificationValidUntil


class ProductSubmitted(EventData):
    """`product.submitted`: a product (new, or a new version of an existing one) for review."""

    product_id: Id
    store_id: Id
    title: ProductTitle
    description: ProductDescription
    category: Category
    price_fen: AmountFen
    brand: ProductBrand = None
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
