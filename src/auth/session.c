/* session.c - authenticating requests: bearer tokens, API keys and the gz_session
 * cookie, checked against hashed tokens in the database and kept in an in-memory
 * cache so that reads cost no database round trip.  Idle time is tracked in memory
 * and written back at most once a minute per session. */
#include "auth/session.h"
#include "app.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/util.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gz_auth_limits gz_auth_limits = {30 * 60000, 5, 15 * 60000, 30 * 60000, 5000};

void gz_auth_configure(const struct gz_auth_limits *l)
{
	gz_auth_limits = *l;
}

enum { BUCKETS = 1024, PERSIST_MS = 60000 };

struct entry {
	char hash[GZ_SHA256_HEX];
	struct gz_account acct;
	int64_t last_seen, persisted;
	int64_t loaded_at; /* re-read after gz_auth_limits.cache_ms: other processes change users */
	struct entry *next;
};

static struct entry *buckets[BUCKETS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned bucket_of(const char *hash)
{
	return (unsigned)strtoul((char[9]){hash[0], hash[1], hash[2], hash[3], hash[4], hash[5],
	                                   hash[6], hash[7], 0},
	                         NULL, 16) %
	       BUCKETS;
}

static void cache_remove_locked(const char *hash)
{
	struct entry **pp = &buckets[bucket_of(hash)];
	while (*pp) {
		if (strcmp((*pp)->hash, hash) == 0) {
			struct entry *e = *pp;
			*pp = e->next;
			free(e);
			return;
		}
		pp = &(*pp)->next;
	}
}

void gz_auth_forget_user(int64_t user_id)
{
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < BUCKETS; i++) {
		struct entry **pp = &buckets[i];
		while (*pp) {
			if ((*pp)->acct.id == user_id) {
				struct entry *e = *pp;
				*pp = e->next;
				free(e);
			} else {
				pp = &(*pp)->next;
			}
		}
	}
	pthread_mutex_unlock(&cache_lock);
}

void gz_auth_shutdown(void)
{
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < BUCKETS; i++)
		while (buckets[i]) {
			struct entry *e = buckets[i];
			buckets[i] = e->next;
			free(e);
		}
	pthread_mutex_unlock(&cache_lock);
}

int gz_roles_from_json_text(const char *text, unsigned *mask)
{
	json_t *arr = json_loads(text, 0, NULL);
	*mask = 0;
	if (!json_is_array(arr)) {
		json_decref(arr);
		return -1;
	}
	size_t i;
	json_t *v;
	int rc = 0;
	json_array_foreach(arr, i, v)
	{
		int r = json_is_string(v) ? gz_role_parse(json_string_value(v)) : -1;
		if (r < 0)
			rc = -1;
		else
			*mask |= 1u << r;
	}
	json_decref(arr);
	return rc;
}

int gz_account_load(struct gz_conn *c, int64_t user_id, struct gz_account *a, struct gz_err *err)
{
	struct gz_stmt *s = gz_stmt(c,
	                            "SELECT u.id, u.username, u.display_name, u.roles, "
	                            "coalesce(u.unit_id, 0), coalesce(un.path, ''), "
	                            "coalesce(u.org_id, 0), u.disabled, u.totp_enabled "
	                            "FROM users u "
	                            "LEFT JOIN units un ON un.id = u.unit_id WHERE u.id = ?",
	                            err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, user_id);
	int rc = gz_step(s, err);
	if (rc == 1) {
		memset(a, 0, sizeof(*a));
		a->id = gz_col_i64(s, 0);
		snprintf(a->username, sizeof(a->username), "%s", gz_col_text(s, 1));
		snprintf(a->display_name, sizeof(a->display_name), "%s", gz_col_text(s, 2));
		gz_roles_from_json_text(gz_col_text(s, 3), &a->roles);
		a->unit_id = gz_col_i64(s, 4);
		snprintf(a->unit_path, sizeof(a->unit_path), "%s", gz_col_text(s, 5));
		gz_path_upper(a->unit_path, a->unit_path_end, sizeof(a->unit_path_end));
		a->org_id = gz_col_i64(s, 6);
		if (gz_col_i64(s, 7))
			rc = 0; /* disabled accounts do not authenticate */
		a->totp_enabled = gz_col_i64(s, 8) != 0;
		a->totp_enrol = !a->totp_enabled && (a->roles & gz_totp_roles());
	}
	gz_stmt_done(s);
	return rc;
}

