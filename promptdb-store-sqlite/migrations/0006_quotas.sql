-- Quotas: every prompt keeps the bytes its versions hold (their text fields), kept up to date by
-- triggers on prompt_versions, so that a user's total is a sum over an index of their prompts.
-- Deleting a prompt deletes its versions after it, when there is no prompt left to update.

ALTER TABLE prompts ADD COLUMN stored_bytes INTEGER NOT NULL DEFAULT 0 CHECK (stored_bytes >= 0);

UPDATE prompts SET stored_bytes = coalesce((
    SELECT sum(length(CAST(v.name AS BLOB)) + length(CAST(v.description AS BLOB))
             + length(CAST(v.content AS BLOB)) + length(CAST(v.tags AS BLOB))
             + length(CAST(v.variables AS BLOB)) + length(CAST(v.messages AS BLOB))
             + length(CAST(v.config AS BLOB)) + length(CAST(v.commit_message AS BLOB)))
    FROM prompt_versions v WHERE v.prompt_pk = prompts.pk), 0);

CREATE INDEX prompts_user_bytes ON prompts (user_id, stored_bytes);

CREATE TRIGGER prompt_versions_bytes_in AFTER INSERT ON prompt_versions BEGIN
    UPDATE prompts SET stored_bytes = stored_bytes
        + length(CAST(NEW.name AS BLOB)) + length(CAST(NEW.description AS BLOB))
        + length(CAST(NEW.content AS BLOB)) + length(CAST(NEW.tags AS BLOB))
        + length(CAST(NEW.variables AS BLOB)) + length(CAST(NEW.messages AS BLOB))
        + length(CAST(NEW.config AS BLOB)) + length(CAST(NEW.commit_message AS BLOB))
    WHERE pk = NEW.prompt_pk;
END;

CREATE TRIGGER prompt_versions_bytes_out AFTER DELETE ON prompt_versions BEGIN
    UPDATE prompts SET stored_bytes = max(0, stored_bytes
        - length(CAST(OLD.name AS BLOB)) - length(CAST(OLD.description AS BLOB))
        - length(CAST(OLD.content AS BLOB)) - length(CAST(OLD.tags AS BLOB))
        - length(CAST(OLD.variables AS BLOB)) - length(CAST(OLD.messages AS BLOB))
        - length(CAST(OLD.config AS BLOB)) - length(CAST(OLD.commit_message AS BLOB)))
    WHERE pk = OLD.prompt_pk;
END;
