-- Merchant statements (docs/statements.md): one store, one Asia/Shanghai month.
-- Every block takes the store's three accounts or its id and the month's boundaries
-- [start, end) as timestamptz. A journal entry belongs to the month its `booked_at` (the
-- time of the event that caused it) falls in; balances "at" an instant are the sums of
-- the lines of entries booked before it. All blocks run in one repeatable-read snapshot.

-- account_lines --
-- One pass over the lines of the store's accounts ($1) booked before $3: per entry kind
-- and account, the debit-positive sum before $2 (the opening), the lines and sum in
-- [$2, $3) (the month's movements) and the sum before $3 (the closing). Each line's
-- entry is looked up by its key (`OFFSET 0` keeps the planner from hashing the whole
-- journal, which statistics skewed by one big store make it do for every small one).
SELECT e.kind, l.account,
       coalesce(sum(l.amount_fen) FILTER (WHERE e.booked_at < $2), 0)::bigint AS before_fen,
       count(*) FILTER (WHERE e.booked_at >= $2)::bigint AS lines,
       coalesce(sum(l.amount_fen) FILTER (WHERE e.booked_at >= $2), 0)::bigint AS month_fen,
       sum(l.amount_fen)::bigint AS until_fen
FROM journal_lines AS l
CROSS JOIN LATERAL (SELECT j.kind, j.booked_at FROM journal_entries AS j
                    WHERE j.id = l.entry_id OFFSET 0) AS e
WHERE l.account = ANY($1::text[]) AND e.booked_at < $3
GROUP BY e.kind, l.account
ORDER BY e.kind, l.account;

-- commission_lines --
-- The platform commission booked in [$2, $3) by the store's settlements (found through
-- the store's pending account $1: a settlement entry always has a pending line) and by
-- its clawbacks (found through the after-sales of the store $4: a clawback of 1 fen may
-- return 1 fen of commission and so book no store line at all), per entry kind.
SELECT 'settlement' AS kind, count(*)::bigint AS lines, sum(c.amount_fen)::bigint AS amount_fen
FROM journal_lines AS l
JOIN journal_entries AS e ON e.id = l.entry_id
JOIN journal_lines AS c ON c.entry_id = e.id AND c.account = 'platform:commission'
WHERE l.account = $1 AND e.kind = 'settlement' AND e.booked_at >= $2 AND e.booked_at < $3
HAVING count(*) > 0
UNION ALL
SELECT 'clawback', count(*)::bigint, sum(c.amount_fen)::bigint
FROM aftersales AS a
JOIN settlement_orders AS o ON o.order_id = a.order_id
JOIN journal_entries AS e ON e.kind = 'clawback' AND e.ref = a.aftersale_id
JOIN journal_lines AS c ON c.entry_id = e.id AND c.account = 'platform:commission'
WHERE o.store_id = $4 AND a.kind = 'clawback' AND e.booked_at >= $2 AND e.booked_at < $3
HAVING count(*) > 0;

-- store_month_totals --
-- The store-month $2 ('YYYY-MM') to date, as `ledger verify` sums it: settled nets minus
-- clawed-back refunds, order commissions minus commission returned; with the part booked
-- at or after $3 (the month's end), which later statements show.
WITH steps AS (
    SELECT o.net_fen AS net_fen, o.commission_fen AS commission_fen,
           o.settled_at AS booked_at  -- the run's time, as its settlement entry's booked_at
    FROM settlement_orders AS o
    WHERE o.store_id = $1 AND o.status = 'settled' AND o.month = $2
    UNION ALL
    SELECT -a.refund_fen, -a.commission_returned_fen, e.booked_at
    FROM aftersales AS a
    JOIN settlement_orders AS o ON o.order_id = a.order_id
    JOIN journal_entries AS e ON e.kind = 'clawback' AND e.ref = a.aftersale_id
    WHERE o.store_id = $1 AND a.kind = 'clawback' AND a.month = $2
)
SELECT coalesce(sum(net_fen), 0)::bigint AS net_fen,
       coalesce(sum(commission_fen), 0)::bigint AS commission_fen,
       count(*)::bigint AS steps,
       coalesce(sum(commission_fen) FILTER (WHERE booked_at >= $3), 0)::bigint
           AS commission_later_fen,
       count(*) FILTER (WHERE booked_at >= $3)::bigint AS steps_later
FROM steps;

-- settlement_months --
-- The store-months of the store's ($1) settlements and clawbacks booked in [$2, $3)
-- (a settlement's `settled_at` is its entry's `booked_at`: both are the run's time).
SELECT o.month
FROM settlement_orders AS o
WHERE o.store_id = $1 AND o.status = 'settled' AND o.settled_at >= $2 AND o.settled_at < $3
UNION
SELECT a.month
FROM aftersales AS a
JOIN settlement_orders AS o ON o.order_id = a.order_id
JOIN journal_entries AS e ON e.kind = 'clawback' AND e.ref = a.aftersale_id
WHERE o.store_id = $1 AND a.kind = 'clawback' AND e.booked_at >= $2 AND e.booked_at < $3
ORDER BY 1;

-- settlement_steps --
-- The store's ($1) settlements and clawbacks booked in [$2, $3), settlements first, each
-- in its store-month's booking order (entry id: the store-month's row lock serialises
-- them), with the store-month's cumulative net before and after the step, counted over
-- every step of that store-month (booked in any month); $4 are the store-months
-- (`settlement_months`). An order settled with net 0 books no entry: its cumulative
-- figures are null.
WITH steps AS (
    SELECT 'settlement' AS kind, e.id AS entry_id, coalesce(e.booked_at, o.settled_at) AS booked_at,
           o.month, o.order_id, NULL::text AS aftersale_id, o.net_fen AS delta_fen,
           o.gross_fen, o.refunded_fen, o.net_fen, o.commission_fen, o.payout_fen,
           o.debt_offset_fen, o.transferred_fen,
           NULL::bigint AS refund_fen, NULL::bigint AS commission_returned_fen,
           NULL::bigint AS store_debit_fen
    FROM settlement_orders AS o
    LEFT JOIN journal_entries AS e ON e.kind = 'settlement' AND e.ref = o.order_id
    WHERE o.store_id = $1 AND o.status = 'settled' AND o.month = ANY($4::text[])
    UNION ALL
    SELECT 'clawback', e.id, e.booked_at, a.month, a.order_id, a.aftersale_id, -a.refund_fen,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           a.refund_fen, a.commission_returned_fen, a.store_debit_fen
    FROM aftersales AS a
    JOIN settlement_orders AS o ON o.order_id = a.order_id
    JOIN journal_entries AS e ON e.kind = 'clawback' AND e.ref = a.aftersale_id
    WHERE o.store_id = $1 AND a.kind = 'clawback' AND a.month = ANY($4::text[])
), running AS (
    SELECT s.*,
           CASE WHEN s.entry_id IS NOT NULL THEN
               sum(s.delta_fen) FILTER (WHERE s.entry_id IS NOT NULL)
                   OVER (PARTITION BY s.month ORDER BY s.entry_id
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
           END::bigint AS after_fen
    FROM steps AS s
)
SELECT kind, entry_id, booked_at, month, order_id, aftersale_id,
       after_fen - delta_fen AS before_fen, after_fen,
       gross_fen, refunded_fen, net_fen, commission_fen, payout_fen, debt_offset_fen,
       transferred_fen, refund_fen, commission_returned_fen, store_debit_fen
FROM running
WHERE booked_at >= $2 AND booked_at < $3
ORDER BY kind DESC, month, entry_id NULLS LAST, order_id;

-- refunds --
-- Refunds closed before settlement on the store's ($1) orders, booked in [$2, $3).
SELECT e.booked_at, a.aftersale_id, a.order_id, a.refund_fen
FROM aftersales AS a
JOIN settlement_orders AS o ON o.order_id = a.order_id
JOIN journal_entries AS e ON e.kind = 'refund' AND e.ref = a.aftersale_id
WHERE o.store_id = $1 AND a.kind = 'refund' AND e.booked_at >= $2 AND e.booked_at < $3
ORDER BY e.id;

-- deposit_payments --
-- The store's ($1) deposit payments booked in [$2, $3).
SELECT e.booked_at, p.payment_id, p.plan, p.amount_fen
FROM deposit_payments AS p
JOIN journal_entries AS e ON e.kind = 'deposit_paid' AND e.ref = p.payment_id
WHERE p.store_id = $1 AND e.booked_at >= $2 AND e.booked_at < $3
ORDER BY e.id;

-- deposit_refunds --
-- The store's ($1) refund requests that moved money in [$2, $3): the debt paid from the
-- deposit and the deposit refunded.
SELECT min(e.booked_at) AS booked_at, r.request_id, r.reason, r.outcome,
       r.debt_offset_fen, r.refund_fen
FROM deposit_refunds AS r
JOIN journal_entries AS e ON e.kind IN ('deposit_debt_offset', 'deposit_refund')
                         AND e.ref = r.request_id
WHERE r.store_id = $1 AND e.booked_at >= $2 AND e.booked_at < $3
GROUP BY r.request_id, r.reason, r.outcome, r.debt_offset_fen, r.refund_fen
ORDER BY min(e.id);

-- stores_page --
-- Up to $3 stores after $2 (keyset, in id order) with a line booked before $1 on one of
-- their accounts: a statement for the month ending at $1 has something to say.
SELECT DISTINCT b.store_id
FROM ledger_balances AS b
WHERE b.store_id IS NOT NULL AND b.store_id > $2
  AND EXISTS (SELECT 1 FROM journal_lines AS l
              JOIN journal_entries AS e ON e.id = l.entry_id
              WHERE l.account = b.account AND e.booked_at < $1)
ORDER BY b.store_id
LIMIT $3;
