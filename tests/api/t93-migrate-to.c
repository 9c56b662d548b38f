/* t93-migrate-to.c - a pilot grows: `gongzhi migrate-to postgresql://…` copies the demo
 * district's SQLite database into an empty PostgreSQL one, and a server on the copy
 * (same data directory: the same keys) gives the same answers as the server on the
 * original — lists with every kind of filter, the keyword search at 1, 2, 3 and more
 * characters (the bigram index and FTS5 on SQLite, the bigram index on PostgreSQL),
 * details with their timelines, statistics, units, organisations, notices — for staff
 * and field roles alike; the audit chain verifies on the copy; a write on the copy
 * takes the next id and number.  It needs both backends, so it runs on the PostgreSQL
 * pass (the source server is started with GONGZHI_TEST_PG unset) and skips on SQLite's. */
#include "harness.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct srv SQ, PG;
static char pg_base_url[200], target[290], target_name[64];
static bool ready;

static int setup(void **state)
{
	(void)state;
	if (!harness_pg())
		return 0;
	snprintf(pg_base_url, sizeof pg_base_url, "%s", getenv("GONGZHI_TEST_PG"));
	unsetenv("GONGZHI_TEST_PG"); /* the source: a demo server on SQLite */
	int rc = srv_start(&SQ, NULL, true);
	setenv("GONGZHI_TEST_PG", pg_base_url, 1);
	if (rc)
		return -1;
	if (srv_stop(&SQ) != 0) /* a copy of a database at rest */
		return -1;
	snprintf(target_name, sizeof target_name, "gz_t93_%ld", (long)getpid());
	size_t bl = strlen(pg_base_url);
	snprintf(target, sizeof target, "%s%s%s", pg_base_url,
	         bl && pg_base_url[bl - 1] == '/' ? "" : "/", target_name);
	char out[8192];
	rc = run_cli(&SQ, out, sizeof out, "migrate-to '%s'", target);
	if (rc != 0) {
		fprintf(stderr, "migrate-to failed (%d): %s\n", rc, out);
		return -1;
	}
	if (!strstr(out, "the audit chain verifies")) {
		fprintf(stderr, "migrate-to said: %s\n", out);
		return -1;
	}
	if (srv_restart(&SQ, NULL))
		return -1;
	/* the copy, served from the same data directory */
	PG = SQ;
	PG.pid = -1;
	PG.port = 0;
	snprintf(PG.db, sizeof PG.db, "%s", target);
	snprintf(PG.log, sizeof PG.log, "%s/server-pg.log", SQ.dir);
	if (srv_restart(&PG, NULL))
		return -1;
	ready = true;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (PG.pid > 0)
		srv_stop(&PG);
	PG.dir[0] = '\0'; /* SQ's, removed with SQ */
	snprintf(PG.dbname, sizeof PG.dbname, "%s", target_name);
	if (harness_pg())
		srv_cleanup(&PG); /* drops the copy */
	srv_cleanup(&SQ);
	return 0;
}

/* JSON equal, reals within a relative 1e-9 (SQLite sums doubles, PostgreSQL numerics) */
static bool same(json_t *a, json_t *b, char *where, size_t cap)
{
	if (json_is_number(a) && json_is_number(b)) {
		double x = json_number_value(a), y = json_number_value(b);
		double d = x > y ? x - y : y - x, m = x < 0 ? -x : x;
		if (m < (y < 0 ? -y : y))
			m = y < 0 ? -y : y;
		if (d <= 1e-9 * (m > 1 ? m : 1))
			return true;
		snprintf(where, cap, "%.17g vs %.17g", x, y);
		return false;
	}
	if (json_typeof(a) != json_typeof(b)) {
		snprintf(where, cap, "types %d vs %d", json_typeof(a), json_typeof(b));
		return false;
	}
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b)) {
			snprintf(where, cap, "object sizes %zu vs %zu", json_object_size(a),
			         json_object_size(b));
			return false;
		}
		const char *k;
		json_t *v;
		json_object_foreach(a, k, v)
		{
			json_t *w = json_object_get(b, k);
			if (!w) {
				snprintf(where, cap, "%s missing", k);
				return false;
			}
			if (!same(v, w, where, cap)) {
				size_t n = strlen(where);
				snprintf(where + n, cap - n, " in .%s", k);
				return false;
			}
		}
		return true;
	}
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b)) {
			snprintf(where, cap, "array sizes %zu vs %zu", json_array_size(a),
			         json_array_size(b));
			return false;
		}
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!same(json_array_get(a, i), json_array_get(b, i), where, cap)) {
				size_t n = strlen(where);
				snprintf(where + n, cap - n, " in [%zu]", i);
				return false;
			}
		return true;
	}
	if (json_equal(a, b))
		return true;
	char *x = json_dumps(a, JSON_ENCODE_ANY), *y = json_dumps(b, JSON_ENCODE_ANY);
	snprintf(where, cap, "%.200s vs %.200s", x, y);
	free(x);
	free(y);
	return false;
}

