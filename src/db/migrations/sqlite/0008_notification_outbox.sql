-- 0008: outbound delivery of notifications (the webhook, notify_webhook_url).  The
-- delivery thread copies every notification written after the mark into the outbox,
-- then posts the due rows, retrying with exponential backoff; rows survive restarts.
CREATE TABLE notification_outbox (
	id INTEGER PRIMARY KEY,
	notification_id INTEGER NOT NULL UNIQUE REFERENCES notifications(id),
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	delivered_at INTEGER,
	failed_at INTEGER, -- gave up after notify_webhook_max_attempts
	last_error TEXT,
	created_at INTEGER NOT NULL
);
CREATE INDEX notification_outbox_due ON notification_outbox(next_attempt_at)
	WHERE delivered_at IS NULL AND failed_at IS NULL;
-- the last notification copied into the outbox (one row): notifications written
-- before the webhook was first configured are not sent
CREATE TABLE notification_outbox_mark (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	last_notification_id INTEGER NOT NULL
);
