-- lock_account --
-- Serialises all certification work of one account (transaction-scoped advisory lock),
-- taken before any application row, so that two workers never both admit an application.
SELECT pg_advisory_xact_lock(hashtextextended('certification.account:' || $1::text, 0));

-- get_application --
-- One application by id, without locking (to find its account before locking it).
SELECT application_id, account_id, track, status, fee_fen, legacy_migration
FROM certification_applications
WHERE application_id = $1;

-- get_application_accounts --
-- The accounts of known applications, to lock them in ascending order for a batch.
SELECT DISTINCT account_id
FROM certification_applications
WHERE application_id = ANY($1::text[]);

-- lock_application --
-- One application by id, locked for the review that decides it.
SELECT application_id, account_id, account_name, track, profession, enterprise_uscc,
       status, fee_fen, legacy_migration
FROM certification_applications
WHERE application_id = $1
FOR UPDATE;

-- get_account_state --
-- Whether the account has an application in review, and until when it is certified.
SELECT EXISTS (
           SELECT 1 FROM certification_applications
           WHERE account_id = $1 AND status = 'pending_review'
       ) AS has_pending_application,
       (SELECT valid_until FROM professional_accounts WHERE account_id = $1) AS certified_until;

-- get_legacy_window --
-- The legacy migration window policy as two ISO date strings (null when not set).
SELECT value ->> 'from' AS first_day, value ->> 'to' AS last_day
FROM policies
WHERE key = 'certification.legacy_migration_window';

-- insert_application --
-- A new application with the outcome of its pre-checks.
INSERT INTO certification_applications (
    application_id, account_id, account_name, track, profession, enterprise_uscc, status,
    fee_fen, legacy_migration, reasons, flags, submitted_at, review_due_at, decided_at,
    valid_until, event_source, event_id
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text[], $11::text[], $12, $13, $14, $15,
          $16, $17);

-- mark_application_decided --
-- Records the review's decision on an application in review.
UPDATE certification_applications
SET status = $2, reasons = $3::text[], decided_at = $4, reviewer = $5, valid_until = $6
WHERE application_id = $1 AND status = 'pending_review';

-- upsert_professional_account --
-- Makes the account professional until valid_until (a renewal replaces the previous term).
INSERT INTO professional_accounts (
    account_id, account_name, track, profession, enterprise_uscc, application_id,
    certified_at, valid_until
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (account_id) DO UPDATE
SET account_name = EXCLUDED.account_name,
    track = EXCLUDED.track,
    profession = EXCLUDED.profession,
    enterprise_uscc = EXCLUDED.enterprise_uscc,
    application_id = EXCLUDED.application_id,
    certified_at = EXCLUDED.certified_at,
    valid_until = EXCLUDED.valid_until;

-- list_overdue_reviews --
-- Applications still in review past their SLA deadline at $1, oldest deadline first.
SELECT application_id, account_id, track, submitted_at, review_due_at
FROM certification_applications
WHERE status = 'pending_review' AND review_due_at < $1
ORDER BY review_due_at, application_id
LIMIT $2;

-- count_overdue_reviews --
-- How many applications are in review past their SLA deadline at $1 (a monitoring gauge).
SELECT count(*) FROM certification_applications
WHERE status = 'pending_review' AND review_due_at < $1;
