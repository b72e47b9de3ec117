-- Harvest: prompts found in the user's conversations, waiting for review. The candidate itself
-- is a JSON document; the columns are what the queue filters and sorts by. One row per user and
-- content hash: the same prompt found again is counted again, and one the user accepted or
-- dismissed is not proposed again until its row expires.

CREATE TABLE harvest_candidates (
    id           BLOB    PRIMARY KEY,
    user_id      BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content_hash TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'accepted', 'dismissed')),
    score        REAL,
    data         TEXT    NOT NULL,              -- JSON object
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    UNIQUE (user_id, content_hash)
) STRICT;

CREATE INDEX harvest_candidates_queue ON harvest_candidates (user_id, status, expires_at);
CREATE INDEX harvest_candidates_expiry ON harvest_candidates (expires_at);
