-- Releases: chat prompts and config on every version, per-version use counts, labels that name a
-- version or an A/B split of versions, the history of every label move, and the includes between
-- prompts (for dependents). Existing prompts become text prompts with an empty config.

ALTER TABLE prompts
    ADD COLUMN kind text NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'chat')),
    ADD COLUMN messages jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN config jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN commit_message text NOT NULL DEFAULT '';

ALTER TABLE prompt_versions
    ADD COLUMN kind text NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'chat')),
    ADD COLUMN messages jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN config jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN commit_message text NOT NULL DEFAULT '',
    ADD COLUMN usage_count bigint NOT NULL DEFAULT 0 CHECK (usage_count >= 0);

-- `target`: {"version": 3} or {"split": [{"version": 3, "weight": 90}, …]}.
CREATE TABLE prompt_labels (
    prompt_pk  bigint           NOT NULL REFERENCES prompts (pk) ON DELETE CASCADE,
    name       text COLLATE "C" NOT NULL,
    target     jsonb            NOT NULL,
    updated_at timestamptz      NOT NULL,
    PRIMARY KEY (prompt_pk, name)
);

-- One row per move; `from_target` is NULL when the label was created, `to_target` when removed.
CREATE TABLE label_moves (
    id          bigint           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    prompt_pk   bigint           NOT NULL REFERENCES prompts (pk) ON DELETE CASCADE,
    label       text COLLATE "C" NOT NULL,
    from_target jsonb,
    to_target   jsonb,
    actor       text             NOT NULL,
    moved_at    timestamptz      NOT NULL
);

CREATE INDEX label_moves_prompt ON label_moves (prompt_pk, label, id);

-- The slugs a prompt's newest version includes (`{{> slug}}`).
CREATE TABLE prompt_includes (
    prompt_pk   bigint           NOT NULL REFERENCES prompts (pk) ON DELETE CASCADE,
    user_id     uuid             NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_slug text COLLATE "C" NOT NULL,
    PRIMARY KEY (prompt_pk, target_slug)
);

CREATE INDEX prompt_includes_target ON prompt_includes (user_id, target_slug);

-- Labels and moves belong to their prompt, like versions.
ALTER TABLE prompt_labels ENABLE ROW LEVEL SECURITY;
ALTER TABLE prompt_labels FORCE ROW LEVEL SECURITY;
CREATE POLICY prompt_labels_own ON prompt_labels
    USING (EXISTS (SELECT 1 FROM prompts p WHERE p.pk = prompt_pk))
    WITH CHECK (EXISTS (SELECT 1 FROM prompts p WHERE p.pk = prompt_pk));

ALTER TABLE label_moves ENABLE ROW LEVEL SECURITY;
ALTER TABLE label_moves FORCE ROW LEVEL SECURITY;
CREATE POLICY label_moves_own ON label_moves
    USING (EXISTS (SELECT 1 FROM prompts p WHERE p.pk = prompt_pk))
    WITH CHECK (EXISTS (SELECT 1 FROM prompts p WHERE p.pk = prompt_pk));

ALTER TABLE prompt_includes ENABLE ROW LEVEL SECURITY;
ALTER TABLE prompt_includes FORCE ROW LEVEL SECURITY;
CREATE POLICY prompt_includes_own ON prompt_includes
    USING (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()))
    WITH CHECK (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()));
