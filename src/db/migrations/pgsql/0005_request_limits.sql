-- 0005 (PostgreSQL): an Idempotency-Key is bound to the request that first used it.
-- digest is the SHA-256 (hex) of the method, path, query and raw body; the same key
-- with another digest is refused (409) instead of replaying another request's
-- response.  Rows from before this migration keep '' and replay as before until
-- they expire (24 h).
ALTER TABLE idempotency_keys ADD COLUMN digest TEXT NOT NULL DEFAULT '';
