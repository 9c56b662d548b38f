/* lifecycle.c - the lifecycle engine: from a machine's action rows, the actions
 * endpoint (validation by descriptors, If-Match, the transition check, the update,
 * the append-only timeline, the audit entry, the notifications, all in one write),
 * the allowed actions of an account, timeline pages and the to-do list across the
 * registered machines.  The business rules (what an action changes besides the
 * state) are the modules' apply hooks; the relation of an account to a row and the
 * resolution of recipients are the modules' callbacks. */
#include "model/lifecycle.h"
#include "app.h"
#include "core/log.h"
#include "http/idempotency.h"
#include "core/timefmt.h"
#include "core/util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the registry ---- */

#define MAX_MACHINES 16
static const struct gz_machine *machines[MAX_MACHINES];
static int nmachines;

void gz_lifecycle_register(const struct gz_machine *m)
{
	for (int i = 0; i < nmachines; i++)
		if (machines[i] == m)
			return;
	if (nmachines == MAX_MACHINES)
		GZ_BUG("too many lifecycle machines");
	machines[nmachines++] = m;
}

const struct gz_machine *gz_lifecycle_of(const struct gz_entity *e)
{
	for (int i = 0; i < nmachines; i++)
		if (machines[i]->entity == e)
			return machines[i];
	return NULL;
}

/* ---- the generic row of machines without their own ---- */

static int generic_load(const struct gz_machine *m, struct gz_conn *c, int64_t id,
                        struct gz_lc_row *row, struct gz_err *err)
{
	const struct gz_entity *e = m->entity;
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT status, %s%s, %s%s FROM %s WHERE id = ?",
	         e->unit_path_col ? "" : "NULL", e->unit_path_col ? e->unit_path_col : "",
	         m->label_col ? "" : "''", m->label_col ? m->label_col : "", e->table);
	struct gz_stmt *s = gz_stmt(c, sql, err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, id);
	int rc = gz_step(s, err);
	if (rc == 1) {
		row->id = id;
		row->state = -1;
		for (int i = 0; m->states[i]; i++)
			if (strcmp(m->states[i], gz_col_text(s, 0)) == 0)
				row->state = i;
		snprintf(row->unit_path, sizeof(row->unit_path), "%s",
		         gz_col_null(s, 1) ? "" : gz_col_text(s, 1));
		snprintf(row->label, sizeof(row->label), "%s", gz_col_text(s, 2));
	}
	gz_stmt_done(s);
	return rc < 0 ? -1 : rc ? 0 : gz_entity_not_found(e, id, err);
}

static int load_row(const struct gz_machine *m, struct gz_conn *c, int64_t id, void *row,
                    struct gz_err *err)
{
	return m->load ? m->load(c, id, row, err) : generic_load(m, c, id, row, err);
}

static size_t row_size(const struct gz_machine *m)
{
	return m->load ? m->row_size : sizeof(struct gz_lc_row);
}

static int row_state(const struct gz_machine *m, const void *row)
{
	return m->state ? m->state(row) : ((const struct gz_lc_row *)row)->state;
}

static const char *row_label(const struct gz_machine *m, const void *row, struct gz_arena *a)
{
	return m->label ? m->label(row, a) : gz_strdup(a, ((const struct gz_lc_row *)row)->label);
}

bool gz_lc_row_manages(const struct gz_account *a, const struct gz_lc_row *row)
{
	struct gz_row_scope sc = {.unit_path = row->unit_path[0] ? row->unit_path : NULL};
	return gz_scope_check(a, NULL, &sc, false, NULL) == 0;
}

json_t *gz_lifecycle_detail(const struct gz_machine *m, struct gz_req *r, struct gz_conn *c,
                            int64_t id, bool scoped, int64_t timeline_limit, struct gz_err *err)
{
	json_t *o = gz_entity_load(m->entity, c, r->app, scoped ? r->acct : NULL, id, false, err);
	void *row = o ? gz_alloc(&r->arena, row_size(m)) : NULL;
	int64_t next = 0;
	if (o && m->entity->decorate)
		m->entity->decorate(c, o);
	json_t *tl =
	    row && !load_row(m, c, id, row, err)
	        ? gz_lifecycle_timeline(c, m, id, m->sees_internal && m->sees_internal(r->acct), 0,
	                                timeline_limit, &next, err)
	        : NULL;
	if (tl) {
		json_object_set_new(o, "timeline", tl);
		json_object_set_new(o, "timeline_next_cursor", gz_lifecycle_cursor(next));
	}
	/* the entity's child lists (handlers, attachments …) after the timeline */
	if (!tl || gz_entity_load_children(m->entity, c, r->app, id, o, err)) {
		json_decref(o); /* no partial answers */
		return NULL;
	}
	json_object_set_new(o, "allowed_actions", gz_lifecycle_allowed(m, r->acct, row, false));
	return o;
}

