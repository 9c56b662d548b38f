/* entity.c - the generic half of declarative entities: input validation, row to
 * JSON, and the create/update writes with scope, hooks, versions and audit.
 * entity_http.c turns these into the list/get/create/patch handlers.
 *
 * Every entity has four implicit columns: id, version, created_at, updated_at. */
#include "model/entity.h"
#include "app.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/util.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const implicit[] = {"id", "version", "created_at", "updated_at"};

const struct gz_field *gz_entity_field(const struct gz_entity *e, const char *name)
{
	for (const struct gz_field *f = e->fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static bool is_implicit(const char *name)
{
	for (size_t i = 0; i < GZ_ARRAY_LEN(implicit); i++)
		if (strcmp(implicit[i], name) == 0)
			return true;
	return false;
}

static bool in_values(const char *const *values, const char *v)
{
	for (; values && *values; values++)
		if (strcmp(*values, v) == 0)
			return true;
	return false;
}

static int list_values(const struct gz_field *f, struct gz_err *err, const char *what)
{
	char buf[200] = "";
	size_t n = 0;
	for (const char *const *v = f->values; v && *v && n < sizeof(buf) - 1; v++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? ", " : "", *v);
	return gz_fail_field(err, GZ_E_VALIDATION, f->name, "%s must be one of: %s", what, buf);
}

/* Validates one value; sets *norm to the normalised value (new reference). */
static int validate_value(const struct gz_field *f, json_t *v, json_t **norm, struct gz_err *err)
{
	const char *n = f->name;
	switch (f->type) {
	case GZ_T_TEXT:
	case GZ_T_ENUM: {
		if (!json_is_string(v))
			return gz_fail_field(err, GZ_E_VALIDATION, n, "%s must be a string", n);
		const char *s = json_string_value(v);
		size_t bytes = json_string_length(v);
		if (strlen(s) != bytes || !gz_utf8_valid(s, bytes))
			return gz_fail_field(err, GZ_E_VALIDATION, n,
			                     "%s contains characters that are not allowed", n);
		if (f->type == GZ_T_ENUM) {
			if (!in_values(f->values, s))
				return list_values(f, err, n);
		} else {
			int64_t len = (int64_t)gz_utf8_len(s);
			int64_t min = f->min ? f->min : ((f->flags & GZ_F_REQUIRED) ? 1 : 0);
			int64_t max = f->max ? f->max : 1000;
			if (len < min)
				return gz_fail_field(
				    err, GZ_E_VALIDATION, n,
				    min == 1 ? "%s must not be empty" : "%s is too short", n);
			if (len > max)
				return gz_fail_field(err, GZ_E_VALIDATION, n,
				                     "%s must have at most %lld characters", n,
				                     (long long)max);
			if (f->check && f->check(s, n, err))
				return -1;
		}
		*norm = json_string(s);
		return 0;
	}
	case GZ_T_INT: {
		if (!json_is_integer(v))
			return gz_fail_field(err, GZ_E_VALIDATION, n, "%s must be an integer", n);
		json_int_t i = json_integer_value(v);
		if (f->ref && i <= 0)
			return gz_fail_field(err, GZ_E_VALIDATION, n, "%s must be a positive id",
			                     n);
		if ((f->min || f->max) && (i < f->min || i > f->max))
			return gz_fail_field(err, GZ_E_VALIDATION, n,
			                     "%s must be from %lld to %lld", n, (long long)f->min,
			                     (long long)f->max);
		*norm = json_integer(i);
		return 0;
	}
	case GZ_T_REAL: {
		if (!json_is_number(v))
			return gz_fail_field(err, GZ_E_VALIDATION, n, "%s must be a number", n);
		double d = json_number_value(v);
		if ((f->min || f->max) && (d < (double)f->min || d > (double)f->max))
			return gz_fail_field(err, GZ_E_VALIDATION, n,
			                     "%s must be from %lld to %lld", n, (long long)f->min,
			                     (long long)f->max);
		*norm = json_real(d);
		return 0;
	}
	case GZ_T_BOOL:
		if (!json_is_boolean(v))
			return gz_fail_field(err, GZ_E_VALIDATION, n, "%s must be true or false",
			                     n);
		*norm = json_integer(json_is_true(v));
		return 0;
	case GZ_T_TIME: {
		int64_t ms;
		if (!json_is_string(v) || !gz_time_parse(json_string_value(v), &ms))
			return gz_fail_field(err, GZ_E_VALIDATION, n,
			                     "%s must be an ISO-8601 time such as "
			                     "2026-11-28T14:05:00+08:00",
			                     n);
		*norm = json_integer(ms);
		return 0;
	}
	case GZ_T_LIST: {
		if (!json_is_array(v))
			return gz_fail_field(err, GZ_E_VALIDATION, n, "%s must be a list", n);
		if ((f->flags & GZ_F_REQUIRED) && json_array_size(v) == 0)
			return gz_fail_field(err, GZ_E_VALIDATION, n, "%s must not be empty", n);
		size_t i, k;
		json_t *x, *y;
		json_array_foreach(v, i, x)
		{
			if (!json_is_string(x) || !in_values(f->values, json_string_value(x)))
				return list_values(f, err, "each value");
			json_array_foreach(v, k, y)
			{
				if (k < i && json_equal(x, y))
					return gz_fail_field(err, GZ_E_VALIDATION, n,
					                     "%s lists a value twice", n);
			}
		}
		char *text = json_dumps(v, JSON_COMPACT);
		*norm = json_string(text);
		free(text);
		return 0;
	}
	case GZ_T_REFS: {
		if (!json_is_array(v))
			return gz_fail_field(err, GZ_E_VALIDATION, n, "%s must be a list of ids",
			                     n);
		size_t max = f->max ? (size_t)f->max : 100;
		if ((f->flags & GZ_F_REQUIRED) && json_array_size(v) == 0)
			return gz_fail_field(err, GZ_E_VALIDATION, n, "%s must not be empty", n);
		if (json_array_size(v) > max)
			return gz_fail_field(err, GZ_E_VALIDATION, n,
			                     "%s must have at most %zu ids", n, max);
		size_t i, k;
		json_t *x, *y;
		json_array_foreach(v, i, x)
		{
			if (!json_is_integer(x) || json_integer_value(x) <= 0)
				return gz_fail_field(err, GZ_E_VALIDATION, n,
				                     "%s must be a list of positive ids", n);
			json_array_foreach(v, k, y)
			{
				if (k < i && json_equal(x, y))
					return gz_fail_field(err, GZ_E_VALIDATION, n,
					                     "%s lists id %lld twice", n,
					                     (long long)json_integer_value(x));
			}
		}
		*norm = json_deep_copy(v);
		return 0;
	}
	}
	GZ_BUG("bad field type");
}

int gz_entity_validate(const struct gz_entity *e, json_t *in, bool create, json_t **out,
                       struct gz_err *err)
{
	*out = NULL;
	if (!json_is_object(in))
		return gz_fail(err, GZ_E_INVALID_JSON, "the body must be a JSON object");
	json_t *res = json_object();
	const char *key;
	json_t *v;
	json_object_foreach(in, key, v)
	{
		const struct gz_field *f = gz_entity_field(e, key);
		if (!f) {
			if (is_implicit(key))
				gz_fail_field(err, GZ_E_VALIDATION, key, "%s cannot be set", key);
			else
				gz_fail_field(err, GZ_E_UNKNOWN_FIELD, key, "unknown field '%s'",
				              key);
			goto fail;
		}
		if (f->flags & GZ_F_READONLY) {
			gz_fail_field(err, GZ_E_VALIDATION, key, "%s cannot be set", key);
			goto fail;
		}
		if (!create && (f->flags & GZ_F_CREATE_ONLY)) {
			gz_fail_field(err, GZ_E_VALIDATION, key, "%s cannot be changed", key);
			goto fail;
		}
		if (json_is_null(v)) {
			if (create && !(f->flags & GZ_F_REQUIRED))
				continue;
			if (!create && (f->flags & GZ_F_NULLABLE) && !(f->flags & GZ_F_REQUIRED)) {
				json_object_set_new(res, key, json_null());
				continue;
			}
			gz_fail_field(err, GZ_E_VALIDATION, key, "%s must not be null", key);
			goto fail;
		}
		json_t *norm = NULL;
		if (validate_value(f, v, &norm, err))
			goto fail;
		json_object_set_new(res, key, norm);
	}
	if (create)
		for (const struct gz_field *f = e->fields; f->name; f++)
			if ((f->flags & GZ_F_REQUIRED) && !json_object_get(res, f->name)) {
				gz_fail_field(err, GZ_E_VALIDATION, f->name, "%s is required",
				              f->name);
				goto fail;
			}
	*out = res;
	return 0;
fail:
	json_decref(res);
	return -1;
}

char *gz_mask(struct gz_arena *a, const char *s)
{
	size_t n = gz_utf8_len(s);
	if (n < 7)
		return gz_strdup(a, n ? "***" : "");
	/* a mobile number keeps its first 3 and last 4 digits, as is usual in China;
	 * anything shorter keeps 2 and 2, so that at least 3 characters are hidden */
	int head = n >= 11 ? 3 : 2, tail_n = n >= 11 ? 4 : 2;
	const char *p = s;
	for (int i = 0; i < head; i++)
		do
			p++;
		while ((*p & 0xc0) == 0x80);
	const char *tail = s + strlen(s);
	for (int i = 0; i < tail_n; i++)
		do
			tail--;
		while ((*tail & 0xc0) == 0x80);
	return gz_sprintf(a, "%.*s****%s", (int)(p - s), s, tail);
}

/* ---- rows ---- */

/* Whether a field has a column in the select list of a single row or of a list. */
static bool selected(const struct gz_field *f, bool list)
{
	return !(f->flags & GZ_F_INPUT_ONLY) && f->type != GZ_T_REFS &&
	       !(list && (f->flags & GZ_F_DETAIL));
}

/* Whether a field is written to a column of the entity's own table. */
static bool stored(const struct gz_field *f)
{
	return !f || (!(f->flags & GZ_F_INPUT_ONLY) && f->type != GZ_T_REFS);
}

/* A reference list shown in list rows (GZ_F_DETAIL ones are left out, as columns). */
static bool listed_refs(const struct gz_field *f)
{
	return f->type == GZ_T_REFS && !(f->flags & GZ_F_DETAIL);
}

bool gz_entity_has_refs(const struct gz_entity *e)
{
	for (const struct gz_field *f = e->fields; f->name; f++)
		if (listed_refs(f))
			return true;
	return false;
}

/* The select list (implicit columns, the stored and computed fields, then the scope
 * columns unless for a list) and the FROM clause with the units join the scope needs. */
int gz_entity_select(const struct gz_entity *e, struct gz_buf *sql, bool list)
{
	int now_params = 0;
	gz_buf_adds(sql, "t.id, t.version, t.created_at, t.updated_at");
	for (const struct gz_field *f = e->fields; f->name; f++) {
		if (!selected(f, list))
			continue;
		if (list && f->lookup_sql) { /* the key: the name comes per page */
			gz_buf_addf(sql, ", t.%s", f->lookup_key);
		} else if (f->expr) {
			gz_buf_addf(sql, ", %s", f->expr);
			for (const char *p = f->expr; *p; p++)
				now_params += *p == '?';
		} else {
			gz_buf_addf(sql, ", t.%s", f->name);
		}
	}
	if (e->archivable)
		gz_buf_adds(sql, ", t.archived_at");
	if (!list) {
		if (e->unit_path_col)
			gz_buf_addf(sql, ", t.%s", e->unit_path_col);
		else
			gz_buf_adds(sql, e->unit_col ? ", su.path" : ", NULL");
		gz_buf_addf(sql, ", %s%s", e->org_col ? "t." : "",
		            e->org_col ? e->org_col : "NULL");
		gz_buf_addf(sql, ", %s%s", e->owner_col ? "t." : "",
		            e->owner_col ? e->owner_col : "NULL");
	}
	gz_buf_addf(sql, " FROM %s t", e->table);
	if (e->unit_col && !e->unit_path_col)
		gz_buf_addf(sql, " LEFT JOIN units su ON su.id = t.%s", e->unit_col);
	return now_params;
}

void gz_entity_bind_now(struct gz_stmt *s, int n, int64_t now)
{
	for (int i = 1; i <= n; i++)
		gz_bind_i64(s, i, now);
}

/* A text column as shown: personal data unsealed and, unless unmasked, masked
 * ("***" when it cannot be unsealed); the arena holds the copy. */
static const char *text_out(const struct gz_field *f, struct gz_stmt *s, int i, struct gz_app *app,
                            bool unmasked, struct gz_arena *a)
{
	if (!(f->flags & GZ_F_PII))
		return gz_col_text(s, i);
	char *plain = gz_unseal(app->key, gz_col_text(s, i));
	if (!plain)
		return "***";
	const char *shown = unmasked ? gz_strdup(a, plain) : gz_mask(a, plain);
	free(plain);
	return shown;
}

static void time_write(struct gz_buf *b, int64_t ms)
{
	char buf[GZ_TIME_BUF];
	gz_time_format(ms, buf, sizeof(buf));
	gz_buf_addc(b, '"');
	gz_buf_adds(b, buf);
	gz_buf_addc(b, '"');
}

void gz_entity_row_write(const struct gz_entity *e, struct gz_stmt *s, struct gz_app *app,
                         struct gz_arena *a, struct gz_buf *b)
{
	gz_buf_adds(b, "{\"id\":");
	gz_buf_add_i64(b, gz_col_i64(s, 0));
	int col = 4;
	for (const struct gz_field *f = e->fields; f->name; f++) {
		if (!selected(f, true))
			continue;
		int i = col++;
		if ((f->flags & GZ_F_WRITE_ONLY) || f->lookup_sql)
			continue; /* a lookup's name is spliced in per page */
		gz_buf_add(b, ",\"", 2);
		gz_buf_adds(b, f->name);
		gz_buf_add(b, "\":", 2);
		if (gz_col_null(s, i)) {
			gz_buf_add(b, "null", 4);
			continue;
		}
		switch (f->type) {
		case GZ_T_INT:
			gz_buf_add_i64(b, gz_col_i64(s, i));
			break;
		case GZ_T_REAL:
			gz_buf_add_json_real(b, gz_col_double(s, i));
			break;
		case GZ_T_BOOL:
			gz_buf_adds(b, gz_col_i64(s, i) ? "true" : "false");
			break;
		case GZ_T_TIME:
			time_write(b, gz_col_i64(s, i));
			break;
		case GZ_T_LIST: { /* stored as JSON text: parsed, so that bad text cannot leak */
			json_t *v = json_loads(gz_col_text(s, i), 0, NULL);
			char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
			gz_buf_adds(b, text ? text : "[]");
			free(text);
			json_decref(v);
			break;
		}
		default:
			gz_buf_add_json_str(b, text_out(f, s, i, app, false, a));
		}
	}
	if (e->archivable) {
		gz_buf_adds(b, ",\"archived_at\":");
		if (gz_col_null(s, col))
			gz_buf_add(b, "null", 4);
		else
			time_write(b, gz_col_i64(s, col));
	}
	gz_buf_adds(b, ",\"version\":");
	gz_buf_add_i64(b, gz_col_i64(s, 1));
	gz_buf_adds(b, ",\"created_at\":");
	time_write(b, gz_col_i64(s, 2));
	gz_buf_adds(b, ",\"updated_at\":");
	time_write(b, gz_col_i64(s, 3));
	gz_buf_addc(b, '}');
}

static json_t *time_json(int64_t ms)
{
	char buf[GZ_TIME_BUF];
	gz_time_format(ms, buf, sizeof(buf));
	return json_string(buf);
}

json_t *gz_entity_row_json(const struct gz_entity *e, struct gz_stmt *s, struct gz_app *app,
                           bool unmasked, struct gz_row_scope *scope, struct gz_arena *a)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(gz_col_i64(s, 0)));
	int col = 4;
	for (const struct gz_field *f = e->fields; f->name; f++) {
		if (!selected(f, false))
			continue;
		int i = col++;
		if (f->flags & GZ_F_WRITE_ONLY)
			continue;
		json_t *v;
		if (gz_col_null(s, i)) {
			v = json_null();
		} else {
			switch (f->type) {
			case GZ_T_INT:
				v = json_integer(gz_col_i64(s, i));
				break;
			case GZ_T_REAL:
				v = json_real(gz_col_double(s, i));
				break;
			case GZ_T_BOOL:
				v = json_boolean(gz_col_i64(s, i));
				break;
			case GZ_T_TIME:
				v = time_json(gz_col_i64(s, i));
				break;
			case GZ_T_LIST: {
				v = json_loads(gz_col_text(s, i), 0, NULL);
				if (!v)
					v = json_array();
				break;
			}
			default:
				v = json_string(text_out(f, s, i, app, unmasked, a));
			}
		}
		json_object_set_new(o, f->name, v);
	}
	if (e->archivable) {
		json_object_set_new(o, "archived_at",
		                    gz_col_null(s, col) ? json_null()
		                                        : time_json(gz_col_i64(s, col)));
		col++;
	}
	json_object_set_new(o, "version", json_integer(gz_col_i64(s, 1)));
	json_object_set_new(o, "created_at", time_json(gz_col_i64(s, 2)));
	json_object_set_new(o, "updated_at", time_json(gz_col_i64(s, 3)));
	if (scope) {
		scope->unit_path = gz_col_null(s, col) ? NULL : gz_strdup(a, gz_col_text(s, col));
		scope->org_id = gz_col_i64(s, col + 1);
		scope->owner_id = gz_col_i64(s, col + 2);
	}
	return o;
}

