/* t20-units.c - the unit tree: /api/v1/units, /api/v1/units/{id}, /api/v1/units/{id}/tree.
 * One server with the demo district for the whole group; each test creates what it
 * changes under names and codes of its own. */
#include "harness.h"
#include <stdio.h>
#include <stdlib.h>

static struct srv S;
static struct fixture fx;

enum { ADMIN, JIEDAO, LUSHAN, SHEQU, SHEQU2, WANGGE, HEHUOREN, WUYE, TIAOJIE, JUMIN, NUSERS };
static const char *const usernames[NUSERS] = {"admin",  "jiedao",   "lushan", "shequ",   "shequ2",
                                              "wangge", "hehuoren", "wuye",   "tiaojie", "jumin"};
static const char *tok[NUSERS];

/* demo unit ids, looked up by name */
static int64_t u_district, u_dongxin, u_lushan, u_tiechang, u_shaliu, u_fengqi, u_shaliu_beili,
    u_fengqi_xiaoqu, u_qinglin, u_haohong, u_shaliu_grid1;

static int setup(void **state)
{
	(void)state;
	if (fixture_start(&fx, &S, NULL))
		return -1;
	for (int i = 0; i < NUSERS; i++)
		tok[i] = fx_token(&fx, usernames[i]);
	u_district = fx.u_district;
	u_dongxin = fx.u_dongxin;
	u_lushan = fx.u_lushan;
	u_tiechang = fx.u_tiechang;
	u_shaliu = fx.u_shaliu;
	u_fengqi = fx.u_fengqi;
	u_shaliu_beili = fx.u_shaliu_beili;
	u_fengqi_xiaoqu = fx.u_fengqi_xiaoqu;
	u_qinglin = fx.u_qinglin;
	u_haohong = fx.u_haohong;
	u_shaliu_grid1 = fx.u_grid1;
	if (!u_district || !u_dongxin || !u_lushan || !u_tiechang || !u_shaliu || !u_fengqi ||
	    !u_shaliu_beili || !u_fengqi_xiaoqu || !u_qinglin || !u_haohong || !u_shaliu_grid1) {
		fprintf(stderr, "demo units not found\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	int rc = fixture_stop(&fx);
	assert_int_equal(rc, 0);
	return 0;
}

/* ---- helpers ---- */

#define create_unit(token, body) post_id(&S, (token), "/api/v1/units", (body))
#define total_of(token, query) total_count(&S, (token), "/api/v1/units", (query))

static char *unit_path(int64_t id)
{
	struct resp *r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld", (long long)id);
	assert_status(r, 200);
	char *p = strdup(jstr(r->json, "path"));
	resp_free(r);
	return p;
}

/* asserts that every item's path starts with prefix */
static void all_under(json_t *items, const char *prefix)
{
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		if (strncmp(jstr(it, "path"), prefix, strlen(prefix)) != 0)
			print_error("unit %lld (%s) is not under %s\n", (long long)jint(it, "id"),
			            jstr(it, "path"), prefix);
		assert_int_equal(strncmp(jstr(it, "path"), prefix, strlen(prefix)), 0);
	}
}

/* ---- tests ---- */

static void units_unauthenticated(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/units", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = apif(&S, "GET", NULL, NULL, "/api/v1/units/%lld", (long long)u_shaliu);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = apif(&S, "GET", NULL, NULL, "/api/v1/units/%lld/tree", (long long)u_shaliu);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(
	    &S, "POST", "/api/v1/units", NULL,
	    F("{\"kind\":\"grid\",\"name\":\"匿名网格\",\"parent_id\":%lld}", (long long)u_shaliu),
	    NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = apif(&S, "PATCH", NULL, "{\"sort\":1}", "/api/v1/units/%lld", (long long)u_shaliu);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	/* a token that was never issued */
	r = api(&S, "GET", "/api/v1/units", "gzs_not-a-real-token", NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
}

static void units_list_and_paging(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/units?count=true", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	json_t *items = jpath(r->json, "items");
	assert_true(json_is_array(items));
	assert_true(json_is_integer(jpath(r->json, "total")));
	int64_t total = jint(r->json, "total");
	assert_true(total >= 59);                     /* the demo district */
	assert_int_equal(json_array_size(items), 50); /* the default limit */
	assert_true(json_is_string(jpath(r->json, "next_cursor")));
	json_t *first = json_array_get(items, 0);
	assert_string_equal(jstr(first, "name"), "河东区");
	assert_string_equal(jstr(first, "kind"), "district");
	assert_string_equal(jstr(first, "code"), "120102");
	assert_true(json_is_null(jpath(first, "parent_id")));
	assert_string_equal(jstr(first, "path"), F("/%lld/", (long long)jint(first, "id")));
	assert_true(json_is_integer(jpath(first, "version")));
	resp_free(r);

	/* without count there is no total */
	r = api(&S, "GET", "/api/v1/units?limit=5", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	assert_null(jpath(r->json, "total"));
	assert_int_equal(json_array_size(jpath(r->json, "items")), 5);
	resp_free(r);

	/* walk all pages of 7: every unit once, ids ascending, the last page has no cursor */
	char cursor[128] = "";
	int64_t seen = 0, last = 0;
	int pages = 0;
	for (;;) {
		r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?limit=7%s%s",
		         cursor[0] ? "&cursor=" : "", cursor[0] ? Q(cursor) : "");
		assert_status(r, 200);
		json_t *it;
		size_t i;
		json_t *page = jpath(r->json, "items");
		assert_true(json_array_size(page) <= 7);
		json_array_foreach(page, i, it)
		{
			assert_true(jint(it, "id") > last);
			last = jint(it, "id");
			seen++;
		}
		pages++;
		json_t *nc = jpath(r->json, "next_cursor");
		if (json_is_null(nc)) {
			resp_free(r);
			break;
		}
		assert_true(json_is_string(nc));
		assert_int_equal(json_array_size(page), 7);
		snprintf(cursor, sizeof cursor, "%s", json_string_value(nc));
		resp_free(r);
		assert_true(pages < 1000);
	}
	assert_int_equal(seen, total);

	/* limit=500 returns everything at once */
	r = api(&S, "GET", "/api/v1/units?limit=500", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal((int64_t)json_array_size(jpath(r->json, "items")), total);
	assert_true(json_is_null(jpath(r->json, "next_cursor")));
	resp_free(r);

	/* bad list parameters */
	static const char *const bad[][2] = {
	    {"limit=0", "limit"},          {"limit=501", "limit"},
	    {"limit=-1", "limit"},         {"limit=abc", "limit"},
	    {"limit=", "limit"},           {"cursor=garbage", "cursor"},
	    {"count=maybe", "count"},      {"parent_id=abc", "parent_id"},
	    {"kind=castle", "kind"},       {"within=abc", "within"},
	    {"within=99999999", "within"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?%s", bad[i][0]);
		assert_error(r, 400, "validation_failed", bad[i][1]);
		resp_free(r);
	}
}

static void units_list_unknown_param(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/units?colour=red", tok[ADMIN], NULL, NULL);
	assert_error(r, 400, "unknown_field", "colour");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/units?limit=5&bogus=1", tok[ADMIN], NULL, NULL);
	assert_error(r, 400, "unknown_field", "bogus");
	resp_free(r);
	/* name is matched through q, it is not a filter */
	r = api(&S, "GET", "/api/v1/units?name=x", tok[ADMIN], NULL, NULL);
	assert_error(r, 400, "unknown_field", "name");
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld?verbose=1", (long long)u_shaliu);
	assert_error(r, 400, "unknown_field", "verbose");
	resp_free(r);
}

static void units_tree_unknown_param(void **state)
{
	(void)state;
	struct resp *r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld/tree?depth=2",
	                      (long long)u_shaliu);
	assert_error(r, 400, "unknown_field", "depth");
	resp_free(r);
}

static void units_filter_parent_kind_code(void **state)
{
	(void)state;
	/* the 15 communities of 东新街道 */
	struct resp *r = apif(&S, "GET", tok[ADMIN], NULL,
	                      "/api/v1/units?parent_id=%lld&kind=community&count=true&limit=500",
	                      (long long)u_dongxin);
	assert_status(r, 200);
	json_t *items = jpath(r->json, "items");
	assert_int_equal(jint(r->json, "total"), 15);
	assert_int_equal(json_array_size(items), 15);
	assert_true(has_id(items, u_shaliu));
	assert_true(has_id(items, u_fengqi));
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		assert_int_equal(jint(it, "parent_id"), u_dongxin);
		assert_string_equal(jstr(it, "kind"), "community");
	}
	resp_free(r);

	/* the subdistricts */
	r = api(&S, "GET", "/api/v1/units?kind=subdistrict&limit=500", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	items = jpath(r->json, "items");
	assert_true(has_id(items, u_dongxin));
	assert_true(has_id(items, u_lushan));
	assert_true(has_id(items, u_tiechang));
	json_array_foreach(items, i, it) assert_string_equal(jstr(it, "kind"), "subdistrict");
	resp_free(r);

	/* a comma list of kinds */
	r = api(&S, "GET", "/api/v1/units?kind=compound,building&limit=500", tok[ADMIN], NULL,
	        NULL);
	assert_status(r, 200);
	items = jpath(r->json, "items");
	assert_true(has_id(items, u_qinglin));
	assert_true(has_id(items, u_shaliu_beili));
	bool building = false;
	json_array_foreach(items, i, it)
	{
		const char *k = jstr(it, "kind");
		assert_true(strcmp(k, "compound") == 0 || strcmp(k, "building") == 0);
		building |= strcmp(k, "building") == 0;
	}
	assert_true(building);
	resp_free(r);

	/* a kind list with one unknown kind */
	r = api(&S, "GET", "/api/v1/units?kind=compound,castle", tok[ADMIN], NULL, NULL);
	assert_error(r, 400, "validation_failed", "kind");
	resp_free(r);

	/* by code */
	r = api(&S, "GET", "/api/v1/units?code=120102&count=true", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "total"), 1);
	assert_int_equal(jint(r->json, "items.0.id"), u_district);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/units?code=no-such-code", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	assert_true(json_is_null(jpath(r->json, "next_cursor")));
	resp_free(r);

	/* parent and kind together: the grids of 沙柳北路社区 */
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?parent_id=%lld&kind=grid",
	         (long long)u_shaliu);
	assert_status(r, 200);
	items = jpath(r->json, "items");
	assert_true(json_array_size(items) >= 2);
	assert_true(has_id(items, u_shaliu_grid1));
	json_array_foreach(items, i, it) assert_string_equal(jstr(it, "kind"), "grid");
	resp_free(r);
}

static void units_filter_within(void **state)
{
	(void)state;
	char *lp = unit_path(u_lushan);
	struct resp *r =
	    apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?within=%lld&limit=500&count=true",
	         (long long)u_lushan);
	assert_status(r, 200);
	json_t *items = jpath(r->json, "items");
	assert_true(has_id(items, u_lushan)); /* the subtree includes its root */
	assert_true(has_id(items, u_qinglin));
	assert_true(has_id(items, u_haohong));
	assert_false(has_id(items, u_shaliu));
	assert_false(has_id(items, u_district));
	all_under(items, lp);
	assert_int_equal((int64_t)json_array_size(items), jint(r->json, "total"));
	resp_free(r);

	/* within and kind */
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?within=%lld&kind=compound&limit=500",
	         (long long)u_lushan);
	assert_status(r, 200);
	items = jpath(r->json, "items");
	assert_true(has_id(items, u_qinglin));
	assert_false(has_id(items, u_lushan));
	all_under(items, lp);
	resp_free(r);

	/* within a leaf: the leaf alone */
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?within=%lld",
	         (long long)u_shaliu_grid1);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 1);
	assert_int_equal(jint(r->json, "items.0.id"), u_shaliu_grid1);
	resp_free(r);
	free(lp);
}

