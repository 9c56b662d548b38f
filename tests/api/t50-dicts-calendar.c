/* t50-dicts-calendar.c - dictionaries (/api/v1/dicts/{type}, /api/v1/dicts/{type}/{id})
 * and the working-day calendar (/api/v1/calendar/{year}).  One server with the demo
 * data; the calendar tests write the year 2030 only. */
#include "harness.h"
#include <stdio.h>
#include <stdlib.h>

static struct srv S;
static struct fixture fx;

enum { ADMIN, JIEDAO, LUSHAN, SHEQU, SHEQU2, WANGGE, HEHUOREN, WUYE, TIAOJIE, JUMIN, NUSERS };
static const char *const usernames[NUSERS] = {"admin",  "jiedao",   "lushan", "shequ",   "shequ2",
                                              "wangge", "hehuoren", "wuye",   "tiaojie", "jumin"};
static const char *tok[NUSERS];

static int setup(void **state)
{
	(void)state;
	if (fixture_start(&fx, &S, NULL))
		return -1;
	for (int i = 0; i < NUSERS; i++)
		tok[i] = fx_token(&fx, usernames[i]);
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

/* the entry of a type with that code, as admin: its id (0 when none) */
static int64_t dict_id(const char *type, const char *code)
{
	struct resp *r =
	    apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/dicts/%s?code=%s", type, Q(code));
	assert_status(r, 200);
	int64_t id = jint(r->json, "items.0.id");
	resp_free(r);
	return id;
}

#define create_entry(type, body) create_entry_((type), (body), __FILE__, __LINE__)
static int64_t create_entry_(const char *type, const char *body, const char *file, int line)
{
	struct resp *r = apif(&S, "POST", tok[ADMIN], body, "/api/v1/dicts/%s", type);
	bool ok = r && r->status == 201;
	if (!ok)
		print_error("%s:%d: create %s %s: %ld %s\n", file, line, type, body,
		            r ? r->status : 0, r ? r->body : "");
	int64_t id = ok ? jint(r->json, "id") : 0;
	resp_free(r);
	if (!ok)
		_fail(file, line);
	return id;
}

static bool has_code(json_t *items, const char *code)
{
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it) if (strcmp(jstr(it, "code"), code) == 0) return true;
	return false;
}

static bool has_str(json_t *arr, const char *s)
{
	size_t i;
	json_t *it;
	json_array_foreach(arr, i, it) if (json_is_string(it) &&
	                                   strcmp(json_string_value(it), s) == 0) return true;
	return false;
}

static int64_t dict_total(const char *type, const char *query)
{
	struct resp *r =
	    apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/dicts/%s?count=true&limit=1%s%s", type,
	         *query ? "&" : "", query);
	assert_status(r, 200);
	int64_t t = jint(r->json, "total");
	resp_free(r);
	return t;
}

/* ---- dictionaries ---- */

static void dicts_unauthenticated(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/dicts/category", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = apif(&S, "GET", NULL, NULL, "/api/v1/dicts/category/%lld",
	         (long long)dict_id("category", "01"));
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/dicts/resident_tag", NULL,
	        "{\"code\":\"anon\",\"name\":\"匿名\"}", NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = apif(&S, "PATCH", NULL, "{\"name\":\"匿名\"}", "/api/v1/dicts/category/%lld",
	         (long long)dict_id("category", "01"));
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
}

