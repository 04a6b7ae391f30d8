-- The runtime's own tables: idempotency inbox, result outbox, DLQ audit, policies.

CREATE TABLE inbox (
    source       text        NOT NULL,
    event_id     text        NOT NULL,
    domain       text        NOT NULL,
    type         text        NOT NULL,
    body_sha256  bytea       NOT NULL,      -- canonical JSON hash: same key + other body = conflict
    outcome      text        NOT NULL,      -- 'processed' or 'rejected'
    event_time   timestamptz,
    committed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, event_id)
);
CREATE INDEX inbox_committed_at ON inbox (domain, committed_at);

CREATE TABLE outbox (
    id           bigserial   PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    routing_key  text        NOT NULL,
    body         bytea       NOT NULL,      -- the CloudEvent exactly as it will be published
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

CREATE TABLE dlq_audit (
    id          bigserial   PRIMARY KEY,
    action      text        NOT NULL,       -- 'replay' or 'purge'
    domain      text        NOT NULL,
    filter      jsonb       NOT NULL,
    messages    integer     NOT NULL,
    actor       text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);

-- Business policies operators change without a release (a key and a JSON value).
CREATE TABLE policies (
    key        text  PRIMARY KEY,
    value      jsonb NOT NULL,
    note       text  NOT NULL DEFAULT ''
);
