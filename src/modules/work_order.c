/* work_order.c - work orders (工单): the entity (fields, create and patch hooks, list
 * filters, scope), the daily aggregates every change keeps (work_order_daily, which
 * the statistics read), the routes and the module.  The other concerns have their
 * files: the lifecycle rows and rules (work_order_lifecycle.c, on the engine of
 * src/model/lifecycle.c), the detail (work_order_detail.c), duplicate hints
 * (work_order_similar.c), full-text search (work_order_search.c) and the SLA scanner
 * (sla.c). */
#include "app.h"
#include "auth/reveal.h"
#include "core/metrics.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "modules/sla.h"
#include "modules/units.h"
#include "modules/work_order_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const gz_wo_status_names[] = {
#define GZ_X(n, s) s,
    GZ_WO_STATUSES(GZ_X)
#undef GZ_X
        NULL};

int gz_wo_status_parse(const char *s)
{
	for (int i = 0; i < GZ_WO_STATUS_COUNT; i++)
		if (strcmp(gz_wo_status_names[i], s) == 0)
			return i;
	return -1;
}

#define OPEN_STATES GZ_WO_OPEN_STATES
#define RUNNING_SQL GZ_WO_RUNNING_SQL

/* The human number of an order filed at `at`: GZ + Shanghai date + sequence of the day.
 * One statement: the row lock it takes holds until the commit, so two nodes never
 * draw the same number. */
int gz_wo_number(struct gz_conn *c, int64_t at, char *out, size_t cap, struct gz_err *err)
{
	char day[16];
	int y;
	unsigned m, d;
	gz_civil_from_days(gz_shanghai_day(at), &y, &m, &d);
	snprintf(day, sizeof(day), "%04d%02u%02u", y, m, d);
	int64_t seq = 0;
	if (gz_query_i64(c, err, &seq,
	                 "INSERT INTO work_order_numbers (day, last) VALUES (?, 1) "
	                 "ON CONFLICT (day) DO UPDATE SET last = work_order_numbers.last + 1 "
	                 "RETURNING last",
	                 "t", day) != 1)
		return -1;
	snprintf(out, cap, "GZ%s%06lld", day, (long long)seq);
	return 0;
}

static const char *const channels[] = {"hotline_12345", "grid_patrol", "walk_in",   "phone",
                                       "web",           "open311",     "proactive", NULL};
static const char *const priorities[] = {"urgent", "high", "normal", "low", NULL};
static const char *const satisfactions[] = {"satisfied", "basically_satisfied", "dissatisfied",
                                            NULL};

/* ---- the daily aggregates ---- */

int gz_wo_daily_apply(struct gz_conn *c, int64_t id, int sign, struct gz_err *err)
{
	static const char sql[] =
	    "INSERT INTO work_order_daily AS D (day, unit_id, community_id, subdistrict_id, "
	    "category_code, channel, handler_org_id, total, dispatched, accepted_on_time, "
	    "resolved, resolved_on_time, resolve_hours_sum, rated, solved, satisfied, reopened) "
	    "SELECT (created_at + 28800000) / 86400000, unit_id, community_id, subdistrict_id, "
	    "category_code, channel, coalesce(handler_org_id, 0), ?1, "
	    "?1 * CASE WHEN dispatched_at IS NOT NULL THEN 1 ELSE 0 END, "
	    "?1 * coalesce(accepted_on_time, 0), "
	    "?1 * CASE WHEN resolved_at IS NOT NULL THEN 1 ELSE 0 END, "
	    "?1 * coalesce(resolved_on_time, 0), "
	    "?1 * CASE WHEN resolved_at IS NOT NULL THEN (resolved_at - created_at) / 3600000.0 "
	    "ELSE 0 END, "
	    "?1 * CASE WHEN satisfaction IS NOT NULL THEN 1 ELSE 0 END, "
	    "?1 * coalesce(solved, 0), "
	    "?1 * CASE WHEN satisfaction IN ('satisfied', 'basically_satisfied') THEN 1 ELSE 0 "
	    "END, "
	    "?1 * CASE WHEN reopen_count > 0 THEN 1 ELSE 0 END FROM work_orders WHERE id = ?2 "
	    "ON CONFLICT (day, unit_id, category_code, channel, handler_org_id) DO UPDATE SET "
	    "total = D.total + excluded.total, dispatched = D.dispatched + excluded.dispatched, "
	    "accepted_on_time = D.accepted_on_time + excluded.accepted_on_time, "
	    "resolved = D.resolved + excluded.resolved, "
	    "resolved_on_time = D.resolved_on_time + excluded.resolved_on_time, "
	    "resolve_hours_sum = D.resolve_hours_sum + excluded.resolve_hours_sum, "
	    "rated = D.rated + excluded.rated, solved = D.solved + excluded.solved, "
	    "satisfied = D.satisfied + excluded.satisfied, "
	    "reopened = D.reopened + excluded.reopened";
	return gz_exec_deferred(c, err, sql, "ii", (int64_t)sign, id);
}

