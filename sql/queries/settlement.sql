-- insert_orders --
-- Schedules a batch of confirmed orders in one statement; an order already known stays
-- as it is. The same statement adds the new orders to the monitoring figures: new
-- (day, buyer) pairs, then each day's orders, GMV and new buyers, pre-aggregated and in
-- key order. Returns the orders actually inserted.
WITH input AS (
    SELECT *
    FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[],
                $6::date[], $7::timestamptz[], $8::text[])
         AS t(order_id, store_id, buyer_id, gross_fen, confirmed_at, confirmed_day,
              settle_at, month)
), inserted AS (
    INSERT INTO settlement_orders AS o
        (order_id, store_id, buyer_id, gross_fen, confirmed_at, confirmed_day, settle_at, month)
    SELECT * FROM input ORDER BY order_id
    ON CONFLICT (order_id) DO NOTHING
    RETURNING o.order_id, o.buyer_id, o.gross_fen, o.confirmed_day
), new_buyers AS (
    INSERT INTO settlement_daily_buyers (day, buyer_id)
    SELECT DISTINCT confirmed_day, buyer_id FROM inserted ORDER BY 1, 2
    ON CONFLICT (day, buyer_id) DO NOTHING
    RETURNING day
), day_stats AS (
    INSERT INTO settlement_daily_stats AS s (day, orders, gmv_fen, active_buyers)
    SELECT o.day, o.orders, o.gmv_fen, coalesce(b.buyers, 0)
    FROM (SELECT confirmed_day AS day, count(*) AS orders, sum(gross_fen) AS gmv_fen
          FROM inserted GROUP BY confirmed_day) AS o
    LEFT JOIN (SELECT day, count(*) AS buyers FROM new_buyers GROUP BY day) AS b
           ON b.day = o.day
    ORDER BY o.day
    ON CONFLICT (day) DO UPDATE SET
        orders = s.orders + EXCLUDED.orders,
        gmv_fen = s.gmv_fen + EXCLUDED.gmv_fen,
        active_buyers = s.active_buyers + EXCLUDED.active_buyers
)
SELECT order_id FROM inserted;

-- get_orders --
-- Stored orders by id (an order.confirmed for an order already known).
SELECT order_id, store_id, buyer_id, gross_fen, confirmed_at
FROM settlement_orders
WHERE order_id = ANY($1::text[]);

-- lock_order --
-- One order, locked for an after-sale that changes it.
SELECT order_id, store_id, gross_fen, refunded_fen, clawed_back_fen, status, month
FROM settlement_orders
WHERE order_id = $1
FOR UPDATE;

-- lock_aftersale --
-- One after-sale, locked (after its order) while it is opened or closed.
SELECT aftersale_id, order_id, status, refund_fen
FROM aftersales
WHERE aftersale_id = $1
FOR UPDATE;

-- insert_open_aftersale --
-- Records an opened after-sale; returns nothing when the after-sale is already known.
INSERT INTO aftersales (aftersale_id, order_id, status, opened_at)
VALUES ($1, $2, 'open', $3)
ON CONFLICT (aftersale_id) DO NOTHING
RETURNING aftersale_id;

-- add_open_aftersale --
-- An open after-sale holds its order's settlement.
UPDATE settlement_orders SET open_aftersales = open_aftersales + 1 WHERE order_id = $1;

-- upsert_closed_aftersale --
-- Closes an after-sale (or records it closed when its close arrived before its opening).
INSERT INTO aftersales AS a
    (aftersale_id, order_id, status, kind, refund_fen, month, commission_returned_fen,
     store_debit_fen, closed_at)
VALUES ($1, $2, 'closed', $3, $4, $5, $6, $7, $8)
ON CONFLICT (aftersale_id) DO UPDATE SET
    status = 'closed',
    kind = EXCLUDED.kind,
    refund_fen = EXCLUDED.refund_fen,
    month = EXCLUDED.month,
    commission_returned_fen = EXCLUDED.commission_returned_fen,
    store_debit_fen = EXCLUDED.store_debit_fen,
    closed_at = EXCLUDED.closed_at;

-- apply_aftersale_close --
-- A closed after-sale on its order: refund before or after settlement, one hold fewer.
UPDATE settlement_orders
SET refunded_fen = refunded_fen + $2,
    clawed_back_fen = clawed_back_fen + $3,
    open_aftersales = open_aftersales - $4
