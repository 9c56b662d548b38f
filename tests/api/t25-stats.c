/* t25-stats.c - work-order statistics (/api/v1/stats/work-orders) and the CSV export
 * (/api/v1/work-orders/export.csv).  One server with the demo district, whose year of
 * generated orders never uses buildings: the orders filed here all sit in
 * 沙柳北里1号楼, so ?unit_id=<that building> selects exactly them, and the expected
 * numbers below follow from the rate definitions, worked out by hand:
 *
 *   order  category  channel        handler  what happened
 *   A      010101    hotline_12345  鸿润     accepted, resolved, verified, satisfied, solved
 *   B      010102    grid_patrol    鸿润     accepted, resolved, verified, basically, solved
 *   C      010301    hotline_12345  鸿润     accepted, resolved, verified, dissatisfied, unsolved
 *   D      010301    web            皓安     dispatched, never accepted
 *   E      010402    walk_in        -        new (its title holds a comma and quotes)
 *
 *   total 5, dispatched 4, accepted on time 3, resolved 3 (all on time), rated 3,
 *   solved 2, satisfied 2 -> response 3/4 = 0.75, resolution 2/3 = 0.6667,
 *   satisfaction 2/3 = 0.6667, on time 3/3 = 1, score 100 * (0.30*0.75 + 0.35*(2/3) +
 *   0.35*(2/3)) = 69.17 (out of 100).
 *
 * F is filed by shequ2 in 凤岐里2号楼 (another community); its title starts with '='. */
#include "harness.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static struct srv S;
static struct fixture fx;

enum { ADMIN, JIEDAO, LUSHAN, SHEQU, SHEQU2, WANGGE, HEHUOREN, WUYE, TIAOJIE, JUMIN, NUSERS };
static const char *const usernames[NUSERS] = {"admin",  "jiedao",   "lushan", "shequ",   "shequ2",
                                              "wangge", "hehuoren", "wuye",   "tiaojie", "jumin"};
static const char *tok[NUSERS];

static int64_t u_shaliu, u_fengqi, u_b1, u_fengqi_b2, o_hongrun, o_haoan;
static int64_t wo_a, wo_b, wo_c, wo_d, wo_e, wo_f;
static char num_a[32], num_e[32], num_f[32];
static char today[16], yesterday[16], tomorrow[16], this_month[8];

static const char TITLE_E[] = "车位被占,\"紧急\"处理";
/* a spreadsheet would run it as a formula */
static const char TITLE_F[] = "=SUM(1,2)凤岐里停水";

/* ---- helpers ---- */

static void shanghai_date(time_t t, char *out, size_t n, const char *fmt)
{
	t += 8 * 3600;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, fmt, &tm);
}

static int64_t create_order(int who, const char *title, const char *category, const char *channel,
                            int64_t unit, const char *phone, char *number)
{
	json_t *b = json_pack("{s:s,s:s,s:s,s:s,s:I,s:{s:s,s:s}}", "title", title, "description",
	                      "统计测试", "category_code", category, "channel", channel, "unit_id",
	                      (json_int_t)unit, "requester", "name", "王先生", "phone", phone);
	char *text = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	struct resp *r = api(&S, "POST", "/api/v1/work-orders", tok[who], text, NULL);
	free(text);
	int64_t id = r && r->status == 201 ? jint(r->json, "id") : 0;
	if (!id)
		fprintf(stderr, "create %s: %ld %s\n", title, r ? r->status : 0, r ? r->body : "");
	else if (number)
		snprintf(number, 32, "%s", jstr(r->json, "number"));
	resp_free(r);
	return id;
}

static bool act(int who, int64_t id, const char *body)
{
	struct resp *r =
	    apif(&S, "POST", tok[who], body, "/api/v1/work-orders/%lld/actions", (long long)id);
	bool ok = r && r->status == 200;
	if (!ok)
		fprintf(stderr, "action %s on %lld: %ld %s\n", body, (long long)id,
		        r ? r->status : 0, r ? r->body : "");
	resp_free(r);
	return ok;
}

/* dispatch to org, accept, resolve, verify and call back */
static bool full_cycle(int64_t id, const char *satisfaction, bool solved)
{
	return act(SHEQU, id,
	           F("{\"action\":\"dispatch\",\"handler_org_id\":%lld}", (long long)o_hongrun)) &&
	       act(WUYE, id, "{\"action\":\"accept\"}") &&
	       act(WUYE, id, "{\"action\":\"resolve\",\"result\":\"已处理\"}") &&
	       act(SHEQU, id, "{\"action\":\"verify\",\"passed\":true}") &&
	       act(SHEQU, id,
	           F("{\"action\":\"callback\",\"satisfaction\":\"%s\",\"solved\":%s}",
	             satisfaction, solved ? "true" : "false"));
}

