/* t10-auth: login, lockout, sessions (bearer and cookie + CSRF), logout, me,
 * password change, idle expiry. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct srv S;
static char *admin_tok;

#define PW "Test-Pass-2026"

static int setup(void **state)
{
	(void)state;
	if (srv_start(&S, NULL, true))
		return -1;
	admin_tok = login(&S, "admin", ADMIN_PW);
	return admin_tok ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(admin_tok);
	int rc = srv_stop(&S);
	srv_cleanup(&S);
	assert_int_equal(rc, 0);
	return 0;
}

/* A fresh resident account with password PW; returns its username (static slot). */
static const char *fresh_user(void)
{
	const char *u = uniq("auth");
	assert_true(create_user(&S, admin_tok, u, PW, "[\"resident\"]", 0, 0) > 0);
	return u;
}

static struct resp *post_login_raw(struct srv *s, const char *body, const char *headers)
{
	return api(s, "POST", "/api/v1/auth/login", NULL, body, headers);
}

static bool json_list_has(json_t *arr, const char *v)
{
	size_t i;
	json_t *x;
	json_array_foreach(arr, i, x) if (json_is_string(x) &&
	                                  strcmp(json_string_value(x), v) == 0) return true;
	return false;
}

/* ---- login ---- */

static void login_success(void **state)
{
	(void)state;
	struct resp *r = login_resp(&S, "admin", ADMIN_PW);
	assert_status(r, 200);
	assert_true(contains(resp_header(r, "Content-Type"), "application/json"));
	json_t *u = jpath(r->json, "user");
	assert_true(json_is_object(u));
	assert_true(jint(u, "id") > 0);
	assert_string_equal(jstr(u, "username"), "admin");
	assert_true(json_is_string(jpath(u, "display_name")));
	assert_true(json_is_array(jpath(u, "roles")));
	assert_true(json_list_has(jpath(u, "roles"), "admin"));
	assert_true(json_is_array(jpath(u, "permissions")));
	assert_true(json_list_has(jpath(u, "permissions"), "users.read"));
	assert_non_null(jpath(u, "unit_id"));
	assert_non_null(jpath(u, "org_id"));
	assert_non_null(jpath(u, "unit"));
	assert_null(jpath(u, "password"));
	assert_null(jpath(u, "password_hash"));
	const char *tok = jstr(r->json, "token");
	assert_true(strncmp(tok, "gzs_", 4) == 0);
	assert_true(strlen(jstr(r->json, "csrf_token")) > 0);
	/* the cookie carries the same session, HttpOnly and SameSite=Strict */
	const char *ck = resp_header(r, "Set-Cookie");
	assert_non_null(ck);
	char want[256];
	snprintf(want, sizeof want, "gz_session=%s", tok);
	assert_true(contains(ck, want));
	assert_true(contains(ck, "HttpOnly"));
	assert_true(contains(ck, "SameSite=Strict"));
	resp_free(r);
}

static void login_staff_has_unit(void **state)
{
	(void)state;
	int64_t sl = unit_id(&S, admin_tok, "沙柳北路社区");
	assert_true(sl > 0);
	struct resp *r = login_resp(&S, "shequ", DEMO_PW);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "user.username"), "shequ");
	assert_true(json_list_has(jpath(r->json, "user.roles"), "community_staff"));
	assert_int_equal(jint(r->json, "user.unit_id"), sl);
	assert_int_equal(jint(r->json, "user.unit.id"), sl);
	assert_string_equal(jstr(r->json, "user.unit.name"), "沙柳北路社区");
	resp_free(r);

	r = login_resp(&S, "hehuoren", DEMO_PW);
	assert_status(r, 200);
	assert_true(json_list_has(jpath(r->json, "user.roles"), "partner"));
	assert_int_equal(jint(r->json, "user.org_id"),
	                 org_id(&S, admin_tok, "天津金仕途信息科技有限公司"));
	resp_free(r);
}

static void login_wrong_password(void **state)
{
	(void)state;
	const char *u = fresh_user();
	struct resp *r = login_resp(&S, u, "Wrong-Pass-2026");
	assert_error(r, 401, "unauthenticated", NULL);
	assert_null(jpath(r->json, "token"));
	assert_false(contains(resp_header(r, "Set-Cookie"), "gzs_"));
	resp_free(r);
	/* case matters in passwords */
	r = login_resp(&S, u, "test-pass-2026");
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = login_resp(&S, u, "");
	assert_int_equal(r->status / 100, 4);
	assert_null(jpath(r->json, "token"));
	resp_free(r);
}

