-- 0001: the foundation: units, organisations, accounts, sessions, API keys,
-- dictionaries, the working-day calendar, idempotency keys and the audit log.
-- Times are integer milliseconds since the epoch (UTC).

CREATE TABLE units (
	id INTEGER PRIMARY KEY,
	parent_id INTEGER REFERENCES units(id),
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	code TEXT,
	path TEXT NOT NULL,            -- materialised path '/1/4/9/'
	address TEXT,
	lat REAL,
	lng REAL,
	sort INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX units_code ON units(code) WHERE code IS NOT NULL;
CREATE UNIQUE INDEX units_path ON units(path);
CREATE INDEX units_parent ON units(parent_id, id);
CREATE INDEX units_kind ON units(kind, id);

CREATE TABLE orgs (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL,
	name TEXT NOT NULL UNIQUE,
	credit_code TEXT UNIQUE,
	unit_id INTEGER REFERENCES units(id),
	contact_name TEXT,
	contact_phone TEXT,            -- sealed (personal information)
	address TEXT,
	description TEXT,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX orgs_kind ON orgs(kind, id);
CREATE INDEX orgs_unit ON orgs(unit_id, id);

CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	username TEXT NOT NULL UNIQUE,
	display_name TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	roles TEXT NOT NULL,           -- JSON array of role names
	unit_id INTEGER REFERENCES units(id),
	org_id INTEGER REFERENCES orgs(id),
	phone TEXT,                    -- sealed (personal information)
	disabled INTEGER NOT NULL DEFAULT 0,
	password_changed_at INTEGER,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX users_unit ON users(unit_id, id);
CREATE INDEX users_org ON users(org_id, id);

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id),
	csrf_token TEXT NOT NULL,
	client TEXT,
	created_at INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_attempts (
	username TEXT PRIMARY KEY,
	failures INTEGER NOT NULL,
	window_start INTEGER NOT NULL,
	locked_until INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE api_keys (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	prefix TEXT NOT NULL,
	key_hash TEXT NOT NULL UNIQUE,
	user_id INTEGER NOT NULL REFERENCES users(id),
	created_by INTEGER REFERENCES users(id),
	revoked INTEGER NOT NULL DEFAULT 0,
	last_used_at INTEGER,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX api_keys_user ON api_keys(user_id, id);

CREATE TABLE dict_entries (
	id INTEGER PRIMARY KEY,
	type TEXT NOT NULL,
	code TEXT NOT NULL,
	name TEXT NOT NULL,
	name_en TEXT,
	parent_code TEXT,
	sort INTEGER NOT NULL DEFAULT 0,
	disabled INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	UNIQUE (type, code)
);

CREATE TABLE calendar_days (
	day INTEGER PRIMARY KEY,       -- days since 1970-01-01
	kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
	note TEXT
);

CREATE TABLE idempotency_keys (
	account_id INTEGER NOT NULL,
	key TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	status INTEGER NOT NULL,
	location TEXT,
	body TEXT NOT NULL,
	PRIMARY KEY (account_id, key)
);

CREATE TABLE audit_log (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	actor_id INTEGER,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	object_type TEXT NOT NULL,
	object_id INTEGER,
	summary TEXT NOT NULL,
	client TEXT,
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL
);
CREATE INDEX audit_actor ON audit_log(actor_id, id);
CREATE INDEX audit_object ON audit_log(object_type, object_id, id);
-- append-only: the database itself refuses changes to written entries
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
