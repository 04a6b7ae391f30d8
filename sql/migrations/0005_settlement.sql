-- Settlement (docs/rules.md §3.3): orders scheduled at T+7, after-sales, store-month commission
-- totals, settlement runs and daily monitoring figures. Money in integer fen, months as
-- 'YYYY-MM' and days as dates in Asia/Shanghai.

CREATE TABLE settlement_orders (
    order_id        text        PRIMARY KEY,
    store_id        text        NOT NULL,
    buyer_id        text        NOT NULL,
    gross_fen       bigint      NOT NULL CHECK (gross_fen >= 0),
    refunded_fen    bigint      NOT NULL DEFAULT 0 CHECK (refunded_fen >= 0),    -- closed before settlement
    clawed_back_fen bigint      NOT NULL DEFAULT 0 CHECK (clawed_back_fen >= 0), -- closed after settlement
    confirmed_at    timestamptz NOT NULL,
    confirmed_day   date        NOT NULL,   -- Asia/Shanghai day of confirmed_at
    settle_at       timestamptz NOT NULL,   -- confirmed_at + 7 days
    month           text        NOT NULL,   -- Asia/Shanghai month of settle_at: the store-month
    status          text        NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'settled')),
    open_aftersales integer     NOT NULL DEFAULT 0 CHECK (open_aftersales >= 0),
    -- Filled when settled, by the run that settled it:
    run_id          text,
    net_fen         bigint,
    commission_fen  bigint,
    payout_fen      bigint,
    debt_offset_fen bigint,
    transferred_fen bigint,
    settled_at      timestamptz,
    CHECK (refunded_fen + clawed_back_fen <= gross_fen),
    CHECK ((status = 'settled') = (run_id IS NOT NULL))
);
-- The run's scan: due orders in (settle_at, order_id) order; held and settled orders
-- drop out of the index, so a run never wades through them.
CREATE INDEX settlement_orders_due ON settlement_orders (settle_at, order_id)
    WHERE status = 'scheduled' AND open_aftersales = 0;
-- The deposit domain asks whether a store has unsettled orders.
CREATE INDEX settlement_orders_store_status ON settlement_orders (store_id, status);

CREATE TABLE aftersales (
    aftersale_id            text        PRIMARY KEY,
    order_id                text        NOT NULL REFERENCES settlement_orders (order_id),
    status                  text        NOT NULL CHECK (status IN ('open', 'closed')),
    -- Set when closed: 'refund' (before settlement), 'clawback' (after), 'rejected' (0 fen).
    kind                    text        CHECK (kind IN ('refund', 'clawback', 'rejected')),
    refund_fen              bigint      CHECK (refund_fen >= 0),
    -- Clawbacks only: the store-month charged and what the store got back / owes.
    month                   text,
    commission_returned_fen bigint,
    store_debit_fen         bigint,
    opened_at               timestamptz,  -- NULL when the close arrived first
    closed_at               timestamptz,
    CHECK ((status = 'closed') = (kind IS NOT NULL AND refund_fen IS NOT NULL))
);
CREATE INDEX aftersales_order_status ON aftersales (order_id, status);

-- Running totals of each store-month, locked by settlements and clawbacks of that
-- store-month (ascending (store_id, month), after the domain's own rows).
CREATE TABLE store_months (
    store_id           text    NOT NULL,
    month              text    NOT NULL,
    cumulative_net_fen bigint  NOT NULL DEFAULT 0 CHECK (cumulative_net_fen >= 0),
    commission_fen     bigint  NOT NULL DEFAULT 0 CHECK (commission_fen >= 0),
    orders_settled     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (store_id, month)
);

-- One row per run_id; each chunk of a run locks it, so chunks of one run never overlap
-- and the completion totals see every chunk.
CREATE TABLE settlement_runs (
    run_id               text        PRIMARY KEY,
    as_of                timestamptz NOT NULL,
    requested_at         timestamptz NOT NULL,
    event_source         text        NOT NULL,
    event_id             text        NOT NULL,
    orders_settled       integer     NOT NULL DEFAULT 0,
    net_total_fen        bigint      NOT NULL DEFAULT 0,
    commission_total_fen bigint      NOT NULL DEFAULT 0,
    payout_total_fen     bigint      NOT NULL DEFAULT 0,
    completed_at         timestamptz
);

-- Monitoring: distinct buyers with a confirmed order per Asia/Shanghai day, and the
-- day's orders and GMV (gross, refunds not deducted).
CREATE TABLE settlement_daily_buyers (
    day      date NOT NULL,
    buyer_id text NOT NULL,
    PRIMARY KEY (day, buyer_id)
);

CREATE TABLE settlement_daily_stats (
    day           date    PRIMARY KEY,
    orders        integer NOT NULL DEFAULT 0,
    gmv_fen       bigint  NOT NULL DEFAULT 0,
    active_buyers integer NOT NULL DEFAULT 0
);
