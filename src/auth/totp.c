/* totp.c - the second factor of staff accounts (TOTP, RFC 6238), for 等保2.0 level
 * 3's two factors on management accounts.
 *
 * Enrolment makes a random secret, stores it sealed with the personal-data key and
 * shows it once (base32 and an otpauth:// URI for a QR code); it is not yet the
 * account's factor.  Confirmation with the first code turns it on, issues ten one-time
 * recovery codes (stored as keyed hashes, shown once) and ends the account's other
 * sessions.  Disabling needs the password and a code.  The login asks for a code of
 * an account that has one (gz_totp_login_check / _consume, called by auth_routes.c),
 * and a code's step is spent in the login's own write, so one code logs in once.
 * Which roles must enrol is the setting require_totp_for; the dispatcher
 * (http/server.c) holds their unenrolled sessions to the GZ_R_TOTP_SETUP routes.
 * Codes and base32 come from core/totp.c.  Every change is audited. */
#include "auth/session.h"
#include "app.h"
#include "core/timefmt.h"
#include "core/totp.h"
#include "core/util.h"
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define RECOVERY_CODES 10
#define RECOVERY_CHARS 10 /* base32 characters: 50 random bits each */
static const char recovery_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

static unsigned required_roles = GZ_RB(ADMIN);

int gz_totp_configure(const char *role_list, struct gz_err *err)
{
	unsigned mask = 0;
	char buf[256];
	if (strlen(role_list) >= sizeof(buf))
		return gz_fail_field(err, GZ_E_VALIDATION, "require_totp_for",
		                     "require_totp_for is too long");
	snprintf(buf, sizeof(buf), "%s", role_list);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		size_t n = strlen(tok);
		while (n > 0 && tok[n - 1] == ' ')
			tok[--n] = 0;
		if (!*tok)
			continue;
		int role = gz_role_parse(tok);
		if (role < 0)
			return gz_fail_field(err, GZ_E_VALIDATION, "require_totp_for",
			                     "require_totp_for: unknown role '%s'", tok);
		mask |= 1u << role;
	}
	required_roles = mask;
	return 0;
}

unsigned gz_totp_roles(void)
{
	return required_roles;
}

/* ---- the account's state ---- */

struct totp_state {
	bool enabled, has_secret;
	int64_t last_step;
	char sealed[256]; /* the stored text, to notice a re-enrolment meanwhile */
	uint8_t key[GZ_TOTP_SECRET_BYTES];
	size_t keylen;
};

static int load_state(struct gz_app *app, int64_t user_id, struct totp_state *st,
                      struct gz_err *err)
{
	memset(st, 0, sizeof(*st));
	struct gz_conn *c = gz_db_reader(app->db);
	struct gz_stmt *s = gz_stmt(
	    c, "SELECT totp_secret, totp_enabled, totp_last_step FROM users WHERE id = ?", err);
	int rc = -1;
	if (s) {
		gz_bind_i64(s, 1, user_id);
		rc = gz_step(s, err);
		if (rc == 1) {
			st->has_secret = !gz_col_null(s, 0);
			snprintf(st->sealed, sizeof(st->sealed), "%s", gz_col_text(s, 0));
			st->enabled = gz_col_i64(s, 1) != 0;
			st->last_step = gz_col_i64(s, 2);
		}
		gz_stmt_done(s);
	}
	gz_db_reader_done(app->db, c);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return gz_fail(err, GZ_E_NOT_FOUND, "no such user");
	if (!st->has_secret)
		return 0;
	char *text = gz_unseal(app->key, st->sealed);
	int n = text ? gz_base32_decode(text, st->key, sizeof(st->key)) : -1;
	if (text) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	if (n <= 0)
		return gz_fail(err, GZ_E_INTERNAL,
		               "the second-factor secret of user %lld cannot be read (another "
		               "secret key?)",
		               (long long)user_id);
	st->keylen = (size_t)n;
	return 0;
}

static int64_t unix_now(void)
{
	return (int64_t)time(NULL);
}

/* The keyed hash of a recovery code as typed (case, spaces and dashes do not
 * matter); false when it cannot be one. */