static void units_filter_q(void **state)
{
	(void)state;
	struct resp *r =
	    apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?q=%s&limit=500", Q("沙柳"));
	assert_status(r, 200);
	json_t *items = jpath(r->json, "items");
	assert_true(has_id(items, u_shaliu));
	assert_true(has_id(items, u_shaliu_beili));
	assert_true(has_id(items, unit_id(&S, tok[ADMIN], "沙柳南路社区")));
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) assert_non_null(strstr(jstr(it, "name"), "沙柳"));
	resp_free(r);

	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?q=%s&kind=building", Q("清霖园"));
	assert_status(r, 200);
	items = jpath(r->json, "items");
	assert_int_equal(json_array_size(items), 2);
	json_array_foreach(items, i, it) assert_string_equal(jstr(it, "kind"), "building");
	resp_free(r);

	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?q=%s", Q("不存在的地方"));
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);

	/* % and _ are literal characters, not patterns */
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?q=%s", Q("%"));
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);
}

static void units_get(void **state)
{
	(void)state;
	struct resp *r =
	    apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld", (long long)u_shaliu);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "id"), u_shaliu);
	assert_int_equal(jint(r->json, "parent_id"), u_dongxin);
	assert_string_equal(jstr(r->json, "kind"), "community");
	assert_string_equal(jstr(r->json, "name"), "沙柳北路社区");
	assert_string_equal(jstr(r->json, "code"), "120102001001");
	assert_string_equal(jstr(r->json, "path"), F("/%lld/%lld/%lld/", (long long)u_district,
	                                             (long long)u_dongxin, (long long)u_shaliu));
	assert_non_null(jpath(r->json, "lat"));
	assert_non_null(jpath(r->json, "lng"));
	assert_non_null(jpath(r->json, "address"));
	assert_true(json_is_integer(jpath(r->json, "sort")));
	assert_true(json_is_integer(jpath(r->json, "version")));
	assert_non_null(resp_header(r, "ETag"));
	assert_string_equal(resp_header(r, "ETag"),
	                    F("\"%lld\"", (long long)jint(r->json, "version")));
	resp_free(r);

	r = api(&S, "GET", "/api/v1/units/99999999", tok[ADMIN], NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/units/abc", tok[ADMIN], NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/units/0", tok[ADMIN], NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/units/-3", tok[ADMIN], NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/unitz", tok[ADMIN], NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
}

/* checks that each node's children are ordered by (sort, id) and link to it */
static void check_tree(json_t *node, int depth)
{
	assert_true(depth < 20);
	json_t *children = jpath(node, "children");
	assert_true(json_is_array(children));
	size_t i;
	json_t *c;
	int64_t psort = INT64_MIN, pid = 0;
	json_array_foreach(children, i, c)
	{
		assert_int_equal(jint(c, "parent_id"), jint(node, "id"));
		assert_int_equal(
		    strncmp(jstr(c, "path"), jstr(node, "path"), strlen(jstr(node, "path"))), 0);
		int64_t s = jint(c, "sort"), id = jint(c, "id");
		assert_true(s > psort || (s == psort && id > pid));
		psort = s;
		pid = id;
		check_tree(c, depth + 1);
	}
}

static json_t *child_named(json_t *node, const char *name)
{
	size_t i;
	json_t *c;
	json_array_foreach(jpath(node, "children"), i,
	                   c) if (strcmp(jstr(c, "name"), name) == 0) return c;
	return NULL;
}

static void units_tree(void **state)
{
	(void)state;
	/* the demo community: compounds with buildings, grids */
	struct resp *r =
	    apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld/tree", (long long)u_shaliu);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "id"), u_shaliu);
	assert_string_equal(jstr(r->json, "name"), "沙柳北路社区");
	check_tree(r->json, 0);
	json_t *beili = child_named(r->json, "沙柳北里");
	assert_non_null(beili);
	assert_string_equal(jstr(beili, "kind"), "compound");
	assert_non_null(child_named(beili, "沙柳北里1号楼"));
	assert_non_null(child_named(beili, "沙柳北里5号楼"));
	assert_non_null(child_named(r->json, "沙柳北路社区第一网格"));
	assert_non_null(child_named(r->json, "沙柳园"));
	resp_free(r);

	/* the whole district: the three subdistricts, everything reachable */
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld/tree", (long long)u_district);
	assert_status(r, 200);
	check_tree(r->json, 0);
	assert_non_null(child_named(r->json, "东新街道"));
	assert_non_null(child_named(r->json, "鲁山道街道"));
	assert_non_null(child_named(r->json, "天津铁厂街道"));
	json_t *ls = child_named(r->json, "鲁山道街道");
	assert_non_null(child_named(child_named(ls, "鲁山道社区"), "清霖园"));
	assert_non_null(child_named(child_named(ls, "华越社区"), "皓鸿园"));
	resp_free(r);

	/* siblings ordered by sort, then id */
	int64_t com = create_unit(
	    tok[ADMIN], F("{\"kind\":\"community\",\"name\":\"排序测试社区\",\"parent_id\":%lld}",
	                  (long long)u_tiechang));
	int64_t a = create_unit(
	    tok[ADMIN], F("{\"kind\":\"grid\",\"name\":\"排序A\",\"parent_id\":%lld,\"sort\":5}",
	                  (long long)com));
	int64_t b = create_unit(
	    tok[ADMIN],
	    F("{\"kind\":\"compound\",\"name\":\"排序B\",\"parent_id\":%lld,\"sort\":1}",
	      (long long)com));
	int64_t c = create_unit(
	    tok[ADMIN], F("{\"kind\":\"grid\",\"name\":\"排序C\",\"parent_id\":%lld,\"sort\":1}",
	                  (long long)com));
	int64_t d = create_unit(
	    tok[ADMIN],
	    F("{\"kind\":\"compound\",\"name\":\"排序D\",\"parent_id\":%lld,\"sort\":-3}",
	      (long long)com));
	int64_t e = create_unit(
	    tok[ADMIN],
	    F("{\"kind\":\"building\",\"name\":\"排序E楼\",\"parent_id\":%lld,\"sort\":9}",
	      (long long)b));
	int64_t f = create_unit(
	    tok[ADMIN],
	    F("{\"kind\":\"building\",\"name\":\"排序F楼\",\"parent_id\":%lld,\"sort\":0}",
	      (long long)b));
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld/tree", (long long)com);
	assert_status(r, 200);
	check_tree(r->json, 0);
	json_t *ch = jpath(r->json, "children");
	assert_int_equal(json_array_size(ch), 4);
	assert_int_equal(jint(ch, "0.id"), d);
	assert_int_equal(jint(ch, "1.id"), b);
	assert_int_equal(jint(ch, "2.id"), c);
	assert_int_equal(jint(ch, "3.id"), a);
	assert_int_equal(json_array_size(jpath(ch, "1.children")), 2);
	assert_int_equal(jint(ch, "1.children.0.id"), f);
	assert_int_equal(jint(ch, "1.children.1.id"), e);
	assert_int_equal(json_array_size(jpath(ch, "0.children")), 0);
	assert_string_equal(jstr(ch, "1.children.0.kind"), "building");
	resp_free(r);

	/* changing sort reorders */
	r = apif(&S, "PATCH", tok[ADMIN], "{\"sort\":-10}", "/api/v1/units/%lld", (long long)a);
	assert_status(r, 200);
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld/tree", (long long)com);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "children.0.id"), a);
	check_tree(r->json, 0);
	resp_free(r);

	/* a leaf has no children */
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld/tree", (long long)e);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "id"), e);
	assert_true(json_is_array(jpath(r->json, "children")));
	assert_int_equal(json_array_size(jpath(r->json, "children")), 0);
	resp_free(r);

	r = api(&S, "GET", "/api/v1/units/99999999/tree", tok[ADMIN], NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/units/xyz/tree", tok[ADMIN], NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
}

static void units_create_ok(void **state)
{
	(void)state;
	const char *code = uniq("c");
	struct resp *r =
	    api(&S, "POST", "/api/v1/units", tok[ADMIN],
	        F("{\"kind\":\"community\",\"name\":\"新建测试社区\",\"parent_id\":%lld,"
	          "\"code\":\"%s\",\"address\":\"天津市河东区测试路1号\",\"lat\":39.12,"
	          "\"lng\":117.25,\"sort\":42}",
	          (long long)u_tiechang, code),
	        NULL);
	assert_status(r, 201);
	int64_t id = jint(r->json, "id");
	assert_true(id > 0);
	assert_int_equal(jint(r->json, "parent_id"), u_tiechang);
	assert_string_equal(jstr(r->json, "kind"), "community");
	assert_string_equal(jstr(r->json, "name"), "新建测试社区");
	assert_string_equal(jstr(r->json, "code"), code);
	assert_string_equal(jstr(r->json, "address"), "天津市河东区测试路1号");
	assert_true(json_number_value(jpath(r->json, "lat")) > 39.119 &&
	            json_number_value(jpath(r->json, "lat")) < 39.121);
	assert_true(json_number_value(jpath(r->json, "lng")) > 117.249 &&
	            json_number_value(jpath(r->json, "lng")) < 117.251);
	assert_int_equal(jint(r->json, "sort"), 42);
	assert_int_equal(jint(r->json, "version"), 1);
	char *tp = unit_path(u_tiechang);
	assert_string_equal(jstr(r->json, "path"), F("%s%lld/", tp, (long long)id));
	assert_non_null(resp_header(r, "Location"));
	assert_string_equal(resp_header(r, "Location"), F("/api/v1/units/%lld", (long long)id));
	assert_non_null(resp_header(r, "ETag"));
	assert_string_equal(resp_header(r, "ETag"), "\"1\"");
	resp_free(r);

	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld", (long long)id);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "name"), "新建测试社区");
	assert_string_equal(jstr(r->json, "path"), F("%s%lld/", tp, (long long)id));
	resp_free(r);

	/* minimal: no code, no coordinates */
	r = api(&S, "POST", "/api/v1/units", tok[ADMIN],
	        F("{\"kind\":\"grid\",\"name\":\"最小网格\",\"parent_id\":%lld}", (long long)id),
	        NULL);
	assert_status(r, 201);
	assert_true(json_is_null(jpath(r->json, "code")));
	assert_true(json_is_null(jpath(r->json, "lat")));
	assert_string_equal(jstr(r->json, "path"),
	                    F("%s%lld/%lld/", tp, (long long)id, (long long)jint(r->json, "id")));
	resp_free(r);

	/* the limits themselves are allowed: 100 characters, lat ±90, lng ±180, code of 32 */
	char *name100 = repeat("园", 100);
	r = api(
	    &S, "POST", "/api/v1/units", tok[ADMIN],
	    F("{\"kind\":\"compound\",\"name\":\"%s\",\"parent_id\":%lld,\"lat\":-90,\"lng\":180,"
	      "\"code\":\"%s\"}",
	      name100, (long long)id,
	      F("%.32s", F("%s%s", uniq("k"), "-000000000000000000000000000000"))),
	    NULL);
	assert_status(r, 201);
	assert_string_equal(jstr(r->json, "name"), name100);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/units", tok[ADMIN],
	        F("{\"kind\":\"compound\",\"name\":\"边界小区\",\"parent_id\":%lld,\"lat\":90,"
	          "\"lng\":-180}",
	          (long long)id),
	        NULL);
	assert_status(r, 201);
	resp_free(r);
	free(name100);
	free(tp);

	/* the new unit appears in the list and the tree */
	r = apif(&S, "GET", tok[ADMIN], NULL,
	         "/api/v1/units?parent_id=%lld&kind=community&limit=500", (long long)u_tiechang);
	assert_status(r, 200);
	assert_true(has_id(jpath(r->json, "items"), id));
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld/tree", (long long)u_tiechang);
	assert_status(r, 200);
	assert_non_null(child_named(r->json, "新建测试社区"));
	resp_free(r);
}

static void units_create_every_kind(void **state)
{
	(void)state;
	/* a second district, then each kind under its allowed parent */
	int64_t dist =
	    create_unit(tok[ADMIN], F("{\"kind\":\"district\",\"name\":\"测试区\",\"code\":\"%s\"}",
	                              uniq("d")));
	struct resp *r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld", (long long)dist);
	assert_status(r, 200);
	assert_true(json_is_null(jpath(r->json, "parent_id")));
	assert_string_equal(jstr(r->json, "path"), F("/%lld/", (long long)dist));
	resp_free(r);
	int64_t sub = create_unit(
	    tok[ADMIN], F("{\"kind\":\"subdistrict\",\"name\":\"测试街道\",\"parent_id\":%lld}",
	                  (long long)dist));
	int64_t com = create_unit(
	    tok[ADMIN],
	    F("{\"kind\":\"community\",\"name\":\"测试社区\",\"parent_id\":%lld}", (long long)sub));
	int64_t cpd = create_unit(
	    tok[ADMIN],
	    F("{\"kind\":\"compound\",\"name\":\"测试小区\",\"parent_id\":%lld}", (long long)com));
	int64_t bld = create_unit(
	    tok[ADMIN],
	    F("{\"kind\":\"building\",\"name\":\"测试1号楼\",\"parent_id\":%lld}", (long long)cpd));
	int64_t g1 = create_unit(
	    tok[ADMIN],
	    F("{\"kind\":\"grid\",\"name\":\"社区网格\",\"parent_id\":%lld}", (long long)com));
	int64_t g2 = create_unit(
	    tok[ADMIN],
	    F("{\"kind\":\"grid\",\"name\":\"小区网格\",\"parent_id\":%lld}", (long long)cpd));
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld", (long long)bld);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "path"),
	                    F("/%lld/%lld/%lld/%lld/%lld/", (long long)dist, (long long)sub,
	                      (long long)com, (long long)cpd, (long long)bld));
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld", (long long)g2);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "path"),
	                    F("/%lld/%lld/%lld/%lld/%lld/", (long long)dist, (long long)sub,
	                      (long long)com, (long long)cpd, (long long)g2));
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?within=%lld&count=true",
	         (long long)dist);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "total"), 7);
	assert_true(has_id(jpath(r->json, "items"), g1));
	resp_free(r);
	/* the demo district is unaffected */
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?within=%lld&limit=500",
	         (long long)u_district);
	assert_status(r, 200);
	assert_false(has_id(jpath(r->json, "items"), dist));
	assert_false(has_id(jpath(r->json, "items"), sub));
	resp_free(r);
}

