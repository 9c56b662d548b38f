/* auth_routes.c - the session endpoints: login (with lockout, and the second factor
 * of auth/totp.c), logout, me, and password change.  Every login, failed login and
 * logout is audited.
 *
 * Two limits guard the login: an account is locked after lockout_failures failures
 * (table login_attempts, 423), and a client address may fail only
 * login_address_failures times per window whatever usernames it tries (in memory,
 * app->limit_login, 429).  The address limit is checked before the account's, so
 * once an address is over it its attempts no longer count against the accounts it
 * names: one client cannot lock out everyone by spraying usernames. */
#include "auth/session.h"
#include "app.h"
#include "core/crypto.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "http/ratelimit.h"
#include "model/entity.h"
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* A well-formed hash of a random password: failed logins for unknown users cost
 * the same time as for known ones. */
static char dummy_hash[GZ_PWHASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
	char pw[17];
	gz_password_generate(pw);
	gz_password_hash(pw, dummy_hash);
}

/* Before the password is checked: a 429 when the client address has used up its
 * failed logins. */
static int login_address_check(struct gz_req *r, struct gz_err *err)
{
	const char *addr = r->client ? r->client : "";
	int64_t wait = gz_ratelimit_peek(r->app->limit_login, addr, strlen(addr));
	if (!wait)
		return 0;
	gz_reply_header(r, "Retry-After", gz_sprintf(&r->arena, "%lld", (long long)wait));
	return gz_fail(err, GZ_E_RATE_LIMITED,
	               "too many failed logins from this address: try again in %lld s",
	               (long long)wait);
}

/* After a wrong password: one failure of the client address. */
static void login_address_failed(struct gz_req *r)
{
	const char *addr = r->client ? r->client : "";
	gz_ratelimit_take(r->app->limit_login, addr, strlen(addr));
}

static int body_string(json_t *body, const char *name, int64_t maxlen, const char **out,
                       struct gz_err *err)
{
	json_t *v = json_object_get(body, name);
	if (!v)
		return gz_fail_field(err, GZ_E_VALIDATION, name, "%s is required", name);
	if (!json_is_string(v))
		return gz_fail_field(err, GZ_E_VALIDATION, name, "%s must be a string", name);
	*out = json_string_value(v);
	if ((int64_t)strlen(*out) > maxlen)
		return gz_fail_field(err, GZ_E_VALIDATION, name, "%s is too long", name);
	return 0;
}

static int only_fields(json_t *body, const char *const *names, struct gz_err *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v)
	{
		bool ok = false;
		for (const char *const *n = names; *n; n++)
			ok |= strcmp(*n, key) == 0;
		if (!ok)
			return gz_fail_field(err, GZ_E_UNKNOWN_FIELD, key, "unknown field '%s'",
			                     key);
	}
	return 0;
}

struct login {
	const char *username, *client;
	int64_t user_id;
	bool ok;
	struct gz_totp_login totp; /* the second factor, when the account has one */
	/* out */
	char token[GZ_TOKEN_LEN], csrf[GZ_TOKEN_LEN];
	bool locked;
};

static int audit_login(struct gz_conn *c, struct login *l, const char *action, struct gz_err *err)
{
	struct gz_account who = {.id = l->user_id};
	snprintf(who.username, sizeof(who.username), "%s", l->username);
	json_t *sum = json_pack("{s:s}", "username", l->username);
	char *text = gz_json_dump(sum);
	json_decref(sum);
	struct gz_audit a = {&who, action, "session", l->user_id, text, l->client};
	int rc = gz_audit_append(c, &a, err);
	free(text);
	return rc;
}