static bool recovery_hash(struct gz_app *app, const char *typed, char out[GZ_SHA256_HEX])
{
	char norm[RECOVERY_CHARS + 1];
	size_t n = 0;
	for (const char *p = typed; *p; p++) {
		if (*p == '-' || *p == ' ')
			continue;
		char ch = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
		if (!strchr(recovery_alphabet, ch) || n == RECOVERY_CHARS)
			return false;
		norm[n++] = ch;
	}
	if (n != RECOVERY_CHARS)
		return false;
	norm[n] = 0;
	gz_keyed_hash_hex(app->key, "recovery", norm, n, out);
	return true;
}

static int optional_string(json_t *body, const char *name, const char **out, struct gz_err *err)
{
	json_t *v = json_object_get(body, name);
	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return gz_fail_field(err, GZ_E_VALIDATION, name, "%s must be a string", name);
	if (strlen(json_string_value(v)) > 64)
		return gz_fail_field(err, GZ_E_VALIDATION, name, "%s is too long", name);
	*out = json_string_value(v);
	return 0;
}

static int audit(struct gz_conn *c, const struct gz_account *actor, int64_t user_id,
                 const char *action, const char *summary, const char *client, struct gz_err *err)
{
	struct gz_audit a = {actor, action, "user", user_id, summary, client};
	return gz_audit_append(c, &a, err);
}

/* ---- login ---- */

int gz_totp_login_check(struct gz_app *app, int64_t user_id, json_t *body, struct gz_totp_login *t,
                        struct gz_err *err)
{
	memset(t, 0, sizeof(*t));
	const char *code, *recovery;
	if (optional_string(body, "totp_code", &code, err) ||
	    optional_string(body, "recovery_code", &recovery, err))
		return -1;
	if (code && recovery)
		return gz_fail_field(err, GZ_E_VALIDATION, "recovery_code",
		                     "send totp_code or recovery_code, not both");
	struct totp_state st;
	if (load_state(app, user_id, &st, err))
		return -1;
	if (!st.enabled || (!code && !recovery)) {
		t->ok = !st.enabled;
		sodium_memzero(&st, sizeof(st));
		if (t->ok)
			return 0;
		return gz_fail(err, GZ_E_TOTP_REQUIRED,
		               "this account has a second factor: send totp_code (the 6 digits "
		               "of the authenticator app) or a recovery_code");
	}
	if (code) {
		t->kind = GZ_TOTP_CODE;
		t->ok = gz_totp_match(st.key, st.keylen, unix_now(), code, &t->step);
	} else {
		t->kind = GZ_TOTP_RECOVERY;
		t->ok = recovery_hash(app, recovery, t->recovery);
	}
	sodium_memzero(&st, sizeof(st));
	return 0;
}

int gz_totp_login_consume(struct gz_conn *c, int64_t user_id, const char *username,
                          const char *client, const struct gz_totp_login *t, bool *ok,
                          struct gz_err *err)
{
	if (t->kind == GZ_TOTP_CODE) {
		/* only a later step than the last one used: a code works once */
		if (gz_exec_args(c, err,
		                 "UPDATE users SET totp_last_step = ? WHERE id = ? AND "
		                 "totp_enabled = 1 AND totp_last_step < ?",
		                 "iii", t->step, user_id, t->step))
			return -1;
		*ok = gz_changes(c) > 0;
		return 0;
	}
	if (t->kind != GZ_TOTP_RECOVERY)
		return 0;
	if (gz_exec_args(c, err,
	                 "UPDATE totp_recovery_codes SET used_at = ? WHERE user_id = ? AND "
	                 "code_hash = ? AND used_at IS NULL",
	                 "iit", gz_now_ms(), user_id, t->recovery))
		return -1;
	*ok = gz_changes(c) > 0;
	if (!*ok)
		return 0;
	int64_t left = 0;
	if (gz_query_i64(c, err, &left,
	                 "SELECT count(*) FROM totp_recovery_codes WHERE user_id = ? AND "
	                 "used_at IS NULL",
	                 "i", user_id) < 0)
		return -1;
	struct gz_account who = {.id = user_id};
	snprintf(who.username, sizeof(who.username), "%s", username);
	char sum[64];
	snprintf(sum, sizeof(sum), "{\"recovery_codes_left\":%lld}", (long long)left);
	return audit(c, &who, user_id, "totp_recovery_used", sum, client, err);
}

