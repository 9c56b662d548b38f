/* t40-orgs.c - organisations: /api/v1/orgs and /api/v1/orgs/{id}.  One server with
 * the demo district; organisations created here have names of their own. */
#include "harness.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct srv S;
static struct fixture fx;

enum { ADMIN, JIEDAO, LUSHAN, SHEQU, SHEQU2, WANGGE, HEHUOREN, WUYE, TIAOJIE, JUMIN, NUSERS };
static const char *const usernames[NUSERS] = {"admin",  "jiedao",   "lushan", "shequ",   "shequ2",
                                              "wangge", "hehuoren", "wuye",   "tiaojie", "jumin"};
static const char *tok[NUSERS];

static int64_t u_district, u_dongxin, u_lushan, u_shaliu, u_fengqi, u_shaliu_beili, u_fengqi_xiaoqu,
    u_qinglin;
static int64_t o_haoan, o_hongrun, o_dongxin_wuye, o_bank_hedong, o_leling, o_songshan_school,
    o_jinshitu;

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
	u_shaliu = fx.u_shaliu;
	u_fengqi = fx.u_fengqi;
	u_shaliu_beili = fx.u_shaliu_beili;
	u_fengqi_xiaoqu = fx.u_fengqi_xiaoqu;
	u_qinglin = fx.u_qinglin;
	o_haoan = fx.o_haoan;
	o_hongrun = fx.o_hongrun;
	o_dongxin_wuye = fx.o_dongxin_wuye;
	o_bank_hedong = fx.o_bank_hedong;
	o_leling = fx.o_leling;
	o_songshan_school = fx.o_songshan_school;
	o_jinshitu = fx.o_jinshitu;
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

/* GB 32100-2015 check character of the first 17 characters */
static const char CS[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static char check_char(const char *c17)
{
	int sum = 0, w = 1;
	for (int i = 0; i < 17; i++) {
		const char *p = strchr(CS, c17[i]);
		sum += (int)(p - CS) * w;
		w = w * 3 % 31;
	}
	return CS[(31 - sum % 31) % 31];
}

/* a fresh valid credit code (static rotating buffers) */
static const char *new_code(void)
{
	static char bufs[8][20];
	static unsigned n;
	char *b = bufs[n % 8];
	snprintf(b, 18, "91120102MA%07u", (unsigned)(((unsigned)getpid() * 1000u + n) % 10000000u));
	n++;
	b[17] = check_char(b);
	b[18] = 0;
	return b;
}

/* the same code with a wrong check character */
static const char *bad_check(const char *code)
{
	static char b[20];
	snprintf(b, sizeof b, "%s", code);
	b[17] = b[17] == '0' ? '1' : '0';
	return b;
}

#define create_org(token, body) post_id(&S, (token), "/api/v1/orgs", (body))
#define org_total(token, query) total_count(&S, (token), "/api/v1/orgs", (query))

/* "138****5678": 3 visible, 4 stars, 4 visible */
static bool masked_phone(const char *v)
{
	return strlen(v) == 11 && strncmp(v + 3, "****", 4) == 0;
}

/* ---- tests ---- */

static void orgs_unauthenticated(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/orgs", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = apif(&S, "GET", NULL, NULL, "/api/v1/orgs/%lld", (long long)o_haoan);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/orgs", NULL, "{\"kind\":\"shop\",\"name\":\"匿名商店\"}",
	        NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = apif(&S, "PATCH", NULL, "{\"description\":\"x\"}", "/api/v1/orgs/%lld",
	         (long long)o_haoan);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/orgs", "gzs_forged", NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
}

static void orgs_read_everyone(void **state)
{
	(void)state;
	int64_t total = org_total(tok[ADMIN], "");
	assert_true(total >= 19);
	/* every role but residents sees every organisation, wherever registered */
	int readers[] = {JIEDAO, LUSHAN, SHEQU, SHEQU2, WANGGE, HEHUOREN, WUYE, TIAOJIE};
	for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
		const char *t = tok[readers[i]];
		if (org_total(t, "") != total)
			print_error("user %s\n", usernames[readers[i]]);
		assert_int_equal(org_total(t, ""), total);
		int64_t ids[] = {o_haoan, o_leling, o_bank_hedong, o_jinshitu};
		for (size_t k = 0; k < 4; k++) {
			struct resp *r =
			    apif(&S, "GET", t, NULL, "/api/v1/orgs/%lld", (long long)ids[k]);
			assert_status(r, 200);
			assert_int_equal(jint(r->json, "id"), ids[k]);
			resp_free(r);
		}
	}
	/* residents do not */
	struct resp *r = api(&S, "GET", "/api/v1/orgs", tok[JUMIN], NULL, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[JUMIN], NULL, "/api/v1/orgs/%lld", (long long)o_leling);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
}

/* Every reader gets the name of an organisation's unit, in the list (one lookup per
 * page) and the single row, though most cannot read that unit: a partner reads no
 * unit at all, a community's staff not the subdistrict above it. */
static void orgs_unit_names(void **state)
{
	(void)state;
	int readers[] = {ADMIN, SHEQU, WANGGE, HEHUOREN, WUYE, TIAOJIE};
	for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
		const char *t = tok[readers[i]];
		struct resp *r = apif(&S, "GET", t, NULL, "/api/v1/orgs/%lld", (long long)o_haoan);
		assert_status(r, 200);
		assert_string_equal(jstr(r->json, "unit_name"), "鲁山道街道");
		resp_free(r);
		r = api(&S, "GET", "/api/v1/orgs?limit=200", t, NULL, NULL);
		assert_status(r, 200);
		json_t *items = jpath(r->json, "items"), *o;
		size_t k;
		int named = 0;
		json_array_foreach(items, k, o)
		{
			json_t *uid = json_object_get(o, "unit_id");
			json_t *name = json_object_get(o, "unit_name");
			if (json_is_integer(uid)) {
				assert_true(json_is_string(name) && json_string_length(name) > 0);
				named++;
			} else {
				assert_true(json_is_null(name));
			}
			if (json_integer_value(json_object_get(o, "id")) == o_haoan)
				assert_string_equal(json_string_value(name), "鲁山道街道");
		}
		assert_true(named >= 19);
		resp_free(r);
	}
	/* the unit of a partner's own organisation, which it cannot read as a unit */
	struct resp *r = api(&S, "GET", "/api/v1/units", tok[HEHUOREN], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);
	/* the export names the unit once, in 所属单位 (no unit_name column) */
	r = api(&S, "GET", "/api/v1/orgs/export.csv", tok[HEHUOREN], NULL, NULL);
	assert_status(r, 200);
	assert_non_null(strstr(r->body, "所属单位"));
	assert_null(strstr(r->body, "unit_name"));
	resp_free(r);
}

