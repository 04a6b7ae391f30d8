"""Pure compliance rules: store openings, product reviews and advertising-term matching.

Everything a rule needs is a parameter: the taxonomy, term lists, banned store-name words,
provinces and deposit requirements come from tables (loaded by the handler), and "now"
is the input event's time. Rules return outcomes; they never raise for business cases.

Text is compared after normalising it (`normalise_text`): NFKC (full-width ＮＯ．１ is NO.1,
（粤） is (粤)), invisible format characters (zero-width spaces, soft hyphens) removed, and
case folded. Qualification numbers are NFKC-normalised and stripped but stay
case-sensitive: full-width characters come from Chinese input methods and mean the same
number, a lower-case `sc` does not appear on any licence.
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Literal

from handlers.base import SHANGHAI

CategoryClass = Literal["ordinary", "restricted", "prohibited"]
ProductStatus = Literal["approved", "rejected", "flagged", "listed"]
TextField = Literal["title", "description"]


# --- inputs -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Certification:
    """An account's professional certification (certification domain's table)."""

    track: str
    valid_until: datetime | None


@dataclass(frozen=True, slots=True)
class StoreRequest:
    store_id: str
    account_id: str
    store_type: str
    store_name: str


@dataclass(frozen=True, slots=True)
class Store:
    """A store as kept in `stores`."""

    store_id: str
    account_id: str
    store_type: str
    store_name: str
    status: str


@dataclass(frozen=True, slots=True)
class StoreTypePolicy:
    """Per store type: the certification track it needs (None = any), the deposit it owes
    under the standard plan, the qualification kind that authorises selling a brand (None =
    not needed) and the words its name must not contain."""

    required_track: str | None
    deposit_required_fen: int
    brand_qualification_kind: str | None
    banned_words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Category:
    """One taxonomy entry. A restricted category needs, for each group of `requirements`,
    one good qualification of any kind in the group (food: production OR business)."""

    code: str
    category_class: CategoryClass
    requirements: tuple[frozenset[str], ...] = ()
    excluded_store_types: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """What product review reads from tables: categories, the number format of each
    qualification kind, the province short names of filing numbers, advertising terms."""

    categories: Mapping[str, Category]
    kind_formats: Mapping[str, str]
    provinces: tuple[str, ...]
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QualificationDoc:
    kind: str
    number: str
    valid_until: date | None


@dataclass(frozen=True, slots=True)
class ProductFacts:
    title: str
    description: str
    category: str
    brand: str | None
    qualifications: tuple[QualificationDoc, ...]


# --- outcomes -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoreDecision:
    reasons: tuple[str, ...]
    banned_words: tuple[str, ...] = ()
    deposit_required_fen: int | None = None

    @property
    def opened(self) -> bool:
        return not self.reasons


@dataclass(frozen=True, slots=True)
class TermMatch:
    term: str
    field: TextField


@dataclass(frozen=True, slots=True)
class ProductDecision:
    status: ProductStatus
    reasons: tuple[str, ...]
    matches: tuple[TermMatch, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.term for m in self.matches))


FLAGGED_REASON = "absolute_advertising_term"


# --- text matching ------------------------------------------------------------------------


def normalise_text(text: str) -> str:
    """NFKC, without format characters (Cf), case-folded: the form terms are matched in."""
    nfkc = unicodedata.normalize("NFKC", text)
    if nfkc.isprintable():  # no Cf character can be in it: skip the per-character pass
        return nfkc.casefold()
    return "".join(c for c in nfkc if unicodedata.category(c) != "Cf").casefold()


@lru_cache(maxsize=4096)
def _normalised_term(term: str) -> str:
    """Terms repeat for every product of every batch: normalise each once."""
    return normalise_text(term)


def find_terms(text: str, terms: Sequence[str]) -> tuple[str, ...]:
    """The listed terms occurring in `text`, in list order. An occurrence lying inside an
    occurrence of a longer listed term is not reported on its own (最佳 is not also 最)."""
    haystack = normalise_text(text)
    spans: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    for term in terms:
        needle = _normalised_term(term)
        if not needle or needle in seen:
            continue
        seen.add(needle)
        start = haystack.find(needle)
        while start >= 0:
            spans.append((start, start + len(needle), term))
            start = haystack.find(needle, start + 1)
    # Sorted by start, longer first: a span is covered iff an earlier one reaches its end.
    # (n log n: a description may hold thousands of occurrences of 最.)
    kept: set[str] = set()
    reach = -1
    for _start, e, term in sorted(spans, key=lambda span: (span[0], -span[1])):
        if e > reach:
            kept.add(term)
            reach = e
    return tuple(t for t in terms if t in kept)


def check_advertising_terms(facts: ProductFacts, terms: Sequence[str]) -> tuple[TermMatch, ...]:
    """Absolute advertising terms in the title and description, with where they were found."""
    fields: tuple[tuple[TextField, str], ...] = (
        ("title", facts.title), ("description", facts.description))
    return tuple(TermMatch(term, where) for where, text in fields
                 for term in find_terms(text, terms))


# --- qualification numbers ----------------------------------------------------------------


def _digits(n: int) -> str:
    return f"[0-9]{{{n}}}"  # not \d: it also matches Arabic-Indic and other digits


@cache
def _filing_pattern(provinces: tuple[str, ...]) -> re.Pattern[str]:
    p = "|".join(re.escape(x) for x in sorted(provinces, key=len, reverse=True)) or "(?!)"
    return re.compile(rf"(?:{p})G妆网备字{_digits(10)}|国妆网备进字\((?:{p})\){_digits(10)}")


_FIXED_FORMATS: dict[str, re.Pattern[str]] = {
    "cosmetics_registration": re.compile(rf"国妆特字G{_digits(8)}|国妆特进字J{_digits(8)}"),
    "food_production_license": re.compile(rf"SC{_digits(14)}"),
    "food_business_license": re.compile(rf"JY{_digits(14)}"),
}
FORMATS: tuple[str, ...] = (*_FIXED_FORMATS, "cosmetics_filing", "free_text")


def normalise_number(number: str) -> str:
    return unicodedata.normalize("NFKC", number).strip()


def check_number_format(number: str, number_format: str, provinces: tuple[str, ...]) -> bool:
    """Whether a qualification number is well-formed for its kind's format (see FORMATS)."""
    value = normalise_number(number)
    if number_format == "free_text":
        return bool(value)
    if number_format == "cosmetics_filing":
        return _filing_pattern(provinces).fullmatch(value) is not None
    pattern = _FIXED_FORMATS.get(number_format)
    return pattern is not None and pattern.fullmatch(value) is not None