WHERE order_id = $1;

-- lock_store_month --
-- One store-month's running totals, locked for a clawback (it exists: the order settled).
SELECT cumulative_net_fen, commission_fen
FROM store_months
WHERE store_id = $1 AND month = $2
FOR UPDATE;

-- apply_clawback_to_store_month --
-- The store-month's net drops by the refund and its commission by what was returned.
UPDATE store_months
SET cumulative_net_fen = cumulative_net_fen - $3,
    commission_fen = commission_fen - $4
WHERE store_id = $1 AND month = $2;

-- lock_run --
-- Creates the run on its first request and locks it (the no-op update takes the row
-- lock in the same round trip), so two chunks of one run never run at once.
INSERT INTO settlement_runs AS r (run_id, as_of, requested_at, event_source, event_id)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (run_id) DO UPDATE SET run_id = r.run_id
RETURNING as_of, completed_at;

-- lock_due_orders --
-- The next chunk of due orders, in (settle_at, order_id) order. SKIP LOCKED: an order
-- another run (or an after-sale) holds is left to it, never settled twice.
-- `open_aftersales = 0` is the rule "an open after-sale holds settlement", applied here
-- for speed; it is named and tested as check_aftersale_holds_settlement (with check_due)
-- in handlers/settlement/rules.py: keep the two in step.
SELECT order_id, store_id, gross_fen, refunded_fen, month
FROM settlement_orders
WHERE status = 'scheduled' AND open_aftersales = 0 AND settle_at <= $1
ORDER BY settle_at, order_id
LIMIT $2
FOR UPDATE SKIP LOCKED;

-- lock_store_months --
-- Creates missing store-months and locks them in the caller's (ascending) order.
INSERT INTO store_months AS m (store_id, month)
SELECT store_id, month
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(store_id, month, n)
ORDER BY n
ON CONFLICT (store_id, month) DO UPDATE SET store_id = m.store_id
RETURNING store_id, month, cumulative_net_fen, commission_fen;

-- update_store_months --
-- New running totals of the store-months a chunk settled into.
UPDATE store_months AS m
SET cumulative_net_fen = u.cumulative_net_fen,
    commission_fen = u.commission_fen,
    orders_settled = m.orders_settled + u.orders
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::integer[])
     AS u(store_id, month, cumulative_net_fen, commission_fen, orders)
WHERE m.store_id = u.store_id AND m.month = u.month;

-- mark_orders_settled --
-- The figures of each order a chunk settled, and the run that settled it.
UPDATE settlement_orders AS o
SET status = 'settled',
    run_id = $1,
    settled_at = $2,
    net_fen = u.net_fen,
    commission_fen = u.commission_fen,
    payout_fen = u.payout_fen,
    debt_offset_fen = u.debt_offset_fen,
    transferred_fen = u.transferred_fen
FROM unnest($3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
     AS u(order_id, net_fen, commission_fen, payout_fen, debt_offset_fen, transferred_fen)
WHERE o.order_id = u.order_id AND o.status = 'scheduled';

-- mark_run_progress --
-- Adds a chunk to the run's totals and, on its last chunk, marks it completed (once).
UPDATE settlement_runs
SET orders_settled = orders_settled + $2,
    net_total_fen = net_total_fen + $3,
    commission_total_fen = commission_total_fen + $4,
    payout_total_fen = payout_total_fen + $5,
    completed_at = CASE WHEN $6::boolean THEN coalesce(completed_at, $7) ELSE completed_at END
WHERE run_id = $1
RETURNING orders_settled, net_total_fen, commission_total_fen, payout_total_fen;

-- get_store_balances --
-- A store's ledger balances (debit-positive), for `haodian ledger balance`.
SELECT account, balance_fen FROM ledger_balances WHERE store_id = $1 ORDER BY account;

-- get_store_months --
-- A store's month-to-date settled net and commission, per month.
SELECT month, cumulative_net_fen, commission_fen, orders_settled
FROM store_months
WHERE store_id = $1
ORDER BY month;

-- get_store_unsettled --
-- A store's unsettled orders: how many, their net and how many an after-sale holds.
SELECT count(*) AS orders,
       coalesce(sum(gross_fen - refunded_fen), 0)::bigint AS net_fen,
       count(*) FILTER (WHERE open_aftersales > 0) AS held
FROM settlement_orders
WHERE store_id = $1 AND status = 'scheduled';
