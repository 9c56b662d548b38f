-- gen-work-orders.sql - benchmark fixture: @count work orders on top of `gongzhi demo`.
--
-- This writes the SQLite database directly, bypassing the API, on purpose: it is a
-- throw-away benchmark fixture, a million orders have to appear in about a minute,
-- and they are only read back through the API.  Never do this to a real database.
-- The triggers of migration 0003 stay in place and note every row; the orders are
-- then indexed in one pass with the statement the server runs at the end of each
-- commit batch (bench/run-work-orders reports how long the insert took).
--
-- Usage (the server must not be running; the demo must be loaded):
--   sqlite3 -bail DB ".parameter set @count 1000000" ".parameter set @now <ms>" \
--       ".read bench/gen-work-orders.sql"
--
-- What the rows look like:
-- * places: the demo's compounds (weight 3) and communities (weight 2), with unit_path,
--   community_id and subdistrict_id taken from the units table as the server derives
--   them (gz_wo_unit_place); each compound has a fixed property company.
-- * categories: the kinds of src/modules/work_order_demo.c with their weights and
--   Chinese title/description templates (电梯故障停运, 屋面漏水, 车位使用权纠纷, 水压不足,
--   路灯不亮 …, combined with the place name and a building number), plus every leaf
--   category of dict_entries (type 'category') with weight 1 and a generic text.
--   A closing sentence from a small list makes the descriptions vary.
-- * channels as in the demo (12345 hotline 50%, grid patrol 18% …); priority urgent for
--   lifts trapping people and burst pipes, 10% high, else normal.
-- * created_at: evenly over the 365 Shanghai days before today, 07:00-21:00, growing
--   with the id (ids are handed out in creation order); today stays empty for the
--   create benchmark.
-- * status by age: older than 30 days ~95% closed, 2.5% cancelled, ~1% merged, the rest
--   stuck open; 4-30 days ~80% closed; the last 4 days spread over every state.
-- * deadlines from sla_rules (most specific category prefix, as gz_sla_rule); the
--   resolve deadline counts working days Monday-Friday only (the holiday calendar is
--   ignored: an approximation, the figures do not depend on it).  Accepted on time
--   ~11/12, resolved on time ~8/9; satisfaction and solved for closed orders.
-- * handler_org_id: the compound's property company for property matters (01…),
--   otherwise one of the other non-bank organisations.
-- * requester_phone stays NULL (the server stores it sealed, which SQL cannot
--   produce); no timeline events are written for these orders (the list, search and
--   statistics do not read them).  Numbers are 'GZB' + the id, external ids of hotline
--   orders '12345-B' + the id, so neither collides with the demo or the server.
--
-- It prints 'bench-time|<phase>|<unix seconds>' lines at the end of each phase
-- (lookups, orders, daily, analyze, checkpoint) for bench/run-work-orders.
--
-- Pseudo-random but deterministic: every choice is a hash of the row number i and a
-- salt k (Park-Miller modulus 2^31-1, squared once to break the linear pattern), so
-- two fixtures of the same size and day are identical.  The work_order_daily rebuild
-- at the end is a copy of gz_work_orders_rebuild_daily() in src/modules/work_order.c:
-- keep the two in step.

PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 5000;
PRAGMA cache_size = -262144;   -- 256 MB while building; the server uses its own setting
-- (no PRAGMA temp_store here: changing it drops the temp schema, and with it the
-- sqlite3 CLI's @parameters)

BEGIN IMMEDIATE;
SELECT 'bench-time', 'start', printf('%.3f', (julianday('now') - 2440587.5) * 86400.0);

-- ---- lookup tables (temporary) ------------------------------------------------------

-- places: compounds and communities, their community and subdistrict
CREATE TEMP TABLE bench_places (k INTEGER PRIMARY KEY, id INTEGER, name TEXT, path TEXT,
	community_id INTEGER, subdistrict_id INTEGER, lat REAL, lng REAL, weight INTEGER,
	property_org INTEGER);
INSERT INTO bench_places (k, id, name, path, community_id, subdistrict_id, lat, lng, weight)
SELECT row_number() OVER (ORDER BY u.id) - 1, u.id, u.name, u.path,
	(SELECT a.id FROM units a WHERE a.kind = 'community' AND substr(u.path, 1, length(a.path)) = a.path),
	(SELECT a.id FROM units a WHERE a.kind = 'subdistrict' AND substr(u.path, 1, length(a.path)) = a.path),
	coalesce(u.lat, 39.12), coalesce(u.lng, 117.25),
	CASE u.kind WHEN 'compound' THEN 3 ELSE 2 END
FROM units u WHERE u.kind IN ('compound', 'community');

CREATE TEMP TABLE bench_property (k INTEGER PRIMARY KEY, id INTEGER);
INSERT INTO bench_property SELECT row_number() OVER (ORDER BY id) - 1, id FROM orgs
WHERE kind = 'property_company';
CREATE TEMP TABLE bench_other (k INTEGER PRIMARY KEY, id INTEGER);
INSERT INTO bench_other SELECT row_number() OVER (ORDER BY id) - 1, id FROM orgs
WHERE kind NOT IN ('property_company', 'bank');
UPDATE bench_places SET property_org =
	(SELECT id FROM bench_property WHERE k = bench_places.k % (SELECT count(*) FROM bench_property));

-- weighted picks: one row per unit of weight, picked by slot number
CREATE TEMP TABLE bench_place_slots (slot INTEGER PRIMARY KEY, k INTEGER);
WITH RECURSIVE w(k, n) AS (SELECT k, weight FROM bench_places
	UNION ALL SELECT k, n - 1 FROM w WHERE n > 1)
INSERT INTO bench_place_slots (slot, k) SELECT row_number() OVER (ORDER BY k) - 1, k FROM w;

-- kinds: the demo's (weighted) and every leaf category (weight 1)
CREATE TEMP TABLE bench_kinds (k INTEGER PRIMARY KEY, code TEXT, title TEXT, descr TEXT,
	weight INTEGER, property INTEGER);
CREATE TEMP TABLE bench_kinds_src (code TEXT, title TEXT, descr TEXT, weight INTEGER);
INSERT INTO bench_kinds_src VALUES
	('010101', '{place}停水', '{place}{n}号楼从早上开始停水，没有提前通知，居民生活受影响。', 9),
	('010102', '{place}{n}号楼供水压力不足', '{place}{n}号楼高层水压太低，五楼以上基本没水。', 6),
	('010301', '{place}{n}号楼电梯故障停运', '{place}{n}号楼电梯已停运两天，老人上下楼困难，请尽快维修。', 10),
	('010302', '{place}{n}号楼电梯困人', '{place}{n}号楼电梯运行中突然停止，有人被困。', 3),
	('010401', '{place}停车位纠纷', '{place}地面车位被长期占用，业主之间因车位使用权发生争执。', 7),
	('010402', '{place}乱停乱放', '{place}消防通道附近车辆乱停乱放，影响通行。', 5),
	('010501', '{place}{n}号楼屋面漏水', '{place}{n}号楼顶层屋面漏水，雨天室内渗水严重。', 7),
	('010502', '{place}{n}号楼楼道漏水', '{place}{n}号楼楼道公共管道漏水，地面积水。', 6),
	('010601', '{place}垃圾清运不及时', '{place}垃圾桶已满溢，两天未清运，气味很大。', 5),
	('010604', '{place}宠物粪便', '{place}绿地宠物粪便较多，希望增设收集器。', 3),
	('010801', '{place}{n}号楼单元门禁损坏', '{place}{n}号楼单元门禁坏了，外来人员随意进出。', 3),
	('010901', '{place}{n}号楼楼道灯不亮', '{place}{n}号楼楼道灯损坏，晚上行走不便。', 4),
	('010902', '{place}座椅及健身器材损坏', '{place}口袋公园座椅破损，健身器材松动。', 2),
	('020202', '{place}附近沟盖板破损', '{place}门口沟盖板破损松动，存在安全隐患。', 3),
	('020301', '{place}附近路灯不亮', '{place}附近路灯连续多日不亮。', 3),
	('020401', '{place}排水不畅', '{place}雨后排水不畅，路面积水。', 3),
	('020502', '{place}老旧管道漏水', '{place}地下老旧供水管道漏水，需紧急处置。', 3),
	('020601', '{place}危树隐患', '{place}有一棵大树倾斜，大风天存在倒伏风险。', 2),
	('030103', '{place}{n}号楼噪音扰民', '{place}{n}号楼夜间装修噪音扰民。', 3),
	('040201', '{place}{n}号楼楼上漏水纠纷', '{place}{n}号楼楼上漏水至楼下，双方协商未果。', 3),
	('040202', '{place}邻里噪音纠纷', '{place}邻里之间因噪音问题产生矛盾。', 2),
	('050101', '{place}老人助餐需求', '{place}独居老人希望办理老年营养就餐。', 2),
	('060102', '{place}电动车楼道充电', '{place}{n}号楼有住户在楼道内给电动车充电。', 2),
	('060202', '{place}燃气设施老化', '{place}{n}号楼燃气立管锈蚀，担心泄漏。', 1);
INSERT INTO bench_kinds (k, code, title, descr, weight, property)
SELECT row_number() OVER (ORDER BY src, code) - 1, code, title, descr, weight,
	code LIKE '01%'
FROM (
	SELECT 0 AS src, s.code, s.title, s.descr, s.weight FROM bench_kinds_src s
	WHERE EXISTS (SELECT 1 FROM dict_entries d WHERE d.type = 'category' AND d.code = s.code)
	UNION ALL
	SELECT 1, d.code, '{place}' || d.name, '{place}{n}号楼附近居民反映' || d.name || '问题，请相关部门核实处理。', 1
	FROM dict_entries d
	WHERE d.type = 'category' AND d.disabled = 0 AND NOT EXISTS
		(SELECT 1 FROM dict_entries c WHERE c.type = 'category' AND c.parent_code = d.code)
);
CREATE TEMP TABLE bench_kind_slots (slot INTEGER PRIMARY KEY, k INTEGER);
WITH RECURSIVE w(k, n) AS (SELECT k, weight FROM bench_kinds
	UNION ALL SELECT k, n - 1 FROM w WHERE n > 1)
INSERT INTO bench_kind_slots (slot, k) SELECT row_number() OVER (ORDER BY k) - 1, k FROM w;

-- deadlines per kind and priority, as gz_sla_rule() picks them (longest prefix)
CREATE TEMP TABLE bench_sla (k INTEGER, priority TEXT, accept_hours INTEGER,
	resolve_workdays INTEGER, PRIMARY KEY (k, priority));
INSERT INTO bench_sla
SELECT b.k, p.priority,
	coalesce((SELECT accept_hours FROM sla_rules r WHERE r.priority = p.priority AND
		substr(b.code, 1, length(r.category_code)) = r.category_code
		ORDER BY length(r.category_code) DESC LIMIT 1), 4),
	coalesce((SELECT resolve_workdays FROM sla_rules r WHERE r.priority = p.priority AND
		substr(b.code, 1, length(r.category_code)) = r.category_code
		ORDER BY length(r.category_code) DESC LIMIT 1), 5)
FROM bench_kinds b, (SELECT 'urgent' AS priority UNION ALL SELECT 'high' UNION ALL
	SELECT 'normal') p;

CREATE TEMP TABLE bench_endings (k INTEGER PRIMARY KEY, t TEXT);
INSERT INTO bench_endings VALUES (0, '希望尽快处理。'), (1, '已多次反映，至今未解决。'),
	(2, '请相关部门尽快核实。'), (3, '居民意见较大。'), (4, '影响老人和孩子出行。'),
	(5, ''), (6, '诉求人要求回电。'), (7, '');

SELECT 'bench-time', 'lookups', printf('%.3f', (julianday('now') - 2440587.5) * 86400.0);

-- ---- the orders ------------------------------------------------------------------------

CREATE TEMP TABLE bench_const AS SELECT
	(SELECT coalesce(max(id), 0) FROM work_orders) AS base_id,
	-- the start of today in Shanghai (UTC+8), in ms; the orders end the day before
	(@now + 28800000) / 86400000 * 86400000 - 28800000 AS today_ms,
	(SELECT count(*) FROM bench_place_slots) AS nplace_slots,
	(SELECT count(*) FROM bench_kind_slots) AS nkind_slots,
	(SELECT count(*) FROM bench_other) AS nother;

INSERT INTO work_orders (id, number, title, description, category_code, channel, priority,
	unit_id, unit_path, community_id, subdistrict_id, address, lat, lng, requester_name,
	requester_phone, external_id, status, handler_org_id, dispatched_at, accepted_at,
	resolved_at, verified_at, closed_at, accept_due_at, resolve_due_at, return_count,
	return_reason, escalated, auto_escalated_due, overdue, merged_into_id, satisfaction, solved,
	accepted_on_time, resolved_on_time, created_by, created_at, updated_at, version)
WITH RECURSIVE
	n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @count),
	-- h(i, k): a hash in [0, 2^31-1); written out per column below as
	-- ((((i * 2654435761 + k * 40503) % 2147483647) squared) % p * 48271) % p
	r AS (
		SELECT i,
			((((i * 2654435761 + 1 * 40503) % 2147483647) * ((i * 2654435761 + 1 * 40503) % 2147483647)) % 2147483647 * 48271) % 2147483647 AS h1,
			((((i * 2654435761 + 2 * 40503) % 2147483647) * ((i * 2654435761 + 2 * 40503) % 2147483647)) % 2147483647 * 48271) % 2147483647 AS h2,
			((((i * 2654435761 + 3 * 40503) % 2147483647) * ((i * 2654435761 + 3 * 40503) % 2147483647)) % 2147483647 * 48271) % 2147483647 AS h3,
			((((i * 2654435761 + 4 * 40503) % 2147483647) * ((i * 2654435761 + 4 * 40503) % 2147483647)) % 2147483647 * 48271) % 2147483647 AS h4,
			((((i * 2654435761 + 5 * 40503) % 2147483647) * ((i * 2654435761 + 5 * 40503) % 2147483647)) % 2147483647 * 48271) % 2147483647 AS h5,
			((((i * 2654435761 + 6 * 40503) % 2147483647) * ((i * 2654435761 + 6 * 40503) % 2147483647)) % 2147483647 * 48271) % 2147483647 AS h6,
			((((i * 2654435761 + 7 * 40503) % 2147483647) * ((i * 2654435761 + 7 * 40503) % 2147483647)) % 2147483647 * 48271) % 2147483647 AS h7,
			((((i * 2654435761 + 8 * 40503) % 2147483647) * ((i * 2654435761 + 8 * 40503) % 2147483647)) % 2147483647 * 48271) % 2147483647 AS h8
		FROM n
	),
	-- the choices of each row; f* are uniform fractions in [0, 1)
	a AS (
		SELECT r.i, c.base_id + r.i AS id, p.id AS unit_id, p.name, p.path, p.community_id,
			p.subdistrict_id, p.lat, p.lng, p.property_org, kd.k AS kind_k, kd.code, kd.title AS tmpl_t,
			kd.descr AS tmpl_d, kd.property,
			1 + h3 % 12 AS building,
			CASE WHEN h4 % 100 < 50 THEN 'hotline_12345' WHEN h4 % 100 < 68 THEN 'grid_patrol'
				WHEN h4 % 100 < 78 THEN 'walk_in' WHEN h4 % 100 < 86 THEN 'phone'
				WHEN h4 % 100 < 94 THEN 'web' ELSE 'proactive' END AS channel,
			CASE WHEN kd.code IN ('010302', '020502') THEN 'urgent'
				WHEN (h4 / 100) % 10 = 0 THEN 'high' ELSE 'normal' END AS priority,
			-- evenly over 365 days before today, mapped into 07:00-21:00 Shanghai
			c.today_ms - 365 * 86400000 + (r.i - 1) * (365 * 86400000) / @count AS lin,
			h5 % 1000 AS s1000,          -- the status draw
			(h6 % 1000000) / 1000000.0 AS f1, (h7 % 1000000) / 1000000.0 AS f2,
			(h8 % 1000000) / 1000000.0 AS f3, h6 / 1000000 AS x1, h7 / 1000000 AS x2,
			h8 / 1000000 AS x3, c.nother, c.today_ms
		FROM r, bench_const c
		JOIN bench_place_slots ps ON ps.slot = r.h1 % c.nplace_slots
		JOIN bench_places p ON p.k = ps.k
		JOIN bench_kind_slots ks ON ks.slot = r.h2 % c.nkind_slots
		JOIN bench_kinds kd ON kd.k = ks.k
	),
	b AS (
		SELECT a.*,
			(lin + 28800000) / 86400000 * 86400000 - 28800000 + 7 * 3600000
				+ ((lin + 28800000) % 86400000) * 14 / 24 AS created,
			sla.accept_hours, sla.resolve_workdays
		FROM a JOIN bench_sla sla ON sla.k = a.kind_k AND sla.priority = a.priority
	),
	c AS (
		SELECT b.*, (@now - created) / 86400000.0 AS age,
			-- Shanghai day of creation and its weekday (0 = Monday), moved back to
			-- Friday when it is a weekend day
			(created + 28800000) / 86400000 AS cday,
			((created + 28800000) / 86400000 + 3) % 7 AS wd
		FROM b
	),
	-- MATERIALIZED: each CTE column is an expression over the ones below it, and
	-- without a stored intermediate SQLite inlines them into one another and computes
	-- the hashes hundreds of times per row (8x slower)
	d AS MATERIALIZED (
		SELECT c.*,
			CASE
			WHEN age > 1 AND s1000 < 25 THEN 'cancelled'
			WHEN age > 1 AND s1000 < 33 THEN 'merged'
			WHEN age < 4 THEN CASE x1 % 8 WHEN 0 THEN 'new' WHEN 1 THEN 'dispatched'
				WHEN 2 THEN 'accepted' WHEN 3 THEN 'in_progress' WHEN 4 THEN 'resolved'
				WHEN 5 THEN 'verified' WHEN 6 THEN 'returned' ELSE 'closed' END
			WHEN age < 30 THEN CASE WHEN s1000 < 833 THEN 'closed' WHEN s1000 < 883 THEN 'verified'
				WHEN s1000 < 923 THEN 'resolved' WHEN s1000 < 963 THEN 'in_progress'
				WHEN s1000 < 978 THEN 'accepted' WHEN s1000 < 993 THEN 'dispatched'
				WHEN s1000 < 996 THEN 'returned' ELSE 'new' END
			ELSE CASE WHEN s1000 < 983 THEN 'closed' WHEN s1000 < 988 THEN 'in_progress'
				WHEN s1000 < 993 THEN 'dispatched' WHEN s1000 < 996 THEN 'accepted'
				WHEN s1000 < 998 THEN 'verified' ELSE 'resolved' END
			END AS status,
			-- the last working day: resolve_workdays Monday-Friday days after cday
			(cday - max(wd - 4, 0)) - min(wd, 4)
				+ 7 * ((min(wd, 4) + resolve_workdays) / 5)
				+ (min(wd, 4) + resolve_workdays) % 5 AS last_day
		FROM c
	),
	e AS (
		SELECT d.*,
			(last_day + 1) * 86400000 - 28800000 AS resolve_due,
			status NOT IN ('new', 'cancelled', 'merged') AS was_dispatched,
			status IN ('accepted', 'in_progress', 'resolved', 'verified', 'closed') AS was_accepted,
			status IN ('resolved', 'verified', 'closed') AS was_resolved,
			created + CAST(f1 * 7200000 AS INTEGER) AS disp,
			x2 % 12 = 0 AS late_accept, x3 % 9 = 0 AS late_resolve
		FROM d
	),
	f AS (
		SELECT e.*,
			disp + CAST(accept_hours * 3600000 * f2 * (CASE WHEN late_accept THEN 1.5 ELSE 0.6 END) AS INTEGER) + 60000 AS acc,
			created + CAST((resolve_due - created) *
				(CASE WHEN late_resolve THEN 1.1 + f3 ELSE 0.15 + 0.8 * f3 END) AS INTEGER) AS res0
		FROM e
	),
	g AS MATERIALIZED (
		SELECT f.*,
			min(max(res0, acc + 3600000), @now - 60000) AS res
		FROM f
	),
	h AS (
		SELECT g.*,
			min(res + CAST((0.2 + f1) * 86400000 AS INTEGER), @now - 30000) AS ver
		FROM g
	),
	o AS (
		SELECT h.*,
			min(ver + CAST((0.2 + 1.5 * f2) * 86400000 AS INTEGER), @now - 1000) AS clo,
			x1 % 100 AS rating
		FROM h
	)