int gz_lifecycle_get_handler(struct gz_req *r, struct gz_err *err)
{
	const struct gz_machine *m = gz_lifecycle_of(gz_route_row(r->route));
	if (!m)
		GZ_BUG("no machine for route %s", r->route->pattern);
	int64_t id, limit;
	if (gz_req_id(r, "id", &id, err) ||
	    gz_lifecycle_page_limit(r, "timeline_limit", &limit, err))
		return -1;
	struct gz_conn *c = gz_db_reader(r->app->db);
	json_t *o = gz_lifecycle_detail(m, r, c, id, true, limit, err);
	gz_db_reader_done(r->app->db, c);
	if (!o)
		return -1;
	gz_reply_header(r, "ETag",
	                gz_sprintf(&r->arena, "\"%lld\"",
	                           (long long)json_integer_value(json_object_get(o, "version"))));
	return gz_reply_json(r, 200, o);
}

/* ---- who may act ---- */

bool gz_lifecycle_may(const struct gz_machine *m, const struct gz_lc_action *ac,
                      const struct gz_account *a, const void *row)
{
	int st = row_state(m, row);
	if (st < 0 || !(ac->from & (1u << st)) || (ac->ready && !ac->ready(row)))
		return false;
	if (ac->perm && !gz_account_has(a, ac->perm))
		return false;
	for (unsigned bit = 1; bit && bit <= ac->rel; bit <<= 1)
		if ((ac->rel & bit) && m->relation(bit, a, row))
			return true;
	return false;
}

json_t *gz_lifecycle_allowed(const struct gz_machine *m, const struct gz_account *a,
                             const void *row, bool tasks_only)
{
	json_t *arr = json_array();
	for (const struct gz_lc_action *ac = m->actions; ac->name; ac++)
		if ((!tasks_only || ac->task) && gz_lifecycle_may(m, ac, a, row))
			json_array_append_new(arr, json_string(ac->name));
	return arr;
}

void gz_lc_set(struct gz_lc_ctx *x, const char *col, char type, int64_t i, const char *t)
{
	gz_buf_addf(&x->set, ", %s = ?", col);
	if (type == 'i')
		gz_args_i64(&x->args, i);
	else if (type == 't')
		gz_args_text(&x->args, t);
	else
		gz_args_null(&x->args);
}

/* ---- the timeline ---- */

int gz_lifecycle_event(struct gz_conn *c, const struct gz_machine *m, const struct gz_lc_event *ev,
                       struct gz_err *err)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
	         "INSERT INTO %s (%s, at, actor_id, actor_name, action, from_status, to_status, "
	         "note, data, internal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	         m->events_table, m->events_fk);
	char *data = ev->data ? gz_json_dump(ev->data) : NULL;
	int rc = gz_exec_deferred(
	    c, err, sql, ev->actor ? "iiitttttti" : "iintttttti", ev->row_id, gz_now_ms(),
	    ev->actor ? ev->actor->id : 0, ev->actor ? ev->actor->display_name : "系统", ev->action,
	    ev->from, ev->to, ev->note, data ? data : "{}", (int64_t)ev->internal);
	free(data);
	return rc;
}

