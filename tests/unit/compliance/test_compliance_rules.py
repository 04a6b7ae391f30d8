"""Pure compliance rules: store openings, product review, qualification formats, terms."""

import unicodedata
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from handlers.compliance import rules
from handlers.compliance.reasons import REASONS
from handlers.compliance.rules import (
    Category,
    Certification,
    ProductFacts,
    QualificationDoc,
    Store,
    StoreRequest,
    StoreTypePolicy,
    Taxonomy,
)

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2021, 8, 3, 10, 15, tzinfo=SH)
TODAY = date(2021, 8, 3)
LATER = NOW + timedelta(days=200)
EARLIER = NOW - timedelta(days=1)

# The policy data of docs/rules.md §3.2, written out here as the seed migration should hold it.
BANNED = ("品牌", "旗舰", "专卖", "集合", "官方", "快闪", "专营", "直营", "官方认证", "官方授权",
          "特许经营", "特许经销", "实体")
POLICIES = {
    "personal": StoreTypePolicy(None, 100000, None, BANNED),
    "individual_business": StoreTypePolicy("enterprise", 100000, None, BANNED),
    "enterprise": StoreTypePolicy("enterprise", 2000000, None, BANNED),
    "flagship": StoreTypePolicy("enterprise", 2000000, "brand_authorization"),
    "specialty": StoreTypePolicy("enterprise", 2000000, "brand_authorization"),
}
TERMS = ("最", "最佳", "最好", "第一", "唯一", "首个", "首选", "顶级", "国家级", "世界级", "极品",
         "销量冠军", "独家", "万能", "绝对", "NO.1", "TOP1")
PROVINCES = tuple("京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川黔滇藏陕甘青宁新")
ORDINARY = ("apparel", "home", "digital", "books", "sports", "mother_baby")
PROHIBITED = ("tobacco", "weapons", "prescription_drugs", "gambling")
CATEGORIES = {
    **{c: Category(c, "ordinary") for c in ORDINARY},
    "mother_baby": Category("mother_baby", "ordinary",
                            excluded_store_types=frozenset({"personal"})),
    "cosmetics_special": Category("cosmetics_special", "restricted",
                                  (frozenset({"cosmetics_registration"}),)),
    "cosmetics_ordinary": Category("cosmetics_ordinary", "restricted",
                                   (frozenset({"cosmetics_filing"}),)),
    "food": Category("food", "restricted",
                     (frozenset({"food_production_license", "food_business_license"}),)),
    **{c: Category(c, "prohibited") for c in PROHIBITED},
}
KIND_FORMATS = {
    "cosmetics_registration": "cosmetics_registration",
    "cosmetics_filing": "cosmetics_filing",
    "food_production_license": "food_production_license",
    "food_business_license": "food_business_license",
    "brand_authorization": "free_text",
}
TAXONOMY = Taxonomy(CATEGORIES, KIND_FORMATS, PROVINCES, TERMS)

ENTERPRISE = Certification("enterprise", LATER)
PROFESSIONAL = Certification("professional", LATER)
INTEREST = Certification("interest", LATER)
EXPIRED_ENTERPRISE = Certification("enterprise", EARLIER)

REG = QualificationDoc("cosmetics_registration", "国妆特字G20210001", date(2026, 1, 1))
FILING = QualificationDoc("cosmetics_filing", "粤G妆网备字2021000001", None)
FOOD_SC = QualificationDoc("food_production_license", "SC10644030500123", None)
FOOD_JY = QualificationDoc("food_business_license", "JY14403050012345", date(2025, 1, 1))
BRAND = QualificationDoc("brand_authorization", "AUTH-2021-7", date(2022, 8, 1))


def request(store_type: str = "personal", name: str = "阿珍的小店") -> StoreRequest:
    return StoreRequest("s-1", "a-1", store_type, name)


def store(store_type: str = "enterprise", status: str = "open") -> Store:
    return Store("s-1", "a-1", store_type, "好店", status)


def product(**changes: object) -> ProductFacts:
    base = ProductFacts("纯棉短袖T恤", "夏季新款，透气舒适。", "apparel", None, ())
    return replace(base, **changes)  # type: ignore[arg-type]