def check_expired(doc: QualificationDoc, today: date) -> bool:
    """Expired when its last valid day is before today; null means long-term."""
    return doc.valid_until is not None and doc.valid_until < today


def _requirement_reasons(
    group: frozenset[str], docs: Iterable[QualificationDoc], taxonomy: Taxonomy, today: date
) -> list[str]:
    """Why one requirement group is unmet ([] when one document satisfies it)."""
    candidates = [d for d in docs if d.kind in group]
    if not candidates:
        return ["qualification_missing"]
    reasons: list[str] = []
    for doc in candidates:
        well_formed = check_number_format(
            doc.number, taxonomy.kind_formats.get(doc.kind, ""), taxonomy.provinces)
        expired = check_expired(doc, today)
        if well_formed and not expired:
            return []
        if not well_formed:
            reasons.append("qualification_invalid")
        if expired:
            reasons.append("qualification_expired")
    return reasons


# --- decisions ----------------------------------------------------------------------------


def _ordered(reasons: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(reasons))


def check_certified(certification: Certification | None, now: datetime) -> bool:
    """A certification is valid while valid_until is after the event's time."""
    return (certification is not None and certification.valid_until is not None
            and certification.valid_until > now)


def decide_store_opening(
    request: StoreRequest,
    certification: Certification | None,
    account_has_store: bool,
    policy: StoreTypePolicy,
    now: datetime,
) -> StoreDecision:
    """Every reason to refuse the opening, or the deposit the new store owes (`policy` is
    the requested store type's)."""
    reasons: list[str] = []
    if not check_certified(certification, now):
        reasons.append("account_not_professional")
    if account_has_store:
        reasons.append("account_has_store")
    # An expired certification of the right track is reported as expired only; no
    # certification at all is also the wrong track for a store type that needs one.
    if policy.required_track is not None and (
        certification is None or certification.track != policy.required_track
    ):
        reasons.append("store_type_not_allowed")
    banned = find_terms(request.store_name, policy.banned_words)
    if banned:
        reasons.append("store_name_banned_word")
    if reasons:
        return StoreDecision(_ordered(reasons), banned)
    return StoreDecision((), (), policy.deposit_required_fen)


def check_store_repeat(
    existing: Store | None, request: StoreRequest
) -> Literal["new", "same", "conflict"]:
    """A request for a store id already open: the same request again, or another one."""
    if existing is None:
        return "new"
    same = (existing.account_id, existing.store_type, existing.store_name) == (
        request.account_id, request.store_type, request.store_name)
    return "same" if same else "conflict"


def decide_product(
    facts: ProductFacts,
    store: Store | None,
    certification: Certification | None,
    policies: Mapping[str, StoreTypePolicy],
    taxonomy: Taxonomy,
    now: datetime,
) -> ProductDecision:
    """Rejected with every reason, else flagged with the absolute terms found, else approved."""
    today = now.astimezone(SHANGHAI).date()
    reasons: list[str] = []
    if store is None or store.status != "open":
        reasons.append("store_not_open")
    if store is not None and not check_certified(certification, now):
        reasons.append("certification_expired")

    category = taxonomy.categories.get(facts.category)
    if category is None:
        reasons.append("category_unknown")
    elif category.category_class == "prohibited":
        reasons.append("category_prohibited")
    else:
        for group in category.requirements:
            reasons.extend(_requirement_reasons(group, facts.qualifications, taxonomy, today))
        if store is not None and store.store_type in category.excluded_store_types:
            reasons.append("category_not_allowed_for_store_type")

    policy = policies.get(store.store_type) if store is not None else None
    brand_kind = policy.brand_qualification_kind if policy is not None else None
    if brand_kind is not None and facts.brand is not None and facts.brand.strip():
        unmet = _requirement_reasons(
            frozenset({brand_kind}), facts.qualifications, taxonomy, today)
        if unmet:
            reasons.append("brand_authorization_missing")
            reasons.extend(r for r in unmet if r != "qualification_missing")

    if reasons:
        return ProductDecision("rejected", _ordered(reasons))
    matches = check_advertising_terms(facts, taxonomy.terms)
    if matches:
        return ProductDecision("flagged", (FLAGGED_REASON,), matches)
    return ProductDecision("approved", ())


def decide_review(
    status: str, decision: Literal["approved", "rejected"], reasons: Sequence[str]
) -> ProductDecision | None:
    """A human decision on a flagged product: approved -> `listed` (the reviewer's codes, if
    any, kept as notes), rejected with the reviewer's codes (`rejected_by_reviewer` when
    none). None when the product is not waiting for review."""
    if status != "flagged":
        return None
    if decision == "approved":
        return ProductDecision("listed", _ordered(reasons))
    return ProductDecision("rejected", _ordered(reasons) or ("rejected_by_reviewer",))

