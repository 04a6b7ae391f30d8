-- insert_entries --
-- Journal entries of one batch; returns the new ids in input order via the ordinality.
INSERT INTO journal_entries (kind, ref, booked_at, event_source, event_id)
SELECT kind, ref, booked_at, event_source, event_id
FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[])
     WITH ORDINALITY AS e(kind, ref, booked_at, event_source, event_id, n)
ORDER BY n
RETURNING id, kind, ref;

-- insert_lines --
-- Posting lines for entries already inserted.
INSERT INTO journal_lines (entry_id, account, amount_fen)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[]);

-- add_to_balances --
-- Adds per-account deltas to store balances (accounts pre-sorted by the caller).
INSERT INTO ledger_balances (account, store_id, balance_fen)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
ON CONFLICT (account) DO UPDATE SET balance_fen = ledger_balances.balance_fen + EXCLUDED.balance_fen;

-- ensure_balances --
-- Creates missing balance rows so that they can be locked.
INSERT INTO ledger_balances (account, store_id)
SELECT * FROM unnest($1::text[], $2::text[])
ON CONFLICT (account) DO NOTHING;

-- lock_balances --
-- Locks balance rows in ascending account order (the project-wide lock order); byte
-- order (COLLATE "C") so it agrees with Python's sorted() used everywhere else.
SELECT account, balance_fen FROM ledger_balances
WHERE account = ANY($1::text[])
ORDER BY account COLLATE "C"
FOR UPDATE;
