/* t28-notices: community notices (通知公告), the smallest module on the kit: a draft
 * is written by staff in their subtree, published and withdrawn through the lifecycle
 * engine, and once published reaches every account whose unit lies below the notice's
 * unit — residents, grid workers, partners — and nobody else. */
#include "harness.h"
#include <stdio.h>
#include <stdlib.h>

static struct srv S;
static struct fixture fx;
static const char *admin, *shequ, *shequ2, *jiedao, *wangge, *jumin, *hehuoren;
static int64_t u_sl, u_fq, u_dx, u_hedong;

static int setup(void **state)
{
	(void)state;
	if (fixture_start(&fx, &S, NULL))
		return -1;
	admin = fx.tok[FX_ADMIN];
	shequ = fx.tok[FX_SHEQU];
	shequ2 = fx.tok[FX_SHEQU2];
	jiedao = fx.tok[FX_JIEDAO];
	wangge = fx.tok[FX_WANGGE];
	jumin = fx.tok[FX_JUMIN];
	hehuoren = fx.tok[FX_HEHUOREN];
	u_sl = fx.u_shaliu;
	u_fq = fx.u_fengqi;
	u_dx = fx.u_dongxin;
	u_hedong = fx.u_district;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return fixture_stop(&fx) == 0 ? 0 : -1;
}

static int64_t draft(const char *tok, int64_t unit, const char *title)
{
	return post_id(&S, tok, "/api/v1/notices",
	               F("{\"title\":\"%s\",\"body\":\"本周六上午九点,社区广场开展义诊活动。\","
	                 "\"unit_id\":%lld,\"category\":\"activity\"}",
	                 title, (long long)unit));
}

static struct resp *act(const char *tok, int64_t id, const char *body)
{
	return apif(&S, "POST", tok, body, "/api/v1/notices/%lld/actions", (long long)id);
}

static long get_status(const char *tok, int64_t id)
{
	struct resp *r = apif(&S, "GET", tok, NULL, "/api/v1/notices/%lld", (long long)id);
	long st = r->status;
	resp_free(r);
	return st;
}

static bool listed(const char *tok, int64_t id)
{
	struct resp *r = api(&S, "GET", "/api/v1/notices?limit=500", tok, NULL, NULL);
	assert_status(r, 200);
	bool has = has_id(jpath(r->json, "items"), id);
	resp_free(r);
	return has;
}

