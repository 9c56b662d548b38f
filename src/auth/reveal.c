/* reveal.c - the audited reveal of one personal-data field (reveal.h): the body's
 * checks, the hourly limit per account, and a write that reads the sealed value and
 * appends the audit entry in one transaction, so that no value leaves without its
 * entry.  What a field means and who may reveal it are the calling module's. */
#include "auth/reveal.h"
#include "app.h"
#include "auth/auth.h"
#include "core/crypto.h"
#include "core/util.h"
#include "http/idempotency.h"
#include "http/ratelimit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *gz_reveal_unseal(const struct gz_app *app, const char *stored)
{
	return gz_unseal(app->key, stored);
}

struct reveal_job {
	struct gz_req *r;
	const struct gz_reveal_spec *spec;
	const char *field, *purpose;
	int64_t id;
};

static void release_text(void *p)
{
	free(p);
}

static int reveal_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct reveal_job *j = ctx;
	struct gz_req *r = j->r;
	const struct gz_entity *e = j->spec->entity;
	/* the field is one of the entity's own (checked against spec->fields): its name
	 * is a column name from the description, never the client's text */
	struct gz_stmt *s = gz_stmt(
	    c, gz_sprintf(&r->arena, "SELECT %s FROM %s WHERE id = ?", j->field, e->table), err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, j->id);
	int rc = gz_step(s, err);
	char *stored =
	    rc == 1 && !gz_col_null(s, 0) ? gz_strdup(&r->arena, gz_col_text(s, 0)) : NULL;
	gz_stmt_done(s);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return gz_entity_not_found(e, j->id, err);
	char *plain = NULL;
	if (stored && *stored) {
		plain = (j->spec->open ? j->spec->open : gz_reveal_unseal)(r->app, stored);
		if (!plain)
			return gz_fail(err, GZ_E_INTERNAL, "the stored %s cannot be opened",
			               j->field);
		gz_defer(&r->arena, release_text, plain);
	}
	json_t *sum = json_pack("{s:s,s:s,s:b}", "field", j->field, "purpose", j->purpose, "empty",
	                        plain == NULL);
	char *text = gz_json_dump(sum);
	json_decref(sum);
	struct gz_audit a = {r->acct, "reveal", e->name, j->id, text, r->client};
	rc = gz_audit_append(c, &a, err);
	free(text);
	if (rc)
		return -1;
	return gz_reply_json(r, 200,
	                     json_pack("{s:s,s:o}", "field", j->field, "value",
	                               plain ? json_string(plain) : json_null()));
}

int gz_reveal_handle(struct gz_req *r, const struct gz_reveal_spec *spec, struct gz_err *err)
{
	struct reveal_job j = {r, spec, NULL, NULL, 0};
	if (gz_req_id(r, "id", &j.id, err))
		return -1;
	const char *key;
	json_t *v;
	json_object_foreach(r->body, key, v)
	{
		if (strcmp(key, "field") && strcmp(key, "purpose"))
			return gz_fail_field(err, GZ_E_UNKNOWN_FIELD, key, "unknown field '%s'",
			                     key);
	}
	v = json_object_get(r->body, "field");
	for (const char *const *f = spec->fields; v && json_is_string(v) && *f; f++)
		if (strcmp(*f, json_string_value(v)) == 0)
			j.field = *f;
	if (!j.field) {
		struct gz_buf names = GZ_BUF_INIT;
		for (const char *const *f = spec->fields; *f; f++)
			gz_buf_addf(&names, "%s%s", f == spec->fields ? "" : ", ", *f);
		gz_fail_field(err, GZ_E_VALIDATION, "field", "field must be one of: %s",
		              gz_buf_str(&names));
		gz_buf_release(&names);
		return -1;
	}
	v = json_object_get(r->body, "purpose");
	const char *p = json_is_string(v) ? json_string_value(v) : NULL;
	while (p && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (!p || !*p)
		return gz_fail_field(err, GZ_E_VALIDATION, "purpose",
		                     "purpose is required: say why the value is needed");
	if (gz_utf8_len(json_string_value(v)) > 200)
		return gz_fail_field(err, GZ_E_VALIDATION, "purpose",
		                     "purpose must have at most 200 characters");
	j.purpose = json_string_value(v);
	/* the limit is the account's: one token per reveal */
	char who[32];
	int n = snprintf(who, sizeof(who), "reveal:%lld", (long long)r->acct->id);
	int64_t wait = gz_ratelimit_take(r->app->limit_reveal, who, (size_t)n);
	if (wait) {
		gz_reply_header(r, "Retry-After", gz_sprintf(&r->arena, "%lld", (long long)wait));
		return gz_fail(err, GZ_E_RATE_LIMITED,
		               "too many reveals from this account: try again in %lld s",
		               (long long)wait);
	}
	return gz_req_write(r, reveal_fn, &j, sizeof(j), err);
}