static void dicts_seeded(void **state)
{
	(void)state;
	/* the category tree: roots with two digits, children with four */
	struct resp *r =
	    api(&S, "GET", "/api/v1/dicts/category?limit=500&count=true", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	json_t *items = jpath(r->json, "items");
	assert_int_equal((int64_t)json_array_size(items), jint(r->json, "total"));
	assert_true(json_array_size(items) > 50);
	size_t i;
	json_t *it;
	bool root01 = false, child0101 = false;
	json_array_foreach(items, i, it)
	{
		const char *code = jstr(it, "code");
		assert_string_equal(jstr(it, "type"), "category");
		for (const char *p = code; *p; p++)
			assert_true(*p >= '0' && *p <= '9');
		assert_true(strlen(code) >= 2 && strlen(code) % 2 == 0);
		if (strlen(code) == 2) {
			assert_true(json_is_null(jpath(it, "parent_code")));
		} else {
			/* the parent is the code without its last two digits */
			char parent[40];
			snprintf(parent, sizeof parent, "%.*s", (int)strlen(code) - 2, code);
			assert_string_equal(jstr(it, "parent_code"), parent);
			assert_true(has_code(items, parent));
		}
		if (strcmp(code, "01") == 0) {
			root01 = true;
			assert_string_equal(jstr(it, "name"), "物业管理");
			assert_true(json_is_integer(jpath(it, "sort")));
			assert_true(json_is_boolean(jpath(it, "disabled")));
			assert_false(json_is_true(jpath(it, "disabled")));
			assert_true(json_is_integer(jpath(it, "version")));
			assert_non_null(jpath(it, "name_en"));
		}
		child0101 |= strcmp(code, "0101") == 0;
	}
	assert_true(root01);
	assert_true(child0101);
	resp_free(r);

	/* the other seeded types */
	static const char *const types[] = {"resident_tag", "activity_type", "service_type",
	                                    "dispute_type"};
	for (size_t k = 0; k < 4; k++) {
		r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/dicts/%s?limit=500", types[k]);
		assert_status(r, 200);
		items = jpath(r->json, "items");
		if (json_array_size(items) == 0)
			print_error("dictionary %s is empty\n", types[k]);
		assert_true(json_array_size(items) > 0);
		json_array_foreach(items, i, it)
		{
			assert_string_equal(jstr(it, "type"), types[k]);
			assert_true(jstr(it, "code")[0] != 0);
			assert_true(jstr(it, "name")[0] != 0);
		}
		resp_free(r);
	}
}

static void dicts_read_everyone(void **state)
{
	(void)state;
	int64_t id = dict_id("category", "0101");
	assert_true(id > 0);
	int64_t total = dict_total("category", "");
	for (int u = 0; u < NUSERS; u++) {
		struct resp *r =
		    api(&S, "GET", "/api/v1/dicts/category?count=true&limit=1", tok[u], NULL, NULL);
		if (r->status != 200)
			print_error("user %s\n", usernames[u]);
		assert_status(r, 200);
		assert_int_equal(jint(r->json, "total"), total);
		resp_free(r);
		r = apif(&S, "GET", tok[u], NULL, "/api/v1/dicts/category/%lld", (long long)id);
		assert_status(r, 200);
		assert_string_equal(jstr(r->json, "code"), "0101");
		resp_free(r);
		r = api(&S, "GET", "/api/v1/dicts/dispute_type", tok[u], NULL, NULL);
		assert_status(r, 200);
		resp_free(r);
	}
}

static void dicts_list_filters_paging(void **state)
{
	(void)state;
	/* default limit and cursor paging */
	int64_t total = dict_total("category", "");
	struct resp *r = api(&S, "GET", "/api/v1/dicts/category", tok[SHEQU], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal((int64_t)json_array_size(jpath(r->json, "items")),
	                 total < 50 ? total : 50);
	if (total > 50)
		assert_true(json_is_string(jpath(r->json, "next_cursor")));
	assert_null(jpath(r->json, "total"));
	resp_free(r);
	char cursor[128] = "";
	int64_t seen = 0, last = 0;
	for (int pages = 0;; pages++) {
		assert_true(pages < 1000);
		r = apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/dicts/category?limit=17%s%s",
		         cursor[0] ? "&cursor=" : "", cursor[0] ? Q(cursor) : "");
		assert_status(r, 200);
		size_t i;
		json_t *it;
		json_array_foreach(jpath(r->json, "items"), i, it)
		{
			assert_true(jint(it, "id") > last);
			last = jint(it, "id");
			seen++;
		}
		json_t *nc = jpath(r->json, "next_cursor");
		if (json_is_null(nc)) {
			resp_free(r);
			break;
		}
		snprintf(cursor, sizeof cursor, "%s", json_string_value(nc));
		resp_free(r);
	}
	assert_int_equal(seen, total);

	/* the children of 01 */
	r = api(&S, "GET", "/api/v1/dicts/category?parent_code=01&limit=500", tok[ADMIN], NULL,
	        NULL);
	assert_status(r, 200);
	json_t *items = jpath(r->json, "items");
	assert_true(json_array_size(items) >= 10);
	assert_true(has_code(items, "0101"));
	assert_false(has_code(items, "01"));
	assert_false(has_code(items, "0201"));
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		assert_string_equal(jstr(it, "parent_code"), "01");
		assert_int_equal(strncmp(jstr(it, "code"), "01", 2), 0);
		assert_int_equal(strlen(jstr(it, "code")), 4);
	}
	resp_free(r);

	/* by code: one entry */
	r = api(&S, "GET", "/api/v1/dicts/category?code=0101&count=true", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "total"), 1);
	assert_string_equal(jstr(r->json, "items.0.code"), "0101");
	assert_string_equal(jstr(r->json, "items.0.parent_code"), "01");
	resp_free(r);
	/* a code of another type does not show */
	r = api(&S, "GET", "/api/v1/dicts/resident_tag?code=0101", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/dicts/category?code=elderly_alone", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);

	/* q: Chinese substrings */
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/dicts/category?q=%s&limit=500", Q("供水"));
	assert_status(r, 200);
	items = jpath(r->json, "items");
	assert_true(has_code(items, "0101"));
	json_array_foreach(items, i, it)
	    assert_true(strstr(jstr(it, "name"), "供水") || strstr(jstr(it, "name_en"), "供水"));
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/dicts/resident_tag?q=%s", Q("老人"));
	assert_status(r, 200);
	items = jpath(r->json, "items");
	assert_true(has_code(items, "elderly_alone"));
	json_array_foreach(items, i, it) assert_string_equal(jstr(it, "type"), "resident_tag");
	resp_free(r);

	/* disabled */
	r = api(&S, "GET", "/api/v1/dicts/category?disabled=false&count=true&limit=1", tok[ADMIN],
	        NULL, NULL);
	assert_status(r, 200);
	assert_true(jint(r->json, "total") > 0);
	resp_free(r);

	/* bad parameters */
	static const char *const bad[][2] = {
	    {"limit=0", "limit"}, {"limit=501", "limit"},         {"cursor=nope", "cursor"},
	    {"count=1", "count"}, {"disabled=maybe", "disabled"},
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/dicts/category?%s", bad[k][0]);
		assert_error(r, 400, "validation_failed", bad[k][1]);
		resp_free(r);
	}
	r = api(&S, "GET", "/api/v1/dicts/category?colour=red", tok[ADMIN], NULL, NULL);
	assert_error(r, 400, "unknown_field", "colour");
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/dicts/category/%lld?x=1",
	         (long long)dict_id("category", "01"));
	assert_error(r, 400, "unknown_field", "x");
	resp_free(r);
}