static void units_create_nesting(void **state)
{
	(void)state;
	/* {kind, parent} pairs that violate the nesting */
	struct {
		const char *kind;
		int64_t parent;
	} bad[] = {
	    {"subdistrict", u_dongxin},
	    {"subdistrict", u_shaliu},
	    {"community", u_district},
	    {"community", u_shaliu},
	    {"community", u_qinglin},
	    {"compound", u_dongxin},
	    {"compound", u_district},
	    {"compound", u_shaliu_beili},
	    {"building", u_shaliu},
	    {"building", u_dongxin},
	    {"building", u_shaliu_grid1},
	    {"grid", u_dongxin},
	    {"grid", u_district},
	    {"grid", u_shaliu_grid1},
	    {"building", unit_id(&S, tok[ADMIN], "沙柳北里1号楼")},
	    {"grid", unit_id(&S, tok[ADMIN], "沙柳北里1号楼")},
	    {"compound", u_shaliu_grid1},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_true(bad[i].parent > 0);
		struct resp *r = api(&S, "POST", "/api/v1/units", tok[ADMIN],
		                     F("{\"kind\":\"%s\",\"name\":\"错位%zu\",\"parent_id\":%lld}",
		                       bad[i].kind, i, (long long)bad[i].parent),
		                     NULL);
		if (r->status != 400)
			print_error("kind %s under unit %lld\n", bad[i].kind,
			            (long long)bad[i].parent);
		assert_error(r, 400, "validation_failed", "parent_id");
		resp_free(r);
	}
	/* a district has no parent */
	struct resp *r = api(&S, "POST", "/api/v1/units", tok[ADMIN],
	                     F("{\"kind\":\"district\",\"name\":\"子区\",\"parent_id\":%lld}",
	                       (long long)u_district),
	                     NULL);
	assert_error(r, 400, "validation_failed", "parent_id");
	resp_free(r);
	/* every other kind needs one */
	static const char *const kinds[] = {"subdistrict", "community", "compound", "building",
	                                    "grid"};
	for (size_t i = 0; i < 5; i++) {
		r = api(&S, "POST", "/api/v1/units", tok[ADMIN],
		        F("{\"kind\":\"%s\",\"name\":\"无父单位\"}", kinds[i]), NULL);
		assert_error(r, 400, "validation_failed", "parent_id");
		resp_free(r);
	}
	/* a parent that does not exist */
	r = api(&S, "POST", "/api/v1/units", tok[ADMIN],
	        "{\"kind\":\"grid\",\"name\":\"孤儿网格\",\"parent_id\":99999999}", NULL);
	assert_error(r, 400, "validation_failed", "parent_id");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/units", tok[ADMIN],
	        "{\"kind\":\"grid\",\"name\":\"孤儿网格\",\"parent_id\":0}", NULL);
	assert_error(r, 400, "validation_failed", "parent_id");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/units", tok[ADMIN],
	        "{\"kind\":\"grid\",\"name\":\"孤儿网格\",\"parent_id\":-4}", NULL);
	assert_error(r, 400, "validation_failed", "parent_id");
	resp_free(r);
	/* nothing was created */
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?q=%s", Q("错位"));
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);
}