int gz_work_orders_rebuild_daily(struct gz_conn *c, struct gz_err *err)
{
	if (gz_exec_args(c, err, "DELETE FROM work_order_daily", ""))
		return -1;
	return gz_exec_args(
	    c, err,
	    "INSERT INTO work_order_daily (day, unit_id, community_id, subdistrict_id, "
	    "category_code, channel, handler_org_id, total, dispatched, accepted_on_time, "
	    "resolved, resolved_on_time, resolve_hours_sum, rated, solved, satisfied, reopened) "
	    "SELECT (created_at + 28800000) / 86400000, unit_id, community_id, subdistrict_id, "
	    "category_code, channel, coalesce(handler_org_id, 0), count(*), "
	    "sum(CASE WHEN dispatched_at IS NOT NULL THEN 1 ELSE 0 END), "
	    "sum(coalesce(accepted_on_time, 0)), "
	    "sum(CASE WHEN resolved_at IS NOT NULL THEN 1 ELSE 0 END), "
	    "sum(coalesce(resolved_on_time, 0)), "
	    "sum(CASE WHEN resolved_at IS NOT NULL THEN (resolved_at - created_at) / 3600000.0 "
	    "ELSE 0 END), "
	    "sum(CASE WHEN satisfaction IS NOT NULL THEN 1 ELSE 0 END), "
	    "sum(coalesce(solved, 0)), "
	    "sum(CASE WHEN satisfaction IN ('satisfied', 'basically_satisfied') THEN 1 ELSE 0 "
	    "END), "
	    "sum(CASE WHEN reopen_count > 0 THEN 1 ELSE 0 END) FROM work_orders "
	    "GROUP BY 1, 2, 3, 4, 5, 6, 7",
	    "");
}

/* ---- create and patch hooks ---- */

static bool is_staff_account(const struct gz_account *a)
{
	return a && (a->roles & (GZ_ROLES_STAFF | GZ_RB(GRID)));
}

static int wo_before_create(struct gz_write *w, struct gz_err *err)
{
	int64_t unit_id = json_integer_value(json_object_get(w->in, "unit_id"));
	char path[256], kind[32];
	int64_t community, subdistrict;
	if (gz_unit_place(w->conn, unit_id, path, sizeof(path), &community, &subdistrict, kind,
	                  sizeof(kind), err))
		return -1;
	if (!community)
		return gz_fail_field(err, GZ_E_VALIDATION, "unit_id",
		                     "unit_id must be a community or a unit below one");
	const char *channel = json_string_value(json_object_get(w->in, "channel"));
	json_t *ext = json_object_get(w->in, "external_id");
	/* what another system filed is said only by staff and integration keys: a resident
	 * cannot pass an order off as a 12345 or Open311 one */
	bool trusted = !w->actor || w->actor->api_key_id || (w->actor->roles & GZ_ROLES_STAFF);
	if (!trusted && channel &&
	    (strcmp(channel, "hotline_12345") == 0 || strcmp(channel, "open311") == 0))
		return gz_fail_field(err, GZ_E_FORBIDDEN, "channel",
		                     "only staff and integrations file %s orders", channel);
	if (!trusted && ext)
		return gz_fail_field(err, GZ_E_FORBIDDEN, "external_id",
		                     "only staff and integrations set external_id");
	if (ext) {
		struct gz_stmt *s = gz_stmt(w->conn,
		                            "SELECT id, number FROM work_orders WHERE channel = ? "
		                            "AND external_id = ?",
		                            err);
		if (!s)
			return -1;
		gz_bind_text(s, 1, channel);
		gz_bind_text(s, 2, json_string_value(ext));
		int rc = gz_step(s, err);
		if (rc == 1) {
			/* name the order only to an account that may see it */
			struct gz_err e2;
			if (gz_entity_reach(&gz_work_order_entity, w->conn, w->actor,
			                    gz_col_i64(s, 0), &e2) == 0)
				gz_fail_field(
				    err, GZ_E_CONFLICT, "external_id",
				    "external_id %s of %s is already work order %s (id %lld)",
				    json_string_value(ext), channel, gz_col_text(s, 1),
				    (long long)gz_col_i64(s, 0));
			else
				gz_fail_field(err, GZ_E_CONFLICT, "external_id",
				              "external_id %s of %s is already filed",
				              json_string_value(ext), channel);
			rc = -1;
		}
		gz_stmt_done(s);
		if (rc < 0)
			return -1;
	}
	if (!json_object_get(w->in, "priority"))
		json_object_set_new(w->in, "priority", json_string("normal"));
	int64_t now = w->now, accept_due, resolve_due;
	if (gz_sla_deadlines(w->conn, json_string_value(json_object_get(w->in, "category_code")),
	                     json_string_value(json_object_get(w->in, "priority")), now,
	                     &accept_due, &resolve_due, err))
		return -1;
	char number[32];
	if (gz_wo_number(w->conn, now, number, sizeof(number), err))
		return -1;
	json_object_set_new(w->in, "number", json_string(number));
	json_object_set_new(w->in, "status", json_string("new"));
	json_object_set_new(w->in, "unit_path", json_string(path));
	json_object_set_new(w->in, "community_id", json_integer(community));
	json_object_set_new(w->in, "subdistrict_id",
	                    subdistrict ? json_integer(subdistrict) : json_null());
	json_object_set_new(w->in, "accept_due_at", json_integer(accept_due));
	json_object_set_new(w->in, "resolve_due_at", json_integer(resolve_due));
	if (w->actor) {
		json_object_set_new(w->in, "created_by", json_integer(w->actor->id));
		/* a resident files for themself: the order is theirs */
		if (!is_staff_account(w->actor) && (w->actor->roles & GZ_RB(RESIDENT)))
			json_object_set_new(w->in, "requester_user_id", json_integer(w->actor->id));
	}
	return 0;
}