/* an organisation's account sees its organisation by name in its profile (auth/me) */
static void me_names_the_org(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/auth/me", tok[WUYE], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(jint(jpath(r->json, "org"), "id"), jint(r->json, "org_id"));
	assert_true(strlen(jstr(jpath(r->json, "org"), "name")) > 0);
	assert_string_equal(jstr(jpath(r->json, "org"), "kind"), "property_company");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", tok[SHEQU], NULL, NULL);
	assert_status(r, 200);
	assert_true(json_is_null(jpath(r->json, "org")));
	resp_free(r);
}

static void orgs_list_and_paging(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/orgs?count=true", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	int64_t total = jint(r->json, "total");
	json_t *items = jpath(r->json, "items");
	assert_true(json_is_array(items));
	assert_int_equal((int64_t)json_array_size(items), total < 50 ? total : 50);
	/* personal information is masked in lists */
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		json_t *p = jpath(it, "contact_phone");
		assert_non_null(p);
		if (json_is_string(p)) {
			if (!masked_phone(json_string_value(p)))
				print_error("unmasked phone %s\n", json_string_value(p));
			assert_true(masked_phone(json_string_value(p)));
		}
	}
	resp_free(r);

	/* pages of 4: every organisation once */
	char cursor[128] = "";
	int64_t seen = 0;
	json_t *ids = json_array();
	for (int pages = 0;; pages++) {
		assert_true(pages < 1000);
		r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs?limit=4%s%s",
		         cursor[0] ? "&cursor=" : "", cursor[0] ? Q(cursor) : "");
		assert_status(r, 200);
		json_t *page = jpath(r->json, "items");
		assert_true(json_array_size(page) <= 4);
		json_array_foreach(page, i, it)
		{
			assert_false(has_id(ids, jint(it, "id")));
			json_array_append_new(ids,
			                      json_pack("{s:I}", "id", (json_int_t)jint(it, "id")));
			seen++;
		}
		json_t *nc = jpath(r->json, "next_cursor");
		if (json_is_null(nc)) {
			resp_free(r);
			break;
		}
		assert_true(json_is_string(nc));
		snprintf(cursor, sizeof cursor, "%s", json_string_value(nc));
		resp_free(r);
	}
	json_decref(ids);
	assert_int_equal(seen, total);

	static const char *const bad[][2] = {
	    {"limit=0", "limit"},          {"limit=501", "limit"},     {"limit=x", "limit"},
	    {"cursor=zzz", "cursor"},      {"count=yes", "count"},     {"kind=castle", "kind"},
	    {"kind=bank,castle", "kind"},  {"unit_id=abc", "unit_id"}, {"within=abc", "within"},
	    {"within=99999999", "within"},
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs?%s", bad[k][0]);
		assert_error(r, 400, "validation_failed", bad[k][1]);
		resp_free(r);
	}
	r = api(&S, "GET", "/api/v1/orgs?colour=red", tok[ADMIN], NULL, NULL);
	assert_error(r, 400, "unknown_field", "colour");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/orgs?contact_phone=13812345678", tok[ADMIN], NULL, NULL);
	assert_error(r, 400, "unknown_field", "contact_phone");
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs/%lld?x=1", (long long)o_haoan);
	assert_error(r, 400, "unknown_field", "x");
	resp_free(r);
}

static void orgs_filters(void **state)
{
	(void)state;
	/* kind */
	struct resp *r = api(&S, "GET", "/api/v1/orgs?kind=bank&limit=500", tok[SHEQU], NULL, NULL);
	assert_status(r, 200);
	json_t *items = jpath(r->json, "items");
	assert_true(json_array_size(items) >= 3);
	assert_true(has_id(items, o_bank_hedong));
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) assert_string_equal(jstr(it, "kind"), "bank");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/orgs?kind=property_company,school&limit=500", tok[ADMIN], NULL,
	        NULL);
	assert_status(r, 200);
	items = jpath(r->json, "items");
	assert_true(has_id(items, o_haoan));
	assert_true(has_id(items, o_songshan_school));
	assert_false(has_id(items, o_bank_hedong));
	json_array_foreach(items, i, it)
	    assert_true(strcmp(jstr(it, "kind"), "property_company") == 0 ||
	                strcmp(jstr(it, "kind"), "school") == 0);
	resp_free(r);

	/* credit_code */
	r = api(&S, "GET", "/api/v1/orgs?credit_code=911201027964108563&count=true", tok[ADMIN],
	        NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "total"), 1);
	assert_int_equal(jint(r->json, "items.0.id"), o_haoan);
	assert_string_equal(jstr(r->json, "items.0.credit_code"), "911201027964108563");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/orgs?credit_code=91350100M000100Y43&count=true", tok[ADMIN],
	        NULL, NULL);
	assert_status(r, 200);
	resp_free(r);

	/* unit_id: exactly that unit */
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs?unit_id=%lld&limit=500",
	         (long long)u_lushan);
	assert_status(r, 200);
	items = jpath(r->json, "items");
	assert_true(has_id(items, o_haoan));
	assert_true(has_id(items, o_hongrun));
	json_array_foreach(items, i, it) assert_int_equal(jint(it, "unit_id"), u_lushan);
	resp_free(r);

	/* within: the unit's subtree */
	struct resp *u = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/units?within=%lld&limit=500",
	                      (long long)u_dongxin);
	assert_status(u, 200);
	json_t *sub = jpath(u->json, "items");
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs?within=%lld&limit=500",
	         (long long)u_dongxin);
	assert_status(r, 200);
	items = jpath(r->json, "items");
	assert_true(has_id(items, o_leling));          /* 凤岐里社区 */
	assert_true(has_id(items, o_songshan_school)); /* 沙柳北路社区 */
	assert_true(has_id(items, o_dongxin_wuye));    /* 东新街道 itself */
	assert_false(has_id(items, o_haoan));
	json_array_foreach(items, i, it) assert_true(has_id(sub, jint(it, "unit_id")));
	resp_free(r);
	resp_free(u);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs?within=%lld&kind=shop&limit=500",
	         (long long)u_fengqi);
	assert_status(r, 200);
	items = jpath(r->json, "items");
	assert_true(json_array_size(items) >= 2); /* 叮当药房, 津工超市 */
	json_array_foreach(items, i, it)
	{
		assert_string_equal(jstr(it, "kind"), "shop");
		assert_int_equal(jint(it, "unit_id"), u_fengqi);
	}
	resp_free(r);

	/* q: Chinese substrings of the name */
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs?q=%s&limit=500", Q("物业"));
	assert_status(r, 200);
	items = jpath(r->json, "items");
	assert_true(json_array_size(items) >= 4);
	assert_true(has_id(items, o_haoan));
	assert_false(has_id(items, o_bank_hedong));
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs?q=%s&limit=500", Q("中国银行"));
	assert_status(r, 200);
	items = jpath(r->json, "items");
	assert_true(json_array_size(items) >= 3);
	json_array_foreach(items, i, it) assert_non_null(strstr(jstr(it, "name"), "中国银行"));
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs?q=%s", Q("根本没有这家"));
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);
}

