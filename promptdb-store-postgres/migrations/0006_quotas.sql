-- Quotas: every prompt keeps the bytes its versions hold (their text fields), kept up to date by
-- a trigger on prompt_versions, so that a user's total is a sum over an index of their prompts.
-- The trigger updates the prompt row its transaction already holds (no new lock order); when a
-- deleted prompt takes its versions with it, there is no prompt left to update.

SELECT set_config('promptdb.system', 'on', true);

ALTER TABLE prompts ADD COLUMN stored_bytes bigint NOT NULL DEFAULT 0 CHECK (stored_bytes >= 0);

CREATE FUNCTION promptdb_version_bytes(v prompt_versions) RETURNS bigint
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT (octet_length(v.name) + octet_length(v.description) + octet_length(v.content)
                  + octet_length(v.tags::text) + octet_length(v.variables::text)
                  + octet_length(v.messages::text) + octet_length(v.config::text)
                  + octet_length(v.commit_message))::bigint $$;

UPDATE prompts p SET stored_bytes = coalesce((
    SELECT sum(promptdb_version_bytes(v)) FROM prompt_versions v WHERE v.prompt_pk = p.pk), 0);

CREATE INDEX prompts_user_bytes ON prompts (user_id, stored_bytes);

CREATE FUNCTION promptdb_count_version_bytes() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE prompts SET stored_bytes = stored_bytes + promptdb_version_bytes(NEW)
            WHERE pk = NEW.prompt_pk;
        RETURN NEW;
    END IF;
    UPDATE prompts SET stored_bytes = greatest(0, stored_bytes - promptdb_version_bytes(OLD))
        WHERE pk = OLD.prompt_pk;
    RETURN OLD;
END $$;

CREATE TRIGGER prompt_versions_bytes AFTER INSERT OR DELETE ON prompt_versions
    FOR EACH ROW EXECUTE FUNCTION promptdb_count_version_bytes();
