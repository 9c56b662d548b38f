/* entity_http.c - the generic list/get/create/patch handlers of declarative
 * entities: query parameters whitelisted and typed from the description, keyset
 * pagination, count, scope through gz_scope_sql/gz_scope_check, ETag/If-Match,
 * Idempotency-Key through gz_req_write, and the exports of a list (the columns of its
 * rows, through the export engine of model/export.c). */
#include "model/entity.h"
#include "app.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "http/idempotency.h"
#include "model/export.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void buf_release(void *p)
{
	gz_buf_release(p);
}

static void json_release(void *p)
{
	json_decref(p);
}

static char *like_pattern(struct gz_arena *a, const char *q)
{
	char *out = gz_alloc(a, strlen(q) * 2 + 3);
	char *o = out;
	*o++ = '%';
	for (; *q; q++) {
		if (*q == '%' || *q == '_' || *q == '\\')
			*o++ = '\\';
		*o++ = *q;
	}
	*o++ = '%';
	*o = 0;
	return out;
}

static int parse_limit(const char *v, int64_t *limit, struct gz_err *err)
{
	if (!gz_parse_i64(v, limit) || *limit < 1 || *limit > 500)
		return gz_fail_field(err, GZ_E_VALIDATION, "limit",
		                     "limit must be a whole number from 1 to 500");
	return 0;
}

/* Adds "AND <cond>" for one filter; fails naming the parameter. */
static int add_filter(struct gz_req *r, const struct gz_field *f, const char *value,
                      struct gz_buf *where, struct gz_args *args, struct gz_err *err)
{
	const char *n = f->name;
	switch (f->type) {
	case GZ_T_INT: {
		int64_t i;
		if (!gz_parse_i64(value, &i))
			return gz_fail_field(err, GZ_E_VALIDATION, n, "%s must be an integer", n);
		gz_buf_addf(where, " AND t.%s = ?", n);
		gz_args_i64(args, i);
		return 0;
	}
	case GZ_T_BOOL:
		if (strcmp(value, "true") && strcmp(value, "false"))
			return gz_fail_field(err, GZ_E_VALIDATION, n, "%s must be true or false",
			                     n);
		gz_buf_addf(where, " AND t.%s = ?", n);
		gz_args_i64(args, strcmp(value, "true") == 0);
		return 0;
	case GZ_T_ENUM: {
		/* a comma list: kind=bank,school */
		gz_buf_addf(where, " AND t.%s IN (", n);
		char *copy = gz_strdup(&r->arena, value), *save = NULL;
		int k = 0;
		for (char *tok = strtok_r(copy, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			bool ok = false;
			for (const char *const *v = f->values; v && *v; v++)
				ok |= strcmp(*v, tok) == 0;
			if (!ok)
				return gz_fail_field(err, GZ_E_VALIDATION, n,
				                     "%s: unknown value '%s'", n, tok);
			gz_buf_adds(where, k++ ? ", ?" : "?");
			gz_args_text(args, tok);
		}
		if (!k)
			return gz_fail_field(err, GZ_E_VALIDATION, n, "%s must not be empty", n);
		gz_buf_adds(where, ")");
		return 0;
	}
	case GZ_T_REFS: { /* contains: ?org_ids=5 -> the rows whose list holds 5 */
		int64_t i;
		if (!gz_parse_i64(value, &i) || i <= 0)
			return gz_fail_field(err, GZ_E_VALIDATION, n, "%s must be an id", n);
		gz_buf_addf(where, " AND t.id IN (SELECT %s FROM %s WHERE %s = ?)", f->refs_owner,
		            f->refs_table, f->refs_col);
		gz_args_i64(args, i);
		return 0;
	}
	case GZ_T_LIST:
		gz_buf_addf(where, " AND t.%s LIKE ? ESCAPE '\\'", n);
		gz_args_text(args, like_pattern(&r->arena, gz_sprintf(&r->arena, "\"%s\"", value)));
		return 0;
	case GZ_T_TIME: {
		int64_t ms;
		if (!gz_time_parse(value, &ms))
			return gz_fail_field(err, GZ_E_VALIDATION, n, "%s must be an ISO-8601 time",
			                     n);
		gz_buf_addf(where, " AND t.%s = ?", n);
		gz_args_i64(args, ms);
		return 0;
	}
	default:
		gz_buf_addf(where, " AND t.%s = ?", n);
		gz_args_text(args, value);
		return 0;
	}
}

static bool has_search(const struct gz_entity *e)
{
	for (const struct gz_field *f = e->fields; f->name; f++)
		if (f->flags & GZ_F_SEARCH)
			return true;
	return false;
}

static bool extra_param(const struct gz_route *rt, const char *key)
{
	for (const char *const *q = rt->query; q && *q; q++)
		if (strcmp(*q, key) == 0)
			return true;
	return false;
}

void gz_entity_scope_where(struct gz_req *r, const struct gz_entity *e, struct gz_buf *wb,
                           struct gz_args *args)
{
	if (e->global_read)
		return;
	gz_buf_adds(wb, " AND ");
	gz_entity_scope_sql(e, r->acct, wb, args);
}

int gz_entity_where(struct gz_req *r, const struct gz_entity *e, struct gz_buf *wb,
                    struct gz_args *args_out, struct gz_list_opts *o, struct gz_err *err)
{
	const char *path_expr =
	    e->unit_path_col ? gz_sprintf(&r->arena, "t.%s", e->unit_path_col) : "su.path";
	int64_t limit = 50, cursor = 0;
	bool count = false;
	const char *archived = "false";
	o->join = NULL;
	o->order_col = "t.id";
	o->now = gz_now_ms();
	gz_buf_adds(wb, " WHERE 1=1");

