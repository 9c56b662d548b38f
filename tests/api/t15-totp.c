/* t15-totp: the second factor (TOTP, RFC 6238) with the default require_totp_for
 * (admin): an admin without one reaches only the enrolment routes; enrol, confirm
 * with a code computed here (liboath, as an authenticator app would), login needs
 * the code, wrong and replayed codes are refused and count for the lockout, recovery
 * codes work once, disable, the CLI's reset, API keys are not held back, and every
 * step is audited.
 *
 * A code is accepted only for a step later than the last one used, and only one step
 * either side of now: each account here spends at most the steps now-1..now+1 of the
 * moment it confirmed, so the suite never waits for the clock. */
#include "harness.h"

#include <liboath/oath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PW "Test-Pass-2026"

static struct srv S;
static char *admin_tok; /* the admin's full session (after enrolment) */
static char admin_secret[64];
static int64_t admin_step; /* the last step the server accepted for admin */
static char admin_recovery[10][16];

static int setup(void **state)
{
	(void)state;
	/* the bare name unsets the harness's GONGZHI_REQUIRE_TOTP_FOR=: the default */
	static const char *const env[] = {"GONGZHI_REQUIRE_TOTP_FOR", NULL};
	oath_init();
	return srv_start(&S, env, false);
}

static int teardown(void **state)
{
	(void)state;
	free(admin_tok);
	int rc = srv_stop(&S);
	srv_cleanup(&S);
	oath_done();
	assert_int_equal(rc, 0);
	return 0;
}

static int64_t now_step(void)
{
	return (int64_t)time(NULL) / 30;
}

/* The 6-digit code of a base32 secret at a step (static slot among 4). */
static const char *code_at(const char *secret, int64_t step)
{
	static char out[4][8];
	static unsigned n;
	char *o = out[n++ % 4];
	char *key = NULL;
	size_t keylen = 0;
	assert_int_equal(oath_base32_decode(secret, strlen(secret), &key, &keylen), OATH_OK);
	assert_int_equal(oath_totp_generate(key, keylen, (time_t)(step * 30), 30, 0, 6, o),
	                 OATH_OK);
	free(key);
	return o;
}

/* A 6-digit code that is none of the codes of the steps now-2..now+2. */
static const char *wrong_code(const char *secret)
{
	static char out[8];
	int64_t s = now_step();
	for (int k = 0; k < 1000; k++) {
		snprintf(out, sizeof(out), "%06d", (k * 7919 + 123456) % 1000000);
		bool clash = false;
		for (int64_t d = -2; d <= 2; d++)
			clash |= strcmp(out, code_at(secret, s + d)) == 0;
		if (!clash)
			return out;
	}
	fail_msg("no wrong code found");
	return NULL;
}

static struct resp *login_with(const char *user, const char *pw, const char *field,
                               const char *code)
{
	json_t *b = json_pack("{s:s,s:s}", "username", user, "password", pw);
	if (field)
		json_object_set_new(b, field, json_string(code));
	char *body = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	struct resp *r = api(&S, "POST", "/api/v1/auth/login", NULL, body, NULL);
	free(body);
	return r;
}

static char *token_of(struct resp *r)
{
	char *t = strdup(jstr(r->json, "token"));
	resp_free(r);
	return t;
}

/* POST /auth/totp/enrol: copies the secret into secret (64 bytes). */
static void enrol(const char *tok, char *secret)
{
	struct resp *r = api(&S, "POST", "/api/v1/auth/totp/enrol", tok, NULL, NULL);
	assert_status(r, 200);
	snprintf(secret, 64, "%s", jstr(r->json, "secret"));
	assert_int_equal(strlen(secret), 32); /* 20 bytes, no padding */
	resp_free(r);
}

/* POST /auth/totp/confirm with the code of the current step; returns the step. */
static int64_t confirm(const char *tok, const char *secret, json_t **codes)
{
	int64_t step = now_step();
	struct resp *r = apif(&S, "POST", tok, F("{\"code\":\"%s\"}", code_at(secret, step)),
	                      "/api/v1/auth/totp/confirm");
	assert_status(r, 200);
	assert_true(json_is_true(jpath(r->json, "totp_enabled")));
	if (codes)
		*codes = json_incref(jpath(r->json, "recovery_codes"));
	resp_free(r);
	return step;
}