static void units_create_validation(void **state)
{
	(void)state;
	long long p = (long long)u_shaliu;
	char *name101 = repeat("字", 101);
	struct {
		const char *body, *code, *field;
	} cases[] = {
	    {F("{\"kind\":\"grid\",\"parent_id\":%lld}", p), "validation_failed", "name"},
	    {F("{\"kind\":\"grid\",\"name\":\"\",\"parent_id\":%lld}", p), "validation_failed",
	     "name"},
	    {F("{\"kind\":\"grid\",\"name\":null,\"parent_id\":%lld}", p), "validation_failed",
	     "name"},
	    {F("{\"kind\":\"grid\",\"name\":12,\"parent_id\":%lld}", p), "validation_failed",
	     "name"},
	    {F("{\"kind\":\"grid\",\"name\":\"%s\",\"parent_id\":%lld}", name101, p),
	     "validation_failed", "name"},
	    {F("{\"name\":\"无类\",\"parent_id\":%lld}", p), "validation_failed", "kind"},
	    {F("{\"kind\":\"castle\",\"name\":\"城堡\",\"parent_id\":%lld}", p),
	     "validation_failed", "kind"},
	    {F("{\"kind\":\"Grid\",\"name\":\"大写\",\"parent_id\":%lld}", p), "validation_failed",
	     "kind"},
	    {F("{\"kind\":7,\"name\":\"数字\",\"parent_id\":%lld}", p), "validation_failed",
	     "kind"},
	    {F("{\"kind\":\"grid\",\"name\":\"字符串父\",\"parent_id\":\"%lld\"}", p),
	     "validation_failed", "parent_id"},
	    {F("{\"kind\":\"grid\",\"name\":\"小数父\",\"parent_id\":3.5}"), "validation_failed",
	     "parent_id"},
	    {F("{\"kind\":\"grid\",\"name\":\"长码\",\"parent_id\":%lld,\"code\":\"%s\"}", p,
	       "123456789012345678901234567890123"),
	     "validation_failed", "code"},
	    {F("{\"kind\":\"grid\",\"name\":\"空码\",\"parent_id\":%lld,\"code\":\"\"}", p),
	     "validation_failed", "code"},
	    {F("{\"kind\":\"grid\",\"name\":\"数码\",\"parent_id\":%lld,\"code\":12}", p),
	     "validation_failed", "code"},
	    {F("{\"kind\":\"grid\",\"name\":\"北极\",\"parent_id\":%lld,\"lat\":90.5}", p),
	     "validation_failed", "lat"},
	    {F("{\"kind\":\"grid\",\"name\":\"南极\",\"parent_id\":%lld,\"lat\":-91}", p),
	     "validation_failed", "lat"},
	    {F("{\"kind\":\"grid\",\"name\":\"串纬\",\"parent_id\":%lld,\"lat\":\"39.1\"}", p),
	     "validation_failed", "lat"},
	    {F("{\"kind\":\"grid\",\"name\":\"东极\",\"parent_id\":%lld,\"lng\":180.01}", p),
	     "validation_failed", "lng"},
	    {F("{\"kind\":\"grid\",\"name\":\"西极\",\"parent_id\":%lld,\"lng\":-181}", p),
	     "validation_failed", "lng"},
	    {F("{\"kind\":\"grid\",\"name\":\"布经\",\"parent_id\":%lld,\"lng\":true}", p),
	     "validation_failed", "lng"},
	    {F("{\"kind\":\"grid\",\"name\":\"串序\",\"parent_id\":%lld,\"sort\":\"1\"}", p),
	     "validation_failed", "sort"},
	    {F("{\"kind\":\"grid\",\"name\":\"小数序\",\"parent_id\":%lld,\"sort\":1.5}", p),
	     "validation_failed", "sort"},
	    {F("{\"kind\":\"grid\",\"name\":\"设路径\",\"parent_id\":%lld,\"path\":\"/1/\"}", p),
	     "validation_failed", "path"},
	    {F("{\"kind\":\"grid\",\"name\":\"设编号\",\"parent_id\":%lld,\"id\":12345}", p),
	     "validation_failed", "id"},
	    {F("{\"kind\":\"grid\",\"name\":\"设版本\",\"parent_id\":%lld,\"version\":3}", p),
	     "validation_failed", "version"},
	    {F("{\"kind\":\"grid\",\"name\":\"未知\",\"parent_id\":%lld,\"colour\":\"red\"}", p),
	     "unknown_field", "colour"},
	    {F("{\"kind\":\"grid\",\"name\":\"未知\",\"parent_id\":%lld,\"Name\":\"x\"}", p),
	     "unknown_field", "Name"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct resp *r = api(&S, "POST", "/api/v1/units", tok[ADMIN], cases[i].body, NULL);
		if (r->status != 400 || strcmp(err_field(r), cases[i].field) != 0)
			print_error("case %zu: %.300s\n", i, cases[i].body);
		assert_error(r, 400, cases[i].code, cases[i].field);
		resp_free(r);
	}
	free(name101);

	/* malformed bodies */
	struct resp *r = api(&S, "POST", "/api/v1/units", tok[ADMIN], "{\"kind\":", NULL);
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/units", tok[ADMIN], "[1,2]", NULL);
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/units", tok[ADMIN], "\"grid\"", NULL);
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/units", tok[ADMIN], "", NULL);
	assert_status(r, 400);
	resp_free(r);
	/* invalid UTF-8 in a name */
	r = api(&S, "POST", "/api/v1/units", tok[ADMIN],
	        F("{\"kind\":\"grid\",\"name\":\"bad\xff\xfe\",\"parent_id\":%lld}", p), NULL);
	assert_status(r, 400);
	resp_free(r);
	/* a body that is not JSON */
	r = api(&S, "POST", "/api/v1/units", tok[ADMIN],
	        F("{\"kind\":\"grid\",\"name\":\"纯文本\",\"parent_id\":%lld}", p),
	        "Content-Type: text/plain");
	assert_error(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	/* nothing with these names was created */
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?parent_id=%lld&count=true&q=%s", p,
	         Q("纯文本"));
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "total"), 0);
	resp_free(r);
}

