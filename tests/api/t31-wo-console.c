/* t31-wo-console.c - what the console's work-order pages rely on (issue 11): the
 * dashboard counts and the one definition of overdue and due soon behind them, the
 * same date range in the list, both exports and the statistics, the sample size of
 * statistics rows, the names in list rows, the Excel export, the audited reveal of the
 * requester's phone, and the requester's own rating and updates.
 *
 * One demo server.  Each test files its orders in a building of its own (created
 * here under 沙柳北里), so that ?unit_id=<building> selects exactly them; deadlines
 * and creation times are moved with db_sql() (sqlite3 or psql) beside the
 * running server), and the daily aggregates of a moved building are recomputed there
 * the way the server computes them. */
#include "harness.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static struct srv S;
static struct fixture fx;
#define T(a) fx.tok[FX_##a]

/* ---- helpers ---- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sql(const char *q)
{
	char o[1024];
	int st = db_sql(&S, o, sizeof o, "%s", q);
	if (st != 0)
		print_error("sql: %s\n", o);
	assert_int_equal(st, 0);
}

/* A building of its own under 沙柳北里. */
static int64_t new_building(void)
{
	return post_id(&S, T(ADMIN), "/api/v1/units",
	               F("{\"parent_id\":%lld,\"kind\":\"building\",\"name\":\"%s\"}",
	                 (long long)fx.u_shaliu_beili, uniq("控制台楼")));
}

static int64_t create(const char *tok, const char *title, int64_t unit, const char *channel,
                      const char *phone)
{
	return post_id(&S, tok, "/api/v1/work-orders",
	               F("{\"title\":\"%s\",\"description\":\"控制台测试\",\"category_code\":"
	                 "\"010501\",\"channel\":\"%s\",\"unit_id\":%lld,\"requester\":{\"name\":"
	                 "\"钱女士\",\"phone\":\"%s\"}}",
	                 title, channel, (long long)unit, phone));
}

static struct resp *act(const char *tok, int64_t id, const char *body)
{
	return apif(&S, "POST", tok, body, "/api/v1/work-orders/%lld/actions", (long long)id);
}

#define act_ok(tok, id, body)                                                                      \
	do {                                                                                       \
		struct resp *ra_ = act((tok), (id), (body));                                       \
		assert_status(ra_, 200);                                                           \
		resp_free(ra_);                                                                    \
	} while (0)

static json_t *get_json(const char *tok, const char *path)
{
	struct resp *r = api(&S, "GET", path, tok, NULL, NULL);
	assert_status(r, 200);
	json_t *j = json_incref(r->json);
	resp_free(r);
	return j;
}

static json_t *detail(const char *tok, int64_t id)
{
	return get_json(tok, F("/api/v1/work-orders/%lld", (long long)id));
}

static json_t *counts(const char *tok, const char *query)
{
	return get_json(tok, F("/api/v1/work-orders/counts%s%s", *query ? "?" : "", query));
}

static json_t *stats(const char *tok, const char *query)
{
	return get_json(tok, F("/api/v1/stats/work-orders?%s", query));
}

/* The data lines of the CSV export of query (header left out). */
static int csv_rows(const char *tok, const char *query, char *last_line, size_t n)
{
	struct resp *r = apif(&S, "GET", tok, NULL, "/api/v1/work-orders/export.csv?%s", query);
	assert_status(r, 200);
	int lines = 0;
	const char *p = r->body, *prev = r->body;
	for (const char *q; (q = strstr(p, "\r\n")); p = q + 2) {
		lines++;
		prev = p;
	}
	if (last_line)
		snprintf(last_line, n, "%.*s", (int)(strcspn(prev, "\r")), prev);
	resp_free(r);
	return lines - 1;
}

/* The Excel export of query, opened with python3's zipfile: the first sheet's rows
 * (header included), whether the header is the Chinese one, the values of column L
 * (创建时间) and of column J (联系电话) of the data rows. */
