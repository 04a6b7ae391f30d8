-- Dead letters kept in PostgreSQL: the broker DLQs and haodian.unroutable are only a
-- transit buffer that an ingester empties into this table, so browsing never touches a
-- queue (a get and requeue raises x-delivery-count, and a quorum queue's delivery limit
-- would then drop what the console shows).

CREATE TABLE dead_letters (
    id               bigserial   PRIMARY KEY,
    place            text        NOT NULL,   -- a domain name, or 'unroutable'
    dedupe_key       bytea       NOT NULL UNIQUE,  -- sha256 of the message minus x-delivery-count
    copies           integer     NOT NULL DEFAULT 1,  -- byte-identical messages kept as one row
    body             bytea       NOT NULL,   -- exactly as received
    properties       bytea       NOT NULL,   -- AMQP content header (every property and header)
    routing_key      text        NOT NULL,   -- the key the message was first published under
    reason           text        NOT NULL,
    detail           text        NOT NULL DEFAULT '',
    event_id         text        NOT NULL DEFAULT '',
    event_source     text        NOT NULL DEFAULT '',
    event_type       text        NOT NULL DEFAULT '',
    attempt          integer     NOT NULL DEFAULT 0,
    dead_lettered_at timestamptz NOT NULL,
    ingested_at      timestamptz NOT NULL DEFAULT now(),
    status           text        NOT NULL DEFAULT 'dead' CHECK (status IN ('dead', 'replayed')),
    replayed_at      timestamptz
);
CREATE INDEX dead_letters_by_place ON dead_letters (place, status, id);
CREATE INDEX dead_letters_by_event_id ON dead_letters (event_id) WHERE status = 'dead';