static void units_create_conflict(void **state)
{
	(void)state;
	/* a demo unit's code */
	struct resp *r = api(&S, "POST", "/api/v1/units", tok[ADMIN],
	                     F("{\"kind\":\"grid\",\"name\":\"重码网格\",\"parent_id\":%lld,"
	                       "\"code\":\"120102001001\"}",
	                       (long long)u_shaliu),
	                     NULL);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);
	/* a code created here, twice */
	const char *code = uniq("dup");
	char codecopy[96];
	snprintf(codecopy, sizeof codecopy, "%s", code);
	create_unit(tok[ADMIN],
	            F("{\"kind\":\"grid\",\"name\":\"码一\",\"parent_id\":%lld,\"code\":\"%s\"}",
	              (long long)u_shaliu, codecopy));
	r = api(&S, "POST", "/api/v1/units", tok[ADMIN],
	        F("{\"kind\":\"compound\",\"name\":\"码二\",\"parent_id\":%lld,\"code\":\"%s\"}",
	          (long long)u_fengqi, codecopy),
	        NULL);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?code=%s&count=true", codecopy);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "total"), 1);
	resp_free(r);
	/* units without a code do not conflict with one another */
	create_unit(tok[ADMIN], F("{\"kind\":\"grid\",\"name\":\"无码一\",\"parent_id\":%lld}",
	                          (long long)u_shaliu));
	create_unit(tok[ADMIN], F("{\"kind\":\"grid\",\"name\":\"无码二\",\"parent_id\":%lld}",
	                          (long long)u_shaliu));
	/* the same name is allowed */
	create_unit(tok[ADMIN], F("{\"kind\":\"grid\",\"name\":\"同名网格\",\"parent_id\":%lld}",
	                          (long long)u_shaliu));
	create_unit(tok[ADMIN], F("{\"kind\":\"grid\",\"name\":\"同名网格\",\"parent_id\":%lld}",
	                          (long long)u_shaliu));
}