static void dicts_get(void **state)
{
	(void)state;
	int64_t id = dict_id("category", "0101");
	struct resp *r =
	    apif(&S, "GET", tok[JUMIN], NULL, "/api/v1/dicts/category/%lld", (long long)id);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "id"), id);
	assert_string_equal(jstr(r->json, "type"), "category");
	assert_string_equal(jstr(r->json, "code"), "0101");
	assert_string_equal(jstr(r->json, "name"), "供水");
	assert_string_equal(jstr(r->json, "parent_code"), "01");
	assert_non_null(resp_header(r, "ETag"));
	assert_string_equal(resp_header(r, "ETag"),
	                    F("\"%lld\"", (long long)jint(r->json, "version")));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/dicts/category/99999999", tok[ADMIN], NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/dicts/category/abc", tok[ADMIN], NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
}

/* an entry is found under its own type only */
static void dicts_wrong_type(void **state)
{
	(void)state;
	int64_t id = dict_id("category", "0103");
	struct resp *r =
	    apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/dicts/resident_tag/%lld", (long long)id);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/dicts/no_such_type/%lld", (long long)id);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = apif(&S, "PATCH", tok[ADMIN], "{\"name\":\"跨类修改\"}",
	         "/api/v1/dicts/resident_tag/%lld", (long long)id);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/dicts/category/%lld", (long long)id);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "name"), "电梯");
	assert_int_equal(jint(r->json, "version"), 1);
	resp_free(r);
}

static void dicts_create(void **state)
{
	(void)state;
	struct resp *r = api(&S, "POST", "/api/v1/dicts/resident_tag", tok[ADMIN],
	                     "{\"code\":\"test_tag-1.a\",\"name\":\"测试标签\",\"name_en\":\"Test "
	                     "tag\",\"sort\":55}",
	                     NULL);
	assert_status(r, 201);
	int64_t id = jint(r->json, "id");
	assert_true(id > 0);
	assert_string_equal(jstr(r->json, "type"), "resident_tag");
	assert_string_equal(jstr(r->json, "code"), "test_tag-1.a");
	assert_string_equal(jstr(r->json, "name"), "测试标签");
	assert_string_equal(jstr(r->json, "name_en"), "Test tag");
	assert_int_equal(jint(r->json, "sort"), 55);
	assert_true(json_is_false(jpath(r->json, "disabled")));
	assert_true(json_is_null(jpath(r->json, "parent_code")));
	assert_int_equal(jint(r->json, "version"), 1);
	assert_non_null(resp_header(r, "Location"));
	assert_string_equal(resp_header(r, "Location"),
	                    F("/api/v1/dicts/resident_tag/%lld", (long long)id));
	assert_string_equal(resp_header(r, "ETag"), "\"1\"");
	resp_free(r);
	r = apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/dicts/resident_tag/%lld", (long long)id);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "code"), "test_tag-1.a");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/dicts/resident_tag?limit=500", tok[SHEQU], NULL, NULL);
	assert_status(r, 200);
	assert_true(has_code(jpath(r->json, "items"), "test_tag-1.a"));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/dicts/activity_type?limit=500", tok[SHEQU], NULL, NULL);
	assert_status(r, 200);
	assert_false(has_code(jpath(r->json, "items"), "test_tag-1.a"));
	resp_free(r);

	/* a child in the category tree, and a grandchild */
	r = api(&S, "POST", "/api/v1/dicts/category", tok[ADMIN],
	        "{\"code\":\"0199\",\"name\":\"测试子类\",\"parent_code\":\"01\",\"sort\":99}",
	        NULL);
	assert_status(r, 201);
	assert_string_equal(jstr(r->json, "parent_code"), "01");
	assert_string_equal(jstr(r->json, "type"), "category");
	resp_free(r);
	create_entry("category",
	             "{\"code\":\"019901\",\"name\":\"测试孙类\",\"parent_code\":\"0199\"}");
	r = api(&S, "GET", "/api/v1/dicts/category?parent_code=0199", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 1);
	assert_string_equal(jstr(r->json, "items.0.code"), "019901");
	resp_free(r);
	/* created disabled */
	r = api(&S, "POST", "/api/v1/dicts/service_type", tok[ADMIN],
	        "{\"code\":\"retired_svc\",\"name\":\"停用服务\",\"disabled\":true}", NULL);
	assert_status(r, 201);
	assert_true(json_is_true(jpath(r->json, "disabled")));
	resp_free(r);
	/* 32 characters of code */
	create_entry("dispute_type",
	             "{\"code\":\"abcdefghijklmnopqrstuvwxyz_-.012\",\"name\":\"长代码\"}");
}

