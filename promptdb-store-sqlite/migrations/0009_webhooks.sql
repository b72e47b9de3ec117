-- Webhooks: URLs a user registers to be told of changes in their library. Each hook keeps its
-- own position in the change feed (`delivered_seq`), so the `changes` table is the durable
-- outbox deliveries are retried from. `lease_until` marks a hook a delivery worker has claimed.
-- The secret signs deliveries (Standard Webhooks), so it is kept as given, not hashed.

CREATE TABLE webhooks (
    id              BLOB    PRIMARY KEY,
    user_id         BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url             TEXT    NOT NULL,
    events          TEXT    NOT NULL,              -- JSON array of change kinds
    description     TEXT    NOT NULL,
    secret          TEXT    NOT NULL,
    enabled         INTEGER NOT NULL,
    disabled_reason TEXT,
    created_at      INTEGER NOT NULL,
    delivered_seq   INTEGER NOT NULL,
    failures        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER
) STRICT;

CREATE INDEX webhooks_user ON webhooks (user_id, created_at);
CREATE INDEX webhooks_due ON webhooks (next_attempt_at) WHERE enabled = 1;

-- Every attempt to deliver, kept for the delivery log (purged with the change feed).
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id  BLOB    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    message_id  TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status      INTEGER,
    error       TEXT,
    duration_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id DESC);
CREATE INDEX webhook_deliveries_at ON webhook_deliveries (at);
