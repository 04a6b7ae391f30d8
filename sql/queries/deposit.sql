-- insert_payments --
-- Records deposit payments (the caller sorts them by payment_id, the lock order);
-- returns the ids that were new.
INSERT INTO deposit_payments (payment_id, store_id, amount_fen, plan, paid_at, event_source, event_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::timestamptz[],
                     $6::text[], $7::text[])
ON CONFLICT (payment_id) DO NOTHING
RETURNING payment_id;

-- get_payments --
-- Payments recorded before, to tell a repeated payment from a conflicting one.
SELECT payment_id, store_id, amount_fen, plan
FROM deposit_payments
WHERE payment_id = ANY($1::text[]);

-- insert_refund_requests --
-- Claims refund requests (the caller sorts them by request_id, the lock order), undecided;
-- returns the ids that were new. A request already claimed by another transaction waits
-- here until that one commits, then counts as seen before.
INSERT INTO deposit_refunds (request_id, store_id, reason, requested_at, event_source, event_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[])
ON CONFLICT (request_id) DO NOTHING
RETURNING request_id;

-- get_refund_requests --
-- Requests recorded before, with their decision, to answer a repeated request the same way.
SELECT request_id, store_id, reason, outcome, balance_fen, required_fen, debt_fen,
       debt_offset_fen, refund_fen, reasons
FROM deposit_refunds
WHERE request_id = ANY($1::text[]);

-- mark_refund_decisions --
-- Writes the decisions of requests claimed in this transaction. Reasons travel as
-- comma-joined codes because unnest flattens a two-dimensional array.
UPDATE deposit_refunds r
SET outcome = d.outcome,
    balance_fen = d.balance_fen,
    required_fen = d.required_fen,
    debt_fen = d.debt_fen,
    debt_offset_fen = d.debt_offset_fen,
    refund_fen = d.refund_fen,
    reasons = string_to_array(d.reasons, ',')
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
            $7::bigint[], $8::text[])
     AS d(request_id, outcome, balance_fen, required_fen, debt_fen, debt_offset_fen, refund_fen,
          reasons)
WHERE r.request_id = d.request_id;

-- get_stores --
-- Stores whose opening was approved (compliance's tables), with the standard plan's
-- deposit for their type (null if the policy row is missing).
SELECT s.store_id, s.store_type, d.required_fen AS standard_required_fen
FROM stores s
LEFT JOIN deposit_requirements d ON d.plan = 'standard' AND d.store_type = s.store_type
WHERE s.store_id = ANY($1::text[]);

-- get_balances --
-- Store account balances without locking them (for stores never opened: reporting only).
SELECT account, balance_fen
FROM ledger_balances
WHERE account = ANY($1::text[]);

-- get_legacy_stores --
-- Stores among $1 holding a deposit paid under the legacy_mall plan.
SELECT DISTINCT store_id
FROM deposit_payments
WHERE store_id = ANY($1::text[]) AND plan = 'legacy_mall';

-- get_stores_with_open_obligations --
-- Stores among $1 with an unsettled order or an open after-sale (settlement's tables).
SELECT DISTINCT o.store_id
FROM settlement_orders o
WHERE o.store_id = ANY($1::text[])
  AND (o.status <> 'settled'
       OR EXISTS (SELECT 1 FROM aftersales a WHERE a.order_id = o.order_id AND a.status = 'open'));

-- mark_stores_closed --
-- Stores whose closing refund was granted (ascending store_id).
UPDATE stores SET status = 'closed' WHERE store_id = ANY($1::text[]) AND status = 'open';