static json_t *xlsx(const char *tok, const char *query)
{
	struct resp *r = apif(&S, "GET", tok, NULL, "/api/v1/work-orders/export.xlsx?%s", query);
	assert_status(r, 200);
	assert_true(contains(resp_header(r, "Content-Type"), "spreadsheetml"));
	assert_true(r->len > 4 && memcmp(r->body, "PK", 2) == 0); /* a zip */
	char path[400];
	snprintf(path, sizeof path, "%s/export.xlsx", S.dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(r->body, 1, r->len, f), r->len);
	fclose(f);
	resp_free(r);
	static char out[1 << 16];
	int st =
	    sh(out, sizeof out,
	       "python3 -c '\n"
	       "import json, re, sys, zipfile\n"
	       "s = zipfile.ZipFile(sys.argv[1]).read(\"xl/worksheets/sheet1.xml\").decode()\n"
	       "print(json.dumps({\"rows\": s.count(\"<row \"),\n"
	       " \"header\": \"<t>工单编号</t>\" in s and \"<t>是否超期</t>\" in s,\n"
	       " \"created\": [float(v) for v in re.findall(r\"<c r=.L[0-9]+. s=.[0-9]+.><v>"
	       "([^<]*)</v>\", s)],\n"
	       " \"phones\": re.findall(r\"<c r=.J[0-9]+. t=.inlineStr.><is><t>([^<]*)</t>\", "
	       "s),\n"
	       " \"overdue\": re.findall(r\"<c r=.S[0-9]+. t=.inlineStr.><is><t>([^<]*)</t>\", "
	       "s)}))' '%s' 2>&1",
	       path);
	if (st != 0)
		print_error("python3: %s\n", out);
	assert_int_equal(st, 0);
	json_t *j = json_loads(out, 0, NULL);
	assert_non_null(j);
	return j;
}

/* ---- setup ---- */

static int setup(void **state)
{
	(void)state;
	return fixture_start(&fx, &S, NULL);
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(fixture_stop(&fx), 0);
	return 0;
}

/* ---- the dashboard counts ---- */

/* Every account's five counts are the totals its list gives with the matching
 * filters, on the demo's year of orders. */
static void counts_match_the_lists(void **state)
{
	(void)state;
	static const struct {
		const char *field, *query;
	} defs[] = {{"to_dispatch", "status=new,returned"},
	            {"to_accept", "status=dispatched"},
	            {"in_progress", "status=accepted,in_progress"},
	            {"due_soon", "due_soon=true"},
	            {"overdue", "overdue=true"}};
	int64_t admin_sum = 0;
	for (int a = FX_ADMIN; a <= FX_JUMIN; a++) {
		json_t *c = counts(fx.tok[a], "");
		for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
			assert_true(json_is_integer(jpath(c, defs[i].field)));
			int64_t want =
			    total_count(&S, fx.tok[a], "/api/v1/work-orders", defs[i].query);
			if (jint(c, defs[i].field) != want)
				print_error("%s: %s is %lld, the list says %lld\n", fx_usernames[a],
				            defs[i].field, (long long)jint(c, defs[i].field),
				            (long long)want);
			assert_int_equal(jint(c, defs[i].field), want);
			if (a == FX_ADMIN)
				admin_sum += want;
		}
		json_decref(c);
	}
	assert_true(admin_sum > 0); /* the demo has running orders */
	/* the list's filters narrow the counts too; bad ones are a 400 naming them */
	json_t *c = counts(T(ADMIN), F("unit_id=%lld", (long long)fx.u_fengqi));
	assert_int_equal(jint(c, "overdue"),
	                 total_count(&S, T(ADMIN), "/api/v1/work-orders",
	                             F("overdue=true&unit_id=%lld", (long long)fx.u_fengqi)));
	json_decref(c);
	struct resp *r =
	    api(&S, "GET", "/api/v1/work-orders/counts?overdue=maybe", T(ADMIN), NULL, NULL);
	assert_error(r, 400, "validation_failed", "overdue");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/work-orders/counts?bogus=1", T(ADMIN), NULL, NULL);
	assert_error(r, 400, "unknown_field", "bogus");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/work-orders/counts", NULL, NULL, NULL);
	assert_status(r, 401);
	resp_free(r);
}

/* ---- the demo looks real ---- */

/* Leaks go to the property company of their compound, never to a hospital; numbers
 * and ids follow the creation time; every field role has orders in its scope. */