static int load_refs(const struct gz_entity *e, struct gz_conn *c, int64_t id, json_t *obj,
                     struct gz_err *err);

json_t *gz_entity_load(const struct gz_entity *e, struct gz_conn *c, struct gz_app *app,
                       const struct gz_account *a, int64_t id, bool unmasked, struct gz_err *err)
{
	struct gz_arena arena;
	gz_arena_init(&arena);
	struct gz_buf sql = GZ_BUF_INIT;
	gz_buf_adds(&sql, "SELECT ");
	int now_params = gz_entity_select(e, &sql, false);
	gz_buf_adds(&sql, " WHERE t.id = ?");
	struct gz_stmt *s = gz_stmt(c, sql.data, err);
	gz_buf_release(&sql);
	json_t *o = NULL;
	if (s) {
		gz_entity_bind_now(s, now_params, gz_now_ms());
		gz_bind_i64(s, now_params + 1, id);
		int rc = gz_step(s, err);
		if (rc == 1)
			o = gz_entity_row_json(e, s, app, unmasked, NULL, &arena);
		else if (rc == 0)
			gz_entity_not_found(e, id, err);
		gz_stmt_done(s);
		if (o && a &&
		    (gz_scope_check(a, e->perm_read, NULL, true, err) ||
		     (!e->global_read && gz_entity_reach(e, c, a, id, err)))) {
			json_decref(o);
			o = NULL;
		}
		if (o && load_refs(e, c, id, o, err)) {
			json_decref(o);
			o = NULL;
		}
	}
	gz_arena_release(&arena);
	return o;
}

