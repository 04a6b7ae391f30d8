-- insert_dead_letters --
-- Messages taken from a DLQ or haodian.unroutable; returns the keys that were new (a key
-- seen before is a message ingested twice, or a byte-identical copy: see add_copies).
INSERT INTO dead_letters (place, dedupe_key, body, properties, routing_key, reason, detail,
                          event_id, event_source, event_type, attempt, dead_lettered_at)
SELECT $1, * FROM unnest($2::bytea[], $3::bytea[], $4::bytea[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::text[], $10::text[], $11::int[],
                         $12::timestamptz[])
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING dedupe_key;

-- add_copies --
-- Byte-identical messages delivered for the first time: counted on the row they match.
UPDATE dead_letters d SET copies = d.copies + t.n
FROM unnest($1::bytea[], $2::int[]) AS t(dedupe_key, n)
WHERE d.dedupe_key = t.dedupe_key;

-- list_dead_letters --
-- Dead letters of a place, oldest first, filtered ($2 reason, $3 LIKE pattern on the type,
-- $4 event id, $5 bytes the body contains; NULL = any), at most $6 (NULL = all).
SELECT id, place, copies, body, properties, routing_key, reason, detail, event_id,
       event_source, event_type, attempt, dead_lettered_at
FROM dead_letters
WHERE place = $1 AND status = 'dead'
  AND ($2::text IS NULL OR reason = $2)
  AND ($3::text IS NULL OR event_type LIKE $3)
  AND ($4::text IS NULL OR event_id = $4)
  AND ($5::bytea IS NULL OR position($5 IN body) > 0)
ORDER BY id
LIMIT $6;

-- lock_dead_letters --
-- The same selection as list_dead_letters, locked for a replay or purge; rows another
-- command holds are skipped, so two operators never replay one message twice.
SELECT id, place, copies, body, properties, routing_key, reason, detail, event_id,
       event_source, event_type, attempt, dead_lettered_at
FROM dead_letters
WHERE place = $1 AND status = 'dead'
  AND ($2::text IS NULL OR reason = $2)
  AND ($3::text IS NULL OR event_type LIKE $3)
  AND ($4::text IS NULL OR event_id = $4)
  AND ($5::bytea IS NULL OR position($5 IN body) > 0)
ORDER BY id
LIMIT $6
FOR UPDATE SKIP LOCKED;

-- mark_dead_letters_replayed --
-- Rows whose republication the broker confirmed.
UPDATE dead_letters SET status = 'replayed', replayed_at = now() WHERE id = ANY($1::bigint[]);

-- delete_dead_letters --
-- Purged rows, gone for good.
DELETE FROM dead_letters WHERE id = ANY($1::bigint[]);

-- count_dead_letters --
-- Dead letters held per place (status, monitor).
SELECT place, count(*)::int AS held FROM dead_letters WHERE status = 'dead' GROUP BY place;

-- list_dead_letter_groups --
-- Per place and reason: how many, the types, the latest, three sample ids, one detail.
SELECT place, reason, count(*)::int AS count,
       array_agg(DISTINCT CASE WHEN event_type = '' THEN '?' ELSE event_type END) AS types,
       max(dead_lettered_at) AS latest,
       (array_agg(event_id ORDER BY id) FILTER (WHERE event_id <> ''))[1:3] AS event_ids,
       (array_agg(left(detail, 200) ORDER BY id))[1] AS detail
FROM dead_letters
WHERE status = 'dead' AND place = ANY($1::text[])
GROUP BY place, reason
ORDER BY place, count(*) DESC, reason;

-- get_dead_letter --
-- One dead letter of a place by its number (the row id `list` shows).
SELECT id, place, copies, body, properties, routing_key, reason, detail, event_id,
       event_source, event_type, attempt, dead_lettered_at
FROM dead_letters
WHERE id = $1 AND place = $2 AND status = 'dead';