json_t *gz_lifecycle_timeline(struct gz_conn *c, const struct gz_machine *m, int64_t id,
                              bool internal, int64_t before, int64_t limit, int64_t *next,
                              struct gz_err *err)
{
	json_t *arr = json_array();
	*next = 0;
	char sql[384];
	snprintf(sql, sizeof(sql),
	         "SELECT id, at, coalesce(actor_id, 0), actor_name, action, from_status, "
	         "to_status, note, data, internal FROM %s WHERE %s = ? AND id < ? "
	         "AND (? <> 0 OR internal = 0) ORDER BY id DESC LIMIT ?",
	         m->events_table, m->events_fk);
	struct gz_stmt *s = gz_stmt(c, sql, err);
	if (!s) {
		json_decref(arr);
		return NULL;
	}
	gz_bind_i64(s, 1, id);
	gz_bind_i64(s, 2, before > 0 ? before : INT64_MAX);
	gz_bind_i64(s, 3, internal);
	gz_bind_i64(s, 4, limit + 1); /* one more: are there older ones? */
	int rc;
	while ((rc = gz_step(s, err)) == 1) {
		if ((int64_t)json_array_size(arr) == limit) {
			*next = json_integer_value(json_object_get(json_array_get(arr, 0), "id"));
			break;
		}
		char at[GZ_TIME_BUF];
		gz_time_format(gz_col_i64(s, 1), at, sizeof(at));
		json_t *actor =
		    gz_col_i64(s, 2)
		        ? json_pack("{s:I,s:s}", "id", (json_int_t)gz_col_i64(s, 2), "display_name",
		                    gz_col_text(s, 3))
		        : json_pack("{s:n,s:s}", "id", "display_name", gz_col_text(s, 3));
		json_t *data = json_loads(gz_col_text(s, 8), 0, NULL);
		json_t *ev = json_pack(
		    "{s:I,s:s,s:o,s:s,s:o,s:o,s:o,s:o,s:b}", "id", (json_int_t)gz_col_i64(s, 0),
		    "at", at, "actor", actor, "action", gz_col_text(s, 4), "from_status",
		    gz_col_null(s, 5) ? json_null() : json_string(gz_col_text(s, 5)), "to_status",
		    gz_col_null(s, 6) ? json_null() : json_string(gz_col_text(s, 6)), "note",
		    gz_col_null(s, 7) ? json_null() : json_string(gz_col_text(s, 7)), "data",
		    data ? data : json_object(), "internal", (int)gz_col_i64(s, 9));
		json_array_insert_new(arr, 0, ev); /* read newest first, shown oldest first */
	}
	gz_stmt_done(s);
	if (rc < 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

json_t *gz_lifecycle_cursor(int64_t next)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "c%lld", (long long)next);
	return next ? json_string(buf) : json_null();
}

#define PAGE_DEFAULT 50
#define PAGE_MAX 500

int gz_lifecycle_page_limit(struct gz_req *r, const char *name, int64_t *limit, struct gz_err *err)
{
	const char *v = gz_req_query(r, name);
	*limit = PAGE_DEFAULT;
	if (v && (!gz_parse_i64(v, limit) || *limit < 1 || *limit > PAGE_MAX))
		return gz_fail_field(err, GZ_E_VALIDATION, name,
		                     "%s must be a whole number from 1 to %d", name, PAGE_MAX);
	return 0;
}

int gz_req_if_match(struct gz_req *r, int64_t *version, struct gz_err *err)
{
	const char *im = gz_req_header(r, "If-Match");
	*version = 0;
	if (!im)
		return 0;
	if (strncmp(im, "W/", 2) == 0)
		im += 2;
	char *v = gz_strdup(&r->arena, im);
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = 0;
		v++;
	}
	if (!gz_parse_i64(v, version) || *version <= 0)
		return gz_fail(err, GZ_E_BAD_REQUEST, "If-Match must be an ETag such as \"3\"");
	return 0;
}

/* GET …/{id}/timeline?cursor=&limit=: a page older than the cursor, oldest first; the
 * dispatcher has checked that the account reads the row (the route's row entity). */
int gz_lifecycle_timeline_handler(struct gz_req *r, struct gz_err *err)
{
	const struct gz_machine *m = gz_lifecycle_of(gz_route_row(r->route));
	if (!m)
		GZ_BUG("timeline route without a machine");
	int64_t id, limit, before = 0;
	if (gz_req_id(r, "id", &id, err) || gz_lifecycle_page_limit(r, "limit", &limit, err))
		return -1;
	const char *cur = gz_req_query(r, "cursor");
	if (cur && *cur && (cur[0] != 'c' || !gz_parse_i64(cur + 1, &before) || before <= 0))
		return gz_fail_field(err, GZ_E_VALIDATION, "cursor",
		                     "cursor is not one this server returned");
	struct gz_conn *c = gz_db_reader(r->app->db);
	json_t *o = gz_entity_load(m->entity, c, r->app, r->acct, id, false, err), *items = NULL;
	int64_t next = 0;
	if (o)
		items = gz_lifecycle_timeline(c, m, id, m->sees_internal(r->acct), before, limit,
		                              &next, err);
	gz_db_reader_done(r->app->db, c);
	json_decref(o);
	if (!items)
		return -1;
	return gz_reply_json(
	    r, 200,
	    json_pack("{s:o,s:o}", "items", items, "next_cursor", gz_lifecycle_cursor(next)));
}

