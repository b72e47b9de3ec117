-- Sessions record what their sign-in granted (a JSON array of "read" / "write" / "release"):
-- a session started with a read-only key or a provider that granted only reading may do no
-- more. Sessions from before have NULL, read as every scope, as they were granted then.

ALTER TABLE sessions ADD COLUMN scopes TEXT;