	/* path parameters other than {id} are filters on the field of that name */
	for (int i = 0; i < r->nparams; i++) {
		const struct gz_field *f = gz_entity_field(e, r->params[i].key);
		if (f && add_filter(r, f, r->params[i].value, wb, args_out, err))
			return -1;
	}
	for (int i = 0; i < r->nquery; i++) {
		const char *k = r->query[i].key, *v = r->query[i].value;
		const struct gz_field *f;
		int handled = e->filter ? e->filter(r, k, v, wb, args_out, o, err) : 0;
		if (handled < 0)
			return -1;
		if (handled)
			continue;
		if (strcmp(k, "limit") == 0) {
			if (parse_limit(v, &limit, err))
				return -1;
		} else if (strcmp(k, "cursor") == 0) {
			if (v[0] != 'c' || !gz_parse_i64(v + 1, &cursor) || cursor <= 0)
				return gz_fail_field(err, GZ_E_VALIDATION, "cursor",
				                     "cursor is not one this server returned");
		} else if (strcmp(k, "archived") == 0 && e->archivable) {
			if (strcmp(v, "true") && strcmp(v, "false") && strcmp(v, "any"))
				return gz_fail_field(err, GZ_E_VALIDATION, "archived",
				                     "archived must be true, false or any");
			archived = v;
		} else if (strcmp(k, "count") == 0) {
			if (strcmp(v, "true") && strcmp(v, "false"))
				return gz_fail_field(err, GZ_E_VALIDATION, "count",
				                     "count must be true or false");
			count = strcmp(v, "true") == 0;
		} else if (strcmp(k, "q") == 0 && has_search(e)) {
			if (gz_utf8_len(v) > 100)
				return gz_fail_field(err, GZ_E_VALIDATION, "q",
				                     "q must have at most 100 characters");
			char *pat = like_pattern(&r->arena, v);
			gz_buf_adds(wb, " AND (1=0");
			for (f = e->fields; f->name; f++)
				if (f->flags & GZ_F_SEARCH) {
					gz_buf_addf(wb, " OR t.%s LIKE ? ESCAPE '\\'", f->name);
					gz_args_text(args_out, pat);
				}
			gz_buf_adds(wb, ")");
		} else if (strcmp(k, "within") == 0 && e->unit_col) {
			int64_t uid;
			if (!gz_parse_i64(v, &uid) || uid <= 0)
				return gz_fail_field(err, GZ_E_VALIDATION, "within",
				                     "within must be a unit id");
			struct gz_conn *c = gz_db_reader(r->app->db);
			struct gz_stmt *s = gz_stmt(c, "SELECT path FROM units WHERE id = ?", err);
			char *path = NULL;
			if (s) {
				gz_bind_i64(s, 1, uid);
				if (gz_step(s, err) == 1)
					path = gz_strdup(&r->arena, gz_col_text(s, 0));
				gz_stmt_done(s);
			}
			gz_db_reader_done(r->app->db, c);
			if (!s)
				return -1;
			if (!path)
				return gz_fail_field(err, GZ_E_VALIDATION, "within",
				                     "within: no unit with id %lld",
				                     (long long)uid);
			char *end = gz_alloc(&r->arena, strlen(path) + 1);
			gz_path_upper(path, end, strlen(path) + 1);
			gz_buf_addf(wb, " AND %s >= ? AND %s < ?", path_expr, path_expr);
			gz_args_text(args_out, path);
			gz_args_text(args_out, end);
		} else if ((strcmp(k, "created_from") == 0 || strcmp(k, "created_to") == 0)) {
			int64_t ms;
			if (gz_range_bound(v, k[8] == 't', &ms))
				return gz_fail_field(
				    err, GZ_E_VALIDATION, k,
				    "%s must be a date (YYYY-MM-DD) or an ISO-8601 "
				    "time",
				    k);
			gz_buf_addf(wb, " AND t.created_at %s ?", k[8] == 'f' ? ">=" : "<");
			gz_args_i64(args_out, ms);
		} else if ((f = gz_entity_field(e, k)) && (f->flags & GZ_F_FILTER)) {
			if (add_filter(r, f, v, wb, args_out, err))
				return -1;
		} else if (!extra_param(r->route, k)) {
			return gz_fail_field(err, GZ_E_UNKNOWN_FIELD, k,
			                     "unknown query parameter '%s'", k);
		}
	}
	if (e->archivable && strcmp(archived, "any") != 0)
		gz_buf_addf(wb, " AND t.archived_at IS %s",
		            strcmp(archived, "true") ? "NULL" : "NOT NULL");
	gz_entity_scope_where(r, e, wb, args_out);