static int wo_before_patch(struct gz_write *w, struct gz_err *err)
{
	int st = gz_wo_status_parse(json_string_value(json_object_get(w->before, "status")));
	if (st < 0 || !(OPEN_STATES & (1u << st)))
		return gz_fail(err, GZ_E_CONFLICT, "a %s work order cannot be changed",
		               json_string_value(json_object_get(w->before, "status")));
	/* deadlines follow category and priority until the order is dispatched */
	json_t *cat = json_object_get(w->in, "category_code"),
	       *pri = json_object_get(w->in, "priority");
	if (st == GZ_WO_NEW && (cat || pri)) {
		const char *created = json_string_value(json_object_get(w->before, "created_at"));
		int64_t created_ms, accept_due, resolve_due;
		if (!gz_time_parse(created, &created_ms))
			return gz_fail(err, GZ_E_INTERNAL, "bad stored time");
		if (gz_sla_deadlines(
		        w->conn,
		        json_string_value(cat ? cat : json_object_get(w->before, "category_code")),
		        json_string_value(pri ? pri : json_object_get(w->before, "priority")),
		        created_ms, &accept_due, &resolve_due, err))
			return -1;
		json_object_set_new(w->in, "accept_due_at", json_integer(accept_due));
		json_object_set_new(w->in, "resolve_due_at", json_integer(resolve_due));
	}
	return gz_wo_daily_apply(w->conn, w->id, -1, err);
}

static int wo_after_write(struct gz_write *w, struct gz_err *err)
{
	if (gz_wo_daily_apply(w->conn, w->id, 1, err))
		return -1;
	json_t *fields = json_array();
	const char *key;
	json_t *v;
	json_object_foreach(w->in, key, v)
	{
		const struct gz_field *f = gz_entity_field(w->ent, key);
		if (f && !(f->flags & GZ_F_READONLY))
			json_array_append_new(fields, json_string(key));
	}
	json_t *changed = json_pack("{s:o}", "fields", fields);
	struct gz_lc_event ev = {w->id,
	                         w->actor,
	                         w->before ? "update" : "create",
	                         NULL,
	                         w->before ? NULL : "new",
	                         NULL,
	                         changed,
	                         false};
	if (w->before)
		ev.from = json_string_value(json_object_get(w->before, "status"));
	int rc = gz_lifecycle_event(w->conn, &gz_work_order_machine, &ev, err);
	json_decref(changed);
	return rc;
}

/* ---- output ---- */

void gz_wo_decorate(struct gz_conn *c, json_t *o)
{
	(void)c;
	json_t *req = json_object();
	json_object_set(req, "name", json_object_get(o, "requester_name"));
	json_object_set(req, "phone", json_object_get(o, "requester_phone"));
	json_object_set_new(o, "requester", req);
}

/* ---- list filters ---- */

