-- Invariants of the ledger and of settlement, for `haodian ledger verify`. Each block is
-- one read-only query returning the rows that break its invariant: no rows = it holds.
--
-- C(x), the commission of a store-month whose net totals x, is written out in integer
-- arithmetic wherever it is needed (same as handlers/settlement/rules.py):
--   C(x) = round_half_up(5/100 × max(0, x − 1000000))
--        = (2 × 5 × max(0, x − 1000000) + 100) / (2 × 100)    -- bigint division, x >= 0

-- journal_entry_unbalanced --
-- Journal entries whose lines do not sum to zero.
SELECT e.id AS entry_id, e.kind, e.ref, sum(l.amount_fen) AS sum_fen
FROM journal_entries AS e
JOIN journal_lines AS l ON l.entry_id = e.id
GROUP BY e.id, e.kind, e.ref
HAVING sum(l.amount_fen) <> 0
ORDER BY e.id;

-- ledger_balance_mismatch --
-- Store balances that differ from the sum of their accounts' lines (either side missing
-- counts as zero).
WITH line_sums AS (
    SELECT account, sum(amount_fen)::bigint AS lines_fen
    FROM journal_lines
    WHERE account LIKE 'store:%'
    GROUP BY account
)
SELECT coalesce(b.account, s.account) AS account,
       b.balance_fen,
       s.lines_fen
FROM ledger_balances AS b
FULL JOIN line_sums AS s ON s.account = b.account
WHERE coalesce(b.balance_fen, 0) <> coalesce(s.lines_fen, 0)
ORDER BY 1;

-- store_month_commission_mismatch --
-- Store-months whose commissions (order commissions minus commission returned by
-- clawbacks) differ from C(total net) (settled nets minus clawed-back refunds), or whose
-- running totals in store_months differ from those sums.
WITH settled AS (
    SELECT store_id, month,
           sum(net_fen)::bigint AS net_fen,
           sum(commission_fen)::bigint AS commission_fen
    FROM settlement_orders
    WHERE status = 'settled'
    GROUP BY store_id, month
), clawed AS (
    SELECT o.store_id, a.month,
           sum(a.refund_fen)::bigint AS refund_fen,
           sum(a.commission_returned_fen)::bigint AS returned_fen
    FROM aftersales AS a
    JOIN settlement_orders AS o ON o.order_id = a.order_id
    WHERE a.kind = 'clawback'
    GROUP BY o.store_id, a.month
), totals AS (
    SELECT s.store_id, s.month,
           s.net_fen - coalesce(c.refund_fen, 0) AS net_fen,
           s.commission_fen - coalesce(c.returned_fen, 0) AS commission_fen
    FROM settled AS s
    LEFT JOIN clawed AS c ON c.store_id = s.store_id AND c.month = s.month
), checked AS (
    SELECT coalesce(t.store_id, m.store_id) AS store_id,
           coalesce(t.month, m.month) AS month,
           coalesce(t.net_fen, 0) AS net_fen,
           coalesce(t.commission_fen, 0) AS commission_fen,
           m.cumulative_net_fen AS store_month_net_fen,
           m.commission_fen AS store_month_commission_fen
    FROM totals AS t
    FULL JOIN store_months AS m ON m.store_id = t.store_id AND m.month = t.month
)
SELECT store_id, month, net_fen, commission_fen,
       (2 * 5 * greatest(0, net_fen - 1000000) + 100) / (2 * 100) AS expected_commission_fen,
       store_month_net_fen, store_month_commission_fen
FROM checked
WHERE net_fen < 0
   OR commission_fen <> (2 * 5 * greatest(0, net_fen - 1000000) + 100) / (2 * 100)
   OR store_month_net_fen IS DISTINCT FROM net_fen
   OR store_month_commission_fen IS DISTINCT FROM commission_fen
ORDER BY store_id, month;

-- order_payout_mismatch --
-- Settled orders whose figures do not add up: net = gross − refunded,
-- payout + commission = net, debt offset + transferred = payout, none negative.
SELECT order_id, gross_fen, refunded_fen, net_fen, commission_fen, payout_fen,
       debt_offset_fen, transferred_fen
FROM settlement_orders
WHERE status = 'settled'
  AND (num_nulls(net_fen, commission_fen, payout_fen, debt_offset_fen, transferred_fen) > 0
       OR net_fen <> gross_fen - refunded_fen
       OR payout_fen + commission_fen <> net_fen
       OR debt_offset_fen + transferred_fen <> payout_fen
       OR least(net_fen, commission_fen, payout_fen, debt_offset_fen, transferred_fen) < 0)