SELECT
	id,
	'GZB' || printf('%09d', id),
	replace(replace(tmpl_t, '{place}', name), '{n}', building),
	replace(replace(tmpl_d, '{place}', name), '{n}', building)
		|| (SELECT t FROM bench_endings WHERE k = x3 % 8),
	code, channel, priority, unit_id, path, community_id, subdistrict_id,
	'天津市河东区' || name || building || '号楼',
	lat + (f1 - 0.5) * 0.002, lng + (f2 - 0.5) * 0.002,
	substr('王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗', 1 + x2 % 20, 1)
		|| CASE x3 % 2 WHEN 0 THEN '先生' ELSE '女士' END,
	NULL,                                                  -- requester_phone: sealed, see above
	CASE channel WHEN 'hotline_12345' THEN '12345-B' || id END,
	status,
	CASE WHEN was_dispatched AND status <> 'returned' THEN
		CASE WHEN property THEN property_org
		ELSE (SELECT id FROM bench_other WHERE k = x2 % nother) END END,
	CASE WHEN was_dispatched THEN disp END,
	CASE WHEN was_accepted THEN min(acc, @now - 120000) END,
	CASE WHEN was_resolved THEN res END,
	CASE WHEN status IN ('verified', 'closed') THEN ver END,
	CASE WHEN status = 'closed' THEN clo END,
	CASE WHEN was_dispatched THEN disp ELSE created END + accept_hours * 3600000,
	resolve_due,
	status = 'returned',
	CASE WHEN status = 'returned' THEN 'wrong_area' END,
	-- escalated: half the late ones, and every open order past its deadline, with
	-- auto_escalated_due set as the SLA scanner leaves it (otherwise the server's scanner
	-- would escalate ~17,000 orders per million in its first seconds, competing with
	-- the benchmark)
	(late_resolve AND x1 % 2 = 0 OR status IN ('new', 'dispatched', 'accepted',
		'in_progress', 'returned')) AND resolve_due < @now,
	CASE WHEN (late_resolve AND x1 % 2 = 0 OR status IN ('new', 'dispatched', 'accepted',
		'in_progress', 'returned')) AND resolve_due < @now THEN resolve_due END,
	status IN ('new', 'dispatched', 'accepted', 'in_progress', 'returned') AND resolve_due < @now,
	CASE WHEN status = 'merged' AND id > 1 THEN id - 1 END,
	CASE WHEN status = 'closed' THEN CASE WHEN rating < 72 THEN 'satisfied'
		WHEN rating < 91 THEN 'basically_satisfied' ELSE 'dissatisfied' END END,
	CASE WHEN status = 'closed' THEN rating < 88 END,
	CASE WHEN was_accepted THEN min(acc, @now - 120000) <= disp + accept_hours * 3600000 END,
	CASE WHEN was_resolved THEN res <= resolve_due END,
	NULL,                                                  -- created_by: nobody's own order
	created,
	max(created, CASE WHEN was_dispatched THEN disp ELSE created END,
		CASE WHEN was_accepted THEN min(acc, @now - 120000) ELSE 0 END,
		CASE WHEN was_resolved THEN res ELSE 0 END,
		CASE WHEN status IN ('verified', 'closed') THEN ver ELSE 0 END,
		CASE WHEN status = 'closed' THEN clo ELSE 0 END),
	1