void gz_wo_deadline_where(bool due_soon, bool yes, int64_t now, struct gz_buf *where,
                          struct gz_args *args)
{
	/* true: the condition itself (its leading status test can use an index) */
	if (yes)
		gz_buf_adds(where,
		            due_soon ? " AND " GZ_WO_DUE_SOON_COND : " AND " GZ_WO_OVERDUE_COND);
	else
		gz_buf_adds(where, due_soon ? " AND " GZ_WO_DUE_SOON_EXPR " = 0"
		                            : " AND " GZ_WO_OVERDUE_EXPR " = 0");
	for (int i = 0; i < (due_soon ? GZ_WO_DUE_SOON_PARAMS : GZ_WO_OVERDUE_PARAMS); i++)
		gz_args_i64(args, now);
}

static int wo_filter(struct gz_req *r, const char *key, const char *value, struct gz_buf *where,
                     struct gz_args *args, struct gz_list_opts *o, struct gz_err *err)
{
	if (strcmp(key, "category_code") == 0) {
		/* the category and everything below it */
		for (const char *p = value; *p; p++)
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
			      (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == '-' || *p == '.'))
				return gz_fail_field(err, GZ_E_VALIDATION, key,
				                     "category_code is a dictionary code");
		gz_buf_adds(where, " AND t.category_code >= ? AND t.category_code < ?");
		gz_args_text(args, value);
		gz_args_text(args, gz_sprintf(&r->arena, "%s~", value));
		return 1;
	}
	if (strcmp(key, "unit_id") == 0) {
		int64_t uid;
		if (!gz_parse_i64(value, &uid) || uid <= 0)
			return gz_fail_field(err, GZ_E_VALIDATION, key,
			                     "unit_id must be a unit id");
		struct gz_conn *c = gz_db_reader(r->app->db);
		struct gz_stmt *s = gz_stmt(c, "SELECT path, kind FROM units WHERE id = ?", err);
		char *path = NULL, *kind = NULL;
		if (s) {
			gz_bind_i64(s, 1, uid);
			if (gz_step(s, err) == 1) {
				path = gz_strdup(&r->arena, gz_col_text(s, 0));
				kind = gz_strdup(&r->arena, gz_col_text(s, 1));
			}
			gz_stmt_done(s);
		}
		gz_db_reader_done(r->app->db, c);
		if (!s)
			return -1;
		if (!path)
			return gz_fail_field(err, GZ_E_VALIDATION, key,
			                     "unit_id: no unit with id %lld", (long long)uid);
		/* communities and subdistricts have their own indexed columns */
		if (strcmp(kind, "community") == 0) {
			gz_buf_adds(where, " AND t.community_id = ?");
			gz_args_i64(args, uid);
		} else if (strcmp(kind, "subdistrict") == 0) {
			gz_buf_adds(where, " AND t.subdistrict_id = ?");
			gz_args_i64(args, uid);
		} else if (strcmp(kind, "district") != 0) {
			char *end = gz_alloc(&r->arena, strlen(path) + 1);
			gz_path_upper(path, end, strlen(path) + 1);
			gz_buf_adds(where, " AND t.unit_path >= ? AND t.unit_path < ?");
			gz_args_text(args, path);
			gz_args_text(args, end);
		}
		return 1;
	}
	if (strcmp(key, "overdue") == 0 || strcmp(key, "due_soon") == 0) {
		if (strcmp(value, "true") && strcmp(value, "false"))
			return gz_fail_field(err, GZ_E_VALIDATION, key, "%s must be true or false",
			                     key);
		gz_wo_deadline_where(key[0] == 'd', strcmp(value, "true") == 0, o->now, where,
		                     args);
		return 1;
	}
	if (strcmp(key, "q") == 0)
		return gz_wo_search_filter(r, value, where, args, o, err) ? -1 : 1;
	return 0;
}

/* ---- the entity ---- */