static void dicts_create_validation(void **state)
{
	(void)state;
	struct {
		const char *type, *body, *code, *field;
	} cases[] = {
	    {"resident_tag", "{\"name\":\"无代码\"}", "validation_failed", "code"},
	    {"resident_tag", "{\"code\":\"\",\"name\":\"空代码\"}", "validation_failed", "code"},
	    {"resident_tag", "{\"code\":\"a b\",\"name\":\"空格代码\"}", "validation_failed",
	     "code"},
	    {"resident_tag", "{\"code\":\"代码\",\"name\":\"中文代码\"}", "validation_failed",
	     "code"},
	    {"resident_tag", "{\"code\":\"a/b\",\"name\":\"斜线代码\"}", "validation_failed",
	     "code"},
	    {"resident_tag", "{\"code\":\"a'b\",\"name\":\"引号代码\"}", "validation_failed",
	     "code"},
	    {"resident_tag",
	     "{\"code\":\"abcdefghijklmnopqrstuvwxyz0123456\",\"name\":\"过长代码\"}",
	     "validation_failed", "code"},
	    {"resident_tag", "{\"code\":17,\"name\":\"数字代码\"}", "validation_failed", "code"},
	    {"resident_tag", "{\"code\":null,\"name\":\"空值代码\"}", "validation_failed", "code"},
	    {"resident_tag", "{\"code\":\"no_name\"}", "validation_failed", "name"},
	    {"resident_tag", "{\"code\":\"empty_name\",\"name\":\"\"}", "validation_failed",
	     "name"},
	    {"resident_tag", "{\"code\":\"null_name\",\"name\":null}", "validation_failed", "name"},
	    {"resident_tag", "{\"code\":\"num_name_en\",\"name\":\"英文名\",\"name_en\":12}",
	     "validation_failed", "name_en"},
	    {"category", "{\"code\":\"9901\",\"name\":\"无父\",\"parent_code\":\"98\"}",
	     "validation_failed", "parent_code"},
	    {"category", "{\"code\":\"9902\",\"name\":\"坏父\",\"parent_code\":\"9 9\"}",
	     "validation_failed", "parent_code"},
	    {"category", "{\"code\":\"9903\",\"name\":\"空父\",\"parent_code\":\"\"}",
	     "validation_failed", "parent_code"},
	    /* parent_code must exist in the same type */
	    {"resident_tag",
	     "{\"code\":\"child_of_cat\",\"name\":\"跨类父\",\"parent_code\":\"01\"}",
	     "validation_failed", "parent_code"},
	    {"category",
	     "{\"code\":\"9904\",\"name\":\"跨类父\",\"parent_code\":\"elderly_alone\"}",
	     "validation_failed", "parent_code"},
	    {"resident_tag", "{\"code\":\"bad_sort\",\"name\":\"坏排序\",\"sort\":\"1\"}",
	     "validation_failed", "sort"},
	    {"resident_tag", "{\"code\":\"bad_sort2\",\"name\":\"坏排序\",\"sort\":1.5}",
	     "validation_failed", "sort"},
	    {"resident_tag", "{\"code\":\"bad_disabled\",\"name\":\"坏停用\",\"disabled\":\"yes\"}",
	     "validation_failed", "disabled"},
	    {"resident_tag", "{\"code\":\"bad_disabled2\",\"name\":\"坏停用\",\"disabled\":1}",
	     "validation_failed", "disabled"},
	    {"resident_tag", "{\"code\":\"set_id\",\"name\":\"设编号\",\"id\":7}",
	     "validation_failed", "id"},
	    {"resident_tag", "{\"code\":\"unknown\",\"name\":\"未知\",\"colour\":\"red\"}",
	     "unknown_field", "colour"},
	};
	int64_t before_tag = dict_total("resident_tag", ""),
	        before_cat = dict_total("category", "");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct resp *r =
		    apif(&S, "POST", tok[ADMIN], cases[i].body, "/api/v1/dicts/%s", cases[i].type);
		if (r->status != 400 || strcmp(err_field(r), cases[i].field) != 0)
			print_error("case %zu: %s %s\n", i, cases[i].type, cases[i].body);
		assert_error(r, 400, cases[i].code, cases[i].field);
		resp_free(r);
	}
	struct resp *r =
	    api(&S, "POST", "/api/v1/dicts/resident_tag", tok[ADMIN], "{\"code\":", NULL);
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/dicts/resident_tag", tok[ADMIN], "[]", NULL);
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/dicts/resident_tag", tok[ADMIN],
	        "{\"code\":\"txt\",\"name\":\"文本\"}", "Content-Type: text/plain");
	assert_error(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	assert_int_equal(dict_total("resident_tag", ""), before_tag);
	assert_int_equal(dict_total("category", ""), before_cat);
}

static void dicts_create_conflict(void **state)
{
	(void)state;
	/* a seeded code */
	struct resp *r = api(&S, "POST", "/api/v1/dicts/resident_tag", tok[ADMIN],
	                     "{\"code\":\"elderly_alone\",\"name\":\"重复\"}", NULL);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/dicts/category", tok[ADMIN],
	        "{\"code\":\"0101\",\"name\":\"重复供水\",\"parent_code\":\"01\"}", NULL);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);
	/* one created here */
	create_entry("activity_type", "{\"code\":\"dup_test\",\"name\":\"重复测试\"}");
	r = api(&S, "POST", "/api/v1/dicts/activity_type", tok[ADMIN],
	        "{\"code\":\"dup_test\",\"name\":\"重复测试二\"}", NULL);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);
	assert_int_equal(dict_total("activity_type", "code=dup_test"), 1);
	/* unique per type: the same code in other types */
	create_entry("service_type", "{\"code\":\"dup_test\",\"name\":\"重复测试\"}");
	create_entry("resident_tag", "{\"code\":\"0101\",\"name\":\"与类别同码\"}");
	assert_int_equal(dict_total("category", "code=0101"), 1);
	assert_int_equal(dict_total("resident_tag", "code=0101"), 1);
}

static void dicts_write_forbidden(void **state)
{
	(void)state;
	int64_t id = dict_id("category", "0102");
	for (int u = 1; u < NUSERS; u++) {
		struct resp *r =
		    api(&S, "POST", "/api/v1/dicts/resident_tag", tok[u],
		        F("{\"code\":\"by_%s\",\"name\":\"无权\"}", usernames[u]), NULL);
		if (r->status != 403)
			print_error("user %s\n", usernames[u]);
		assert_error(r, 403, "forbidden", NULL);
		resp_free(r);
		r = apif(&S, "PATCH", tok[u], "{\"name\":\"无权修改\"}",
		         "/api/v1/dicts/category/%lld", (long long)id);
		if (r->status != 403)
			print_error("user %s\n", usernames[u]);
		assert_error(r, 403, "forbidden", NULL);
		resp_free(r);
	}
	struct resp *r =
	    apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/dicts/category/%lld", (long long)id);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "name"), "供暖");
	assert_int_equal(jint(r->json, "version"), 1);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/dicts/resident_tag?q=%E6%97%A0%E6%9D%83", tok[ADMIN], NULL,
	        NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);
}