	if (args_out->overflow)
		return gz_fail(err, GZ_E_BAD_REQUEST, "too many filter values");
	o->limit = limit;
	o->cursor = cursor;
	o->count = count;
	return 0;
}

int gz_entity_list_handler(struct gz_req *r, struct gz_err *err)
{
	const struct gz_entity *e = r->route->entity;
	/* the buffers live in the arena: released with the request, on every path */
	struct gz_buf *wb = gz_zalloc(&r->arena, sizeof(*wb)),
	              *sb = gz_zalloc(&r->arena, sizeof(*sb));
	gz_defer(&r->arena, buf_release, wb);
	gz_defer(&r->arena, buf_release, sb);
	struct gz_args args = {0};
	struct gz_list_opts lo;
	if (gz_entity_where(r, e, wb, &args, &lo, err))
		return -1;
	int64_t limit = lo.limit, cursor = lo.cursor;
	bool count = lo.count;
	gz_buf_adds(sb, "SELECT ");
	int now_params = gz_entity_select(e, sb, true);
	if (lo.join)
		gz_buf_adds(sb, lo.join);
	gz_buf_add(sb, wb->data, wb->len);
	if (cursor) /* on the driving column, so that a join can seek to it */
		gz_buf_addf(sb, " AND %s %s ?", lo.order_col, e->order_asc ? ">" : "<");
	/* the same order as t.id: a join on t.id may yield its rows in that order */
	gz_buf_addf(sb, " ORDER BY %s %s LIMIT ?", lo.order_col, e->order_asc ? "ASC" : "DESC");

	/* rows are written straight into the response: no JSON tree per row */
	struct gz_buf *out = gz_reply_json_buf(r, 200);
	gz_buf_adds(out, "{\"items\":[");
	struct gz_conn *c = gz_db_reader(r->app->db);
	int64_t last = 0, total = -1;
	int rc = -1, n = 0;
	/* with reference lists and names of other rows, each row's end is remembered and
	 * the lists and names of the whole page are read in one query per field
	 * afterwards (not one per row) */
	bool refs = gz_entity_has_refs(e);
	struct gz_page_lookups *names = gz_entity_lookups_new(e, (int)limit, &r->arena);
	bool splice = refs || names;
	size_t *ends = splice ? gz_alloc(&r->arena, sizeof(size_t) * (size_t)limit) : NULL;
	int64_t *ids = splice ? gz_alloc(&r->arena, sizeof(int64_t) * (size_t)limit) : NULL;
	size_t rows_from = out->len;
	struct gz_stmt *s = gz_stmt(c, sb->data, err);
	if (s) {
		gz_entity_bind_now(s, now_params, lo.now);
		gz_args_bind(s, &args, now_params + 1);
		int i = now_params + args.n + 1;
		if (cursor)
			gz_bind_i64(s, i++, cursor);
		gz_bind_i64(s, i, limit + 1);
		while ((rc = gz_step(s, err)) == 1) {
			if (n == limit) {
				n++;
				break;
			}
			if (n)
				gz_buf_addc(out, ',');
			gz_entity_row_write(e, s, r->app, &r->arena, out);
			last = gz_col_i64(s, 0);
			if (splice) {
				ends[n] = out->len - 1; /* the row's closing brace */
				ids[n] = last;
			}
			if (names)
				gz_entity_lookups_row(names, s, &r->arena);
			n++;
		}
		gz_stmt_done(s);
	}
	if (rc >= 0 && splice && n > 0) {
		int rows = n > limit ? (int)limit : n;
		char **lists = gz_zalloc(&r->arena, sizeof(char *) * (size_t)rows);
		if ((refs && gz_entity_page_refs(e, c, ids, rows, lists, &r->arena, err)) ||
		    (names && gz_entity_lookups_resolve(names, c, &r->arena, err))) {
			rc = -1;
		} else {
			/* rebuild the rows with each row's lists before its closing brace */
			struct gz_buf page = GZ_BUF_INIT;
			gz_buf_grow(&page, out->len - rows_from + (size_t)rows * 160);
			size_t from = rows_from;
			for (int k = 0; k < rows; k++) {
				gz_buf_add(&page, out->data + from, ends[k] - from);
				if (lists[k])
					gz_buf_adds(&page, lists[k]);
				if (names)
					gz_entity_lookups_append(names, k, &page);
				from = ends[k];
			}
			gz_buf_add(&page, out->data + from, out->len - from);
			out->len = rows_from;
			gz_buf_add(out, page.data, page.len);
			gz_buf_release(&page);
		}
	}
	if (rc >= 0 && count) {
		struct gz_buf csql = GZ_BUF_INIT;
		gz_buf_addf(&csql, "SELECT count(*) FROM %s t", e->table);
		if (e->unit_col)
			if (!e->unit_path_col)
				gz_buf_addf(&csql, " LEFT JOIN units su ON su.id = t.%s",
				            e->unit_col);
		if (lo.join)
			gz_buf_adds(&csql, lo.join);
		gz_buf_add(&csql, wb->data, wb->len);
		s = gz_stmt(c, csql.data, err);
		gz_buf_release(&csql);
		rc = -1;
		if (s) {
			gz_args_bind(s, &args, 1);
			if ((rc = gz_step(s, err)) == 1)
				total = gz_col_i64(s, 0);
			gz_stmt_done(s);
		}
	}
	gz_db_reader_done(r->app->db, c);
	if (rc < 0)
		return -1;
	gz_buf_adds(out, "],\"next_cursor\":");
	if (n > limit) {
		gz_buf_adds(out, "\"c");
		gz_buf_add_i64(out, last);
		gz_buf_addc(out, '"');
	} else {
		gz_buf_adds(out, "null");
	}
	if (total >= 0) {
		gz_buf_adds(out, ",\"total\":");
		gz_buf_add_i64(out, total);
	}
	gz_buf_adds(out, "}\n");
	return 0;
}

static void set_etag(struct gz_req *r, json_t *o)
{
	gz_reply_header(r, "ETag",
	                gz_sprintf(&r->arena, "\"%lld\"",
	                           (long long)json_integer_value(json_object_get(o, "version"))));
}

/* Path parameters other than {id} name fields the row must have: /dicts/{type}/{id}
 * finds an entry only in its own dictionary. */
static int check_path_fields(struct gz_req *r, json_t *o, struct gz_err *err)
{
	const struct gz_entity *e = r->route->entity;
	for (int i = 0; i < r->nparams; i++) {
		if (strcmp(r->params[i].key, "id") == 0 || !gz_entity_field(e, r->params[i].key))
			continue;
		const char *v = json_string_value(json_object_get(o, r->params[i].key));
		if (!v || strcmp(v, r->params[i].value) != 0)
			return gz_entity_not_found(e, json_integer_value(json_object_get(o, "id")),
			                           err);
	}
	return 0;
}

int gz_entity_get_handler(struct gz_req *r, struct gz_err *err)
{
	int64_t id;
	if (gz_req_id(r, "id", &id, err))
		return -1;
	const struct gz_entity *e = r->route->entity;
	struct gz_conn *c = gz_db_reader(r->app->db);
	json_t *o = gz_entity_load(e, c, r->app, r->acct, id, false, err);
	if (o && gz_entity_load_children(e, c, r->app, id, o, err)) {
		json_decref(o);
		o = NULL;
	}
	if (o && e->decorate)
		e->decorate(c, o);
	gz_db_reader_done(r->app->db, c);
	if (!o)
		return -1;
	if (check_path_fields(r, o, err)) {
		json_decref(o);
		return -1;
	}
	set_etag(r, o);
	return gz_reply_json(r, 200, o);
}

struct write_job {
	struct gz_req *r;
	struct gz_write w;
	int64_t expected_version;
	bool create;
};

static int write_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct write_job *j = ctx;
	j->w.conn = c;
	return j->create ? gz_entity_insert(&j->w, err)
	                 : gz_entity_update(&j->w, j->expected_version, err);
}