static void orgs_get(void **state)
{
	(void)state;
	struct resp *r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs/%lld", (long long)o_haoan);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "id"), o_haoan);
	assert_string_equal(jstr(r->json, "kind"), "property_company");
	assert_string_equal(jstr(r->json, "name"), "天津皓安物业管理有限公司");
	assert_string_equal(jstr(r->json, "credit_code"), "911201027964108563");
	assert_int_equal(jint(r->json, "unit_id"), u_lushan);
	assert_non_null(jpath(r->json, "contact_name"));
	assert_non_null(jpath(r->json, "contact_phone"));
	if (json_is_string(jpath(r->json, "contact_phone")))
		assert_true(masked_phone(jstr(r->json, "contact_phone")));
	assert_non_null(jpath(r->json, "address"));
	assert_non_null(jpath(r->json, "description"));
	assert_true(json_is_integer(jpath(r->json, "version")));
	assert_non_null(resp_header(r, "ETag"));
	assert_string_equal(resp_header(r, "ETag"),
	                    F("\"%lld\"", (long long)jint(r->json, "version")));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/orgs/99999999", tok[ADMIN], NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/orgs/abc", tok[ADMIN], NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/orgs/0", tok[SHEQU], NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
}

static void orgs_create_ok(void **state)
{
	(void)state;
	/* the example code from the standard; not used by the demo data */
	struct resp *r =
	    api(&S, "POST", "/api/v1/orgs", tok[ADMIN],
	        F("{\"kind\":\"school\",\"name\":\"河东区测试实验学校\",\"credit_code\":"
	          "\"91350100M000100Y43\","
	          "\"unit_id\":%lld,\"contact_name\":\"张老师\",\"contact_phone\":\"13812345678\","
	          "\"address\":\"天津市河东区测试道1号\",\"description\":\"测试用学校\"}",
	          (long long)u_dongxin),
	        NULL);
	assert_status(r, 201);
	int64_t id = jint(r->json, "id");
	assert_true(id > 0);
	assert_string_equal(jstr(r->json, "kind"), "school");
	assert_string_equal(jstr(r->json, "name"), "河东区测试实验学校");
	assert_string_equal(jstr(r->json, "credit_code"), "91350100M000100Y43");
	assert_int_equal(jint(r->json, "unit_id"), u_dongxin);
	assert_string_equal(jstr(r->json, "contact_name"), "张老师");
	assert_string_equal(jstr(r->json, "contact_phone"), "138****5678");
	assert_string_equal(jstr(r->json, "address"), "天津市河东区测试道1号");
	assert_string_equal(jstr(r->json, "description"), "测试用学校");
	assert_int_equal(jint(r->json, "version"), 1);
	assert_null(strstr(r->body, "13812345678"));
	assert_non_null(resp_header(r, "Location"));
	assert_string_equal(resp_header(r, "Location"), F("/api/v1/orgs/%lld", (long long)id));
	assert_string_equal(resp_header(r, "ETag"), "\"1\"");
	resp_free(r);

	/* masked when read back, by anyone */
	int readers[] = {ADMIN, JIEDAO, SHEQU, HEHUOREN};
	for (size_t i = 0; i < 4; i++) {
		r = apif(&S, "GET", tok[readers[i]], NULL, "/api/v1/orgs/%lld", (long long)id);
		assert_status(r, 200);
		assert_string_equal(jstr(r->json, "contact_phone"), "138****5678");
		assert_null(strstr(r->body, "13812345678"));
		resp_free(r);
	}
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs?q=%s", Q("河东区测试实验学校"));
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 1);
	assert_null(strstr(r->body, "13812345678"));
	assert_string_equal(jstr(r->json, "items.0.contact_phone"), "138****5678");
	resp_free(r);

	/* every kind */
	static const char *const kinds[] = {"partner",    "property_company",
	                                    "department", "enterprise",
	                                    "school",     "hospital",
	                                    "bank",       "shop",
	                                    "ngo",        "other"};
	for (size_t i = 0; i < 10; i++)
		create_org(tok[ADMIN],
		           F("{\"kind\":\"%s\",\"name\":\"各类组织-%s\"}", kinds[i], kinds[i]));

	/* minimal: optional fields are null; the admin has no unit */
	r = api(&S, "POST", "/api/v1/orgs", tok[ADMIN], "{\"kind\":\"ngo\",\"name\":\"最小组织\"}",
	        NULL);
	assert_status(r, 201);
	assert_true(json_is_null(jpath(r->json, "credit_code")));
	assert_true(json_is_null(jpath(r->json, "contact_phone")));
	assert_true(json_is_null(jpath(r->json, "unit_id")));
	resp_free(r);

	/* a 100-character name is allowed */
	char *n100 = repeat("名", 100);
	r = api(&S, "POST", "/api/v1/orgs", tok[ADMIN],
	        F("{\"kind\":\"other\",\"name\":\"%s\"}", n100), NULL);
	assert_status(r, 201);
	assert_string_equal(jstr(r->json, "name"), n100);
	resp_free(r);
	free(n100);
}