/* ---- notifications ---- */

int gz_lifecycle_notify(struct gz_lc_ctx *x, unsigned mask, const char *kind, const char *notice,
                        struct gz_err *err)
{
	if (!mask || !x->m->recipients)
		return 0;
	struct gz_arena *a = &x->r->arena;
	const char *label = row_label(x->m, x->after ? x->after : x->row, a);
	struct gz_notice_msg msg = {kind, x->m->entity->name, x->id,
	                            gz_sprintf(a, "%s：%s", notice ? notice : kind, label),
	                            x->note && *x->note ? x->note : NULL};
	for (unsigned bit = 1; bit && bit <= mask; bit <<= 1)
		if ((mask & bit) && x->m->recipients(bit, x, &msg, err))
			return -1;
	return 0;
}

/* ---- POST …/{id}/actions ---- */

struct action_job {
	struct gz_req *r;
	const struct gz_machine *m;
	const struct gz_lc_action *action;
	int64_t id, version, timeline_limit;
	json_t *body; /* validated, owned by the request (deferred) */
	const char *note;
};

static const struct gz_field note_optional[] = {{"note", GZ_T_TEXT, 0, 0, 2000}, {NULL}};
static const struct gz_field note_required[] = {{"note", GZ_T_TEXT, GZ_F_REQUIRED, 1, 2000},
                                                {NULL}};
static const struct gz_field no_fields[] = {{NULL}};

/* The action's fields as a transient entity, so that entity validation applies. */
static struct gz_entity action_entity(const struct gz_lc_action *ac, const struct gz_field *fields)
{
	struct gz_entity e = {.name = ac->name, .table = "", .fields = fields};
	return e;
}

static int update_row(struct gz_lc_ctx *x, struct gz_err *err)
{
	const char *to = x->to >= 0 ? x->m->states[x->to] : NULL;
	struct gz_buf sql = GZ_BUF_INIT;
	gz_buf_addf(&sql, "UPDATE %s SET updated_at = ?, version = version + 1",
	            x->m->entity->table);
	if (to)
		gz_buf_adds(&sql, ", status = ?");
	gz_buf_add(&sql, x->set.data ? x->set.data : "", x->set.len);
	gz_buf_adds(&sql, " WHERE id = ?");
	struct gz_stmt *s = gz_stmt(x->c, sql.data, err);
	gz_buf_release(&sql);
	if (!s)
		return -1;
	if (x->args.overflow) {
		gz_stmt_done(s);
		GZ_BUG("too many columns set by an action");
	}
	int i = 1;
	gz_bind_i64(s, i++, x->now);
	if (to)
		gz_bind_text(s, i++, to);
	gz_args_bind(s, &x->args, i);
	gz_bind_i64(s, i + x->args.n, x->id);
	int rc = gz_step(s, err) < 0 ? -1 : 0;
	gz_stmt_done(s);
	return rc;
}

static int audit_action(struct gz_lc_ctx *x, const char *from, const char *to, struct gz_err *err)
{
	json_t *sum = json_pack("{s:s,s:s,s:o,s:O}", "action", x->action->name, "from", from, "to",
	                        to ? json_string(to) : json_null(), "data", x->data);
	char *text = gz_json_dump(sum);
	json_decref(sum);
	struct gz_audit a = {x->acct, x->action->name, x->m->entity->name, x->id,
	                     text,    x->r->client};
	int rc = gz_audit_append(x->c, &a, err);
	free(text);
	return rc;
}

