-- 0014: what the console's work-order pages need (issue 11).
--
-- The requester's own rating of a closed order (the rate action): resident_rated_at is
-- when the requester rated the order since it was last closed (NULL: not yet); a rating
-- is given once per closing, and a reopen clears it.
ALTER TABLE work_orders ADD COLUMN resident_rated_at BIGINT;

-- The running orders (whose deadlines can pass) with every column the live overdue and
-- due-soon counts read, the scope's included: the dashboard counts and the statistics'
-- overdue column count them from this index alone, whatever the number of closed
-- orders (a few per cent of all orders are running).
CREATE INDEX work_orders_running ON work_orders (status, resolve_due_at, accept_due_at,
	created_at, dispatched_at, community_id, subdistrict_id, unit_path, handler_org_id,
	handler_unit_path, requester_user_id, created_by, category_code, channel)
	WHERE status IN ('new', 'dispatched', 'accepted', 'in_progress', 'returned');