static void orgs_create_default_unit(void **state)
{
	(void)state;
	struct {
		int user;
		int64_t unit;
	} cases[] = {
	    {SHEQU, u_shaliu}, {SHEQU2, u_fengqi}, {JIEDAO, u_dongxin}, {LUSHAN, u_lushan}};
	for (size_t i = 0; i < 4; i++) {
		struct resp *r = api(
		    &S, "POST", "/api/v1/orgs", tok[cases[i].user],
		    F("{\"kind\":\"shop\",\"name\":\"默认单位商店-%s\"}", usernames[cases[i].user]),
		    NULL);
		assert_status(r, 201);
		assert_int_equal(jint(r->json, "unit_id"), cases[i].unit);
		resp_free(r);
	}
	/* an explicit unit within the scope */
	struct resp *r = api(&S, "POST", "/api/v1/orgs", tok[SHEQU],
	                     F("{\"kind\":\"shop\",\"name\":\"沙柳北里便利店\",\"unit_id\":%lld}",
	                       (long long)u_shaliu_beili),
	                     NULL);
	assert_status(r, 201);
	assert_int_equal(jint(r->json, "unit_id"), u_shaliu_beili);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/orgs", tok[LUSHAN],
	        F("{\"kind\":\"shop\",\"name\":\"清霖园便利店\",\"unit_id\":%lld}",
	          (long long)u_qinglin),
	        NULL);
	assert_status(r, 201);
	assert_int_equal(jint(r->json, "unit_id"), u_qinglin);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/orgs", tok[JIEDAO],
	        F("{\"kind\":\"shop\",\"name\":\"凤岐里小区便利店\",\"unit_id\":%lld}",
	          (long long)u_fengqi_xiaoqu),
	        NULL);
	assert_status(r, 201);
	assert_int_equal(jint(r->json, "unit_id"), u_fengqi_xiaoqu);
	resp_free(r);
}

static void orgs_create_validation(void **state)
{
	(void)state;
	char *n101 = repeat("名", 101);
	struct {
		const char *body, *code, *field;
	} cases[] = {
	    {"{\"name\":\"无类组织\"}", "validation_failed", "kind"},
	    {"{\"kind\":\"castle\",\"name\":\"城堡组织\"}", "validation_failed", "kind"},
	    {"{\"kind\":\"\",\"name\":\"空类组织\"}", "validation_failed", "kind"},
	    {"{\"kind\":null,\"name\":\"空类组织\"}", "validation_failed", "kind"},
	    {"{\"kind\":\"shop\"}", "validation_failed", "name"},
	    {"{\"kind\":\"shop\",\"name\":\"\"}", "validation_failed", "name"},
	    {"{\"kind\":\"shop\",\"name\":null}", "validation_failed", "name"},
	    {"{\"kind\":\"shop\",\"name\":[\"a\"]}", "validation_failed", "name"},
	    {F("{\"kind\":\"shop\",\"name\":\"%s\"}", n101), "validation_failed", "name"},
	    {"{\"kind\":\"shop\",\"name\":\"坏码1\",\"credit_code\":\"91350100M000100Y44\"}",
	     "validation_failed", "credit_code"},
	    {"{\"kind\":\"shop\",\"name\":\"坏码2\",\"credit_code\":\"911201027964108564\"}",
	     "validation_failed", "credit_code"},
	    {F("{\"kind\":\"shop\",\"name\":\"坏码3\",\"credit_code\":\"%s\"}",
	       bad_check(new_code())),
	     "validation_failed", "credit_code"},
	    {"{\"kind\":\"shop\",\"name\":\"短码\",\"credit_code\":\"91350100M000100Y4\"}",
	     "validation_failed", "credit_code"},
	    {"{\"kind\":\"shop\",\"name\":\"长码\",\"credit_code\":\"91350100M000100Y430\"}",
	     "validation_failed", "credit_code"},
	    {"{\"kind\":\"shop\",\"name\":\"空码\",\"credit_code\":\"\"}", "validation_failed",
	     "credit_code"},
	    {"{\"kind\":\"shop\",\"name\":\"I码\",\"credit_code\":\"91350100I000100Y43\"}",
	     "validation_failed", "credit_code"},
	    {"{\"kind\":\"shop\",\"name\":\"O码\",\"credit_code\":\"9135010O0000100Y43\"}",
	     "validation_failed", "credit_code"},
	    {"{\"kind\":\"shop\",\"name\":\"数码\",\"credit_code\":911201027964108563}",
	     "validation_failed", "credit_code"},
	    {"{\"kind\":\"shop\",\"name\":\"坏号1\",\"contact_phone\":\"abc\"}",
	     "validation_failed", "contact_phone"},
	    {"{\"kind\":\"shop\",\"name\":\"坏号2\",\"contact_phone\":\"123\"}",
	     "validation_failed", "contact_phone"},
	    {"{\"kind\":\"shop\",\"name\":\"坏号3\",\"contact_phone\":\"138-abcd-5678\"}",
	     "validation_failed", "contact_phone"},
	    {"{\"kind\":\"shop\",\"name\":\"坏号4\",\"contact_phone\":\"1380013800013800138000\"}",
	     "validation_failed", "contact_phone"},
	    {"{\"kind\":\"shop\",\"name\":\"坏号5\",\"contact_phone\":13812345678}",
	     "validation_failed", "contact_phone"},
	    {"{\"kind\":\"shop\",\"name\":\"坏单位1\",\"unit_id\":99999999}", "validation_failed",
	     "unit_id"},
	    {"{\"kind\":\"shop\",\"name\":\"坏单位2\",\"unit_id\":\"3\"}", "validation_failed",
	     "unit_id"},
	    {"{\"kind\":\"shop\",\"name\":\"坏单位3\",\"unit_id\":0}", "validation_failed",
	     "unit_id"},
	    {"{\"kind\":\"shop\",\"name\":\"设编号\",\"id\":5}", "validation_failed", "id"},
	    {"{\"kind\":\"shop\",\"name\":\"设版本\",\"version\":5}", "validation_failed",
	     "version"},
	    {"{\"kind\":\"shop\",\"name\":\"未知字段\",\"website\":\"x\"}", "unknown_field",
	     "website"},
	};
	int64_t before = org_total(tok[ADMIN], "");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct resp *r = api(&S, "POST", "/api/v1/orgs", tok[ADMIN], cases[i].body, NULL);
		if (r->status != 400 || strcmp(err_field(r), cases[i].field) != 0)
			print_error("case %zu: %.200s\n", i, cases[i].body);
		assert_error(r, 400, cases[i].code, cases[i].field);
		resp_free(r);
	}
	struct resp *r = api(&S, "POST", "/api/v1/orgs", tok[ADMIN], "{\"kind\":\"shop\",", NULL);
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/orgs", tok[ADMIN], "[]", NULL);
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/orgs", tok[ADMIN], "kind=shop&name=x",
	        "Content-Type: application/x-www-form-urlencoded");
	assert_error(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	assert_int_equal(org_total(tok[ADMIN], ""), before);
	free(n101);
}

