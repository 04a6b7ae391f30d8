-- Invariants of the deposit domain, for `haodian ledger verify`. Each block is one
-- read-only query returning the rows that break its invariant: no rows = it holds.

-- deposit_balance_negative --
-- Store deposit accounts the platform holds less than nothing on: a credit-normal account
-- with a debit (positive) sum of its lines, i.e. negative in the merchant's view.
SELECT l.account,
       sum(l.amount_fen)  AS balance_fen,
       -sum(l.amount_fen) AS merchant_view_fen
FROM journal_lines l
WHERE l.account LIKE 'store:%:deposit'
GROUP BY l.account
HAVING sum(l.amount_fen) > 0;

-- deposit_payment_ledger_mismatch --
-- Deposit payments and deposit_paid entries that disagree: a payment without its entry,
-- an entry without its payment, or an entry that is not exactly
-- "bank +amount, the store's deposit -amount".
WITH booked AS (
    SELECT e.ref AS payment_id,
           array_agg(l.account ORDER BY l.account)    AS accounts,
           sum(l.amount_fen) FILTER (WHERE l.account = 'external:bank') AS bank_fen,
           count(*)                                   AS lines
    FROM journal_entries e
    JOIN journal_lines l ON l.entry_id = e.id
    WHERE e.kind = 'deposit_paid'
    GROUP BY e.ref
)
SELECT coalesce(p.payment_id, b.payment_id) AS payment_id,
       p.store_id,
       p.amount_fen AS recorded_fen,
       b.bank_fen   AS booked_fen,
       b.accounts
FROM deposit_payments p
FULL JOIN booked b ON b.payment_id = p.payment_id
WHERE p.payment_id IS NULL
   OR b.payment_id IS NULL
   OR b.bank_fen IS DISTINCT FROM p.amount_fen
   OR b.lines <> 2
   OR b.accounts <> ARRAY['external:bank', 'store:' || p.store_id || ':deposit'];

-- deposit_refund_ledger_mismatch --
-- Refund requests whose recorded figures differ from the money their entries moved:
-- debt_offset_fen must equal the deposit_debt_offset entry (deposit -> the store's
-- available), refund_fen the deposit_refund entry (deposit -> bank), each booked on the
-- requesting store's own accounts; an entry without a request, or a request committed
-- without a decision, is an offender too.
WITH booked AS (
    SELECT e.ref AS request_id,
           coalesce(sum(-l.amount_fen) FILTER (
               WHERE e.kind = 'deposit_debt_offset' AND l.account LIKE 'store:%:available'), 0)
               AS debt_offset_fen,
           coalesce(sum(-l.amount_fen) FILTER (
               WHERE e.kind = 'deposit_refund' AND l.account = 'external:bank'), 0)
               AS refund_fen,
           coalesce(sum(l.amount_fen) FILTER (WHERE l.account LIKE 'store:%:deposit'), 0)
               AS deposit_debit_fen,
           array_agg(DISTINCT l.account) AS accounts
    FROM journal_entries e
    JOIN journal_lines l ON l.entry_id = e.id
    WHERE e.kind IN ('deposit_debt_offset', 'deposit_refund')
    GROUP BY e.ref
)
SELECT coalesce(r.request_id, b.request_id) AS request_id,
       r.store_id,
       r.outcome,
       r.debt_offset_fen                 AS recorded_debt_offset_fen,
       r.refund_fen                      AS recorded_refund_fen,
       coalesce(b.debt_offset_fen, 0)    AS booked_debt_offset_fen,
       coalesce(b.refund_fen, 0)         AS booked_refund_fen,
       coalesce(b.deposit_debit_fen, 0)  AS booked_deposit_debit_fen
FROM deposit_refunds r
FULL JOIN booked b ON b.request_id = r.request_id
WHERE r.request_id IS NULL
   OR r.outcome IS NULL
   OR r.debt_offset_fen <> coalesce(b.debt_offset_fen, 0)
   OR r.refund_fen <> coalesce(b.refund_fen, 0)
   OR r.debt_offset_fen + r.refund_fen <> coalesce(b.deposit_debit_fen, 0)
   OR NOT coalesce(b.accounts, '{}'::text[]) <@ ARRAY[
       'store:' || r.store_id || ':available', 'store:' || r.store_id || ':deposit', 'external:bank'];
