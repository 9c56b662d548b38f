/* idempotency.c - stores and replays responses by (account, Idempotency-Key).  Owns
 * the table idempotency_keys; entries older than 24 h are ignored and purged.
 *
 * An entry is bound to the request that made it: it stores a digest of the method,
 * the path, the query and the raw body, and the same key sent with another request
 * is a 409 rather than a replay of a response that answers something else (a key
 * reused by a buggy client for a second work order must not hand it the first
 * one's 201).  Entries written before the digest existed (digest '') replay as they
 * always did, for the 24 h they still live. */
#include "http/idempotency.h"
#include "app.h"
#include "auth/auth.h"
#include "core/crypto.h"
#include "core/timefmt.h"
#include <stdlib.h>
#include <string.h>

#define DAY_MS (24 * 3600 * 1000LL)

static const char *key_of(struct gz_req *r)
{
	if (r->method != GZ_POST || !r->acct)
		return NULL;
	return gz_req_header(r, "Idempotency-Key");
}

/* SHA-256 of what makes the request this request: method, decoded path (its ids
 * included, so one key cannot answer for two orders' actions), the query pairs and
 * the raw body bytes, each length-prefixed so no two requests run together. */
static void digest_of(struct gz_req *r, char out[GZ_SHA256_HEX])
{
	struct gz_buf b = GZ_BUF_INIT;
	const char *path = r->path ? r->path : "";
	gz_buf_addf(&b, "%u:%zu:%s", (unsigned)r->method, strlen(path), path);
	for (int i = 0; i < r->nquery; i++)
		gz_buf_addf(&b, "&%zu:%s=%zu:%s", strlen(r->query[i].key), r->query[i].key,
		            strlen(r->query[i].value), r->query[i].value);
	gz_buf_addf(&b, "|%zu:", r->raw_body.len);
	gz_buf_add(&b, r->raw_body.data ? r->raw_body.data : "", r->raw_body.len);
	gz_sha256_hex(b.data, b.len, out);
	gz_buf_release(&b);
}

int gz_idem_replay(struct gz_req *r, struct gz_err *err)
{
	const char *key = key_of(r);
	if (!key)
		return 0;
	if (!*key || strlen(key) > 200)
		return gz_fail(err, GZ_E_BAD_REQUEST,
		               "Idempotency-Key must have 1 to 200 characters");
	char digest[GZ_SHA256_HEX];
	digest_of(r, digest);
	struct gz_conn *c = gz_db_reader(r->app->db);
	struct gz_stmt *s = gz_stmt(c,
	                            "SELECT status, location, body, digest FROM idempotency_keys "
	                            "WHERE account_id = ? AND key = ? AND created_at > ?",
	                            err);
	int rc = -1;
	if (s) {
		gz_bind_i64(s, 1, r->acct->id);
		gz_bind_text(s, 2, key);
		gz_bind_i64(s, 3, gz_now_ms() - DAY_MS);
		rc = gz_step(s, err);
		if (rc == 1 && *gz_col_text(s, 3) && strcmp(gz_col_text(s, 3), digest) != 0) {
			rc = gz_fail_field(err, GZ_E_CONFLICT, "Idempotency-Key",
			                   "Idempotency-Key was used for a different request");
		} else if (rc == 1) {
			json_t *body = json_loads(gz_col_text(s, 2), 0, NULL);
			if (!gz_col_null(s, 1))
				gz_reply_header(r, "Location",
				                gz_strdup(&r->arena, gz_col_text(s, 1)));
			gz_reply_header(r, "Idempotent-Replayed", "true");
			gz_reply_json(r, (int)gz_col_i64(s, 0), body ? body : json_object());
		}
		gz_stmt_done(s);
	}
	gz_db_reader_done(r->app->db, c);
	return rc;
}

struct idem_job {
	struct gz_req *r;
	gz_write_fn fn;
	void *ctx;
	const char *key;
	char digest[GZ_SHA256_HEX];
	gz_reply_fn reply; /* NULL: fn sets the reply itself */
};

static int idem_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct idem_job *j = ctx;
	if (j->fn(c, j->ctx, err))
		return -1;
	if (!j->key)
		return 0; /* the reply, if fn did not set it, is built after the commit */
	if (j->reply && j->reply(j->r, c, j->ctx, false, err))
		return -1;
	const char *loc = NULL;
	for (int i = 0; i < j->r->nheaders; i++)
		if (strcmp(j->r->headers[i].key, "Location") == 0)
			loc = j->r->headers[i].value;
	char *body = j->r->json ? gz_json_dump(j->r->json) : NULL;
	int64_t now = gz_now_ms();
	int rc = gz_exec_args(c, err, "DELETE FROM idempotency_keys WHERE created_at < ?", "i",
	                      now - DAY_MS);
	if (!rc)
		rc = gz_exec_args(c, err,
		                  "INSERT INTO idempotency_keys (account_id, key, created_at, "
		                  "status, location, body, digest) VALUES (?, ?, ?, ?, ?, ?, ?)",
		                  "itiittt", j->r->acct->id, j->key, now, (int64_t)j->r->status,
		                  loc, body ? body : "{}", j->digest);
	free(body);
	return rc;
}

/* After the write: a concurrent first use of the same key lost on the unique key;
 * answer what the winner answered (or the 409 when the winner's request differs). */
static int idem_after(struct gz_req *r, int rc, struct gz_err *err)
{
	struct idem_job *j = r->write_job;
	if (rc == 0 && j && j->reply && !j->key) {
		struct gz_conn *c = gz_db_reader(r->app->db);
		rc = j->reply(r, c, j->ctx, true, err);
		gz_db_reader_done(r->app->db, c);
		return rc;
	}
	if (rc && key_of(r) && err->code == GZ_E_CONFLICT) {
		struct gz_err e2;
		json_decref(r->json);
		r->json = NULL;
		r->nheaders = 0;
		int rc2 = gz_idem_replay(r, &e2);
		if (rc2 == 1)
			return 0;
		if (rc2 < 0 && e2.code == GZ_E_CONFLICT) {
			*err = e2;
			return -1;
		}
	}
	return rc;
}

int gz_req_write_reply(struct gz_req *r, gz_write_fn fn, const void *ctx, size_t size,
                       gz_reply_fn reply, struct gz_err *err)
{
	/* the job outlives the handler's frame: copies in the request's arena */
	void *copy = gz_alloc(&r->arena, size ? size : 1);
	memcpy(copy, ctx, size);
	struct idem_job *j = gz_alloc(&r->arena, sizeof(*j));
	*j = (struct idem_job){r, fn, copy, key_of(r), "", reply};
	if (j->key)
		digest_of(r, j->digest);
	r->write_job = j;
	return gz_req_write_async(r, idem_fn, j, idem_after, err);
}

int gz_req_write(struct gz_req *r, gz_write_fn fn, const void *ctx, size_t size, struct gz_err *err)
{
	return gz_req_write_reply(r, fn, ctx, size, NULL, err);
}
