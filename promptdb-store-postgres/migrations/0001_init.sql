-- PromptDB schema, version 1. Version numbers match the SQLite backend's migrations one for one.
--
-- Row-level security is the second line of defence behind the application's own user scoping:
-- every user-owned table only shows and accepts rows of the user named by the transaction-local
-- setting `promptdb.user_id`. The backend sets it at the start of every transaction. The few
-- operations that span users (the draft sweeper, re-scoring, looking up an API key by its hash)
-- set `promptdb.system = 'on'` for their transaction instead. Without either setting, nothing is
-- visible. Policies are FORCEd, so they bind the tables' owner too; connect as a role that is
-- not a superuser and lacks BYPASSRLS, or PostgreSQL skips them. Policies call the setting
-- functions through `(SELECT …)` so that they run once per query, not once per row, and the
-- comparison can use an index.

CREATE FUNCTION promptdb_current_user() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('promptdb.user_id', true), '')::uuid $$;

CREATE FUNCTION promptdb_system() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(current_setting('promptdb.system', true), '') = 'on' $$;

CREATE TABLE users (
    id           uuid        PRIMARY KEY,
    display_name text        NOT NULL,
    created_at   timestamptz NOT NULL
);

CREATE TABLE prompts (
    pk           bigint           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           uuid             NOT NULL UNIQUE,
    user_id      uuid             NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    slug         text COLLATE "C" NOT NULL,
    pinned       boolean          NOT NULL,
    favorite     boolean          NOT NULL,
    score        double precision NOT NULL,     -- ranking score, computed by promptdb-core
    usage_count  bigint           NOT NULL CHECK (usage_count >= 0),
    last_used_at timestamptz,
    created_at   timestamptz      NOT NULL,
    updated_at   timestamptz      NOT NULL,
    version      integer          NOT NULL CHECK (version >= 1),
    name         text             NOT NULL,
    description  text             NOT NULL,
    tags         jsonb            NOT NULL,     -- array of strings
    variables    jsonb            NOT NULL,     -- array of variable objects
    content      text             NOT NULL,
    UNIQUE (user_id, slug),
    UNIQUE (pk, user_id)        -- lets prompt_search name the owner, checked
);

-- The ranked list: pinned first, score descending, slug ascending.
CREATE INDEX prompts_ranked ON prompts (user_id, pinned DESC, score DESC, slug);

-- Full text of each prompt, folded by promptdb-core and weighted: slug and name A, tags B,
-- description C, content D. It lives beside `prompts`, in a table without a policy, because
-- PostgreSQL will not use an index for a non-leakproof operator such as `@@` on a table with
-- row-level security: a search there reads every row of the user. Every query names the user and
-- joins back to `prompts`, whose policy still decides which rows come out.
CREATE TABLE prompt_search (
    prompt_pk bigint   PRIMARY KEY,
    user_id   uuid     NOT NULL,
    search    tsvector NOT NULL,
    FOREIGN KEY (prompt_pk, user_id) REFERENCES prompts (pk, user_id) ON DELETE CASCADE
);

CREATE INDEX prompt_search_terms ON prompt_search USING gin (search);

CREATE TABLE prompt_versions (
    prompt_pk   bigint      NOT NULL REFERENCES prompts (pk) ON DELETE CASCADE,
    version     integer     NOT NULL,
    name        text        NOT NULL,
    description text        NOT NULL,
    content     text        NOT NULL,
    tags        jsonb       NOT NULL,
    variables   jsonb       NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (prompt_pk, version)
);

CREATE TABLE prompt_tags (
    user_id   uuid             NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    tag       text COLLATE "C" NOT NULL,
    prompt_pk bigint           NOT NULL REFERENCES prompts (pk) ON DELETE CASCADE,
    PRIMARY KEY (user_id, tag, prompt_pk)
);

CREATE INDEX prompt_tags_prompt ON prompt_tags (prompt_pk);

CREATE TABLE drafts (
    id          uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    prompt_slug text,
    fields      jsonb       NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);

CREATE INDEX drafts_user ON drafts (user_id, expires_at);
CREATE INDEX drafts_expiry ON drafts (expires_at);

CREATE TABLE preferences (
    user_id    uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    data       jsonb       NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_own ON users
    USING (id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()))
    WITH CHECK (id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()));

ALTER TABLE prompts ENABLE ROW LEVEL SECURITY;
ALTER TABLE prompts FORCE ROW LEVEL SECURITY;
CREATE POLICY prompts_own ON prompts
    USING (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()))
    WITH CHECK (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()));

-- Versions belong to their prompt; the subquery is itself filtered by the prompts policy.
ALTER TABLE prompt_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE prompt_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY prompt_versions_own ON prompt_versions
    USING (EXISTS (SELECT 1 FROM prompts p WHERE p.pk = prompt_pk))
    WITH CHECK (EXISTS (SELECT 1 FROM prompts p WHERE p.pk = prompt_pk));

ALTER TABLE prompt_tags ENABLE ROW LEVEL SECURITY;
ALTER TABLE prompt_tags FORCE ROW LEVEL SECURITY;
CREATE POLICY prompt_tags_own ON prompt_tags
    USING (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()))
    WITH CHECK (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()));

ALTER TABLE drafts ENABLE ROW LEVEL SECURITY;
ALTER TABLE drafts FORCE ROW LEVEL SECURITY;
CREATE POLICY drafts_own ON drafts
    USING (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()))
    WITH CHECK (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()));

ALTER TABLE preferences ENABLE ROW LEVEL SECURITY;
ALTER TABLE preferences FORCE ROW LEVEL SECURITY;
CREATE POLICY preferences_own ON preferences
    USING (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()))
    WITH CHECK (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()));