static const struct gz_field wo_fields[] = {
    {"number", GZ_T_TEXT, GZ_F_READONLY | GZ_F_FILTER},
    {"title", GZ_T_TEXT, GZ_F_REQUIRED, 1, 100},
    {"description", GZ_T_TEXT, GZ_F_REQUIRED | GZ_F_DETAIL, 1, 4000},
    {"category_code", GZ_T_TEXT, GZ_F_REQUIRED, 1, 32, NULL, "category"},
    {"channel", GZ_T_ENUM, GZ_F_REQUIRED | GZ_F_CREATE_ONLY | GZ_F_FILTER, 0, 0, channels},
    {"priority", GZ_T_ENUM, GZ_F_FILTER, 0, 0, priorities},
    {"unit_id", GZ_T_INT, GZ_F_REQUIRED | GZ_F_CREATE_ONLY, 0, 0, NULL, NULL, &gz_unit_entity},
    {"unit_path", GZ_T_TEXT, GZ_F_READONLY | GZ_F_DETAIL},
    {"community_id", GZ_T_INT, GZ_F_READONLY},
    {"subdistrict_id", GZ_T_INT, GZ_F_READONLY},
    {"address", GZ_T_TEXT, GZ_F_NULLABLE, 0, 200},
    {"lat", GZ_T_REAL, GZ_F_NULLABLE | GZ_F_DETAIL, -90, 90},
    {"lng", GZ_T_REAL, GZ_F_NULLABLE | GZ_F_DETAIL, -180, 180},
    {"requester_name", GZ_T_TEXT, GZ_F_NULLABLE | GZ_F_DETAIL, 0, 50},
    {"requester_phone", GZ_T_TEXT, GZ_F_PII | GZ_F_NULLABLE | GZ_F_DETAIL, 0, 30, NULL, NULL, NULL,
     gz_check_phone},
    {"requester_org_id", GZ_T_INT, GZ_F_NULLABLE | GZ_F_DETAIL, 0, 0, NULL, NULL, &gz_org_entity},
    {"requester_user_id", GZ_T_INT, GZ_F_READONLY | GZ_F_DETAIL},
    {"external_id", GZ_T_TEXT, GZ_F_CREATE_ONLY | GZ_F_FILTER, 1, 64},
    {"status", GZ_T_ENUM, GZ_F_READONLY | GZ_F_FILTER, 0, 0, gz_wo_status_names},
    {"handler_org_id", GZ_T_INT, GZ_F_READONLY | GZ_F_FILTER},
    {"handler_unit_id", GZ_T_INT, GZ_F_READONLY | GZ_F_FILTER},
    {"dispatched_at", GZ_T_TIME, GZ_F_READONLY | GZ_F_DETAIL},
    {"accepted_at", GZ_T_TIME, GZ_F_READONLY | GZ_F_DETAIL},
    {"resolved_at", GZ_T_TIME, GZ_F_READONLY | GZ_F_DETAIL},
    {"verified_at", GZ_T_TIME, GZ_F_READONLY | GZ_F_DETAIL},
    {"closed_at", GZ_T_TIME, GZ_F_READONLY | GZ_F_DETAIL},
    {"accept_due_at", GZ_T_TIME, GZ_F_READONLY},
    {"resolve_due_at", GZ_T_TIME, GZ_F_READONLY},
    {"extension_workdays", GZ_T_INT, GZ_F_READONLY | GZ_F_DETAIL},
    {"extension_requested", GZ_T_INT, GZ_F_READONLY},
    {"return_count", GZ_T_INT, GZ_F_READONLY},
    {"return_reason", GZ_T_TEXT, GZ_F_READONLY | GZ_F_DETAIL},
    {"reopen_count", GZ_T_INT, GZ_F_READONLY | GZ_F_DETAIL},
    {"escalated", GZ_T_BOOL, GZ_F_READONLY | GZ_F_FILTER},
    /* live, by the one definition (work_order.h): the scanner's stored flag may lag
     * behind the clock, and it knows only the resolve deadline */
    {"overdue", GZ_T_BOOL, GZ_F_READONLY, .expr = GZ_WO_OVERDUE_EXPR},
    {"overdue_deadline", GZ_T_TEXT, GZ_F_READONLY | GZ_F_DETAIL,
     .expr = GZ_WO_OVERDUE_DEADLINE_EXPR},
    {"due_soon", GZ_T_BOOL, GZ_F_READONLY, .expr = GZ_WO_DUE_SOON_EXPR},
    /* names for accounts that cannot read the rows named (partners, property
     * companies, mediators): a single row reads the expr, a list page one query per
     * name over the page's distinct keys (lookup_sql) */
    {"unit_name", GZ_T_TEXT, GZ_F_READONLY, .expr = "(SELECT name FROM units WHERE id = t.unit_id)",
     .lookup_key = "unit_id", .lookup_sql = "SELECT id, name FROM units WHERE id IN"},
    {"category_name", GZ_T_TEXT, GZ_F_READONLY,
     .expr = "(SELECT name FROM dict_entries WHERE type = 'category' AND code = "
             "t.category_code)",
     .lookup_key = "category_code",
     .lookup_sql = "SELECT code, name FROM dict_entries WHERE type = 'category' AND code IN",
     .lookup_text_key = true},
    {"handler_org_name", GZ_T_TEXT, GZ_F_READONLY,
     .expr = "(SELECT name FROM orgs WHERE id = t.handler_org_id)", .lookup_key = "handler_org_id",
     .lookup_sql = "SELECT id, name FROM orgs WHERE id IN"},
    {"handler_unit_name", GZ_T_TEXT, GZ_F_READONLY,
     .expr = "(SELECT name FROM units WHERE id = t.handler_unit_id)",
     .lookup_key = "handler_unit_id", .lookup_sql = "SELECT id, name FROM units WHERE id IN"},
    {"creator_name", GZ_T_TEXT, GZ_F_READONLY,
     .expr = "(SELECT display_name FROM users WHERE id = t.created_by)", .lookup_key = "created_by",
     .lookup_sql = "SELECT id, display_name FROM users WHERE id IN"},
    {"merged_into_id", GZ_T_INT, GZ_F_READONLY},
    {"satisfaction", GZ_T_ENUM, GZ_F_READONLY | GZ_F_FILTER, 0, 0, satisfactions},
    {"solved", GZ_T_BOOL, GZ_F_READONLY | GZ_F_DETAIL},
    {"accepted_on_time", GZ_T_BOOL, GZ_F_READONLY | GZ_F_DETAIL},
    {"resolved_on_time", GZ_T_BOOL, GZ_F_READONLY | GZ_F_DETAIL},
    {"created_by", GZ_T_INT, GZ_F_READONLY | GZ_F_DETAIL},
    {NULL},
};