/* The reply: the row as stored.  Normally read after the commit on the server thread
 * (gz_req_write_reply), so the writer's batch does not wait for it. */
static int write_reply(struct gz_req *r, struct gz_conn *c, void *ctx, bool committed,
                       struct gz_err *err)
{
	struct write_job *j = ctx;
	if (committed && j->w.ent->named) /* a reader may have cached the old name meanwhile */
		gz_entity_names_changed();
	json_t *o = gz_entity_load(j->w.ent, c, j->r->app, NULL, j->w.id, false, err);
	if (!o && !committed)
		return -1;
	if (!o) {
		/* committed, then changed again (deleted) before this read: the write
		 * succeeded all the same, and says so with what is known */
		gz_warn("%s %lld: reply read after commit failed: %s", j->w.ent->table,
		        (long long)j->w.id, err->message);
		gz_err_clear(err);
		o = json_pack("{sI}", "id", (json_int_t)j->w.id);
	} else {
		if (j->w.ent->decorate)
			j->w.ent->decorate(c, o);
		set_etag(r, o);
	}
	if (j->create) {
		char *path = gz_sprintf(&r->arena, "%s/%lld", r->path, (long long)j->w.id);
		size_t pl = strlen(path);
		if (pl > 1 && r->path[strlen(r->path) - 1] == '/')
			path = gz_sprintf(&r->arena, "%s%lld", r->path, (long long)j->w.id);
		gz_reply_header(r, "Location", path);
	}
	return gz_reply_json(r, j->create ? 201 : 200, o);
}