static int transition_error(const struct gz_machine *m, const struct gz_lc_action *ac,
                            const struct gz_account *a, const void *row, struct gz_err *err)
{
	json_t *allowed = gz_lifecycle_allowed(m, a, row, false);
	char *text = gz_json_dump(allowed);
	json_decref(allowed);
	int st = row_state(m, row);
	gz_fail(err, GZ_E_TRANSITION, "'%s' is not possible on a %s %s for you", ac->name,
	        st >= 0 ? m->states[st] : "?", m->entity->name);
	snprintf(err->allowed, sizeof(err->allowed), "%s", text);
	free(text);
	return -1;
}

static int action_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct action_job *j = ctx;
	struct gz_req *r = j->r;
	const struct gz_machine *m = j->m;
	struct gz_lc_ctx x = {.r = r,
	                      .c = c,
	                      .m = m,
	                      .action = j->action,
	                      .acct = r->acct,
	                      .id = j->id,
	                      .body = j->body,
	                      .note = j->note,
	                      .notify = j->action->notify,
	                      .now = gz_now_ms()};
	x.row = gz_alloc(&r->arena, row_size(m));
	if (load_row(m, c, j->id, x.row, err))
		return -1;
	if (!m->relation(GZ_LC_SCOPE, r->acct, x.row))
		return gz_entity_not_found(m->entity, j->id, err);
	if (j->version) {
		char sql[128];
		int64_t v = 0;
		snprintf(sql, sizeof(sql), "SELECT version FROM %s WHERE id = ?", m->entity->table);
		if (gz_query_i64(c, err, &v, sql, "i", j->id) < 0)
			return -1;
		if (v != j->version)
			return gz_fail(
			    err, GZ_E_PRECONDITION,
			    "the %s was changed by someone else (version %lld, not %lld)",
			    m->entity->name, (long long)v, (long long)j->version);
	}
	if (!gz_lifecycle_may(m, j->action, r->acct, x.row))
		return transition_error(m, j->action, r->acct, x.row, err);
	if (j->action->fields) {
		struct gz_entity fe = action_entity(j->action, j->action->fields);
		/* the actor's scope: a GZ_F_SCOPED_REF field names a row it reaches */
		if (gz_entity_check_refs(&fe, c, r->acct, j->body, err))
			return -1;
	}
	x.from = row_state(m, x.row);
	x.to = j->action->to;
	x.data = json_object();
	gz_buf_init(&x.set);
	int rc = m->before ? m->before(&x, err) : 0;
	if (!rc && j->action->apply)
		rc = j->action->apply(&x, err);
	const char *from = m->states[x.from];
	const char *to = x.to >= 0 ? m->states[x.to] : NULL;
	if (!rc)
		rc = update_row(&x, err);
	if (!rc) {
		struct gz_lc_event ev = {j->id, r->acct, j->action->name, from,
		                         to,    x.note,  x.data,          x.internal};
		rc = gz_lifecycle_event(c, m, &ev, err);
	}
	if (!rc && m->after)
		rc = m->after(&x, err);
	if (!rc)
		rc = audit_action(&x, from, to, err);
	if (!rc && x.notify) {
		x.after = gz_alloc(&r->arena, row_size(m));
		rc = load_row(m, c, j->id, x.after, err);
		if (!rc) {
			char kind[96];
			snprintf(kind, sizeof(kind), "%s.%s", m->name, j->action->name);
			rc = gz_lifecycle_notify(&x, x.notify, kind, j->action->notice, err);
		}
	}
	gz_buf_release(&x.set);
	json_decref(x.data);
	return rc ? -1 : 0;
}

/* The reply: the row's detail, unscoped (the actor sees what it did).  Normally read
 * after the commit on the server thread (gz_req_write_reply), so the writer's batch
 * does not wait for the detail's reads. */
static int action_reply(struct gz_req *r, struct gz_conn *c, void *ctx, bool committed,
                        struct gz_err *err)
{
	struct action_job *j = ctx;
	json_t *o = gz_lifecycle_detail(j->m, r, c, j->id, false, j->timeline_limit, err);
	if (!o && !committed)
		return -1;
	if (!o) {
		/* the action is done: say so with what is known */
		gz_warn("%s %lld: detail read after the action failed: %s", j->m->entity->table,
		        (long long)j->id, err->message);
		gz_err_clear(err);
		return gz_reply_json(r, 200, json_pack("{sI}", "id", (json_int_t)j->id));
	}
	gz_reply_header(r, "ETag",
	                gz_sprintf(&r->arena, "\"%lld\"",
	                           (long long)json_integer_value(json_object_get(o, "version"))));
	return gz_reply_json(r, 200, o);
}