static void orgs_credit_codes(void **state)
{
	(void)state;
	/* generated valid codes are accepted, each once */
	for (int i = 0; i < 5; i++) {
		char code[20];
		snprintf(code, sizeof code, "%s", new_code());
		struct resp *r = api(&S, "POST", "/api/v1/orgs", tok[ADMIN],
		                     F("{\"kind\":\"enterprise\",\"name\":\"信用代码企业%d-%s\","
		                       "\"credit_code\":\"%s\"}",
		                       i, code, code),
		                     NULL);
		assert_status(r, 201);
		assert_string_equal(jstr(r->json, "credit_code"), code);
		resp_free(r);
		/* every other check character is refused */
		for (size_t k = (size_t)i; k < sizeof CS - 1; k += 6) {
			if (CS[k] == code[17])
				continue;
			char bad[20];
			snprintf(bad, sizeof bad, "%.17s%c", code, CS[k]);
			r = api(&S, "POST", "/api/v1/orgs", tok[ADMIN],
			        F("{\"kind\":\"enterprise\",\"name\":\"错码企业-%s\",\"credit_"
			          "code\":\"%s\"}",
			          bad, bad),
			        NULL);
			assert_error(r, 400, "validation_failed", "credit_code");
			resp_free(r);
		}
		/* the same code again */
		r = api(
		    &S, "POST", "/api/v1/orgs", tok[ADMIN],
		    F("{\"kind\":\"enterprise\",\"name\":\"重码企业%d-%s\",\"credit_code\":\"%s\"}",
		      i, code, code),
		    NULL);
		assert_error(r, 409, "conflict", NULL);
		resp_free(r);
	}
	/* a demo organisation's code */
	struct resp *r = api(&S, "POST", "/api/v1/orgs", tok[ADMIN],
	                     "{\"kind\":\"property_company\",\"name\":\"冒名物业\",\"credit_code\":"
	                     "\"911201027964108563\"}",
	                     NULL);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);
	/* a demo organisation's name */
	r = api(&S, "POST", "/api/v1/orgs", tok[ADMIN],
	        "{\"kind\":\"property_company\",\"name\":\"天津皓安物业管理有限公司\"}", NULL);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs?q=%s&count=true", Q("冒名物业"));
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "total"), 0);
	resp_free(r);
}

static void orgs_phones(void **state)
{
	(void)state;
	/* a mobile number: the first 3 and the last 4 digits stay */
	struct resp *r =
	    api(&S, "POST", "/api/v1/orgs", tok[ADMIN],
	        "{\"kind\":\"shop\",\"name\":\"电话格式手机\",\"contact_phone\":\"13912345678\"}",
	        NULL);
	assert_status(r, 201);
	assert_string_equal(jstr(r->json, "contact_phone"), "139****5678");
	resp_free(r);
	/* other usual formats are accepted and masked too */
	static const char *const ok[] = {"022-23456789", "+86 139 1234 5678", "(022) 2345 6789",
	                                 "022 2345 6789"};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		r = api(&S, "POST", "/api/v1/orgs", tok[ADMIN],
		        F("{\"kind\":\"shop\",\"name\":\"电话格式%zu\",\"contact_phone\":\"%s\"}",
		          i, ok[i]),
		        NULL);
		assert_status(r, 201);
		char m[64];
		snprintf(m, sizeof m, "%s", jstr(r->json, "contact_phone"));
		assert_non_null(strstr(m, "****"));
		assert_int_equal(strcmp(m + strlen(m) - 4, ok[i] + strlen(ok[i]) - 4), 0);
		assert_null(strstr(r->body, ok[i]));
		resp_free(r);
		r = apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/orgs?q=%s", Q(F("电话格式%zu", i)));
		assert_status(r, 200);
		assert_null(strstr(r->body, ok[i]));
		assert_string_equal(jstr(r->json, "items.0.contact_phone"), m);
		resp_free(r);
	}
}

