-- 0014: the requester's own rating of a closed work order (the rate action).
-- resident_rated_at is when the requester rated the order since it was last closed
-- (NULL: not yet): a rating is given once per closing, and a reopen clears it.
ALTER TABLE work_orders ADD COLUMN resident_rated_at INTEGER;