int gz_session_create(struct gz_conn *c, int64_t user_id, const char *client,
                      char token[GZ_TOKEN_LEN], char csrf[GZ_TOKEN_LEN], struct gz_err *err)
{
	gz_random_token("gzs_", 32, token, GZ_TOKEN_LEN);
	gz_random_token("", 24, csrf, GZ_TOKEN_LEN);
	char hash[GZ_SHA256_HEX];
	gz_sha256_hex(token, strlen(token), hash);
	int64_t now = gz_now_ms();
	return gz_exec_args(c, err,
	                    "INSERT INTO sessions (token_hash, user_id, csrf_token, client, "
	                    "created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
	                    "titt"
	                    "ii",
	                    hash, user_id, csrf, client, now, now);
}

int gz_session_delete(struct gz_conn *c, const char *token_hash, struct gz_err *err)
{
	pthread_mutex_lock(&cache_lock);
	cache_remove_locked(token_hash);
	pthread_mutex_unlock(&cache_lock);
	return gz_exec_args(c, err, "DELETE FROM sessions WHERE token_hash = ?", "t", token_hash);
}

int gz_session_delete_user(struct gz_conn *c, int64_t user_id, const char *keep_hash,
                           struct gz_err *err)
{
	gz_auth_forget_user(user_id);
	return gz_exec_args(c, err, "DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?",
	                    "it", user_id, keep_hash ? keep_hash : "");
}

struct touch {
	char hash[GZ_SHA256_HEX];
	int64_t at;
	struct gz_err err;
};

static int touch_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct touch *t = ctx;
	return gz_exec_args(c, err, "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?",
	                    "it", t->at, t->hash);
}

/* On the writer thread once the touch is committed (or failed: the next use after
 * PERSIST_MS tries again; the cache keeps the true time meanwhile). */
static void touch_done(void *ctx, int rc)
{
	struct touch *t = ctx;
	if (rc)
		gz_warn("session touch not saved: %s", t->err.message);
	free(t);
}

/* Loads a session or API key from the database into a cache entry. */
static int load_entry(struct gz_app *app, const char *hash, bool api_key, struct entry *e,
                      struct gz_err *err)
{
	struct gz_conn *c = gz_db_reader(app->db);
	const char *sql = api_key ? "SELECT user_id, '', id, 0 FROM api_keys "
	                            "WHERE key_hash = ? AND revoked = 0"
	                          : "SELECT user_id, csrf_token, 0, last_seen_at FROM sessions "
	                            "WHERE token_hash = ?";
	struct gz_stmt *s = gz_stmt(c, sql, err);
	int rc = -1;
	if (s) {
		gz_bind_text(s, 1, hash);
		rc = gz_step(s, err);
		int64_t user_id = 0, key_id = 0;
		if (rc == 1) {
			user_id = gz_col_i64(s, 0);
			snprintf(e->acct.csrf, sizeof(e->acct.csrf), "%s", gz_col_text(s, 1));
			key_id = gz_col_i64(s, 2);
			e->last_seen = e->persisted = gz_col_i64(s, 3);
		}
		gz_stmt_done(s);
		if (rc == 1) {
			char csrf[64];
			memcpy(csrf, e->acct.csrf, sizeof(csrf));
			rc = gz_account_load(c, user_id, &e->acct, err);
			memcpy(e->acct.csrf, csrf, sizeof(csrf));
			e->acct.api_key_id = key_id;
		}
	}
	gz_db_reader_done(app->db, c);
	snprintf(e->hash, sizeof(e->hash), "%s", hash);
	return rc;
}

