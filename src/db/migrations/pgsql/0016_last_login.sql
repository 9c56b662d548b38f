-- 0016: the console's user and log pages (issue 11).
--
-- When the account last signed in (ms; NULL: never since this column exists), set by a
-- successful login in the same write that creates the session.  Not an edit of the
-- account: its version and updated_at stay as they are, so that a form opened before
-- the user signed in can still be saved.
ALTER TABLE users ADD COLUMN last_login_at BIGINT;

-- The audit log by action: the action filter and the login log (kind=login, a list of
-- actions) seek to their entries newest first instead of reading the whole log.
CREATE INDEX audit_action ON audit_log(action, id);