FROM o;

-- the full-text index, as the server's batch-end function builds it (migration 0003):
-- the triggers noted every new order; one pass indexes them all
INSERT INTO work_orders_fts (rowid, title, description, address)
SELECT w.id, w.title, w.description, coalesce(w.address, '')
FROM work_orders_fts_pending p JOIN work_orders w ON w.id = p.id ORDER BY p.id;
DELETE FROM work_orders_fts_pending;

SELECT 'bench-time', 'orders', printf('%.3f', (julianday('now') - 2440587.5) * 86400.0);

-- ---- the daily aggregates ------------------------------------------------------------
-- A verbatim copy of the SQL of gz_work_orders_rebuild_daily() in
-- src/modules/work_order.c (which `gongzhi demo` also runs): keep the two in step.
DELETE FROM work_order_daily;
INSERT INTO work_order_daily (day, unit_id, community_id, subdistrict_id, category_code,
	channel, handler_org_id, total, dispatched, accepted_on_time, resolved,
	resolved_on_time, resolve_hours_sum, rated, solved, satisfied, reopened)
SELECT (created_at + 28800000) / 86400000, unit_id, community_id, subdistrict_id,
	category_code, channel, coalesce(handler_org_id, 0), count(*),
	sum(dispatched_at IS NOT NULL), sum(coalesce(accepted_on_time, 0)),
	sum(resolved_at IS NOT NULL), sum(coalesce(resolved_on_time, 0)),
	sum(CASE WHEN resolved_at IS NOT NULL THEN (resolved_at - created_at) / 3600000.0
	ELSE 0 END), sum(satisfaction IS NOT NULL), sum(coalesce(solved, 0)),
	sum(coalesce(satisfaction IN ('satisfied', 'basically_satisfied'), 0)),
	sum(reopen_count > 0) FROM work_orders GROUP BY 1, 2, 5, 6, 7;

COMMIT;
SELECT 'bench-time', 'daily', printf('%.3f', (julianday('now') - 2440587.5) * 86400.0);

ANALYZE;
SELECT 'bench-time', 'analyze', printf('%.3f', (julianday('now') - 2440587.5) * 86400.0);
PRAGMA wal_checkpoint(TRUNCATE);
SELECT 'bench-time', 'checkpoint', printf('%.3f', (julianday('now') - 2440587.5) * 86400.0);