/* A child column's value as JSON (times formatted, personal data masked). */
static json_t *child_value(const struct gz_field *f, struct gz_stmt *s, int i, struct gz_app *app,
                           struct gz_arena *a)
{
	if (gz_col_null(s, i))
		return json_null();
	switch (f->type) {
	case GZ_T_INT:
		return json_integer(gz_col_i64(s, i));
	case GZ_T_REAL:
		return json_real(gz_col_double(s, i));
	case GZ_T_BOOL:
		return json_boolean(gz_col_i64(s, i));
	case GZ_T_TIME:
		return time_json(gz_col_i64(s, i));
	case GZ_T_LIST: {
		json_t *v = json_loads(gz_col_text(s, i), 0, NULL);
		return v ? v : json_array();
	}
	default:
		return json_string(text_out(f, s, i, app, false, a));
	}
}

/* The GZ_T_REFS arrays of the row id, set on obj: one query per field. */
static int load_refs(const struct gz_entity *e, struct gz_conn *c, int64_t id, json_t *obj,
                     struct gz_err *err)
{
	char sql[512];
	for (const struct gz_field *f = e->fields; f->name; f++) {
		if (f->type != GZ_T_REFS)
			continue;
		snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE %s = ? ORDER BY %s", f->refs_col,
		         f->refs_table, f->refs_owner, f->refs_col);
		struct gz_stmt *s = gz_stmt(c, sql, err);
		if (!s)
			return -1;
		gz_bind_i64(s, 1, id);
		json_t *arr = json_array();
		int rc;
		while ((rc = gz_step(s, err)) == 1)
			json_array_append_new(arr, json_integer(gz_col_i64(s, 0)));
		gz_stmt_done(s);
		json_object_set_new(obj, f->name, arr);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Appends the rows of child list l of the row id to arr. */
static int load_child_list(const struct gz_child_list *l, struct gz_conn *c, struct gz_app *app,
                           int64_t id, json_t *arr, struct gz_arena *a, struct gz_err *err)
{
	struct gz_buf b = GZ_BUF_INIT;
	gz_buf_adds(&b, "SELECT ");
	for (const struct gz_field *f = l->columns; f->name; f++)
		gz_buf_addf(&b, "%s%s%s", f == l->columns ? "" : ", ", f->expr ? "" : "c.",
		            f->expr ? f->expr : f->name);
	gz_buf_addf(&b, " FROM %s c WHERE c.%s = ?", l->table, l->fk);
	if (l->where)
		gz_buf_addf(&b, " AND (%s)", l->where);
	if (l->order)
		gz_buf_addf(&b, " ORDER BY %s", l->order);
	/* one row more than shown: a list cut short is logged, never silent */
	int limit = l->limit > 0 ? l->limit : 100, n = 0;
	gz_buf_addf(&b, " LIMIT %d", limit + 1);
	struct gz_stmt *s = gz_stmt(c, b.data, err);
	gz_buf_release(&b);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, id);
	int rc;
	while ((rc = gz_step(s, err)) == 1) {
		if (n++ == limit) {
			gz_warn("%s %lld: more than %d rows of %s, the detail shows the first %d",
			        l->table, (long long)id, limit, l->name, limit);
			break;
		}
		json_t *row = json_object();
		int i = 0;
		for (const struct gz_field *f = l->columns; f->name; f++, i++)
			if (!(f->flags & GZ_F_WRITE_ONLY))
				json_object_set_new(row, f->name, child_value(f, s, i, app, a));
		json_array_append_new(arr, row);
	}
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
}