static int setup(void **state)
{
	(void)state;
	/* the rows here have a handful of orders each: no row is left out of the rates
	 * for being small (t31-wo-console checks min_orders and too_few) */
	static const char *const env[] = {"GONGZHI_STATS_MIN_ORDERS=0", NULL};
	if (fixture_start(&fx, &S, env))
		return -1;
	for (int i = 0; i < NUSERS; i++)
		tok[i] = fx_token(&fx, usernames[i]);
	u_shaliu = fx.u_shaliu;
	u_fengqi = fx.u_fengqi;
	u_b1 = fx.u_beili_b1;
	u_fengqi_b2 = fx.u_fengqi_b2;
	o_haoan = fx.o_haoan;
	struct resp *me = api(&S, "GET", "/api/v1/auth/me", tok[WUYE], NULL, NULL);
	o_hongrun = me && me->status == 200 ? jint(me->json, "org_id") : 0;
	resp_free(me);
	if (!u_shaliu || !u_fengqi || !u_b1 || !u_fengqi_b2 || !o_haoan || !o_hongrun) {
		fprintf(stderr, "demo units or organisations not found\n");
		return -1;
	}
	time_t now = time(NULL);
	shanghai_date(now, today, sizeof today, "%Y-%m-%d");
	shanghai_date(now - 86400, yesterday, sizeof yesterday, "%Y-%m-%d");
	shanghai_date(now + 86400, tomorrow, sizeof tomorrow, "%Y-%m-%d");
	shanghai_date(now, this_month, sizeof this_month, "%Y-%m");

	wo_a =
	    create_order(SHEQU, "楼道停水", "010101", "hotline_12345", u_b1, "13812345678", num_a);
	wo_b = create_order(SHEQU, "水压不足", "010102", "grid_patrol", u_b1, "13812340001", NULL);
	wo_c =
	    create_order(SHEQU, "电梯停运", "010301", "hotline_12345", u_b1, "13812340002", NULL);
	wo_d = create_order(SHEQU, "电梯异响", "010301", "web", u_b1, "13812340003", NULL);
	wo_e = create_order(SHEQU, TITLE_E, "010402", "walk_in", u_b1, "13900001111", num_e);
	wo_f = create_order(SHEQU2, TITLE_F, "010101", "hotline_12345", u_fengqi_b2, "13812340004",
	                    num_f);
	if (!wo_a || !wo_b || !wo_c || !wo_d || !wo_e || !wo_f)
		return -1;
	if (!full_cycle(wo_a, "satisfied", true) ||
	    !full_cycle(wo_b, "basically_satisfied", true) ||
	    !full_cycle(wo_c, "dissatisfied", false) ||
	    !act(SHEQU, wo_d,
	         F("{\"action\":\"dispatch\",\"handler_org_id\":%lld}", (long long)o_haoan)))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	int rc = fixture_stop(&fx);
	assert_int_equal(rc, 0);
	return 0;
}

/* GET /api/v1/stats/work-orders?<query> as who, expecting 200 */
static json_t *stats(int who, const char *query)
{
	struct resp *r = apif(&S, "GET", tok[who], NULL, "/api/v1/stats/work-orders%s%s",
	                      *query ? "?" : "", query);
	assert_status(r, 200);
	json_t *j = json_incref(r->json);
	resp_free(r);
	assert_non_null(j);
	assert_true(json_is_array(jpath(j, "rows")));
	assert_true(json_is_object(jpath(j, "totals")));
	return j;
}

#define assert_rate(o, path, want) assert_rate_((o), (path), (want), __FILE__, __LINE__)
static void assert_rate_(json_t *o, const char *path, double want, const char *file, int line)
{
	json_t *v = jpath(o, path);
	if (!json_is_number(v) ||
	    (json_number_value(v) - want > 1e-9 || want - json_number_value(v) > 1e-9)) {
		char *text = json_dumps(o, JSON_COMPACT);
		print_error("%s:%d: %s: expected %.4f in %s\n", file, line, path, want, text);
		free(text);
		_fail(file, line);
	}
}

#define assert_null_at(o, path) assert_true(json_is_null(jpath((o), (path))))

/* the row of rows whose key is the integer (or null when key is 0) */
static json_t *row_id(json_t *j, int64_t key)
{
	size_t i;
	json_t *row;
	json_array_foreach(jpath(j, "rows"), i, row)
	{
		json_t *k = json_object_get(row, "key");
		if (key ? json_integer_value(k) == key && json_is_integer(k) : json_is_null(k))
			return row;
	}
	return NULL;
}

/* ---- statistics ---- */