/* ---- enrol ---- */

static int no_api_key(struct gz_req *r, struct gz_err *err)
{
	if (r->acct->api_key_id)
		return gz_fail(err, GZ_E_FORBIDDEN, "API keys cannot manage the second factor");
	return 0;
}

struct enrol {
	const struct gz_account *acct;
	const char *sealed, *client;
};

static int enrol_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct enrol *e = ctx;
	if (gz_exec_args(c, err,
	                 "UPDATE users SET totp_secret = ? WHERE id = ? AND totp_enabled = 0", "ti",
	                 e->sealed, e->acct->id))
		return -1;
	if (gz_changes(c) == 0)
		return gz_fail(err, GZ_E_CONFLICT,
		               "the second factor is already on: disable it before enrolling "
		               "again");
	return audit(c, e->acct, e->acct->id, "totp_enrol", NULL, e->client, err);
}

/* Percent-encodes what is not an RFC 3986 unreserved character. */
static void uri_escape(struct gz_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~')
			gz_buf_addc(b, (char)*p);
		else
			gz_buf_addf(b, "%%%02X", *p);
}

static int enrol_handler(struct gz_req *r, struct gz_err *err)
{
	if (no_api_key(r, err))
		return -1;
	uint8_t key[GZ_TOTP_SECRET_BYTES];
	char secret[GZ_BASE32_LEN(GZ_TOTP_SECRET_BYTES)];
	gz_random_bytes(key, sizeof(key));
	if (gz_base32_encode(key, sizeof(key), false, secret, sizeof(secret)) < 0)
		return gz_fail(err, GZ_E_INTERNAL, "cannot encode the secret");
	sodium_memzero(key, sizeof(key));
	char *sealed = gz_seal(r->app->key, secret);
	struct enrol e = {r->acct, sealed, r->client};
	int rc = gz_db_write(r->app->db, enrol_fn, &e, err);
	free(sealed);
	if (rc)
		return -1;
	/* otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=ISSUER (Google's Key Uri Format) */
	struct gz_buf uri = GZ_BUF_INIT;
	gz_buf_adds(&uri, "otpauth://totp/gongzhi:");
	uri_escape(&uri, r->acct->username);
	gz_buf_addf(&uri, "?secret=%s&issuer=gongzhi&algorithm=SHA1&digits=%d&period=%d", secret,
	            GZ_TOTP_DIGITS, GZ_TOTP_STEP_SECONDS);
	json_t *o = json_pack("{s:s,s:s}", "secret", secret, "otpauth_uri", uri.data);
	gz_buf_release(&uri);
	sodium_memzero(secret, sizeof(secret));
	return gz_reply_json(r, 200, o);
}

/* ---- confirm ---- */

struct confirm {
	const struct gz_account *acct;
	const char *sealed, *client, *keep;
	int64_t step;
	char hashes[RECOVERY_CODES][GZ_SHA256_HEX];
};

static int confirm_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct confirm *f = ctx;
	int64_t id = f->acct->id, now = gz_now_ms();
	/* the secret the code was checked against, unless enrolment started again */
	if (gz_exec_args(c, err,
	                 "UPDATE users SET totp_enabled = 1, totp_last_step = ? WHERE id = ? "
	                 "AND totp_enabled = 0 AND totp_secret = ?",
	                 "iit", f->step, id, f->sealed))
		return -1;
	if (gz_changes(c) == 0)
		return gz_fail(err, GZ_E_CONFLICT,
		               "the enrolment changed meanwhile: enrol again and use the new "
		               "secret");
	if (gz_exec_args(c, err, "DELETE FROM totp_recovery_codes WHERE user_id = ?", "i", id))
		return -1;
	for (int i = 0; i < RECOVERY_CODES; i++)
		if (gz_exec_args(c, err,
		                 "INSERT INTO totp_recovery_codes (user_id, code_hash, created_at) "
		                 "VALUES (?, ?, ?)",
		                 "iti", id, f->hashes[i], now))
			return -1;
	/* a session opened with the password alone must not keep what the second factor
	 * now guards */
	if (gz_session_delete_user(c, id, f->keep, err))
		return -1;
	return audit(c, f->acct, id, "totp_enabled", NULL, f->client, err);
}