/* GET path on both servers as user; asserts 200 and the same body; returns the
 * SQLite server's body's total (-1 when none). */
static int64_t both(const char *user, const char *path)
{
	char *t1 = login(&SQ, user, strcmp(user, "admin") ? DEMO_PW : ADMIN_PW);
	char *t2 = login(&PG, user, strcmp(user, "admin") ? DEMO_PW : ADMIN_PW);
	assert_non_null(t1);
	assert_non_null(t2);
	struct resp *a = api(&SQ, "GET", path, t1, NULL, NULL);
	struct resp *b = api(&PG, "GET", path, t2, NULL, NULL);
	char where[700] = "";
	bool ok = a->status == 200 && b->status == 200 && a->json && b->json &&
	          same(a->json, b->json, where, sizeof where);
	if (!ok)
		print_error("GET %s as %s: SQLite %ld, PostgreSQL %ld: %s\n", path, user, a->status,
		            b->status, where[0] ? where : b->body);
	assert_true(ok);
	json_t *tot = json_object_get(a->json, "total");
	int64_t total = tot ? (int64_t)json_integer_value(tot) : -1;
	resp_free(a);
	resp_free(b);
	free(t1);
	free(t2);
	return total;
}

#define NEED_BOTH()                                                                                \
	do {                                                                                       \
		if (!harness_pg())                                                                 \
			skip(); /* needs SQLite and PostgreSQL */                                  \
		assert_true(ready);                                                                \
	} while (0)

static void same_lists(void **state)
{
	(void)state;
	NEED_BOTH();
	static const char *const paths[] = {
	    "/api/v1/work-orders",
	    "/api/v1/work-orders?limit=100",
	    "/api/v1/work-orders?status=new,dispatched,accepted,in_progress",
	    "/api/v1/work-orders?status=closed&limit=100",
	    "/api/v1/work-orders?overdue=true&limit=100",
	    "/api/v1/work-orders?channel=hotline_12345",
	    "/api/v1/work-orders?category_code=01",
	    "/api/v1/work-orders?created_from=2026-06-01&created_to=2026-06-30&limit=100",
	    "/api/v1/units",
	    "/api/v1/orgs",
	    "/api/v1/dicts/category",
	    "/api/v1/notices",
	    "/api/v1/sla-rules",
	};
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
		both("admin", paths[i]);
	/* the field roles see their own scope the same way */
	static const char *const users[] = {"jiedao",   "shequ",   "wangge", "wuye",
	                                    "hehuoren", "tiaojie", "jumin"};
	for (size_t u = 0; u < sizeof users / sizeof *users; u++)
		both(users[u], "/api/v1/work-orders?limit=100");
}