static void orgs_patch(void **state)
{
	(void)state;
	char code[20];
	snprintf(code, sizeof code, "%s", new_code());
	int64_t id = create_org(
	    tok[ADMIN], F("{\"kind\":\"shop\",\"name\":\"修改前商店\",\"credit_code\":\"%s\","
	                  "\"unit_id\":%lld,\"contact_phone\":\"13712345678\"}",
	                  code, (long long)u_shaliu));
	struct resp *r =
	    apif(&S, "PATCH", tok[ADMIN],
	         "{\"name\":\"修改后商店\",\"kind\":\"enterprise\",\"description\":\"新描述\","
	         "\"contact_name\":\"王经理\",\"contact_phone\":\"15098765432\"}",
	         "/api/v1/orgs/%lld", (long long)id);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "name"), "修改后商店");
	assert_string_equal(jstr(r->json, "kind"), "enterprise");
	assert_string_equal(jstr(r->json, "description"), "新描述");
	assert_string_equal(jstr(r->json, "contact_name"), "王经理");
	assert_string_equal(jstr(r->json, "contact_phone"), "150****5432");
	assert_string_equal(jstr(r->json, "credit_code"), code);
	assert_int_equal(jint(r->json, "unit_id"), u_shaliu);
	assert_int_equal(jint(r->json, "version"), 2);
	assert_null(strstr(r->body, "15098765432"));
	assert_string_equal(resp_header(r, "ETag"), "\"2\"");
	resp_free(r);

	/* If-Match */
	r = apihf(&S, "PATCH", tok[ADMIN], "{\"address\":\"一号\"}", "If-Match: \"2\"",
	          "/api/v1/orgs/%lld", (long long)id);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "version"), 3);
	resp_free(r);
	r = apihf(&S, "PATCH", tok[ADMIN], "{\"address\":\"二号\"}", "If-Match: \"2\"",
	          "/api/v1/orgs/%lld", (long long)id);
	assert_error(r, 412, "precondition_failed", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs/%lld", (long long)id);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "address"), "一号");
	assert_string_equal(resp_header(r, "ETag"), "\"3\"");
	resp_free(r);

	/* invalid changes */
	struct {
		const char *body, *code, *field;
	} bad[] = {
	    {"{\"kind\":\"castle\"}", "validation_failed", "kind"},
	    {"{\"name\":\"\"}", "validation_failed", "name"},
	    {"{\"name\":null}", "validation_failed", "name"},
	    {"{\"kind\":null}", "validation_failed", "kind"},
	    {"{\"credit_code\":\"91350100M000100Y44\"}", "validation_failed", "credit_code"},
	    {"{\"credit_code\":\"123\"}", "validation_failed", "credit_code"},
	    {"{\"contact_phone\":\"abc\"}", "validation_failed", "contact_phone"},
	    {"{\"unit_id\":99999999}", "validation_failed", "unit_id"},
	    {"{\"id\":3}", "validation_failed", "id"},
	    {"{\"created_at\":\"2026-01-01T00:00:00+08:00\"}", "validation_failed", "created_at"},
	    {"{\"homepage\":\"x\"}", "unknown_field", "homepage"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = apif(&S, "PATCH", tok[ADMIN], bad[i].body, "/api/v1/orgs/%lld", (long long)id);
		if (r->status != 400)
			print_error("case %zu: %s\n", i, bad[i].body);
		assert_error(r, 400, bad[i].code, bad[i].field);
		resp_free(r);
	}
	r = apif(&S, "PATCH", tok[ADMIN], "{}", "/api/v1/orgs/%lld", (long long)id);
	assert_error(r, 400, "validation_failed", NULL);
	resp_free(r);
	/* conflicts */
	r = apif(&S, "PATCH", tok[ADMIN], "{\"name\":\"天津鸿润物业服务有限公司\"}",
	         "/api/v1/orgs/%lld", (long long)id);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);
	r = apif(&S, "PATCH", tok[ADMIN], "{\"credit_code\":\"911201027964108563\"}",
	         "/api/v1/orgs/%lld", (long long)id);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs/%lld", (long long)id);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "version"), 3);
	assert_string_equal(jstr(r->json, "name"), "修改后商店");
	resp_free(r);
	/* null clears optional fields */
	r = apif(&S, "PATCH", tok[ADMIN],
	         "{\"credit_code\":null,\"contact_phone\":null,\"description\":null}",
	         "/api/v1/orgs/%lld", (long long)id);
	assert_status(r, 200);
	assert_true(json_is_null(jpath(r->json, "credit_code")));
	assert_true(json_is_null(jpath(r->json, "contact_phone")));
	assert_true(json_is_null(jpath(r->json, "description")));
	resp_free(r);
	/* the code is free again */
	create_org(tok[ADMIN],
	           F("{\"kind\":\"shop\",\"name\":\"接码商店\",\"credit_code\":\"%s\"}", code));
	/* unknown organisation */
	r = api(&S, "PATCH", "/api/v1/orgs/99999999", tok[ADMIN], "{\"address\":\"x\"}", NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "PATCH", "/api/v1/orgs/abc", tok[ADMIN], "{\"address\":\"x\"}", NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
}

static void orgs_scope_writes(void **state)
{
	(void)state;
	/* community staff: another community's unit */
	struct resp *r = api(
	    &S, "POST", "/api/v1/orgs", tok[SHEQU],
	    F("{\"kind\":\"shop\",\"name\":\"越界商店1\",\"unit_id\":%lld}", (long long)u_fengqi),
	    NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/orgs", tok[SHEQU],
	        F("{\"kind\":\"shop\",\"name\":\"越界商店2\",\"unit_id\":%lld}",
	          (long long)u_fengqi_xiaoqu),
	        NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(
	    &S, "POST", "/api/v1/orgs", tok[SHEQU],
	    F("{\"kind\":\"shop\",\"name\":\"越界商店3\",\"unit_id\":%lld}", (long long)u_dongxin),
	    NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(
	    &S, "POST", "/api/v1/orgs", tok[JIEDAO],
	    F("{\"kind\":\"shop\",\"name\":\"越界商店4\",\"unit_id\":%lld}", (long long)u_qinglin),
	    NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(
	    &S, "POST", "/api/v1/orgs", tok[LUSHAN],
	    F("{\"kind\":\"shop\",\"name\":\"越界商店5\",\"unit_id\":%lld}", (long long)u_district),
	    NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs?q=%s&count=true", Q("越界商店"));
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "total"), 0);
	resp_free(r);

	/* changes inside the scope */
	r = apif(&S, "PATCH", tok[SHEQU], "{\"description\":\"社区更新\"}", "/api/v1/orgs/%lld",
	         (long long)o_songshan_school);
	assert_status(r, 200); /* registered to 沙柳北路社区 */
	resp_free(r);
	r = apif(&S, "PATCH", tok[SHEQU2], "{\"description\":\"社区更新\"}", "/api/v1/orgs/%lld",
	         (long long)o_leling);
	assert_status(r, 200); /* registered to 凤岐里社区 */
	resp_free(r);
	r = apif(&S, "PATCH", tok[JIEDAO], "{\"description\":\"街道更新\"}", "/api/v1/orgs/%lld",
	         (long long)o_dongxin_wuye);
	assert_status(r, 200);
	resp_free(r);
	r = apif(&S, "PATCH", tok[JIEDAO], "{\"description\":\"街道更新\"}", "/api/v1/orgs/%lld",
	         (long long)o_leling);
	assert_status(r, 200);
	resp_free(r);
	r = apif(&S, "PATCH", tok[LUSHAN], "{\"description\":\"街道更新\"}", "/api/v1/orgs/%lld",
	         (long long)o_haoan);
	assert_status(r, 200);
	resp_free(r);

	/* changes outside it: visible, but not writable */
	struct {
		int user;
		int64_t org;
	} out[] = {
	    {SHEQU, o_leling},           {SHEQU, o_dongxin_wuye}, {SHEQU, o_haoan},
	    {SHEQU2, o_songshan_school}, {JIEDAO, o_haoan},       {JIEDAO, o_hongrun},
	    {LUSHAN, o_dongxin_wuye},    {LUSHAN, o_leling},
	};
	for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) {
		r = apif(&S, "PATCH", tok[out[i].user], "{\"description\":\"越权修改\"}",
		         "/api/v1/orgs/%lld", (long long)out[i].org);
		if (r->status != 403)
			print_error("user %s org %lld\n", usernames[out[i].user],
			            (long long)out[i].org);
		assert_error(r, 403, "forbidden", NULL);
		resp_free(r);
	}
	/* moving an organisation out of the scope */
	r = apif(&S, "PATCH", tok[JIEDAO], F("{\"unit_id\":%lld}", (long long)u_lushan),
	         "/api/v1/orgs/%lld", (long long)o_dongxin_wuye);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = apif(&S, "PATCH", tok[SHEQU], F("{\"unit_id\":%lld}", (long long)u_fengqi),
	         "/api/v1/orgs/%lld", (long long)o_songshan_school);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	/* ... but within it */
	r = apif(&S, "PATCH", tok[SHEQU], F("{\"unit_id\":%lld}", (long long)u_shaliu_beili),
	         "/api/v1/orgs/%lld", (long long)o_songshan_school);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "unit_id"), u_shaliu_beili);
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs/%lld", (long long)o_dongxin_wuye);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "unit_id"), u_dongxin);
	assert_string_equal(jstr(r->json, "description"), "街道更新");
	resp_free(r);
	/* an organisation registered to no unit is the admin's */
	int64_t free_org = create_org(tok[ADMIN], "{\"kind\":\"ngo\",\"name\":\"无单位组织\"}");
	r = apif(&S, "PATCH", tok[JIEDAO], "{\"description\":\"x\"}", "/api/v1/orgs/%lld",
	         (long long)free_org);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = apif(&S, "PATCH", tok[ADMIN], F("{\"unit_id\":%lld}", (long long)u_fengqi),
	         "/api/v1/orgs/%lld", (long long)free_org);
	assert_status(r, 200);
	resp_free(r);
}