int gz_entity_load_children(const struct gz_entity *e, struct gz_conn *c, struct gz_app *app,
                            int64_t id, json_t *obj, struct gz_err *err)
{
	struct gz_arena arena;
	gz_arena_init(&arena);
	int rc = 0;
	for (const struct gz_child_list *l = e->children; l && l->name && !rc; l++) {
		json_t *arr = json_object_get(obj, l->name);
		/* a list of the same name as the one before continues its array */
		if (!(l > e->children && strcmp(l[-1].name, l->name) == 0 && arr)) {
			arr = json_array();
			json_object_set_new(obj, l->name, arr);
		}
		rc = load_child_list(l, c, app, id, arr, &arena, err);
	}
	gz_arena_release(&arena);
	return rc;
}

int gz_entity_page_refs(const struct gz_entity *e, struct gz_conn *c, const int64_t *ids, int n,
                        char **out, struct gz_arena *a, struct gz_err *err)
{
	if (n <= 0)
		return 0;
	struct gz_buf *bufs = gz_zalloc(a, sizeof(*bufs) * (size_t)n);
	/* the page's ids as parameters: one statement per field whatever the page size
	 * (a page is at most a few hundred rows) */
	struct gz_buf idl = GZ_BUF_INIT;
	for (int i = 0; i < n; i++)
		gz_buf_adds(&idl, i ? ", ?" : "?");
	int rc = 0;
	for (const struct gz_field *f = e->fields; f->name && rc >= 0; f++) {
		if (!listed_refs(f))
			continue;
		for (int i = 0; i < n; i++)
			gz_buf_addf(&bufs[i], ",\"%s\":[", f->name);
		char *sql = gz_sprintf(a, "SELECT %s, %s FROM %s WHERE %s IN (%s) ORDER BY %s, %s",
		                       f->refs_owner, f->refs_col, f->refs_table, f->refs_owner,
		                       gz_buf_str(&idl), f->refs_owner, f->refs_col);
		struct gz_stmt *s = gz_stmt(c, sql, err);
		if (!s) {
			rc = -1;
			break;
		}
		for (int i = 0; i < n; i++)
			gz_bind_i64(s, i + 1, ids[i]);
		bool *first = gz_zalloc(a, sizeof(bool) * (size_t)n);
		while ((rc = gz_step(s, err)) == 1) {
			int64_t owner = gz_col_i64(s, 0);
			for (int i = 0; i < n; i++)
				if (ids[i] == owner) {
					if (first[i])
						gz_buf_addc(&bufs[i], ',');
					first[i] = true;
					gz_buf_add_i64(&bufs[i], gz_col_i64(s, 1));
				}
		}
		gz_stmt_done(s);
		for (int i = 0; i < n; i++)
			gz_buf_addc(&bufs[i], ']');
	}
	gz_buf_release(&idl);
	for (int i = 0; i < n; i++) {
		out[i] = gz_strdup(a, gz_buf_str(&bufs[i]));
		gz_buf_release(&bufs[i]);
	}
	return rc < 0 ? -1 : 0;
}

/* ---- names of a list page (lookup fields) ---- */

static bool page_lookup(const struct gz_field *f)
{
	return f->lookup_sql && selected(f, true) && !(f->flags & GZ_F_WRITE_ONLY);
}

struct gz_page_lookups {
	const struct gz_entity *e;
	int nfields, limit, rows;
	const struct gz_field **field;
	int *col; /* the key's column in a list row */
	/* keys[field][row]: an integer key (0: none), or tkeys for a text key (NULL) */
	int64_t **keys;
	const char ***tkeys;
	const char ***names; /* names[field][row] once resolved (NULL: none) */
};

struct gz_page_lookups *gz_entity_lookups_new(const struct gz_entity *e, int limit,
                                              struct gz_arena *a)
{
	int n = 0;
	for (const struct gz_field *f = e->fields; f->name; f++)
		n += page_lookup(f);
	if (!n)
		return NULL;
	struct gz_page_lookups *p = gz_zalloc(a, sizeof(*p));
	p->e = e;
	p->limit = limit;
	p->field = gz_zalloc(a, sizeof(*p->field) * (size_t)n);
	p->col = gz_zalloc(a, sizeof(int) * (size_t)n);
	p->keys = gz_zalloc(a, sizeof(int64_t *) * (size_t)n);
	p->tkeys = gz_zalloc(a, sizeof(char **) * (size_t)n);
	p->names = gz_zalloc(a, sizeof(char **) * (size_t)n);
	int col = 4;
	for (const struct gz_field *f = e->fields; f->name; f++) {
		if (!selected(f, true))
			continue;
		int i = col++;
		if (!page_lookup(f))
			continue;
		p->field[p->nfields] = f;
		p->col[p->nfields] = i;
		if (f->lookup_text_key)
			p->tkeys[p->nfields] = gz_zalloc(a, sizeof(char *) * (size_t)limit);
		else
			p->keys[p->nfields] = gz_zalloc(a, sizeof(int64_t) * (size_t)limit);
		p->names[p->nfields] = gz_zalloc(a, sizeof(char *) * (size_t)limit);
		p->nfields++;
	}
	return p;
}

void gz_entity_lookups_row(struct gz_page_lookups *p, struct gz_stmt *s, struct gz_arena *a)
{
	if (p->rows >= p->limit)
		return;
	for (int j = 0; j < p->nfields; j++) {
		int col = p->col[j];
		if (gz_col_null(s, col))
			continue;
		if (p->tkeys[j])
			p->tkeys[j][p->rows] = gz_strdup(a, gz_col_text(s, col));
		else
			p->keys[j][p->rows] = gz_col_i64(s, col);
	}
	p->rows++;
}

/* The index of key (row i of lookup j) among the first nd distinct keys, or -1. */
static int lookup_find(const struct gz_page_lookups *p, int j, int i, const int *first, int nd)
{
	for (int d = 0; d < nd; d++) {
		int r = first[d];
		if (p->tkeys[j] ? strcmp(p->tkeys[j][r], p->tkeys[j][i]) == 0
		                : p->keys[j][r] == p->keys[j][i])
			return d;
	}
	return -1;
}

/* The names cache of list pages: direct-mapped slots (lookup field, key) -> name,
 * shared by the server's threads under one mutex.  A slot holds while the generation
 * it was filled in is current (a write to a named entity through this layer starts a
 * new one: gz_entity_names_changed()) and for NAMES_TTL_MS at most, which bounds how
 * long a change made elsewhere (another node, a migration) can go unseen in lists;
 * a single row always reads its names afresh (expr). */
