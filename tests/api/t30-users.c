/* t30-users: accounts — create, read, patch, validation, role rank, scope,
 * disabling, ETag/If-Match, Idempotency-Key, lists (paging, count, filters). */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PW "Test-Pass-2026"

static struct srv S;
static struct fixture fx;
static const char *admin, *jiedao, *shequ, *shequ2, *jumin, *hehuoren, *wangge;
static int64_t u_sl, u_fq, u_dx, u_lsd, u_grid, o_partner, o_property;
static int64_t id_shequ, id_shequ2, id_jumin, id_lushan, id_wuye, id_hehuoren, id_wangge, id_admin,
    id_jiedao;

static int setup(void **state)
{
	(void)state;
	if (fixture_start(&fx, &S, NULL))
		return -1;
	admin = fx.tok[FX_ADMIN];
	jiedao = fx.tok[FX_JIEDAO];
	shequ = fx.tok[FX_SHEQU];
	shequ2 = fx.tok[FX_SHEQU2];
	jumin = fx.tok[FX_JUMIN];
	hehuoren = fx.tok[FX_HEHUOREN];
	wangge = fx.tok[FX_WANGGE];
	u_sl = fx.u_shaliu;
	u_fq = fx.u_fengqi;
	u_dx = fx.u_dongxin;
	u_lsd = fx.u_lushan;
	u_grid = fx.u_grid1;
	o_partner = fx.o_jinshitu;
	o_property = fx.o_hongrun;
	id_admin = fx.uid[FX_ADMIN];
	id_shequ = fx.uid[FX_SHEQU];
	id_jiedao = fx.uid[FX_JIEDAO];
	id_shequ2 = fx.uid[FX_SHEQU2];
	id_jumin = fx.uid[FX_JUMIN];
	id_lushan = fx.uid[FX_LUSHAN];
	id_wuye = fx.uid[FX_WUYE];
	id_hehuoren = fx.uid[FX_HEHUOREN];
	id_wangge = fx.uid[FX_WANGGE];
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	int rc = fixture_stop(&fx);
	assert_int_equal(rc, 0);
	return 0;
}

/* POST /api/v1/users with a body built from a JSON object (stolen). */
static struct resp *post_user(const char *tok, json_t *b, const char *headers)
{
	char *body = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	struct resp *r = api(&S, "POST", "/api/v1/users", tok, body, headers);
	free(body);
	return r;
}

/* A valid body for a resident; callers add or replace fields. */
static json_t *user_body(const char *username)
{
	return json_pack("{s:s,s:s,s:s,s:[s]}", "username", username, "display_name", "测试用户",
	                 "password", PW, "roles", "resident");
}

static struct resp *patch_user(const char *tok, int64_t id, const char *body, const char *headers)
{
	return apihf(&S, "PATCH", tok, body, headers, "/api/v1/users/%lld", (long long)id);
}

static struct resp *get_user(const char *tok, int64_t id)
{
	return apif(&S, "GET", tok, NULL, "/api/v1/users/%lld", (long long)id);
}

static bool list_has_id(json_t *items, int64_t id)
{
	size_t i;
	json_t *x;
	json_array_foreach(items, i, x) if (jint(x, "id") == id) return true;
	return false;
}

static bool list_has_str(json_t *arr, const char *v)
{
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x) if (json_is_string(x) &&
	                                  strcmp(json_string_value(x), v) == 0) return true;
	return false;
}

/* All ids of a list query, walking every page (limit per page). Checks that no id
 * repeats. Returns a JSON array of the items (new reference). */
static json_t *walk(const char *tok, const char *query, int limit)
{
	json_t *all = json_array();
	char cursor[64] = "";
	for (int page = 0; page < 1000; page++) {
		struct resp *r =
		    cursor[0] ? apif(&S, "GET", tok, NULL, "/api/v1/users?%s%slimit=%d&cursor=%s",
		                     query, query[0] ? "&" : "", limit, cursor)
		              : apif(&S, "GET", tok, NULL, "/api/v1/users?%s%slimit=%d", query,
		                     query[0] ? "&" : "", limit);
		assert_status(r, 200);
		json_t *items = jpath(r->json, "items");
		assert_true(json_is_array(items));
		assert_true(json_array_size(items) <= (size_t)limit);
		size_t i;
		json_t *x;
		json_array_foreach(items, i, x)
		{
			if (list_has_id(all, jint(x, "id")))
				fail_msg("id %lld listed twice", (long long)jint(x, "id"));
			json_array_append(all, x);
		}
		json_t *nc = jpath(r->json, "next_cursor");
		assert_non_null(nc);
		if (json_is_null(nc)) {
			resp_free(r);
			return all;
		}
		assert_true(json_is_string(nc));
		assert_true(json_array_size(items) == (size_t)limit);
		snprintf(cursor, sizeof cursor, "%s", json_string_value(nc));
		resp_free(r);
	}
	fail_msg("paging does not end");
	return all;
}

/* ---- create ---- */

static void create_success(void **state)
{
	(void)state;
	const char *u0 = uniq("new");
	char u[96];
	snprintf(u, sizeof u, "%s", u0);
	json_t *b = json_pack("{s:s,s:s,s:s,s:[s],s:I,s:s}", "username", u, "display_name",
	                      "沙柳北路社区 李老师", "password", PW, "roles", "community_staff",
	                      "unit_id", (json_int_t)u_sl, "phone", "13812345678");
	struct resp *r = post_user(admin, b, NULL);
	assert_status(r, 201);
	int64_t id = jint(r->json, "id");
	assert_true(id > 0);
	assert_string_equal(jstr(r->json, "username"), u);
	assert_string_equal(jstr(r->json, "display_name"), "沙柳北路社区 李老师");
	assert_true(json_is_array(jpath(r->json, "roles")));
	assert_int_equal(json_array_size(jpath(r->json, "roles")), 1);
	assert_string_equal(jstr(r->json, "roles.0"), "community_staff");
	assert_int_equal(jint(r->json, "unit_id"), u_sl);
	assert_true(json_is_null(jpath(r->json, "org_id")));
	assert_true(json_is_false(jpath(r->json, "disabled")));
	assert_int_equal(jint(r->json, "version"), 1);
	assert_string_equal(jstr(r->json, "phone"), "138****5678");
	assert_null(jpath(r->json, "password"));
	assert_null(jpath(r->json, "password_hash"));
	assert_false(contains(r->body, PW));
	assert_false(contains(r->body, "13812345678"));
	assert_false(contains(r->body, "argon2"));
	char loc[128];
	snprintf(loc, sizeof loc, "/api/v1/users/%lld", (long long)id);
	assert_non_null(resp_header(r, "Location"));
	assert_true(contains(resp_header(r, "Location"), loc));
	assert_non_null(resp_header(r, "ETag"));
	assert_string_equal(resp_header(r, "ETag"), "\"1\"");
	resp_free(r);

	r = get_user(admin, id);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "username"), u);
	assert_string_equal(jstr(r->json, "phone"), "138****5678");
	assert_null(jpath(r->json, "password"));
	assert_null(jpath(r->json, "password_hash"));
	assert_string_equal(resp_header(r, "ETag"), "\"1\"");
	resp_free(r);

	/* the account logs in and works in its community */
	char *t = login(&S, u, PW);
	assert_non_null(t);
	r = get_user(t, id_jumin);
	assert_status(r, 200);
	resp_free(r);
	free(t);
}

static void create_boundary_usernames(void **state)
{
	(void)state;
	char u3[8];
	snprintf(u3, sizeof u3, "a%02d", (int)(getpid() % 100));
	/* the shortest and the longest names */
	struct resp *r = post_user(admin, user_body(u3), NULL);
	assert_status(r, 201);
	resp_free(r);
	char u64[65];
	snprintf(u64, sizeof u64, "%s", uniq("x.y-z_"));
	size_t n = strlen(u64);
	memset(u64 + n, 'q', 64 - n);
	u64[64] = '\0';
	r = post_user(admin, user_body(u64), NULL);
	assert_status(r, 201);
	assert_string_equal(jstr(r->json, "username"), u64);
	resp_free(r);
}

static void expect_create_400(const char *tok, json_t *b, const char *code, const char *field)
{
	struct resp *r = post_user(tok, b, NULL);
	assert_error(r, 400, code, field);
	resp_free(r);
}