static void dicts_patch(void **state)
{
	(void)state;
	int64_t id =
	    create_entry("dispute_type", "{\"code\":\"patch_me\",\"name\":\"改前\",\"sort\":1}");
	struct resp *r =
	    apif(&S, "PATCH", tok[ADMIN], "{\"name\":\"改后\",\"name_en\":\"After\",\"sort\":8}",
	         "/api/v1/dicts/dispute_type/%lld", (long long)id);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "name"), "改后");
	assert_string_equal(jstr(r->json, "name_en"), "After");
	assert_int_equal(jint(r->json, "sort"), 8);
	assert_string_equal(jstr(r->json, "code"), "patch_me");
	assert_string_equal(jstr(r->json, "type"), "dispute_type");
	assert_int_equal(jint(r->json, "version"), 2);
	assert_non_null(resp_header(r, "ETag"));
	assert_string_equal(resp_header(r, "ETag"), "\"2\"");
	resp_free(r);

	/* disable it: the disabled filter sees it */
	r = apif(&S, "PATCH", tok[ADMIN], "{\"disabled\":true}", "/api/v1/dicts/dispute_type/%lld",
	         (long long)id);
	assert_status(r, 200);
	assert_true(json_is_true(jpath(r->json, "disabled")));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/dicts/dispute_type?disabled=true&limit=500", tok[ADMIN], NULL,
	        NULL);
	assert_status(r, 200);
	assert_true(has_code(jpath(r->json, "items"), "patch_me"));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/dicts/dispute_type?disabled=false&limit=500", tok[ADMIN], NULL,
	        NULL);
	assert_status(r, 200);
	assert_false(has_code(jpath(r->json, "items"), "patch_me"));
	resp_free(r);

	/* If-Match */
	r = apihf(&S, "PATCH", tok[ADMIN], "{\"disabled\":false}", "If-Match: \"3\"",
	          "/api/v1/dicts/dispute_type/%lld", (long long)id);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "version"), 4);
	resp_free(r);
	r = apihf(&S, "PATCH", tok[ADMIN], "{\"sort\":100}", "If-Match: \"3\"",
	          "/api/v1/dicts/dispute_type/%lld", (long long)id);
	assert_error(r, 412, "precondition_failed", NULL);
	resp_free(r);

	/* what cannot change */
	struct {
		const char *body, *code, *field;
	} bad[] = {
	    {"{\"code\":\"renamed\"}", "validation_failed", "code"},
	    {"{\"parent_code\":\"x\"}", "validation_failed", "parent_code"},
	    {"{\"type\":\"category\"}", "validation_failed", "type"},
	    {"{\"name\":\"\"}", "validation_failed", "name"},
	    {"{\"name\":null}", "validation_failed", "name"},
	    {"{\"sort\":\"x\"}", "validation_failed", "sort"},
	    {"{\"disabled\":\"no\"}", "validation_failed", "disabled"},
	    {"{\"id\":1}", "validation_failed", "id"},
	    {"{\"weight\":1}", "unknown_field", "weight"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = apif(&S, "PATCH", tok[ADMIN], bad[i].body, "/api/v1/dicts/dispute_type/%lld",
		         (long long)id);
		if (r->status != 400)
			print_error("case %zu: %s\n", i, bad[i].body);
		assert_error(r, 400, bad[i].code, bad[i].field);
		resp_free(r);
	}
	r = apif(&S, "PATCH", tok[ADMIN], "{}", "/api/v1/dicts/dispute_type/%lld", (long long)id);
	assert_error(r, 400, "validation_failed", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/dicts/dispute_type/%lld", (long long)id);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "version"), 4);
	assert_int_equal(jint(r->json, "sort"), 8);
	assert_string_equal(jstr(r->json, "code"), "patch_me");
	resp_free(r);

	/* a seeded entry */
	int64_t seeded = dict_id("category", "99");
	r = apif(&S, "PATCH", tok[ADMIN], "{\"name_en\":\"Other matters\"}",
	         "/api/v1/dicts/category/%lld", (long long)seeded);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "name_en"), "Other matters");
	assert_string_equal(jstr(r->json, "name"), "其他");
	resp_free(r);

	/* unknown entries */
	r = api(&S, "PATCH", "/api/v1/dicts/dispute_type/99999999", tok[ADMIN], "{\"name\":\"x\"}",
	        NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
}