static void demo_looks_real(void **state)
{
	(void)state;
	/* 沙柳北里 is served by 东新宜居 */
	json_t *l = get_json(T(ADMIN), F("/api/v1/work-orders?category_code=0105&unit_id=%lld&"
	                                 "limit=500",
	                                 (long long)fx.u_shaliu_beili));
	size_t i, dispatched = 0;
	json_t *it;
	json_array_foreach(jpath(l, "items"), i, it)
	{
		if (json_is_null(jpath(it, "handler_org_id")))
			continue;
		dispatched++;
		if (jint(it, "handler_org_id") != fx.o_dongxin_wuye)
			print_error("leak %s went to %s\n", jstr(it, "number"),
			            jstr(it, "handler_org_name"));
		assert_int_equal(jint(it, "handler_org_id"), fx.o_dongxin_wuye);
	}
	assert_true(dispatched > 0);
	json_decref(l);
	/* no leak anywhere goes to a hospital, a school or a bank */
	const int64_t wrong[] = {fx.o_hospital, fx.o_songshan_school, fx.o_bank_hedong};
	for (size_t k = 0; k < sizeof wrong / sizeof wrong[0]; k++)
		assert_int_equal(
		    total_count(&S, T(ADMIN), "/api/v1/work-orders",
		                F("category_code=01&handler_org_id=%lld", (long long)wrong[k])),
		    0);
	/* the newest 500: ids, numbers and creation times in one order */
	l = get_json(T(ADMIN), "/api/v1/work-orders?limit=500");
	const char *prev_number = NULL, *prev_created = NULL;
	json_array_foreach(jpath(l, "items"), i, it)
	{
		const char *n = jstr(it, "number"), *c = jstr(it, "created_at");
		if (prev_number) {
			if (strcmp(n, prev_number) >= 0)
				print_error("%s (%s) listed after %s (%s)\n", n, c, prev_number,
				            prev_created);
			assert_true(strcmp(n, prev_number) < 0);
			assert_true(strncmp(c, prev_created, 19) <= 0); /* to the second */
		}
		prev_number = n;
		prev_created = c;
	}
	assert_true(json_array_size(jpath(l, "items")) == 500);
	json_decref(l);
	/* every field role has work */
	const enum fx_account field[] = {FX_WANGGE, FX_HEHUOREN, FX_WUYE, FX_TIAOJIE, FX_JUMIN};
	for (size_t k = 0; k < sizeof field / sizeof field[0]; k++) {
		int64_t n = total_count(&S, fx.tok[field[k]], "/api/v1/work-orders", "");
		if (n == 0)
			print_error("%s sees no work order\n", fx_usernames[field[k]]);
		assert_true(n > 0);
	}
}

/* ---- overdue: one definition everywhere ---- */

static void expect_overdue(int64_t b, int64_t id, bool overdue, const char *deadline)
{
	json_t *d = detail(T(SHEQU), id);
	assert_true(json_is_boolean(jpath(d, "overdue")));
	assert_int_equal(json_is_true(jpath(d, "overdue")), overdue);
	if (deadline)
		assert_string_equal(jstr(d, "overdue_deadline"), deadline);
	else
		assert_true(json_is_null(jpath(d, "overdue_deadline")));
	json_decref(d);
	const char *unit = F("unit_id=%lld", (long long)b);
	assert_int_equal(
	    total_count(&S, T(SHEQU), "/api/v1/work-orders", F("%s&overdue=true", unit)), overdue);
	assert_int_equal(
	    total_count(&S, T(SHEQU), "/api/v1/work-orders", F("%s&overdue=false", unit)),
	    !overdue);
	json_t *c = counts(T(SHEQU), unit);
	assert_int_equal(jint(c, "overdue"), overdue);
	json_decref(c);
	json_t *s = stats(T(SHEQU), F("%s&group_by=category", unit));
	assert_int_equal(jint(s, "totals.overdue"), overdue);
	assert_int_equal(jint(s, "rows.0.overdue"), overdue);
	json_decref(s);
	char last[2048];
	assert_int_equal(csv_rows(T(SHEQU), unit, last, sizeof last), 1);
	const char *flag = strrchr(last, ',');
	assert_non_null(flag);
	assert_string_equal(flag + 1, overdue ? "是" : "否");
	json_t *x = xlsx(T(SHEQU), unit);
	assert_string_equal(jstr(x, "overdue.0"), overdue ? "是" : "否");
	json_decref(x);
	/* the list row says the same */
	json_t *l = get_json(T(SHEQU), F("/api/v1/work-orders?%s", unit));
	assert_int_equal(json_is_true(jpath(l, "items.0.overdue")), overdue);
	json_decref(l);
}

/* Past the accept deadline while never accepted is overdue, with its resolve
 * deadline still ahead; accepting ends that; past the resolve deadline is overdue
 * again.  The detail, the list filter and rows, the counts, the statistics and both
 * exports agree at each step. */