static int confirm_handler(struct gz_req *r, struct gz_err *err)
{
	const char *code;
	const char *key;
	json_t *v;
	json_object_foreach(r->body, key, v)
	{
		if (strcmp(key, "code") != 0)
			return gz_fail_field(err, GZ_E_UNKNOWN_FIELD, key, "unknown field '%s'",
			                     key);
	}
	if (no_api_key(r, err) || optional_string(r->body, "code", &code, err))
		return -1;
	if (!code)
		return gz_fail_field(err, GZ_E_VALIDATION, "code", "code is required");
	struct totp_state st;
	if (load_state(r->app, r->acct->id, &st, err))
		return -1;
	if (st.enabled)
		return gz_fail(err, GZ_E_CONFLICT, "the second factor is already on");
	if (!st.has_secret)
		return gz_fail(err, GZ_E_CONFLICT,
		               "nothing to confirm: enrol first (POST /api/v1/auth/totp/enrol)");
	struct confirm *f = gz_alloc(&r->arena, sizeof(*f));
	memset(f, 0, sizeof(*f));
	bool match = gz_totp_match(st.key, st.keylen, unix_now(), code, &f->step);
	sodium_memzero(st.key, sizeof(st.key));
	if (!match)
		return gz_fail_field(err, GZ_E_VALIDATION, "code",
		                     "the code does not match: enter the 6 digits the app shows "
		                     "now (and check the phone's clock)");
	f->acct = r->acct;
	f->sealed = gz_strdup(&r->arena, st.sealed);
	f->client = r->client;
	f->keep = gz_session_hash_of(r);
	json_t *codes = json_array();
	for (int i = 0; i < RECOVERY_CODES; i++) {
		char text[RECOVERY_CHARS + 2];
		for (int k = 0, j = 0; k < RECOVERY_CHARS; k++) {
			if (k == RECOVERY_CHARS / 2)
				text[j++] = '-';
			text[j++] = recovery_alphabet[randombytes_uniform(32)];
			text[j] = 0;
		}
		recovery_hash(r->app, text, f->hashes[i]);
		json_array_append_new(codes, json_string(text));
	}
	if (gz_db_write(r->app->db, confirm_fn, f, err)) {
		json_decref(codes);
		return -1;
	}
	gz_auth_forget_user(r->acct->id);
	return gz_reply_json(r, 200,
	                     json_pack("{s:b,s:o}", "totp_enabled", 1, "recovery_codes", codes));
}

/* ---- disable ---- */

struct disable {
	const struct gz_account *acct; /* NULL: the CLI's reset */
	int64_t user_id;
	const char *client, *action;
	enum { BY_RESET, BY_CODE, BY_RECOVERY } by;
	int64_t step;
	char recovery[GZ_SHA256_HEX];
};

static int disable_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct disable *d = ctx;
	if (d->by == BY_RECOVERY) {
		int64_t n = 0;
		if (gz_query_i64(c, err, &n,
		                 "SELECT count(*) FROM totp_recovery_codes WHERE user_id = ? AND "
		                 "code_hash = ? AND used_at IS NULL",
		                 "it", d->user_id, d->recovery) < 0)
			return -1;
		if (n == 0)
			return gz_fail_field(err, GZ_E_VALIDATION, "code",
			                     "wrong or already used code");
	}
	/* with a TOTP code: only a step later than the last one used */
	if (gz_exec_args(c, err,
	                 "UPDATE users SET totp_secret = NULL, totp_enabled = 0, "
	                 "totp_last_step = 0 WHERE id = ? AND (? <> 0 OR (totp_enabled = 1 AND "
	                 "totp_last_step < ?))",
	                 "iii", d->user_id, (int64_t)(d->by != BY_CODE), d->step))
		return -1;
	if (gz_changes(c) == 0) {
		if (d->by == BY_RESET)
			return gz_fail(err, GZ_E_NOT_FOUND, "no such user");
		return gz_fail_field(err, GZ_E_VALIDATION, "code", "wrong or already used code");
	}
	if (gz_exec_args(c, err, "DELETE FROM totp_recovery_codes WHERE user_id = ?", "i",
	                 d->user_id))
		return -1;
	return audit(c, d->acct, d->user_id, d->action, NULL, d->client, err);
}

