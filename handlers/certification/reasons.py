"""Reason codes the certification domain emits (rejections, review flags, errors).

A rejection by the review carries the auditor's own codes as they came in
`certification.reviewed`; those belong to the auditor's catalogue, not this one."""

REASONS: dict[str, str] = {
    # certification.rejected by the pre-checks
    "uscc_malformed": (
        "The USCC is not 18 characters of GB 32100-2015's charset with digits in positions 3-8."
    ),
    "id_number_invalid": (
        "The operator's or holder's resident id number fails GB 11643-1999 "
        "(format, birth date or check character)."
    ),
    "credential_invalid": (
        "The credential number does not fit the profession "
        "(lawyer 17 or legacy 12 digits, doctor 15, teacher 17)."
    ),
    "document_expiring": (
        "A document expires before the submission date (Asia/Shanghai) plus 3 calendar months."
    ),
    "account_name_invalid": "The account name is not 2-24 characters or contains '@', '《' or '/'.",
    "application_in_progress": "The account already has an application in review.",
    "already_certified": "The account's certification is valid for more than 30 more days.",
    # certification.pending_review flags: not rejections, hints for the reviewer
    "uscc_checksum_mismatch": (
        "The USCC is well-formed but its check character disagrees "
        "(legal for pilot-era codes): the reviewer checks it."
    ),
    # errors raised to the runtime
    "application_unknown": (
        "A review arrived for an application not seen yet; retried, as events can arrive "
        "out of order."
    ),
    "application_already_decided": (
        "A review contradicts the decision already recorded for the application (to the DLQ)."
    ),
    "application_id_conflict": (
        "An application id was submitted again for another account or track (to the DLQ)."
    ),
    "policy_invalid": (
        "The certification.legacy_migration_window policy is missing or malformed "
        "(retried until an operator fixes it)."
    ),
}