static void units_patch(void **state)
{
	(void)state;
	char code[96];
	snprintf(code, sizeof code, "%s", uniq("p"));
	int64_t id = create_unit(
	    tok[ADMIN],
	    F("{\"kind\":\"compound\",\"name\":\"改名前小区\",\"parent_id\":%lld,\"code\":\"%s\"}",
	      (long long)u_shaliu, code));
	char *path = unit_path(id);

	struct resp *r = apif(&S, "PATCH", tok[ADMIN],
	                      "{\"name\":\"改名后小区\",\"address\":\"新地址\",\"sort\":7,\"lat\":"
	                      "39.5,\"lng\":117.5}",
	                      "/api/v1/units/%lld", (long long)id);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "name"), "改名后小区");
	assert_string_equal(jstr(r->json, "address"), "新地址");
	assert_int_equal(jint(r->json, "sort"), 7);
	assert_int_equal(jint(r->json, "version"), 2);
	assert_string_equal(jstr(r->json, "code"), code);       /* untouched */
	assert_string_equal(jstr(r->json, "kind"), "compound"); /* untouched */
	assert_int_equal(jint(r->json, "parent_id"), u_shaliu); /* untouched */
	assert_string_equal(jstr(r->json, "path"), path);
	assert_non_null(resp_header(r, "ETag"));
	assert_string_equal(resp_header(r, "ETag"), "\"2\"");
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld", (long long)id);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "name"), "改名后小区");
	assert_int_equal(jint(r->json, "version"), 2);
	assert_string_equal(resp_header(r, "ETag"), "\"2\"");
	resp_free(r);

	/* If-Match: the current version passes, a stale one is refused */
	r = apihf(&S, "PATCH", tok[ADMIN], "{\"sort\":8}", "If-Match: \"2\"", "/api/v1/units/%lld",
	          (long long)id);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "version"), 3);
	resp_free(r);
	r = apihf(&S, "PATCH", tok[ADMIN], "{\"sort\":9}", "If-Match: \"2\"", "/api/v1/units/%lld",
	          (long long)id);
	assert_error(r, 412, "precondition_failed", NULL);
	resp_free(r);
	r = apihf(&S, "PATCH", tok[ADMIN], "{\"sort\":9}", "If-Match: \"1\"", "/api/v1/units/%lld",
	          (long long)id);
	assert_error(r, 412, "precondition_failed", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld", (long long)id);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "sort"), 8); /* the stale writes changed nothing */
	assert_int_equal(jint(r->json, "version"), 3);
	resp_free(r);

	/* fields that cannot change */
	struct {
		const char *body, *code, *field;
	} bad[] = {
	    {F("{\"parent_id\":%lld}", (long long)u_fengqi), "validation_failed", "parent_id"},
	    {"{\"kind\":\"grid\"}", "validation_failed", "kind"},
	    {"{\"path\":\"/1/\"}", "validation_failed", "path"},
	    {"{\"id\":1}", "validation_failed", "id"},
	    {"{\"version\":10}", "validation_failed", "version"},
	    {"{\"name\":null}", "validation_failed", "name"},
	    {"{\"name\":\"\"}", "validation_failed", "name"},
	    {"{\"lat\":100}", "validation_failed", "lat"},
	    {"{\"lng\":-200}", "validation_failed", "lng"},
	    {"{\"sort\":\"x\"}", "validation_failed", "sort"},
	    {"{\"code\":\"123456789012345678901234567890123\"}", "validation_failed", "code"},
	    {"{\"shape\":\"round\"}", "unknown_field", "shape"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = apif(&S, "PATCH", tok[ADMIN], bad[i].body, "/api/v1/units/%lld", (long long)id);
		if (r->status != 400)
			print_error("case %zu: %s\n", i, bad[i].body);
		assert_error(r, 400, bad[i].code, bad[i].field);
		resp_free(r);
	}
	/* nothing to change */
	r = apif(&S, "PATCH", tok[ADMIN], "{}", "/api/v1/units/%lld", (long long)id);
	assert_error(r, 400, "validation_failed", NULL);
	resp_free(r);
	r = apif(&S, "PATCH", tok[ADMIN], "not json", "/api/v1/units/%lld", (long long)id);
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);

	/* a code taken by another unit */
	r = apif(&S, "PATCH", tok[ADMIN], "{\"code\":\"120102001003\"}", "/api/v1/units/%lld",
	         (long long)id);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);

	/* null clears the optional fields */
	r = apif(&S, "PATCH", tok[ADMIN],
	         "{\"code\":null,\"address\":null,\"lat\":null,\"lng\":null}", "/api/v1/units/%lld",
	         (long long)id);
	assert_status(r, 200);
	assert_true(json_is_null(jpath(r->json, "code")));
	assert_true(json_is_null(jpath(r->json, "address")));
	assert_true(json_is_null(jpath(r->json, "lat")));
	assert_int_equal(jint(r->json, "version"), 4);
	resp_free(r);
	/* the code is free again */
	create_unit(
	    tok[ADMIN],
	    F("{\"kind\":\"grid\",\"name\":\"接码网格\",\"parent_id\":%lld,\"code\":\"%s\"}",
	      (long long)u_shaliu, code));

	/* unknown unit */
	r = api(&S, "PATCH", "/api/v1/units/99999999", tok[ADMIN], "{\"sort\":1}", NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "PATCH", "/api/v1/units/abc", tok[ADMIN], "{\"sort\":1}", NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	free(path);
}

static void units_idempotency(void **state)
{
	(void)state;
	const char *key = uniq("idem-units-");
	char hdr[160];
	snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", key);
	const char *body =
	    F("{\"kind\":\"grid\",\"name\":\"幂等网格\",\"parent_id\":%lld}", (long long)u_fengqi);
	int64_t before = total_of(tok[ADMIN], F("parent_id=%lld", (long long)u_fengqi));
	struct resp *r1 = api(&S, "POST", "/api/v1/units", tok[ADMIN], body, hdr);
	assert_status(r1, 201);
	assert_null(resp_header(r1, "Idempotent-Replayed"));
	struct resp *r2 = api(&S, "POST", "/api/v1/units", tok[ADMIN], body, hdr);
	assert_status(r2, 201);
	assert_non_null(resp_header(r2, "Idempotent-Replayed"));
	assert_string_equal(resp_header(r2, "Idempotent-Replayed"), "true");
	assert_int_equal(jint(r2->json, "id"), jint(r1->json, "id"));
	assert_non_null(resp_header(r2, "Location"));
	assert_string_equal(resp_header(r2, "Location"),
	                    F("/api/v1/units/%lld", (long long)jint(r1->json, "id")));
	resp_free(r1);
	resp_free(r2);
	assert_int_equal(total_of(tok[ADMIN], F("parent_id=%lld", (long long)u_fengqi)),
	                 before + 1);
	/* another key creates another */
	r1 = api(&S, "POST", "/api/v1/units", tok[ADMIN], body, F("Idempotency-Key: %s-2", key));
	assert_status(r1, 201);
	assert_null(resp_header(r1, "Idempotent-Replayed"));
	resp_free(r1);
	assert_int_equal(total_of(tok[ADMIN], F("parent_id=%lld", (long long)u_fengqi)),
	                 before + 2);
}

