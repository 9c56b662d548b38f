-- 0004 (PostgreSQL): the audit chain becomes keyed (issue 9, item 4).
--
-- Until now each entry's hash was a plain SHA-256 of its fields, coalescing NULL ids
-- to 0, so anyone able to write the database file could rewrite a suffix of the log
-- with recomputed hashes.  New entries carry scheme 2: their hash is an HMAC-SHA256
-- under the audit key (DATA_DIR/audit.key, never in the database) over a message in
-- which every field is tagged and length-prefixed, so NULL, 0 and '' differ.
--
-- Entries written before this migration keep scheme 1 and are verified the old way,
-- but only as a prefix: once a keyed entry exists no scheme-1 entry may follow it
-- (see src/db/migrations/sqlite/0004_audit_keyed.sql and src/auth/audit.c).
--
-- Adding a column with a constant default rewrites no row, so the append-only
-- triggers of 0001 do not fire.
ALTER TABLE audit_log ADD COLUMN scheme BIGINT NOT NULL DEFAULT 1 CHECK (scheme IN (1, 2));

-- gongzhi itself only writes keyed entries from now on.  (A copy of an older SQLite
-- log, with its scheme-1 prefix, has to insert with this trigger disabled.)
CREATE TRIGGER audit_keyed_only BEFORE INSERT ON audit_log
	FOR EACH ROW WHEN (NEW.scheme <> 2)
	EXECUTE FUNCTION gz_refuse_change('audit entries must be keyed (scheme 2)');
