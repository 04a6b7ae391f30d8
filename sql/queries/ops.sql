-- upsert_heartbeat --
-- A worker process says it is alive, with how many messages it has settled so far.
INSERT INTO worker_heartbeats (worker_id, host, pid, domains, started_at, last_seen_at,
                               messages_done)
VALUES ($1, $2, $3, $4, $5, now(), $6)
ON CONFLICT (worker_id) DO UPDATE
SET last_seen_at = now(), messages_done = EXCLUDED.messages_done, stopped_at = NULL;

-- mark_heartbeat_stopped --
-- A clean exit: the worker is gone at once rather than after the time-out.
UPDATE worker_heartbeats SET stopped_at = now(), last_seen_at = now(), messages_done = $2
WHERE worker_id = $1;

-- list_live_workers --
-- Workers seen in the last $1 seconds that did not stop, by host and pid.
SELECT worker_id, host, pid, domains, started_at, last_seen_at, messages_done,
       extract(epoch FROM now() - last_seen_at)::float8 AS seen_s_ago
FROM worker_heartbeats
WHERE stopped_at IS NULL AND last_seen_at >= now() - make_interval(secs => $1)
ORDER BY host, pid;

-- get_domain_lag --
-- Per domain, over the last $1 seconds: events committed, end-to-end lag (event time to
-- commit) p50 and p99 in seconds, and the newest committed event's time.
SELECT domain, count(*) AS committed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM committed_at - event_time))
           AS p50_s,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM committed_at - event_time))
           AS p99_s,
       max(event_time) AS newest_event_time
FROM inbox
WHERE committed_at >= now() - make_interval(secs => $1) AND event_time IS NOT NULL
GROUP BY domain;

-- count_committed_between --
-- Inputs each domain committed in [$1, $2): the work done between two samples.
SELECT domain, count(*) AS committed
FROM inbox
WHERE committed_at >= $1 AND committed_at < $2
GROUP BY domain;

-- count_applications_by_track_status --
-- Certification applications per track and status (dashboard).
SELECT track, status, count(*) AS applications
FROM certification_applications GROUP BY track, status ORDER BY track, status;

-- count_products_by_status --
-- Products per review status: approved, rejected, flagged, listed (dashboard).
SELECT status, count(*) AS products FROM products GROUP BY status ORDER BY status;

-- get_settlement_totals --
-- Orders settled and their money, all time (dashboard).
SELECT count(*) AS orders, coalesce(sum(net_fen), 0)::bigint AS net_fen,
       coalesce(sum(commission_fen), 0)::bigint AS commission_fen,
       coalesce(sum(payout_fen), 0)::bigint AS payout_fen
FROM settlement_orders WHERE status = 'settled';

-- list_settlements_per_day --
-- Orders settled, commission and payouts per Asia/Shanghai day of settle_at, latest $1 days.
SELECT (settle_at AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*) AS orders,
       sum(commission_fen)::bigint AS commission_fen, sum(payout_fen)::bigint AS payout_fen
FROM settlement_orders WHERE status = 'settled'
GROUP BY 1 ORDER BY 1 DESC LIMIT $1;

-- list_daily_buyers_gmv --
-- Daily active buyers, orders and GMV, latest $1 days.
SELECT day, orders, gmv_fen, active_buyers
FROM settlement_daily_stats ORDER BY day DESC LIMIT $1;

-- get_deposit_refund_totals --
-- Deposit refund requests: refunded (count, fen), rejected, debt offset (dashboard).
SELECT count(*) FILTER (WHERE outcome = 'refunded') AS refunded,
       coalesce(sum(refund_fen) FILTER (WHERE outcome = 'refunded'), 0)::bigint AS refund_fen,
       count(*) FILTER (WHERE outcome = 'rejected') AS rejected,
       coalesce(sum(debt_offset_fen), 0)::bigint AS debt_offset_fen
FROM deposit_refunds;