static void units_scope_community_read(void **state)
{
	(void)state;
	const char *t = tok[SHEQU];
	char *own = unit_path(u_shaliu);
	/* own community and below */
	struct resp *r = apif(&S, "GET", t, NULL, "/api/v1/units/%lld", (long long)u_shaliu);
	assert_status(r, 200);
	resp_free(r);
	r = apif(&S, "GET", t, NULL, "/api/v1/units/%lld", (long long)u_shaliu_beili);
	assert_status(r, 200);
	resp_free(r);
	/* another community, its compound, the subdistrict, the district, another subdistrict */
	int64_t hidden[] = {u_fengqi, u_fengqi_xiaoqu, u_dongxin, u_district, u_lushan, u_qinglin};
	for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
		r = apif(&S, "GET", t, NULL, "/api/v1/units/%lld", (long long)hidden[i]);
		assert_error(r, 404, "not_found", NULL);
		resp_free(r);
		r = apif(&S, "GET", t, NULL, "/api/v1/units/%lld/tree", (long long)hidden[i]);
		assert_error(r, 404, "not_found", NULL);
		resp_free(r);
	}
	/* the list holds only the community's subtree */
	r = api(&S, "GET", "/api/v1/units?limit=500&count=true", t, NULL, NULL);
	assert_status(r, 200);
	json_t *items = jpath(r->json, "items");
	all_under(items, own);
	assert_true(has_id(items, u_shaliu));
	assert_true(has_id(items, u_shaliu_beili));
	assert_false(has_id(items, u_fengqi));
	assert_int_equal((int64_t)json_array_size(items), jint(r->json, "total"));
	int64_t n = jint(r->json, "total");
	resp_free(r);
	assert_int_equal(n, total_of(tok[ADMIN], F("within=%lld", (long long)u_shaliu)));
	/* within another community, the subdistrict, the district: only what is in scope */
	r = apif(&S, "GET", t, NULL, "/api/v1/units?within=%lld", (long long)u_fengqi);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);
	r = apif(&S, "GET", t, NULL, "/api/v1/units?within=%lld&limit=500", (long long)u_district);
	assert_status(r, 200);
	all_under(jpath(r->json, "items"), own);
	assert_int_equal((int64_t)json_array_size(jpath(r->json, "items")), n);
	resp_free(r);
	/* filters do not widen the scope */
	r = apif(&S, "GET", t, NULL, "/api/v1/units?parent_id=%lld&limit=500",
	         (long long)u_dongxin);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 1);
	assert_int_equal(jint(r->json, "items.0.id"), u_shaliu);
	resp_free(r);
	r = apif(&S, "GET", t, NULL, "/api/v1/units?q=%s", Q("凤岐"));
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/units?code=120102001003", t, NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/units?kind=subdistrict,district", t, NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);
	/* the tree of the own community */
	r = apif(&S, "GET", t, NULL, "/api/v1/units/%lld/tree", (long long)u_shaliu);
	assert_status(r, 200);
	assert_non_null(child_named(r->json, "沙柳北里"));
	resp_free(r);
	/* the other community staff sees the other way round */
	r = apif(&S, "GET", tok[SHEQU2], NULL, "/api/v1/units/%lld", (long long)u_fengqi_xiaoqu);
	assert_status(r, 200);
	resp_free(r);
	r = apif(&S, "GET", tok[SHEQU2], NULL, "/api/v1/units/%lld", (long long)u_shaliu);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	free(own);
}

static void units_scope_community_write(void **state)
{
	(void)state;
	const char *t = tok[SHEQU];
	/* inside the own community */
	int64_t g =
	    create_unit(t, F("{\"kind\":\"grid\",\"name\":\"社区自建网格\",\"parent_id\":%lld}",
	                     (long long)u_shaliu));
	int64_t b = create_unit(
	    t, F("{\"kind\":\"building\",\"name\":\"沙柳北里9号楼\",\"parent_id\":%lld}",
	         (long long)u_shaliu_beili));
	struct resp *r = apif(&S, "PATCH", t, "{\"name\":\"社区自建网格（改）\"}",
	                      "/api/v1/units/%lld", (long long)g);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "name"), "社区自建网格（改）");
	resp_free(r);
	r = apif(&S, "PATCH", t, "{\"sort\":3}", "/api/v1/units/%lld", (long long)b);
	assert_status(r, 200);
	resp_free(r);
	/* under another community, its compound, the subdistrict */
	r = api(
	    &S, "POST", "/api/v1/units", t,
	    F("{\"kind\":\"grid\",\"name\":\"越界网格\",\"parent_id\":%lld}", (long long)u_fengqi),
	    NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/units", t,
	        F("{\"kind\":\"building\",\"name\":\"越界楼\",\"parent_id\":%lld}",
	          (long long)u_fengqi_xiaoqu),
	        NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/units", t,
	        F("{\"kind\":\"community\",\"name\":\"越界社区\",\"parent_id\":%lld}",
	          (long long)u_dongxin),
	        NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	/* changing a unit outside the scope: not visible */
	r = apif(&S, "PATCH", t, "{\"sort\":1}", "/api/v1/units/%lld", (long long)u_fengqi);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = apif(&S, "PATCH", t, "{\"name\":\"改别人的\"}", "/api/v1/units/%lld",
	         (long long)u_fengqi_xiaoqu);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units/%lld", (long long)u_fengqi_xiaoqu);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "name"), "凤岐里小区");
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?q=%s", Q("越界"));
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);
}

/* a district has no parent: for community or subdistrict staff it lies outside the scope */
static void units_scope_district(void **state)
{
	(void)state;
	int users[] = {SHEQU, JIEDAO};
	for (size_t i = 0; i < 2; i++) {
		struct resp *r = api(&S, "POST", "/api/v1/units", tok[users[i]],
		                     "{\"kind\":\"district\",\"name\":\"越界区\"}", NULL);
		if (r->status != 403)
			print_error("user %s\n", usernames[users[i]]);
		assert_error(r, 403, "forbidden", NULL);
		resp_free(r);
	}
	struct resp *r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?q=%s", Q("越界区"));
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);
}

static void units_scope_subdistrict(void **state)
{
	(void)state;
	char *dx = unit_path(u_dongxin), *ls = unit_path(u_lushan);
	/* jiedao: 东新街道 and every community in it */
	struct resp *r =
	    apif(&S, "GET", tok[JIEDAO], NULL, "/api/v1/units/%lld", (long long)u_fengqi_xiaoqu);
	assert_status(r, 200);
	resp_free(r);
	r = apif(&S, "GET", tok[JIEDAO], NULL, "/api/v1/units/%lld", (long long)u_qinglin);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[JIEDAO], NULL, "/api/v1/units/%lld", (long long)u_lushan);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[JIEDAO], NULL, "/api/v1/units/%lld/tree", (long long)u_district);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[JIEDAO], NULL, "/api/v1/units/%lld/tree", (long long)u_dongxin);
	assert_status(r, 200);
	assert_non_null(child_named(r->json, "沙柳北路社区"));
	assert_non_null(child_named(r->json, "凤岐里社区"));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/units?limit=500&count=true", tok[JIEDAO], NULL, NULL);
	assert_status(r, 200);
	all_under(jpath(r->json, "items"), dx);
	assert_true(has_id(jpath(r->json, "items"), u_fengqi));
	assert_true(has_id(jpath(r->json, "items"), u_shaliu));
	assert_int_equal(jint(r->json, "total"),
	                 total_of(tok[ADMIN], F("within=%lld", (long long)u_dongxin)));
	resp_free(r);
	/* lushan: 鲁山道街道 */
	r = apif(&S, "GET", tok[LUSHAN], NULL, "/api/v1/units/%lld", (long long)u_haohong);
	assert_status(r, 200);
	resp_free(r);
	r = apif(&S, "GET", tok[LUSHAN], NULL, "/api/v1/units/%lld", (long long)u_shaliu);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[LUSHAN], NULL, "/api/v1/units?within=%lld&limit=500",
	         (long long)u_district);
	assert_status(r, 200);
	all_under(jpath(r->json, "items"), ls);
	assert_true(has_id(jpath(r->json, "items"), u_qinglin));
	resp_free(r);
	/* writes within the own subdistrict, not outside it */
	int64_t huayue = unit_id(&S, tok[ADMIN], "华越社区");
	int64_t c = create_unit(
	    tok[LUSHAN], F("{\"kind\":\"compound\",\"name\":\"华越新苑\",\"parent_id\":%lld}",
	                   (long long)huayue));
	create_unit(tok[LUSHAN],
	            F("{\"kind\":\"community\",\"name\":\"鲁山道新社区\",\"parent_id\":%lld}",
	              (long long)u_lushan));
	r = apif(&S, "PATCH", tok[LUSHAN], "{\"address\":\"华越道1号\"}", "/api/v1/units/%lld",
	         (long long)c);
	assert_status(r, 200);
	resp_free(r);
	r = apif(&S, "PATCH", tok[LUSHAN], "{\"sort\":2}", "/api/v1/units/%lld",
	         (long long)u_haohong);
	assert_status(r, 200);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/units", tok[LUSHAN],
	        F("{\"kind\":\"compound\",\"name\":\"越街道小区\",\"parent_id\":%lld}",
	          (long long)u_shaliu),
	        NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/units", tok[JIEDAO],
	        F("{\"kind\":\"community\",\"name\":\"越街道社区\",\"parent_id\":%lld}",
	          (long long)u_lushan),
	        NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/units", tok[JIEDAO],
	        F("{\"kind\":\"subdistrict\",\"name\":\"越级街道\",\"parent_id\":%lld}",
	          (long long)u_district),
	        NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = apif(&S, "PATCH", tok[JIEDAO], "{\"sort\":1}", "/api/v1/units/%lld",
	         (long long)u_qinglin);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	free(dx);
	free(ls);
}

