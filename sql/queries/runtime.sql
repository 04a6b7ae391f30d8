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
