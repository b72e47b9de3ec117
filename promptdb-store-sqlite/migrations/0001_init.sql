-- PromptDB schema, version 1. The PostgreSQL backend's migrations use the same version numbers.
-- Timestamps are microseconds since the Unix epoch (UTC); ids are 16-byte UUIDs.

CREATE TABLE users (
    id           BLOB    PRIMARY KEY,
    display_name TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

-- Small, hot columns first: SQLite reads a row from its start, and a column stored after a large
-- `content` value costs a walk through overflow pages. Lists and searches never touch `content`.
CREATE TABLE prompts (
    pk           INTEGER PRIMARY KEY,          -- rowid; also the FTS rowid
    id           BLOB    NOT NULL UNIQUE,
    user_id      BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    slug         TEXT    NOT NULL,
    pinned       INTEGER NOT NULL CHECK (pinned IN (0, 1)),
    favorite     INTEGER NOT NULL CHECK (favorite IN (0, 1)),
    score        REAL    NOT NULL,             -- ranking score, computed by promptdb-core
    usage_count  INTEGER NOT NULL CHECK (usage_count >= 0),
    last_used_at INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    name         TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    tags         TEXT    NOT NULL,             -- JSON array of strings
    variables    TEXT    NOT NULL,             -- JSON array of variable objects
    content      TEXT    NOT NULL,
    UNIQUE (user_id, slug)
) STRICT;

-- The ranked list: pinned first, score descending, slug ascending.
CREATE INDEX prompts_ranked ON prompts (user_id, pinned DESC, score DESC, slug);

CREATE TABLE prompt_versions (
    prompt_pk   INTEGER NOT NULL REFERENCES prompts (pk) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    content     TEXT    NOT NULL,
    tags        TEXT    NOT NULL,
    variables   TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (prompt_pk, version)
) STRICT, WITHOUT ROWID;

CREATE TABLE prompt_tags (
    user_id   BLOB    NOT NULL,
    tag       TEXT    NOT NULL,
    prompt_pk INTEGER NOT NULL REFERENCES prompts (pk) ON DELETE CASCADE,
    PRIMARY KEY (user_id, tag, prompt_pk)
) STRICT, WITHOUT ROWID;

CREATE INDEX prompt_tags_prompt ON prompt_tags (prompt_pk);

-- Full-text index over text folded by promptdb-core (lower case, no accents, words separated by
-- spaces). Contentless: the text lives in `prompts`; rows are written and deleted by the store in
-- the same transaction as the prompt. Prefix indexes make two- and three-letter prefix queries
-- read one posting list instead of merging thousands.
CREATE VIRTUAL TABLE prompts_fts USING fts5 (
    slug, name, tags, description, content,
    content = '',
    contentless_delete = 1,
    prefix = '2 3',
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TABLE drafts (
    id          BLOB    PRIMARY KEY,
    user_id     BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    prompt_slug TEXT,
    fields      TEXT    NOT NULL,              -- JSON object
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX drafts_user ON drafts (user_id, expires_at);
CREATE INDEX drafts_expiry ON drafts (expires_at);

CREATE TABLE preferences (
    user_id    BLOB    PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    data       TEXT    NOT NULL,               -- JSON object
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