#define NAMES_SLOTS 4096
#define NAMES_TTL_MS 5000
struct name_slot {
	const struct gz_field *f;
	int64_t key;
	char *tkey; /* text keys (malloc) */
	char *name; /* malloc; NULL: no such row */
	uint64_t gen;
	int64_t at;
};
static struct name_slot names_cache[NAMES_SLOTS];
static pthread_mutex_t names_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t names_gen = 1;

void gz_entity_names_changed(void)
{
	atomic_fetch_add(&names_gen, 1);
}

static struct name_slot *name_slot(const struct gz_field *f, int64_t key, const char *tkey)
{
	uint64_t h = (uint64_t)(uintptr_t)f * 0x9e3779b97f4a7c15u;
	if (tkey)
		for (const char *p = tkey; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211u;
	else
		h ^= (uint64_t)key * 0xff51afd7ed558ccdu;
	h ^= h >> 29;
	return &names_cache[h % NAMES_SLOTS];
}

/* Under names_mu: the cached name of a key (*hit false when not cached). */
static const char *name_get(const struct gz_field *f, int64_t key, const char *tkey, uint64_t gen,
                            int64_t now, struct gz_arena *a, bool *hit)
{
	struct name_slot *sl = name_slot(f, key, tkey);
	*hit = sl->f == f && sl->gen == gen && now - sl->at < NAMES_TTL_MS &&
	       (tkey ? sl->tkey && strcmp(sl->tkey, tkey) == 0 : !sl->tkey && sl->key == key);
	return *hit && sl->name ? gz_strdup(a, sl->name) : NULL;
}

/* Under names_mu: remembers a name (NULL: no such row). */
static void name_put(const struct gz_field *f, int64_t key, const char *tkey, const char *name,
                     uint64_t gen, int64_t now)
{
	struct name_slot *sl = name_slot(f, key, tkey);
	free(sl->tkey);
	free(sl->name);
	*sl = (struct name_slot){
	    f, key, tkey ? gz_xstrdup(tkey) : NULL, name ? gz_xstrdup(name) : NULL, gen, now};
}

/* Reads the names of the distinct keys miss[0..nm) (indexes into first[], the row
 * of each distinct key) of lookup j into names[]: one query. */
static int lookup_query(struct gz_page_lookups *p, int j, struct gz_conn *c, const int *first,
                        const int *miss, int nm, const char **names, struct gz_arena *a,
                        struct gz_err *err)
{
	const struct gz_field *f = p->field[j];
	/* the list padded to a multiple of 8 (a power of two past 64), repeating the
	 * last key: a few statement texts in the connection's cache */
	int width = 8;
	while (width < nm)
		width = width < 64 ? width + 8 : width * 2;
	struct gz_buf sql = GZ_BUF_INIT;
	gz_buf_adds(&sql, f->lookup_sql);
	for (int d = 0; d < width; d++)
		gz_buf_adds(&sql, d ? ", ?" : " (?");
	gz_buf_addc(&sql, ')');
	struct gz_stmt *s = gz_stmt(c, sql.data, err);
	gz_buf_release(&sql);
	if (!s)
		return -1;
	for (int d = 0; d < width; d++) {
		int r = first[miss[d < nm ? d : nm - 1]];
		if (p->tkeys[j])
			gz_bind_text(s, d + 1, p->tkeys[j][r]);
		else
			gz_bind_i64(s, d + 1, p->keys[j][r]);
	}
	int rc;
	while ((rc = gz_step(s, err)) == 1) {
		for (int d = 0; d < nm; d++) {
			int r = first[miss[d]];
			bool hit = p->tkeys[j] ? strcmp(p->tkeys[j][r], gz_col_text(s, 0)) == 0
			                       : p->keys[j][r] == gz_col_i64(s, 0);
			if (hit) {
				names[miss[d]] = gz_strdup(a, gz_col_text(s, 1));
				break;
			}
		}
	}
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
}

int gz_entity_lookups_resolve(struct gz_page_lookups *p, struct gz_conn *c, struct gz_arena *a,
                              struct gz_err *err)
{
	int n = p->rows, m = n ? n : 1, nf = p->nfields;
	/* per field: the row of each distinct key, the distinct key of each row, the
	 * distinct keys not cached, their counts, and the names of the distinct keys */
	int **first = gz_alloc(a, sizeof(int *) * (size_t)nf),
	    **which = gz_alloc(a, sizeof(int *) * (size_t)nf),
	    **miss = gz_alloc(a, sizeof(int *) * (size_t)nf);
	int *nd = gz_zalloc(a, sizeof(int) * (size_t)nf),
	    *nm = gz_zalloc(a, sizeof(int) * (size_t)nf);
	const char ***names = gz_alloc(a, sizeof(char **) * (size_t)nf);
	bool any = false;
	for (int j = 0; j < nf; j++) {
		first[j] = gz_alloc(a, sizeof(int) * (size_t)m);
		which[j] = gz_alloc(a, sizeof(int) * (size_t)m);
		miss[j] = gz_alloc(a, sizeof(int) * (size_t)m);
		names[j] = gz_zalloc(a, sizeof(char *) * (size_t)m);
		for (int i = 0; i < n; i++) {
			which[j][i] = -1;
			if (p->tkeys[j] ? !p->tkeys[j][i] : !p->keys[j][i])
				continue;
			int d = lookup_find(p, j, i, first[j], nd[j]);
			if (d < 0) {
				first[j][nd[j]] = i;
				d = nd[j]++;
			}
			which[j][i] = d;
		}
		any |= nd[j] > 0;
	}
	if (!any)
		return 0;
	/* the cached names first, under one lock for the whole page */
	uint64_t gen = atomic_load(&names_gen);
	int64_t now = gz_now_ms();
	bool missed = false;
	pthread_mutex_lock(&names_mu);
	for (int j = 0; j < nf; j++)
		for (int d = 0; d < nd[j]; d++) {
			bool hit;
			int r = first[j][d];
			names[j][d] =
			    name_get(p->field[j], p->tkeys[j] ? 0 : p->keys[j][r],
			             p->tkeys[j] ? p->tkeys[j][r] : NULL, gen, now, a, &hit);
			if (!hit)
				miss[j][nm[j]++] = d;
			missed |= !hit;
		}
	pthread_mutex_unlock(&names_mu);
	/* only the misses are read: one query per field that has any */
	for (int j = 0; j < nf && missed; j++)
		if (nm[j] && lookup_query(p, j, c, first[j], miss[j], nm[j], names[j], a, err))
			return -1;
	if (missed) {
		pthread_mutex_lock(&names_mu);
		for (int j = 0; j < nf; j++)
			for (int k = 0; k < nm[j]; k++) {
				int r = first[j][miss[j][k]];
				name_put(p->field[j], p->tkeys[j] ? 0 : p->keys[j][r],
				         p->tkeys[j] ? p->tkeys[j][r] : NULL, names[j][miss[j][k]],
				         gen, now);
			}
		pthread_mutex_unlock(&names_mu);
	}
	for (int j = 0; j < nf; j++)
		for (int i = 0; i < n; i++)
			p->names[j][i] = which[j][i] >= 0 ? names[j][which[j][i]] : NULL;
	return 0;
}

void gz_entity_lookups_append(const struct gz_page_lookups *p, int row, struct gz_buf *b)
{
	for (int j = 0; j < p->nfields; j++) {
		gz_buf_add(b, ",\"", 2);
		gz_buf_adds(b, p->field[j]->name);
		gz_buf_add(b, "\":", 2);
		const char *name = row < p->rows ? p->names[j][row] : NULL;
		if (name)
			gz_buf_add_json_str(b, name);
		else
			gz_buf_add(b, "null", 4);
	}
}

static void json_release(void *p)
{
	json_decref(p);
}

int gz_entity_not_found(const struct gz_entity *e, int64_t id, struct gz_err *err)
{
	return gz_fail(err, GZ_E_NOT_FOUND, "no %s with id %lld", e->name, (long long)id);
}

void gz_entity_scope_sql(const struct gz_entity *e, const struct gz_account *a, struct gz_buf *sql,
                         struct gz_args *args)
{
	char unit[80], unit2[80], org[80], owner[80];
	if (e->unit_path_col)
		snprintf(unit, sizeof(unit), "t.%s", e->unit_path_col);
	else
		snprintf(unit, sizeof(unit), "su.path");
	if (e->unit_path_col2)
		snprintf(unit2, sizeof(unit2), "t.%s", e->unit_path_col2);
	if (e->org_col)
		snprintf(org, sizeof(org), "t.%s", e->org_col);
	if (e->owner_col)
		snprintf(owner, sizeof(owner), "t.%s", e->owner_col);
	bool audience = e->audience_sql && a->unit_path[0] && !(a->roles & GZ_RB(ADMIN));
	if (audience)
		gz_buf_adds(sql, "(");
	gz_scope_sql(a, e->unit_col ? unit : NULL, e->unit_path_col2 ? unit2 : NULL,
	             e->org_sql   ? e->org_sql
	             : e->org_col ? org
	                          : NULL,
	             e->owner_sql   ? e->owner_sql
	             : e->owner_col ? owner
	                            : NULL,
	             sql, args);
	if (audience) {
		gz_buf_addf(sql, " OR %s)", e->audience_sql);
		for (const char *p = strchr(e->audience_sql, '?'); p; p = strchr(p + 1, '?'))
			gz_args_text(args, a->unit_path);
	}
}

int gz_entity_reach(const struct gz_entity *e, struct gz_conn *c, const struct gz_account *a,
                    int64_t id, struct gz_err *err)
{
	/* the very condition the entity's lists use (gz_entity_scope_sql), on one row: the
	 * check and the list cannot disagree */
	struct gz_buf sql = GZ_BUF_INIT;
	struct gz_args args = {0};
	gz_buf_addf(&sql, "SELECT count(*) FROM %s t", e->table);
	if (e->unit_col && !e->unit_path_col)
		gz_buf_addf(&sql, " LEFT JOIN units su ON su.id = t.%s", e->unit_col);
	gz_buf_adds(&sql, " WHERE t.id = ?");
	gz_args_i64(&args, id);
	if (a) {
		gz_buf_adds(&sql, " AND ");
		gz_entity_scope_sql(e, a, &sql, &args);
	}
	struct gz_stmt *s = gz_stmt(c, sql.data, err);
	gz_buf_release(&sql);
	if (!s)
		return -1;
	gz_args_bind(s, &args, 1);
	int rc = gz_step(s, err);
	int64_t n = rc == 1 ? gz_col_i64(s, 0) : 0;
	gz_stmt_done(s);
	if (rc < 0)
		return -1;
	return n ? 0 : gz_entity_not_found(e, id, err);
}

/* ---- references and scope of input ---- */

static int unit_path_of(struct gz_conn *c, int64_t unit_id, char *out, size_t n, struct gz_err *err)
{
	struct gz_stmt *s = gz_stmt_memo(c, "SELECT path FROM units WHERE id = ?", err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, unit_id);
	int rc = gz_step(s, err);
	if (rc == 1)
		snprintf(out, n, "%s", gz_col_text(s, 0));
	gz_stmt_done(s);
	return rc;
}

/* Every id of a reference list names a row of f->ref (and, GZ_F_SCOPED_REF, one the
 * writer reaches); the first that does not is refused like a missing one. */
static int check_ref_list(const struct gz_field *f, struct gz_conn *c, const struct gz_account *a,
                          json_t *v, struct gz_err *err)
{
	size_t i;
	json_t *x;
	char sql[160];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE id = ?", f->ref->table);
	json_array_foreach(v, i, x)
	{
		int64_t id = (int64_t)json_integer_value(x);
		if ((f->flags & GZ_F_SCOPED_REF) && a) {
			struct gz_err e2;
			gz_err_clear(&e2);
			if (gz_entity_reach(f->ref, c, a, id, &e2) == 0)
				continue;
			if (e2.code != GZ_E_NOT_FOUND) {
				*err = e2;
				return -1;
			}
		} else {
			int64_t n = 0;
			if (gz_query_i64(c, err, &n, sql, "i", id) < 0)
				return -1;
			if (n)
				continue;
		}
		return gz_fail_field(err, GZ_E_VALIDATION, f->name, "%s: no %s with id %lld",
		                     f->name, f->ref->name, (long long)id);
	}
	return 0;
}

/* Replaces the sets of the reference lists given in w->in. */
static int write_ref_lists(struct gz_write *w, struct gz_err *err)
{
	for (const struct gz_field *f = w->ent->fields; f->name; f++) {
		json_t *v = json_object_get(w->in, f->name);
		if (f->type != GZ_T_REFS || !v)
			continue;
		char sql[256];
		snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s = ?", f->refs_table,
		         f->refs_owner);
		if (gz_exec_args(w->conn, err, sql, "i", w->id) < 0)
			return -1;
		snprintf(sql, sizeof sql, "INSERT INTO %s (%s, %s) VALUES (?, ?)", f->refs_table,
		         f->refs_owner, f->refs_col);
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
		{
			if (gz_exec_args(w->conn, err, sql, "ii", w->id,
			                 (int64_t)json_integer_value(x)) < 0)
				return -1;
		}
	}
	return 0;
}

