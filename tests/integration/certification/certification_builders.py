"""Certification test events and row readers, shared by the certification tests."""

import json
from datetime import datetime
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from handlers.base import Incoming
from schema.certification import CertificationReviewed, CertificationSubmitted

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2021, 8, 3, 10, 15, tzinfo=SH)  # a Tuesday inside the legacy window
ENTERPRISE = {
    "company_name": "好店科技有限公司",
    "uscc": "91350100M000100Y43",
    "license_valid_until": None,
    "operator_name": "张三",
    "operator_id_number": "11010519491231002X",
}
PROFESSIONAL = {
    "profession": "lawyer",
    "credential_number": "1" * 17,
    "credential_valid_until": "2030-12-31",
    "holder_name": "李四",
    "holder_id_number": "11010519491231002X",
}
_event_ids = count(1)


def submit(
    track: str = "enterprise", at: datetime = T0, **data: Any
) -> Incoming[CertificationSubmitted]:
    """A certification.submitted event, validated as the runtime does it (JSON mode)."""
    body: dict[str, Any] = {
        "application_id": "app-1",
        "account_id": "acc-1",
        "account_name": "好店",
        "track": track,
        track: {"enterprise": ENTERPRISE, "professional": PROFESSIONAL}.get(
            track, {"field": "cooking"}
        ),
    }
    body.update(data)
    model = CertificationSubmitted.model_validate_json(json.dumps(body))
    event_id = f"evt-{next(_event_ids)}"
    return Incoming(event_id, "account-service", "certification.submitted", at, model)


def review(
    decision: str = "approved", at: datetime = T0, **data: Any
) -> Incoming[CertificationReviewed]:
    """A certification.reviewed event from the third-party audit."""
    body: dict[str, Any] = {
        "application_id": "app-1",
        "decision": decision,
        "reasons": [] if decision == "approved" else ["license_unreadable"],
        "reviewer": "auditor-7",
    }
    body.update(data)
    model = CertificationReviewed.model_validate_json(json.dumps(body))
    event_id = f"evt-{next(_event_ids)}"
    return Incoming(event_id, "audit-service", "certification.reviewed", at, model)


async def application(pg: asyncpg.Connection, application_id: str = "app-1") -> Any:
    return await pg.fetchrow(
        "SELECT * FROM certification_applications WHERE application_id = $1", application_id
    )


async def account(pg: asyncpg.Connection, account_id: str = "acc-1") -> Any:
    return await pg.fetchrow(
        "SELECT * FROM professional_accounts WHERE account_id = $1", account_id
    )
