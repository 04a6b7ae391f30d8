-- HTTP gateway: per-source bearer tokens. Only the SHA-256 of a token is stored; the
-- token itself is printed once by `haodian gateway token add` and never kept. Tokens are
-- 256 random bits, so a fast hash is enough (no password stretching needed).

CREATE TABLE gateway_tokens (
    token_id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       text        NOT NULL CHECK (length(source) BETWEEN 1 AND 256),
    token_sha256 bytea       NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
