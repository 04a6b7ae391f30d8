-- delete_published_outbox --
-- Up to $2 result events published more than $1 seconds ago. Only the $2 lowest ids are
-- looked at (ids grow with time, and no index on published_at costs WAL on the hot path):
-- a batch of young or unpublished rows at the head ends the run for this table.
WITH head AS (SELECT id, published_at FROM outbox ORDER BY id LIMIT $2)
DELETE FROM outbox o USING head
WHERE o.id = head.id AND head.published_at < now() - make_interval(secs => $1);

-- count_published_outbox --
-- Result events published more than $1 seconds ago (dry run).
SELECT count(*) FROM outbox
WHERE published_at < now() - make_interval(secs => $1);

-- delete_old_inbox --
-- Up to $2 inbox keys committed more than $1 seconds ago, oldest first, domain by domain
-- (the domains found by a loose scan of the (domain, committed_at) index).
WITH RECURSIVE domains AS (
    (SELECT domain FROM inbox ORDER BY domain LIMIT 1)
    UNION ALL
    SELECT (SELECT i.domain FROM inbox i WHERE i.domain > d.domain ORDER BY i.domain LIMIT 1)
    FROM domains d WHERE d.domain IS NOT NULL
), old AS (
    SELECT o.source, o.event_id
    FROM domains d
    CROSS JOIN LATERAL (
        SELECT source, event_id FROM inbox
        WHERE domain = d.domain AND committed_at < now() - make_interval(secs => $1)
        ORDER BY committed_at LIMIT $2
    ) o
    WHERE d.domain IS NOT NULL
    LIMIT $2
)
DELETE FROM inbox i USING old WHERE i.source = old.source AND i.event_id = old.event_id;

-- count_old_inbox --
-- Inbox keys committed more than $1 seconds ago (dry run).
SELECT count(*) FROM inbox
WHERE committed_at < now() - make_interval(secs => $1);

-- delete_old_dlq_audit --
-- Up to $2 DLQ replay/purge audit rows older than $1 seconds.
DELETE FROM dlq_audit WHERE id IN (
    SELECT id FROM dlq_audit WHERE at < now() - make_interval(secs => $1) ORDER BY id LIMIT $2);

-- count_old_dlq_audit --
-- DLQ audit rows older than $1 seconds (dry run).
SELECT count(*) FROM dlq_audit
WHERE at < now() - make_interval(secs => $1);

-- delete_old_heartbeats --
-- Up to $2 heartbeat rows of workers not seen for $1 seconds.
DELETE FROM worker_heartbeats WHERE worker_id IN (
    SELECT worker_id FROM worker_heartbeats
    WHERE last_seen_at < now() - make_interval(secs => $1) LIMIT $2);

-- count_old_heartbeats --
-- Heartbeat rows of workers not seen for $1 seconds (dry run).
SELECT count(*) FROM worker_heartbeats
WHERE last_seen_at < now() - make_interval(secs => $1);

-- try_lock_retention --
-- One retention run at a time across processes and hosts: a session advisory lock.
SELECT pg_try_advisory_lock($1);

-- unlock_retention --
-- The end of a run: the next one may start.
SELECT pg_advisory_unlock($1);

-- list_table_sizes --
-- Every table of the schema: bytes on disk (indexes and TOAST included) and estimated rows.
SELECT c.relname AS table_name, pg_total_relation_size(c.oid) AS bytes,
       greatest(c.reltuples, 0)::bigint AS rows_estimate
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
ORDER BY bytes DESC, c.relname;
