-- A second factor for staff accounts (TOTP, RFC 6238), for 等保2.0 level 3's two
-- factors on management accounts.
--
-- totp_secret holds the base32 secret sealed with the personal-data key (gz_seal), so
-- a copy of the database alone does not give the codes.  It is set by enrolment and
-- becomes the account's second factor only when totp_enabled is set (after the first
-- code is confirmed).  totp_last_step is the 30-second step of the last code accepted:
-- a code is accepted only for a later step, so a code seen once (over a shoulder, in
-- a proxy log) cannot be replayed.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- One-time recovery codes, for a lost phone.  Only a keyed hash is stored (BLAKE2b
-- under a key derived from the server key; the codes carry 50 random bits, so a slow
-- password hash would add nothing); used_at is set when a code is spent.
CREATE TABLE totp_recovery_codes (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id),
	code_hash TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	used_at INTEGER
);
CREATE INDEX totp_recovery_codes_user ON totp_recovery_codes(user_id, code_hash);
