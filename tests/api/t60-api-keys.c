/* t60-api-keys: API keys for integrations — admin only, shown once, authenticate
 * as their account, revocation, validation, ETag/If-Match, Idempotency-Key. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PW "Test-Pass-2026"

static struct srv S;
static struct fixture fx;
static const char *admin, *jiedao, *shequ, *jumin, *hehuoren;
static int64_t id_admin, u_sl, u_fq, id_shequ2, id_jumin;

static int setup(void **state)
{
	(void)state;
	if (fixture_start(&fx, &S, NULL))
		return -1;
	admin = fx.tok[FX_ADMIN];
	jiedao = fx.tok[FX_JIEDAO];
	shequ = fx.tok[FX_SHEQU];
	jumin = fx.tok[FX_JUMIN];
	hehuoren = fx.tok[FX_HEHUOREN];
	id_admin = fx.uid[FX_ADMIN];
	id_shequ2 = fx.uid[FX_SHEQU2];
	id_jumin = fx.uid[FX_JUMIN];
	u_sl = fx.u_shaliu;
	u_fq = fx.u_fengqi;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	int rc = fixture_stop(&fx);
	assert_int_equal(rc, 0);
	return 0;
}

/* POST /api/v1/api-keys {"name": name[, "user_id": uid]} as admin; returns the response. */
static struct resp *create_key(const char *tok, const char *name, int64_t uid, const char *headers)
{
	json_t *b = json_pack("{s:s}", "name", name);
	if (uid)
		json_object_set_new(b, "user_id", json_integer(uid));
	char *body = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	struct resp *r = api(&S, "POST", "/api/v1/api-keys", tok, body, headers);
	free(body);
	return r;
}

/* Creates a key as admin; *key receives a malloc'd copy of the secret. */
static int64_t new_key(const char *name, int64_t uid, char **key)
{
	struct resp *r = create_key(admin, name, uid, NULL);
	assert_status(r, 201);
	int64_t id = jint(r->json, "id");
	*key = strdup(jstr(r->json, "key"));
	resp_free(r);
	return id;
}

static bool list_has_id(json_t *items, int64_t id)
{
	size_t i;
	json_t *x;
	json_array_foreach(items, i, x) if (jint(x, "id") == id) return true;
	return false;
}

static void create_success(void **state)
{
	(void)state;
	const char *n0 = uniq("open311 client ");
	char name[96];
	snprintf(name, sizeof name, "%s", n0);
	struct resp *r = create_key(admin, name, 0, NULL);
	assert_status(r, 201);
	int64_t id = jint(r->json, "id");
	assert_true(id > 0);
	const char *key = jstr(r->json, "key");
	assert_true(strncmp(key, "gzk_", 4) == 0);
	assert_true(strlen(key) >= 24);
	const char *prefix = jstr(r->json, "prefix");
	assert_true(strlen(prefix) >= 4);
	assert_true(strlen(prefix) < strlen(key));
	assert_true(strncmp(key, prefix, strlen(prefix)) == 0);
	assert_string_equal(jstr(r->json, "name"), name);
	assert_int_equal(jint(r->json, "user_id"), id_admin);
	assert_true(json_is_false(jpath(r->json, "revoked")));
	assert_int_equal(jint(r->json, "version"), 1);
	assert_null(jpath(r->json, "key_hash"));
	char loc[96];
	snprintf(loc, sizeof loc, "/api/v1/api-keys/%lld", (long long)id);
	assert_true(contains(resp_header(r, "Location"), loc));
	assert_string_equal(resp_header(r, "ETag"), "\"1\"");
	char *secret = strdup(key);
	char *pfx = strdup(prefix);
	resp_free(r);

	/* the key is never shown again */
	r = apif(&S, "GET", admin, NULL, "/api/v1/api-keys/%lld", (long long)id);
	assert_status(r, 200);
	assert_null(jpath(r->json, "key"));
	assert_null(jpath(r->json, "key_hash"));
	assert_string_equal(jstr(r->json, "prefix"), pfx);
	assert_string_equal(jstr(r->json, "name"), name);
	assert_false(contains(r->body, secret));
	assert_string_equal(resp_header(r, "ETag"), "\"1\"");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/api-keys?limit=500", admin, NULL, NULL);
	assert_status(r, 200);
	assert_true(list_has_id(jpath(r->json, "items"), id));
	assert_false(contains(r->body, secret));
	assert_false(contains(r->body, "key_hash"));
	size_t i;
	json_t *x;
	json_array_foreach(jpath(r->json, "items"), i, x) assert_null(jpath(x, "key"));
	resp_free(r);
	/* two keys differ */
	char *other;
	new_key("second", 0, &other);
	assert_string_not_equal(other, secret);
	free(other);
	free(secret);
	free(pfx);
}