const struct gz_entity gz_work_order_entity = {
    .name = "work_order",
    .table = "work_orders",
    .fields = wo_fields,
    .perm_read = "work_orders.read",
    .perm_write = "work_orders.create",
    .unit_col = "unit_id",
    .unit_path_col = "unit_path",
    .unit_path_col2 = "handler_unit_path",
    .org_col = "handler_org_id",
    .org_sql = "(t.handler_org_id = ? OR t.id IN (SELECT work_order_id FROM "
               "work_order_handlers WHERE org_id = ?))",
    .owner_col = "requester_user_id",
    .owner_sql = "(t.requester_user_id = ? OR t.created_by = ?)",
    .before_create = wo_before_create,
    .before_patch = wo_before_patch,
    .after_write = wo_after_write,
    .filter = wo_filter,
    .decorate = gz_wo_decorate,
    .children = gz_wo_children,
};

static int flatten_requester(struct gz_req *r, struct gz_err *err)
{
	json_t *req = json_object_get(r->body, "requester");
	if (!req)
		return 0;
	if (json_is_null(req)) {
		json_object_del(r->body, "requester");
		return 0;
	}
	if (!json_is_object(req))
		return gz_fail_field(err, GZ_E_VALIDATION, "requester",
		                     "requester must be an object {name, phone}");
	const char *key;
	json_t *v;
	json_object_foreach(req, key, v)
	{
		if (strcmp(key, "name") && strcmp(key, "phone"))
			return gz_fail_field(err, GZ_E_UNKNOWN_FIELD, "requester",
			                     "unknown field requester.%s", key);
	}
	if (json_object_get(req, "name"))
		json_object_set(r->body, "requester_name", json_object_get(req, "name"));
	if (json_object_get(req, "phone"))
		json_object_set(r->body, "requester_phone", json_object_get(req, "phone"));
	json_object_del(r->body, "requester");
	return 0;
}

static int create_handler(struct gz_req *r, struct gz_err *err)
{
	if (flatten_requester(r, err) || gz_entity_create_handler(r, err))
		return -1;
	return 0;
}

static int patch_handler(struct gz_req *r, struct gz_err *err)
{
	if (flatten_requester(r, err) || gz_entity_patch_handler(r, err))
		return -1;
	return 0;
}

/* GET /work-orders/counts: the dashboard's five numbers over the account's scope (and
 * the list's filters, when given), each the total the list gives with its filter:
 * to_dispatch status=new,returned; to_accept status=dispatched; in_progress
 * status=accepted,in_progress; due_soon due_soon=true; overdue overdue=true.  One
 * statement over the running orders (the status index), whatever the number of
 * closed ones. */