static void create_validation(void **state)
{
	(void)state;
	json_t *b;
	/* username */
	b = user_body("x");
	json_object_del(b, "username");
	expect_create_400(admin, b, "validation_failed", "username");
	expect_create_400(admin, user_body("ab"), "validation_failed", "username");
	char long_name[70];
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	expect_create_400(admin, user_body(long_name), "validation_failed", "username");
	expect_create_400(admin, user_body("UpperCase1"), "validation_failed", "username");
	expect_create_400(admin, user_body("with space"), "validation_failed", "username");
	expect_create_400(admin, user_body("用户名字"), "validation_failed", "username");
	expect_create_400(admin, user_body("semi;colon"), "validation_failed", "username");
	b = user_body("x");
	json_object_set_new(b, "username", json_integer(12345));
	expect_create_400(admin, b, "validation_failed", "username");
	/* display_name */
	b = user_body(uniq("v"));
	json_object_del(b, "display_name");
	expect_create_400(admin, b, "validation_failed", "display_name");
	b = user_body(uniq("v"));
	json_object_set_new(b, "display_name", json_string(""));
	expect_create_400(admin, b, "validation_failed", "display_name");
	/* password */
	b = user_body(uniq("v"));
	json_object_del(b, "password");
	expect_create_400(admin, b, "validation_failed", "password");
	b = user_body(uniq("v"));
	json_object_set_new(b, "password", json_string("short1A"));
	expect_create_400(admin, b, "validation_failed", "password");
	b = user_body(uniq("v"));
	json_object_set_new(b, "password", json_string("alllowercaseletters"));
	expect_create_400(admin, b, "validation_failed", "password");
	/* roles */
	b = user_body(uniq("v"));
	json_object_del(b, "roles");
	expect_create_400(admin, b, "validation_failed", "roles");
	b = user_body(uniq("v"));
	json_object_set_new(b, "roles", json_array());
	expect_create_400(admin, b, "validation_failed", "roles");
	b = user_body(uniq("v"));
	json_object_set_new(b, "roles", json_pack("[s]", "king"));
	expect_create_400(admin, b, "validation_failed", "roles");
	b = user_body(uniq("v"));
	json_object_set_new(b, "roles", json_string("resident"));
	expect_create_400(admin, b, "validation_failed", "roles");
	b = user_body(uniq("v"));
	json_object_set_new(b, "roles", json_pack("[i]", 1));
	expect_create_400(admin, b, "validation_failed", "roles");
	/* staff and grid roles need a unit, partner and property an organisation */
	static const char *const unit_roles[] = {"subdistrict_staff", "community_staff",
	                                         "grid_worker"};
	for (size_t i = 0; i < 3; i++) {
		b = user_body(uniq("v"));
		json_object_set_new(b, "roles", json_pack("[s]", unit_roles[i]));
		expect_create_400(admin, b, "validation_failed", "unit_id");
	}
	static const char *const org_roles[] = {"partner", "property"};
	for (size_t i = 0; i < 2; i++) {
		b = user_body(uniq("v"));
		json_object_set_new(b, "roles", json_pack("[s]", org_roles[i]));
		json_object_set_new(b, "unit_id", json_integer(u_sl));
		expect_create_400(admin, b, "validation_failed", "org_id");
	}
	/* references must exist and be ids */
	b = user_body(uniq("v"));
	json_object_set_new(b, "unit_id", json_integer(99999999));
	expect_create_400(admin, b, "validation_failed", "unit_id");
	b = user_body(uniq("v"));
	json_object_set_new(b, "unit_id", json_string("3"));
	expect_create_400(admin, b, "validation_failed", "unit_id");
	b = user_body(uniq("v"));
	json_object_set_new(b, "roles", json_pack("[s]", "partner"));
	json_object_set_new(b, "org_id", json_integer(99999999));
	expect_create_400(admin, b, "validation_failed", "org_id");
	/* phone, disabled */
	b = user_body(uniq("v"));
	json_object_set_new(b, "phone", json_string("call me maybe"));
	expect_create_400(admin, b, "validation_failed", "phone");
	b = user_body(uniq("v"));
	json_object_set_new(b, "disabled", json_string("no"));
	expect_create_400(admin, b, "validation_failed", "disabled");
	/* unknown and server-owned fields */
	b = user_body(uniq("v"));
	json_object_set_new(b, "email", json_string("a@b.c"));
	expect_create_400(admin, b, "unknown_field", "email");
	b = user_body(uniq("v"));
	json_object_set_new(b, "password_hash",
	                    json_string("$argon2id$v=19$m=8,t=1,p=1$AAAA$AAAA"));
	struct resp *r = post_user(admin, b, NULL);
	assert_int_equal(r->status, 400);
	assert_string_equal(err_field(r), "password_hash");
	resp_free(r);
	b = user_body(uniq("v"));
	json_object_set_new(b, "id", json_integer(424242));
	r = post_user(admin, b, NULL);
	assert_int_equal(r->status, 400);
	assert_string_equal(err_field(r), "id");
	resp_free(r);
	b = user_body(uniq("v"));
	json_object_set_new(b, "version", json_integer(7));
	r = post_user(admin, b, NULL);
	assert_int_equal(r->status, 400);
	assert_string_equal(err_field(r), "version");
	resp_free(r);
}

static void create_bad_requests(void **state)
{
	(void)state;
	const char *u = uniq("bad");
	char body[512];
	snprintf(body, sizeof body,
	         "{\"username\":\"%s\",\"display_name\":\"d\",\"password\":\"%s\",\"roles\":["
	         "\"resident\"]}",
	         u, PW);
	struct resp *r = api(&S, "POST", "/api/v1/users", admin, body, "Content-Type: text/plain");
	assert_error(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/users", admin, "{\"username\":", NULL);
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/users", admin, "[1,2]", NULL);
	assert_int_equal(r->status, 400);
	resp_free(r);
	/* invalid UTF-8 inside a string */
	r = api(&S, "POST", "/api/v1/users", admin,
	        "{\"username\":\"utf8bad\",\"display_name\":\"\xc3\x28\",\"password\":\"" PW
	        "\",\"roles\":[\"resident\"]}",
	        NULL);
	assert_int_equal(r->status, 400);
	resp_free(r);
	/* unknown query parameter on a write */
	r = api(&S, "POST", "/api/v1/users?dry_run=true", admin, body, NULL);
	assert_error(r, 400, "unknown_field", "dry_run");
	resp_free(r);
	assert_int_equal(user_id(&S, admin, u), 0);
	assert_int_equal(user_id(&S, admin, "utf8bad"), 0);
}

static void create_duplicate(void **state)
{
	(void)state;
	const char *u0 = uniq("dup");
	char u[96];
	snprintf(u, sizeof u, "%s", u0);
	struct resp *r = post_user(admin, user_body(u), NULL);
	assert_status(r, 201);
	resp_free(r);
	r = post_user(admin, user_body(u), NULL);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);
	/* a demo account's name as well */
	r = post_user(admin, user_body("admin"), NULL);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);
	/* community staff creating a name that exists elsewhere (outside its scope) */
	json_t *b = user_body("lushan");
	json_object_set_new(b, "unit_id", json_integer(u_sl));
	r = post_user(shequ, b, NULL);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);
}

static void create_role_rank(void **state)
{
	(void)state;
	json_t *b;
	struct resp *r;
	/* community staff: not above its own rank */
	b = user_body(uniq("rk"));
	json_object_set_new(b, "roles", json_pack("[s]", "subdistrict_staff"));
	json_object_set_new(b, "unit_id", json_integer(u_sl));
	r = post_user(shequ, b, NULL);
	assert_error(r, 403, "forbidden", "roles");
	resp_free(r);
	b = user_body(uniq("rk"));
	json_object_set_new(b, "roles", json_pack("[s]", "admin"));
	json_object_set_new(b, "unit_id", json_integer(u_sl));
	r = post_user(shequ, b, NULL);
	assert_error(r, 403, "forbidden", "roles");
	resp_free(r);
	b = user_body(uniq("rk"));
	json_object_set_new(b, "roles", json_pack("[ss]", "resident", "admin"));
	json_object_set_new(b, "unit_id", json_integer(u_sl));
	r = post_user(shequ, b, NULL);
	assert_error(r, 403, "forbidden", "roles");
	resp_free(r);
	/* its own rank and below are fine */
	b = user_body(uniq("rk"));
	json_object_set_new(b, "roles", json_pack("[s]", "community_staff"));
	json_object_set_new(b, "unit_id", json_integer(u_sl));
	r = post_user(shequ, b, NULL);
	assert_status(r, 201);
	resp_free(r);
	b = user_body(uniq("rk"));
	json_object_set_new(b, "roles", json_pack("[s]", "grid_worker"));
	json_object_set_new(b, "unit_id", json_integer(u_grid));
	r = post_user(shequ, b, NULL);
	assert_status(r, 201);
	assert_int_equal(jint(r->json, "unit_id"), u_grid);
	resp_free(r);
	/* subdistrict staff: not admin */
	b = user_body(uniq("rk"));
	json_object_set_new(b, "roles", json_pack("[s]", "admin"));
	json_object_set_new(b, "unit_id", json_integer(u_dx));
	r = post_user(jiedao, b, NULL);
	assert_error(r, 403, "forbidden", "roles");
	resp_free(r);
	b = user_body(uniq("rk"));
	json_object_set_new(b, "roles", json_pack("[s]", "subdistrict_staff"));
	json_object_set_new(b, "unit_id", json_integer(u_dx));
	r = post_user(jiedao, b, NULL);
	assert_status(r, 201);
	resp_free(r);
	b = user_body(uniq("rk"));
	json_object_set_new(b, "roles", json_pack("[s]", "community_staff"));
	json_object_set_new(b, "unit_id", json_integer(u_fq));
	r = post_user(jiedao, b, NULL);
	assert_status(r, 201);
	resp_free(r);
	/* admin may grant admin */
	b = user_body(uniq("rk"));
	json_object_set_new(b, "roles", json_pack("[s]", "admin"));
	r = post_user(admin, b, NULL);
	assert_status(r, 201);
	resp_free(r);
}