/* The version an If-Match header asks for in *version (0 without the header). */
static int if_match(struct gz_req *r, int64_t *version, struct gz_err *err)
{
	*version = 0;
	const char *im = gz_req_header(r, "If-Match");
	if (!im)
		return 0;
	const char *p = im;
	if (strncmp(p, "W/", 2) == 0)
		p += 2;
	char *v = gz_strdup(&r->arena, p);
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = 0;
		v++;
	}
	if (!gz_parse_i64(v, version) || *version <= 0)
		return gz_fail(err, GZ_E_BAD_REQUEST, "If-Match must be an ETag such as \"3\"");
	return 0;
}

static int write_handler(struct gz_req *r, bool create, struct gz_err *err)
{
	const struct gz_entity *e = r->route->entity;
	struct write_job j = {.r = r, .create = create};
	if (!create && gz_req_id(r, "id", &j.w.id, err))
		return -1;
	if (!create && r->nparams > 1) {
		struct gz_conn *c = gz_db_reader(r->app->db);
		json_t *cur = gz_entity_load(e, c, r->app, r->acct, j.w.id, false, err);
		gz_db_reader_done(r->app->db, c);
		int rc = cur ? check_path_fields(r, cur, err) : -1;
		json_decref(cur);
		if (rc)
			return -1;
	}
	/* on create, path parameters (other than id) are fixed values of their fields */
	json_t *body = json_deep_copy(r->body);
	for (int i = 0; create && i < r->nparams; i++)
		if (strcmp(r->params[i].key, "id") && gz_entity_field(e, r->params[i].key))
			json_object_set_new(body, r->params[i].key,
			                    json_string(r->params[i].value));
	json_t *vals;
	int rc = gz_entity_validate(e, body, create, &vals, err);
	json_decref(body);
	if (rc)
		return -1;
	gz_defer(&r->arena, json_release, vals);
	if (!create) {
		if (if_match(r, &j.expected_version, err))
			return -1;
		if (json_object_size(vals) == 0)
			return gz_fail(err, GZ_E_VALIDATION, "nothing to change");
	}
	if (e->prepare && e->prepare(r, vals, create, err))
		return -1;
	j.w = (struct gz_write){e, r->acct, NULL, r->app, vals, NULL, j.w.id, r->client, &r->arena};
	return gz_req_write_reply(r, write_fn, &j, sizeof(j), write_reply, err);
}

