-- 0002: work orders (工单): the orders, their handlers and co-handlers, the
-- append-only timeline, attachments, SLA rules, and full-text search.

CREATE TABLE sla_rules (
	id INTEGER PRIMARY KEY,
	category_code TEXT NOT NULL DEFAULT '',  -- prefix; '' matches every category
	priority TEXT NOT NULL,
	accept_hours INTEGER NOT NULL,
	resolve_workdays INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1,
	UNIQUE (category_code, priority)
);

CREATE TABLE work_orders (
	id INTEGER PRIMARY KEY,
	number TEXT NOT NULL UNIQUE,
	title TEXT NOT NULL,
	description TEXT NOT NULL,
	category_code TEXT NOT NULL,
	channel TEXT NOT NULL,
	priority TEXT NOT NULL,
	unit_id INTEGER NOT NULL REFERENCES units(id),
	unit_path TEXT NOT NULL,       -- the unit's materialised path (denormalised: units do not move)
	community_id INTEGER,          -- the community above unit_id (denormalised: units do not move)
	subdistrict_id INTEGER,        -- the subdistrict above unit_id
	address TEXT,
	lat REAL,
	lng REAL,
	requester_name TEXT,
	requester_phone TEXT,          -- sealed (personal information)
	requester_org_id INTEGER REFERENCES orgs(id),
	requester_user_id INTEGER REFERENCES users(id),
	external_id TEXT,
	status TEXT NOT NULL,
	handler_org_id INTEGER REFERENCES orgs(id),
	handler_unit_id INTEGER REFERENCES units(id),
	handler_unit_path TEXT,        -- the handling unit's path: its staff reach the order
	dispatched_at INTEGER,
	accepted_at INTEGER,
	resolved_at INTEGER,
	verified_at INTEGER,
	closed_at INTEGER,
	accept_due_at INTEGER,
	resolve_due_at INTEGER,
	extension_workdays INTEGER NOT NULL DEFAULT 0,
	extension_requested INTEGER,   -- workdays of a pending request
	return_count INTEGER NOT NULL DEFAULT 0,
	return_reason TEXT,
	reopen_count INTEGER NOT NULL DEFAULT 0,
	escalated INTEGER NOT NULL DEFAULT 0,
	overdue INTEGER NOT NULL DEFAULT 0,
	auto_escalated_due INTEGER,    -- the deadline whose breach the scanner escalated
	merged_into_id INTEGER REFERENCES work_orders(id),
	satisfaction TEXT,
	solved INTEGER,
	accepted_on_time INTEGER,
	resolved_on_time INTEGER,
	created_by INTEGER REFERENCES users(id),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX work_orders_external ON work_orders(channel, external_id)
	WHERE external_id IS NOT NULL;
CREATE INDEX work_orders_community ON work_orders(community_id, status, id);
CREATE INDEX work_orders_subdistrict ON work_orders(subdistrict_id, status, id);
CREATE INDEX work_orders_status ON work_orders(status, id);
CREATE INDEX work_orders_handler ON work_orders(handler_org_id, status, id);
CREATE INDEX work_orders_requester ON work_orders(requester_user_id, id);
CREATE INDEX work_orders_category ON work_orders(category_code, id);
CREATE INDEX work_orders_unit ON work_orders(unit_id, id);
CREATE INDEX work_orders_due ON work_orders(status, resolve_due_at);
CREATE INDEX work_orders_created ON work_orders(created_at);

CREATE TABLE work_order_handlers (
	work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
	org_id INTEGER NOT NULL REFERENCES orgs(id),
	role TEXT NOT NULL CHECK (role IN ('co_handler')),
	added_at INTEGER NOT NULL,
	reported_at INTEGER,
	report_note TEXT,
	PRIMARY KEY (work_order_id, org_id)
);
CREATE INDEX work_order_handlers_org ON work_order_handlers(org_id, work_order_id);

CREATE TABLE work_order_events (
	id INTEGER PRIMARY KEY,
	work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
	at INTEGER NOT NULL,
	actor_id INTEGER,              -- NULL: the system (SLA scanner)
	actor_name TEXT NOT NULL,
	action TEXT NOT NULL,
	from_status TEXT,
	to_status TEXT,
	note TEXT,
	data TEXT NOT NULL DEFAULT '{}',
	internal INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX work_order_events_order ON work_order_events(work_order_id, id);
CREATE TRIGGER work_order_events_no_update BEFORE UPDATE ON work_order_events
BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;
CREATE TRIGGER work_order_events_no_delete BEFORE DELETE ON work_order_events
BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;

CREATE TABLE work_order_attachments (
	id INTEGER PRIMARY KEY,
	work_order_id INTEGER NOT NULL REFERENCES work_orders(id),
	sha256 TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size INTEGER NOT NULL,
	filename TEXT,
	uploaded_by INTEGER REFERENCES users(id),
	created_at INTEGER NOT NULL
);
CREATE INDEX work_order_attachments_order ON work_order_attachments(work_order_id, id);

CREATE TABLE work_order_numbers (
	day TEXT PRIMARY KEY,          -- 'YYYYMMDD' in Shanghai time
	last INTEGER NOT NULL
);

-- Full-text search.  Trigrams find substrings of three or more characters in
-- Chinese (and any script); shorter queries use LIKE on the base table.
CREATE VIRTUAL TABLE work_orders_fts USING fts5(
	title, description, address, content='work_orders', content_rowid='id',
	tokenize='trigram');
CREATE TRIGGER work_orders_fts_insert AFTER INSERT ON work_orders BEGIN
	INSERT INTO work_orders_fts(rowid, title, description, address)
	VALUES (new.id, new.title, new.description, coalesce(new.address, ''));
END;
CREATE TRIGGER work_orders_fts_update AFTER UPDATE OF title, description, address ON work_orders
BEGIN
	INSERT INTO work_orders_fts(work_orders_fts, rowid, title, description, address)
	VALUES ('delete', old.id, old.title, old.description, coalesce(old.address, ''));
	INSERT INTO work_orders_fts(rowid, title, description, address)
	VALUES (new.id, new.title, new.description, coalesce(new.address, ''));
END;

-- Daily aggregates for the rates: maintained by the work-order module in the same
-- transaction as each change, so statistics never scan the orders.
CREATE TABLE work_order_daily (
	day INTEGER NOT NULL,          -- Shanghai day of creation (days since epoch)
	unit_id INTEGER NOT NULL,
	community_id INTEGER,
	subdistrict_id INTEGER,
	category_code TEXT NOT NULL,
	channel TEXT NOT NULL,
	handler_org_id INTEGER NOT NULL DEFAULT 0,
	total INTEGER NOT NULL DEFAULT 0,
	dispatched INTEGER NOT NULL DEFAULT 0,
	accepted_on_time INTEGER NOT NULL DEFAULT 0,
	resolved INTEGER NOT NULL DEFAULT 0,
	resolved_on_time INTEGER NOT NULL DEFAULT 0,
	resolve_hours_sum REAL NOT NULL DEFAULT 0,
	rated INTEGER NOT NULL DEFAULT 0,
	solved INTEGER NOT NULL DEFAULT 0,
	satisfied INTEGER NOT NULL DEFAULT 0,
	reopened INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (day, unit_id, category_code, channel, handler_org_id)
);
CREATE INDEX work_order_daily_community ON work_order_daily(community_id, day);
CREATE INDEX work_order_daily_subdistrict ON work_order_daily(subdistrict_id, day);

-- Default deadlines (签收 hours, 办结 working days); the admin refines them per
-- category.  Lifts, water and gas are urgent matters by nature.
INSERT INTO sla_rules (category_code, priority, accept_hours, resolve_workdays, created_at, updated_at) VALUES
	('', 'urgent', 1, 1, 0, 0),
	('', 'high', 2, 3, 0, 0),
	('', 'normal', 4, 5, 0, 0),
	('', 'low', 8, 10, 0, 0),
	('0101', 'normal', 2, 2, 0, 0),
	('0103', 'normal', 2, 3, 0, 0),
	('0103', 'urgent', 1, 1, 0, 0),
	('0105', 'normal', 2, 3, 0, 0);