static void same_search(void **state)
{
	(void)state;
	NEED_BOTH();
	/* 1, 2, 3, 4+ characters, common and absent, ASCII */
	static const char *const qs[] = {"水",   "漏水",   "电梯",     "噪音",         "小区",
	                                 "停车", "路灯坏", "垃圾清运", "楼道堆放杂物", "鑫龘",
	                                 "GZ",   "a",      "12345"};
	int64_t found = 0;
	for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
		int64_t t =
		    both("admin", F("/api/v1/work-orders?limit=100&count=true&q=%s", Q(qs[i])));
		print_message("# q=%s: %lld on both\n", qs[i], (long long)t);
		found += t > 0;
		both("shequ", F("/api/v1/work-orders?q=%s", Q(qs[i])));
	}
	assert_true(found >= 5); /* the demo's words are found, not only absent ones */
}

static void same_details_and_stats(void **state)
{
	(void)state;
	NEED_BOTH();
	char *t = login(&SQ, "admin", ADMIN_PW);
	struct resp *r = api(&SQ, "GET", "/api/v1/work-orders?limit=20", t, NULL, NULL);
	assert_int_equal(r->status, 200);
	json_t *items = json_object_get(r->json, "items");
	assert_true(json_array_size(items) > 0);
	size_t k;
	json_t *it;
	json_array_foreach(items, k, it)
	{
		int64_t id = (int64_t)json_integer_value(json_object_get(it, "id"));
		both("admin", F("/api/v1/work-orders/%lld", (long long)id));
		both("admin", F("/api/v1/work-orders/%lld/timeline", (long long)id));
	}
	resp_free(r);
	free(t);
	static const char *const groups[] = {"category", "unit", "handler_org", "channel", "month"};
	for (size_t i = 0; i < sizeof groups / sizeof *groups; i++) {
		both("admin", F("/api/v1/stats/work-orders?group_by=%s", groups[i]));
		both("jiedao", F("/api/v1/stats/work-orders?group_by=%s", groups[i]));
	}
}

static void audit_and_next_write(void **state)
{
	(void)state;
	NEED_BOTH();
	char out[4096];
	int rc = run_cli(&PG, out, sizeof out, "audit verify");
	if (rc != 0)
		print_error("audit verify on the copy: %s\n", out);
	assert_int_equal(rc, 0);
	/* a new order on the copy: the id after the copied ones, and a number of its own */
	char *t = login(&PG, "admin", ADMIN_PW);
	struct resp *r = api(&PG, "GET", "/api/v1/work-orders?limit=1", t, NULL, NULL);
	int64_t last = (int64_t)json_integer_value(
	    json_object_get(json_array_get(json_object_get(r->json, "items"), 0), "id"));
	resp_free(r);
	r = api(&PG, "GET", "/api/v1/units?kind=community&limit=1", t, NULL, NULL);
	int64_t unit = (int64_t)json_integer_value(
	    json_object_get(json_array_get(json_object_get(r->json, "items"), 0), "id"));
	resp_free(r);
	r = apif(&PG, "POST", t,
	         F("{\"title\":\"迁移后的第一单\",\"description\":\"楼道灯不亮\",\"category_code\":"
	           "\"010301\",\"channel\":\"walk_in\",\"unit_id\":%lld}",
	           (long long)unit),
	         "/api/v1/work-orders");
	if (r->status != 201)
		print_error("create on the copy: %ld %s\n", r->status, r->body);
	assert_int_equal(r->status, 201);
	assert_true(json_integer_value(json_object_get(r->json, "id")) > last);
	char number[32];
	snprintf(number, sizeof number, "%s",
	         json_string_value(json_object_get(r->json, "number")) ?: "");
	assert_true(number[0] != '\0');
	resp_free(r);
	r = apif(&PG, "GET", t, NULL, "/api/v1/work-orders?count=true&q=%s", Q(number));
	assert_int_equal(r->status, 200);
	assert_int_equal(json_integer_value(json_object_get(r->json, "total")), 1);
	resp_free(r);
	free(t);
	/* a database that is not empty is refused, and nothing is written to it */
	rc = run_cli(&SQ, out, sizeof out, "migrate-to '%s'", target);
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(out, "not empty"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(same_lists),
	    cmocka_unit_test(same_search),
	    cmocka_unit_test(same_details_and_stats),
	    cmocka_unit_test(audit_and_next_write),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