int gz_entity_create_handler(struct gz_req *r, struct gz_err *err)
{
	return write_handler(r, true, err);
}

int gz_entity_patch_handler(struct gz_req *r, struct gz_err *err)
{
	return write_handler(r, false, err);
}

struct archive_job {
	struct gz_req *r;
	struct gz_write w;
	int64_t expected_version;
};

static int archive_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct archive_job *j = ctx;
	j->w.conn = c;
	bool changed;
	if (gz_entity_archive(&j->w, j->expected_version, &changed, err))
		return -1;
	json_t *o = gz_entity_load(j->w.ent, c, j->r->app, NULL, j->w.id, false, err);
	if (!o)
		return -1;
	if (j->w.ent->decorate)
		j->w.ent->decorate(c, o);
	set_etag(j->r, o);
	return gz_reply_json(j->r, 200, o);
}

int gz_entity_archive_handler(struct gz_req *r, struct gz_err *err)
{
	const struct gz_entity *e = r->route->entity;
	struct archive_job j = {.r = r};
	if (gz_req_id(r, "id", &j.w.id, err) || if_match(r, &j.expected_version, err))
		return -1;
	j.w = (struct gz_write){e, r->acct, NULL, r->app, NULL, NULL, j.w.id, r->client, &r->arena};
	return gz_req_write(r, archive_fn, &j, sizeof(j), err);
}

int gz_entity_route_reach(struct gz_req *r, struct gz_err *err)
{
	const struct gz_entity *e = gz_route_row(r->route);
	int64_t id;
	if (gz_req_id(r, "id", &id, err))
		return -1;
	struct gz_conn *c = gz_db_reader(r->app->db);
	int rc;
	if (e->global_read) { /* every holder of the permission sees every row */
		char sql[160];
		int64_t n = 0;
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE id = ?", e->table);
		rc = gz_query_i64(c, err, &n, sql, "i", id) < 0 ? -1
		     : n                                        ? 0
		                                                : gz_entity_not_found(e, id, err);
	} else {
		rc = gz_entity_reach(e, c, r->acct, id, err);
	}
	gz_db_reader_done(r->app->db, c);
	return rc;
}

/* ---- exports ---- */

/* What one exported column shows. */
enum col_kind { COL_ID, COL_FIELD, COL_REF_NAME, COL_TIME };

/* The plan of an entity's export, built per request and owned by the export (its
 * spec and columns live in it). */
struct entity_export {
	struct gz_export_spec spec;
	int ncols;
	const struct gz_field **field; /* per column: the field (NULL: id, times) */
	enum col_kind *kind;
	struct gz_export_column *cols;
	char *names; /* the generated headers' text (sheet, file name) */
};

static void entity_export_free(void *p)
{
	struct entity_export *x = p;
	free(x->field);
	free(x->kind);
	free(x->cols);
	free(x->names);
	free(x);
}