static void overdue_counts_the_accept_deadline(void **state)
{
	(void)state;
	int64_t b = new_building();
	int64_t id = create(T(SHEQU), "顶楼漏水待签收", b, "walk_in", "13812345678");
	act_ok(T(SHEQU), id,
	       F("{\"action\":\"dispatch\",\"handler_org_id\":%lld}", (long long)fx.o_hongrun));
	expect_overdue(b, id, false, NULL);
	sql(F("UPDATE work_orders SET accept_due_at = %lld WHERE id = %lld",
	      (long long)(now_ms() - 3600000), (long long)id));
	expect_overdue(b, id, true, "accept");
	/* the export masks the phone as the CSV does */
	json_t *x = xlsx(T(SHEQU), F("unit_id=%lld", (long long)b));
	assert_string_equal(jstr(x, "phones.0"), "138****5678");
	json_decref(x);
	act_ok(T(WUYE), id, "{\"action\":\"accept\"}");
	expect_overdue(b, id, false, NULL);
	sql(F("UPDATE work_orders SET resolve_due_at = %lld WHERE id = %lld",
	      (long long)(now_ms() - 1000), (long long)id));
	expect_overdue(b, id, true, "resolve");
	/* a resolved order is no longer running: not overdue, whatever its deadline */
	act_ok(T(WUYE), id, "{\"action\":\"resolve\",\"result\":\"已修复\"}");
	expect_overdue(b, id, false, NULL);
}

/* Due soon: running, not overdue, in the last fifth of the time a deadline allows
 * (the SLA scanner's warning window). */
static void due_soon_is_the_warning_window(void **state)
{
	(void)state;
	int64_t b = new_building();
	int64_t id = create(T(SHEQU), "管道渗水待签收", b, "phone", "13812340009");
	act_ok(T(SHEQU), id,
	       F("{\"action\":\"dispatch\",\"handler_org_id\":%lld}", (long long)fx.o_hongrun));
	const char *unit = F("unit_id=%lld", (long long)b);
	int64_t now = now_ms();
	/* dispatched an hour ago, 3 hours left of 4: not yet */
	sql(F("UPDATE work_orders SET dispatched_at = %lld, accept_due_at = %lld WHERE id = %lld",
	      (long long)(now - 3600000), (long long)(now + 3 * 3600000), (long long)id));
	assert_int_equal(
	    total_count(&S, T(SHEQU), "/api/v1/work-orders", F("%s&due_soon=true", unit)), 0);
	json_t *d = detail(T(SHEQU), id);
	assert_true(json_is_false(jpath(d, "due_soon")));
	json_decref(d);
	/* 10 minutes left of 70: due soon, and not overdue */
	sql(F("UPDATE work_orders SET accept_due_at = %lld WHERE id = %lld",
	      (long long)(now + 600000), (long long)id));
	assert_int_equal(
	    total_count(&S, T(SHEQU), "/api/v1/work-orders", F("%s&due_soon=true", unit)), 1);
	assert_int_equal(
	    total_count(&S, T(SHEQU), "/api/v1/work-orders", F("%s&due_soon=false", unit)), 0);
	json_t *c = counts(T(SHEQU), unit);
	assert_int_equal(jint(c, "due_soon"), 1);
	assert_int_equal(jint(c, "overdue"), 0);
	assert_int_equal(jint(c, "to_accept"), 1);
	json_decref(c);
	d = detail(T(SHEQU), id);
	assert_true(json_is_true(jpath(d, "due_soon")));
	assert_true(json_is_false(jpath(d, "overdue")));
	json_decref(d);
	/* once past the deadline it is overdue, and no longer due soon */
	sql(F("UPDATE work_orders SET accept_due_at = %lld WHERE id = %lld",
	      (long long)(now - 1000), (long long)id));
	c = counts(T(SHEQU), unit);
	assert_int_equal(jint(c, "due_soon"), 0);
	assert_int_equal(jint(c, "overdue"), 1);
	json_decref(c);
}

/* ---- the same date range everywhere ---- */

#define DAY_MS 86400000LL
#define SH_MS (8 * 3600000LL)
/* 2020-03-01 and 2020-03-02 (Shanghai): days 18322 and 18323 since the epoch */
#define D1 18322LL

/* Five orders around the range 2020-03-01..2020-03-02: the last millisecond of the
 * day before, the first of the first day, noon and 23:59:30 of the last day, the
 * first millisecond of the day after.  The list, both exports and the statistics
 * count the three inside. */
