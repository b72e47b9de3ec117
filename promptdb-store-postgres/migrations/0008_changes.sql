-- The change feed (a transactional outbox): triggers record every new version, label move and
-- deleted prompt in the transaction of the write itself, numbered per user. The number comes
-- from the user's row in `change_heads`, whose lock is held until commit, so a user's changes
-- are numbered in commit order and a client resuming after number n misses nothing. NOTIFY
-- (delivered at commit) wakes every server listening on `promptdb_changes` with `user:slug`.

CREATE TABLE change_heads (
    user_id uuid   PRIMARY KEY,
    seq     bigint NOT NULL
);

CREATE TABLE changes (
    user_id uuid             NOT NULL,
    seq     bigint           NOT NULL,
    kind    text             NOT NULL CHECK (kind IN ('version_created', 'label_moved', 'prompt_deleted')),
    slug    text COLLATE "C" NOT NULL,
    label   text,
    version integer,
    at      timestamptz      NOT NULL,
    PRIMARY KEY (user_id, seq)
);

CREATE INDEX changes_at ON changes (at);

ALTER TABLE change_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE change_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY change_heads_own ON change_heads
    USING (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()))
    WITH CHECK (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()));

ALTER TABLE changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE changes FORCE ROW LEVEL SECURITY;
CREATE POLICY changes_own ON changes
    USING (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()))
    WITH CHECK (user_id = (SELECT promptdb_current_user()) OR (SELECT promptdb_system()));

CREATE FUNCTION promptdb_record_change(
    p_user uuid, p_kind text, p_slug text, p_label text, p_version integer, p_at timestamptz
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (p_user, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = change_heads.seq + 1
        RETURNING seq INTO n;
    INSERT INTO changes (user_id, seq, kind, slug, label, version, at)
        VALUES (p_user, n, p_kind, p_slug, p_label, p_version, p_at);
    PERFORM pg_notify('promptdb_changes', p_user::text || ':' || p_slug);
END $$;

CREATE FUNCTION promptdb_version_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM promptdb_record_change(p.user_id, 'version_created', p.slug, NULL, NEW.version, NEW.created_at)
        FROM prompts p WHERE p.pk = NEW.prompt_pk;
    RETURN NULL;
END $$;

CREATE FUNCTION promptdb_label_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM promptdb_record_change(p.user_id, 'label_moved', p.slug, NEW.label,
                                   (NEW.to_target ->> 'version')::integer, NEW.moved_at)
        FROM prompts p WHERE p.pk = NEW.prompt_pk;
    RETURN NULL;
END $$;

CREATE FUNCTION promptdb_prompt_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM promptdb_record_change(OLD.user_id, 'prompt_deleted', OLD.slug, NULL, NULL, now());
    RETURN NULL;
END $$;

CREATE TRIGGER changes_version_created AFTER INSERT ON prompt_versions
    FOR EACH ROW EXECUTE FUNCTION promptdb_version_created();
CREATE TRIGGER changes_label_moved AFTER INSERT ON label_moves
    FOR EACH ROW EXECUTE FUNCTION promptdb_label_moved();
CREATE TRIGGER changes_prompt_deleted AFTER DELETE ON prompts
    FOR EACH ROW EXECUTE FUNCTION promptdb_prompt_deleted();
