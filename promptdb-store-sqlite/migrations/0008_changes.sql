-- The change feed (a transactional outbox): triggers record every new version, label move and
-- deleted prompt in the transaction of the write itself, numbered per user in commit order.
-- `change_heads` holds each user's last number, so numbers are never reused after a purge.
-- Times are microseconds since the epoch, as elsewhere.

CREATE TABLE change_heads (
    user_id BLOB    PRIMARY KEY,
    seq     INTEGER NOT NULL
) STRICT;

-- `id` orders every user's changes together, for the listener that wakes servers (never reused).
CREATE TABLE changes (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BLOB    NOT NULL,
    seq     INTEGER NOT NULL,
    kind    TEXT    NOT NULL CHECK (kind IN ('version_created', 'label_moved', 'prompt_deleted')),
    slug    TEXT    NOT NULL,
    label   TEXT,
    version INTEGER,
    at      INTEGER NOT NULL,
    UNIQUE (user_id, seq)
) STRICT;

CREATE INDEX changes_at ON changes (at);

CREATE TRIGGER changes_version_created AFTER INSERT ON prompt_versions
BEGIN
    INSERT INTO change_heads (user_id, seq)
        SELECT user_id, 1 FROM prompts WHERE pk = NEW.prompt_pk
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, slug, version, at)
        SELECT p.user_id, h.seq, 'version_created', p.slug, NEW.version, NEW.created_at
        FROM prompts p JOIN change_heads h ON h.user_id = p.user_id
        WHERE p.pk = NEW.prompt_pk;
END;

CREATE TRIGGER changes_label_moved AFTER INSERT ON label_moves
BEGIN
    INSERT INTO change_heads (user_id, seq)
        SELECT user_id, 1 FROM prompts WHERE pk = NEW.prompt_pk
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, slug, label, version, at)
        SELECT p.user_id, h.seq, 'label_moved', p.slug, NEW.label,
               json_extract(NEW.to_target, '$.version'), NEW.moved_at
        FROM prompts p JOIN change_heads h ON h.user_id = p.user_id
        WHERE p.pk = NEW.prompt_pk;
END;

CREATE TRIGGER changes_prompt_deleted AFTER DELETE ON prompts
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (OLD.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, slug, at)
        SELECT OLD.user_id, h.seq, 'prompt_deleted', OLD.slug,
               CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)
        FROM change_heads h WHERE h.user_id = OLD.user_id;
END;
