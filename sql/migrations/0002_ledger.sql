-- Double-entry ledger in integer fen, shared by settlement and deposit.
-- A posting's amount is positive for a debit and negative for a credit; every journal
-- entry sums to zero. Account codes:
--   clearing                 buyer funds held by the platform for confirmed orders
--   store:<id>:pending       what the platform owes a store for unsettled orders
--   store:<id>:available     a store's settled balance (debit balance = the store's debt)
--   store:<id>:deposit       a store's deposit held by the platform
--   platform:commission      technical service fees earned
--   external:bank            money that left or entered the platform (payouts, refunds, deposits)

CREATE TABLE journal_entries (
    id           bigserial   PRIMARY KEY,
    kind         text        NOT NULL,      -- e.g. order_confirmed, settlement, clawback, deposit_paid
    ref          text        NOT NULL,      -- the business key the entry belongs to
    booked_at    timestamptz NOT NULL,
    event_source text        NOT NULL,
    event_id     text        NOT NULL,
    UNIQUE (kind, ref)                      -- an entry is booked once per business key
);

CREATE TABLE journal_lines (
    entry_id   bigint NOT NULL REFERENCES journal_entries (id),
    account    text   NOT NULL,
    amount_fen bigint NOT NULL,
    PRIMARY KEY (entry_id, account)
);
CREATE INDEX journal_lines_account ON journal_lines (account);

-- Running balances of store accounts (the ones decisions read), kept in the same
-- transaction as the lines; `haodian ledger verify` proves they equal the lines' sums.
-- Rows are locked in ascending account order everywhere, so domains never deadlock.
CREATE TABLE ledger_balances (
    account     text   PRIMARY KEY,
    store_id    text,
    balance_fen bigint NOT NULL DEFAULT 0    -- debit-positive, like the lines
);
CREATE INDEX ledger_balances_store ON ledger_balances (store_id);