ORDER BY order_id;

-- order_settled_twice --
-- Orders not settled exactly once in the ledger: a settled order (with money to move)
-- without exactly one settlement entry, or a settlement entry for an order that is not
-- settled.
WITH entries AS (
    SELECT ref AS order_id, count(*) AS settlement_entries
    FROM journal_entries
    WHERE kind = 'settlement'
    GROUP BY ref
)
SELECT coalesce(o.order_id, e.order_id) AS order_id, o.status, o.net_fen,
       coalesce(e.settlement_entries, 0) AS settlement_entries
FROM settlement_orders AS o
FULL JOIN entries AS e ON e.order_id = o.order_id
WHERE (o.status = 'settled' AND o.net_fen > 0 AND coalesce(e.settlement_entries, 0) <> 1)
   OR (e.settlement_entries IS NOT NULL
       AND (o.status IS DISTINCT FROM 'settled' OR e.settlement_entries > 1))
ORDER BY 1;

-- run_totals_mismatch --
-- Runs whose recorded totals differ from the orders they settled (an order counted by
-- two runs, or a run's chunk lost).
WITH by_run AS (
    SELECT run_id, count(*) AS orders_settled,
           sum(net_fen)::bigint AS net_total_fen,
           sum(commission_fen)::bigint AS commission_total_fen,
           sum(payout_fen)::bigint AS payout_total_fen
    FROM settlement_orders
    WHERE status = 'settled'
    GROUP BY run_id
)
SELECT coalesce(r.run_id, b.run_id) AS run_id,
       r.orders_settled, b.orders_settled AS orders_found,
       r.net_total_fen, b.net_total_fen AS net_found_fen,
       r.commission_total_fen, b.commission_total_fen AS commission_found_fen,
       r.payout_total_fen, b.payout_total_fen AS payout_found_fen
FROM settlement_runs AS r
FULL JOIN by_run AS b ON b.run_id = r.run_id
WHERE coalesce(r.orders_settled, 0) <> coalesce(b.orders_settled, 0)
   OR coalesce(r.net_total_fen, 0) <> coalesce(b.net_total_fen, 0)
   OR coalesce(r.commission_total_fen, 0) <> coalesce(b.commission_total_fen, 0)
   OR coalesce(r.payout_total_fen, 0) <> coalesce(b.payout_total_fen, 0)
ORDER BY 1;

-- store_pending_mismatch --
-- Stores whose pending account (merchant view) differs from what their unsettled orders
-- still owe them (gross − refunded).
WITH owed AS (
    SELECT store_id, sum(gross_fen - refunded_fen)::bigint AS owed_fen
    FROM settlement_orders
    WHERE status = 'scheduled'
    GROUP BY store_id
), pending AS (
    SELECT store_id, -balance_fen AS pending_fen
    FROM ledger_balances
    WHERE account = 'store:' || store_id || ':pending'
)
SELECT coalesce(o.store_id, p.store_id) AS store_id, p.pending_fen, o.owed_fen
FROM owed AS o
FULL JOIN pending AS p ON p.store_id = o.store_id
WHERE coalesce(p.pending_fen, 0) <> coalesce(o.owed_fen, 0)
ORDER BY 1;

-- clearing_mismatch --
-- The buyer funds held in clearing differ from what unsettled orders still hold.
SELECT l.clearing_fen, o.unsettled_fen
FROM (SELECT coalesce(sum(amount_fen), 0)::bigint AS clearing_fen
      FROM journal_lines WHERE account = 'clearing') AS l,
     (SELECT coalesce(sum(gross_fen - refunded_fen), 0)::bigint AS unsettled_fen
      FROM settlement_orders WHERE status = 'scheduled') AS o
WHERE l.clearing_fen <> o.unsettled_fen;

-- aftersale_hold_mismatch --
-- Orders whose count of holding after-sales differs from their open after-sales (a
-- wrong count would pay an order too early or hold it forever).
SELECT o.order_id, o.open_aftersales, count(a.aftersale_id) AS open_found
FROM settlement_orders AS o
LEFT JOIN aftersales AS a ON a.order_id = o.order_id AND a.status = 'open'
GROUP BY o.order_id, o.open_aftersales
HAVING o.open_aftersales <> count(a.aftersale_id)
ORDER BY o.order_id;