static void login_unknown_user(void **state)
{
	(void)state;
	struct resp *r = login_resp(&S, uniq("nobody"), PW);
	/* the same answer as a wrong password: existence does not leak */
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
}

static void login_unknown_field(void **state)
{
	(void)state;
	struct resp *r = post_login_raw(
	    &S, "{\"username\":\"admin\",\"password\":\"" ADMIN_PW "\",\"remember\":true}", NULL);
	assert_error(r, 400, "unknown_field", "remember");
	assert_null(jpath(r->json, "token"));
	resp_free(r);
}

static void login_missing_fields(void **state)
{
	(void)state;
	struct resp *r = post_login_raw(&S, "{\"password\":\"" ADMIN_PW "\"}", NULL);
	assert_error(r, 400, "validation_failed", "username");
	resp_free(r);
	r = post_login_raw(&S, "{\"username\":\"admin\"}", NULL);
	assert_error(r, 400, "validation_failed", "password");
	resp_free(r);
	r = post_login_raw(&S, "{}", NULL);
	assert_error(r, 400, "validation_failed", "username");
	resp_free(r);
}

static void login_wrong_types(void **state)
{
	(void)state;
	struct resp *r =
	    post_login_raw(&S, "{\"username\":42,\"password\":\"" ADMIN_PW "\"}", NULL);
	assert_error(r, 400, "validation_failed", "username");
	resp_free(r);
	r = post_login_raw(&S, "{\"username\":\"admin\",\"password\":null}", NULL);
	assert_error(r, 400, "validation_failed", "password");
	resp_free(r);
	r = post_login_raw(&S, "{\"username\":[\"admin\"],\"password\":\"" ADMIN_PW "\"}", NULL);
	assert_error(r, 400, "validation_failed", "username");
	resp_free(r);
}

static void login_content_type(void **state)
{
	(void)state;
	const char *body = "{\"username\":\"admin\",\"password\":\"" ADMIN_PW "\"}";
	struct resp *r = post_login_raw(&S, body, "Content-Type: text/plain");
	assert_error(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	r = post_login_raw(&S, "username=admin&password=x",
	                   "Content-Type: application/x-www-form-urlencoded");
	assert_error(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	r = post_login_raw(&S, body, "Content-Type:"); /* none at all */
	assert_error(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	r = post_login_raw(&S, body, "Content-Type: application/jsonx");
	assert_error(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	/* parameters are fine */
	r = post_login_raw(&S, body, "Content-Type: application/json; charset=utf-8");
	assert_status(r, 200);
	resp_free(r);
}

static void login_malformed_json(void **state)
{
	(void)state;
	struct resp *r = post_login_raw(&S, "{\"username\":\"admin\",", NULL);
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);
	r = post_login_raw(&S, "{'username':'admin'}", NULL);
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);
	r = post_login_raw(&S, "", NULL);
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);
	/* JSON, but not an object */
	r = post_login_raw(&S, "[\"admin\",\"" ADMIN_PW "\"]", NULL);
	assert_int_equal(r->status, 400);
	assert_true(strcmp(err_code(r), "invalid_json") == 0 ||
	            strcmp(err_code(r), "bad_request") == 0 ||
	            strcmp(err_code(r), "validation_failed") == 0);
	resp_free(r);
	/* duplicate keys are ambiguous */
	r = post_login_raw(
	    &S, "{\"username\":\"nobody\",\"username\":\"admin\",\"password\":\"" ADMIN_PW "\"}",
	    NULL);
	assert_int_equal(r->status, 400);
	assert_null(jpath(r->json, "token"));
	resp_free(r);
}

static void login_invalid_utf8(void **state)
{
	(void)state;
	struct resp *r =
	    post_login_raw(&S, "{\"username\":\"adm\xff\xfein\",\"password\":\"x\"}", NULL);
	assert_int_equal(r->status, 400);
	assert_non_null(jpath(r->json, "error.code"));
	resp_free(r);
}

static void login_method_not_allowed(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/auth/login", NULL, NULL, NULL);
	assert_error(r, 405, "method_not_allowed", NULL);
	assert_true(contains(resp_header(r, "Allow"), "POST"));
	resp_free(r);
	r = api(&S, "DELETE", "/api/v1/auth/me", admin_tok, NULL, NULL);
	assert_error(r, 405, "method_not_allowed", NULL);
	assert_true(contains(resp_header(r, "Allow"), "GET"));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/password", admin_tok, NULL, NULL);
	assert_error(r, 405, "method_not_allowed", NULL);
	assert_true(contains(resp_header(r, "Allow"), "POST"));
	resp_free(r);
}

/* ---- lockout ---- */

static void lockout_after_five_failures(void **state)
{
	(void)state;
	const char *u = fresh_user();
	char name[96];
	snprintf(name, sizeof name, "%s", u);
	for (int i = 1; i <= 4; i++) {
		struct resp *r = login_resp(&S, name, "Wrong-Pass-2026");
		assert_error(r, 401, "unauthenticated", NULL);
		resp_free(r);
	}
	struct resp *r = login_resp(&S, name, "Wrong-Pass-2026");
	assert_error(r, 423, "account_locked", NULL);
	resp_free(r);
	/* while locked even the right password is refused */
	r = login_resp(&S, name, PW);
	assert_error(r, 423, "account_locked", NULL);
	assert_null(jpath(r->json, "token"));
	resp_free(r);
	/* other accounts are unaffected */
	char *t = login(&S, "admin", ADMIN_PW);
	assert_non_null(t);
	free(t);
}

static void lockout_success_resets_count(void **state)
{
	(void)state;
	const char *u = fresh_user();
	char name[96];
	snprintf(name, sizeof name, "%s", u);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 4; i++) {
			struct resp *r = login_resp(&S, name, "Wrong-Pass-2026");
			assert_error(r, 401, "unauthenticated", NULL);
			resp_free(r);
		}
		char *t = login(&S, name, PW);
		assert_non_null(t);
		free(t);
	}
}

