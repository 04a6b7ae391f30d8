-- insert_token --
-- Records a new token's hash for a source; returns its id and creation time.
INSERT INTO gateway_tokens (source, token_sha256)
VALUES ($1, $2)
RETURNING token_id, created_at;

-- get_token_source --
-- The source of a live (not revoked) token, found by its hash.
SELECT source
FROM gateway_tokens
WHERE token_sha256 = $1 AND revoked_at IS NULL;

-- list_tokens --
-- Every token, revoked ones too, oldest first (never the hash).
SELECT token_id, source, created_at, revoked_at
FROM gateway_tokens
ORDER BY token_id;

-- mark_token_revoked --
-- Revokes a token; returns its row, or nothing when the id is unknown. Revoking twice
-- keeps the first revocation time.
UPDATE gateway_tokens
SET revoked_at = coalesce(revoked_at, now())
WHERE token_id = $1
RETURNING token_id, source, created_at, revoked_at;