static void create_out_of_scope(void **state)
{
	(void)state;
	json_t *b;
	struct resp *r;
	/* community staff: not in another community */
	const char *u0 = uniq("sc");
	char u[96];
	snprintf(u, sizeof u, "%s", u0);
	b = user_body(u);
	json_object_set_new(b, "unit_id", json_integer(u_fq));
	r = post_user(shequ, b, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	assert_int_equal(user_id(&S, admin, u), 0);
	/* nor above its community */
	b = user_body(u);
	json_object_set_new(b, "unit_id", json_integer(u_dx));
	r = post_user(shequ, b, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	/* subdistrict staff: not in another subdistrict */
	b = user_body(u);
	json_object_set_new(b, "roles", json_pack("[s]", "community_staff"));
	json_object_set_new(b, "unit_id", json_integer(u_lsd));
	r = post_user(jiedao, b, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	assert_int_equal(user_id(&S, admin, u), 0);
	/* in its own community: fine */
	b = user_body(u);
	json_object_set_new(b, "unit_id", json_integer(u_sl));
	r = post_user(shequ, b, NULL);
	assert_status(r, 201);
	assert_int_equal(jint(r->json, "unit_id"), u_sl);
	resp_free(r);
}

static void create_forbidden_roles(void **state)
{
	(void)state;
	/* residents lack users.read and users.write */
	struct resp *r = api(&S, "GET", "/api/v1/users", jumin, NULL, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = get_user(jumin, id_jumin);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = get_user(jumin, id_shequ);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	json_t *b = user_body(uniq("fb"));
	json_object_set_new(b, "unit_id", json_integer(u_sl));
	r = post_user(jumin, b, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = patch_user(jumin, id_jumin, "{\"display_name\":\"我自己\"}", NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	/* partners may read (their organisation's accounts) but not write */
	b = user_body(uniq("fb"));
	json_object_set_new(b, "roles", json_pack("[s]", "partner"));
	json_object_set_new(b, "org_id", json_integer(o_partner));
	r = post_user(hehuoren, b, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = patch_user(hehuoren, id_hehuoren, "{\"roles\":[\"admin\"]}", NULL);
	assert_int_equal(r->status, 403);
	resp_free(r);
	r = get_user(admin, id_hehuoren);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "roles.0"), "partner");
	assert_int_equal(json_array_size(jpath(r->json, "roles")), 1);
	resp_free(r);
}

static void unauthenticated(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/users", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = get_user(NULL, id_jumin);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	json_t *b = user_body(uniq("anon"));
	r = post_user(NULL, b, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = patch_user(NULL, id_jumin, "{\"display_name\":\"x\"}", NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
}

/* ---- read and scope ---- */

static void get_in_and_out_of_scope(void **state)
{
	(void)state;
	struct resp *r;
	/* community staff: own community yes, another community is not found */
	r = get_user(shequ, id_jumin);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "username"), "jumin");
	resp_free(r);
	r = get_user(shequ, id_wangge); /* grid below the community */
	assert_status(r, 200);
	resp_free(r);
	r = get_user(shequ, id_shequ2);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = get_user(shequ2, id_jumin);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = get_user(shequ, id_admin);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = get_user(shequ, id_lushan);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	/* own account always */
	r = get_user(shequ, id_shequ);
	assert_status(r, 200);
	resp_free(r);
	/* subdistrict staff: its subdistrict's communities, not another subdistrict */
	r = get_user(jiedao, id_shequ);
	assert_status(r, 200);
	resp_free(r);
	r = get_user(jiedao, id_shequ2);
	assert_status(r, 200);
	resp_free(r);
	r = get_user(jiedao, id_lushan);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	/* a partner: its organisation's accounts only */
	r = get_user(hehuoren, id_hehuoren);
	assert_status(r, 200);
	resp_free(r);
	r = get_user(hehuoren, id_wuye);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = get_user(hehuoren, id_jumin);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
}

static void get_not_found(void **state)
{
	(void)state;
	struct resp *r = get_user(admin, 99999999);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users/abc", admin, NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users/0", admin, NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users/-1", admin, NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users/1/extra", admin, NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = apif(&S, "GET", admin, NULL, "/api/v1/users/%lld?verbose=1", (long long)id_jumin);
	assert_error(r, 400, "unknown_field", "verbose");
	resp_free(r);
}

static void method_not_allowed(void **state)
{
	(void)state;
	struct resp *r = apif(&S, "DELETE", admin, NULL, "/api/v1/users/%lld", (long long)id_jumin);
	assert_error(r, 405, "method_not_allowed", NULL);
	const char *allow = resp_header(r, "Allow");
	assert_true(contains(allow, "GET"));
	assert_true(contains(allow, "PATCH"));
	assert_false(contains(allow, "DELETE"));
	resp_free(r);
	r = apif(&S, "PUT", admin, "{}", "/api/v1/users/%lld", (long long)id_jumin);
	assert_error(r, 405, "method_not_allowed", NULL);
	resp_free(r);
	r = api(&S, "PATCH", "/api/v1/users", admin, "{}", NULL);
	assert_error(r, 405, "method_not_allowed", NULL);
	allow = resp_header(r, "Allow");
	assert_true(contains(allow, "GET"));
	assert_true(contains(allow, "POST"));
	resp_free(r);
	r = api(&S, "DELETE", "/api/v1/users", admin, NULL, NULL);
	assert_error(r, 405, "method_not_allowed", NULL);
	resp_free(r);
	/* the account still exists */
	r = get_user(admin, id_jumin);
	assert_status(r, 200);
	resp_free(r);
}

/* ---- patch ---- */

static void patch_success_etag(void **state)
{
	(void)state;
	int64_t id = create_user(&S, admin, uniq("pt"), PW, "[\"resident\"]", u_sl, 0);
	assert_true(id > 0);
	struct resp *r = patch_user(admin, id, "{\"display_name\":\"新名字\"}", NULL);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "display_name"), "新名字");
	assert_int_equal(jint(r->json, "version"), 2);
	assert_string_equal(resp_header(r, "ETag"), "\"2\"");
	assert_int_equal(jint(r->json, "id"), id);
	resp_free(r);
	/* stale If-Match: 412, nothing changes */
	r = patch_user(admin, id, "{\"display_name\":\"过期\"}", "If-Match: \"1\"");
	assert_error(r, 412, "precondition_failed", NULL);
	resp_free(r);
	r = get_user(admin, id);
	assert_string_equal(jstr(r->json, "display_name"), "新名字");
	assert_int_equal(jint(r->json, "version"), 2);
	assert_string_equal(resp_header(r, "ETag"), "\"2\"");
	resp_free(r);
	/* the current version: fine */
	r = patch_user(admin, id, "{\"display_name\":\"第三\",\"phone\":\"022-2345 6789\"}",
	               "If-Match: \"2\"");
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "version"), 3);
	assert_string_equal(jstr(r->json, "display_name"), "第三");
	assert_false(contains(r->body, "2345 6789"));
	assert_true(contains(jstr(r->json, "phone"), "****"));
	resp_free(r);
	/* a version from the future is stale as well */
	r = patch_user(admin, id, "{\"display_name\":\"未来\"}", "If-Match: \"99\"");
	assert_error(r, 412, "precondition_failed", NULL);
	resp_free(r);
	/* clearing a nullable field */
	r = patch_user(admin, id, "{\"phone\":null}", NULL);
	assert_status(r, 200);
	assert_true(json_is_null(jpath(r->json, "phone")));
	resp_free(r);
	/* changing roles and unit */
	char body[256];
	snprintf(body, sizeof body, "{\"roles\":[\"community_staff\"],\"unit_id\":%lld}",
	         (long long)u_fq);
	r = patch_user(admin, id, body, NULL);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "roles.0"), "community_staff");
	assert_int_equal(jint(r->json, "unit_id"), u_fq);
	resp_free(r);
}

