-- API keys: only a SHA-256 hash of the secret is stored. Looking a key up by its hash happens
-- before the user is known, so it runs in a `promptdb.system` transaction.

CREATE TABLE api_keys (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL,
    prefix       text        NOT NULL,
    scopes       jsonb       NOT NULL,
    secret_hash  bytea       NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz
);

CREATE INDEX api_keys_user ON api_keys (user_id, created_at DESC);

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY api_keys_own ON api_keys
    USING (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()))
    WITH CHECK (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()));