static void orgs_roles(void **state)
{
	(void)state;
	int writers_not[] = {HEHUOREN, WUYE, TIAOJIE, WANGGE, JUMIN};
	for (size_t i = 0; i < sizeof writers_not / sizeof writers_not[0]; i++) {
		const char *t = tok[writers_not[i]];
		struct resp *r = api(
		    &S, "POST", "/api/v1/orgs", t,
		    F("{\"kind\":\"shop\",\"name\":\"无权商店-%s\"}", usernames[writers_not[i]]),
		    NULL);
		if (r->status != 403)
			print_error("user %s\n", usernames[writers_not[i]]);
		assert_error(r, 403, "forbidden", NULL);
		resp_free(r);
	}
	/* not even their own organisation */
	struct resp *r = apif(&S, "PATCH", tok[HEHUOREN], "{\"description\":\"自己改\"}",
	                      "/api/v1/orgs/%lld", (long long)o_jinshitu);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = apif(&S, "PATCH", tok[WUYE], "{\"description\":\"自己改\"}", "/api/v1/orgs/%lld",
	         (long long)o_hongrun);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = apif(&S, "PATCH", tok[JUMIN], "{\"description\":\"居民改\"}", "/api/v1/orgs/%lld",
	         (long long)o_leling);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs?q=%s&count=true", Q("无权商店"));
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "total"), 0);
	resp_free(r);
}