static void patch_validation(void **state)
{
	(void)state;
	const char *u0 = uniq("pv");
	char u[96];
	snprintf(u, sizeof u, "%s", u0);
	int64_t id = create_user(&S, admin, u, PW, "[\"resident\"]", u_sl, 0);
	assert_true(id > 0);
	struct resp *r;
	r = patch_user(admin, id, "{\"username\":\"renamed\"}", NULL);
	assert_error(r, 400, "validation_failed", "username");
	resp_free(r);
	r = patch_user(admin, id, "{\"nickname\":\"x\"}", NULL);
	assert_error(r, 400, "unknown_field", "nickname");
	resp_free(r);
	r = patch_user(admin, id, "{\"display_name\":\"\"}", NULL);
	assert_error(r, 400, "validation_failed", "display_name");
	resp_free(r);
	r = patch_user(admin, id, "{\"display_name\":null}", NULL);
	assert_error(r, 400, "validation_failed", "display_name");
	resp_free(r);
	r = patch_user(admin, id, "{\"roles\":[]}", NULL);
	assert_error(r, 400, "validation_failed", "roles");
	resp_free(r);
	r = patch_user(admin, id, "{\"roles\":[\"wizard\"]}", NULL);
	assert_error(r, 400, "validation_failed", "roles");
	resp_free(r);
	r = patch_user(admin, id, "{\"roles\":[\"partner\"]}", NULL);
	assert_error(r, 400, "validation_failed", "org_id");
	resp_free(r);
	r = patch_user(admin, id, "{\"unit_id\":null,\"roles\":[\"grid_worker\"]}", NULL);
	assert_error(r, 400, "validation_failed", "unit_id");
	resp_free(r);
	r = patch_user(admin, id, "{\"unit_id\":99999999}", NULL);
	assert_error(r, 400, "validation_failed", "unit_id");
	resp_free(r);
	r = patch_user(admin, id, "{\"disabled\":\"yes\"}", NULL);
	assert_error(r, 400, "validation_failed", "disabled");
	resp_free(r);
	r = patch_user(admin, id, "{\"password\":\"weak\"}", NULL);
	assert_error(r, 400, "validation_failed", "password");
	resp_free(r);
	r = patch_user(admin, id, "{\"version\":1}", NULL);
	assert_int_equal(r->status, 400);
	assert_string_equal(err_field(r), "version");
	resp_free(r);
	r = patch_user(admin, id, "{}", NULL);
	assert_int_equal(r->status, 400);
	resp_free(r);
	r = patch_user(admin, id, "{\"display_name\":", NULL);
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);
	r = patch_user(admin, id, "{\"display_name\":\"x\"}", "Content-Type: text/plain");
	assert_error(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	/* nothing changed */
	r = get_user(admin, id);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "version"), 1);
	assert_string_equal(jstr(r->json, "username"), u);
	assert_string_equal(jstr(r->json, "roles.0"), "resident");
	resp_free(r);
	char *t = login(&S, u, PW);
	assert_non_null(t);
	free(t);
	/* patching what does not exist */
	r = patch_user(admin, 99999999, "{\"display_name\":\"x\"}", NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "PATCH", "/api/v1/users/abc", admin, "{\"display_name\":\"x\"}", NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
}

