-- Sign-in through an OpenID Connect provider. An identity maps the provider's (issuer, subject)
-- to a user; a session is a browser login, stored under the SHA-256 of its cookie secret, with
-- the provider's refresh token so the login can be confirmed again before it lapses. Both are
-- looked up before the user is known, so those lookups run in `promptdb.system` transactions.

CREATE TABLE identities (
    issuer     text        NOT NULL,
    subject    text        NOT NULL,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (issuer, subject)
);

CREATE INDEX identities_user ON identities (user_id);

CREATE TABLE sessions (
    secret_hash    bytea       PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token     text        NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    refresh_token  text,
    refresh_due_at timestamptz
);

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

ALTER TABLE identities ENABLE ROW LEVEL SECURITY;
ALTER TABLE identities FORCE ROW LEVEL SECURITY;
CREATE POLICY identities_own ON identities
    USING (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()))
    WITH CHECK (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()));

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY sessions_own ON sessions
    USING (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()))
    WITH CHECK (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()));
