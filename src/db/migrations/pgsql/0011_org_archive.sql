-- 0011 (PostgreSQL): organisations may be withdrawn (archived) rather than deleted:
-- work orders, accounts and the audit log keep naming them.  NULL: in service.
ALTER TABLE orgs ADD COLUMN archived_at BIGINT;