static void date_range_includes_the_end_date(void **state)
{
	(void)state;
	int64_t b = new_building();
	const int64_t at[5] = {D1 * DAY_MS - SH_MS - 1, D1 * DAY_MS - SH_MS,
	                       (D1 + 1) * DAY_MS - SH_MS + 12 * 3600000,
	                       (D1 + 2) * DAY_MS - SH_MS - 30000, (D1 + 2) * DAY_MS - SH_MS};
	for (int i = 0; i < 5; i++) {
		int64_t id = create(T(SHEQU), F("日期边界%d", i), b, "walk_in", "13812340010");
		sql(F("UPDATE work_orders SET created_at = %lld WHERE id = %lld", (long long)at[i],
		      (long long)id));
	}
	/* the building's aggregates, as the server computes them (a new order counts in
	 * total alone) */
	sql(F("DELETE FROM work_order_daily WHERE unit_id = %lld; INSERT INTO work_order_daily "
	      "(day, unit_id, community_id, subdistrict_id, category_code, channel, "
	      "handler_org_id, total) SELECT (created_at + 28800000) / 86400000, unit_id, "
	      "community_id, subdistrict_id, category_code, channel, 0, count(*) FROM work_orders "
	      "WHERE unit_id = %lld GROUP BY 1, 2, 3, 4, 5, 6",
	      (long long)b, (long long)b));
	const char *range =
	    F("unit_id=%lld&created_from=2020-03-01&created_to=2020-03-02", (long long)b);
	assert_int_equal(total_count(&S, T(SHEQU), "/api/v1/work-orders", range), 3);
	assert_int_equal(csv_rows(T(SHEQU), range, NULL, 0), 3);
	json_t *x = xlsx(T(SHEQU), range);
	assert_int_equal(jint(x, "rows"), 4); /* the header and three orders */
	assert_true(json_is_true(jpath(x, "header")));
	/* creation times are Excel dates of the Shanghai wall clock: 23:59:30 of
	 * 2020-03-02 is day 43892 (from 1899-12-30) and 86370/86400 of a day */
	json_t *created = jpath(x, "created");
	assert_int_equal(json_array_size(created), 3);
	double last = json_number_value(json_array_get(created, 2));
	double want = 43892.0 + 86370.0 / 86400.0;
	assert_true(last - want < 1e-6 && want - last < 1e-6);
	json_decref(x);
	json_t *s = stats(T(SHEQU), range);
	assert_int_equal(jint(s, "totals.total"), 3);
	json_decref(s);
	/* one end alone: created_to takes the whole end day, created_from its first instant */
	const char *to = F("unit_id=%lld&created_to=2020-03-02", (long long)b);
	assert_int_equal(total_count(&S, T(SHEQU), "/api/v1/work-orders", to), 4);
	assert_int_equal(csv_rows(T(SHEQU), to, NULL, 0), 4);
	s = stats(T(SHEQU), to);
	assert_int_equal(jint(s, "totals.total"), 4);
	json_decref(s);
	const char *from = F("unit_id=%lld&created_from=2020-03-02", (long long)b);
	assert_int_equal(total_count(&S, T(SHEQU), "/api/v1/work-orders", from), 3);
	s = stats(T(SHEQU), from);
	assert_int_equal(jint(s, "totals.total"), 3);
	json_decref(s);
	/* a time is an instant: 23:59:30 itself is not before 23:59:30 */
	assert_int_equal(
	    total_count(&S, T(SHEQU), "/api/v1/work-orders",
	                F("unit_id=%lld&created_to=2020-03-02T23:59:30%%2B08:00", (long long)b)),
	    3);
	struct resp *r =
	    api(&S, "GET", "/api/v1/work-orders?created_to=2020-02-30", T(SHEQU), NULL, NULL);
	assert_error(r, 400, "validation_failed", "created_to");
	resp_free(r);

	/* rankings: three orders are too few for rates at the default min_orders (5) */
	s = stats(T(SHEQU), F("%s&group_by=channel", range));
	assert_int_equal(jint(s, "min_orders"), 5);
	assert_int_equal(jint(s, "rows.0.sample_size"), 3);
	assert_true(json_is_true(jpath(s, "rows.0.too_few")));
	assert_true(json_is_null(jpath(s, "rows.0.response_rate")));
	assert_true(json_is_null(jpath(s, "rows.0.score")));
	assert_true(*jstr(s, "definitions.too_few"));
	json_decref(s);
	s = stats(T(SHEQU), F("%s&group_by=channel&min_orders=3", range));
	assert_true(json_is_false(jpath(s, "rows.0.too_few")));
	json_decref(s);
	r = api(&S, "GET", "/api/v1/stats/work-orders?min_orders=-1", T(SHEQU), NULL, NULL);
	assert_error(r, 400, "validation_failed", "min_orders");
	resp_free(r);
}

