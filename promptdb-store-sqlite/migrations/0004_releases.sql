-- Releases: chat prompts and config on every version, per-version use counts, labels that name a
-- version or an A/B split of versions, the history of every label move, and the includes between
-- prompts (for dependents). Existing prompts become text prompts with an empty config.

ALTER TABLE prompts ADD COLUMN kind TEXT NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'chat'));
ALTER TABLE prompts ADD COLUMN messages TEXT NOT NULL DEFAULT '[]';     -- JSON array
ALTER TABLE prompts ADD COLUMN config TEXT NOT NULL DEFAULT '{}';       -- JSON object
ALTER TABLE prompts ADD COLUMN commit_message TEXT NOT NULL DEFAULT '';

ALTER TABLE prompt_versions ADD COLUMN kind TEXT NOT NULL DEFAULT 'text' CHECK (kind IN ('text', 'chat'));
ALTER TABLE prompt_versions ADD COLUMN messages TEXT NOT NULL DEFAULT '[]';
ALTER TABLE prompt_versions ADD COLUMN config TEXT NOT NULL DEFAULT '{}';
ALTER TABLE prompt_versions ADD COLUMN commit_message TEXT NOT NULL DEFAULT '';
ALTER TABLE prompt_versions ADD COLUMN usage_count INTEGER NOT NULL DEFAULT 0 CHECK (usage_count >= 0);

-- `target` is JSON: {"version": 3} or {"split": [{"version": 3, "weight": 90}, …]}.
CREATE TABLE prompt_labels (
    prompt_pk  INTEGER NOT NULL REFERENCES prompts (pk) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (prompt_pk, name)
) STRICT, WITHOUT ROWID;

-- One row per move; `from_target` is NULL when the label was created, `to_target` when removed.
CREATE TABLE label_moves (
    id          INTEGER PRIMARY KEY,
    prompt_pk   INTEGER NOT NULL REFERENCES prompts (pk) ON DELETE CASCADE,
    label       TEXT    NOT NULL,
    from_target TEXT,
    to_target   TEXT,
    actor       TEXT    NOT NULL,
    moved_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX label_moves_prompt ON label_moves (prompt_pk, label, id);

-- The slugs a prompt's newest version includes (`{{> slug}}`).
CREATE TABLE prompt_includes (
    prompt_pk   INTEGER NOT NULL REFERENCES prompts (pk) ON DELETE CASCADE,
    user_id     BLOB    NOT NULL,
    target_slug TEXT    NOT NULL,
    PRIMARY KEY (prompt_pk, target_slug)
) STRICT, WITHOUT ROWID;

CREATE INDEX prompt_includes_target ON prompt_includes (user_id, target_slug);