static void create_and_validate(void **state)
{
	(void)state;
	struct resp *r = api(&S, "POST", "/api/v1/notices", shequ,
	                     F("{\"title\":\"停水通知\",\"body\":\"周三停水\",\"unit_id\":%lld,"
	                       "\"category\":\"notice\",\"pinned\":true}",
	                       (long long)u_sl),
	                     NULL);
	assert_status(r, 201);
	assert_string_equal(jstr(r->json, "status"), "draft");
	assert_true(json_is_true(jpath(r->json, "pinned")));
	assert_true(json_is_null(jpath(r->json, "published_at")));
	assert_non_null(resp_header(r, "Location"));
	resp_free(r);
	/* bad input: each names its field */
	const char *bad[][2] = {
	    {"{\"body\":\"x\",\"unit_id\":%lld,\"category\":\"notice\"}", "title"},
	    {"{\"title\":\"x\",\"body\":\"x\",\"unit_id\":%lld,\"category\":\"gossip\"}",
	     "category"},
	    {"{\"title\":\"x\",\"body\":\"x\",\"unit_id\":%lld,\"category\":\"notice\","
	     "\"status\":\"published\"}",
	     "status"},
	    {"{\"title\":\"x\",\"body\":\"x\",\"unit_id\":%lld,\"category\":\"notice\",\"x\":1}",
	     "x"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = api(&S, "POST", "/api/v1/notices", shequ, F(bad[i][0], (long long)u_sl), NULL);
		assert_int_equal(r->status, 400);
		assert_string_equal(err_field(r), bad[i][1]);
		resp_free(r);
	}
	/* outside the subtree, and without the permission */
	r = api(&S, "POST", "/api/v1/notices", shequ,
	        F("{\"title\":\"x\",\"body\":\"x\",\"unit_id\":%lld,\"category\":\"notice\"}",
	          (long long)u_fq),
	        NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/notices", jumin,
	        F("{\"title\":\"x\",\"body\":\"x\",\"unit_id\":%lld,\"category\":\"notice\"}",
	          (long long)u_sl),
	        NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
}

/* A draft is the staff's; published, it reaches the unit's subtree; withdrawn, it is
 * gone again for readers. */
static void publish_reaches_the_subtree(void **state)
{
	(void)state;
	int64_t id = draft(shequ, u_sl, "义诊活动");
	/* a draft: staff of the subtree only */
	assert_int_equal(get_status(shequ, id), 200);
	assert_int_equal(get_status(jiedao, id), 200);
	assert_int_equal(get_status(jumin, id), 404);
	assert_int_equal(get_status(wangge, id), 404);
	assert_false(listed(jumin, id));
	struct resp *r = act(shequ, id, "{\"action\":\"publish\",\"note\":\"请居民周知\"}");
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "status"), "published");
	assert_false(json_is_null(jpath(r->json, "published_at")));
	json_t *tl = jpath(r->json, "timeline");
	assert_true(json_array_size(tl) >= 1);
	json_t *last = json_array_get(tl, json_array_size(tl) - 1);
	assert_string_equal(jstr(last, "action"), "publish");
	assert_string_equal(jstr(last, "from_status"), "draft");
	assert_string_equal(jstr(last, "to_status"), "published");
	assert_string_equal(jstr(last, "note"), "请居民周知");
	resp_free(r);
	/* the community's residents, its grid worker and its staff read it ... */
	assert_int_equal(get_status(jumin, id), 200);
	assert_true(listed(jumin, id));
	assert_int_equal(get_status(wangge, id), 200);
	assert_true(listed(wangge, id));
	/* ... another community and a partner of the subdistrict do not */
	assert_int_equal(get_status(shequ2, id), 404);
	assert_false(listed(shequ2, id));
	assert_int_equal(get_status(hehuoren, id), 404);
	/* a reader cannot change it */
	r = apif(&S, "PATCH", jumin, "{\"title\":\"改\"}", "/api/v1/notices/%lld", (long long)id);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	/* withdrawn: readers lose it, staff keep it, it is no longer edited */
	r = act(shequ, id, "{\"action\":\"withdraw\",\"note\":\"活动改期\"}");
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "status"), "withdrawn");
	resp_free(r);
	assert_int_equal(get_status(jumin, id), 404);
	assert_int_equal(get_status(shequ, id), 200);
	r = apif(&S, "PATCH", shequ, "{\"title\":\"改\"}", "/api/v1/notices/%lld", (long long)id);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);
}

/* A district notice reaches everyone with a unit in the district. */
static void district_notice(void **state)
{
	(void)state;
	int64_t id = draft(admin, u_hedong, "全区防汛提示");
	struct resp *r = act(admin, id, "{\"action\":\"publish\"}");
	assert_status(r, 200);
	resp_free(r);
	const char *readers[] = {jumin, wangge, shequ, shequ2, jiedao, hehuoren};
	for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++)
		assert_int_equal(get_status(readers[i], id), 200);
	/* the district's name, for readers who cannot read the district as a unit: the
	 * row and the list */
	for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
		r = apif(&S, "GET", readers[i], NULL, "/api/v1/notices/%lld", (long long)id);
		assert_string_equal(jstr(r->json, "unit_name"), "河东区");
		resp_free(r);
		r = api(&S, "GET", "/api/v1/notices?limit=500", readers[i], NULL, NULL);
		assert_status(r, 200);
		json_t *o;
		size_t k;
		bool seen = false;
		json_array_foreach(jpath(r->json, "items"), k, o)
		{
			if (json_integer_value(json_object_get(o, "id")) != id)
				continue;
			assert_string_equal(json_string_value(json_object_get(o, "unit_name")),
			                    "河东区");
			seen = true;
		}
		assert_true(seen);
		resp_free(r);
	}
	/* community staff read it but may not withdraw the district's notice */
	r = act(shequ, id, "{\"action\":\"withdraw\"}");
	assert_error(r, 409, "invalid_transition", NULL);
	assert_int_equal(json_array_size(jpath(r->json, "error.allowed")), 0);
	resp_free(r);
}