/* A name shown beside a reference (lookup_sql) is not a column of its own: the
 * export shows the reference's name in the reference's column already. */
static bool exported(const struct gz_field *f)
{
	return !(f->flags & (GZ_F_INPUT_ONLY | GZ_F_WRITE_ONLY | GZ_F_DETAIL)) &&
	       f->type != GZ_T_REFS && !f->lookup_sql;
}

/* The column of a referenced row's name: its "name" field, else "display_name". */
static const char *ref_name_col(const struct gz_entity *ref)
{
	if (!ref)
		return NULL;
	if (gz_entity_field(ref, "name"))
		return "name";
	if (gz_entity_field(ref, "display_name"))
		return "display_name";
	return NULL;
}

static const char *value_label(const struct gz_field *f, const char *code)
{
	if (!f->value_labels)
		return code;
	for (int i = 0; f->values && f->values[i]; i++)
		if (strcmp(f->values[i], code) == 0)
			return f->value_labels[i];
	return code;
}

static void entity_export_row(const void *ctx, struct gz_stmt *s, struct gz_app *app,
                              struct gz_arena *a, struct gz_export_cell *c)
{
	const struct entity_export *x = ctx;
	for (int i = 0; i < x->ncols; i++) {
		const struct gz_field *f = x->field[i];
		if (gz_col_null(s, i))
			continue; /* GZ_CELL_EMPTY */
		if (x->kind[i] == COL_ID) {
			c[i] = (struct gz_export_cell){.kind = GZ_CELL_NUMBER,
			                               .number = (double)gz_col_i64(s, i)};
			continue;
		}
		if (x->kind[i] == COL_TIME) {
			c[i] =
			    (struct gz_export_cell){.kind = GZ_CELL_TIME, .time = gz_col_i64(s, i)};
			continue;
		}
		c[i].kind = GZ_CELL_TEXT;
		if (x->kind[i] == COL_REF_NAME) {
			c[i].text = gz_col_text(s, i);
			c[i].guard = true;
			continue;
		}
		switch (f->type) {
		case GZ_T_INT:
			c[i] = (struct gz_export_cell){.kind = GZ_CELL_NUMBER,
			                               .number = (double)gz_col_i64(s, i)};
			break;
		case GZ_T_REAL:
			c[i] = (struct gz_export_cell){.kind = GZ_CELL_NUMBER,
			                               .number = gz_col_double(s, i)};
			break;
		case GZ_T_BOOL:
			c[i].text = gz_col_i64(s, i) ? "是" : "否";
			break;
		case GZ_T_TIME:
			c[i] =
			    (struct gz_export_cell){.kind = GZ_CELL_TIME, .time = gz_col_i64(s, i)};
			break;
		case GZ_T_ENUM:
			c[i].text = value_label(f, gz_col_text(s, i));
			break;
		case GZ_T_LIST: { /* the labels joined with 、 */
			json_t *v = json_loads(gz_col_text(s, i), 0, NULL), *item;
			size_t k;
			struct gz_buf b = GZ_BUF_INIT;
			json_array_foreach(v, k, item)
			{
				if (!json_is_string(item))
					continue;
				if (b.len)
					gz_buf_adds(&b, "、");
				gz_buf_adds(&b, value_label(f, json_string_value(item)));
			}
			json_decref(v);
			c[i].text = gz_strdup(a, gz_buf_str(&b));
			gz_buf_release(&b);
			break;
		}
		default:
			if (f->flags & GZ_F_PII) {
				/* masked as in the API; a value this key did not seal: stars */
				char *plain = gz_unseal(app->key, gz_col_text(s, i));
				c[i].text = plain ? gz_mask(a, plain) : "***";
				free(plain);
			} else {
				c[i].text = gz_col_text(s, i);
				c[i].guard = true;
			}
		}
	}
}

