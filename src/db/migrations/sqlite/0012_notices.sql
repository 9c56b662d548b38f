-- 0012: community notices (通知公告).  A notice belongs to a unit and reaches the
-- accounts living or working in that unit's subtree once published; its timeline is
-- append-only like every lifecycle's.
CREATE TABLE notices (
	id INTEGER PRIMARY KEY,
	title TEXT NOT NULL,
	body TEXT NOT NULL,
	unit_id INTEGER NOT NULL REFERENCES units(id),
	unit_path TEXT NOT NULL,       -- the unit's path, for scope and audience
	category TEXT NOT NULL,
	pinned INTEGER NOT NULL DEFAULT 0,
	status TEXT NOT NULL DEFAULT 'draft',
	published_at INTEGER,
	created_by INTEGER REFERENCES users(id),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX notices_unit ON notices(unit_path, id);
CREATE INDEX notices_status ON notices(status, pinned, id);

CREATE TABLE notice_events (
	id INTEGER PRIMARY KEY,
	notice_id INTEGER NOT NULL REFERENCES notices(id),
	at INTEGER NOT NULL,
	actor_id INTEGER,
	actor_name TEXT NOT NULL,
	action TEXT NOT NULL,
	from_status TEXT,
	to_status TEXT,
	note TEXT,
	data TEXT NOT NULL DEFAULT '{}',
	internal INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notice_events_notice ON notice_events(notice_id, id);
CREATE TRIGGER notice_events_no_update BEFORE UPDATE ON notice_events
BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;
CREATE TRIGGER notice_events_no_delete BEFORE DELETE ON notice_events
BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END;