/* The composite score is out of 100 (the rates stay fractions). */
static void score_is_out_of_100(void **state)
{
	(void)state;
	json_t *s = stats(T(ADMIN), "group_by=unit");
	double score = json_number_value(jpath(s, "totals.score"));
	double rate = json_number_value(jpath(s, "totals.response_rate"));
	assert_true(json_is_number(jpath(s, "totals.score")));
	assert_true(score > 1.0 && score <= 100.0);
	assert_true(rate > 0.0 && rate <= 1.0);
	assert_true(contains(jstr(s, "definitions.score"), "0 to 100"));
	json_decref(s);
}

/* ---- names in rows ---- */

static void rows_carry_names(void **state)
{
	(void)state;
	int64_t b = new_building();
	int64_t id = create(T(SHEQU), "屋面漏水看名称", b, "walk_in", "13812340011");
	act_ok(T(SHEQU), id,
	       F("{\"action\":\"dispatch\",\"handler_org_id\":%lld}", (long long)fx.o_hongrun));
	/* the property company reads no units, yet its rows name them */
	json_t *l = get_json(T(WUYE), "/api/v1/work-orders?limit=100");
	assert_true(json_array_size(jpath(l, "items")) > 0);
	bool seen = false;
	size_t i;
	json_t *it;
	json_array_foreach(jpath(l, "items"), i, it)
	{
		assert_true(json_is_string(jpath(it, "unit_name")));
		assert_true(json_is_string(jpath(it, "category_name")));
		if (jint(it, "handler_org_id") == fx.o_hongrun)
			assert_string_equal(jstr(it, "handler_org_name"),
			                    "天津鸿润物业服务有限公司");
		if (jint(it, "id") == id) {
			seen = true;
			assert_true(contains(jstr(it, "unit_name"), "控制台楼"));
			assert_string_equal(jstr(it, "category_name"), "屋面漏水");
			assert_string_equal(jstr(it, "creator_name"), "沙柳北路社区 李书记");
		}
	}
	assert_true(seen);
	json_decref(l);
	json_t *d = detail(T(WUYE), id);
	assert_true(contains(jstr(d, "unit_name"), "控制台楼"));
	assert_string_equal(jstr(d, "handler_org_name"), "天津鸿润物业服务有限公司");
	assert_string_equal(jstr(d, "creator_name"), "沙柳北路社区 李书记");
	json_decref(d);
}

/* A list page's names come from a cache shared by requests: a renamed unit or
 * organisation shows under its new name in the very next list (a write of a named
 * entity starts a new generation of the cache). */
static void renamed_rows_show_new_names(void **state)
{
	(void)state;
	int64_t b = new_building();
	int64_t id = create(T(SHEQU), "改名后看名称", b, "walk_in", "13812340012");
	const char *list = F("/api/v1/work-orders?unit_id=%lld", (long long)b);
	json_t *l = get_json(T(SHEQU), list);
	assert_true(contains(jstr(l, "items.0.unit_name"), "控制台楼"));
	json_decref(l);
	const char *name = uniq("改名楼");
	struct resp *r = apif(&S, "PATCH", T(ADMIN), F("{\"name\":\"%s\"}", name),
	                      "/api/v1/units/%lld", (long long)b);
	assert_status(r, 200);
	resp_free(r);
	l = get_json(T(SHEQU), list);
	assert_int_equal(jint(l, "items.0.id"), id);
	assert_string_equal(jstr(l, "items.0.unit_name"), name);
	json_decref(l);
	json_t *d = detail(T(SHEQU), id);
	assert_string_equal(jstr(d, "unit_name"), name);
	json_decref(d);
}

/* ---- the reveal ---- */

static struct resp *reveal(const char *tok, int64_t id, const char *body)
{
	return apif(&S, "POST", tok, body, "/api/v1/work-orders/%lld/reveal", (long long)id);
}