static void stats_whole_set(void **state)
{
	(void)state;
	json_t *j = stats(SHEQU, F("unit_id=%lld", (long long)u_b1));
	assert_true(json_is_null(jpath(j, "group_by")));
	assert_int_equal(json_array_size(jpath(j, "rows")), 1);
	json_t *t = jpath(j, "totals");
	assert_int_equal(jint(t, "total"), 5);
	assert_int_equal(jint(t, "dispatched"), 4);
	assert_int_equal(jint(t, "accepted_on_time"), 3);
	assert_int_equal(jint(t, "resolved"), 3);
	assert_int_equal(jint(t, "resolved_on_time"), 3);
	assert_int_equal(jint(t, "rated"), 3);
	assert_int_equal(jint(t, "solved"), 2);
	assert_int_equal(jint(t, "satisfied"), 2);
	assert_int_equal(jint(t, "reopened"), 0);
	assert_rate(t, "response_rate", 0.75);
	assert_rate(t, "resolution_rate", 0.6667);
	assert_rate(t, "satisfaction_rate", 0.6667);
	assert_rate(t, "on_time_rate", 1.0);
	assert_rate(t, "score", 69.17);
	/* resolved within seconds of creation */
	assert_rate(t, "avg_hours_to_resolve", 0.0);
	/* the one row is the whole set */
	json_t *row = jpath(j, "rows.0");
	assert_true(json_is_null(json_object_get(row, "key")));
	assert_int_equal(jint(row, "total"), 5);
	assert_rate(row, "score", 69.17);
	assert_string_equal(jstr(j, "definitions.response_rate"),
	                    "accepted within the accept deadline / dispatched");
	assert_true(*jstr(j, "definitions.resolution_rate"));
	assert_true(*jstr(j, "definitions.satisfaction_rate"));
	assert_true(*jstr(j, "definitions.score"));
	json_decref(j);
}

static void stats_by_channel(void **state)
{
	(void)state;
	json_t *j = stats(SHEQU, F("unit_id=%lld&group_by=channel", (long long)u_b1));
	assert_string_equal(jstr(j, "group_by"), "channel");
	/* by total descending, then by key */
	assert_int_equal(json_array_size(jpath(j, "rows")), 4);
	assert_string_equal(jstr(j, "rows.0.key"), "hotline_12345");
	assert_string_equal(jstr(j, "rows.1.key"), "grid_patrol");
	assert_string_equal(jstr(j, "rows.2.key"), "walk_in");
	assert_string_equal(jstr(j, "rows.3.key"), "web");
	/* hotline: A (satisfied, solved) and C (dissatisfied, unsolved) */
	json_t *h = jpath(j, "rows.0");
	assert_int_equal(jint(h, "total"), 2);
	assert_int_equal(jint(h, "dispatched"), 2);
	assert_rate(h, "response_rate", 1.0);
	assert_rate(h, "resolution_rate", 0.5);
	assert_rate(h, "satisfaction_rate", 0.5);
	assert_rate(h, "score", 65.0);
	/* walk-in: E, never dispatched: no rate has a denominator */
	json_t *w = jpath(j, "rows.2");
	assert_int_equal(jint(w, "total"), 1);
	assert_null_at(w, "response_rate");
	assert_null_at(w, "resolution_rate");
	assert_null_at(w, "satisfaction_rate");
	assert_null_at(w, "on_time_rate");
	assert_null_at(w, "avg_hours_to_resolve");
	assert_null_at(w, "score");
	/* web: D, dispatched, not accepted */
	json_t *d = jpath(j, "rows.3");
	assert_int_equal(jint(d, "dispatched"), 1);
	assert_rate(d, "response_rate", 0.0);
	assert_null_at(d, "resolution_rate");
	/* the totals are those of the whole set */
	assert_int_equal(jint(j, "totals.total"), 5);
	assert_rate(j, "totals.score", 69.17);
	json_decref(j);
}

static void stats_by_category(void **state)
{
	(void)state;
	json_t *j = stats(SHEQU, F("unit_id=%lld&group_by=category", (long long)u_b1));
	assert_int_equal(json_array_size(jpath(j, "rows")), 4);
	/* lifts: C and D */
	assert_string_equal(jstr(j, "rows.0.key"), "010301");
	assert_string_equal(jstr(j, "rows.0.name"), "电梯故障停运");
	assert_int_equal(jint(j, "rows.0.total"), 2);
	assert_rate(j, "rows.0.response_rate", 0.5);
	assert_rate(j, "rows.0.resolution_rate", 0.0);
	assert_rate(j, "rows.0.satisfaction_rate", 0.0);
	assert_rate(j, "rows.0.score", 15.0);
	assert_string_equal(jstr(j, "rows.1.key"), "010101");
	assert_string_equal(jstr(j, "rows.1.name"), "停水");
	assert_rate(j, "rows.1.score", 100.0);
	assert_string_equal(jstr(j, "rows.2.key"), "010102");
	assert_string_equal(jstr(j, "rows.2.name"), "水压不足");
	assert_string_equal(jstr(j, "rows.3.key"), "010402");
	assert_string_equal(jstr(j, "rows.3.name"), "乱停乱放");
	json_decref(j);
}