int gz_entity_check_refs(const struct gz_entity *e, struct gz_conn *c, const struct gz_account *a,
                         json_t *in, struct gz_err *err)
{
	for (const struct gz_field *f = e->fields; f->name; f++) {
		json_t *v = json_object_get(in, f->name);
		if (!v || json_is_null(v))
			continue;
		if (f->type == GZ_T_REFS) {
			if (check_ref_list(f, c, a, v, err))
				return -1;
			continue;
		}
		if (f->ref && (f->flags & GZ_F_SCOPED_REF) && a) {
			struct gz_err e2;
			gz_err_clear(&e2);
			if (gz_entity_reach(f->ref, c, a, (int64_t)json_integer_value(v), &e2)) {
				if (e2.code != GZ_E_NOT_FOUND) {
					*err = e2;
					return -1;
				}
				return gz_fail_field(
				    err, GZ_E_VALIDATION, f->name, "%s: no %s with id %lld",
				    f->name, f->ref->name, (long long)json_integer_value(v));
			}
		} else if (f->ref) {
			char sql[160];
			snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE id = ?",
			         f->ref->table);
			int64_t n = 0;
			int rc = gz_db_memo_table(f->ref->table)
			             ? gz_query_i64_memo(c, err, &n, sql, "i",
			                                 (int64_t)json_integer_value(v))
			             : gz_query_i64(c, err, &n, sql, "i",
			                            (int64_t)json_integer_value(v));
			if (rc < 0)
				return -1;
			if (!n)
				return gz_fail_field(
				    err, GZ_E_VALIDATION, f->name, "%s: no %s with id %lld",
				    f->name, f->ref->name, (long long)json_integer_value(v));
		}
		if (f->dict) {
			int64_t n = 0;
			if (gz_query_i64_memo(
			        c, err, &n,
			        "SELECT count(*) FROM dict_entries WHERE type = ? AND "
			        "code = ? AND disabled = 0",
			        "tt", f->dict, json_string_value(v)) < 0)
				return -1;
			if (!n)
				return gz_fail_field(err, GZ_E_VALIDATION, f->name,
				                     "%s: '%s' is not in the dictionary %s",
				                     f->name, json_string_value(v), f->dict);
		}
	}
	return 0;
}

