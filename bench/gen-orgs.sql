-- gen-orgs.sql - benchmark fixture: @count organisations for the list benchmark.
--
-- This writes the SQLite database directly, bypassing the API, on purpose: it is a
-- benchmark fixture, 100,000 rows have to appear in about a second, and the
-- rows are only read back through the API.  Never do this to a real database.
-- contact_phone stays NULL because the server stores it sealed (encrypted with the
-- instance key), which plain SQL cannot produce.  There are no FTS tables or
-- triggers on orgs, so nothing else has to be kept in step.
--
-- Usage (the server must not be running):
--   sqlite3 -bail DB ".parameter set @count 100000" ".read bench/gen-orgs.sql"
-- Names are 'bench-org-000001' … so they cannot collide with the demo data or with
-- the names the create benchmark uses ('bench-<prefix>-<thread>-<n>').

PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 5000;

BEGIN IMMEDIATE;

WITH RECURSIVE
	n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @count),
	base(t) AS (SELECT CAST(unixepoch('now') AS INTEGER) * 1000)
INSERT INTO orgs (kind, name, credit_code, unit_id, contact_name, contact_phone, address,
		  description, created_at, updated_at, version)
SELECT
	CASE i % 10
		WHEN 0 THEN 'partner'   WHEN 1 THEN 'property_company'
		WHEN 2 THEN 'department' WHEN 3 THEN 'enterprise'
		WHEN 4 THEN 'school'    WHEN 5 THEN 'hospital'
		WHEN 6 THEN 'bank'      WHEN 7 THEN 'shop'
		WHEN 8 THEN 'ngo'       ELSE 'other'
	END,
	printf('bench-org-%06d', i),
	NULL,                                   -- credit_code: optional, checked when given
	NULL,                                   -- unit_id: no unit (visible to the admin)
	printf('联系人%d', i % 997),
	NULL,                                   -- contact_phone: sealed by the server, see above
	printf('天津市河东区基准路%d号', i % 500 + 1),
	printf('基准测试用机构第%d号,与街道各社区建立共建关系,开展志愿服务、便民活动和政策宣传。', i),
	base.t - (@count - i) * 1000,           -- one a second, oldest first
	base.t - (@count - i) * 1000,
	1
FROM n, base;

COMMIT;

PRAGMA wal_checkpoint(TRUNCATE);
