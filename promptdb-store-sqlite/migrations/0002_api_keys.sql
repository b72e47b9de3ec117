-- API keys: only a SHA-256 hash of the secret is stored.

CREATE TABLE api_keys (
    id           BLOB    PRIMARY KEY,
    user_id      BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    scopes       TEXT    NOT NULL,             -- JSON array of "read" / "write"
    secret_hash  BLOB    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
) STRICT;

CREATE INDEX api_keys_user ON api_keys (user_id, created_at DESC);
