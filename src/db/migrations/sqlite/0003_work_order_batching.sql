-- The full-text index is fed once per commit batch instead of once per order.
--
-- FTS5 writes its pending terms out as a new segment whenever a savepoint opens or
-- closes after it was written to, and the writer opens one savepoint per request: the
-- per-order triggers of 0002 therefore made one segment per order (and a merge every
-- few orders), a third of the writer's time.  Now the triggers only note which orders
-- changed (and, for an order already indexed, the text that is in the index, needed
-- to take it out); the work-order module's batch-end function brings the index up to
-- date in three statements before the batch commits, in the same transaction, so
-- readers never see an order without its index entry.
DROP TRIGGER work_orders_fts_insert;
DROP TRIGGER work_orders_fts_update;

CREATE TABLE work_orders_fts_pending (
	id INTEGER PRIMARY KEY,           -- the work order
	indexed INTEGER NOT NULL,         -- 1: the text below is in the index, 0: nothing is
	title TEXT,
	description TEXT,
	address TEXT
);
-- OR IGNORE: the first note of a batch is the one that describes the index.
CREATE TRIGGER work_orders_fts_insert AFTER INSERT ON work_orders BEGIN
	INSERT OR IGNORE INTO work_orders_fts_pending (id, indexed) VALUES (new.id, 0);
END;
CREATE TRIGGER work_orders_fts_update AFTER UPDATE OF title, description, address ON work_orders
BEGIN
	INSERT OR IGNORE INTO work_orders_fts_pending (id, indexed, title, description, address)
	VALUES (old.id, 1, old.title, old.description, coalesce(old.address, ''));
END;

-- Never read: lists by unit go by community_id, subdistrict_id or unit_path.
DROP INDEX work_orders_unit;
