"""The demo's story, first half: merchants get certified, open stores, pay deposits, list products.

Every builder returns a `Phase`: the events to publish, what each one should answer, and
what must have arrived before the next phase starts. Builders of later phases read the
answers of earlier ones (the audit answers the applications that went to review, stores
open for the accounts that were certified). Ids carry the run's tag, so runs never collide.

The story's calendar is fixed in Asia/Shanghai, inside the 2021 legacy migration window
(2021-08-01..09-30), so that the legacy merchant re-certifies for free; every rule reads
the event's time, never the wall clock, so a fixed calendar replays the same anywhere.
"""

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from handlers.base import SHANGHAI
from handlers.certification.rules import compute_id_check_char, compute_uscc_check_char


def at(day: str, hm: str = "10:00") -> datetime:
    """An instant of the story, in Asia/Shanghai."""
    return datetime.fromisoformat(f"{day}T{hm}:00").replace(tzinfo=SHANGHAI)


SUBMITTED_AT = at("2021-08-02", "09:00")  # a Monday inside the legacy window
RESUBMITTED_AT = at("2021-08-03", "09:30")
REVIEWED_AT = at("2021-08-04", "15:00")  # within the 3-working-day review SLA

INBOX = "inbox"  # expect: processed (an inbox row), no result event
DLQ = "dlq"  # expect: only a DLQ copy (the body has no id to name an event.rejected by)



@dataclass(frozen=True)
class Planned:
    """One event to publish and what it should answer."""

    body: dict[str, Any] | bytes  # bytes: published raw, past the publisher's checks
    routing_key: str
    event_id: str | None
    source: str
    expect: str  # a result type, INBOX or DLQ
    reasons: frozenset[str] | None = None  # exactly these reason codes
    fields: Mapping[str, Any] = field(default_factory=dict)  # result data to match
    label: str = ""  # a named case of the story, listed in the checks table
    answer_types: frozenset[str] | None = None  # results that answer it (None: any)
    dlq_domain: str | None = None  # must also land in this domain's DLQ
    marker: str = ""  # a string of the body that finds it in the DLQ


class Answers(Protocol):
    """The result events seen so far."""

    def caused_by(self, event_id: str) -> list[dict[str, Any]]: ...
    def about(self, result_type: str, subject: str) -> dict[str, Any] | None: ...


@dataclass
class Phase:
    name: str
    planned: list[Planned]
    # Results that must arrive besides the answers, by type: subjects (settlement.paid).
    awaited: dict[str, set[str]] = field(default_factory=dict)
    # Story checks over the answers once the phase is complete: a list of surprises.
    check: Callable[[Answers], list[str]] | None = None

    def answers(self, seen: Answers) -> list[dict[str, Any]]:
        """Every result caused by this phase's events."""
        return [r for p in self.planned if p.event_id for r in seen.caused_by(p.event_id)]


@dataclass
class Account:
    account_id: str
    name: str
    track: str
    role: str  # a named case of the story, or "" for the crowd
    company: str = ""
    brand: str = ""


@dataclass
class Store:
    store_id: str
    account: Account
    store_type: str
    name: str


SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
GIVEN = tuple("小明 丽华 建国 晓燕 志强 海燕 文博 静怡 子涵 思远 雨桐 浩然".split())
BRANDS = tuple("云杉 青禾 拾光 山海 北辰 南风 木棉 星河 知竹 白鹭 松果 远山".split())
TRADES = ("茶业", "服饰", "家居", "数码", "文化", "体育", "食品", "日化")
FIELDS = ("茶文化", "户外运动", "摄影", "烘焙", "数码测评", "亲子阅读", "手作", "园艺")
DIVISIONS = ("440300", "310115", "110105", "330106", "510104", "420106")