static void dicts_method_not_allowed(void **state)
{
	(void)state;
	int64_t id = dict_id("category", "01");
	struct {
		const char *method, *path, *allow[2];
	} cases[] = {
	    {"DELETE", F("/api/v1/dicts/category/%lld", (long long)id), {"GET", "PATCH"}},
	    {"PUT", F("/api/v1/dicts/category/%lld", (long long)id), {"GET", "PATCH"}},
	    {"POST", F("/api/v1/dicts/category/%lld", (long long)id), {"GET", "PATCH"}},
	    {"DELETE", "/api/v1/dicts/category", {"GET", "POST"}},
	    {"PUT", "/api/v1/dicts/category", {"GET", "POST"}},
	    {"PATCH", "/api/v1/dicts/category", {"GET", "POST"}},
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
	assert_true(dict_id("category", "01") == id);
}

/* ---- calendar ---- */

static const char *const holidays_2026[] = {
    "2026-01-01", "2026-01-02", "2026-01-03", "2026-02-15", "2026-02-16", "2026-02-17",
    "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23",
    "2026-04-04", "2026-04-05", "2026-04-06", "2026-05-01", "2026-05-02", "2026-05-03",
    "2026-05-04", "2026-05-05", "2026-06-19", "2026-06-20", "2026-06-21", "2026-09-25",
    "2026-09-26", "2026-09-27", "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04",
    "2026-10-05", "2026-10-06", "2026-10-07",
};
static const char *const workdays_2026[] = {"2026-01-04", "2026-02-14", "2026-02-28",
                                            "2026-05-09", "2026-09-20", "2026-10-10"};

static void check_2026(json_t *o)
{
	assert_int_equal(jint(o, "year"), 2026);
	json_t *h = jpath(o, "holidays"), *w = jpath(o, "workdays");
	assert_true(json_is_array(h));
	assert_true(json_is_array(w));
	assert_true(json_is_object(jpath(o, "notes")));
	assert_int_equal(json_array_size(h), sizeof holidays_2026 / sizeof holidays_2026[0]);
	assert_int_equal(json_array_size(w), sizeof workdays_2026 / sizeof workdays_2026[0]);
	for (size_t i = 0; i < sizeof holidays_2026 / sizeof holidays_2026[0]; i++) {
		if (!has_str(h, holidays_2026[i]))
			print_error("holiday %s missing\n", holidays_2026[i]);
		assert_true(has_str(h, holidays_2026[i]));
	}
	for (size_t i = 0; i < sizeof workdays_2026 / sizeof workdays_2026[0]; i++) {
		if (!has_str(w, workdays_2026[i]))
			print_error("workday %s missing\n", workdays_2026[i]);
		assert_true(has_str(w, workdays_2026[i]));
	}
	/* notes are keyed by listed dates */
	const char *k;
	json_t *v;
	json_object_foreach(jpath(o, "notes"), k, v)
	{
		assert_true(json_is_string(v));
		assert_true(has_str(h, k) || has_str(w, k));
	}
}

static void calendar_unauthenticated(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/calendar/2026", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "PUT", "/api/v1/calendar/2030", NULL, "{\"holidays\":[],\"workdays\":[]}",
	        NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
}

static void calendar_get_2026(void **state)
{
	(void)state;
	for (int u = 0; u < NUSERS; u++) {
		struct resp *r = api(&S, "GET", "/api/v1/calendar/2026", tok[u], NULL, NULL);
		if (r->status != 200)
			print_error("user %s\n", usernames[u]);
		assert_status(r, 200);
		check_2026(r->json);
		resp_free(r);
	}
	/* the seeded lists are in date order, and no date is in both */
	struct resp *r = api(&S, "GET", "/api/v1/calendar/2026", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	static const char *const lists[] = {"holidays", "workdays"};
	for (int l = 0; l < 2; l++) {
		json_t *a = jpath(r->json, lists[l]);
		for (size_t i = 1; i < json_array_size(a); i++)
			assert_true(strcmp(json_string_value(json_array_get(a, i - 1)),
			                   json_string_value(json_array_get(a, i))) < 0);
	}
	size_t i;
	json_t *d;
	json_array_foreach(jpath(r->json, "holidays"), i, d)
	    assert_false(has_str(jpath(r->json, "workdays"), json_string_value(d)));
	assert_true(json_is_string(jpath(r->json, "notes.2026-10-01")));
	resp_free(r);
}

static void calendar_get_other_years(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/calendar/2035", tok[SHEQU], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "year"), 2035);
	assert_true(json_is_array(jpath(r->json, "holidays")));
	assert_true(json_is_array(jpath(r->json, "workdays")));
	assert_true(json_is_object(jpath(r->json, "notes")));
	resp_free(r);
	static const char *const bad[] = {"abc", "20x6", "2026.5",
	                                  "-1",  "%20",  "99999999999999999999999"};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		r = apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/calendar/%s", bad[k]);
		if (r->status != 404)
			print_error("year %s\n", bad[k]);
		assert_error(r, 404, "not_found", NULL);
		resp_free(r);
	}
	r = api(&S, "PUT", "/api/v1/calendar/abc", tok[ADMIN], "{\"holidays\":[],\"workdays\":[]}",
	        NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
}

static void calendar_unknown_query(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/calendar/2026?month=10", tok[ADMIN], NULL, NULL);
	assert_error(r, 400, "unknown_field", "month");
	resp_free(r);
	r = api(&S, "PUT", "/api/v1/calendar/2030?force=1", tok[ADMIN], "{\"holidays\":[]}", NULL);
	assert_error(r, 400, "unknown_field", "force");
	resp_free(r);
}

static void calendar_put(void **state)
{
	(void)state;
	struct resp *r = api(&S, "PUT", "/api/v1/calendar/2030", tok[ADMIN],
	                     "{\"holidays\":[\"2030-10-01\",\"2030-01-01\",\"2030-10-02\"],"
	                     "\"workdays\":[\"2030-09-29\"],"
	                     "\"notes\":{\"2030-01-01\":\"元旦\",\"2030-10-01\":\"国庆节\",\"2030-"
	                     "09-29\":\"国庆节调休上班\"}}",
	                     NULL);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "year"), 2030);
	assert_int_equal(json_array_size(jpath(r->json, "holidays")), 3);
	assert_true(has_str(jpath(r->json, "holidays"), "2030-01-01"));
	assert_true(has_str(jpath(r->json, "holidays"), "2030-10-01"));
	assert_true(has_str(jpath(r->json, "holidays"), "2030-10-02"));
	assert_int_equal(json_array_size(jpath(r->json, "workdays")), 1);
	assert_string_equal(jstr(r->json, "workdays.0"), "2030-09-29");
	assert_string_equal(jstr(r->json, "notes.2030-01-01"), "元旦");
	assert_string_equal(jstr(r->json, "notes.2030-09-29"), "国庆节调休上班");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/calendar/2030", tok[WANGGE], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "holidays")), 3);
	assert_true(has_str(jpath(r->json, "holidays"), "2030-10-02"));
	assert_int_equal(json_array_size(jpath(r->json, "workdays")), 1);
	assert_string_equal(jstr(r->json, "notes.2030-10-01"), "国庆节");
	resp_free(r);

	/* PUT replaces: old dates go, omitted lists are empty */
	r = api(&S, "PUT", "/api/v1/calendar/2030", tok[ADMIN], "{\"holidays\":[\"2030-05-01\"]}",
	        NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "holidays")), 1);
	assert_string_equal(jstr(r->json, "holidays.0"), "2030-05-01");
	assert_int_equal(json_array_size(jpath(r->json, "workdays")), 0);
	assert_null(jpath(r->json, "notes.2030-01-01"));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/calendar/2030", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "holidays")), 1);
	assert_false(has_str(jpath(r->json, "holidays"), "2030-10-01"));
	assert_int_equal(json_array_size(jpath(r->json, "workdays")), 0);
	resp_free(r);
	/* the first and last days of the year are in it */
	r = api(&S, "PUT", "/api/v1/calendar/2030", tok[ADMIN],
	        "{\"holidays\":[\"2030-01-01\",\"2030-12-31\"],\"workdays\":[]}", NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "holidays")), 2);
	resp_free(r);
	/* a leap day in a leap year */
	r = api(&S, "PUT", "/api/v1/calendar/2028", tok[ADMIN],
	        "{\"holidays\":[],\"workdays\":[\"2028-02-29\"]}", NULL);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "workdays.0"), "2028-02-29");
	resp_free(r);
	/* emptied */
	r = api(&S, "PUT", "/api/v1/calendar/2028", tok[ADMIN], "{\"holidays\":[],\"workdays\":[]}",
	        NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "workdays")), 0);
	resp_free(r);
	/* the neighbouring years are untouched */
	r = api(&S, "GET", "/api/v1/calendar/2026", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	check_2026(r->json);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/calendar/2031", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "holidays")), 0);
	resp_free(r);
}