/* A separate server with short lockout and idle limits. */
static const char *const short_env[] = {
    "GONGZHI_LOCKOUT_FAILURES=3",
    "GONGZHI_LOCKOUT_WINDOW_SECONDS=2",
    "GONGZHI_LOCKOUT_SECONDS=2",
    "GONGZHI_SESSION_IDLE_SECONDS=2",
    NULL,
};

static void lockout_expires(void **state)
{
	(void)state;
	struct srv s2;
	assert_int_equal(srv_start(&s2, short_env, false), 0);
	for (int i = 1; i <= 2; i++) {
		struct resp *r = login_resp(&s2, "admin", "Wrong-Pass-2026");
		assert_error(r, 401, "unauthenticated", NULL);
		resp_free(r);
	}
	struct resp *r = login_resp(&s2, "admin", "Wrong-Pass-2026");
	assert_error(r, 423, "account_locked", NULL);
	resp_free(r);
	r = login_resp(&s2, "admin", ADMIN_PW);
	assert_error(r, 423, "account_locked", NULL);
	resp_free(r);
	msleep(2600);
	r = login_resp(&s2, "admin", ADMIN_PW);
	assert_status(r, 200);
	resp_free(r);
	int rc = srv_stop(&s2);
	srv_cleanup(&s2);
	assert_int_equal(rc, 0);
}

static void lockout_window(void **state)
{
	(void)state;
	struct srv s2;
	assert_int_equal(srv_start(&s2, short_env, false), 0);
	/* two failures, then the window passes: they no longer count */
	for (int i = 0; i < 2; i++) {
		struct resp *r = login_resp(&s2, "admin", "Wrong-Pass-2026");
		assert_error(r, 401, "unauthenticated", NULL);
		resp_free(r);
	}
	msleep(2600);
	for (int i = 0; i < 2; i++) {
		struct resp *r = login_resp(&s2, "admin", "Wrong-Pass-2026");
		assert_error(r, 401, "unauthenticated", NULL);
		resp_free(r);
	}
	/* the third within the new window locks */
	struct resp *r = login_resp(&s2, "admin", "Wrong-Pass-2026");
	assert_error(r, 423, "account_locked", NULL);
	resp_free(r);
	int rc = srv_stop(&s2);
	srv_cleanup(&s2);
	assert_int_equal(rc, 0);
}

/* ---- sessions ---- */