static void key_authenticates(void **state)
{
	(void)state;
	char *key;
	new_key(uniq("auth"), 0, &key);
	struct resp *r = api(&S, "GET", "/api/v1/auth/me", key, NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "username"), "admin");
	resp_free(r);
	/* writes work with a key (no CSRF token) */
	int64_t uid = create_user(&S, key, uniq("bykey"), PW, "[\"resident\"]", u_sl, 0);
	assert_true(uid > 0);
	/* a bogus key with the right prefix */
	r = api(&S, "GET", "/api/v1/auth/me", "gzk_notarealkeyatallnotarealkeyatall00000", NULL,
	        NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	/* a prefix alone is not the key */
	struct resp *k = api(&S, "GET", "/api/v1/api-keys?limit=1", admin, NULL, NULL);
	r = api(&S, "GET", "/api/v1/auth/me", jstr(k->json, "items.0.prefix"), NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	resp_free(k);
	free(key);
}

static void key_of_another_user(void **state)
{
	(void)state;
	/* a key for a community staff account acts as that account, with its scope */
	const char *u0 = uniq("integ");
	char u[96];
	snprintf(u, sizeof u, "%s", u0);
	int64_t uid = create_user(&S, admin, u, PW, "[\"community_staff\"]", u_sl, 0);
	assert_true(uid > 0);
	char *key;
	int64_t kid = new_key("community integration", uid, &key);
	struct resp *r = apif(&S, "GET", admin, NULL, "/api/v1/api-keys/%lld", (long long)kid);
	assert_int_equal(jint(r->json, "user_id"), uid);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", key, NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "username"), u);
	assert_int_equal(jint(r->json, "id"), uid);
	resp_free(r);
	/* its scope: its community, not another */
	r = apif(&S, "GET", key, NULL, "/api/v1/users/%lld", (long long)id_jumin);
	assert_status(r, 200);
	resp_free(r);
	r = apif(&S, "GET", key, NULL, "/api/v1/users/%lld", (long long)id_shequ2);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	/* and not the admin's permissions */
	r = api(&S, "GET", "/api/v1/api-keys", key, NULL, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = create_key(key, "escalate", 0, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	/* the account disabled: its key no longer works */
	r = apif(&S, "PATCH", admin, "{\"disabled\":true}", "/api/v1/users/%lld", (long long)uid);
	assert_status(r, 200);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", key, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	free(key);
}

static void revoke(void **state)
{
	(void)state;
	char *key;
	int64_t id = new_key(uniq("rv"), 0, &key);
	struct resp *r = api(&S, "GET", "/api/v1/auth/me", key, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	r = apif(&S, "PATCH", admin, "{\"revoked\":true}", "/api/v1/api-keys/%lld", (long long)id);
	assert_status(r, 200);
	assert_true(json_is_true(jpath(r->json, "revoked")));
	assert_int_equal(jint(r->json, "version"), 2);
	assert_string_equal(resp_header(r, "ETag"), "\"2\"");
	assert_null(jpath(r->json, "key"));
	resp_free(r);
	/* at once */
	r = api(&S, "GET", "/api/v1/auth/me", key, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/units", key, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	/* listed as revoked */
	r = api(&S, "GET", "/api/v1/api-keys?revoked=true&limit=500", admin, NULL, NULL);
	assert_status(r, 200);
	assert_true(list_has_id(jpath(r->json, "items"), id));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/api-keys?revoked=false&limit=500", admin, NULL, NULL);
	assert_status(r, 200);
	assert_false(list_has_id(jpath(r->json, "items"), id));
	resp_free(r);
	/* a revoked key stays revoked */
	r = apif(&S, "PATCH", admin, "{\"revoked\":false}", "/api/v1/api-keys/%lld", (long long)id);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", key, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = apif(&S, "GET", admin, NULL, "/api/v1/api-keys/%lld", (long long)id);
	assert_true(json_is_true(jpath(r->json, "revoked")));
	resp_free(r);
	free(key);
}

static void revoking_one_key_keeps_others(void **state)
{
	(void)state;
	char *k1, *k2;
	int64_t id1 = new_key(uniq("k1"), 0, &k1);
	new_key(uniq("k2"), 0, &k2);
	struct resp *r =
	    apif(&S, "PATCH", admin, "{\"revoked\":true}", "/api/v1/api-keys/%lld", (long long)id1);
	assert_status(r, 200);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", k2, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", admin, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	free(k1);
	free(k2);
}

static void rename_and_if_match(void **state)
{
	(void)state;
	char *key;
	int64_t id = new_key(uniq("rn"), 0, &key);
	struct resp *r = apif(&S, "PATCH", admin, "{\"name\":\"district platform\"}",
	                      "/api/v1/api-keys/%lld", (long long)id);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "name"), "district platform");
	assert_int_equal(jint(r->json, "version"), 2);
	resp_free(r);
	r = apihf(&S, "PATCH", admin, "{\"name\":\"stale\"}", "If-Match: \"1\"",
	          "/api/v1/api-keys/%lld", (long long)id);
	assert_error(r, 412, "precondition_failed", NULL);
	resp_free(r);
	r = apihf(&S, "PATCH", admin, "{\"name\":\"fresh\"}", "If-Match: \"2\"",
	          "/api/v1/api-keys/%lld", (long long)id);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "name"), "fresh");
	resp_free(r);
	/* renaming does not change the key */
	r = api(&S, "GET", "/api/v1/auth/me", key, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	free(key);
}

static void validation(void **state)
{
	(void)state;
	struct resp *r;
	r = api(&S, "POST", "/api/v1/api-keys", admin, "{}", NULL);
	assert_error(r, 400, "validation_failed", "name");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/api-keys", admin, "{\"name\":\"\"}", NULL);
	assert_error(r, 400, "validation_failed", "name");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/api-keys", admin, "{\"name\":null}", NULL);
	assert_error(r, 400, "validation_failed", "name");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/api-keys", admin, "{\"name\":42}", NULL);
	assert_error(r, 400, "validation_failed", "name");
	resp_free(r);
	char longname[80];
	memset(longname, 'n', 65);
	longname[65] = '\0';
	r = create_key(admin, longname, 0, NULL);
	assert_error(r, 400, "validation_failed", "name");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/api-keys", admin, "{\"name\":\"x\",\"scopes\":[\"all\"]}",
	        NULL);
	assert_error(r, 400, "unknown_field", "scopes");
	resp_free(r);
	/* the secret and its hash cannot be chosen */
	r = api(&S, "POST", "/api/v1/api-keys", admin, "{\"name\":\"x\",\"key\":\"gzk_chosen\"}",
	        NULL);
	assert_int_equal(r->status, 400);
	assert_string_equal(err_field(r), "key");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/api-keys", admin, "{\"name\":\"x\",\"key_hash\":\"00\"}",
	        NULL);
	assert_int_equal(r->status, 400);
	assert_string_equal(err_field(r), "key_hash");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/api-keys", admin, "{\"name\":\"x\",\"prefix\":\"gzk_AAAAAA\"}",
	        NULL);
	assert_int_equal(r->status, 400);
	assert_string_equal(err_field(r), "prefix");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/api-keys", admin, "{\"name\":\"x\",\"user_id\":99999999}",
	        NULL);
	assert_error(r, 400, "validation_failed", "user_id");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/api-keys", admin, "{\"name\":\"x\",\"user_id\":\"1\"}", NULL);
	assert_error(r, 400, "validation_failed", "user_id");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/api-keys", admin, "{\"name\":\"x\",\"revoked\":\"no\"}", NULL);
	assert_error(r, 400, "validation_failed", "revoked");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/api-keys", admin, "{\"name\":", NULL);
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/api-keys", admin, "{\"name\":\"x\"}",
	        "Content-Type: text/plain");
	assert_error(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	/* patch */
	char *key;
	int64_t id = new_key(uniq("val"), 0, &key);
	r = apif(&S, "PATCH", admin, "{\"user_id\":1}", "/api/v1/api-keys/%lld", (long long)id);
	assert_error(r, 400, "validation_failed", "user_id");
	resp_free(r);
	r = apif(&S, "PATCH", admin, "{\"revoked\":\"yes\"}", "/api/v1/api-keys/%lld",
	         (long long)id);
	assert_error(r, 400, "validation_failed", "revoked");
	resp_free(r);
	r = apif(&S, "PATCH", admin, "{\"name\":\"\"}", "/api/v1/api-keys/%lld", (long long)id);
	assert_error(r, 400, "validation_failed", "name");
	resp_free(r);
	r = apif(&S, "PATCH", admin, "{\"colour\":\"red\"}", "/api/v1/api-keys/%lld",
	         (long long)id);
	assert_error(r, 400, "unknown_field", "colour");
	resp_free(r);
	r = apif(&S, "PATCH", admin, "{\"prefix\":\"gzk_xx\"}", "/api/v1/api-keys/%lld",
	         (long long)id);
	assert_int_equal(r->status, 400);
	assert_string_equal(err_field(r), "prefix");
	resp_free(r);
	r = apif(&S, "PATCH", admin, "{\"name\":\"x\"}", "/api/v1/api-keys/%lld?force=1",
	         (long long)id);
	assert_error(r, 400, "unknown_field", "force");
	resp_free(r);
	/* the key still works and is unchanged */
	r = apif(&S, "GET", admin, NULL, "/api/v1/api-keys/%lld", (long long)id);
	assert_int_equal(jint(r->json, "version"), 1);
	assert_true(json_is_false(jpath(r->json, "revoked")));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", key, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	free(key);
}

static void admin_only(void **state)
{
	(void)state;
	char *key;
	int64_t id = new_key(uniq("ao"), 0, &key);
	const char *toks[] = {jiedao, shequ, jumin, hehuoren};
	for (size_t i = 0; i < 4; i++) {
		struct resp *r = api(&S, "GET", "/api/v1/api-keys", toks[i], NULL, NULL);
		assert_error(r, 403, "forbidden", NULL);
		resp_free(r);
		r = apif(&S, "GET", toks[i], NULL, "/api/v1/api-keys/%lld", (long long)id);
		assert_error(r, 403, "forbidden", NULL);
		resp_free(r);
		r = create_key(toks[i], "mine", 0, NULL);
		assert_error(r, 403, "forbidden", NULL);
		resp_free(r);
		r = apif(&S, "PATCH", toks[i], "{\"revoked\":true}", "/api/v1/api-keys/%lld",
		         (long long)id);
		assert_error(r, 403, "forbidden", NULL);
		resp_free(r);
	}
	/* nobody else revoked it */
	struct resp *r = api(&S, "GET", "/api/v1/auth/me", key, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	/* anonymous */
	r = api(&S, "GET", "/api/v1/api-keys", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = create_key(NULL, "anon", 0, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = apif(&S, "PATCH", NULL, "{\"revoked\":true}", "/api/v1/api-keys/%lld", (long long)id);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	free(key);
}

static void not_found_and_methods(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/api-keys/99999999", admin, NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "PATCH", "/api/v1/api-keys/99999999", admin, "{\"revoked\":true}", NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/api-keys/abc", admin, NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	char *key;
	int64_t id = new_key(uniq("nm"), 0, &key);
	r = apif(&S, "DELETE", admin, NULL, "/api/v1/api-keys/%lld", (long long)id);
	assert_error(r, 405, "method_not_allowed", NULL);
	assert_true(contains(resp_header(r, "Allow"), "GET"));
	assert_true(contains(resp_header(r, "Allow"), "PATCH"));
	resp_free(r);
	r = api(&S, "PUT", "/api/v1/api-keys", admin, "{}", NULL);
	assert_error(r, 405, "method_not_allowed", NULL);
	assert_true(contains(resp_header(r, "Allow"), "POST"));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/auth/me", key, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	free(key);
}

static void list_rules(void **state)
{
	(void)state;
	const char *p0 = uniq("lst");
	char prefix[64];
	snprintf(prefix, sizeof prefix, "%s", p0);
	for (int i = 0; i < 5; i++) {
		char name[96], *key;
		snprintf(name, sizeof name, "%s-%d", prefix, i);
		new_key(name, 0, &key);
		free(key);
	}
	/* paging with q */
	json_t *seen = json_array();
	char cursor[64] = "";
	int pages = 0;
	for (;;) {
		struct resp *r =
		    cursor[0] ? apif(&S, "GET", admin, NULL,
		                     "/api/v1/api-keys?q=%s&limit=2&cursor=%s", prefix, cursor)
		              : apif(&S, "GET", admin, NULL,
		                     "/api/v1/api-keys?q=%s&limit=2&count=true", prefix);
		assert_status(r, 200);
		if (!cursor[0])
			assert_int_equal(jint(r->json, "total"), 5);
		size_t i;
		json_t *x;
		json_array_foreach(jpath(r->json, "items"), i, x)
		{
			assert_false(list_has_id(seen, jint(x, "id")));
			assert_true(contains(jstr(x, "name"), prefix));
			json_array_append(seen, x);
		}
		pages++;
		json_t *nc = jpath(r->json, "next_cursor");
		assert_non_null(nc);
		if (json_is_null(nc)) {
			resp_free(r);
			break;
		}
		snprintf(cursor, sizeof cursor, "%s", json_string_value(nc));
		resp_free(r);
		assert_true(pages < 10);
	}
	assert_int_equal(json_array_size(seen), 5);
	assert_int_equal(pages, 3);
	json_decref(seen);
	struct resp *r = api(&S, "GET", "/api/v1/api-keys?limit=0", admin, NULL, NULL);
	assert_error(r, 400, "validation_failed", "limit");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/api-keys?limit=501", admin, NULL, NULL);
	assert_error(r, 400, "validation_failed", "limit");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/api-keys?key_hash=00", admin, NULL, NULL);
	assert_error(r, 400, "unknown_field", "key_hash");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/api-keys?owner=1", admin, NULL, NULL);
	assert_error(r, 400, "unknown_field", "owner");
	resp_free(r);
	/* filter by account */
	char q[64];
	snprintf(q, sizeof q, "/api/v1/api-keys?user_id=%lld&limit=500", (long long)id_admin);
	r = api(&S, "GET", q, admin, NULL, NULL);
	assert_status(r, 200);
	size_t i;
	json_t *x;
	json_array_foreach(jpath(r->json, "items"), i, x)
	    assert_int_equal(jint(x, "user_id"), id_admin);
	resp_free(r);
}

static void idempotency(void **state)
{
	(void)state;
	const char *n0 = uniq("idem");
	char name[96], hdr[160];
	snprintf(name, sizeof name, "%s", n0);
	snprintf(hdr, sizeof hdr, "Idempotency-Key: %s-key", name);
	struct resp *r1 = create_key(admin, name, 0, hdr);
	assert_status(r1, 201);
	struct resp *r2 = create_key(admin, name, 0, hdr);
	assert_status(r2, 201);
	assert_string_equal(resp_header(r2, "Idempotent-Replayed"), "true");
	assert_int_equal(jint(r2->json, "id"), jint(r1->json, "id"));
	assert_string_equal(jstr(r2->json, "prefix"), jstr(r1->json, "prefix"));
	/* one key only */
	struct resp *l = apif(&S, "GET", admin, NULL, "/api/v1/api-keys?q=%s&count=true", name);
	assert_int_equal(jint(l->json, "total"), 1);
	resp_free(l);
	resp_free(r1);
	resp_free(r2);
}

static void key_cannot_log_out_or_change_password(void **state)
{
	(void)state;
	char *key;
	new_key(uniq("pw"), 0, &key);
	/* a key is not a session: password change refused, admin's password intact */
	struct resp *r =
	    api(&S, "POST", "/api/v1/auth/password", key,
	        "{\"old_password\":\"" ADMIN_PW "\",\"new_password\":\"Changed-By-Key-1\"}", NULL);
	assert_int_equal(r->status / 100, 4);
	resp_free(r);
	char *t = login(&S, "admin", ADMIN_PW);
	assert_non_null(t);
	free(t);
	/* a key cannot travel in the cookie */
	char h[256];
	snprintf(h, sizeof h, "Cookie: gz_session=%s", key);
	r = api(&S, "GET", "/api/v1/auth/me", NULL, NULL, h);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(create_success),
	    cmocka_unit_test(key_authenticates),
	    cmocka_unit_test(key_of_another_user),
	    cmocka_unit_test(revoke),
	    cmocka_unit_test(revoking_one_key_keeps_others),
	    cmocka_unit_test(rename_and_if_match),
	    cmocka_unit_test(validation),
	    cmocka_unit_test(admin_only),
	    cmocka_unit_test(not_found_and_methods),
	    cmocka_unit_test(list_rules),
	    cmocka_unit_test(idempotency),
	    cmocka_unit_test(key_cannot_log_out_or_change_password),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
