-- Worker heartbeats (monitoring): one row per worker process, refreshed every few seconds
-- off the hot path. A row not seen for 30 s is a gone worker; rows a day old are pruned.

CREATE TABLE worker_heartbeats (
    worker_id     uuid        PRIMARY KEY,   -- made up by the process at start
    host          text        NOT NULL,
    pid           integer     NOT NULL,
    domains       text[]      NOT NULL,
    started_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    messages_done bigint      NOT NULL DEFAULT 0,
    stopped_at    timestamptz                -- set by a clean exit: gone at once
);
CREATE INDEX worker_heartbeats_last_seen ON worker_heartbeats (last_seen_at);