static void reveal_is_audited_and_scoped(void **state)
{
	(void)state;
	int64_t b = new_building();
	int64_t id = create(T(SHEQU), "回访要电话", b, "phone", "13812345679");
	/* masked everywhere by default */
	json_t *d = detail(T(SHEQU), id);
	assert_string_equal(jstr(d, "requester.phone"), "138****5679");
	json_decref(d);
	struct resp *r = reveal(T(SHEQU), id,
	                        "{\"field\":\"requester_phone\",\"purpose\":\"回访核实办理结果\"}");
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "value"), "13812345679");
	resp_free(r);
	/* the ledger: who, which order, which field, why */
	json_t *a =
	    get_json(T(ADMIN), F("/api/v1/audit?action=reveal&object_id=%lld", (long long)id));
	assert_int_equal(json_array_size(jpath(a, "items")), 1);
	assert_string_equal(jstr(a, "items.0.actor"), "shequ");
	assert_string_equal(jstr(a, "items.0.object_type"), "work_order");
	assert_string_equal(jstr(a, "items.0.summary.field"), "requester_phone");
	assert_string_equal(jstr(a, "items.0.summary.purpose"), "回访核实办理结果");
	json_decref(a);
	/* bad bodies name their field */
	r = reveal(T(SHEQU), id, "{\"field\":\"requester_phone\"}");
	assert_error(r, 400, "validation_failed", "purpose");
	resp_free(r);
	r = reveal(T(SHEQU), id, "{\"field\":\"requester_phone\",\"purpose\":\"   \"}");
	assert_error(r, 400, "validation_failed", "purpose");
	resp_free(r);
	r = reveal(T(SHEQU), id, "{\"field\":\"description\",\"purpose\":\"x\"}");
	assert_error(r, 400, "validation_failed", "field");
	resp_free(r);
	r = reveal(T(SHEQU), id, "{\"field\":\"requester_phone\",\"purpose\":\"x\",\"why\":1}");
	assert_error(r, 400, "unknown_field", "why");
	resp_free(r);
	/* outside the scope: the missing row's 404; roles that do not call back: 403 */
	r = reveal(T(SHEQU2), id, "{\"field\":\"requester_phone\",\"purpose\":\"x\"}");
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = reveal(T(SHEQU), 999999999, "{\"field\":\"requester_phone\",\"purpose\":\"x\"}");
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	const enum fx_account refused[] = {FX_WUYE, FX_HEHUOREN, FX_TIAOJIE, FX_JUMIN};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		r = reveal(fx.tok[refused[i]], id,
		           "{\"field\":\"requester_phone\",\"purpose\":\"x\"}");
		assert_error(r, 403, "forbidden", NULL);
		resp_free(r);
	}
	/* nothing but the one reveal went to the ledger */
	a = get_json(T(ADMIN), F("/api/v1/audit?action=reveal&object_id=%lld", (long long)id));
	assert_int_equal(json_array_size(jpath(a, "items")), 1);
	json_decref(a);
}

/* reveal_per_hour bounds each account's reveals (429 with Retry-After). */
static void reveal_is_rate_limited(void **state)
{
	(void)state;
	static const char *const env[] = {"GONGZHI_REVEAL_PER_HOUR=2", NULL};
	struct srv s2;
	assert_int_equal(srv_start(&s2, env, true), 0);
	char *t = login(&s2, "shequ", DEMO_PW);
	assert_non_null(t);
	struct resp *l = api(&s2, "GET", "/api/v1/work-orders?limit=1", t, NULL, NULL);
	assert_status(l, 200);
	int64_t id = jint(l->json, "items.0.id");
	resp_free(l);
	for (int i = 0; i < 3; i++) {
		struct resp *r =
		    apif(&s2, "POST", t, "{\"field\":\"requester_phone\",\"purpose\":\"回访\"}",
		         "/api/v1/work-orders/%lld/reveal", (long long)id);
		if (i < 2) {
			assert_status(r, 200);
		} else {
			assert_error(r, 429, "rate_limited", NULL);
			assert_non_null(resp_header(r, "Retry-After"));
		}
		resp_free(r);
	}
	free(t);
	assert_int_equal(srv_stop(&s2), 0);
	srv_cleanup(&s2);
}

/* ---- the requester's own rating and updates ---- */

static void to_closed(int64_t id)
{
	act_ok(T(SHEQU), id,
	       F("{\"action\":\"dispatch\",\"handler_org_id\":%lld}", (long long)fx.o_hongrun));
	act_ok(T(WUYE), id, "{\"action\":\"accept\"}");
	act_ok(T(WUYE), id, "{\"action\":\"resolve\",\"result\":\"已修复\"}");
	act_ok(T(SHEQU), id, "{\"action\":\"verify\",\"passed\":true}");
	act_ok(T(SHEQU), id,
	       "{\"action\":\"callback\",\"satisfaction\":\"satisfied\",\"solved\":true}");
}

static bool allows(const char *tok, int64_t id, const char *action)
{
	json_t *d = detail(tok, id);
	bool found = false;
	size_t i;
	json_t *v;
	json_array_foreach(jpath(d, "allowed_actions"), i, v)
	{
		found |= strcmp(json_string_value(v), action) == 0;
	}
	json_decref(d);
	return found;
}