static void stats_by_unit(void **state)
{
	(void)state;
	/* group_by=unit groups by community */
	json_t *j = stats(SHEQU, F("unit_id=%lld&group_by=unit", (long long)u_b1));
	assert_int_equal(json_array_size(jpath(j, "rows")), 1);
	assert_int_equal(jint(j, "rows.0.key"), u_shaliu);
	assert_string_equal(jstr(j, "rows.0.name"), "沙柳北路社区");
	assert_int_equal(jint(j, "rows.0.total"), 5);
	json_decref(j);
	/* the admin sees many communities, each row named */
	j = stats(ADMIN, "group_by=unit");
	assert_true(json_array_size(jpath(j, "rows")) > 1);
	size_t i;
	json_t *row;
	int64_t prev = INT64_MAX, sum = 0;
	json_array_foreach(jpath(j, "rows"), i, row)
	{
		assert_true(*jstr(row, "name"));
		assert_true(jint(row, "total") <= prev);
		prev = jint(row, "total");
		sum += prev;
	}
	assert_int_equal(sum, jint(j, "totals.total"));
	json_decref(j);
}

static void stats_by_handler_org(void **state)
{
	(void)state;
	json_t *j = stats(SHEQU, F("unit_id=%lld&group_by=handler_org", (long long)u_b1));
	assert_int_equal(json_array_size(jpath(j, "rows")), 3);
	assert_int_equal(jint(j, "rows.0.key"), o_hongrun);
	assert_string_equal(jstr(j, "rows.0.name"), "天津鸿润物业服务有限公司");
	assert_int_equal(jint(j, "rows.0.total"), 3);
	assert_rate(j, "rows.0.response_rate", 1.0);
	assert_rate(j, "rows.0.resolution_rate", 0.6667);
	assert_rate(j, "rows.0.satisfaction_rate", 0.6667);
	assert_rate(j, "rows.0.on_time_rate", 1.0);
	assert_rate(j, "rows.0.score", 76.67);
	json_t *haoan = row_id(j, o_haoan);
	assert_non_null(haoan);
	assert_string_equal(jstr(haoan, "name"), "天津皓安物业管理有限公司");
	assert_int_equal(jint(haoan, "total"), 1);
	assert_rate(haoan, "response_rate", 0.0);
	/* E has no handler: key null */
	json_t *none = row_id(j, 0);
	assert_non_null(none);
	assert_int_equal(jint(none, "total"), 1);
	assert_int_equal(jint(none, "dispatched"), 0);
	json_decref(j);
}

static void stats_by_day_and_month(void **state)
{
	(void)state;
	json_t *j = stats(SHEQU, F("unit_id=%lld&group_by=day", (long long)u_b1));
	assert_int_equal(json_array_size(jpath(j, "rows")), 1);
	assert_string_equal(jstr(j, "rows.0.key"), today);
	assert_int_equal(jint(j, "rows.0.total"), 5);
	assert_null_at(j, "rows.0.name");
	json_decref(j);
	j = stats(SHEQU, F("unit_id=%lld&group_by=month", (long long)u_b1));
	assert_int_equal(json_array_size(jpath(j, "rows")), 1);
	assert_string_equal(jstr(j, "rows.0.key"), this_month);
	assert_int_equal(jint(j, "rows.0.total"), 5);
	json_decref(j);
	/* the demo's year: days and months ascending, months adding up their days */
	json_t *days = stats(ADMIN, "group_by=day"), *months = stats(ADMIN, "group_by=month");
	assert_true(json_array_size(jpath(months, "rows")) >= 12);
	assert_true(json_array_size(jpath(days, "rows")) > json_array_size(jpath(months, "rows")));
	assert_int_equal(jint(days, "totals.total"), jint(months, "totals.total"));
	size_t i;
	json_t *row;
	char prev[16] = "";
	json_array_foreach(jpath(months, "rows"), i, row)
	{
		const char *k = jstr(row, "key");
		assert_int_equal(strlen(k), 7);
		assert_true(strcmp(prev, k) < 0);
		snprintf(prev, sizeof prev, "%s", k);
		int64_t sum = 0;
		size_t d;
		json_t *dr;
		json_array_foreach(jpath(days, "rows"), d, dr) if (strncmp(jstr(dr, "key"), k, 7) ==
		                                                   0) sum += jint(dr, "total");
		assert_int_equal(sum, jint(row, "total"));
	}
	prev[0] = 0;
	json_array_foreach(jpath(days, "rows"), i, row)
	{
		assert_true(strcmp(prev, jstr(row, "key")) < 0);
		snprintf(prev, sizeof prev, "%s", jstr(row, "key"));
	}
	json_decref(days);
	json_decref(months);
}

static int64_t total_of(int who, const char *query)
{
	json_t *j = stats(who, query);
	int64_t t = jint(j, "totals.total");
	json_decref(j);
	return t;
}