static int entity_export(struct gz_req *r, enum gz_export_format format, struct gz_err *err)
{
	const struct gz_entity *e = r->route->entity;
	struct gz_buf *wb = gz_zalloc(&r->arena, sizeof(*wb)),
	              *sb = gz_zalloc(&r->arena, sizeof(*sb));
	gz_defer(&r->arena, buf_release, wb);
	gz_defer(&r->arena, buf_release, sb);
	struct gz_args args = {0};
	struct gz_list_opts lo; /* limit and cursor do not apply: the export is everything */
	if (gz_entity_where(r, e, wb, &args, &lo, err))
		return -1;

	int max = 4;
	for (const struct gz_field *f = e->fields; f->name; f++)
		max++;
	struct entity_export *x = gz_xcalloc(1, sizeof(*x));
	x->field = gz_xcalloc((size_t)max, sizeof(*x->field));
	x->kind = gz_xcalloc((size_t)max, sizeof(*x->kind));
	x->cols = gz_xcalloc((size_t)max, sizeof(*x->cols));
	int n = 0, now_params = 0;
	gz_buf_adds(sb, "SELECT t.id");
	x->kind[n] = COL_ID;
	x->cols[n++] = (struct gz_export_column){"编号", 8};
	for (const struct gz_field *f = e->fields; f->name; f++) {
		if (!exported(f))
			continue;
		const char *name_col = f->type == GZ_T_INT ? ref_name_col(f->ref) : NULL;
		x->field[n] = f;
		x->kind[n] = COL_FIELD;
		x->cols[n] = (struct gz_export_column){f->label ? f->label : f->name, 16};
		if (f->expr) {
			gz_buf_addf(sb, ", %s", f->expr);
			for (const char *p = f->expr; *p; p++)
				now_params += *p == '?';
		} else if (name_col) {
			x->kind[n] = COL_REF_NAME;
			x->cols[n].width = 24;
			gz_buf_addf(sb, ", (SELECT %s FROM %s WHERE id = t.%s)", name_col,
			            f->ref->table, f->name);
		} else if (f->dict) { /* the entry's name, or the code when it has none */
			x->kind[n] = COL_REF_NAME;
			gz_buf_addf(sb,
			            ", coalesce((SELECT name FROM dict_entries WHERE type = '%s' "
			            "AND code = t.%s), t.%s)",
			            f->dict, f->name, f->name);
		} else {
			gz_buf_addf(sb, ", t.%s", f->name);
		}
		n++;
	}
	gz_buf_adds(sb, ", t.created_at, t.updated_at");
	x->kind[n] = COL_TIME;
	x->cols[n++] = (struct gz_export_column){"创建时间", 20};
	x->kind[n] = COL_TIME;
	x->cols[n++] = (struct gz_export_column){"更新时间", 20};
	if (e->archivable) {
		gz_buf_adds(sb, ", t.archived_at");
		x->kind[n] = COL_TIME;
		x->cols[n++] = (struct gz_export_column){"归档时间", 20};
	}
	x->ncols = n;
	gz_export_from(sb, e->table);
	if (e->unit_col && !e->unit_path_col)
		gz_buf_addf(sb, " LEFT JOIN units su ON su.id = t.%s", e->unit_col);
	if (lo.join)
		gz_buf_adds(sb, lo.join);
	gz_buf_add(sb, wb->data, wb->len);
	gz_buf_adds(sb, " AND t.id = w.id ORDER BY t.id");

	/* the file is named by the table ("dict_entries" -> dict-entries) */
	struct gz_buf names = GZ_BUF_INIT;
	for (const char *p = e->table; *p; p++)
		gz_buf_addc(&names, *p == '_' ? '-' : *p);
	x->names = gz_buf_detach(&names, NULL);
	x->spec = (struct gz_export_spec){
	    .table = e->table,
	    .filename = x->names,
	    .sheet = e->label ? e->label : e->name,
	    .columns = x->cols,
	    .ncolumns = x->ncols,
	    .row = entity_export_row,
	    .ctx = x,
	    .ctx_free = entity_export_free,
	};
	return gz_export_reply(r, &x->spec, format, sb->data, now_params, lo.now, &args, err);
}

int gz_entity_export_csv_handler(struct gz_req *r, struct gz_err *err)
{
	return entity_export(r, GZ_EXPORT_CSV, err);
}

int gz_entity_export_xlsx_handler(struct gz_req *r, struct gz_err *err)
{
	return entity_export(r, GZ_EXPORT_XLSX, err);
}
