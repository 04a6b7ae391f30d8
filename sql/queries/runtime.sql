-- insert_inbox --
-- Records a batch's (source, id) keys; returns only the keys that were new.
INSERT INTO inbox (source, event_id, domain, type, body_sha256, outcome, event_time)
SELECT source, event_id, $1, type, body_sha256, 'processed', event_time
FROM unnest($2::text[], $3::text[], $4::text[], $5::bytea[], $6::timestamptz[])
     AS t(source, event_id, type, body_sha256, event_time)
ON CONFLICT (source, event_id) DO NOTHING
RETURNING source, event_id;

-- get_inbox_hashes --
-- The stored body hashes of keys seen before (to tell a duplicate from a conflict).
SELECT i.source, i.event_id, i.body_sha256
FROM inbox i
JOIN unnest($1::text[], $2::text[]) AS k(source, event_id)
  ON i.source = k.source AND i.event_id = k.event_id;

-- touch_inbox --
-- Rewrites one inbox row unchanged: a WAL record, so the commit of a transaction that
-- found only duplicates waits for the synchronous standby like any other (a transaction
-- that wrote no WAL does not wait, even with a transaction id), and with it the earlier
-- commit whose rows it read: that one is on the standby before the duplicates are acked.
UPDATE inbox SET outcome = outcome WHERE source = $1 AND event_id = $2;

-- insert_outbox --
-- Result events to publish; a result id already present is skipped.
INSERT INTO outbox (event_id, routing_key, body)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::bytea[])
ON CONFLICT (event_id) DO NOTHING
RETURNING id, event_id;

-- mark_outbox_published --
-- Outbox rows whose publication the broker confirmed.
UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[]) AND published_at IS NULL;

-- claim_stale_outbox --
-- Rows left unpublished (a crash or a broker outage after commit), oldest first;
-- SKIP LOCKED lets several workers relay at once without publishing a row twice.
SELECT id, event_id, routing_key, body
FROM outbox
WHERE published_at IS NULL AND created_at < now() - make_interval(secs => $1)
ORDER BY id
LIMIT $2
FOR UPDATE SKIP LOCKED;

-- count_outbox_backlog --
-- Unpublished result events and the age of the oldest, for monitoring and readiness.
SELECT count(*) AS backlog,
       coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_s
FROM outbox WHERE published_at IS NULL;

-- insert_dlq_audit --
-- One row per DLQ replay or purge.
INSERT INTO dlq_audit (action, domain, filter, messages, actor) VALUES ($1, $2, $3, $4, $5);

-- get_replication_state --
-- The server's synchronous standby setting and the standbys streaming from it, as it
-- sees them (sync_state and lag are shown to members of pg_read_all_stats only).
SELECT current_setting('synchronous_standby_names') AS sync_names,
       pg_is_in_recovery() AS in_recovery,
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS can_see,
       coalesce(host(inet_server_addr()), 'local') || ':' || inet_server_port() AS server,
       count(r.pid) AS standbys,
       count(r.pid) FILTER (WHERE r.sync_state IN ('sync', 'quorum')) AS sync_standbys,
       max(extract(epoch FROM r.replay_lag))::float8 AS replay_lag_s,
       max(CASE WHEN pg_is_in_recovery() THEN NULL
                ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn) END)::bigint
           AS replay_lag_bytes
FROM pg_stat_replication r;
