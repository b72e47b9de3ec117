-- Webhooks: URLs a user registers to be told of changes in their library. Each hook keeps its
-- own position in the change feed (`delivered_seq`), so the `changes` table is the durable
-- outbox deliveries are retried from. Delivery workers on every server claim due hooks with
-- `FOR UPDATE SKIP LOCKED` and a lease (`lease_until`), so one change goes out once per attempt
-- however many servers run. The secret signs deliveries (Standard Webhooks), so it is kept as
-- given, not hashed.

CREATE TABLE webhooks (
    id              uuid        PRIMARY KEY,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url             text        NOT NULL,
    events          jsonb       NOT NULL,
    description     text        NOT NULL,
    secret          text        NOT NULL,
    enabled         boolean     NOT NULL,
    disabled_reason text,
    created_at      timestamptz NOT NULL,
    delivered_seq   bigint      NOT NULL,
    failures        integer     NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz
);

CREATE INDEX webhooks_user ON webhooks (user_id, created_at);
CREATE INDEX webhooks_due ON webhooks (next_attempt_at) WHERE enabled;

CREATE TABLE webhook_deliveries (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id  uuid        NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    user_id     uuid        NOT NULL,
    message_id  text        NOT NULL,
    event       text        NOT NULL,
    seq         bigint      NOT NULL,
    attempt     integer     NOT NULL,
    at          timestamptz NOT NULL,
    status      integer,
    error       text,
    duration_ms integer     NOT NULL
);

CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id DESC);
CREATE INDEX webhook_deliveries_at ON webhook_deliveries (at);

ALTER TABLE webhooks ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhooks FORCE ROW LEVEL SECURITY;
CREATE POLICY webhooks_own ON webhooks
    USING (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()))
    WITH CHECK (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()));

ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_deliveries_own ON webhook_deliveries
    USING (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()))
    WITH CHECK (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()));