static int disable_handler(struct gz_req *r, struct gz_err *err)
{
	static const char *const fields[] = {"password", "code", NULL};
	const char *key, *password, *code;
	json_t *v;
	json_object_foreach(r->body, key, v)
	{
		bool known = false;
		for (const char *const *f = fields; *f; f++)
			known |= strcmp(*f, key) == 0;
		if (!known)
			return gz_fail_field(err, GZ_E_UNKNOWN_FIELD, key, "unknown field '%s'",
			                     key);
	}
	if (no_api_key(r, err))
		return -1;
	json_t *pw = json_object_get(r->body, "password");
	if (!json_is_string(pw) || strlen(json_string_value(pw)) > 256)
		return gz_fail_field(err, GZ_E_VALIDATION, "password",
		                     "password is required (a string)");
	password = json_string_value(pw);
	if (optional_string(r->body, "code", &code, err))
		return -1;
	if (!code)
		return gz_fail_field(err, GZ_E_VALIDATION, "code",
		                     "code is required (6 digits or a recovery code)");
	struct totp_state st;
	if (load_state(r->app, r->acct->id, &st, err))
		return -1;
	if (!st.enabled)
		return gz_fail(err, GZ_E_CONFLICT, "the second factor is not on");

	int known = gz_user_password_ok(r->app->db, r->acct->id, password, err);
	if (known < 0)
		return -1;
	if (!known)
		return gz_fail_field(err, GZ_E_VALIDATION, "password", "the password is wrong");

	struct disable d = {r->acct, r->acct->id, r->client, "totp_disabled", BY_CODE, 0, ""};
	bool ok;
	if (strlen(code) == GZ_TOTP_DIGITS) {
		ok = gz_totp_match(st.key, st.keylen, unix_now(), code, &d.step);
	} else {
		d.by = BY_RECOVERY;
		ok = recovery_hash(r->app, code, d.recovery);
	}
	sodium_memzero(st.key, sizeof(st.key));
	if (!ok)
		return gz_fail_field(err, GZ_E_VALIDATION, "code", "wrong or already used code");
	if (gz_db_write(r->app->db, disable_fn, &d, err))
		return -1;
	gz_auth_forget_user(d.user_id);
	return gz_reply_empty(r, 204);
}

int gz_totp_reset(struct gz_db *db, const struct gz_account *actor, int64_t user_id,
                  const char *client, struct gz_err *err)
{
	struct disable d = {actor, user_id, client, "totp_reset", BY_RESET, 0, ""};
	return gz_db_write(db, disable_fn, &d, err);
}

static const struct gz_route routes[] = {
    {GZ_POST, "/api/v1/auth/totp/enrol", enrol_handler, NULL,
     GZ_R_TOTP_SETUP | GZ_R_WRITE | GZ_R_AUDIT, NULL,
     "Start enrolling a second factor: a new secret (base32) and its otpauth:// URI, shown "
     "once; not active until confirmed"},
    {GZ_POST, "/api/v1/auth/totp/confirm", confirm_handler, NULL,
     GZ_R_JSON | GZ_R_TOTP_SETUP | GZ_R_WRITE | GZ_R_AUDIT, NULL,
     "Confirm enrolment with the first code {code}: turns the second factor on and returns "
     "ten one-time recovery codes, shown once"},
    {GZ_POST, "/api/v1/auth/totp/disable", disable_handler, NULL,
     GZ_R_JSON | GZ_R_WRITE | GZ_R_AUDIT, NULL,
     "Turn the own second factor off {password, code} (code: 6 digits or a recovery code)"},
    {0, NULL, NULL, NULL, 0, NULL, NULL},
};

const struct gz_module gz_totp_module = {"totp", routes, NULL, NULL, NULL};
