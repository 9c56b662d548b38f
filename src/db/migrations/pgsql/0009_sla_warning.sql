-- 0009 (PostgreSQL): the SLA scanner's warning before a breach.  sla_warned_due holds
-- the resolve deadline the handler was last warned about (NULL: none), so that a
-- restart does not warn again and an extended deadline is warned about anew.
ALTER TABLE work_orders ADD COLUMN sla_warned_due BIGINT;
