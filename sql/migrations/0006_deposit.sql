-- Deposit: payments received and refund requests with the figures they were decided on.
-- Money itself moves only through the ledger (0002), in entries keyed by these tables'
-- ids: deposit_paid (payment_id), deposit_debt_offset and deposit_refund (request_id).
-- `haodian ledger verify` runs sql/queries/verify_deposit.sql to prove the two agree.

CREATE TABLE deposit_payments (
    payment_id   text        PRIMARY KEY,
    store_id     text        NOT NULL,   -- no FK to stores: a deposit may be paid before the store opens
    amount_fen   bigint      NOT NULL CHECK (amount_fen > 0),
    plan         text        NOT NULL CHECK (plan IN ('legacy_mall', 'standard')),
    paid_at      timestamptz NOT NULL,   -- the payment event's time
    event_source text        NOT NULL,
    event_id     text        NOT NULL
);
-- "Does this store hold a legacy_mall deposit?" is asked of every plan_migration.
CREATE INDEX deposit_payments_store_plan ON deposit_payments (store_id, plan);

-- One row per request_id: a request is decided once, whichever event carries it.
-- The row is inserted first (a request's own row is locked before the store's ledger
-- balances, the lock order of docs/architecture.md) and decided later in the same
-- transaction, so `outcome` and the figures are null only inside that transaction.
CREATE TABLE deposit_refunds (
    request_id      text        PRIMARY KEY,
    store_id        text        NOT NULL,
    reason          text        NOT NULL CHECK (reason IN ('plan_migration', 'store_closed')),
    requested_at    timestamptz NOT NULL,   -- the request event's time
    event_source    text        NOT NULL,
    event_id        text        NOT NULL,
    outcome         text        CHECK (outcome IN ('refunded', 'rejected')),
    balance_fen     bigint,                 -- deposit before the request (merchant view)
    required_fen    bigint,                 -- what had to stay on deposit (0 when closing)
    debt_fen        bigint,                 -- the store's debt before the request
    debt_offset_fen bigint CHECK (debt_offset_fen >= 0),  -- booked deposit -> available
    refund_fen      bigint CHECK (refund_fen >= 0),       -- booked deposit -> bank
    reasons         text[]      NOT NULL DEFAULT '{}',
    CHECK (num_nulls(outcome, balance_fen, required_fen, debt_fen, debt_offset_fen, refund_fen)
           IN (0, 6)),
    CHECK ((outcome = 'refunded') = (refund_fen > 0)),
    CHECK ((outcome = 'rejected') = (cardinality(reasons) > 0))
);
CREATE INDEX deposit_refunds_store ON deposit_refunds (store_id);