static void stats_filters(void **state)
{
	(void)state;
	long long b1 = (long long)u_b1;
	/* category subtree: 0101 holds 010101 and 010102 */
	assert_int_equal(total_of(SHEQU, F("unit_id=%lld&category_code=0101", b1)), 2);
	assert_int_equal(total_of(SHEQU, F("unit_id=%lld&category_code=0103", b1)), 2);
	assert_int_equal(total_of(SHEQU, F("unit_id=%lld&category_code=01", b1)), 5);
	assert_int_equal(total_of(SHEQU, F("unit_id=%lld&category_code=02", b1)), 0);
	assert_int_equal(total_of(SHEQU, F("unit_id=%lld&channel=hotline_12345", b1)), 2);
	assert_int_equal(total_of(SHEQU, F("unit_id=%lld&channel=walk_in,web", b1)), 2);
	json_t *j = stats(SHEQU, F("unit_id=%lld&handler_org_id=%lld", b1, (long long)o_haoan));
	assert_int_equal(jint(j, "totals.total"), 1);
	assert_int_equal(jint(j, "totals.dispatched"), 1);
	assert_rate(j, "totals.response_rate", 0.0);
	json_decref(j);
	/* creation days, both ends inclusive */
	assert_int_equal(
	    total_of(SHEQU, F("unit_id=%lld&created_from=%s&created_to=%s", b1, today, today)), 5);
	assert_int_equal(
	    total_of(SHEQU, F("unit_id=%lld&created_from=%sT23:59:59%%2B08:00", b1, today)), 5);
	assert_int_equal(total_of(SHEQU, F("unit_id=%lld&created_from=%s", b1, tomorrow)), 0);
	assert_int_equal(total_of(SHEQU, F("unit_id=%lld&created_to=%s", b1, yesterday)), 0);
	/* an empty set: one row of zeros, rates null; grouped: no rows */
	j = stats(SHEQU, F("unit_id=%lld&created_from=%s", b1, tomorrow));
	assert_int_equal(json_array_size(jpath(j, "rows")), 1);
	assert_int_equal(jint(j, "rows.0.total"), 0);
	assert_null_at(j, "totals.response_rate");
	assert_null_at(j, "totals.score");
	json_decref(j);
	j = stats(SHEQU, F("unit_id=%lld&created_from=%s&group_by=channel", b1, tomorrow));
	assert_int_equal(json_array_size(jpath(j, "rows")), 0);
	json_decref(j);
	/* unit filters: the community, its subdistrict, the district */
	int64_t community = total_of(SHEQU, F("unit_id=%lld", (long long)u_shaliu));
	assert_true(community > 5);
	assert_int_equal(total_of(SHEQU, ""), community);
	assert_int_equal(total_of(JIEDAO, F("unit_id=%lld", (long long)u_shaliu)), community);
	int64_t all = total_of(ADMIN, "");
	assert_int_equal(
	    total_of(ADMIN, F("unit_id=%lld", (long long)unit_id(&S, tok[ADMIN], "河东区"))), all);
	int64_t dongxin =
	    total_of(ADMIN, F("unit_id=%lld", (long long)unit_id(&S, tok[ADMIN], "东新街道")));
	assert_true(dongxin > community && dongxin < all);
	assert_int_equal(total_of(JIEDAO, ""), dongxin);
}