static const char *bearer(struct gz_req *r)
{
	const char *h = gz_req_header(r, "Authorization");
	if (!h)
		return NULL;
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return "";
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

const char *gz_session_hash_of(struct gz_req *r)
{
	const char *tok = bearer(r);
	if (!tok)
		tok = gz_req_cookie(r, "gz_session");
	if (!tok || !gz_str_has_prefix(tok, "gzs_"))
		return "";
	char *hash = gz_alloc(&r->arena, GZ_SHA256_HEX);
	gz_sha256_hex(tok, strlen(tok), hash);
	return hash;
}

int gz_auth_request(struct gz_req *r, struct gz_err *err)
{
	const char *tok = bearer(r);
	bool cookie = false;
	if (!tok) {
		tok = gz_req_cookie(r, "gz_session");
		cookie = tok != NULL;
	}
	if (!tok)
		return 0;
	bool api_key = gz_str_has_prefix(tok, "gzk_");
	if (cookie && api_key)
		return gz_fail(err, GZ_E_UNAUTHENTICATED,
		               "API keys go in the Authorization header");
	if (!api_key && !gz_str_has_prefix(tok, "gzs_"))
		return gz_fail(err, GZ_E_UNAUTHENTICATED, "invalid credentials");
	size_t tl = strlen(tok);
	if (tl > 128)
		return gz_fail(err, GZ_E_UNAUTHENTICATED, "invalid credentials");
	char hash[GZ_SHA256_HEX];
	gz_sha256_hex(tok, tl, hash);
	int64_t now = gz_now_ms();
	struct gz_account *acct = gz_alloc(&r->arena, sizeof(*acct));
	bool found = false, persist = false;

	pthread_mutex_lock(&cache_lock);
	unsigned b = bucket_of(hash);
	for (struct entry *e = buckets[b]; e; e = e->next)
		if (strcmp(e->hash, hash) == 0 && now - e->loaded_at <= gz_auth_limits.cache_ms) {
			if (!api_key && now - e->last_seen > gz_auth_limits.idle_ms) {
				cache_remove_locked(hash);
				pthread_mutex_unlock(&cache_lock);
				return gz_fail(err, GZ_E_UNAUTHENTICATED,
				               "session expired, please log in again");
			}
			e->last_seen = now;
			if (!api_key && now - e->persisted > PERSIST_MS) {
				e->persisted = now;
				persist = true;
			}
			*acct = e->acct;
			found = true;
			break;
		}
	pthread_mutex_unlock(&cache_lock);

	if (!found) {
		struct entry *e = gz_xcalloc(1, sizeof(*e));
		int rc = load_entry(r->app, hash, api_key, e, err);
		if (rc <= 0) {
			free(e);
			if (rc < 0)
				return -1;
			return gz_fail(err, GZ_E_UNAUTHENTICATED, "invalid or expired credentials");
		}
		/* a stale cache entry may know a later use than the database */
		int64_t db_seen = e->last_seen, seen = db_seen;
		pthread_mutex_lock(&cache_lock);
		for (struct entry *old = buckets[b]; old; old = old->next)
			if (strcmp(old->hash, hash) == 0 && old->last_seen > seen)
				seen = old->last_seen;
		pthread_mutex_unlock(&cache_lock);
		if (!api_key && now - seen > gz_auth_limits.idle_ms) {
			free(e);
			return gz_fail(err, GZ_E_UNAUTHENTICATED,
			               "session expired, please log in again");
		}
		e->last_seen = now;
		e->persisted = db_seen;
		e->loaded_at = now;
		*acct = e->acct;
		pthread_mutex_lock(&cache_lock);
		cache_remove_locked(hash);
		e->next = buckets[b];
		buckets[b] = e;
		pthread_mutex_unlock(&cache_lock);
	}
	if (persist) {
		/* handed to the writer without waiting: a request that only reads must not
		 * wait for a commit's fsync on a server thread */
		struct touch *t = gz_xcalloc(1, sizeof(*t));
		snprintf(t->hash, sizeof(t->hash), "%s", hash);
		t->at = now;
		if (gz_db_write_async(r->app->db, touch_fn, t, &t->err, touch_done, t))
			free(t); /* shutting down: the last use is lost, which costs nothing */
	}
	r->acct = acct;
	r->via_cookie = cookie;
	return 0;
}