/* The scope a row would have with these values (for writes). */
static int input_scope(struct gz_write *w, json_t *vals, struct gz_row_scope *sc, char *path,
                       size_t n, struct gz_err *err)
{
	const struct gz_entity *e = w->ent;
	memset(sc, 0, sizeof(*sc));
	const char *ufield = e->create_unit_field ? e->create_unit_field : e->unit_col;
	int64_t unit_id = 0;
	if (e->unit_col && strcmp(e->unit_col, "id") == 0 && w->id) {
		unit_id = w->id; /* an existing unit: its own place in the tree */
		ufield = "id";
	} else if (ufield && json_is_integer(json_object_get(vals, ufield))) {
		unit_id = json_integer_value(json_object_get(vals, ufield));
	}
	if (unit_id) {
		int rc = unit_path_of(w->conn, unit_id, path, n, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return gz_fail_field(err, GZ_E_VALIDATION, ufield,
			                     "%s: no unit with id %lld", ufield,
			                     (long long)unit_id);
		sc->unit_path = path;
	}
	if (e->org_col) {
		if (strcmp(e->org_col, "id") == 0)
			sc->org_id = w->id;
		else if (json_is_integer(json_object_get(vals, e->org_col)))
			sc->org_id = json_integer_value(json_object_get(vals, e->org_col));
	}
	if (e->owner_col) {
		if (strcmp(e->owner_col, "id") == 0)
			sc->owner_id = w->id;
		else if (json_is_integer(json_object_get(vals, e->owner_col)))
			sc->owner_id = json_integer_value(json_object_get(vals, e->owner_col));
	}
	return 0;
}

/* Binds a normalised value for storage (PII sealed). */
static void bind_value(struct gz_stmt *s, int i, const struct gz_field *f, json_t *v,
                       struct gz_app *app)
{
	if (!v || json_is_null(v))
		gz_bind_null(s, i);
	else if (json_is_integer(v))
		gz_bind_i64(s, i, json_integer_value(v));
	else if (json_is_real(v))
		gz_bind_double(s, i, json_real_value(v));
	else if (f && (f->flags & GZ_F_PII)) {
		char *sealed = gz_seal(app->key, json_string_value(v));
		gz_bind_text(s, i, sealed);
		free(sealed);
	} else
		gz_bind_text(s, i, json_string_value(v));
}

/* Audit summary: the given values with personal data masked. */
static char *summary_of(const struct gz_entity *e, json_t *vals, json_t *before, struct gz_arena *a)
{
	json_t *sum = json_object();
	const char *key;
	json_t *v;
	json_object_foreach(vals, key, v)
	{
		const struct gz_field *f = gz_entity_field(e, key);
		if (!f || (f->flags & (GZ_F_WRITE_ONLY | GZ_F_INPUT_ONLY))) {
			if (f)
				json_object_set_new(sum, key, json_string("(set)"));
			continue;
		}
		json_t *after = (f->flags & GZ_F_PII) && json_is_string(v)
		                    ? json_string(gz_mask(a, json_string_value(v)))
		                    : json_incref(v);
		if (before) {
			json_t *old = json_object_get(before, key);
			if (old && (f->flags & GZ_F_PII) && json_is_string(old))
				old = json_string(gz_mask(a, json_string_value(old)));
			else
				old = old ? json_incref(old) : json_null();
			json_object_set_new(sum, key, json_pack("[oo]", old, after));
		} else {
			json_object_set_new(sum, key, after);
		}
	}
	char *text = gz_json_dump(sum);
	json_decref(sum);
	char *copy = gz_strdup(a, text);
	free(text);
	return copy;
}

static int audit_write(struct gz_write *w, const char *action, json_t *vals, struct gz_err *err)
{
	if (w->ent->named)
		gz_entity_names_changed();
	struct gz_audit au = {
	    w->actor, action, w->ent->name, w->id, summary_of(w->ent, vals, w->before, w->arena),
	    w->client};
	return gz_audit_append(w->conn, &au, err);
}

/* The columns the layer keeps itself: the unit's path beside the unit (for entities
 * with a unit_path_col that is one of their fields) and the creating account. */
static int derived_columns(struct gz_write *w, bool create, struct gz_err *err)
{
	const struct gz_entity *e = w->ent;
	if (create && e->creator_col && w->actor)
		json_object_set_new(w->in, e->creator_col, json_integer(w->actor->id));
	json_t *u = e->unit_col ? json_object_get(w->in, e->unit_col) : NULL;
	if (!json_is_integer(u) || !e->unit_path_col || !gz_entity_field(e, e->unit_path_col))
		return 0;
	char path[256];
	int rc = unit_path_of(w->conn, json_integer_value(u), path, sizeof(path), err);
	if (rc == 1)
		json_object_set_new(w->in, e->unit_path_col, json_string(path));
	return rc < 0 ? -1 : 0; /* a missing unit is check_refs' error */
}

int gz_entity_insert(struct gz_write *w, struct gz_err *err)
{
	if (!w->now)
		w->now = gz_now_ms();
	const struct gz_entity *e = w->ent;
	/* default the unit to the actor's own when the entity has one and none is given */
	const char *ufield = e->create_unit_field ? e->create_unit_field : e->unit_col;
	if (!e->create_unit_field && ufield && strcmp(ufield, "id") != 0 &&
	    !json_object_get(w->in, ufield) && w->actor && w->actor->unit_id &&
	    gz_entity_field(e, ufield))
		json_object_set_new(w->in, ufield, json_integer(w->actor->unit_id));
	if (gz_entity_check_refs(e, w->conn, w->actor, w->in, err) || derived_columns(w, true, err))
		return -1;
	if (e->before_create && e->before_create(w, err))
		return -1;
	if (w->actor) {
		struct gz_row_scope sc;
		char path[256];
		if (input_scope(w, w->in, &sc, path, sizeof(path), err))
			return -1;
		if (e->owner_reads_only)
			sc.owner_id = 0;
		if (gz_scope_check(w->actor, e->perm_write, &sc, false, err))
			return -1;
	}
	struct gz_buf sql = GZ_BUF_INIT, vals = GZ_BUF_INIT;
	gz_buf_addf(&sql, "INSERT INTO %s (created_at, updated_at, version", e->table);
	gz_buf_adds(&vals, "?, ?, 1");
	const char *key;
	json_t *v;
	json_object_foreach(w->in, key, v)
	{
		const struct gz_field *f = gz_entity_field(e, key);
		if (!stored(f))
			continue;
		gz_buf_addf(&sql, ", %s", key);
		gz_buf_adds(&vals, ", ?");
	}
	gz_buf_addf(&sql, ") VALUES (%s) RETURNING id", vals.data);
	gz_buf_release(&vals);
	struct gz_stmt *s = gz_stmt(w->conn, sql.data, err);
	gz_buf_release(&sql);
	if (!s)
		return -1;
	int64_t now = w->now;
	gz_bind_i64(s, 1, now);
	gz_bind_i64(s, 2, now);
	int i = 3;
	json_object_foreach(w->in, key, v)
	{
		const struct gz_field *f = gz_entity_field(e, key);
		if (!stored(f))
			continue;
		bind_value(s, i++, f, v, w->app);
	}
	int rc = gz_step(s, err);
	if (rc == 1)
		w->id = gz_col_i64(s, 0);
	gz_stmt_done(s);
	if (rc != 1)
		return -1;
	if (write_ref_lists(w, err))
		return -1;
	if (e->after_write && e->after_write(w, err))
		return -1;
	return audit_write(w, "create", w->in, err);
}

/* Loads w->before and checks that the row as it is may be read and written by the
 * actor, and that it has expected_version when that is > 0. */
static int load_for_write(struct gz_write *w, int64_t expected_version, struct gz_err *err)
{
	const struct gz_entity *e = w->ent;
	w->before = gz_entity_load(e, w->conn, w->app, NULL, w->id, true, err);
	if (!w->before)
		return -1;
	gz_defer(w->arena, json_release, w->before);
	if (w->actor) {
		/* the row as it is must be visible and writable ... */
		struct gz_row_scope sc;
		char path[256];
		json_t *cur = json_deep_copy(w->before);
		int rc = input_scope(w, cur, &sc, path, sizeof(path), err);
		json_decref(cur);
		if (rc)
			return -1;
		if (!e->global_read && gz_scope_check(w->actor, e->perm_read, &sc, true, err)) {
			if (err->code == GZ_E_NOT_FOUND)
				gz_entity_not_found(e, w->id, err);
			return -1;
		}
		if (e->owner_reads_only)
			sc.owner_id = 0;
		if (gz_scope_check(w->actor, e->perm_write, &sc, false, err))
			return -1;
	}
	if (expected_version &&
	    json_integer_value(json_object_get(w->before, "version")) != expected_version)
		return gz_fail(err, GZ_E_PRECONDITION,
		               "the %s was changed by someone else (version %lld, not %lld)",
		               e->name,
		               (long long)json_integer_value(json_object_get(w->before, "version")),
		               (long long)expected_version);
	return 0;
}

static bool is_archived(const struct gz_write *w)
{
	json_t *at = json_object_get(w->before, "archived_at");
	return w->ent->archivable && at && !json_is_null(at);
}

int gz_entity_update(struct gz_write *w, int64_t expected_version, struct gz_err *err)
{
	const struct gz_entity *e = w->ent;
	if (load_for_write(w, expected_version, err))
		return -1;
	if (is_archived(w))
		return gz_fail(err, GZ_E_CONFLICT, "the %s %lld is archived and cannot be changed",
		               e->name, (long long)w->id);
	if (gz_entity_check_refs(e, w->conn, w->actor, w->in, err) ||
	    derived_columns(w, false, err))
		return -1;
	if (e->before_patch && e->before_patch(w, err))
		return -1;
	if (w->actor) {
		/* ... and where it moves to as well */
		struct gz_row_scope sc;
		char path[256];
		json_t *merged = json_deep_copy(w->before);
		json_object_update(merged, w->in);
		int rc = input_scope(w, merged, &sc, path, sizeof(path), err);
		json_decref(merged);
		if (e->owner_reads_only)
			sc.owner_id = 0;
		if (rc || gz_scope_check(w->actor, e->perm_write, &sc, false, err))
			return -1;
	}
	struct gz_buf sql = GZ_BUF_INIT;
	gz_buf_addf(&sql, "UPDATE %s SET updated_at = ?, version = version + 1", e->table);
	const char *key;
	json_t *v;
	json_object_foreach(w->in, key, v)
	{
		const struct gz_field *f = gz_entity_field(e, key);
		if (!stored(f))
			continue;
		gz_buf_addf(&sql, ", %s = ?", key);
	}
	gz_buf_adds(&sql, " WHERE id = ? AND version = ?");
	struct gz_stmt *s = gz_stmt(w->conn, sql.data, err);
	gz_buf_release(&sql);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, gz_now_ms());
	int i = 2;
	json_object_foreach(w->in, key, v)
	{
		const struct gz_field *f = gz_entity_field(e, key);
		if (!stored(f))
			continue;
		bind_value(s, i++, f, v, w->app);
	}
	gz_bind_i64(s, i++, w->id);
	gz_bind_i64(s, i, json_integer_value(json_object_get(w->before, "version")));
	int rc = gz_step(s, err);
	gz_stmt_done(s);
	if (rc < 0)
		return -1;
	if (gz_changes(w->conn) != 1)
		return gz_fail(err, GZ_E_PRECONDITION, "the %s was changed by someone else",
		               e->name);
	if (write_ref_lists(w, err))
		return -1;
	if (e->after_write && e->after_write(w, err))
		return -1;
	return audit_write(w, "update", w->in, err);
}

