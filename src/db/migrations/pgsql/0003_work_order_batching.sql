-- 0003 (PostgreSQL): in SQLite this migration moves the FTS5 index onto a per-batch
-- feed (the table work_orders_fts_pending and new triggers on work_orders); that is
-- SQLite-only full-text machinery and is not carried over (search for both backends
-- comes with migration 0013).  What remains is the index change.

-- Never read: lists by unit go by community_id, subdistrict_id or unit_path.
DROP INDEX work_orders_unit;
