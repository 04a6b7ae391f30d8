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