static void idle_expiry(void **state)
{
	(void)state;
	struct srv s2;
	assert_int_equal(srv_start(&s2, short_env, false), 0);
	char *used = login(&s2, "admin", ADMIN_PW);
	char *idle = login(&s2, "admin", ADMIN_PW);
	assert_non_null(used);
	assert_non_null(idle);
	/* a session in use stays alive past the idle limit */
	for (int i = 0; i < 4; i++) {
		struct resp *r = api(&s2, "GET", "/api/v1/auth/me", used, NULL, NULL);
		assert_status(r, 200);
		resp_free(r);
		msleep(900);
	}
	/* the other one was idle for > 3 s */
	struct resp *r = api(&s2, "GET", "/api/v1/auth/me", idle, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	/* and stays expired */
	r = api(&s2, "GET", "/api/v1/auth/me", idle, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	msleep(3000);
	r = api(&s2, "GET", "/api/v1/auth/me", used, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	free(used);
	free(idle);
	int rc = srv_stop(&s2);
	srv_cleanup(&s2);
	assert_int_equal(rc, 0);
}

static void me_bearer(void **state)
{
	(void)state;
	char *t = login(&S, "shequ", DEMO_PW);
	assert_non_null(t);
	struct resp *r = api(&S, "GET", "/api/v1/auth/me", t, NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "username"), "shequ");
	assert_true(json_list_has(jpath(r->json, "roles"), "community_staff"));
	assert_true(json_is_array(jpath(r->json, "permissions")));
	assert_true(json_list_has(jpath(r->json, "permissions"), "users.read"));
	assert_false(json_list_has(jpath(r->json, "permissions"), "api_keys.manage"));
	assert_string_equal(jstr(r->json, "unit.name"), "沙柳北路社区");
	assert_null(jpath(r->json, "password"));
	assert_null(jpath(r->json, "password_hash"));
	resp_free(r);
	free(t);

	/* a resident's permissions lack users.read */
	t = login(&S, "jumin", DEMO_PW);
	assert_non_null(t);
	r = api(&S, "GET", "/api/v1/auth/me", t, NULL, NULL);
	assert_status(r, 200);
	assert_true(json_list_has(jpath(r->json, "roles"), "resident"));
	assert_false(json_list_has(jpath(r->json, "permissions"), "users.read"));
	resp_free(r);
	free(t);
}

static void me_unauthenticated(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/auth/me", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", "gzs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	        NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", "nonsense", NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", NULL, NULL,
	        "Authorization: Basic YWRtaW46QWRtaW4tUGFzcy0yMDI2");
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", NULL, NULL, "Cookie: gz_session=gzs_forged");
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	/* the CSRF token is not a credential */
	struct resp *l = login_resp(&S, "admin", ADMIN_PW);
	assert_status(l, 200);
	r = api(&S, "GET", "/api/v1/auth/me", jstr(l->json, "csrf_token"), NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	resp_free(l);
}

static char *cookie_header(const char *tok, const char *csrf)
{
	char *h = malloc(512);
	if (csrf)
		snprintf(h, 512, "Cookie: gz_session=%s\nX-CSRF-Token: %s", tok, csrf);
	else
		snprintf(h, 512, "Cookie: gz_session=%s", tok);
	return h;
}

static void cookie_session_and_csrf(void **state)
{
	(void)state;
	struct resp *l = login_resp(&S, "admin", ADMIN_PW);
	assert_status(l, 200);
	const char *tok = jstr(l->json, "token"), *csrf = jstr(l->json, "csrf_token");
	char *plain = cookie_header(tok, NULL);
	char *good = cookie_header(tok, csrf);
	char *bad = cookie_header(tok, "not-the-token");

	/* reads need no CSRF token */
	struct resp *r = api(&S, "GET", "/api/v1/auth/me", NULL, NULL, plain);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "username"), "admin");
	resp_free(r);

	/* state changes do */
	char body[512];
	const char *u = uniq("csrf");
	snprintf(body, sizeof body,
	         "{\"username\":\"%s\",\"display_name\":\"csrf\",\"password\":\"%s\",\"roles\":["
	         "\"resident\"]}",
	         u, PW);
	r = api(&S, "POST", "/api/v1/users", NULL, body, plain);
	assert_error(r, 403, "csrf_failed", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/users", NULL, body, bad);
	assert_error(r, 403, "csrf_failed", NULL);
	resp_free(r);
	/* nothing was created */
	int64_t id = user_id(&S, admin_tok, u);
	assert_int_equal(id, 0);
	r = api(&S, "POST", "/api/v1/users", NULL, body, good);
	assert_status(r, 201);
	id = jint(r->json, "id");
	resp_free(r);

	/* PATCH as well */
	r = apihf(&S, "PATCH", NULL, "{\"display_name\":\"csrf2\"}", plain, "/api/v1/users/%lld",
	          (long long)id);
	assert_error(r, 403, "csrf_failed", NULL);
	resp_free(r);
	r = apihf(&S, "PATCH", NULL, "{\"display_name\":\"csrf2\"}", good, "/api/v1/users/%lld",
	          (long long)id);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "display_name"), "csrf2");
	resp_free(r);

	/* a bearer token needs no CSRF token */
	r = apif(&S, "PATCH", tok, "{\"display_name\":\"csrf3\"}", "/api/v1/users/%lld",
	         (long long)id);
	assert_status(r, 200);
	resp_free(r);

	/* logout by cookie needs it too */
	r = api(&S, "POST", "/api/v1/auth/logout", NULL, NULL, plain);
	assert_error(r, 403, "csrf_failed", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/auth/logout", NULL, NULL, good);
	assert_status(r, 204);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", NULL, NULL, plain);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);

	free(plain);
	free(good);
	free(bad);
	resp_free(l);
}

