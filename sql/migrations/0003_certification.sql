-- Certification: applications, the professional accounts they certify, the legacy window.

CREATE TABLE certification_applications (
    application_id   text        PRIMARY KEY,
    account_id       text        NOT NULL,
    account_name     text        NOT NULL,
    track            text        NOT NULL CHECK (track IN ('enterprise', 'professional', 'interest')),
    profession       text,                   -- professional track only
    enterprise_uscc  text,                   -- enterprise track only
    status           text        NOT NULL CHECK (status IN ('pending_review', 'approved', 'rejected')),
    fee_fen          bigint      NOT NULL CHECK (fee_fen >= 0),   -- 0 when rejected by the pre-checks
    legacy_migration boolean     NOT NULL DEFAULT false,
    reasons          text[]      NOT NULL DEFAULT '{}',
    flags            text[]      NOT NULL DEFAULT '{}',
    submitted_at     timestamptz NOT NULL,   -- the submission event's time
    review_due_at    timestamptz,            -- set while the application is (or was) in review
    decided_at       timestamptz,
    reviewer         text,                   -- null for automatic decisions
    valid_until      timestamptz,            -- approved applications only
    event_source     text        NOT NULL,   -- the submission event, for audit
    event_id         text        NOT NULL,
    CHECK ((status = 'pending_review') = (decided_at IS NULL)),
    CHECK ((status = 'approved') = (valid_until IS NOT NULL))
);
CREATE INDEX certification_applications_account ON certification_applications (account_id);
-- At most one application per account in review; the handler also serialises per account.
CREATE UNIQUE INDEX certification_applications_one_pending
    ON certification_applications (account_id) WHERE status = 'pending_review';
-- Monitoring lists overdue reviews: pending_review with review_due_at < now().
CREATE INDEX certification_applications_review_due
    ON certification_applications (review_due_at) WHERE status = 'pending_review';

-- One row per account that ever was certified; valid while valid_until > the time asked.
-- Read by compliance: (account_id, track, valid_until).
CREATE TABLE professional_accounts (
    account_id      text        PRIMARY KEY,
    account_name    text        NOT NULL,
    track           text        NOT NULL CHECK (track IN ('enterprise', 'professional', 'interest')),
    profession      text,
    enterprise_uscc text,
    application_id  text        NOT NULL REFERENCES certification_applications (application_id),
    certified_at    timestamptz NOT NULL,
    valid_until     timestamptz NOT NULL,
    CHECK (valid_until > certified_at)
);

INSERT INTO policies (key, value, note) VALUES (
    'certification.legacy_migration_window',
    '{"from": "2021-08-01", "to": "2021-09-30"}',
    'Inclusive Asia/Shanghai dates during which legacy enterprise accounts re-certify the same USCC for free'
) ON CONFLICT (key) DO NOTHING;