static void orgs_idempotency(void **state)
{
	(void)state;
	char key[96];
	snprintf(key, sizeof key, "%s", uniq("org-key-"));
	const char *hdr = F("Idempotency-Key: %s", key);
	int64_t before = org_total(tok[ADMIN], "");
	struct resp *r1 = api(&S, "POST", "/api/v1/orgs", tok[JIEDAO],
	                      "{\"kind\":\"shop\",\"name\":\"幂等商店\"}", hdr);
	assert_status(r1, 201);
	assert_null(resp_header(r1, "Idempotent-Replayed"));
	struct resp *r2 = api(&S, "POST", "/api/v1/orgs", tok[JIEDAO],
	                      "{\"kind\":\"shop\",\"name\":\"幂等商店\"}", hdr);
	assert_status(r2, 201);
	assert_non_null(resp_header(r2, "Idempotent-Replayed"));
	assert_string_equal(resp_header(r2, "Idempotent-Replayed"), "true");
	assert_int_equal(jint(r2->json, "id"), jint(r1->json, "id"));
	assert_string_equal(jstr(r2->json, "name"), "幂等商店");
	resp_free(r1);
	resp_free(r2);
	assert_int_equal(org_total(tok[ADMIN], ""), before + 1);
	/* the same key from another account is that account's own */
	struct resp *r3 = api(&S, "POST", "/api/v1/orgs", tok[LUSHAN],
	                      "{\"kind\":\"shop\",\"name\":\"幂等商店二\"}", hdr);
	assert_status(r3, 201);
	assert_null(resp_header(r3, "Idempotent-Replayed"));
	assert_string_equal(jstr(r3->json, "name"), "幂等商店二");
	resp_free(r3);
	assert_int_equal(org_total(tok[ADMIN], ""), before + 2);
}

/* DELETE withdraws an organisation: archived_at is set once (a second DELETE answers
 * the row as it is), reads still show it, lists leave it out unless archived=true
 * (only those) or any, changes are refused, and the writers' scope applies. */
static void orgs_archive(void **state)
{
	(void)state;
	const char *name = uniq("撤销商店");
	int64_t id = post_id(
	    &S, tok[ADMIN], "/api/v1/orgs",
	    F("{\"kind\":\"shop\",\"name\":\"%s\",\"unit_id\":%lld}", name, (long long)u_fengqi));
	const char *path = F("/api/v1/orgs/%lld", (long long)id);
	struct resp *r = api(&S, "GET", path, tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	assert_true(json_is_null(jpath(r->json, "archived_at")));
	resp_free(r);
	/* no permission: 403; out of scope (a community worker of another community): 403 */
	r = api(&S, "DELETE", path, tok[WUYE], NULL, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(&S, "DELETE", path, tok[SHEQU], NULL, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(&S, "DELETE", "/api/v1/orgs/99999999", tok[ADMIN], NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "DELETE", path, tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	assert_true(json_is_string(jpath(r->json, "archived_at")));
	assert_int_equal(jint(r->json, "version"), 2);
	char *at = strdup(jstr(r->json, "archived_at"));
	resp_free(r);
	r = api(&S, "DELETE", path, tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "version"), 2);
	assert_string_equal(jstr(r->json, "archived_at"), at);
	resp_free(r);
	free(at);
	r = api(&S, "GET", path, tok[WUYE], NULL, NULL);
	assert_status(r, 200);
	assert_true(json_is_string(jpath(r->json, "archived_at")));
	resp_free(r);
	const char *q = F("q=%s", Q(name));
	assert_int_equal(org_total(tok[ADMIN], q), 0);
	assert_int_equal(org_total(tok[ADMIN], F("%s&archived=true", q)), 1);
	assert_int_equal(org_total(tok[ADMIN], F("%s&archived=any", q)), 1);
	assert_int_equal(org_total(tok[ADMIN], F("%s&archived=false", q)), 0);
	/* the archived list has archived rows only; the default one none */
	r = api(&S, "GET", "/api/v1/orgs?archived=true&limit=500", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	size_t i;
	json_t *it;
	json_array_foreach(jpath(r->json, "items"), i, it)
	    assert_true(json_is_string(json_object_get(it, "archived_at")));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/orgs?archived=maybe", tok[ADMIN], NULL, NULL);
	assert_error(r, 400, "validation_failed", "archived");
	resp_free(r);
	r = api(&S, "PATCH", path, tok[ADMIN], "{\"description\":\"回来\"}", NULL);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);
}

static void orgs_method_not_allowed(void **state)
{
	(void)state;
	struct {
		const char *method, *path, *allow[2];
	} cases[] = {
	    /* DELETE of one organisation is its archive (orgs_archive) */
	    {"PUT", F("/api/v1/orgs/%lld", (long long)o_haoan), {"GET", "PATCH"}},
	    {"POST", F("/api/v1/orgs/%lld", (long long)o_haoan), {"GET", "PATCH"}},
	    {"DELETE", "/api/v1/orgs", {"GET", "POST"}},
	    {"PUT", "/api/v1/orgs", {"GET", "POST"}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct resp *r = api(&S, cases[i].method, cases[i].path, tok[ADMIN],
		                     strcmp(cases[i].method, "DELETE") ? "{}" : NULL, NULL);
		assert_error(r, 405, "method_not_allowed", NULL);
		const char *allow = resp_header(r, "Allow");
		assert_non_null(allow);
		assert_non_null(strstr(allow, cases[i].allow[0]));
		assert_non_null(strstr(allow, cases[i].allow[1]));
		resp_free(r);
	}
	/* the organisation is still there */
	struct resp *r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/orgs/%lld", (long long)o_haoan);
	assert_status(r, 200);
	resp_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(orgs_unauthenticated),
	    cmocka_unit_test(orgs_read_everyone),
	    cmocka_unit_test(orgs_list_and_paging),
	    cmocka_unit_test(orgs_filters),
	    cmocka_unit_test(orgs_get),
	    cmocka_unit_test(orgs_unit_names),
	    cmocka_unit_test(orgs_create_ok),
	    cmocka_unit_test(orgs_create_default_unit),
	    cmocka_unit_test(orgs_create_validation),
	    cmocka_unit_test(orgs_credit_codes),
	    cmocka_unit_test(orgs_phones),
	    cmocka_unit_test(orgs_patch),
	    cmocka_unit_test(orgs_scope_writes),
	    cmocka_unit_test(orgs_roles),
	    cmocka_unit_test(orgs_idempotency),
	    cmocka_unit_test(orgs_archive),
	    cmocka_unit_test(orgs_method_not_allowed),
	    cmocka_unit_test(me_names_the_org),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