static void csrf_token_of_other_session(void **state)
{
	(void)state;
	/* the CSRF token of one session does not serve another */
	struct resp *a = login_resp(&S, "admin", ADMIN_PW);
	struct resp *b = login_resp(&S, "admin", ADMIN_PW);
	assert_status(a, 200);
	assert_status(b, 200);
	assert_string_not_equal(jstr(a->json, "token"), jstr(b->json, "token"));
	char *h = cookie_header(jstr(a->json, "token"), jstr(b->json, "csrf_token"));
	struct resp *r = api(&S, "POST", "/api/v1/auth/logout", NULL, NULL, h);
	assert_error(r, 403, "csrf_failed", NULL);
	resp_free(r);
	free(h);
	resp_free(a);
	resp_free(b);
}

static void logout(void **state)
{
	(void)state;
	char *t1 = login(&S, "shequ", DEMO_PW);
	char *t2 = login(&S, "shequ", DEMO_PW);
	assert_non_null(t1);
	assert_non_null(t2);
	struct resp *r = api(&S, "POST", "/api/v1/auth/logout", t1, NULL, NULL);
	assert_status(r, 204);
	assert_int_equal(r->len, 0);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", t1, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	/* a second logout with the ended session */
	r = api(&S, "POST", "/api/v1/auth/logout", t1, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	/* the other session of the same account continues */
	r = api(&S, "GET", "/api/v1/auth/me", t2, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/auth/logout", t2, NULL, NULL);
	assert_status(r, 204);
	resp_free(r);
	free(t1);
	free(t2);
}

static void logout_unauthenticated(void **state)
{
	(void)state;
	struct resp *r = api(&S, "POST", "/api/v1/auth/logout", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
}

/* ---- password change ---- */

static struct resp *change_pw(const char *tok, const char *old_pw, const char *new_pw)
{
	json_t *b = json_pack("{s:s,s:s}", "old_password", old_pw, "new_password", new_pw);
	char *body = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	struct resp *r = api(&S, "POST", "/api/v1/auth/password", tok, body, NULL);
	free(body);
	return r;
}

static void password_change(void **state)
{
	(void)state;
	const char *u0 = fresh_user();
	char u[96];
	snprintf(u, sizeof u, "%s", u0);
	char *cur = login(&S, u, PW);
	char *other = login(&S, u, PW);
	assert_non_null(cur);
	assert_non_null(other);
	struct resp *r = change_pw(cur, PW, "New-Pass-2026!");
	assert_status(r, 204);
	resp_free(r);
	/* the current session continues, the others end */
	r = api(&S, "GET", "/api/v1/auth/me", cur, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", other, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	/* the old password no longer logs in, the new one does */
	r = login_resp(&S, u, PW);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	char *fresh = login(&S, u, "New-Pass-2026!");
	assert_non_null(fresh);
	free(fresh);
	free(cur);
	free(other);
}

static void password_policy(void **state)
{
	(void)state;
	const char *u0 = fresh_user();
	char u[96];
	snprintf(u, sizeof u, "%s", u0);
	char *t = login(&S, u, PW);
	assert_non_null(t);
	static const char *const weak[] = {
	    "Ab1!xyz",      /* too short */
	    "Abcdef1!x",    /* 9 characters, all four classes */
	    "abcdefghijkl", /* one class */
	    "abcdefgh12",   /* two classes */
	    "ABCDEFGH!!",   /* two classes */
	    "1234567890",   /* one class */
	    "",
	};
	for (size_t i = 0; i < sizeof weak / sizeof *weak; i++) {
		struct resp *r = change_pw(t, PW, weak[i]);
		if (r->status != 400)
			print_error("weak password '%s' accepted\n", weak[i]);
		assert_error(r, 400, "validation_failed", "new_password");
		resp_free(r);
	}
	/* the password is unchanged */
	char *t2 = login(&S, u, PW);
	assert_non_null(t2);
	free(t2);
	/* ten characters of three classes are enough */
	struct resp *r = change_pw(t, PW, "Abcdefgh12");
	assert_status(r, 204);
	resp_free(r);
	/* multi-byte characters count as characters, and as "other" */
	r = change_pw(t, "Abcdefgh12", "社区共治abcd12");
	assert_status(r, 204);
	resp_free(r);
	t2 = login(&S, u, "社区共治abcd12");
	assert_non_null(t2);
	free(t2);
	free(t);
}

static void password_wrong_old(void **state)
{
	(void)state;
	const char *u0 = fresh_user();
	char u[96];
	snprintf(u, sizeof u, "%s", u0);
	char *t = login(&S, u, PW);
	assert_non_null(t);
	struct resp *r = change_pw(t, "Not-The-Pass-1", "New-Pass-2026!");
	assert_error(r, 400, "validation_failed", "old_password");
	resp_free(r);
	char *t2 = login(&S, u, PW);
	assert_non_null(t2);
	free(t2);
	free(t);
}

static void password_bad_bodies(void **state)
{
	(void)state;
	char *t = login(&S, "tiaojie", DEMO_PW);
	assert_non_null(t);
	struct resp *r = api(&S, "POST", "/api/v1/auth/password", t,
	                     "{\"old_password\":\"" DEMO_PW
	                     "\",\"new_password\":\"New-Pass-2026!\",\"user_id\":1}",
	                     NULL);
	assert_error(r, 400, "unknown_field", "user_id");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/auth/password", t, "{\"old_password\":\"" DEMO_PW "\"}", NULL);
	assert_error(r, 400, "validation_failed", "new_password");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/auth/password", t, "{\"new_password\":\"New-Pass-2026!\"}",
	        NULL);
	assert_error(r, 400, "validation_failed", "old_password");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/auth/password", t,
	        "{\"old_password\":\"" DEMO_PW "\",\"new_password\":12345678901}", NULL);
	assert_error(r, 400, "validation_failed", "new_password");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/auth/password", t, "{\"old_password\":", NULL);
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/auth/password", t,
	        "{\"old_password\":\"" DEMO_PW "\",\"new_password\":\"New-Pass-2026!\"}",
	        "Content-Type: text/plain");
	assert_error(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	/* none of that changed the password */
	char *t2 = login(&S, "tiaojie", DEMO_PW);
	assert_non_null(t2);
	free(t2);
	free(t);
}

static void password_unauthenticated(void **state)
{
	(void)state;
	struct resp *r =
	    api(&S, "POST", "/api/v1/auth/password", NULL,
	        "{\"old_password\":\"" ADMIN_PW "\",\"new_password\":\"New-Pass-2026!\"}", NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	char *t = login(&S, "admin", ADMIN_PW);
	assert_non_null(t);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(login_success),
	    cmocka_unit_test(login_staff_has_unit),
	    cmocka_unit_test(login_wrong_password),
	    cmocka_unit_test(login_unknown_user),
	    cmocka_unit_test(login_unknown_field),
	    cmocka_unit_test(login_missing_fields),
	    cmocka_unit_test(login_wrong_types),
	    cmocka_unit_test(login_content_type),
	    cmocka_unit_test(login_malformed_json),
	    cmocka_unit_test(login_invalid_utf8),
	    cmocka_unit_test(login_method_not_allowed),
	    cmocka_unit_test(lockout_after_five_failures),
	    cmocka_unit_test(lockout_success_resets_count),
	    cmocka_unit_test(lockout_expires),
	    cmocka_unit_test(lockout_window),
	    cmocka_unit_test(idle_expiry),
	    cmocka_unit_test(me_bearer),
	    cmocka_unit_test(me_unauthenticated),
	    cmocka_unit_test(cookie_session_and_csrf),
	    cmocka_unit_test(csrf_token_of_other_session),
	    cmocka_unit_test(logout),
	    cmocka_unit_test(logout_unauthenticated),
	    cmocka_unit_test(password_change),
	    cmocka_unit_test(password_policy),
	    cmocka_unit_test(password_wrong_old),
	    cmocka_unit_test(password_bad_bodies),
	    cmocka_unit_test(password_unauthenticated),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