static void patch_rank_and_scope(void **state)
{
	(void)state;
	int64_t mine = create_user(&S, admin, uniq("ps"), PW, "[\"resident\"]", u_sl, 0);
	assert_true(mine > 0);
	struct resp *r;
	/* community staff may not raise a role above its own */
	char body[256];
	snprintf(body, sizeof body, "{\"roles\":[\"subdistrict_staff\"],\"unit_id\":%lld}",
	         (long long)u_sl);
	r = patch_user(shequ, mine, body, NULL);
	assert_error(r, 403, "forbidden", "roles");
	resp_free(r);
	r = patch_user(shequ, mine, "{\"roles\":[\"admin\"]}", NULL);
	assert_error(r, 403, "forbidden", "roles");
	resp_free(r);
	/* nor its own */
	r = patch_user(shequ, id_shequ, "{\"roles\":[\"admin\"]}", NULL);
	assert_error(r, 403, "forbidden", "roles");
	resp_free(r);
	/* nor move an account out of its community */
	snprintf(body, sizeof body, "{\"unit_id\":%lld}", (long long)u_fq);
	r = patch_user(shequ, mine, body, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	/* accounts of another community are not found */
	r = patch_user(shequ, id_shequ2, "{\"display_name\":\"hijack\"}", NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = patch_user(shequ, id_admin, "{\"display_name\":\"hijack\"}", NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = patch_user(jiedao, id_lushan, "{\"disabled\":true}", NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	/* subdistrict staff may not change the district admin */
	r = patch_user(jiedao, id_admin, "{\"password\":\"Hijacked-2026!\"}", NULL);
	assert_true(r->status == 403 || r->status == 404);
	resp_free(r);
	char *t = login(&S, "admin", ADMIN_PW);
	assert_non_null(t);
	free(t);
	/* in scope and rank: fine */
	r = patch_user(shequ, mine, "{\"display_name\":\"社区改的\"}", NULL);
	assert_status(r, 200);
	resp_free(r);
	/* shequ2's and lushan's accounts unchanged */
	r = get_user(admin, id_shequ2);
	assert_string_not_equal(jstr(r->json, "display_name"), "hijack");
	resp_free(r);
	r = get_user(admin, id_lushan);
	assert_true(json_is_false(jpath(r->json, "disabled")));
	resp_free(r);
}

static void patch_account_above_rank(void **state)
{
	(void)state;
	/* a subdistrict staff account placed in 沙柳北路社区: within shequ's area, but
	 * above its rank — shequ may not change, demote or disable it */
	const char *u0 = uniq("hi");
	char u[96];
	snprintf(u, sizeof u, "%s", u0);
	int64_t id = create_user(&S, admin, u, PW, "[\"subdistrict_staff\"]", u_sl, 0);
	assert_true(id > 0);
	struct resp *r = get_user(shequ, id);
	assert_status(r, 200);
	resp_free(r);
	r = patch_user(shequ, id, "{\"roles\":[\"resident\"]}", NULL);
	assert_int_equal(r->status, 403);
	assert_string_equal(err_code(r), "forbidden");
	resp_free(r);
	r = patch_user(shequ, id, "{\"disabled\":true}", NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = patch_user(shequ, id, "{\"password\":\"Taken-Over-2026\"}", NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = get_user(admin, id);
	assert_int_equal(jint(r->json, "version"), 1);
	assert_true(json_is_false(jpath(r->json, "disabled")));
	assert_string_equal(jstr(r->json, "roles.0"), "subdistrict_staff");
	resp_free(r);
	char *t = login(&S, u, PW);
	assert_non_null(t);
	free(t);
	/* a peer (subdistrict staff) may */
	r = patch_user(jiedao, id, "{\"display_name\":\"同级修改\"}", NULL);
	assert_status(r, 200);
	resp_free(r);
}

static void patch_password(void **state)
{
	(void)state;
	const char *u0 = uniq("pp");
	char u[96];
	snprintf(u, sizeof u, "%s", u0);
	int64_t id = create_user(&S, admin, u, PW, "[\"resident\"]", u_sl, 0);
	assert_true(id > 0);
	struct resp *r = patch_user(admin, id, "{\"password\":\"Reset-Pass-2026\"}", NULL);
	assert_status(r, 200);
	assert_null(jpath(r->json, "password"));
	assert_null(jpath(r->json, "password_hash"));
	assert_false(contains(r->body, "Reset-Pass-2026"));
	resp_free(r);
	r = login_resp(&S, u, PW);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	char *t = login(&S, u, "Reset-Pass-2026");
	assert_non_null(t);
	free(t);
}

static void disable_user(void **state)
{
	(void)state;
	const char *u0 = uniq("dis");
	char u[96];
	snprintf(u, sizeof u, "%s", u0);
	int64_t id = create_user(&S, admin, u, PW, "[\"community_staff\"]", u_sl, 0);
	assert_true(id > 0);
	char *t = login(&S, u, PW);
	assert_non_null(t);
	struct resp *r = api(&S, "GET", "/api/v1/auth/me", t, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	/* community staff disables the account of its community */
	r = patch_user(shequ, id, "{\"disabled\":true}", NULL);
	assert_status(r, 200);
	assert_true(json_is_true(jpath(r->json, "disabled")));
	resp_free(r);
	/* its sessions end at once, and it cannot log in */
	r = api(&S, "GET", "/api/v1/auth/me", t, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users", t, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = login_resp(&S, u, PW);
	assert_error(r, 403, "forbidden", NULL);
	assert_null(jpath(r->json, "token"));
	resp_free(r);
	/* a wrong password still says 401 (no hint that the account exists) */
	r = login_resp(&S, u, "Wrong-Pass-2026");
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	/* listed as disabled */
	r = apif(&S, "GET", admin, NULL, "/api/v1/users?disabled=true&limit=500");
	assert_status(r, 200);
	assert_true(list_has_id(jpath(r->json, "items"), id));
	resp_free(r);
	r = apif(&S, "GET", admin, NULL, "/api/v1/users?disabled=false&limit=500");
	assert_status(r, 200);
	assert_false(list_has_id(jpath(r->json, "items"), id));
	assert_true(list_has_id(jpath(r->json, "items"), id_jumin));
	resp_free(r);
	/* enabled again, it logs in */
	r = patch_user(admin, id, "{\"disabled\":false}", NULL);
	assert_status(r, 200);
	assert_true(json_is_false(jpath(r->json, "disabled")));
	resp_free(r);
	char *t2 = login(&S, u, PW);
	assert_non_null(t2);
	/* the old session stays ended */
	r = api(&S, "GET", "/api/v1/auth/me", t, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	free(t);
	free(t2);
}

static void disable_ends_cookie_sessions_too(void **state)
{
	(void)state;
	const char *u0 = uniq("dc");
	char u[96];
	snprintf(u, sizeof u, "%s", u0);
	int64_t id = create_user(&S, admin, u, PW, "[\"resident\"]", u_sl, 0);
	assert_true(id > 0);
	struct resp *l = login_resp(&S, u, PW);
	assert_status(l, 200);
	char h[256];
	snprintf(h, sizeof h, "Cookie: gz_session=%s", jstr(l->json, "token"));
	struct resp *r = api(&S, "GET", "/api/v1/auth/me", NULL, NULL, h);
	assert_status(r, 200);
	resp_free(r);
	r = patch_user(admin, id, "{\"disabled\":true}", NULL);
	assert_status(r, 200);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", NULL, NULL, h);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	resp_free(l);
}

static void role_change_takes_effect(void **state)
{
	(void)state;
	/* a session sees a change of its account's roles at once */
	const char *u0 = uniq("rc");
	char u[96];
	snprintf(u, sizeof u, "%s", u0);
	int64_t id = create_user(&S, admin, u, PW, "[\"community_staff\"]", u_sl, 0);
	assert_true(id > 0);
	char *t = login(&S, u, PW);
	assert_non_null(t);
	struct resp *r = api(&S, "GET", "/api/v1/users", t, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	r = patch_user(admin, id, "{\"roles\":[\"resident\"]}", NULL);
	assert_status(r, 200);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users", t, NULL, NULL);
	if (r->status == 200)
		print_error("a demoted account still lists users\n");
	assert_true(r->status == 403 || r->status == 401);
	resp_free(r);
	free(t);
}

/* ---- idempotency ---- */

static void idempotency_key(void **state)
{
	(void)state;
	const char *u0 = uniq("idem");
	char u[96], key[128], hdr[256];
	snprintf(u, sizeof u, "%s", u0);
	snprintf(key, sizeof key, "key-%s", u);
	snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", key);
	json_t *b = user_body(u);
	json_object_set_new(b, "unit_id", json_integer(u_sl));
	char *body = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	struct resp *r1 = api(&S, "POST", "/api/v1/users", admin, body, hdr);
	assert_status(r1, 201);
	assert_null(resp_header(r1, "Idempotent-Replayed"));
	int64_t id = jint(r1->json, "id");
	struct resp *r2 = api(&S, "POST", "/api/v1/users", admin, body, hdr);
	assert_status(r2, 201);
	assert_non_null(resp_header(r2, "Idempotent-Replayed"));
	assert_string_equal(resp_header(r2, "Idempotent-Replayed"), "true");
	assert_int_equal(jint(r2->json, "id"), id);
	assert_string_equal(jstr(r2->json, "username"), u);
	if (resp_header(r1, "Location"))
		assert_string_equal(resp_header(r2, "Location"), resp_header(r1, "Location"));
	/* nothing new was created: exactly one account of that name */
	struct resp *l = apif(&S, "GET", admin, NULL, "/api/v1/users?username=%s&count=true", u);
	assert_status(l, 200);
	assert_int_equal(jint(l->json, "total"), 1);
	assert_int_equal(json_array_size(jpath(l->json, "items")), 1);
	resp_free(l);
	/* the same key with another body is refused (issue 9: a key is bound to its
	 * request) and creates nothing */
	char u2[96];
	snprintf(u2, sizeof u2, "%s", uniq("idem"));
	json_t *b2 = user_body(u2);
	char *body2 = json_dumps(b2, JSON_COMPACT);
	json_decref(b2);
	struct resp *r3 = api(&S, "POST", "/api/v1/users", admin, body2, hdr);
	assert_error(r3, 409, "conflict", "Idempotency-Key");
	assert_null(resp_header(r3, "Idempotent-Replayed"));
	resp_free(r3);
	l = apif(&S, "GET", admin, NULL, "/api/v1/users?username=%s&count=true", u2);
	assert_status(l, 200);
	assert_int_equal(jint(l->json, "total"), 0);
	resp_free(l);
	/* another account with the same key is not replayed: its own request runs
	 * (here it conflicts, as the name exists) */
	struct resp *r4 = api(&S, "POST", "/api/v1/users", shequ, body, hdr);
	assert_null(resp_header(r4, "Idempotent-Replayed"));
	assert_error(r4, 409, "conflict", NULL);
	resp_free(r4);
	/* a failed request under a new key is not cached as success */
	snprintf(hdr, sizeof hdr, "Idempotency-Key: other-%s", key);
	struct resp *r5 = api(&S, "POST", "/api/v1/users", admin, body, hdr);
	assert_error(r5, 409, "conflict", NULL);
	resp_free(r5);
	free(body);
	free(body2);
	resp_free(r1);
	resp_free(r2);
}

/* ---- lists ---- */

static void list_shape_and_paging(void **state)
{
	(void)state;
	const char *p0 = uniq("pg");
	char prefix[96];
	snprintf(prefix, sizeof prefix, "%s", p0);
	int64_t ids[7];
	for (int i = 0; i < 7; i++) {
		char u[128];
		snprintf(u, sizeof u, "%sn%d", prefix, i);
		ids[i] = create_user(&S, admin, u, PW, "[\"resident\"]", u_sl, 0);
		assert_true(ids[i] > 0);
	}
	char q[160];
	snprintf(q, sizeof q, "q=%s", prefix);
	json_t *all = walk(admin, q, 2);
	assert_int_equal(json_array_size(all), 7);
	for (int i = 0; i < 7; i++)
		assert_true(list_has_id(all, ids[i]));
	json_decref(all);
	/* count */
	struct resp *r =
	    apif(&S, "GET", admin, NULL, "/api/v1/users?q=%s&count=true&limit=3", prefix);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "total"), 7);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 3);
	assert_true(json_is_string(jpath(r->json, "next_cursor")));
	resp_free(r);
	r = apif(&S, "GET", admin, NULL, "/api/v1/users?q=%s", prefix);
	assert_status(r, 200);
	assert_null(jpath(r->json, "total"));
	assert_true(json_is_null(jpath(r->json, "next_cursor")));
	/* items carry no secrets */
	assert_false(contains(r->body, "password"));
	assert_false(contains(r->body, "argon2"));
	resp_free(r);
	/* the whole list pages without repeats, and matches the total */
	all = walk(admin, "", 3);
	r = api(&S, "GET", "/api/v1/users?count=true&limit=1", admin, NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "total"), (int64_t)json_array_size(all));
	assert_int_equal(json_array_size(jpath(r->json, "items")), 1);
	resp_free(r);
	json_decref(all);
}

static void list_limit_rules(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "0", "501", "-1", "abc", "1.5", "", "99999999999999999999"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct resp *r = apif(&S, "GET", admin, NULL, "/api/v1/users?limit=%s", bad[i]);
		if (r->status != 400)
			print_error("limit=%s accepted\n", bad[i]);
		assert_error(r, 400, "validation_failed", "limit");
		resp_free(r);
	}
	struct resp *r = api(&S, "GET", "/api/v1/users?limit=500", admin, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users?limit=1", admin, NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 1);
	assert_true(json_is_string(jpath(r->json, "next_cursor")));
	resp_free(r);
	/* default limit 50 */
	for (int i = 0; i < 45; i++) {
		char u[96];
		snprintf(u, sizeof u, "%s", uniq("lim"));
		assert_true(create_user(&S, admin, u, PW, "[\"resident\"]", u_sl, 0) > 0);
	}
	r = api(&S, "GET", "/api/v1/users", admin, NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 50);
	assert_true(json_is_string(jpath(r->json, "next_cursor")));
	resp_free(r);
	/* bad cursors and counts */
	r = api(&S, "GET", "/api/v1/users?cursor=garbage", admin, NULL, NULL);
	assert_error(r, 400, "validation_failed", "cursor");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users?count=yes", admin, NULL, NULL);
	assert_error(r, 400, "validation_failed", "count");
	resp_free(r);
}

static void list_unknown_params(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/users?foo=1", admin, NULL, NULL);
	assert_error(r, 400, "unknown_field", "foo");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users?limit=5&sort=username", admin, NULL, NULL);
	assert_error(r, 400, "unknown_field", "sort");
	resp_free(r);
	/* fields that are not filters */
	r = api(&S, "GET", "/api/v1/users?password=x", admin, NULL, NULL);
	assert_error(r, 400, "unknown_field", "password");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users?password_hash=x", admin, NULL, NULL);
	assert_error(r, 400, "unknown_field", "password_hash");
	resp_free(r);
	/* badly typed filters */
	r = api(&S, "GET", "/api/v1/users?unit_id=abc", admin, NULL, NULL);
	assert_error(r, 400, "validation_failed", "unit_id");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users?disabled=maybe", admin, NULL, NULL);
	assert_error(r, 400, "validation_failed", "disabled");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users?within=99999999", admin, NULL, NULL);
	assert_error(r, 400, "validation_failed", "within");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users?within=abc", admin, NULL, NULL);
	assert_error(r, 400, "validation_failed", "within");
	resp_free(r);
}

static void list_filters(void **state)
{
	(void)state;
	size_t i;
	json_t *x;
	/* roles */
	json_t *all = walk(admin, "roles=community_staff", 100);
	assert_true(list_has_id(all, id_shequ));
	assert_true(list_has_id(all, id_shequ2));
	assert_false(list_has_id(all, id_jumin));
	json_array_foreach(all, i, x)
	    assert_true(list_has_str(jpath(x, "roles"), "community_staff"));
	json_decref(all);
	/* unit_id: exactly that unit */
	char q[128];
	snprintf(q, sizeof q, "unit_id=%lld", (long long)u_sl);
	all = walk(admin, q, 100);
	assert_true(list_has_id(all, id_shequ));
	assert_true(list_has_id(all, id_jumin));
	assert_false(list_has_id(all, id_wangge)); /* in a grid below */
	json_array_foreach(all, i, x) assert_int_equal(jint(x, "unit_id"), u_sl);
	json_decref(all);
	/* within: the subtree */
	snprintf(q, sizeof q, "within=%lld", (long long)u_sl);
	all = walk(admin, q, 100);
	assert_true(list_has_id(all, id_shequ));
	assert_true(list_has_id(all, id_wangge));
	assert_false(list_has_id(all, id_shequ2));
	assert_false(list_has_id(all, id_admin));
	json_decref(all);
	snprintf(q, sizeof q, "within=%lld", (long long)u_dx);
	all = walk(admin, q, 100);
	assert_true(list_has_id(all, id_shequ));
	assert_true(list_has_id(all, id_shequ2));
	assert_true(list_has_id(all, id_wangge));
	assert_false(list_has_id(all, id_lushan));
	assert_false(list_has_id(all, id_wuye));
	json_decref(all);
	/* org_id */
	snprintf(q, sizeof q, "org_id=%lld", (long long)o_property);
	all = walk(admin, q, 100);
	assert_true(list_has_id(all, id_wuye));
	assert_false(list_has_id(all, id_hehuoren));
	json_decref(all);
	/* q: a substring of the username or the display name (Chinese works) */
	all = walk(admin, "q=shequ", 100);
	assert_true(list_has_id(all, id_shequ));
	assert_true(list_has_id(all, id_shequ2));
	assert_false(list_has_id(all, id_jumin));
	json_decref(all);
	struct resp *r = get_user(admin, id_jumin);
	char dn[256];
	snprintf(dn, sizeof dn, "%s", jstr(r->json, "display_name"));
	resp_free(r);
	assert_true(strlen(dn) >= 6);
	/* the last two characters (UTF-8) of jumin's display name, URL-encoded */
	const char *tail = dn + strlen(dn);
	for (int k = 0; k < 2; k++)
		do
			tail--;
		while ((*tail & 0xc0) == 0x80);
	char enc[128] = "q=";
	for (const unsigned char *p = (const unsigned char *)tail; *p; p++)
		snprintf(enc + strlen(enc), sizeof enc - strlen(enc), "%%%02X", *p);
	all = walk(admin, enc, 100);
	assert_true(list_has_id(all, id_jumin));
	json_decref(all);
	/* LIKE wildcards are literal */
	all = walk(admin, "q=%25", 100);
	assert_int_equal(json_array_size(all), 0);
	json_decref(all);
	all = walk(admin, "q=_", 100);
	json_array_foreach(all, i, x) assert_true(contains(jstr(x, "username"), "_") ||
	                                          contains(jstr(x, "display_name"), "_"));
	json_decref(all);
	/* combined filters */
	snprintf(q, sizeof q, "roles=resident&within=%lld", (long long)u_sl);
	all = walk(admin, q, 100);
	assert_true(list_has_id(all, id_jumin));
	assert_false(list_has_id(all, id_shequ));
	json_decref(all);
}

static void list_scope(void **state)
{
	(void)state;
	size_t i;
	json_t *x;
	/* a user created in 沙柳北路社区 is visible to shequ, not to shequ2 */
	const char *u0 = uniq("ls");
	char u[96];
	snprintf(u, sizeof u, "%s", u0);
	int64_t id = create_user(&S, shequ, u, PW, "[\"resident\"]", u_sl, 0);
	assert_true(id > 0);
	json_t *a = walk(shequ, "", 50);
	assert_true(list_has_id(a, id));
	assert_true(list_has_id(a, id_jumin));
	assert_true(list_has_id(a, id_wangge));
	assert_false(list_has_id(a, id_shequ2));
	assert_false(list_has_id(a, id_admin));
	assert_false(list_has_id(a, id_lushan));
	assert_false(list_has_id(a, id_jiedao));
	json_decref(a);
	json_t *b = walk(shequ2, "", 50);
	assert_false(list_has_id(b, id));
	assert_false(list_has_id(b, id_jumin));
	assert_true(list_has_id(b, id_shequ2));
	json_array_foreach(b, i, x)
	    assert_true(jint(x, "id") == id_shequ2 || jint(x, "unit_id") != u_sl);
	json_decref(b);
	/* count follows the scope as well */
	struct resp *r = api(&S, "GET", "/api/v1/users?count=true&limit=1", shequ2, NULL, NULL);
	struct resp *ra = api(&S, "GET", "/api/v1/users?count=true&limit=1", admin, NULL, NULL);
	assert_status(r, 200);
	assert_true(jint(r->json, "total") < jint(ra->json, "total"));
	resp_free(r);
	resp_free(ra);
	/* subdistrict staff: not the other subdistrict */
	json_t *c = walk(jiedao, "", 100);
	assert_true(list_has_id(c, id));
	assert_true(list_has_id(c, id_shequ2));
	assert_false(list_has_id(c, id_lushan));
	assert_false(list_has_id(c, id_wuye));
	json_decref(c);
	/* a partner: its organisation only */
	json_t *d = walk(hehuoren, "", 100);
	assert_true(list_has_id(d, id_hehuoren));
	assert_false(list_has_id(d, id_wuye));
	assert_false(list_has_id(d, id_jumin));
	json_array_foreach(d, i, x) assert_int_equal(jint(x, "org_id"), o_partner);
	json_decref(d);
	/* filters cannot widen the scope */
	char q[64];
	snprintf(q, sizeof q, "within=%lld", (long long)u_fq);
	json_t *e = walk(shequ, q, 100);
	assert_int_equal(json_array_size(e), 0);
	json_decref(e);
}

static void phone_masked_everywhere(void **state)
{
	(void)state;
	const char *u0 = uniq("ph");
	char u[96];
	snprintf(u, sizeof u, "%s", u0);
	json_t *b = user_body(u);
	json_object_set_new(b, "unit_id", json_integer(u_sl));
	json_object_set_new(b, "phone", json_string("13987654321"));
	struct resp *r = post_user(admin, b, NULL);
	assert_status(r, 201);
	int64_t id = jint(r->json, "id");
	assert_string_equal(jstr(r->json, "phone"), "139****4321");
	resp_free(r);
	r = apif(&S, "GET", admin, NULL, "/api/v1/users?username=%s", u);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 1);
	assert_string_equal(jstr(r->json, "items.0.phone"), "139****4321");
	assert_false(contains(r->body, "13987654321"));
	resp_free(r);
	r = get_user(shequ, id);
	assert_status(r, 200);
	assert_false(contains(r->body, "13987654321"));
	resp_free(r);
}

/* A fresh account of the role in the unit (made by admin), logged in. */
static char *fresh(const char *role, int64_t unit, int64_t org, int64_t *id)
{
	const char *u = uniq("esc");
	char name[64];
	snprintf(name, sizeof name, "%s", u);
	*id = create_user(&S, admin, name, PW, F("[\"%s\"]", role), unit, org);
	assert_true(*id > 0);
	char *t = login(&S, name, PW);
	assert_non_null(t);
	return t;
}

/* The escapes found by trying account administration as an attacker would: a staff
 * account moving itself up the tree, giving itself a second role, binding itself to
 * a property company; each is refused and changes nothing. */
static void self_escape_refused(void **state)
{
	(void)state;
	int64_t me;
	char *t = fresh("community_staff", u_sl, 0, &me);
	struct resp *r;
	/* its own unit: not to the district, not to its subdistrict, not even down */
	int64_t u_district = unit_id(&S, admin, "河东区");
	assert_true(u_district > 0);
	int64_t targets[] = {u_district, u_dx, u_grid};
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		r = patch_user(t, me, F("{\"unit_id\":%lld}", (long long)targets[i]), NULL);
		assert_error(r, 403, "forbidden", "unit_id");
		resp_free(r);
	}
	r = patch_user(t, me, "{\"unit_id\":null}", NULL);
	assert_error(r, 403, "forbidden", "unit_id");
	resp_free(r);
	/* a second role, even one below its own */
	r = patch_user(t, me, "{\"roles\":[\"community_staff\",\"grid_worker\"]}", NULL);
	assert_error(r, 403, "forbidden", "roles");
	resp_free(r);
	r = patch_user(t, me, "{\"roles\":[\"resident\"]}", NULL);
	assert_error(r, 403, "forbidden", "roles");
	resp_free(r);
	/* an organisation: it would act as that company's handler */
	r = patch_user(t, me, F("{\"org_id\":%lld}", (long long)o_property), NULL);
	assert_int_equal(r->status / 100, 4);
	resp_free(r);
	r = patch_user(t, me, "{\"disabled\":true}", NULL);
	assert_error(r, 403, "forbidden", "disabled");
	resp_free(r);
	/* nothing changed, and the session still reaches only its community */
	r = get_user(admin, me);
	assert_int_equal(jint(r->json, "unit_id"), u_sl);
	assert_true(json_is_null(jpath(r->json, "org_id")));
	assert_int_equal(json_array_size(jpath(r->json, "roles")), 1);
	assert_string_equal(jstr(r->json, "roles.0"), "community_staff");
	resp_free(r);
	r = get_user(t, id_shequ2);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	/* other accounts' passwords stay out of reach */
	r = patch_user(t, id_lushan, "{\"password\":\"Hijacked-2026!x\"}", NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	/* what it may change on itself: its name, and values sent back unchanged */
	r = patch_user(
	    t, me,
	    F("{\"display_name\":\"改名\",\"unit_id\":%lld,\"roles\":[\"community_staff\"],"
	      "\"disabled\":false,\"org_id\":null}",
	      (long long)u_sl),
	    NULL);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "display_name"), "改名");
	resp_free(r);
	free(t);
}

/* Admin too: another admin changes an admin's roles, unit or status. */
static void admin_cannot_rescope_itself(void **state)
{
	(void)state;
	struct resp *r = patch_user(admin, id_admin, "{\"roles\":[\"admin\",\"resident\"]}", NULL);
	assert_error(r, 403, "forbidden", "roles");
	resp_free(r);
	r = patch_user(admin, id_admin, F("{\"unit_id\":%lld}", (long long)u_sl), NULL);
	assert_error(r, 403, "forbidden", "unit_id");
	resp_free(r);
	r = patch_user(admin, id_admin, "{\"disabled\":true}", NULL);
	assert_error(r, 403, "forbidden", "disabled");
	resp_free(r);
	/* a second admin may */
	int64_t other;
	char *t2 = fresh("admin", 0, 0, &other);
	r = patch_user(t2, other, "{\"disabled\":true}", NULL);
	assert_error(r, 403, "forbidden", "disabled");
	resp_free(r);
	r = patch_user(admin, other, "{\"disabled\":true}", NULL);
	assert_status(r, 200);
	resp_free(r);
	free(t2);
}

/* An account is bound only to an organisation tied to the actor's subtree. */
static void org_binding_in_scope(void **state)
{
	(void)state;
	int64_t o_hospital = org_id(&S, admin, "武警特色医学中心"); /* registered in 沙柳北路 */
	assert_true(o_hospital > 0);
	struct resp *r;
	/* the property company is registered in 鲁山道街道: not shequ's to hand out */
	json_t *b = user_body(uniq("ob"));
	json_object_set_new(b, "roles", json_pack("[s]", "property"));
	json_object_set_new(b, "unit_id", json_integer(u_sl));
	json_object_set_new(b, "org_id", json_integer(o_property));
	r = post_user(shequ, b, NULL);
	assert_error(r, 400, "validation_failed", "org_id");
	/* the same answer as for an organisation that does not exist */
	char *msg_scope = strdup(jstr(r->json, "error.message"));
	resp_free(r);
	b = user_body(uniq("ob"));
	json_object_set_new(b, "roles", json_pack("[s]", "property"));
	json_object_set_new(b, "unit_id", json_integer(u_sl));
	json_object_set_new(b, "org_id", json_integer(o_property + 100000));
	r = post_user(shequ, b, NULL);
	assert_error(r, 400, "validation_failed", "org_id");
	char *want = strdup(F("org_id: no org with id %lld", (long long)o_property));
	assert_string_equal(msg_scope, want);
	free(want);
	free(msg_scope);
	resp_free(r);
	/* nor by a patch of an account in scope */
	int64_t mine = create_user(&S, admin, uniq("ob"), PW, "[\"resident\"]", u_sl, 0);
	r = patch_user(shequ, mine,
	               F("{\"roles\":[\"partner\"],\"org_id\":%lld}", (long long)o_partner), NULL);
	assert_error(r, 400, "validation_failed", "org_id");
	resp_free(r);
	/* jiedao (东新街道) reaches the partner registered in its subdistrict */
	r = patch_user(jiedao, mine,
	               F("{\"roles\":[\"partner\"],\"org_id\":%lld}", (long long)o_partner), NULL);
	assert_status(r, 200);
	resp_free(r);
	/* an organisation registered in shequ's community: fine */
	b = user_body(uniq("ob"));
	json_object_set_new(b, "roles", json_pack("[s]", "partner"));
	json_object_set_new(b, "unit_id", json_integer(u_sl));
	json_object_set_new(b, "org_id", json_integer(o_hospital));
	r = post_user(shequ, b, NULL);
	assert_status(r, 201);
	assert_int_equal(jint(r->json, "org_id"), o_hospital);
	resp_free(r);
	/* admin binds anywhere */
	b = user_body(uniq("ob"));
	json_object_set_new(b, "roles", json_pack("[s]", "property"));
	json_object_set_new(b, "org_id", json_integer(o_property));
	r = post_user(admin, b, NULL);
	assert_status(r, 201);
	resp_free(r);
}

/* "Not found" and "outside your scope" are one answer. */
static void not_found_equals_out_of_scope(void **state)
{
	(void)state;
	struct resp *a = get_user(shequ, id_shequ2);
	struct resp *b = get_user(shequ, 99999999);
	assert_error(a, 404, "not_found", NULL);
	assert_error(b, 404, "not_found", NULL);
	char *ma = strdup(jstr(a->json, "error.message"));
	char *want = strdup(F("no user with id %lld", (long long)id_shequ2));
	assert_string_equal(ma, want);
	assert_string_equal(jstr(b->json, "error.message"), "no user with id 99999999");
	free(ma);
	free(want);
	resp_free(a);
	resp_free(b);
	a = patch_user(shequ, id_shequ2, "{\"display_name\":\"x\"}", NULL);
	assert_error(a, 404, "not_found", NULL);
	assert_string_equal(jstr(a->json, "error.message"),
	                    F("no user with id %lld", (long long)id_shequ2));
	resp_free(a);
}

/* ---- last login and the exports ---- */

static void last_login_set_by_login(void **state)
{
	(void)state;
	const char *u = uniq("ll");
	int64_t id = create_user(&S, admin, u, PW, "[\"community_staff\"]", u_sl, 0);
	struct resp *r = apif(&S, "GET", admin, NULL, "/api/v1/users/%lld", (long long)id);
	assert_status(r, 200);
	assert_true(json_is_null(jpath(r->json, "last_login_at")));
	int64_t version = jint(r->json, "version");
	resp_free(r);
	/* a failed login leaves it; a successful one sets it, as list and detail show */
	r = login_resp(&S, u, "Wrong-Pass-2026");
	assert_status(r, 401);
	resp_free(r);
	r = apif(&S, "GET", admin, NULL, "/api/v1/users/%lld", (long long)id);
	assert_true(json_is_null(jpath(r->json, "last_login_at")));
	resp_free(r);
	char *t = login(&S, u, PW);
	assert_non_null(t);
	r = apif(&S, "GET", admin, NULL, "/api/v1/users/%lld", (long long)id);
	assert_status(r, 200);
	const char *first = jstr(r->json, "last_login_at");
	assert_true(strlen(first) > 20 && contains(first, "+08:00"));
	/* not an edit: the version (and with it a form's If-Match) stays */
	assert_int_equal(jint(r->json, "version"), version);
	char was[64];
	snprintf(was, sizeof was, "%s", first);
	resp_free(r);
	r = apif(&S, "GET", admin, NULL, "/api/v1/users?username=%s", u);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "items.0.last_login_at"), was);
	resp_free(r);
	/* the account itself sees it (owner read) */
	r = apif(&S, "GET", t, NULL, "/api/v1/users/%lld", (long long)id);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "last_login_at"), was);
	resp_free(r);
	free(t);
	msleep(5);
	t = login(&S, u, PW);
	r = apif(&S, "GET", admin, NULL, "/api/v1/users/%lld", (long long)id);
	assert_string_not_equal(jstr(r->json, "last_login_at"), was);
	assert_true(strcmp(jstr(r->json, "last_login_at"), was) > 0);
	resp_free(r);
	free(t);
	/* read-only: a client cannot set it */
	r = apif(&S, "PATCH", admin, "{\"last_login_at\":\"2020-01-01T00:00:00+08:00\"}",
	         "/api/v1/users/%lld", (long long)id);
	assert_status(r, 400);
	assert_string_equal(err_field(r), "last_login_at");
	resp_free(r);
}

