/* idempotency.c - stores and replays responses by (account, Idempotency-Key).  Owns
 * the table idempotency_keys; entries older than 24 h are ignored and purged. */
#include "http/idempotency.h"
#include "app.h"
#include "auth/auth.h"
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

int gz_idem_replay(struct gz_req *r, struct gz_err *err)
{
	const char *key = key_of(r);
	if (!key)
		return 0;
	if (!*key || strlen(key) > 200)
		return gz_fail(err, GZ_E_BAD_REQUEST,
		               "Idempotency-Key must have 1 to 200 characters");
	struct gz_conn *c = gz_db_reader(r->app->db);
	struct gz_stmt *s = gz_stmt(c,
	                            "SELECT status, location, body FROM idempotency_keys "
	                            "WHERE account_id = ? AND key = ? AND created_at > ?",
	                            err);
	int rc = -1;
	if (s) {
		gz_bind_i64(s, 1, r->acct->id);
		gz_bind_text(s, 2, key);
		gz_bind_i64(s, 3, gz_now_ms() - DAY_MS);
		rc = gz_step(s, err);
		if (rc == 1) {
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
};

static int idem_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct idem_job *j = ctx;
	if (j->fn(c, j->ctx, err))
		return -1;
	if (!j->key)
		return 0;
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
		                  "status, location, body) VALUES (?, ?, ?, ?, ?, ?)",
		                  "itiitt", j->r->acct->id, j->key, now, (int64_t)j->r->status, loc,
		                  body ? body : "{}");
	free(body);
	return rc;
}

/* After the write: a concurrent first use of the same key lost on the unique key;
 * answer what the winner answered. */
static int idem_after(struct gz_req *r, int rc, struct gz_err *err)
{
	if (rc && key_of(r) && err->code == GZ_E_CONFLICT) {
		struct gz_err e2;
		json_decref(r->json);
		r->json = NULL;
		r->nheaders = 0;
		if (gz_idem_replay(r, &e2) == 1)
			return 0;
	}
	return rc;
}

int gz_req_write(struct gz_req *r, gz_write_fn fn, const void *ctx, size_t size, struct gz_err *err)
{
	/* the job outlives the handler's frame: copies in the request's arena */
	void *copy = gz_alloc(&r->arena, size ? size : 1);
	memcpy(copy, ctx, size);
	struct idem_job *j = gz_alloc(&r->arena, sizeof(*j));
	*j = (struct idem_job){r, fn, copy, key_of(r)};
	return gz_req_write_async(r, idem_fn, j, idem_after, err);
}
