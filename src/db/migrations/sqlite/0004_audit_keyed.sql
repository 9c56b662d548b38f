-- The audit chain becomes keyed (issue 9, item 4).
--
-- Until now each entry's hash was a plain SHA-256 of its fields, coalescing NULL ids
-- to 0, so anyone able to write the database file could rewrite a suffix of the log
-- with recomputed hashes.  New entries carry scheme 2: their hash is an HMAC-SHA256
-- under the audit key (DATA_DIR/audit.key, never in the database) over a message in
-- which every field is tagged and length-prefixed, so NULL, 0 and '' differ.
--
-- Entries written before this migration keep scheme 1 and are verified the old way,
-- but only as a prefix: once a keyed entry exists no scheme-1 entry may follow it.
-- The first keyed entry's HMAC covers the hash of the last old entry, which covers
-- every old entry before it, so the old prefix is tamper-evident from then on; to make
-- "then" immediate, gongzhi appends a keyed audit_rekey entry the first time it opens
-- a migrated database whose last entry is still scheme 1 (src/auth/audit.c).
ALTER TABLE audit_log ADD COLUMN scheme INTEGER NOT NULL DEFAULT 1 CHECK (scheme IN (1, 2));

-- gongzhi itself only writes keyed entries from now on
CREATE TRIGGER audit_keyed_only BEFORE INSERT ON audit_log WHEN NEW.scheme <> 2
BEGIN SELECT RAISE(ABORT, 'audit entries must be keyed (scheme 2)'); END;