static void calendar_put_validation(void **state)
{
	(void)state;
	struct resp *r = api(&S, "PUT", "/api/v1/calendar/2030", tok[ADMIN],
	                     "{\"holidays\":[\"2030-10-01\"],\"workdays\":[\"2030-10-12\"]}", NULL);
	assert_status(r, 200);
	char *before = json_dumps(r->json, JSON_SORT_KEYS | JSON_COMPACT);
	resp_free(r);
	struct {
		const char *body, *code, *field;
	} bad[] = {
	    {"{\"holidays\":[\"2030-02-30\"]}", "validation_failed", "holidays"},
	    {"{\"holidays\":[\"2030-13-01\"]}", "validation_failed", "holidays"},
	    {"{\"holidays\":[\"abc\"]}", "validation_failed", "holidays"},
	    {"{\"holidays\":[\"\"]}", "validation_failed", "holidays"},
	    {"{\"holidays\":[\"2030-10-01T00:00:00+08:00\"]}", "validation_failed", "holidays"},
	    {"{\"workdays\":[\"2030-02-29\"]}", "validation_failed", "workdays"},
	    {"{\"holidays\":[20301001]}", "validation_failed", "holidays"},
	    {"{\"workdays\":[null]}", "validation_failed", "workdays"},
	    {"{\"holidays\":\"2030-10-01\"}", "validation_failed", "holidays"},
	    {"{\"workdays\":{\"2030-10-12\":true}}", "validation_failed", "workdays"},
	    /* outside the year */
	    {"{\"holidays\":[\"2031-01-01\"]}", "validation_failed", "holidays"},
	    {"{\"holidays\":[\"2030-10-01\",\"2029-12-31\"]}", "validation_failed", "holidays"},
	    {"{\"workdays\":[\"2026-10-10\"]}", "validation_failed", "workdays"},
	    /* twice */
	    {"{\"holidays\":[\"2030-05-01\",\"2030-05-02\",\"2030-05-01\"]}", "validation_failed",
	     "holidays"},
	    {"{\"holidays\":[],\"workdays\":[\"2030-05-11\",\"2030-05-11\"]}", "validation_failed",
	     "workdays"},
	    {"{\"notes\":\"节日\"}", "validation_failed", "notes"},
	    {"{\"notes\":[\"2030-10-01\"]}", "validation_failed", "notes"},
	    {"{\"holidays\":[],\"weekends\":[]}", "unknown_field", "weekends"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = api(&S, "PUT", "/api/v1/calendar/2030", tok[ADMIN], bad[i].body, NULL);
		if (r->status != 400 || strcmp(err_field(r), bad[i].field) != 0)
			print_error("case %zu: %s\n", i, bad[i].body);
		assert_error(r, 400, bad[i].code, bad[i].field);
		resp_free(r);
	}
	/* a date in both lists: refused, naming one of them */
	r = api(&S, "PUT", "/api/v1/calendar/2030", tok[ADMIN],
	        "{\"holidays\":[\"2030-10-03\"],\"workdays\":[\"2030-10-03\"]}", NULL);
	assert_error(r, 400, "validation_failed", NULL);
	assert_true(strcmp(err_field(r), "holidays") == 0 || strcmp(err_field(r), "workdays") == 0);
	resp_free(r);
	r = api(&S, "PUT", "/api/v1/calendar/2030", tok[ADMIN], "{\"holidays\":[", NULL);
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);
	r = api(&S, "PUT", "/api/v1/calendar/2030", tok[ADMIN], "[\"2030-10-01\"]", NULL);
	assert_status(r, 400);
	resp_free(r);
	r = api(&S, "PUT", "/api/v1/calendar/2030", tok[ADMIN], "{\"holidays\":[]}",
	        "Content-Type: text/plain");
	assert_error(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	/* nothing changed */
	r = api(&S, "GET", "/api/v1/calendar/2030", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	char *after = json_dumps(r->json, JSON_SORT_KEYS | JSON_COMPACT);
	resp_free(r);
	assert_string_equal(after, before);
	free(before);
	free(after);
}

static void calendar_put_forbidden(void **state)
{
	(void)state;
	for (int u = 1; u < NUSERS; u++) {
		struct resp *r = api(&S, "PUT", "/api/v1/calendar/2026", tok[u],
		                     "{\"holidays\":[],\"workdays\":[]}", NULL);
		if (r->status != 403)
			print_error("user %s\n", usernames[u]);
		assert_error(r, 403, "forbidden", NULL);
		resp_free(r);
	}
	struct resp *r = api(&S, "GET", "/api/v1/calendar/2026", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	check_2026(r->json);
	resp_free(r);
}

static void calendar_method_not_allowed(void **state)
{
	(void)state;
	static const char *const methods[] = {"POST", "PATCH", "DELETE"};
	for (size_t i = 0; i < 3; i++) {
		struct resp *r = api(&S, methods[i], "/api/v1/calendar/2026", tok[ADMIN],
		                     strcmp(methods[i], "DELETE") ? "{}" : NULL, NULL);
		assert_error(r, 405, "method_not_allowed", NULL);
		const char *allow = resp_header(r, "Allow");
		assert_non_null(allow);
		assert_non_null(strstr(allow, "GET"));
		assert_non_null(strstr(allow, "PUT"));
		resp_free(r);
	}
	struct resp *r = api(&S, "GET", "/api/v1/calendar/2026", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	check_2026(r->json);
	resp_free(r);
}

static void dict_and_sla_exports(void **state)
{
	(void)state;
	int64_t total = total_count(&S, tok[JUMIN], "/api/v1/dicts/category", "parent_code=0101");
	assert_true(total > 0);
	json_t *rows =
	    xlsx_get(&S, tok[JUMIN], "/api/v1/dicts/category/export.xlsx?parent_code=0101");
	assert_int_equal((int64_t)json_array_size(rows) - 1, total);
	json_t *h = json_array_get(rows, 0);
	assert_string_equal(jstr(h, "B"), "字典类型");
	assert_string_equal(jstr(h, "D"), "名称");
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
	{
		if (i == 0)
			continue;
		assert_string_equal(jstr(row, "B"), "category");
		assert_string_equal(jstr(row, "F"), "0101");
	}
	json_decref(rows);
	struct resp *r =
	    api(&S, "GET", "/api/v1/dicts/category/export.csv", tok[JUMIN], NULL, NULL);
	assert_status(r, 200);
	assert_true(contains(resp_header(r, "Content-Disposition"), "dict-entries.csv"));
	resp_free(r);

	int64_t rules = total_count(&S, tok[ADMIN], "/api/v1/sla-rules", "priority=urgent");
	rows = xlsx_get(&S, tok[SHEQU], "/api/v1/sla-rules/export.xlsx?priority=urgent");
	assert_int_equal((int64_t)json_array_size(rows) - 1, rules);
	json_array_foreach(rows, i, row)
	{
		if (i)
			assert_string_equal(jstr(row, "C"), "紧急");
	}
	json_decref(rows);
	r = api(&S, "GET", "/api/v1/sla-rules/export.csv?priority=soon", tok[ADMIN], NULL, NULL);
	assert_error(r, 400, "validation_failed", "priority");
	resp_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dicts_unauthenticated),
	    cmocka_unit_test(dicts_seeded),
	    cmocka_unit_test(dicts_read_everyone),
	    cmocka_unit_test(dicts_list_filters_paging),
	    cmocka_unit_test(dicts_get),
	    cmocka_unit_test(dicts_wrong_type),
	    cmocka_unit_test(dicts_create),
	    cmocka_unit_test(dicts_create_validation),
	    cmocka_unit_test(dicts_create_conflict),
	    cmocka_unit_test(dicts_write_forbidden),
	    cmocka_unit_test(dicts_patch),
	    cmocka_unit_test(dicts_method_not_allowed),
	    cmocka_unit_test(calendar_unauthenticated),
	    cmocka_unit_test(calendar_get_2026),
	    cmocka_unit_test(calendar_get_other_years),
	    cmocka_unit_test(calendar_unknown_query),
	    cmocka_unit_test(dict_and_sla_exports),
	    cmocka_unit_test(calendar_put),
	    cmocka_unit_test(calendar_put_validation),
	    cmocka_unit_test(calendar_put_forbidden),
	    cmocka_unit_test(calendar_method_not_allowed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