static int csv_lines(const char *body)
{
	int n = 0;
	for (const char *p = body; (p = strstr(p, "\r\n")); p += 2)
		n++;
	return n;
}

static void users_export(void **state)
{
	(void)state;
	/* an account with a phone: masked in both formats */
	const char *u = uniq("ex");
	int64_t id =
	    post_id(&S, admin, "/api/v1/users",
	            F("{\"username\":\"%s\",\"display_name\":\"导出测试\",\"password\":\"%s\","
	              "\"roles\":[\"grid_worker\"],\"unit_id\":%lld,\"phone\":\"13912345678\"}",
	              u, PW, (long long)u_grid));
	struct resp *r = apif(&S, "GET", admin, NULL, "/api/v1/users/export.csv?username=%s", u);
	assert_status(r, 200);
	assert_true(contains(resp_header(r, "Content-Type"), "text/csv"));
	assert_true(contains(resp_header(r, "Content-Disposition"), "users.csv"));
	static const char head_csv[] =
	    "\xEF\xBB\xBF编号,用户名,姓名,角色,所属单位,所属组织,手机号码,已停用,最后登录时间,"
	    "创建时间,更新时间\r\n";
	assert_true(strncmp(r->body, head_csv, sizeof head_csv - 1) == 0);
	assert_int_equal(csv_lines(r->body), 2);
	assert_true(contains(r->body, F("%lld,%s,导出测试,网格员,", (long long)id, u)));
	assert_true(contains(r->body, "139****5678"));
	assert_false(contains(r->body, "13912345678"));
	assert_false(contains(r->body, "password"));
	resp_free(r);

	json_t *rows = xlsx_get(&S, admin, F("/api/v1/users/export.xlsx?username=%s", u));
	assert_int_equal(json_array_size(rows), 2);
	json_t *h = json_array_get(rows, 0), *row = json_array_get(rows, 1);
	assert_string_equal(jstr(h, "B"), "用户名");
	assert_string_equal(jstr(h, "I"), "最后登录时间");
	assert_int_equal((int64_t)json_number_value(json_object_get(row, "A")), id);
	assert_string_equal(jstr(row, "B"), u);
	assert_string_equal(jstr(row, "D"), "网格员");
	assert_true(contains(jstr(row, "E"), "网格"));      /* the unit's name, not its id */
	assert_string_equal(jstr(row, "G"), "139****5678"); /* masked */
	assert_string_equal(jstr(row, "H"), "否");
	assert_null(json_object_get(row, "I"));                 /* never signed in: empty */
	assert_true(strncmp(jstr(row, "J"), "date:4", 6) == 0); /* 创建时间, an Excel date */
	json_decref(rows);

	/* the list's scope and filters: as many rows as the list's total, for each role */
	const char *who[] = {admin, jiedao, shequ, shequ2, hehuoren};
	for (size_t k = 0; k < sizeof who / sizeof *who; k++) {
		int64_t total = total_count(&S, who[k], "/api/v1/users", "");
		r = api(&S, "GET", "/api/v1/users/export.csv", who[k], NULL, NULL);
		assert_status(r, 200);
		assert_int_equal(csv_lines(r->body) - 1, total);
		resp_free(r);
		rows = xlsx_get(&S, who[k], "/api/v1/users/export.xlsx?disabled=false");
		assert_int_equal((int64_t)json_array_size(rows) - 1,
		                 total_count(&S, who[k], "/api/v1/users", "disabled=false"));
		json_decref(rows);
	}
	/* shequ's export holds no account of another community */
	r = api(&S, "GET", "/api/v1/users/export.csv", shequ, NULL, NULL);
	assert_false(contains(r->body, ",shequ2,"));
	assert_true(contains(r->body, ",shequ,"));
	resp_free(r);

	r = api(&S, "GET", "/api/v1/users/export.csv?colour=red", admin, NULL, NULL);
	assert_error(r, 400, "unknown_field", "colour");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users/export.xlsx?disabled=maybe", admin, NULL, NULL);
	assert_error(r, 400, "validation_failed", "disabled");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users/export.xlsx", jumin, NULL, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users/export.csv", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
}