static int counts_handler(struct gz_req *r, struct gz_err *err)
{
	struct gz_buf where = GZ_BUF_INIT, sql = GZ_BUF_INIT;
	struct gz_args args = {0};
	struct gz_list_opts lo;
	if (gz_entity_where(r, &gz_work_order_entity, &where, &args, &lo, err)) {
		gz_buf_release(&where);
		return -1;
	}
	gz_buf_adds(&sql,
	            "SELECT "
	            "coalesce(sum(CASE WHEN t.status IN ('new','returned') THEN 1 ELSE 0 END), 0), "
	            "coalesce(sum(CASE WHEN t.status = 'dispatched' THEN 1 ELSE 0 END), 0), "
	            "coalesce(sum(CASE WHEN t.status IN ('accepted','in_progress') THEN 1 ELSE 0 "
	            "END), 0), "
	            "coalesce(sum(" GZ_WO_DUE_SOON_EXPR "), 0), "
	            "coalesce(sum(" GZ_WO_OVERDUE_EXPR "), 0) FROM work_orders t");
	if (lo.join)
		gz_buf_adds(&sql, lo.join);
	gz_buf_add(&sql, where.data, where.len);
	gz_buf_adds(&sql, " AND t.status IN " RUNNING_SQL);
	gz_buf_release(&where);
	struct gz_conn *c = gz_db_reader(r->app->db);
	struct gz_stmt *s = gz_stmt(c, sql.data, err);
	gz_buf_release(&sql);
	int64_t n[5] = {0};
	int rc = -1;
	if (s) {
		int k = GZ_WO_DUE_SOON_PARAMS + GZ_WO_OVERDUE_PARAMS;
		for (int i = 1; i <= k; i++)
			gz_bind_i64(s, i, lo.now);
		gz_args_bind(s, &args, k + 1);
		if ((rc = gz_step(s, err)) == 1)
			for (int i = 0; i < 5; i++)
				n[i] = gz_col_i64(s, i);
		gz_stmt_done(s);
	}
	gz_db_reader_done(r->app->db, c);
	if (rc < 0)
		return -1;
	return gz_reply_json(r, 200,
	                     json_pack("{s:I,s:I,s:I,s:I,s:I}", "to_dispatch", (json_int_t)n[0],
	                               "to_accept", (json_int_t)n[1], "in_progress",
	                               (json_int_t)n[2], "due_soon", (json_int_t)n[3], "overdue",
	                               (json_int_t)n[4]));
}

/* gongzhi_work_orders{status} for /metrics */
static void wo_metrics(struct gz_buf *out, void *ctx)
{
	struct gz_app *app = ctx;
	struct gz_err err;
	gz_buf_adds(out, "# HELP gongzhi_work_orders Work orders by status\n"
	                 "# TYPE gongzhi_work_orders gauge\n");
	struct gz_conn *c = gz_db_reader(app->db);
	struct gz_stmt *s =
	    gz_stmt(c, "SELECT status, count(*) FROM work_orders GROUP BY status", &err);
	if (s) {
		while (gz_step(s, &err) == 1)
			gz_buf_addf(out, "gongzhi_work_orders{status=\"%s\"} %lld\n",
			            gz_col_text(s, 0), (long long)gz_col_i64(s, 1));
		gz_stmt_done(s);
	}
	gz_db_reader_done(app->db, c);
	gz_buf_addf(out,
	            "# HELP gongzhi_sla_escalations_total Orders escalated by the SLA scanner\n"
	            "# TYPE gongzhi_sla_escalations_total counter\n"
	            "gongzhi_sla_escalations_total %lld\n",
	            gz_sla_escalations());
}

static int wo_init(struct gz_app *app, struct gz_err *err)
{
	(void)err;
	static struct gz_app *registered;
	if (registered != app) {
		gz_metrics_add_provider(wo_metrics, app);
		registered = app;
	}
	gz_db_on_batch_end(app->db, gz_wo_search_sync, app->db);
	gz_lifecycle_register(&gz_work_order_machine);
	return 0;
}

/* POST /work-orders/{id}/reveal: the requester's phone, for the staff who call back
 * (work_orders.reveal: admin, subdistrict and community staff, grid workers — the
 * government side that dispatches, verifies on site and calls back).  Partners,
 * property companies and mediators are not on the list: they reach the requester
 * through the order's comments, and the masked number is all they see.  The route's
 * row check answers 404 outside the account's scope; every reveal is audited. */
static const char *const revealable[] = {"requester_phone", NULL};
static const struct gz_reveal_spec reveal_spec = {&gz_work_order_entity, revealable, NULL};

static int reveal_handler(struct gz_req *r, struct gz_err *err)
{
	return gz_reveal_handle(r, &reveal_spec, err);
}

static const char *const similar_params[] = {"category_code", "unit_id", "lat", "lng", NULL};

static const char *const timeline_params[] = {"timeline_limit", NULL};
static const char *const timeline_page_params[] = {"cursor", "limit", NULL};