static void lifecycle_rules(void **state)
{
	(void)state;
	int64_t id = draft(shequ, u_sl, "规则");
	/* only legal transitions; the 409 lists what is allowed */
	struct resp *r = act(shequ, id, "{\"action\":\"withdraw\"}");
	assert_error(r, 409, "invalid_transition", NULL);
	assert_string_equal(jstr(r->json, "error.allowed.0"), "publish");
	resp_free(r);
	r = act(shequ, id, "{\"action\":\"fly\"}");
	assert_int_equal(r->status / 100, 4);
	resp_free(r);
	r = act(shequ, id, "{\"action\":\"publish\",\"colour\":\"red\"}");
	assert_error(r, 400, "unknown_field", "colour");
	resp_free(r);
	/* If-Match */
	r = apihf(&S, "POST", shequ, "{\"action\":\"publish\"}", "If-Match: \"99\"",
	          "/api/v1/notices/%lld/actions", (long long)id);
	assert_error(r, 412, "precondition_failed", NULL);
	resp_free(r);
	/* another community's staff: the notice does not exist for them */
	r = act(shequ2, id, "{\"action\":\"publish\"}");
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	/* the detail tells each account what it may do */
	r = apif(&S, "GET", shequ, NULL, "/api/v1/notices/%lld", (long long)id);
	assert_string_equal(jstr(r->json, "allowed_actions.0"), "publish");
	resp_free(r);
	r = act(shequ, id, "{\"action\":\"publish\"}");
	assert_status(r, 200);
	resp_free(r);
	r = apif(&S, "GET", jumin, NULL, "/api/v1/notices/%lld", (long long)id);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "allowed_actions")), 0);
	resp_free(r);
	/* published twice: no */
	r = act(shequ, id, "{\"action\":\"publish\"}");
	assert_error(r, 409, "invalid_transition", NULL);
	resp_free(r);
}

/* The exports: the rows of the list, for readers in scope and for the audience alike */
static void exports_follow_the_list(void **state)
{
	(void)state;
	const char *title = uniq("导出公告");
	int64_t id = draft(shequ, u_sl, title);
	struct resp *r = act(shequ, id, "{\"action\":\"publish\"}");
	assert_status(r, 200);
	resp_free(r);
	const char *who[] = {admin, shequ, shequ2, jiedao, wangge, jumin, hehuoren};
	for (size_t k = 0; k < sizeof who / sizeof *who; k++) {
		int64_t total = total_count(&S, who[k], "/api/v1/notices", "");
		json_t *rows = xlsx_get(&S, who[k], "/api/v1/notices/export.xlsx");
		assert_int_equal((int64_t)json_array_size(rows) - 1, total);
		json_decref(rows);
	}
	json_t *rows = xlsx_get(&S, jumin, F("/api/v1/notices/export.xlsx?q=%s", title));
	assert_int_equal(json_array_size(rows), 2);
	json_t *h = json_array_get(rows, 0), *row = json_array_get(rows, 1);
	assert_string_equal(jstr(h, "B"), "标题");
	assert_string_equal(jstr(row, "B"), title);
	assert_string_equal(jstr(row, "C"), "沙柳北路社区"); /* 发布范围: the unit's name */
	assert_string_equal(jstr(row, "E"), "活动");
	assert_string_equal(jstr(row, "G"), "已发布");
	assert_true(strncmp(jstr(row, "H"), "date:4", 6) == 0);
	json_decref(rows);
	/* another community's resident is not its audience */
	r = apif(&S, "GET", shequ2, NULL, "/api/v1/notices/export.csv?q=%s", title);
	assert_status(r, 200);
	assert_false(contains(r->body, title));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/notices/export.csv?status=nonsense", admin, NULL, NULL);
	assert_error(r, 400, "validation_failed", "status");
	resp_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(create_and_validate),
	    cmocka_unit_test(exports_follow_the_list),
	    cmocka_unit_test(publish_reaches_the_subtree),
	    cmocka_unit_test(district_notice),
	    cmocka_unit_test(lifecycle_rules),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