static int login_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct login *l = ctx;
	int64_t now = gz_now_ms();
	if (l->ok &&
	    gz_totp_login_consume(c, l->user_id, l->username, l->client, &l->totp, &l->ok, err))
		return -1;
	if (l->ok) {
		if (gz_exec_args(c, err, "DELETE FROM login_attempts WHERE username = ?", "t",
		                 l->username) ||
		    gz_session_create(c, l->user_id, l->client, l->token, l->csrf, err) ||
		    /* the last login, with the session: not an edit (version unchanged) */
		    gz_exec_args(c, err, "UPDATE users SET last_login_at = ? WHERE id = ?", "ii",
		                 now, l->user_id))
			return -1;
		return audit_login(c, l, "login", err);
	}
	/* a failure: count it in the window, lock at the limit */
	if (gz_exec_args(c, err,
	                 "INSERT INTO login_attempts (username, failures, window_start, "
	                 "locked_until) VALUES (?, 1, ?, 0) ON CONFLICT (username) DO UPDATE SET "
	                 "failures = CASE WHEN login_attempts.window_start < ? THEN 1 ELSE "
	                 "login_attempts.failures + 1 END, window_start = CASE WHEN "
	                 "login_attempts.window_start < ? THEN excluded.window_start ELSE "
	                 "login_attempts.window_start END",
	                 "tiii", l->username, now, now - gz_auth_limits.lockout_window_ms,
	                 now - gz_auth_limits.lockout_window_ms))
		return -1;
	int64_t failures = 0;
	if (gz_query_i64(c, err, &failures,
	                 "SELECT failures FROM login_attempts WHERE username = ?", "t",
	                 l->username) < 0)
		return -1;
	if (failures >= gz_auth_limits.lockout_failures) {
		l->locked = true;
		if (gz_exec_args(c, err,
		                 "UPDATE login_attempts SET locked_until = ?, failures = 0 "
		                 "WHERE username = ?",
		                 "it", now + gz_auth_limits.lockout_ms, l->username))
			return -1;
	}
	return audit_login(c, l,
	                   l->locked      ? "login_locked"
	                   : l->totp.kind ? "login_totp_failed"
	                                  : "login_failed",
	                   err);
}

static json_t *account_json(struct gz_app *app, const struct gz_account *a)
{
	json_t *roles = json_array();
	for (int i = 0; i < GZ_ROLE_COUNT; i++)
		if (a->roles & (1u << i))
			json_array_append_new(roles, json_string(gz_role_names[i]));
	json_t *o = json_pack("{s:I,s:s,s:s,s:o,s:o}", "id", (json_int_t)a->id, "username",
	                      a->username, "display_name", a->display_name, "roles", roles,
	                      "permissions", gz_account_perms_json(a));
	json_object_set_new(o, "unit_id", a->unit_id ? json_integer(a->unit_id) : json_null());
	json_object_set_new(o, "org_id", a->org_id ? json_integer(a->org_id) : json_null());
	json_t *unit = json_null();
	if (a->unit_id) {
		struct gz_conn *c = gz_db_reader(app->db);
		struct gz_err e;
		struct gz_stmt *s =
		    gz_stmt(c, "SELECT name, kind, path FROM units WHERE id = ?", &e);
		if (s) {
			gz_bind_i64(s, 1, a->unit_id);
			if (gz_step(s, &e) == 1)
				unit = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)a->unit_id,
				                 "name", gz_col_text(s, 0), "kind",
				                 gz_col_text(s, 1), "path", gz_col_text(s, 2));
			gz_stmt_done(s);
		}
		gz_db_reader_done(app->db, c);
	}
	json_object_set_new(o, "unit", unit);
	json_t *org = json_null();
	if (a->org_id) {
		struct gz_conn *c = gz_db_reader(app->db);
		struct gz_err e;
		struct gz_stmt *s = gz_stmt(c, "SELECT name, kind FROM orgs WHERE id = ?", &e);
		if (s) {
			gz_bind_i64(s, 1, a->org_id);
			if (gz_step(s, &e) == 1)
				org =
				    json_pack("{s:I,s:s,s:s}", "id", (json_int_t)a->org_id, "name",
				              gz_col_text(s, 0), "kind", gz_col_text(s, 1));
			gz_stmt_done(s);
		}
		gz_db_reader_done(app->db, c);
	}
	json_object_set_new(o, "org", org);
	json_object_set_new(o, "totp_enabled", json_boolean(a->totp_enabled));
	json_object_set_new(o, "totp_required", json_boolean(a->roles & gz_totp_roles()));
	return o;
}

int gz_user_password_ok(struct gz_db *db, int64_t user_id, const char *password, struct gz_err *err)
{
	struct gz_conn *c = gz_db_reader(db);
	char hash[GZ_PWHASH_MAX] = "";
	struct gz_stmt *s = gz_stmt(c, "SELECT password_hash FROM users WHERE id = ?", err);
	if (s) {
		gz_bind_i64(s, 1, user_id);
		if (gz_step(s, err) == 1)
			snprintf(hash, sizeof(hash), "%s", gz_col_text(s, 0));
		gz_stmt_done(s);
	}
	gz_db_reader_done(db, c);
	if (!s)
		return -1;
	return *hash && gz_password_verify(hash, password) ? 1 : 0;
}