/* A resident with a second factor switched on; returns its session token. */
static char *resident_with_totp(const char *user, char *secret, int64_t *step, json_t **codes)
{
	assert_true(create_user(&S, admin_tok, user, PW, "[\"resident\"]", 0, 0) > 0);
	char *tok = login(&S, user, PW);
	assert_non_null(tok);
	enrol(tok, secret);
	*step = confirm(tok, secret, codes);
	return tok;
}

/* Audit entries with this action on the user (object_type "user", or "session" for
 * logins). */
static int64_t audit_count_on(const char *action, const char *type, int64_t object_id)
{
	struct resp *r = apif(&S, "GET", admin_tok, NULL,
	                      "/api/v1/audit?action=%s&object_type=%s&object_id=%lld&limit=100",
	                      action, type, (long long)object_id);
	assert_status(r, 200);
	int64_t n = (int64_t)json_array_size(jpath(r->json, "items"));
	resp_free(r);
	return n;
}

static int64_t audit_count(const char *action, int64_t object_id)
{
	return audit_count_on(action, "user", object_id);
}

/* ---- an admin without a second factor ---- */

static char *restricted_tok; /* admin's session before enrolment */

static void unenrolled_admin_reaches_only_enrolment(void **state)
{
	(void)state;
	struct resp *r = login_with("admin", ADMIN_PW, NULL, NULL);
	assert_status(r, 200);
	assert_true(json_is_true(jpath(r->json, "user.totp_required")));
	assert_true(json_is_false(jpath(r->json, "user.totp_enabled")));
	restricted_tok = token_of(r);

	r = api(&S, "GET", "/api/v1/auth/me", restricted_tok, NULL, NULL);
	assert_status(r, 200);
	assert_true(json_is_true(jpath(r->json, "totp_required")));
	assert_true(json_is_false(jpath(r->json, "totp_enabled")));
	resp_free(r);
	/* anything else: 403 totp_enrolment_required, reads and writes alike */
	assert_error(r = api(&S, "GET", "/api/v1/units", restricted_tok, NULL, NULL), 403,
	             "totp_enrolment_required", NULL);
	resp_free(r);
	assert_error(r = api(&S, "GET", "/api/v1/audit", restricted_tok, NULL, NULL), 403,
	             "totp_enrolment_required", NULL);
	resp_free(r);
	assert_error(r = api(&S, "POST", "/api/v1/users", restricted_tok,
	                     "{\"username\":\"x1\",\"display_name\":\"x\",\"password\":"
	                     "\"Test-Pass-2026\",\"roles\":[\"resident\"]}",
	                     NULL),
	             403, "totp_enrolment_required", NULL);
	resp_free(r);
	/* disabling is not an enrolment route (and there is nothing to disable) */
	assert_error(r = api(&S, "POST", "/api/v1/auth/totp/disable", restricted_tok,
	                     "{\"password\":\"x\",\"code\":\"123456\"}", NULL),
	             403, "totp_enrolment_required", NULL);
	resp_free(r);
	/* public routes stay public */
	r = api(&S, "GET", "/healthz", restricted_tok, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	/* a code sent for an account without a second factor is not needed */
	r = login_with("admin", ADMIN_PW, "totp_code", "123456");
	assert_status(r, 200);
	free(token_of(r));
}

static void enrol_and_confirm(void **state)
{
	(void)state;
	struct resp *r = api(&S, "POST", "/api/v1/auth/totp/enrol", restricted_tok, NULL, NULL);
	assert_status(r, 200);
	char secret[64];
	snprintf(secret, sizeof(secret), "%s", jstr(r->json, "secret"));
	assert_int_equal(strlen(secret), 32);
	for (const char *p = secret; *p; p++)
		assert_true((*p >= 'A' && *p <= 'Z') || (*p >= '2' && *p <= '7'));
	const char *uri = jstr(r->json, "otpauth_uri");
	assert_string_equal(
	    uri, F("otpauth://totp/gongzhi:admin?secret=%s&issuer=gongzhi&algorithm=SHA1&digits=6"
	           "&period=30",
	           secret));
	assert_true(contains(resp_header(r, "Cache-Control"), "no-store"));
	resp_free(r);
	/* enrolling again replaces the pending secret */
	enrol(restricted_tok, admin_secret);
	assert_string_not_equal(admin_secret, secret);

	/* not active yet: the password alone still logs in (to a restricted session) */
	r = login_with("admin", ADMIN_PW, NULL, NULL);
	assert_status(r, 200);
	assert_true(json_is_false(jpath(r->json, "user.totp_enabled")));
	char *second = token_of(r);

	/* bad confirmations */
	assert_error(r = apif(&S, "POST", restricted_tok,
	                      F("{\"code\":\"%s\"}", wrong_code(admin_secret)),
	                      "/api/v1/auth/totp/confirm"),
	             400, "validation_failed", "code");
	resp_free(r);
	assert_error(
	    r = apif(&S, "POST", restricted_tok, "{\"code\":123456}", "/api/v1/auth/totp/confirm"),
	    400, "validation_failed", "code");
	resp_free(r);
	assert_error(r = apif(&S, "POST", restricted_tok, "{}", "/api/v1/auth/totp/confirm"), 400,
	             "validation_failed", "code");
	resp_free(r);
	assert_error(r = apif(&S, "POST", restricted_tok, "{\"code\":\"1\",\"extra\":1}",
	                      "/api/v1/auth/totp/confirm"),
	             400, "unknown_field", "extra");
	resp_free(r);
	assert_error(
	    r = apif(&S, "POST", NULL, "{\"code\":\"123456\"}", "/api/v1/auth/totp/confirm"), 401,
	    "unauthenticated", NULL);
	resp_free(r);
	/* the secret of the first enrolment no longer counts */
	assert_error(r = apif(&S, "POST", restricted_tok,
	                      F("{\"code\":\"%s\"}", code_at(secret, now_step())),
	                      "/api/v1/auth/totp/confirm"),
	             400, "validation_failed", "code");
	resp_free(r);

	json_t *codes = NULL;
	admin_step = confirm(restricted_tok, admin_secret, &codes);
	assert_int_equal(json_array_size(codes), 10);
	for (size_t i = 0; i < 10; i++) {
		const char *c = json_string_value(json_array_get(codes, i));
		assert_int_equal(strlen(c), 11);
		assert_int_equal(c[5], '-');
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(c, admin_recovery[k]);
		snprintf(admin_recovery[i], sizeof(admin_recovery[i]), "%s", c);
	}
	json_decref(codes);

	/* this session goes on, now unrestricted */
	r = api(&S, "GET", "/api/v1/auth/me", restricted_tok, NULL, NULL);
	assert_status(r, 200);
	assert_true(json_is_true(jpath(r->json, "totp_enabled")));
	assert_true(json_is_true(jpath(r->json, "totp_required")));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/units", restricted_tok, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	admin_tok = restricted_tok;
	restricted_tok = NULL;
	/* the session opened with the password alone has ended */
	assert_error(r = api(&S, "GET", "/api/v1/auth/me", second, NULL, NULL), 401,
	             "unauthenticated", NULL);
	resp_free(r);
	free(second);

	/* once on: neither enrol nor confirm again */
	assert_error(r = api(&S, "POST", "/api/v1/auth/totp/enrol", admin_tok, NULL, NULL), 409,
	             "conflict", NULL);
	resp_free(r);
	assert_error(r = apif(&S, "POST", admin_tok,
	                      F("{\"code\":\"%s\"}", code_at(admin_secret, now_step())),
	                      "/api/v1/auth/totp/confirm"),
	             409, "conflict", NULL);
	resp_free(r);
	int64_t id = user_id(&S, admin_tok, "admin");
	assert_int_equal(audit_count("totp_enrol", id), 2);
	assert_int_equal(audit_count("totp_enabled", id), 1);
}

/* ---- login with a second factor ---- */

static void login_needs_the_code(void **state)
{
	(void)state;
	struct resp *r;
	assert_error(r = login_with("admin", ADMIN_PW, NULL, NULL), 401, "totp_required", NULL);
	assert_null(jpath(r->json, "token"));
	resp_free(r);
	/* a wrong password says nothing about a second factor */
	assert_error(r = login_with("admin", "Wrong-Pass-2026", NULL, NULL), 401, "unauthenticated",
	             NULL);
	resp_free(r);
	assert_error(r = login_with("admin", "Wrong-Pass-2026", "totp_code",
	                            code_at(admin_secret, admin_step + 1)),
	             401, "unauthenticated", NULL);
	resp_free(r);
	/* malformed second-factor fields */
	assert_error(r = api(&S, "POST", "/api/v1/auth/login", NULL,
	                     F("{\"username\":\"admin\",\"password\":\"%s\",\"totp_code\":123456}",
	                       ADMIN_PW),
	                     NULL),
	             400, "validation_failed", "totp_code");
	resp_free(r);
	assert_error(r = api(&S, "POST", "/api/v1/auth/login", NULL,
	                     F("{\"username\":\"admin\",\"password\":\"%s\",\"totp_code\":"
	                       "\"123456\",\"recovery_code\":\"abcde-fghij\"}",
	                       ADMIN_PW),
	                     NULL),
	             400, "validation_failed", "recovery_code");
	resp_free(r);
	/* a wrong code */
	assert_error(r = login_with("admin", ADMIN_PW, "totp_code", wrong_code(admin_secret)), 401,
	             "unauthenticated", NULL);
	assert_true(contains(jstr(r->json, "error.message"), "second-factor"));
	resp_free(r);
	/* the code the confirmation used: spent */
	assert_error(
	    r = login_with("admin", ADMIN_PW, "totp_code", code_at(admin_secret, admin_step)), 401,
	    "unauthenticated", NULL);
	resp_free(r);
	/* the next step's code (one step of drift is allowed) */
	r = login_with("admin", ADMIN_PW, "totp_code", code_at(admin_secret, admin_step + 1));
	assert_status(r, 200);
	assert_true(json_is_true(jpath(r->json, "user.totp_enabled")));
	char *tok = token_of(r);
	admin_step++;
	struct resp *me = api(&S, "GET", "/api/v1/units", tok, NULL, NULL);
	assert_status(me, 200);
	resp_free(me);
	free(tok);
	/* replayed: refused */
	assert_error(
	    r = login_with("admin", ADMIN_PW, "totp_code", code_at(admin_secret, admin_step)), 401,
	    "unauthenticated", NULL);
	resp_free(r);
	/* an older step than the last used: refused too */
	assert_error(
	    r = login_with("admin", ADMIN_PW, "totp_code", code_at(admin_secret, admin_step - 2)),
	    401, "unauthenticated", NULL);
	resp_free(r);
	/* password right, code wrong, replayed or stale: audited apart from wrong passwords */
	int64_t id = user_id(&S, admin_tok, "admin");
	assert_int_equal(audit_count_on("login_totp_failed", "session", id), 4);
}

static void recovery_codes_work_once(void **state)
{
	(void)state;
	struct resp *r = login_with("admin", ADMIN_PW, "recovery_code", admin_recovery[0]);
	assert_status(r, 200);
	free(token_of(r));
	assert_error(r = login_with("admin", ADMIN_PW, "recovery_code", admin_recovery[0]), 401,
	             "unauthenticated", NULL);
	resp_free(r);
	/* typed in capitals without the dash: the same code */
	char typed[16];
	size_t n = 0;
	for (const char *p = admin_recovery[1]; *p; p++)
		if (*p != '-')
			typed[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	typed[n] = 0;
	r = login_with("admin", ADMIN_PW, "recovery_code", typed);
	assert_status(r, 200);
	free(token_of(r));
	/* not a code at all */
	assert_error(r = login_with("admin", ADMIN_PW, "recovery_code", "not-a-code"), 401,
	             "unauthenticated", NULL);
	resp_free(r);
	int64_t id = user_id(&S, admin_tok, "admin");
	r = apif(&S, "GET", admin_tok, NULL,
	         "/api/v1/audit?action=totp_recovery_used&object_id=%lld&limit=10", (long long)id);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 2);
	assert_int_equal(jint(r->json, "items.0.summary.recovery_codes_left"), 8); /* newest */
	assert_int_equal(jint(r->json, "items.1.summary.recovery_codes_left"), 9);
	resp_free(r);
}

static void wrong_codes_lock_the_account(void **state)
{
	(void)state;
	char secret[64];
	int64_t step;
	const char *u = uniq("lock");
	char *tok = resident_with_totp(u, secret, &step, NULL);
	free(tok);
	struct resp *r;
	for (int i = 0; i < 4; i++) {
		assert_error(r = login_with(u, PW, "totp_code", wrong_code(secret)), 401,
		             "unauthenticated", NULL);
		resp_free(r);
	}
	assert_error(r = login_with(u, PW, "totp_code", wrong_code(secret)), 423, "account_locked",
	             NULL);
	resp_free(r);
	/* locked: even the right code does not log in now */
	assert_error(r = login_with(u, PW, "totp_code", code_at(secret, step + 1)), 423,
	             "account_locked", NULL);
	resp_free(r);
}

/* ---- disable ---- */

static void disable_needs_password_and_code(void **state)
{
	(void)state;
	char secret[64];
	int64_t step;
	const char *u = uniq("off");
	char *tok = resident_with_totp(u, secret, &step, NULL);
	int64_t id = user_id(&S, admin_tok, u);
	struct resp *r;
	assert_error(r = apif(&S, "POST", tok,
	                      F("{\"password\":\"Wrong-Pass-2026\",\"code\":\"%s\"}",
	                        code_at(secret, step + 1)),
	                      "/api/v1/auth/totp/disable"),
	             400, "validation_failed", "password");
	resp_free(r);
	assert_error(r = apif(&S, "POST", tok,
	                      F("{\"password\":\"%s\",\"code\":\"%s\"}", PW, wrong_code(secret)),
	                      "/api/v1/auth/totp/disable"),
	             400, "validation_failed", "code");
	resp_free(r);
	/* the confirmation's code is spent */
	assert_error(r = apif(&S, "POST", tok,
	                      F("{\"password\":\"%s\",\"code\":\"%s\"}", PW, code_at(secret, step)),
	                      "/api/v1/auth/totp/disable"),
	             400, "validation_failed", "code");
	resp_free(r);
	assert_error(
	    r = apif(&S, "POST", tok, F("{\"password\":\"%s\"}", PW), "/api/v1/auth/totp/disable"),
	    400, "validation_failed", "code");
	resp_free(r);
	assert_error(
	    r = apif(&S, "POST", tok, "{\"code\":\"123456\"}", "/api/v1/auth/totp/disable"), 400,
	    "validation_failed", "password");
	resp_free(r);
	assert_error(r = apif(&S, "POST", tok,
	                      F("{\"password\":\"%s\",\"code\":\"1\",\"x\":1}", PW),
	                      "/api/v1/auth/totp/disable"),
	             400, "unknown_field", "x");
	resp_free(r);
	r = apif(&S, "POST", tok,
	         F("{\"password\":\"%s\",\"code\":\"%s\"}", PW, code_at(secret, step + 1)),
	         "/api/v1/auth/totp/disable");
	assert_status(r, 204);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", tok, NULL, NULL);
	assert_status(r, 200);
	assert_true(json_is_false(jpath(r->json, "totp_enabled")));
	assert_true(json_is_false(jpath(r->json, "totp_required"))); /* a resident */
	resp_free(r);
	assert_error(r = apif(&S, "POST", tok,
	                      F("{\"password\":\"%s\",\"code\":\"%s\"}", PW, code_at(secret, step)),
	                      "/api/v1/auth/totp/disable"),
	             409, "conflict", NULL);
	resp_free(r);
	/* the password alone logs in again */
	char *again = login(&S, u, PW);
	assert_non_null(again);
	free(again);
	free(tok);
	assert_int_equal(audit_count("totp_disabled", id), 1);
}

static void disable_with_a_recovery_code(void **state)
{
	(void)state;
	char secret[64];
	int64_t step;
	json_t *codes;
	const char *u = uniq("offr");
	char *tok = resident_with_totp(u, secret, &step, &codes);
	const char *code = json_string_value(json_array_get(codes, 3));
	struct resp *r = apif(&S, "POST", tok, F("{\"password\":\"%s\",\"code\":\"%s\"}", PW, code),
	                      "/api/v1/auth/totp/disable");
	assert_status(r, 204);
	resp_free(r);
	/* the codes went with the factor: enrolling anew starts clean */
	char secret2[64];
	enrol(tok, secret2);
	confirm(tok, secret2, NULL);
	assert_error(
	    r = login_with(u, PW, "recovery_code", json_string_value(json_array_get(codes, 4))),
	    401, "unauthenticated", NULL);
	resp_free(r);
	json_decref(codes);
	free(tok);
}

/* ---- API keys, the CLI, the setting ---- */

static void api_keys_are_not_held_back(void **state)
{
	(void)state;
	const char *u = uniq("adm");
	int64_t id = create_user(&S, admin_tok, u, PW, "[\"admin\"]", 0, 0);
	assert_true(id > 0);
	struct resp *r =
	    apif(&S, "POST", admin_tok, F("{\"name\":\"k\",\"user_id\":%lld}", (long long)id),
	         "/api/v1/api-keys");
	assert_status(r, 201);
	char *key = strdup(jstr(r->json, "key"));
	resp_free(r);
	/* the account's session must enrol first ... */
	char *tok = login(&S, u, PW);
	assert_non_null(tok);
	assert_error(r = api(&S, "GET", "/api/v1/units", tok, NULL, NULL), 403,
	             "totp_enrolment_required", NULL);
	resp_free(r);
	/* ... its API key works as before */
	r = api(&S, "GET", "/api/v1/units", key, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	/* and cannot manage the second factor */
	assert_error(r = api(&S, "POST", "/api/v1/auth/totp/enrol", key, NULL, NULL), 403,
	             "forbidden", NULL);
	resp_free(r);
	free(key);
	free(tok);
}

static void cli_reset(void **state)
{
	(void)state;
	char out[4096];
	int64_t id = user_id(&S, admin_tok, "admin");
	assert_int_equal(run_cli(&S, out, sizeof(out), "user totp-reset --username admin"), 0);
	assert_true(contains(out, "reset"));
	/* the password alone logs in again, to a session that must enrol */
	struct resp *r = login_with("admin", ADMIN_PW, NULL, NULL);
	assert_status(r, 200);
	assert_true(json_is_false(jpath(r->json, "user.totp_enabled")));
	assert_true(json_is_true(jpath(r->json, "user.totp_required")));
	char *tok = token_of(r);
	assert_error(r = api(&S, "GET", "/api/v1/units", tok, NULL, NULL), 403,
	             "totp_enrolment_required", NULL);
	resp_free(r);
	free(tok);
	/* enrol again (admin_tok is held back from here on, once its cached account is
	 * re-read): the old recovery codes went with the reset */
	enrol(admin_tok, admin_secret);
	confirm(admin_tok, admin_secret, NULL);
	assert_error(r = login_with("admin", ADMIN_PW, "recovery_code", admin_recovery[5]), 401,
	             "unauthenticated", NULL);
	resp_free(r);
	assert_int_equal(audit_count("totp_reset", id), 1);
	assert_int_not_equal(run_cli(&S, out, sizeof(out), "user totp-reset --username nobody"), 0);
	assert_true(contains(out, "nobody"));
}

static void unknown_role_in_the_setting(void **state)
{
	(void)state;
	char out[4096];
	assert_int_not_equal(
	    run_cli(&S, out, sizeof(out), "audit verify --require-totp-for admin,bogus"), 0);
	assert_true(contains(out, "bogus"));
	assert_int_equal(
	    run_cli(&S, out, sizeof(out), "audit verify --require-totp-for ' admin, grid_worker '"),
	    0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(unenrolled_admin_reaches_only_enrolment),
	    cmocka_unit_test(enrol_and_confirm),
	    cmocka_unit_test(login_needs_the_code),
	    cmocka_unit_test(recovery_codes_work_once),
	    cmocka_unit_test(wrong_codes_lock_the_account),
	    cmocka_unit_test(disable_needs_password_and_code),
	    cmocka_unit_test(disable_with_a_recovery_code),
	    cmocka_unit_test(api_keys_are_not_held_back),
	    cmocka_unit_test(cli_reset),
	    cmocka_unit_test(unknown_role_in_the_setting),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
