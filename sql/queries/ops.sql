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

-- delete_old_heartbeats --
-- Rows of workers not seen for $1 seconds (a day by default).
DELETE FROM worker_heartbeats WHERE last_seen_at < now() - make_interval(secs => $1);

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