static void stats_scope(void **state)
{
	(void)state;
	long long b1 = (long long)u_b1;
	/* another community's staff sees none of shequ's orders */
	assert_int_equal(total_of(SHEQU2, F("unit_id=%lld", b1)), 0);
	json_t *j = stats(SHEQU2, "group_by=unit");
	size_t i;
	json_t *row;
	json_array_foreach(jpath(j, "rows"), i, row) assert_int_equal(jint(row, "key"), u_fengqi);
	assert_true(jint(j, "totals.total") >= 1); /* F at least */
	json_decref(j);
	j = stats(SHEQU, "group_by=unit");
	assert_int_equal(json_array_size(jpath(j, "rows")), 1);
	assert_int_equal(jint(j, "rows.0.key"), u_shaliu);
	json_decref(j);
	/* the other subdistrict, the admin */
	assert_int_equal(total_of(LUSHAN, F("unit_id=%lld", b1)), 0);
	assert_int_equal(total_of(JIEDAO, F("unit_id=%lld", b1)), 5);
	assert_int_equal(total_of(ADMIN, F("unit_id=%lld", b1)), 5);
	/* the grid worker: its grid only (the building is not in it) */
	assert_int_equal(total_of(WANGGE, F("unit_id=%lld", b1)), 0);
	/* the property company: only what was dispatched to it (A, B, C) */
	j = stats(WUYE, F("unit_id=%lld", b1));
	assert_int_equal(jint(j, "totals.total"), 3);
	assert_rate(j, "totals.score", 76.67);
	json_decref(j);
	j = stats(WUYE, "group_by=handler_org");
	assert_int_equal(json_array_size(jpath(j, "rows")), 1);
	assert_int_equal(jint(j, "rows.0.key"), o_hongrun);
	json_decref(j);
	/* a partner with nothing dispatched to it here */
	assert_int_equal(total_of(HEHUOREN, F("unit_id=%lld", b1)), 0);
	/* residents and mediators hold no stats.read; anonymous is 401 */
	struct resp *r = api(&S, "GET", "/api/v1/stats/work-orders", tok[JUMIN], NULL, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/stats/work-orders", tok[TIAOJIE], NULL, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/stats/work-orders", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
}

static void stats_bad_input(void **state)
{
	(void)state;
	static const struct {
		const char *query, *code, *field;
	} cases[] = {
	    {"group_by=week", "validation_failed", "group_by"},
	    {"group_by=Channel", "validation_failed", "group_by"},
	    {"foo=1", "unknown_field", "foo"},
	    {"limit=10", "unknown_field", "limit"},
	    {"unit_id=abc", "validation_failed", "unit_id"},
	    {"unit_id=0", "validation_failed", "unit_id"},
	    {"unit_id=99999999", "validation_failed", "unit_id"},
	    {"category_code=01%27", "validation_failed", "category_code"},
	    {"category_code=", "validation_failed", "category_code"},
	    {"channel=fax", "validation_failed", "channel"},
	    {"channel=", "validation_failed", "channel"},
	    {"handler_org_id=x", "validation_failed", "handler_org_id"},
	    {"created_from=2026-13-01", "validation_failed", "created_from"},
	    {"created_to=yesterday", "validation_failed", "created_to"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct resp *r = apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/stats/work-orders?%s",
		                      cases[i].query);
		assert_error(r, 400, cases[i].code, cases[i].field);
		resp_free(r);
	}
	/* many channel values are refused, not a crash */
	char q[2048] = "channel=web";
	for (int i = 0; i < 60; i++)
		strcat(q, ",web");
	struct resp *r = apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/stats/work-orders?%s", q);
	assert_error(r, 400, "validation_failed", "channel");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/stats/work-orders", tok[SHEQU], "{}", NULL);
	assert_status(r, 405);
	resp_free(r);
}

/* The score's weights are settings: with all the weight on the response rate, the
 * score is the response rate. */
static void stats_weights(void **state)
{
	(void)state;
	static const char *const env[] = {"GONGZHI_SCORE_WEIGHT_RESPONSE=100",
	                                  "GONGZHI_SCORE_WEIGHT_RESOLUTION=0",
	                                  "GONGZHI_SCORE_WEIGHT_SATISFACTION=0", NULL};
	struct srv s2;
	assert_int_equal(srv_start(&s2, env, true), 0);
	char *t = login(&s2, "admin", ADMIN_PW);
	assert_non_null(t);
	struct resp *r =
	    api(&s2, "GET", "/api/v1/stats/work-orders?group_by=channel", t, NULL, NULL);
	assert_status(r, 200);
	assert_true(contains(jstr(r->json, "definitions.score"), "100 × response_rate"));
	json_t *rows = jpath(r->json, "rows");
	assert_true(json_array_size(rows) > 1);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
	{
		if (!jint(row, "dispatched") || !jint(row, "rated")) {
			assert_null_at(row, "score");
			continue;
		}
		/* the rate out of 100, rounded to 2 decimals */
		double want =
		    100.0 * (double)jint(row, "accepted_on_time") / (double)jint(row, "dispatched");
		double got = json_number_value(jpath(row, "score"));
		assert_true(json_is_number(jpath(row, "score")));
		assert_true(got - want <= 0.005 + 1e-9 && want - got <= 0.005 + 1e-9);
		assert_rate(row, "score", 100 * json_number_value(jpath(row, "response_rate")));
	}
	resp_free(r);
	free(t);
	assert_int_equal(srv_stop(&s2), 0);
	srv_cleanup(&s2);
}

/* ---- the export ---- */

/* A parsed CSV file: records of fields (RFC 4180). */
struct csv {
	char ***rec;
	int *nf;
	int n;
	bool crlf_only; /* every record ended by CRLF */
};

static void csv_free(struct csv *c)
{
	for (int i = 0; i < c->n; i++) {
		for (int f = 0; f < c->nf[i]; f++)
			free(c->rec[i][f]);
		free(c->rec[i]);
	}
	free(c->rec);
	free(c->nf);
	memset(c, 0, sizeof *c);
}

static void csv_parse(const char *p, size_t len, struct csv *c)
{
	memset(c, 0, sizeof *c);
	c->crlf_only = true;
	const char *end = p + len;
	while (p < end) {
		c->rec = realloc(c->rec, sizeof(*c->rec) * (size_t)(c->n + 1));
		c->nf = realloc(c->nf, sizeof(*c->nf) * (size_t)(c->n + 1));
		char **fields = NULL;
		int nf = 0;
		for (;;) {
			size_t cap = 64, n = 0;
			char *f = malloc(cap);
			if (p < end && *p == '"') {
				p++;
				while (p < end) {
					if (*p == '"' && p + 1 < end && p[1] == '"')
						p++;
					else if (*p == '"')
						break;
					if (n + 2 > cap)
						f = realloc(f, cap *= 2);
					f[n++] = *p++;
				}
				p++; /* closing quote */
			} else {
				while (p < end && *p != ',' && *p != '\r' && *p != '\n') {
					if (n + 2 > cap)
						f = realloc(f, cap *= 2);
					f[n++] = *p++;
				}
			}
			f[n] = 0;
			fields = realloc(fields, sizeof(*fields) * (size_t)(nf + 1));
			fields[nf++] = f;
			if (p < end && *p == ',') {
				p++;
				continue;
			}
			break;
		}
		if (p + 1 < end && p[0] == '\r' && p[1] == '\n')
			p += 2;
		else {
			c->crlf_only = false;
			if (p < end)
				p++;
		}
		c->rec[c->n] = fields;
		c->nf[c->n] = nf;
		c->n++;
	}
}

static const char *const HEADER[] = {"工单编号", "标题",     "分类",     "渠道",     "优先级",
                                     "状态",     "所属单位", "地址",     "诉求人",   "联系电话",
                                     "承办单位", "创建时间", "签收时限", "办结时限", "签收时间",
                                     "办结时间", "满意度",   "是否解决", "是否超期"};
enum {
	C_NUMBER,
	C_TITLE,
	C_CATEGORY,
	C_CHANNEL,
	C_PRIORITY,
	C_STATUS,
	C_UNIT,
	C_ADDRESS,
	C_REQUESTER,
	C_PHONE,
	C_HANDLER,
	C_CREATED,
	C_ACCEPT_DUE,
	C_RESOLVE_DUE,
	C_ACCEPTED,
	C_RESOLVED,
	C_SATISFACTION,
	C_SOLVED,
	C_OVERDUE,
	NCOLS
};

/* GET the export as who with query, expecting 200; parses it into c (header row
 * checked and dropped from the count in c->n - 1). */
static struct resp *get_export(int who, const char *query, struct csv *c)
{
	struct resp *r = apif(&S, "GET", tok[who], NULL, "/api/v1/work-orders/export.csv%s%s",
	                      *query ? "?" : "", query);
	assert_status(r, 200);
	const char *ct = resp_header(r, "Content-Type");
	assert_non_null(ct);
	assert_string_equal(ct, "text/csv; charset=utf-8");
	const char *cd = resp_header(r, "Content-Disposition");
	assert_non_null(cd);
	assert_string_equal(cd, "attachment; filename=\"work-orders.csv\"");
	assert_true(r->len >= 3);
	assert_memory_equal(r->body, "\xEF\xBB\xBF", 3);
	csv_parse(r->body + 3, r->len - 3, c);
	assert_true(c->crlf_only);
	assert_true(c->n >= 1);
	assert_int_equal(c->nf[0], NCOLS);
	for (int i = 0; i < NCOLS; i++)
		assert_string_equal(c->rec[0][i], HEADER[i]);
	for (int i = 1; i < c->n; i++)
		assert_int_equal(c->nf[i], NCOLS);
	return r;
}

static char **find_record(struct csv *c, const char *number)
{
	for (int i = 1; i < c->n; i++)
		if (strcmp(c->rec[i][C_NUMBER], number) == 0)
			return c->rec[i];
	return NULL;
}

static int64_t list_total(int who, const char *query)
{
	struct resp *r =
	    apif(&S, "GET", tok[who], NULL, "/api/v1/work-orders?count=true&limit=1%s%s",
	         *query ? "&" : "", query);
	assert_status(r, 200);
	int64_t t = jint(r->json, "total");
	resp_free(r);
	return t;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void export_building(void **state)
{
	(void)state;
	struct csv c;
	struct resp *r = get_export(SHEQU, F("unit_id=%lld", (long long)u_b1), &c);
	assert_int_equal(c.n - 1, 5);
	/* the title with a comma and quotes: quoted, quotes doubled */
	assert_true(contains(r->body, "\"车位被占,\"\"紧急\"\"处理\""));
	char **e = find_record(&c, num_e);
	assert_non_null(e);
	assert_string_equal(e[C_TITLE], TITLE_E);
	assert_string_equal(e[C_STATUS], "新建");
	assert_string_equal(e[C_CHANNEL], "来访");
	assert_string_equal(e[C_CATEGORY], "乱停乱放");
	assert_string_equal(e[C_UNIT], "沙柳北里1号楼");
	assert_string_equal(e[C_HANDLER], "");
	assert_string_equal(e[C_PHONE], "139****1111");
	assert_string_equal(e[C_SATISFACTION], "");
	assert_string_equal(e[C_SOLVED], "");
	assert_string_equal(e[C_OVERDUE], "否");
	assert_true(ends_with(e[C_CREATED], "+08:00"));
	assert_true(strncmp(e[C_CREATED], today, 10) == 0);
	assert_string_equal(e[C_ACCEPTED], "");
	/* A went all the way */
	char **a = find_record(&c, num_a);
	assert_non_null(a);
	assert_string_equal(a[C_TITLE], "楼道停水");
	assert_string_equal(a[C_PHONE], "138****5678");
	assert_false(contains(r->body, "13812345678"));
	assert_string_equal(a[C_REQUESTER], "王先生");
	assert_string_equal(a[C_HANDLER], "天津鸿润物业服务有限公司");
	assert_string_equal(a[C_STATUS], "已关闭");
	assert_string_equal(a[C_CHANNEL], "12345热线");
	assert_string_equal(a[C_PRIORITY], "普通");
	assert_string_equal(a[C_SATISFACTION], "满意");
	assert_string_equal(a[C_SOLVED], "是");
	assert_true(ends_with(a[C_ACCEPTED], "+08:00"));
	assert_true(ends_with(a[C_RESOLVED], "+08:00"));
	assert_true(ends_with(a[C_ACCEPT_DUE], "+08:00"));
	assert_true(ends_with(a[C_RESOLVE_DUE], "+08:00"));
	/* in id order */
	assert_string_equal(c.rec[1][C_NUMBER], num_a);
	assert_string_equal(c.rec[5][C_NUMBER], num_e);
	csv_free(&c);
	resp_free(r);
}

static void export_filters(void **state)
{
	(void)state;
	long long b1 = (long long)u_b1;
	struct csv c;
	struct resp *r = get_export(SHEQU, F("unit_id=%lld&channel=hotline_12345", b1), &c);
	assert_int_equal(c.n - 1, 2);
	csv_free(&c);
	resp_free(r);
	r = get_export(SHEQU, F("unit_id=%lld&status=new", b1), &c);
	assert_int_equal(c.n - 1, 1);
	assert_string_equal(c.rec[1][C_NUMBER], num_e);
	csv_free(&c);
	resp_free(r);
	r = get_export(SHEQU, F("unit_id=%lld&category_code=0103", b1), &c);
	assert_int_equal(c.n - 1, 2);
	csv_free(&c);
	resp_free(r);
	/* limit and cursor do not cut an export */
	r = get_export(SHEQU, F("unit_id=%lld&limit=1", b1), &c);
	assert_int_equal(c.n - 1, 5);
	csv_free(&c);
	resp_free(r);
	/* the property company: what was dispatched to it */
	r = get_export(WUYE, F("unit_id=%lld", b1), &c);
	assert_int_equal(c.n - 1, 3);
	assert_null(find_record(&c, num_e));
	csv_free(&c);
	resp_free(r);
	/* nothing matches: the header alone */
	r = get_export(SHEQU, F("unit_id=%lld&created_from=%s", b1, tomorrow), &c);
	assert_int_equal(c.n, 1);
	csv_free(&c);
	resp_free(r);
}

static void export_scope(void **state)
{
	(void)state;
	/* shequ: every order the list shows, none of another community's */
	struct csv c;
	struct resp *r = get_export(SHEQU, "", &c);
	assert_int_equal(c.n - 1, list_total(SHEQU, ""));
	assert_non_null(find_record(&c, num_a));
	assert_null(find_record(&c, num_f));
	assert_false(contains(r->body, num_f));
	csv_free(&c);
	resp_free(r);
	r = get_export(SHEQU2, "", &c);
	char **f = find_record(&c, num_f);
	assert_non_null(f);
	/* defused with an apostrophe, and quoted for its comma */
	assert_string_equal(f[C_TITLE], "'=SUM(1,2)凤岐里停水");
	assert_true(contains(r->body, ",\"'=SUM(1,2)凤岐里停水\","));
	assert_null(find_record(&c, num_a));
	csv_free(&c);
	resp_free(r);
	/* the admin's whole year: several batches, each order once, in id order */
	r = get_export(ADMIN, "", &c);
	int64_t total = list_total(ADMIN, "");
	assert_true(total > 2000);
	assert_int_equal(c.n - 1, total);
	for (int i = 2; i < c.n; i++)
		assert_true(strcmp(c.rec[i - 1][C_NUMBER], c.rec[i][C_NUMBER]) != 0);
	csv_free(&c);
	resp_free(r);
	/* errors are JSON as usual */
	r = api(&S, "GET", "/api/v1/work-orders/export.csv", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/work-orders/export.csv?foo=1", tok[SHEQU], NULL, NULL);
	assert_error(r, 400, "unknown_field", "foo");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/work-orders/export.csv?status=lost", tok[SHEQU], NULL, NULL);
	assert_error(r, 400, "validation_failed", "status");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/work-orders/export.csv?created_from=x", tok[SHEQU], NULL, NULL);
	assert_error(r, 400, "validation_failed", "created_from");
	resp_free(r);
	/* the order with id "export.csv" does not exist, the export does */
	r = apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/work-orders/%lld", (long long)wo_a);
	assert_status(r, 200);
	resp_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(stats_whole_set),      cmocka_unit_test(stats_by_channel),
	    cmocka_unit_test(stats_by_category),    cmocka_unit_test(stats_by_unit),
	    cmocka_unit_test(stats_by_handler_org), cmocka_unit_test(stats_by_day_and_month),
	    cmocka_unit_test(stats_filters),        cmocka_unit_test(stats_scope),
	    cmocka_unit_test(stats_bad_input),      cmocka_unit_test(stats_weights),
	    cmocka_unit_test(export_building),      cmocka_unit_test(export_filters),
	    cmocka_unit_test(export_scope),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