int gz_entity_archive(struct gz_write *w, int64_t expected_version, bool *changed,
                      struct gz_err *err)
{
	const struct gz_entity *e = w->ent;
	*changed = false;
	if (!e->archivable)
		GZ_BUG("archive of an entity that is not archivable");
	if (load_for_write(w, expected_version, err))
		return -1;
	if (is_archived(w))
		return 0; /* withdrawn already: DELETE is idempotent */
	int64_t now = w->now ? w->now : gz_now_ms();
	char sql[200];
	snprintf(sql, sizeof sql,
	         "UPDATE %s SET archived_at = ?, updated_at = ?, version = version + 1 WHERE id = "
	         "? AND version = ?",
	         e->table);
	if (gz_exec_args(w->conn, err, sql, "iiii", now, now, w->id,
	                 (int64_t)json_integer_value(json_object_get(w->before, "version"))) < 0)
		return -1;
	if (gz_changes(w->conn) != 1)
		return gz_fail(err, GZ_E_PRECONDITION, "the %s was changed by someone else",
		               e->name);
	*changed = true;
	json_t *vals = json_pack("{s:o}", "archived_at", time_json(now));
	int rc = audit_write(w, "archive", vals, err);
	json_decref(vals);
	return rc;
}

struct create_job {
	struct gz_write w;
};

static int create_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct create_job *j = ctx;
	j->w.conn = c;
	return gz_entity_insert(&j->w, err);
}

int gz_entity_create_json(struct gz_app *app, const struct gz_entity *e,
                          const struct gz_account *actor, json_t *in, int64_t *id,
                          struct gz_err *err)
{
	json_t *vals;
	if (gz_entity_validate(e, in, true, &vals, err))
		return -1;
	struct gz_arena arena;
	gz_arena_init(&arena);
	int rc = 0;
	if (e->prepare) {
		struct gz_req fake;
		memset(&fake, 0, sizeof(fake));
		fake.app = app;
		fake.acct = actor;
		gz_arena_init(&fake.arena);
		rc = e->prepare(&fake, vals, true, err);
		gz_arena_release(&fake.arena);
	}
	struct create_job j = {{e, actor, NULL, app, vals, NULL, 0, "cli", &arena}};
	if (!rc)
		rc = gz_db_write(app->db, create_fn, &j, err);
	if (!rc && id)
		*id = j.w.id;
	json_decref(vals);
	gz_arena_release(&arena);
	return rc;
}