class Story:
    """The run's cast and the events of the merchant half of the story."""

    def __init__(self, tag: str, applications: int, seed: int = 2021) -> None:
        self.tag = tag
        self.size = applications  # applications in the crowd and the cast
        self.rng = random.Random(seed)
        self.seq = 0
        self.accounts: dict[str, Account] = {}
        self.stores: dict[str, Store] = {}  # opened
        self.planned_stores: dict[str, Store] = {}
        self.cast: dict[str, Account] = {}
        self.cast_stores: dict[str, Store] = {}
        self.product_labels: dict[str, str] = {}

    # ---- helpers -----------------------------------------------------------------------
    def event(self, event_type: str, source: str, data: dict[str, Any], time: datetime,
              expect: str, **kw: Any) -> Planned:
        self.seq += 1
        event_id = f"{self.tag}-e{self.seq:05d}"
        body = {"specversion": "1.0", "id": event_id, "source": source, "type": event_type,
                "time": time.isoformat(), "datacontenttype": "application/json", "data": data}
        return Planned(body, event_type, event_id, source, expect, marker=event_id, **kw)

    def uscc(self) -> str:
        """A valid Unified Social Credit Code (GB 32100-2015)."""
        org = "".join(self.rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
        body = "91" + self.rng.choice(DIVISIONS) + org
        return body + compute_uscc_check_char(body)

    def resident_id(self) -> str:
        """A valid 18-character resident id (GB 11643-1999), born 1965-1999."""
        born = date(1965, 1, 1) + timedelta(days=self.rng.randrange(35 * 365))
        body = f"{self.rng.choice(DIVISIONS)}{born:%Y%m%d}{self.rng.randrange(1000):03d}"
        return body + compute_id_check_char(body)

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def account(self, key: str, track: str, role: str = "") -> Account:
        brand = self.rng.choice(BRANDS)
        company = f"{brand}{self.rng.choice(TRADES)}有限公司"
        name = {"enterprise": brand + self.rng.choice(TRADES), "professional": self.person(),
                "interest": self.person() + "的" + self.rng.choice(FIELDS)}[track]
        acc = Account(f"{self.tag}-acc-{key}", name, track, role, company, brand)
        self.accounts[acc.account_id] = acc
        if role:
            self.cast[role] = acc
        return acc

    def submitted(self, acc: Account, expect: str, time: datetime = SUBMITTED_AT,
                  app_key: str = "", reasons: tuple[str, ...] = (), **docs: Any) -> Planned:
        """A certification.submitted with sound documents unless `docs` overrides them;
        `reasons` are the rejection's expected reasons, all of them at once."""
        data: dict[str, Any] = {"application_id": f"{acc.account_id}-app{app_key}",
                                "account_id": acc.account_id,
                                "account_name": docs.pop("account_name", acc.name),
                                "track": docs.pop("track", acc.track)}
        legacy = docs.pop("legacy_enterprise_uscc", None)
        if data["track"] == "enterprise":
            data["enterprise"] = {"company_name": acc.company, "uscc": self.uscc(),
                                  "license_valid_until": None, "operator_name": self.person(),
                                  "operator_id_number": self.resident_id()}
            data["enterprise"].update(docs)
            if legacy is not None:
                data["legacy_enterprise_uscc"] = (data["enterprise"]["uscc"] if legacy == "same"
                                                  else legacy)
        elif data["track"] == "professional":
            profession = docs.pop("profession", self.rng.choice(("lawyer", "doctor", "teacher")))
            digits = 15 if profession == "doctor" else 17
            data["professional"] = {
                "profession": profession,
                "credential_number": "".join(self.rng.choice("0123456789")
                                             for _ in range(digits)),
                "credential_valid_until": "2030-06-30", "holder_name": self.person(),
                "holder_id_number": self.resident_id()}
            data["professional"].update(docs)
        else:
            data["interest"] = {"field": self.rng.choice(FIELDS)}
        return self.event("certification.submitted", "account-service", data, time, expect,
                          reasons=frozenset(reasons) if reasons else None, label=acc.role)

    # ---- phases ------------------------------------------------------------------------
    def applications(self) -> Phase:
        """Applications on all three tracks: a crowd, and the named cases of the story."""
        bad_id = self.resident_id()
        bad_id = bad_id[:17] + ("0" if bad_id[17] != "0" else "1")
        cast = [
            self.submitted(self.account("legacy", "enterprise", "legacy migration in window"),
                           "certification.pending_review", legacy_enterprise_uscc="same"),
            self.submitted(self.account("changed", "enterprise", "legacy with a new USCC"),
                           "certification.pending_review", legacy_enterprise_uscc=self.uscc()),
            self.submitted(self.account("pilot", "enterprise", "pilot-era USCC checksum"),
                           "certification.pending_review", uscc=self._pilot_uscc()),
            self.submitted(self.account("twice", "enterprise", "applies twice"),
                           "certification.pending_review"),
            self.submitted(
                self.account("bad-ent", "enterprise", "four pre-check failures"),
                "certification.rejected", reasons=("uscc_malformed", "id_number_invalid",
                                                   "document_expiring", "account_name_invalid"),
                uscc="91440300MA5F", operator_id_number=bad_id,
                license_valid_until="2021-09-30", account_name="好店@深圳"),
            self.submitted(self.account("lawyer12", "professional", "legacy 12-digit lawyer"),
                           "certification.pending_review", profession="lawyer",
                           credential_number="440120081234"),
            self.submitted(self.account("bad-doc", "professional", "two pre-check failures"),
                           "certification.rejected",
                           reasons=("credential_invalid", "id_number_invalid"),
                           profession="doctor", credential_number="11010519850312001",
                           holder_id_number="110105199013320017"),
            self.submitted(self.account("audit-no", "professional", "rejected by the audit"),
                           "certification.pending_review", profession="teacher"),
            self.submitted(self.account("wrong-track", "professional", "doctor asks specialty"),
                           "certification.pending_review", profession="doctor"),
            self.submitted(self.account("banned", "interest", "banned words in store name"),
                           "certification.approved"),
            self.submitted(self.account("second", "interest", "asks for a second store"),
                           "certification.approved"),
            self.submitted(self.account("renew", "interest", "renews too early"),
                           "certification.approved"),
            self.submitted(self.account("tiny", "interest", "one-character name"),
                           "certification.rejected", reasons=("account_name_invalid",),
                           account_name="茶"),
        ]
        cast[0] = with_(cast[0], fields={"fee_fen": 0, "legacy_migration": True})
        cast[1] = with_(cast[1], fields={"fee_fen": 60000, "legacy_migration": False})
        cast[2] = with_(cast[2], fields={"fee_fen": 60000, "flags": ["uscc_checksum_mismatch"]})
        crowd = []
        for i in range(max(0, self.size - len(cast))):
            track = ("interest", "interest", "interest", "interest", "professional",
                     "professional", "professional", "enterprise", "enterprise",
                     "enterprise")[i % 10]
            acc = self.account(f"{i:04d}", track)
            if i % 15 == 14:  # a crowd of careless applicants, every reason at once
                crowd.append(self._careless(acc))
            else:
                crowd.append(self.submitted(acc, "certification.approved" if track == "interest"
                                            else "certification.pending_review"))
        return Phase("certification: applications", cast + crowd)

    def _pilot_uscc(self) -> str:
        good = self.uscc()
        wrong = "0" if good[17] != "0" else "1"
        return good[:17] + wrong

    def _careless(self, acc: Account) -> Planned:
        if acc.track == "enterprise":
            return self.submitted(acc, "certification.rejected",
                                  reasons=("uscc_malformed", "document_expiring"),
                                  uscc="91-440300-MA5F", license_valid_until="2021-10-15")
        if acc.track == "professional":
            return self.submitted(acc, "certification.rejected",
                                  reasons=("credential_invalid", "id_number_invalid"),
                                  profession="teacher",
                                  credential_number="T2021-0042", holder_id_number="12345")
        return self.submitted(acc, "certification.rejected", reasons=("account_name_invalid",),
                              account_name="me/" + acc.name)

    def repeat_applications(self) -> Phase:
        """Accounts that apply again too soon."""
        twice, renew = self.cast["applies twice"], self.cast["renews too early"]
        return Phase("certification: repeat applications", [
            self.submitted(twice, "certification.rejected", RESUBMITTED_AT, "-2",
                           ("application_in_progress",), track="professional"),
            self.submitted(renew, "certification.rejected", RESUBMITTED_AT, "-2",
                           ("already_certified",)),
        ])

    def reviews(self, pending: Sequence[dict[str, Any]]) -> Phase:
        """The third-party audit answers every application in review."""
        planned = []
        ordered = sorted(pending, key=lambda r: str(r["data"]["application_id"]))
        for n, result in enumerate(ordered):
            data = result["data"]
            acc = self.accounts.get(data["account_id"])
            if acc is None:
                continue
            rejected = acc.role == "rejected by the audit" or (
                not acc.role and n % 12 == 5)
            body: dict[str, Any] = {"application_id": data["application_id"],
                                    "decision": "rejected" if rejected else "approved",
                                    "reasons": ["credential_unverifiable"] if rejected else [],
                                    "reviewer": "audit-partner-07"}
            expect = "certification.rejected" if rejected else "certification.approved"
            fields = {"stage": "review"} if rejected else {"fee_fen": data["fee_fen"]}
            planned.append(self.event("certification.reviewed", "audit-service", body,
                                      REVIEWED_AT, expect, fields=fields, label=acc.role))
        return Phase("certification: audit answers", planned)


def with_(p: Planned, **changes: Any) -> Planned:
    return replace(p, **changes)