static void orgs_export(void **state)
{
	(void)state;
	int64_t total = total_count(&S, admin, "/api/v1/orgs", "kind=property_company");
	json_t *rows = xlsx_get(&S, hehuoren, "/api/v1/orgs/export.xlsx?kind=property_company");
	assert_int_equal((int64_t)json_array_size(rows) - 1, total);
	assert_string_equal(jstr(json_array_get(rows, 0), "B"), "类型");
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
	{
		if (i == 0)
			continue;
		assert_string_equal(jstr(row, "B"), "物业公司");
		/* contact phones masked */
		const char *phone = jstr(row, "G");
		assert_true(!*phone || contains(phone, "****"));
	}
	json_decref(rows);
	struct resp *r = api(&S, "GET", "/api/v1/orgs/export.csv?archived=true", admin, NULL, NULL);
	assert_status(r, 200);
	assert_true(contains(resp_header(r, "Content-Disposition"), "orgs.csv"));
	assert_int_equal(csv_lines(r->body) - 1,
	                 total_count(&S, admin, "/api/v1/orgs", "archived=true"));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/orgs/export.csv", jumin, NULL, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(create_success),
	    cmocka_unit_test(create_boundary_usernames),
	    cmocka_unit_test(create_validation),
	    cmocka_unit_test(create_bad_requests),
	    cmocka_unit_test(create_duplicate),
	    cmocka_unit_test(create_role_rank),
	    cmocka_unit_test(create_out_of_scope),
	    cmocka_unit_test(create_forbidden_roles),
	    cmocka_unit_test(unauthenticated),
	    cmocka_unit_test(get_in_and_out_of_scope),
	    cmocka_unit_test(get_not_found),
	    cmocka_unit_test(method_not_allowed),
	    cmocka_unit_test(patch_success_etag),
	    cmocka_unit_test(patch_validation),
	    cmocka_unit_test(patch_rank_and_scope),
	    cmocka_unit_test(patch_account_above_rank),
	    cmocka_unit_test(patch_password),
	    cmocka_unit_test(disable_user),
	    cmocka_unit_test(disable_ends_cookie_sessions_too),
	    cmocka_unit_test(role_change_takes_effect),
	    cmocka_unit_test(idempotency_key),
	    cmocka_unit_test(list_shape_and_paging),
	    cmocka_unit_test(list_limit_rules),
	    cmocka_unit_test(list_unknown_params),
	    cmocka_unit_test(list_filters),
	    cmocka_unit_test(list_scope),
	    cmocka_unit_test(phone_masked_everywhere),
	    cmocka_unit_test(self_escape_refused),
	    cmocka_unit_test(admin_cannot_rescope_itself),
	    cmocka_unit_test(org_binding_in_scope),
	    cmocka_unit_test(not_found_equals_out_of_scope),
	    cmocka_unit_test(last_login_set_by_login),
	    cmocka_unit_test(users_export),
	    cmocka_unit_test(orgs_export),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