static int login_handler(struct gz_req *r, struct gz_err *err)
{
	static const char *const fields[] = {"username", "password", "totp_code", "recovery_code",
	                                     NULL};
	const char *username, *password;
	if (only_fields(r->body, fields, err) ||
	    body_string(r->body, "username", 64, &username, err) ||
	    body_string(r->body, "password", 256, &password, err))
		return -1;
	pthread_once(&dummy_once, make_dummy);
	struct gz_app *app = r->app;
	int64_t now = gz_now_ms();
	if (login_address_check(r, err))
		return -1;

	struct gz_conn *c = gz_db_reader(app->db);
	int64_t locked_until = 0, user_id = 0, disabled = 0;
	char hash[GZ_PWHASH_MAX] = "";
	int rc = gz_query_i64(c, err, &locked_until,
	                      "SELECT locked_until FROM login_attempts WHERE username = ?", "t",
	                      username);
	struct gz_stmt *s = rc < 0 ? NULL
	                           : gz_stmt(c,
	                                     "SELECT id, password_hash, disabled FROM users "
	                                     "WHERE username = ?",
	                                     err);
	if (s) {
		gz_bind_text(s, 1, username);
		if ((rc = gz_step(s, err)) == 1) {
			user_id = gz_col_i64(s, 0);
			snprintf(hash, sizeof(hash), "%s", gz_col_text(s, 1));
			disabled = gz_col_i64(s, 2);
		}
		gz_stmt_done(s);
	}
	gz_db_reader_done(app->db, c);
	if (rc < 0 || !s)
		return -1;
	if (locked_until > now)
		return gz_fail(err, GZ_E_LOCKED,
		               "too many failed logins: the account is locked for %lld more "
		               "minutes",
		               (long long)((locked_until - now + 59999) / 60000));

	bool ok = gz_password_verify(user_id ? hash : dummy_hash, password) && user_id;
	if (!ok)
		login_address_failed(r);
	struct login l = {.username = username, .client = r->client, .user_id = user_id, .ok = ok};
	if (ok && disabled)
		return gz_fail(err, GZ_E_FORBIDDEN, "this account is disabled");
	if (ok && gz_totp_login_check(app, user_id, r->body, &l.totp, err))
		return -1;
	l.ok = ok && l.totp.ok;
	if (ok && !l.ok) /* a wrong second-factor code counts against the address too */
		login_address_failed(r);
	if (gz_db_write(app->db, login_fn, &l, err))
		return -1;
	if (l.locked)
		return gz_fail(err, GZ_E_LOCKED,
		               "too many failed logins: the account is locked for %lld minutes",
		               (long long)(gz_auth_limits.lockout_ms / 60000));
	if (!l.ok)
		return gz_fail(err, GZ_E_UNAUTHENTICATED,
		               ok ? "wrong or already used second-factor code"
		                  : "wrong username or password");

	struct gz_account a;
	c = gz_db_reader(app->db);
	rc = gz_account_load(c, user_id, &a, err);
	gz_db_reader_done(app->db, c);
	if (rc <= 0)
		return rc < 0 ? -1 : gz_fail(err, GZ_E_UNAUTHENTICATED, "account unavailable");
	char cookie[256];
	snprintf(cookie, sizeof(cookie), "gz_session=%s; Path=/; HttpOnly; SameSite=Strict%s",
	         l.token, gz_req_cookie_secure(r) ? "; Secure" : "");
	gz_reply_header(r, "Set-Cookie", gz_strdup(&r->arena, cookie));
	gz_reply_header(r, "Cache-Control", "no-store");
	return gz_reply_json(r, 200,
	                     json_pack("{s:o,s:s,s:s}", "user", account_json(app, &a), "token",
	                               l.token, "csrf_token", l.csrf));
}

struct logout {
	const char *hash;
	const struct gz_account *acct;
	const char *client;
};

static int logout_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct logout *l = ctx;
	if (gz_session_delete(c, l->hash, err))
		return -1;
	struct gz_audit a = {l->acct, "logout", "session", l->acct->id, NULL, l->client};
	return gz_audit_append(c, &a, err);
}