static void units_roles(void **state)
{
	(void)state;
	/* residents cannot read units at all */
	struct resp *r = api(&S, "GET", "/api/v1/units", tok[JUMIN], NULL, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[JUMIN], NULL, "/api/v1/units/%lld", (long long)u_shaliu);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[JUMIN], NULL, "/api/v1/units/%lld/tree", (long long)u_shaliu);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(
	    &S, "POST", "/api/v1/units", tok[JUMIN],
	    F("{\"kind\":\"grid\",\"name\":\"居民网格\",\"parent_id\":%lld}", (long long)u_shaliu),
	    NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	/* the other roles read but do not write */
	int readers[] = {WANGGE, HEHUOREN, WUYE, TIAOJIE};
	for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
		const char *t = tok[readers[i]];
		r = api(&S, "GET", "/api/v1/units", t, NULL, NULL);
		assert_status(r, 200);
		assert_true(json_is_array(jpath(r->json, "items")));
		resp_free(r);
		r = api(&S, "POST", "/api/v1/units", t,
		        F("{\"kind\":\"grid\",\"name\":\"无权网格\",\"parent_id\":%lld}",
		          (long long)u_shaliu),
		        NULL);
		if (r->status != 403)
			print_error("user %s\n", usernames[readers[i]]);
		assert_error(r, 403, "forbidden", NULL);
		resp_free(r);
	}
	/* the grid worker sees the own grid, and cannot change it */
	r = apif(&S, "GET", tok[WANGGE], NULL, "/api/v1/units/%lld", (long long)u_shaliu_grid1);
	assert_status(r, 200);
	resp_free(r);
	r = apif(&S, "PATCH", tok[WANGGE], "{\"sort\":1}", "/api/v1/units/%lld",
	         (long long)u_shaliu_grid1);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[WANGGE], NULL, "/api/v1/units/%lld", (long long)u_fengqi);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = apif(&S, "PATCH", tok[HEHUOREN], "{\"sort\":1}", "/api/v1/units/%lld",
	         (long long)u_dongxin);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?q=%s", Q("无权网格"));
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);
}

static void units_method_not_allowed(void **state)
{
	(void)state;
	struct {
		const char *method, *path, *allow[2];
	} cases[] = {
	    {"DELETE", F("/api/v1/units/%lld", (long long)u_shaliu), {"GET", "PATCH"}},
	    {"PUT", F("/api/v1/units/%lld", (long long)u_shaliu), {"GET", "PATCH"}},
	    {"POST", F("/api/v1/units/%lld", (long long)u_shaliu), {"GET", "PATCH"}},
	    {"DELETE", "/api/v1/units", {"GET", "POST"}},
	    {"PATCH", "/api/v1/units", {"GET", "POST"}},
	    {"POST", F("/api/v1/units/%lld/tree", (long long)u_shaliu), {"GET", NULL}},
	    {"DELETE", F("/api/v1/units/%lld/tree", (long long)u_shaliu), {"GET", NULL}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct resp *r = api(&S, cases[i].method, cases[i].path, tok[ADMIN],
		                     strcmp(cases[i].method, "DELETE") ? "{}" : NULL, NULL);
		assert_error(r, 405, "method_not_allowed", NULL);
		const char *allow = resp_header(r, "Allow");
		assert_non_null(allow);
		for (int k = 0; k < 2; k++)
			if (cases[i].allow[k])
				assert_non_null(strstr(allow, cases[i].allow[k]));
		assert_null(strstr(allow, cases[i].method));
		resp_free(r);
	}
}

/* The export: the list's rows (scope, within), the parent by name, kinds in Chinese */
static void units_export(void **state)
{
	(void)state;
	char within[48];
	snprintf(within, sizeof within, "within=%lld", (long long)u_shaliu);
	const char *q[] = {"", within, "kind=community"};
	const int who[] = {ADMIN, JIEDAO, SHEQU, HEHUOREN};
	for (size_t k = 0; k < sizeof who / sizeof *who; k++)
		for (size_t i = 0; i < sizeof q / sizeof *q; i++) {
			int64_t total = total_count(&S, tok[who[k]], "/api/v1/units", q[i]);
			json_t *rows =
			    xlsx_get(&S, tok[who[k]], F("/api/v1/units/export.xlsx?%s", q[i]));
			assert_int_equal((int64_t)json_array_size(rows) - 1, total);
			json_decref(rows);
		}
	json_t *rows = xlsx_get(
	    &S, tok[ADMIN],
	    F("/api/v1/units/export.xlsx?within=%lld&kind=community", (long long)u_dongxin));
	assert_true(json_array_size(rows) > 2);
	assert_string_equal(jstr(json_array_get(rows, 0), "B"), "上级单位");
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
	{
		if (!i)
			continue;
		assert_string_equal(jstr(row, "B"), "东新街道");
		assert_string_equal(jstr(row, "C"), "社区");
	}
	json_decref(rows);
	struct resp *r =
	    api(&S, "GET", "/api/v1/units/export.csv?within=x", tok[ADMIN], NULL, NULL);
	assert_error(r, 400, "validation_failed", "within");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/units/export.csv", tok[JUMIN], NULL, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(units_unauthenticated),
	    cmocka_unit_test(units_list_and_paging),
	    cmocka_unit_test(units_export),
	    cmocka_unit_test(units_list_unknown_param),
	    cmocka_unit_test(units_filter_parent_kind_code),
	    cmocka_unit_test(units_filter_within),
	    cmocka_unit_test(units_filter_q),
	    cmocka_unit_test(units_get),
	    cmocka_unit_test(units_tree),
	    cmocka_unit_test(units_tree_unknown_param),
	    cmocka_unit_test(units_create_ok),
	    cmocka_unit_test(units_create_every_kind),
	    cmocka_unit_test(units_create_nesting),
	    cmocka_unit_test(units_create_validation),
	    cmocka_unit_test(units_create_conflict),
	    cmocka_unit_test(units_patch),
	    cmocka_unit_test(units_idempotency),
	    cmocka_unit_test(units_scope_community_read),
	    cmocka_unit_test(units_scope_community_write),
	    cmocka_unit_test(units_scope_district),
	    cmocka_unit_test(units_scope_subdistrict),
	    cmocka_unit_test(units_roles),
	    cmocka_unit_test(units_method_not_allowed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