def decide(facts: ProductFacts, shop: Store | None = None,
           cert: Certification | None = ENTERPRISE) -> rules.ProductDecision:
    return rules.decide_product(facts, store() if shop is None else shop, cert, POLICIES,
                                TAXONOMY, NOW)


def fullwidth(text: str) -> str:
    """ASCII -> its full-width form (U+FF01..U+FF5E), as a Chinese input method types it."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# --- store.open_requested -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("store_type", "name", "cert", "has_store", "reasons", "banned"),
    [
        ("personal", "阿珍的小店", PROFESSIONAL, False, (), ()),
        ("personal", "阿珍的小店", INTEREST, False, (), ()),
        ("personal", "阿珍的小店", ENTERPRISE, False, (), ()),
        ("individual_business", "老王五金", ENTERPRISE, False, (), ()),
        ("enterprise", "好店科技", ENTERPRISE, False, (), ()),
        ("flagship", "好店官方旗舰店", ENTERPRISE, False, (), ()),
        ("specialty", "好店品牌专卖店", ENTERPRISE, False, (), ()),
        ("personal", "阿珍的小店", None, False, ("account_not_professional",), ()),
        # a certification valid until exactly the event's time is no longer valid
        ("personal", "阿珍的小店", Certification("interest", NOW), False,
         ("account_not_professional",), ()),
        ("enterprise", "好店科技", EXPIRED_ENTERPRISE, False, ("account_not_professional",), ()),
        ("enterprise", "好店科技", None, False,
         ("account_not_professional", "store_type_not_allowed"), ()),
        ("personal", "阿珍的小店", PROFESSIONAL, True, ("account_has_store",), ()),
        ("individual_business", "老王五金", PROFESSIONAL, False, ("store_type_not_allowed",), ()),
        ("enterprise", "好店科技", INTEREST, False, ("store_type_not_allowed",), ()),
        ("flagship", "好店旗舰店", PROFESSIONAL, False, ("store_type_not_allowed",), ()),
        ("specialty", "好店专卖店", INTEREST, False, ("store_type_not_allowed",), ()),
        ("personal", "阿珍旗舰店", PROFESSIONAL, False, ("store_name_banned_word",), ("旗舰",)),
        ("individual_business", "老王快闪店", ENTERPRISE, False, ("store_name_banned_word",),
         ("快闪",)),
        ("enterprise", "好店官方认证店", ENTERPRISE, False, ("store_name_banned_word",),
         ("官方认证",)),
        ("enterprise", "好店官方直营实体店", ENTERPRISE, False, ("store_name_banned_word",),
         ("官方", "直营", "实体")),
        ("personal", "阿珍品\u200b牌店", PROFESSIONAL, False, ("store_name_banned_word",),
         ("品牌",)),
        ("enterprise", "品牌旗舰", None, True,
         ("account_not_professional", "account_has_store", "store_type_not_allowed",
          "store_name_banned_word"), ("品牌", "旗舰")),
    ],
)
def test_store_opening_reports_every_reason(store_type: str, name: str,
                                            cert: Certification | None, has_store: bool,
                                            reasons: tuple[str, ...],
                                            banned: tuple[str, ...]) -> None:
    decision = rules.decide_store_opening(request(store_type, name), cert, has_store,
                                          POLICIES[store_type], NOW)
    assert decision.reasons == reasons
    assert decision.banned_words == banned
    assert decision.opened is (not reasons)


@pytest.mark.parametrize(
    ("store_type", "deposit_fen"),
    [("personal", 100000), ("individual_business", 100000), ("enterprise", 2000000),
     ("flagship", 2000000), ("specialty", 2000000)],
)
def test_opened_store_owes_the_standard_deposit(store_type: str, deposit_fen: int) -> None:
    decision = rules.decide_store_opening(request(store_type, "好店"), ENTERPRISE, False,
                                          POLICIES[store_type], NOW)
    assert decision.deposit_required_fen == deposit_fen
    assert isinstance(decision.deposit_required_fen, int)


def test_rejected_store_owes_no_deposit() -> None:
    decision = rules.decide_store_opening(request(), None, False, POLICIES["personal"], NOW)
    assert decision.deposit_required_fen is None


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        (None, "new"),
        (Store("s-1", "a-1", "personal", "阿珍的小店", "open"), "same"),
        (Store("s-1", "a-2", "personal", "阿珍的小店", "open"), "conflict"),
        (Store("s-1", "a-1", "enterprise", "阿珍的小店", "open"), "conflict"),
        (Store("s-1", "a-1", "personal", "阿珍的大店", "open"), "conflict"),
    ],
)
def test_request_for_an_open_store_id_is_a_repeat_or_a_conflict(existing: Store | None,
                                                                 expected: str) -> None:
    assert rules.check_store_repeat(existing, request()) == expected


# --- product.submitted: one row per reason code -------------------------------------------


@pytest.mark.parametrize(
    ("facts", "shop", "cert", "reasons"),
    [
        pytest.param(product(), Store("s-1", "a-1", "enterprise", "x", "closed"), ENTERPRISE,
                     ("store_not_open",), id="store_closed"),
        pytest.param(product(), None, None, ("store_not_open",), id="store_unknown"),
        pytest.param(product(), store(), EXPIRED_ENTERPRISE, ("certification_expired",),
                     id="certification_expired"),
        pytest.param(product(), store(), None, ("certification_expired",),
                     id="certification_gone"),
        pytest.param(product(category="tobacco"), store(), ENTERPRISE,
                     ("category_prohibited",), id="category_prohibited"),
        pytest.param(product(category="fireworks"), store(), ENTERPRISE,
                     ("category_unknown",), id="category_unknown"),
        pytest.param(product(category="food"), store(), ENTERPRISE,
                     ("qualification_missing",), id="qualification_missing"),
        pytest.param(product(category="food", qualifications=(REG,)), store(), ENTERPRISE,
                     ("qualification_missing",), id="qualification_of_wrong_kind"),
        pytest.param(product(category="food", qualifications=(
            replace(FOOD_SC, number="SC1064403050012"),)), store(), ENTERPRISE,
                     ("qualification_invalid",), id="qualification_invalid"),
        pytest.param(product(category="cosmetics_special", qualifications=(
            replace(REG, valid_until=date(2021, 8, 2)),)), store(), ENTERPRISE,
                     ("qualification_expired",), id="qualification_expired"),
        pytest.param(product(category="cosmetics_ordinary", qualifications=(
            replace(FILING, number="港G妆网备字2021000001", valid_until=date(2020, 1, 1)),)),
                     store(), ENTERPRISE, ("qualification_invalid", "qualification_expired"),
                     id="qualification_invalid_and_expired"),
        pytest.param(product(category="mother_baby"), store("personal"), PROFESSIONAL,
                     ("category_not_allowed_for_store_type",),
                     id="category_not_allowed_for_store_type"),
        pytest.param(product(brand="好牌"), store("flagship"), ENTERPRISE,
                     ("brand_authorization_missing",), id="brand_authorization_missing"),
        pytest.param(product(brand="好牌", qualifications=(
            replace(BRAND, valid_until=date(2021, 1, 1)),)), store("specialty"), ENTERPRISE,
                     ("brand_authorization_missing", "qualification_expired"),
                     id="brand_authorization_expired"),
        pytest.param(product(brand="好牌", qualifications=(
            replace(BRAND, number=" \u3000"),)), store("flagship"), ENTERPRISE,
                     ("brand_authorization_missing", "qualification_invalid"),
                     id="brand_authorization_blank"),
        pytest.param(
            product(category="food", title="第一好吃", qualifications=(
                replace(FOOD_JY, valid_until=date(2020, 12, 31)),)),
            Store("s-1", "a-1", "personal", "x", "closed"), EXPIRED_ENTERPRISE,
            ("store_not_open", "certification_expired", "qualification_expired"),
            id="all_reasons_at_once_and_rejection_beats_flag"),
        pytest.param(
            product(category="mother_baby", brand="好牌"), store("personal"), None,
            ("certification_expired", "category_not_allowed_for_store_type"),
            id="personal_store_needs_no_brand_authorization"),
    ],
)
def test_product_rejections(facts: ProductFacts, shop: Store | None,
                            cert: Certification | None, reasons: tuple[str, ...]) -> None:
    decision = rules.decide_product(facts, shop, cert, POLICIES, TAXONOMY, NOW)
    assert decision.status == "rejected"
    assert decision.reasons == reasons
    assert decision.matches == ()


@pytest.mark.parametrize(
    ("facts", "shop"),
    [
        pytest.param(product(), store("personal"), id="ordinary"),
        *(pytest.param(product(category=c), store(), id=c) for c in ORDINARY),
        pytest.param(product(category="cosmetics_special", qualifications=(REG,)), store(),
                     id="cosmetics_special"),
        pytest.param(product(category="cosmetics_ordinary", qualifications=(FILING,)), store(),
                     id="cosmetics_ordinary"),
        pytest.param(product(category="food", qualifications=(FOOD_SC,)), store(),
                     id="food_production"),
        pytest.param(product(category="food", qualifications=(FOOD_JY,)), store(),
                     id="food_business"),
        pytest.param(product(category="food", qualifications=(
            replace(FOOD_SC, number="SC1"), FOOD_JY)), store(),
                     id="one_good_qualification_is_enough"),
        pytest.param(product(category="cosmetics_special", qualifications=(
            replace(REG, valid_until=TODAY),)), store(), id="valid_on_its_last_day"),
        pytest.param(product(brand="好牌", qualifications=(BRAND,)), store("flagship"),
                     id="flagship_with_brand_authorization"),
        pytest.param(product(brand="好牌"), store("enterprise"),
                     id="enterprise_store_needs_no_brand_authorization"),
        pytest.param(product(brand=None), store("specialty"), id="specialty_without_brand"),
        pytest.param(product(qualifications=(replace(FOOD_SC, number="bad"),)), store(),
                     id="qualification_not_needed_is_ignored"),
    ],
)
def test_product_approvals(facts: ProductFacts, shop: Store) -> None:
    assert decide(facts, shop) == rules.ProductDecision("approved", ())


def test_every_reason_code_emitted_by_the_rules_is_documented() -> None:
    emitted = {"account_not_professional", "account_has_store", "store_type_not_allowed",
               "store_name_banned_word", "store_not_open", "certification_expired",
               "category_prohibited", "category_unknown", "qualification_missing",
               "qualification_invalid", "qualification_expired",
               "category_not_allowed_for_store_type", "brand_authorization_missing",
               rules.FLAGGED_REASON, "rejected_by_reviewer"}
    assert emitted <= REASONS.keys()


# --- qualification number formats ----------------------------------------------------------


@pytest.mark.parametrize(
    ("number_format", "number", "ok"),
    [
        ("cosmetics_registration", "国妆特字G20210001", True),
        ("cosmetics_registration", "国妆特进字J20210001", True),
        ("cosmetics_registration", "国妆特字Ｇ２０２１０００１", True),  # full-width
        ("cosmetics_registration", " 国妆特字G20210001 ", True),  # surrounding blanks
        ("cosmetics_registration", "国妆特字G2021000", False),  # 7 digits
        ("cosmetics_registration", "国妆特字G202100011", False),  # 9 digits
        ("cosmetics_registration", "国妆特字J20210001", False),  # domestic with J
        ("cosmetics_registration", "国妆特进字G20210001", False),  # import with G
        ("cosmetics_registration", "国妆特字g20210001", False),  # lower case
        ("cosmetics_registration", "国妆特字G2021 0001", False),
        ("cosmetics_registration", "国妆特字G٢٠٢١٠٠٠١", False),  # Arabic-Indic digits
        ("cosmetics_registration", "粤G妆网备字2021000001", False),
        ("cosmetics_filing", "粤G妆网备字2021000001", True),
        ("cosmetics_filing", "京G妆网备字2021000001", True),
        ("cosmetics_filing", "黔G妆网备字2021000001", True),
        ("cosmetics_filing", "国妆网备进字(沪)2021000001", True),
        ("cosmetics_filing", "国妆网备进字（沪）2021000001", True),  # full-width parentheses
        ("cosmetics_filing", "国妆网备进字（沪)2021000001", True),  # mixed
        ("cosmetics_filing", "粤G妆网备字２０２１０００００１", True),  # full-width digits
        ("cosmetics_filing", "港G妆网备字2021000001", False),  # not a mainland province
        ("cosmetics_filing", "广东G妆网备字2021000001", False),  # full name, not short name
        ("cosmetics_filing", "G妆网备字2021000001", False),
        ("cosmetics_filing", "粤G妆网备字202100000", False),  # 9 digits
        ("cosmetics_filing", "粤G妆网备字20210000011", False),  # 11 digits
        ("cosmetics_filing", "国妆网备进字[沪]2021000001", False),
        ("cosmetics_filing", "国妆网备进字沪2021000001", False),
        ("cosmetics_filing", "国妆网备进字(港)2021000001", False),
        ("cosmetics_filing", "国妆特字G20210001", False),
        ("food_production_license", "SC10644030500123", True),
        ("food_production_license", "ＳＣ１０６４４０３０５００１２３", True),  # full-width
        ("food_production_license", "sc10644030500123", False),  # lower case
        ("food_production_license", "SC1064403050012", False),  # 13 digits
        ("food_production_license", "SC106440305001234", False),  # 15 digits
        ("food_production_license", "JY10644030500123", False),
        ("food_production_license", "SC1064403050012X", False),
        ("food_business_license", "JY14403050012345", True),
        ("food_business_license", "ＪＹ14403050012345", True),
        ("food_business_license", "jy14403050012345", False),
        ("food_business_license", "JY1440305001234", False),
        ("food_business_license", "SC14403050012345", False),
        ("free_text", "AUTH-1", True),
        ("free_text", " \u3000", False),
        ("no_such_format", "SC10644030500123", False),
    ],
)
def test_qualification_number_formats(number_format: str, number: str, ok: bool) -> None:
    assert rules.check_number_format(number, number_format, PROVINCES) is ok


def test_filing_numbers_accept_every_listed_province() -> None:
    for province in PROVINCES:
        assert rules.check_number_format(f"{province}G妆网备字2021000001", "cosmetics_filing",
                                         PROVINCES)
        assert rules.check_number_format(f"国妆网备进字（{province}）2021000001",
                                         "cosmetics_filing", PROVINCES)


def test_filing_numbers_follow_the_province_table() -> None:
    assert not rules.check_number_format("粤G妆网备字2021000001", "cosmetics_filing", ("京",))
    assert not rules.check_number_format("粤G妆网备字2021000001", "cosmetics_filing", ())


# --- absolute advertising terms -----------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "description", "matches"),
    [
        ("爆款NO.1", "", (("NO.1", "title"),)),
        ("爆款no.1", "", (("NO.1", "title"),)),
        ("爆款No.1", "", (("NO.1", "title"),)),
        ("爆款ＮＯ．１", "", (("NO.1", "title"),)),  # full-width
        ("爆款ｎｏ．１", "", (("NO.1", "title"),)),
        ("T恤", "全网top1", (("TOP1", "description"),)),
        ("T恤", "全网Top1", (("TOP1", "description"),)),
        ("T恤", "全网ＴＯＰ１", (("TOP1", "description"),)),
        ("最佳选择", "", (("最佳", "title"),)),  # 最 inside 最佳 is not reported again
        ("最佳选择，最低价", "", (("最", "title"), ("最佳", "title"))),
        ("销量冠军", "国家级工艺 世界级品质", (("销量冠军", "title"), ("国家级", "description"),
                                      ("世界级", "description"))),
        ("最\u200b佳", "", (("最佳", "title"),)),  # zero-width space does not hide a term
        ("第一", "第一", (("第一", "title"), ("第一", "description"))),
        ("NO 1 TOP 1 NO1 TOP-1", "No.2 top2", ()),
        ("纯棉短袖T恤", "夏季新款，透气舒适。", ()),
    ],
)
def test_absolute_terms_are_found_with_their_field(
    title: str, description: str, matches: tuple[tuple[str, str], ...]
) -> None:
    decision = decide(product(title=title, description=description))
    expected = tuple(rules.TermMatch(t, f) for t, f in matches)
    if expected:
        assert decision == rules.ProductDecision("flagged", (rules.FLAGGED_REASON,), expected)
        assert set(decision.terms) == {t for t, _ in matches}
    else:
        assert decision.status == "approved"


def test_long_texts_full_of_terms_are_matched() -> None:
    text = "最" * 20000 + "最佳" + "NO.1" * 3000 + "唯一"
    assert rules.find_terms(text, TERMS) == ("最", "最佳", "唯一", "NO.1")


def test_overlapping_terms_are_all_reported() -> None:
    assert rules.find_terms("甲乙丙", ("甲乙", "乙丙", "乙")) == ("甲乙", "乙丙")


def test_terms_come_from_the_table_not_the_code() -> None:
    assert rules.find_terms("本店最好", ()) == ()
    assert rules.find_terms("本店良心", ("良心",)) == ("良心",)


def oracle_contains_term(text: str) -> bool:
    """The rules' 'contains a listed term, case-insensitive', on NFKC text without
    invisible format characters; written independently of rules.normalise_text."""
    norm = unicodedata.normalize("NFKC", text)
    norm = "".join(c for c in norm if unicodedata.category(c) != "Cf").casefold()
    return any(unicodedata.normalize("NFKC", t).casefold() in norm for t in TERMS)


# Characters of the terms (but not 最, a term on its own) and their neighbours, ASCII,
# full-width forms and arbitrary text: near misses are likely.
NEAR_MISS = st.text(
    alphabet=st.one_of(
        st.sampled_from("佳好第一唯首个选顶级国家世界极品销量冠军独万能绝对"
                        "NOTPnotp1.．ＮＯＴＰ１ \u200b"),
        st.characters(codec="utf-8"),
    ),
    max_size=40,
)


@given(title=NEAR_MISS, description=NEAR_MISS)
def test_text_without_a_listed_term_is_never_flagged(title: str, description: str) -> None:
    assume(not oracle_contains_term(title) and not oracle_contains_term(description))
    assert decide(product(title=title, description=description)).status == "approved"


VARIANTS = {
    "as_listed": lambda t: t,
    "lower": str.lower,
    "title": str.title,
    "fullwidth": fullwidth,
    "fullwidth_lower": lambda t: fullwidth(t.lower()),
}


@given(
    text=st.text(max_size=40),
    term=st.sampled_from(TERMS),
    variant=st.sampled_from(sorted(VARIANTS)),
    cut=st.integers(min_value=0, max_value=40),
    where=st.sampled_from(["title", "description"]),
)
def test_inserting_a_listed_term_anywhere_always_flags(text: str, term: str, variant: str,
                                                       cut: int, where: str) -> None:
    at = min(cut, len(text))
    spiked = text[:at] + VARIANTS[variant](term) + text[at:]
    facts = product(**{where: spiked})
    decision = decide(facts)
    assert decision.status == "flagged"
    norm = unicodedata.normalize("NFKC", term).casefold()
    # the term itself, or a longer listed term containing it, is reported for that field
    assert any(m.field == where and norm in unicodedata.normalize("NFKC", m.term).casefold()
               for m in decision.matches)


# --- product.reviewed ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "decision", "reasons", "expected"),
    [
        ("flagged", "approved", [], rules.ProductDecision("listed", ())),
        ("flagged", "approved", ["term_in_brand_name"],
         rules.ProductDecision("listed", ("term_in_brand_name",))),
        ("flagged", "rejected", ["misleading_claim", "misleading_claim"],
         rules.ProductDecision("rejected", ("misleading_claim",))),
        ("flagged", "rejected", [], rules.ProductDecision("rejected", ("rejected_by_reviewer",))),
        ("approved", "approved", [], None),
        ("rejected", "approved", [], None),
        ("listed", "rejected", ["x"], None),
    ],
)
def test_review_settles_only_flagged_products(status: str, decision: str, reasons: list[str],
                                              expected: rules.ProductDecision | None) -> None:
    assert rules.decide_review(status, decision, reasons) == expected  # type: ignore[arg-type]