static int logout_handler(struct gz_req *r, struct gz_err *err)
{
	struct logout l = {gz_session_hash_of(r), r->acct, r->client};
	if (!*l.hash)
		return gz_fail(err, GZ_E_BAD_REQUEST, "only sessions can log out");
	if (gz_db_write(r->app->db, logout_fn, &l, err))
		return -1;
	gz_reply_header(r, "Set-Cookie",
	                gz_req_cookie_secure(r)
	                    ? "gz_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure"
	                    : "gz_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
	return gz_reply_empty(r, 204);
}

static int me_handler(struct gz_req *r, struct gz_err *err)
{
	json_t *o = account_json(r->app, r->acct);
	if (*r->acct->csrf)
		json_object_set_new(o, "csrf_token", json_string(r->acct->csrf));
	return gz_reply_json(r, 200, o);
}

struct pwchange {
	int64_t user_id;
	const struct gz_account *actor;
	const char *hash, *keep, *client;
};

static int password_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct pwchange *p = ctx;
	if (gz_exec_args(c, err,
	                 "UPDATE users SET password_hash = ?, password_changed_at = ?, "
	                 "updated_at = ?, version = version + 1 WHERE id = ?",
	                 "tiii", p->hash, gz_now_ms(), gz_now_ms(), p->user_id))
		return -1;
	if (gz_changes(c) == 0)
		return gz_fail(err, GZ_E_NOT_FOUND, "no such user");
	/* other sessions end: a changed password must lock out whoever knew the old */
	if (gz_session_delete_user(c, p->user_id, p->keep, err))
		return -1;
	struct gz_audit a = {p->actor, "password", "user", p->user_id, NULL, p->client};
	return gz_audit_append(c, &a, err);
}

int gz_user_set_password(struct gz_db *db, const struct gz_account *actor, int64_t user_id,
                         const char *password, const char *client, struct gz_err *err)
{
	if (gz_password_check(password, "password", err))
		return -1;
	char hash[GZ_PWHASH_MAX];
	if (gz_password_hash(password, hash))
		return gz_fail(err, GZ_E_INTERNAL, "cannot hash the password");
	struct pwchange p = {user_id, actor, hash, NULL, client};
	return gz_db_write(db, password_fn, &p, err);
}

static int password_handler(struct gz_req *r, struct gz_err *err)
{
	static const char *const fields[] = {"old_password", "new_password", NULL};
	const char *old_pw, *new_pw;
	if (only_fields(r->body, fields, err) ||
	    body_string(r->body, "old_password", 256, &old_pw, err) ||
	    body_string(r->body, "new_password", 256, &new_pw, err))
		return -1;
	if (r->acct->api_key_id)
		return gz_fail(err, GZ_E_FORBIDDEN, "API keys cannot change passwords");
	int known = gz_user_password_ok(r->app->db, r->acct->id, old_pw, err);
	if (known < 0)
		return -1;
	if (!known)
		return gz_fail_field(err, GZ_E_VALIDATION, "old_password",
		                     "the current password is wrong");
	if (strcmp(old_pw, new_pw) == 0)
		return gz_fail_field(err, GZ_E_VALIDATION, "new_password",
		                     "the new password must differ from the current one");
	if (gz_password_check(new_pw, "new_password", err))
		return -1;
	char newhash[GZ_PWHASH_MAX];
	if (gz_password_hash(new_pw, newhash))
		return gz_fail(err, GZ_E_INTERNAL, "cannot hash the password");
	struct pwchange p = {r->acct->id, r->acct, newhash, gz_session_hash_of(r), r->client};
	if (gz_db_write(r->app->db, password_fn, &p, err))
		return -1;
	return gz_reply_empty(r, 204);
}

static const struct gz_route routes[] = {
    {GZ_POST, "/api/v1/auth/login", login_handler, NULL,
     GZ_R_PUBLIC | GZ_R_JSON | GZ_R_NO_CSRF | GZ_R_WRITE | GZ_R_AUDIT, NULL,
     "Log in: returns a session token and sets the gz_session cookie"},
    {GZ_POST, "/api/v1/auth/logout", logout_handler, NULL,
     GZ_R_TOTP_SETUP | GZ_R_WRITE | GZ_R_AUDIT, NULL, "End the session"},
    {GZ_GET, "/api/v1/auth/me", me_handler, NULL, GZ_R_TOTP_SETUP, NULL,
     "The account, its roles, permissions and unit"},
    {GZ_POST, "/api/v1/auth/password", password_handler, NULL,
     GZ_R_JSON | GZ_R_TOTP_SETUP | GZ_R_WRITE | GZ_R_AUDIT, NULL, "Change the own password"},
    {0, NULL, NULL, NULL, 0, NULL, NULL},
};

const struct gz_module gz_auth_module = {"auth", routes, NULL, NULL, NULL};