static void json_release(void *p)
{
	json_decref(p);
}

int gz_lifecycle_actions_handler(struct gz_req *r, struct gz_err *err)
{
	struct action_job j = {.r = r, .m = gz_lifecycle_of(gz_route_row(r->route))};
	if (!j.m)
		GZ_BUG("actions route without a machine");
	if (gz_req_id(r, "id", &j.id, err) ||
	    gz_lifecycle_page_limit(r, "timeline_limit", &j.timeline_limit, err) ||
	    gz_req_if_match(r, &j.version, err))
		return -1;
	if (!json_is_object(r->body))
		return gz_fail(err, GZ_E_INVALID_JSON, "the body must be a JSON object");
	json_t *name = json_object_get(r->body, "action");
	if (!json_is_string(name))
		return gz_fail_field(err, GZ_E_VALIDATION, "action", "action is required");
	for (const struct gz_lc_action *ac = j.m->actions; ac->name && !j.action; ac++)
		if (strcmp(ac->name, json_string_value(name)) == 0)
			j.action = ac;
	if (!j.action)
		return gz_fail_field(err, GZ_E_VALIDATION, "action", "unknown action '%s'",
		                     json_string_value(name));
	/* the note, common to every action, then the action's own fields */
	json_t *rest = json_deep_copy(r->body), *note_in = json_object();
	gz_defer(&r->arena, json_release, rest);
	gz_defer(&r->arena, json_release, note_in);
	json_object_del(rest, "action");
	json_t *note = json_object_get(rest, "note");
	if (note) {
		json_object_set(note_in, "note", note);
		json_object_del(rest, "note");
	}
	const struct gz_field *fields = j.action->fields ? j.action->fields : no_fields;
	const char *key;
	json_t *v;
	json_object_foreach(rest, key, v)
	{
		bool known = false;
		for (const struct gz_field *f = fields; f->name && !known; f++)
			known = strcmp(f->name, key) == 0;
		if (!known)
			return gz_fail_field(err, GZ_E_UNKNOWN_FIELD, key,
			                     "unknown field '%s' for %s", key, j.action->name);
	}
	struct gz_entity ne =
	    action_entity(j.action, j.action->note_required ? note_required : note_optional);
	struct gz_entity fe = action_entity(j.action, fields);
	json_t *nv = NULL;
	if (gz_entity_validate(&ne, note_in, true, &nv, err))
		return -1;
	gz_defer(&r->arena, json_release, nv);
	j.note = json_string_value(json_object_get(nv, "note"));
	if (gz_entity_validate(&fe, rest, true, &j.body, err))
		return -1;
	gz_defer(&r->arena, json_release, j.body);
	return gz_req_write_reply(r, action_fn, &j, sizeof(j), action_reply, err);
}

/* ---- GET /api/v1/todo ---- */

#define TODO_DEFAULT 50
#define TODO_MAX 200
#define TODO_SCAN 1000 /* candidate rows read per machine at most */

struct todo_item {
	json_t *o;
	int64_t due; /* 0: none, sorted last */
};

static int cmp_todo(const void *a, const void *b)
{
	const struct todo_item *x = a, *y = b;
	int64_t dx = x->due ? x->due : INT64_MAX, dy = y->due ? y->due : INT64_MAX;
	return dx < dy ? -1 : dx > dy;
}

/* The to-do rows of one machine: in the account's scope (the entity's list scope), in
 * a state from which a task starts, in due order; each kept when the account may take
 * one of its tasks. */
