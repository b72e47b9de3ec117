-- Harvest: prompts found in the user's conversations, waiting for review. The candidate itself
-- is a JSON document; the columns are what the queue filters and sorts by. One row per user and
-- content hash: the same prompt found again is counted again, and one the user accepted or
-- dismissed is not proposed again until its row expires.

CREATE TABLE harvest_candidates (
    id           uuid             PRIMARY KEY,
    user_id      uuid             NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    content_hash text             NOT NULL,
    status       text             NOT NULL CHECK (status IN ('pending', 'accepted', 'dismissed')),
    score        double precision,
    data         jsonb            NOT NULL,
    created_at   timestamptz      NOT NULL,
    expires_at   timestamptz      NOT NULL,
    UNIQUE (user_id, content_hash)
);

CREATE INDEX harvest_candidates_queue ON harvest_candidates (user_id, status, expires_at);
CREATE INDEX harvest_candidates_expiry ON harvest_candidates (expires_at);

ALTER TABLE harvest_candidates ENABLE ROW LEVEL SECURITY;
ALTER TABLE harvest_candidates FORCE ROW LEVEL SECURITY;
CREATE POLICY harvest_candidates_own ON harvest_candidates
    USING (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()))
    WITH CHECK (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()));