static void resident_rates_and_updates(void **state)
{
	(void)state;
	int64_t b = new_building();
	int64_t id = create(T(JUMIN), "我家楼顶漏水", b, "web", "13812340012");
	/* an update on the open order */
	assert_true(allows(T(JUMIN), id, "comment"));
	act_ok(T(JUMIN), id, "{\"action\":\"comment\",\"note\":\"补充：雨天更严重\"}");
	struct resp *r =
	    act(T(JUMIN), id, "{\"action\":\"comment\",\"note\":\"x\",\"internal\":true}");
	assert_error(r, 403, "forbidden", "internal");
	resp_free(r);
	/* no rating before the order is closed */
	r = act(T(JUMIN), id,
	        "{\"action\":\"rate\",\"satisfaction\":\"satisfied\",\"solved\":true}");
	assert_error(r, 409, "invalid_transition", NULL);
	resp_free(r);
	to_closed(id);
	assert_true(allows(T(JUMIN), id, "rate"));
	assert_false(allows(T(SHEQU), id, "rate")); /* the requester's alone */
	r = act(T(SHEQU), id,
	        "{\"action\":\"rate\",\"satisfaction\":\"satisfied\",\"solved\":true}");
	assert_error(r, 409, "invalid_transition", NULL);
	resp_free(r);
	r = act(T(JUMIN), id, "{\"action\":\"rate\",\"solved\":true}");
	assert_error(r, 400, "validation_failed", "satisfaction");
	resp_free(r);
	/* "not solved": back to the handler, as a reopen */
	r = act(T(JUMIN), id,
	        "{\"action\":\"rate\",\"satisfaction\":\"dissatisfied\",\"solved\":false,"
	        "\"note\":\"还在漏\"}");
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "status"), "dispatched");
	assert_int_equal(jint(r->json, "reopen_count"), 1);
	assert_int_equal(jint(r->json, "handler_org_id"), fx.o_hongrun);
	assert_true(json_is_null(jpath(r->json, "satisfaction")));
	resp_free(r);
	/* the handler hears of it */
	json_t *n = get_json(T(WUYE), "/api/v1/notifications?limit=5");
	bool told = false;
	size_t i;
	json_t *it;
	json_array_foreach(jpath(n, "items"), i, it)
	{
		told |= jint(it, "object_id") == id && contains(jstr(it, "title"), "居民评价");
	}
	assert_true(told);
	json_decref(n);
	/* closed again: the requester's word is the order's satisfaction, once */
	act_ok(T(WUYE), id, "{\"action\":\"accept\"}");
	act_ok(T(WUYE), id, "{\"action\":\"resolve\",\"result\":\"已更换防水层\"}");
	act_ok(T(SHEQU), id, "{\"action\":\"verify\",\"passed\":true}");
	act_ok(
	    T(SHEQU), id,
	    "{\"action\":\"callback\",\"satisfaction\":\"basically_satisfied\",\"solved\":true}");
	r = act(T(JUMIN), id,
	        "{\"action\":\"rate\",\"satisfaction\":\"satisfied\",\"solved\":true}");
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "status"), "closed");
	assert_string_equal(jstr(r->json, "satisfaction"), "satisfied");
	resp_free(r);
	r = act(T(JUMIN), id,
	        "{\"action\":\"rate\",\"satisfaction\":\"satisfied\",\"solved\":true}");
	assert_error(r, 409, "invalid_transition", NULL);
	resp_free(r);
	/* the statistics count the requester's answer */
	json_t *s = stats(T(SHEQU), F("unit_id=%lld&min_orders=0", (long long)b));
	assert_int_equal(jint(s, "totals.rated"), 1);
	assert_int_equal(jint(s, "totals.satisfied"), 1);
	assert_int_equal(jint(s, "totals.reopened"), 1);
	json_decref(s);
	/* the timeline has both ratings */
	json_t *d =
	    get_json(T(JUMIN), F("/api/v1/work-orders/%lld/timeline?limit=100", (long long)id));
	int rates = 0;
	json_array_foreach(jpath(d, "items"), i, it)
	{
		rates += strcmp(jstr(it, "action"), "rate") == 0;
	}
	assert_int_equal(rates, 2);
	json_decref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(counts_match_the_lists),
	    cmocka_unit_test(demo_looks_real), /* before the others add orders */
	    cmocka_unit_test(overdue_counts_the_accept_deadline),
	    cmocka_unit_test(due_soon_is_the_warning_window),
	    cmocka_unit_test(date_range_includes_the_end_date),
	    cmocka_unit_test(score_is_out_of_100),
	    cmocka_unit_test(rows_carry_names),
	    cmocka_unit_test(renamed_rows_show_new_names),
	    cmocka_unit_test(reveal_is_audited_and_scoped),
	    cmocka_unit_test(reveal_is_rate_limited),
	    cmocka_unit_test(resident_rates_and_updates),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