static int todo_machine(struct gz_req *r, struct gz_conn *c, const struct gz_machine *m,
                        int64_t limit, struct todo_item **items, int *n, int *cap,
                        struct gz_err *err)
{
	unsigned states = 0;
	for (const struct gz_lc_action *ac = m->actions; ac->name; ac++)
		if (ac->task)
			states |= ac->from;
	const struct gz_entity *e = m->entity;
	struct gz_buf *where = gz_alloc(&r->arena, sizeof(*where));
	struct gz_args *args = gz_alloc(&r->arena, sizeof(*args));
	struct gz_list_opts o;
	gz_buf_init(where);
	memset(args, 0, sizeof(*args));
	int rc = gz_entity_where(r, e, where, args, &o, err);
	struct gz_buf sql = GZ_BUF_INIT;
	gz_buf_addf(&sql, "SELECT t.id FROM %s t", e->table);
	if (e->unit_col && !e->unit_path_col)
		gz_buf_addf(&sql, " LEFT JOIN units su ON su.id = t.%s", e->unit_col);
	gz_buf_add(&sql, where->data ? where->data : "", where->len);
	gz_buf_release(where);
	gz_buf_adds(&sql, " AND t.status IN (");
	for (int i = 0, k = 0; m->states[i]; i++)
		if (states & (1u << i))
			gz_buf_addf(&sql, "%s'%s'", k++ ? ", " : "", m->states[i]);
	gz_buf_addf(&sql, ") ORDER BY t.%s, t.id LIMIT %d", m->due_col ? m->due_col : "id",
	            TODO_SCAN);
	struct gz_stmt *s = rc ? NULL : gz_stmt(c, sql.data, err);
	gz_buf_release(&sql);
	if (!s)
		return -1;
	gz_args_bind(s, args, 1);
	int64_t *ids = gz_alloc(&r->arena, sizeof(int64_t) * TODO_SCAN);
	int nids = 0;
	while (nids < TODO_SCAN && (rc = gz_step(s, err)) == 1)
		ids[nids++] = gz_col_i64(s, 0);
	gz_stmt_done(s);
	if (rc < 0)
		return -1;
	void *row = gz_alloc(&r->arena, row_size(m));
	int found = 0;
	for (int i = 0; i < nids && found < limit; i++) {
		if (load_row(m, c, ids[i], row, err))
			return -1;
		json_t *acts = gz_lifecycle_allowed(m, r->acct, row, true);
		if (!json_array_size(acts)) {
			json_decref(acts);
			continue;
		}
		int64_t due = m->due_at ? m->due_at(row) : 0;
		char at[GZ_TIME_BUF];
		if (due)
			gz_time_format(due, at, sizeof(at));
		json_t *it =
		    json_pack("{s:s,s:I,s:s,s:o,s:o}", "type", m->name, "id", (json_int_t)ids[i],
		              "title", row_label(m, row, &r->arena), "actions", acts, "due_at",
		              due ? json_string(at) : json_null());
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*items = gz_xrealloc(*items, (size_t)*cap * sizeof(**items));
		}
		(*items)[(*n)++] = (struct todo_item){it, due};
		found++;
	}
	return 0;
}

int gz_lifecycle_todo_handler(struct gz_req *r, struct gz_err *err)
{
	int64_t limit = TODO_DEFAULT;
	const char *lv = gz_req_query(r, "limit");
	if (lv && (!gz_parse_i64(lv, &limit) || limit < 1 || limit > TODO_MAX))
		return gz_fail_field(err, GZ_E_VALIDATION, "limit",
		                     "limit must be a whole number from 1 to %d", TODO_MAX);
	struct todo_item *items = NULL;
	int n = 0, cap = 0, rc = 0;
	struct gz_conn *c = gz_db_reader(r->app->db);
	for (int i = 0; i < nmachines && !rc; i++)
		if (gz_account_has(r->acct, machines[i]->entity->perm_read))
			rc = todo_machine(r, c, machines[i], limit, &items, &n, &cap, err);
	gz_db_reader_done(r->app->db, c);
	json_t *arr = json_array();
	if (!rc) {
		if (n)
			qsort(items, (size_t)n, sizeof(*items), cmp_todo);
		for (int i = 0; i < n; i++)
			if (i < limit)
				json_array_append(arr, items[i].o);
	}
	for (int i = 0; i < n; i++)
		json_decref(items[i].o);
	free(items);
	if (rc) {
		json_decref(arr);
		return -1;
	}
	return gz_reply_json(r, 200, json_pack("{s:o}", "items", arr));
}

static const char *const todo_params[] = {"limit", NULL};

static const struct gz_route todo_routes[] = {
    {GZ_GET, "/api/v1/todo", gz_lifecycle_todo_handler, NULL, 0, NULL,
     "The rows on which the account has a task (an allowed action), across modules, by due "
     "time (limit 1..200, default 50)",
     todo_params},
    {0, NULL},
};

const struct gz_module gz_todo_module = {"todo", todo_routes, NULL, NULL, NULL};