static const struct gz_route routes[] = {
    {GZ_GET, "/api/v1/work-orders", gz_entity_list_handler, "work_orders.read", GZ_R_LIST,
     &gz_work_order_entity,
     "List work orders (filters: status list, category_code subtree, unit_id subtree, channel, "
     "handler_org_id, overdue, due_soon, created_from, created_to (dates: whole Shanghai days, "
     "the end date included), q: text, order number or 12345 number)"},
    {GZ_POST, "/api/v1/work-orders", create_handler, "work_orders.create",
     GZ_R_JSON | GZ_R_WRITE | GZ_R_AUDIT, &gz_work_order_entity, "File a work order"},
    {GZ_GET, "/api/v1/work-orders/counts", counts_handler, "work_orders.read", GZ_R_LIST, NULL,
     "The dashboard's counts in the account's scope: to_dispatch (new, returned), to_accept "
     "(dispatched), in_progress (accepted, in progress), due_soon, overdue; each equals the "
     "list's total with that filter (the list's filters apply here too)"},
    {GZ_GET, "/api/v1/work-orders/similar", gz_wo_similar_draft_handler, "work_orders.read", 0,
     NULL, "Open orders like a draft (category_code, unit_id, lat, lng): duplicate hints",
     similar_params},
    {GZ_GET, "/api/v1/work-orders/{id}", gz_lifecycle_get_handler, "work_orders.read", 0,
     &gz_work_order_entity,
     "A work order with its latest timeline events (timeline_limit, default 50; "
     "timeline_next_cursor for older ones), handlers and allowed actions",
     timeline_params},
    {GZ_PATCH, "/api/v1/work-orders/{id}", patch_handler, "work_orders.manage",
     GZ_R_JSON | GZ_R_WRITE | GZ_R_AUDIT, &gz_work_order_entity,
     "Change an open work order's editable fields"},
    {GZ_POST, "/api/v1/work-orders/{id}/actions", gz_lifecycle_actions_handler, "work_orders.read",
     GZ_R_JSON | GZ_R_WRITE | GZ_R_AUDIT, NULL,
     "Take an action of the lifecycle (the order in the reply as the detail, timeline_limit)",
     timeline_params, .row = &gz_work_order_entity},
    {GZ_POST, "/api/v1/work-orders/{id}/reveal", reveal_handler, "work_orders.reveal",
     GZ_R_JSON | GZ_R_WRITE | GZ_R_AUDIT, NULL,
     "Reveal the requester's phone to call back: {field: requester_phone, purpose} -> "
     "{field, value}; audited (who, order, field, purpose), at most reveal_per_hour an hour",
     .row = &gz_work_order_entity},
    {GZ_GET, "/api/v1/work-orders/{id}/timeline", gz_lifecycle_timeline_handler, "work_orders.read",
     0, NULL,
     "Older timeline events of a work order, oldest first (cursor from timeline_next_cursor, "
     "limit 1..500)",
     timeline_page_params, .row = &gz_work_order_entity},
    {GZ_GET, "/api/v1/work-orders/{id}/similar", gz_wo_similar_handler, "work_orders.read", 0, NULL,
     "Open orders of the same category near the same place (duplicate hints)",
     .row = &gz_work_order_entity},
    {0, NULL},
};

static const struct gz_perm perms[] = {
    {"work_orders.read", GZ_ROLES_ALL, "see work orders in scope"},
    {"work_orders.create", GZ_ROLES_STAFF | GZ_RB(GRID) | GZ_RB(RESIDENT), "file work orders"},
    {"work_orders.manage", GZ_ROLES_STAFF,
     "dispatch, escalate, merge, cancel, reopen and edit work orders"},
    {"work_orders.handle", GZ_ROLES_STAFF | GZ_RB(PARTNER) | GZ_RB(PROPERTY),
     "accept, return and resolve work orders dispatched to one's organisation or unit"},
    {"work_orders.extension", GZ_RB(ADMIN) | GZ_RB(SUBDISTRICT), "decide extension requests"},
    {"work_orders.verify", GZ_RB(ADMIN) | GZ_RB(COMMUNITY) | GZ_RB(GRID),
     "verify resolutions on site"},
    {"work_orders.callback", GZ_RB(ADMIN) | GZ_RB(COMMUNITY),
     "call requesters back and close orders"},
    {"work_orders.reveal", GZ_RB(ADMIN) | GZ_RB(SUBDISTRICT) | GZ_RB(COMMUNITY) | GZ_RB(GRID),
     "reveal a requester's phone in scope, with a purpose (audited)"},
    {NULL},
};

static const struct gz_entity *const entities[] = {&gz_work_order_entity, NULL};

const struct gz_module gz_work_orders_module = {
    "work_orders",
    routes,
    perms,
    entities,
    wo_init,
    gz_wo_search_start,
    gz_wo_search_stop,
    .after_copy = gz_wo_search_after_copy,
};
