-- 0007: the accounts' inboxes.  A notification is written in the same transaction
-- as the change it announces (so none is lost and none announces a rolled-back
-- change); kind names the event ("work_order.dispatch"), object the row it is about.
CREATE TABLE notifications (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id),
	kind TEXT NOT NULL,
	object_type TEXT,
	object_id INTEGER,
	title TEXT NOT NULL,
	body TEXT,
	created_at INTEGER NOT NULL,
	read_at INTEGER
);
CREATE INDEX notifications_user ON notifications(user_id, id);
CREATE INDEX notifications_unread ON notifications(user_id, id) WHERE read_at IS NULL;
