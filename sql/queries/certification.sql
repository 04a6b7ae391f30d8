-- lock_accounts --
-- Serialises all certification work of a batch's accounts (transaction-scoped advisory
-- locks), taken before any application row, so that two workers never both admit an
-- application. One statement, ascending account id in code-point order ("C", the order
-- Python sorts in), so that two batches sharing accounts never deadlock.
SELECT pg_advisory_xact_lock(hashtextextended('certification.account:' || account_id, 0))
FROM unnest($1::text[]) AS account_id
ORDER BY account_id COLLATE "C";

-- get_submission_states --
-- For each (application_id, account_id) of a batch of submissions: the application
-- already stored under that id (null when new), whether the account has an application
-- in review, and until when it is certified. Read after lock_accounts.
SELECT s.application_id, s.account_id,
       a.account_id AS known_account_id,
       a.track AS known_track,
       EXISTS (
           SELECT 1 FROM certification_applications AS p
           WHERE p.account_id = s.account_id AND p.status = 'pending_review'
       ) AS has_pending_application,
       c.valid_until AS certified_until
FROM unnest($1::text[], $2::text[]) AS s(application_id, account_id)
LEFT JOIN certification_applications AS a ON a.application_id = s.application_id
LEFT JOIN professional_accounts AS c ON c.account_id = s.account_id;

-- get_application_accounts --
-- The accounts of known applications, to lock them before their application rows.
SELECT DISTINCT account_id
FROM certification_applications
WHERE application_id = ANY($1::text[]);

-- lock_applications --
-- Applications by id ($1) of the accounts already locked ($2), locked in ascending id
-- for the reviews that decide them.
SELECT application_id, account_id, account_name, track, profession, enterprise_uscc,
       status, fee_fen, legacy_migration
FROM certification_applications
WHERE application_id = ANY($1::text[]) AND account_id = ANY($2::text[])
ORDER BY application_id
FOR UPDATE;

-- get_legacy_window --
-- The legacy migration window policy as two ISO date strings (null when not set).
SELECT value ->> 'from' AS first_day, value ->> 'to' AS last_day
FROM policies
WHERE key = 'certification.legacy_migration_window';

-- insert_applications --
-- A batch's new applications with the outcome of their pre-checks, and in the same
-- statement the accounts their approvals certify (one row per account, its last
-- approval: a renewal replaces the previous term). Rows go in ascending key order.
-- reasons and flags come as comma-joined snake_case codes: unnest cannot carry ragged
-- arrays, and a reason code never holds a comma.
WITH new_applications AS (
    INSERT INTO certification_applications (
        application_id, account_id, account_name, track, profession, enterprise_uscc,
        status, fee_fen, legacy_migration, reasons, flags, submitted_at, review_due_at,
        decided_at, valid_until, event_source, event_id
    )
    SELECT application_id, account_id, account_name, track, profession, enterprise_uscc,
           status, fee_fen, legacy_migration, string_to_array(reasons, ','),
           string_to_array(flags, ','), submitted_at, review_due_at, decided_at,
           valid_until, event_source, event_id
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                $7::text[], $8::bigint[], $9::boolean[], $10::text[], $11::text[],
                $12::timestamptz[], $13::timestamptz[], $14::timestamptz[],
                $15::timestamptz[], $16::text[], $17::text[])
         AS t(application_id, account_id, account_name, track, profession, enterprise_uscc,
              status, fee_fen, legacy_migration, reasons, flags, submitted_at,
              review_due_at, decided_at, valid_until, event_source, event_id)
    ORDER BY application_id
)
INSERT INTO professional_accounts AS p (
    account_id, account_name, track, profession, enterprise_uscc, application_id,
    certified_at, valid_until
)
SELECT *
FROM unnest($18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::text[],
            $24::timestamptz[], $25::timestamptz[])
     AS t(account_id, account_name, track, profession, enterprise_uscc, application_id,
          certified_at, valid_until)
ORDER BY account_id
ON CONFLICT (account_id) DO UPDATE
SET account_name = EXCLUDED.account_name,
    track = EXCLUDED.track,
    profession = EXCLUDED.profession,
    enterprise_uscc = EXCLUDED.enterprise_uscc,
    application_id = EXCLUDED.application_id,
    certified_at = EXCLUDED.certified_at,
    valid_until = EXCLUDED.valid_until;

-- mark_applications_decided --
-- A batch's review decisions on applications in review, and in the same statement the
-- accounts their approvals certify (one row per account, as in insert_applications).
-- reasons come comma-joined, as in insert_applications.
WITH decided AS (
    UPDATE certification_applications AS a
    SET status = t.status, reasons = string_to_array(t.reasons, ','),
        decided_at = t.decided_at, reviewer = t.reviewer, valid_until = t.valid_until
    FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[],
                $6::timestamptz[])
         AS t(application_id, status, reasons, decided_at, reviewer, valid_until)
    WHERE a.application_id = t.application_id AND a.status = 'pending_review'
)
INSERT INTO professional_accounts AS p (
    account_id, account_name, track, profession, enterprise_uscc, application_id,
    certified_at, valid_until
)
SELECT *
FROM unnest($7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
            $13::timestamptz[], $14::timestamptz[])
     AS t(account_id, account_name, track, profession, enterprise_uscc, application_id,
          certified_at, valid_until)
ORDER BY account_id
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
