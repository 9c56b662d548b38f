/* work_order.c - work orders (工单): create, read, list with Chinese full-text
 * search, patch while open, and the lifecycle of actions with its append-only
 * timeline, deadlines, co-handlers (吹哨), extensions, callbacks and the SLA scanner.
 *
 * The state machine is one table (actions[]): for each action the states it starts
 * from, who may take it, the body fields it takes and the function that applies it.
 * The allowed actions of an account on an order are computed from that table, both
 * for the detail view and for the 409 of an illegal action.  Every change also
 * keeps the daily aggregates (work_order_daily) that the statistics read. */
#include "modules/work_order.h"
#include "app.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "http/idempotency.h"
#include "modules/sla.h"
#include "modules/units.h"
#include <math.h>
#include <pthread.h>
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

#define ST(n) (1u << GZ_WO_##n)
/* open: somebody still has to act */
#define OPEN_STATES                                                                                \
	(ST(NEW) | ST(DISPATCHED) | ST(ACCEPTED) | ST(IN_PROGRESS) | ST(RESOLVED) | ST(VERIFIED) | \
	 ST(RETURNED))
/* the resolve deadline runs in these */
#define RUNNING_STATES (ST(NEW) | ST(DISPATCHED) | ST(ACCEPTED) | ST(IN_PROGRESS) | ST(RETURNED))
#define OPEN_SQL "('new','dispatched','accepted','in_progress','resolved','verified','returned')"
#define RUNNING_SQL "('new','dispatched','accepted','in_progress','returned')"

static const char *const channels[] = {"hotline_12345", "grid_patrol", "walk_in",   "phone",
                                       "web",           "open311",     "proactive", NULL};
static const char *const priorities[] = {"urgent", "high", "normal", "low", NULL};
static const char *const satisfactions[] = {"satisfied", "basically_satisfied", "dissatisfied",
                                            NULL};
static const char *const return_reasons[] = {"wrong_area", "unclear_ownership", "overlapping_duty",
                                             "other", NULL};

int gz_check_phone(const char *v, const char *field, struct gz_err *err);

/* ---- the daily aggregates ---- */

/* Adds (sign 1) or removes (sign -1) an order's contribution to its day's bucket. */
static int daily_apply(struct gz_conn *c, int64_t id, int sign, struct gz_err *err)
{
	static const char sql[] =
	    "INSERT INTO work_order_daily (day, unit_id, community_id, subdistrict_id, "
	    "category_code, channel, handler_org_id, total, dispatched, accepted_on_time, "
	    "resolved, resolved_on_time, resolve_hours_sum, rated, solved, satisfied, reopened) "
	    "SELECT (created_at + 28800000) / 86400000, unit_id, community_id, subdistrict_id, "
	    "category_code, channel, coalesce(handler_org_id, 0), ?1, "
	    "?1 * (dispatched_at IS NOT NULL), ?1 * coalesce(accepted_on_time, 0), "
	    "?1 * (resolved_at IS NOT NULL), ?1 * coalesce(resolved_on_time, 0), "
	    "?1 * CASE WHEN resolved_at IS NOT NULL THEN (resolved_at - created_at) / 3600000.0 "
	    "ELSE 0 END, ?1 * (satisfaction IS NOT NULL), ?1 * coalesce(solved, 0), "
	    "?1 * coalesce(satisfaction IN ('satisfied', 'basically_satisfied'), 0), "
	    "?1 * (reopen_count > 0) FROM work_orders WHERE id = ?2 "
	    "ON CONFLICT (day, unit_id, category_code, channel, handler_org_id) DO UPDATE SET "
	    "total = total + excluded.total, dispatched = dispatched + excluded.dispatched, "
	    "accepted_on_time = accepted_on_time + excluded.accepted_on_time, "
	    "resolved = resolved + excluded.resolved, "
	    "resolved_on_time = resolved_on_time + excluded.resolved_on_time, "
	    "resolve_hours_sum = resolve_hours_sum + excluded.resolve_hours_sum, "
	    "rated = rated + excluded.rated, solved = solved + excluded.solved, "
	    "satisfied = satisfied + excluded.satisfied, reopened = reopened + excluded.reopened";
	return gz_exec_args(c, err, sql, "ii", (int64_t)sign, id);
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
	    "sum(dispatched_at IS NOT NULL), sum(coalesce(accepted_on_time, 0)), "
	    "sum(resolved_at IS NOT NULL), sum(coalesce(resolved_on_time, 0)), "
	    "sum(CASE WHEN resolved_at IS NOT NULL THEN (resolved_at - created_at) / 3600000.0 "
	    "ELSE 0 END), sum(satisfaction IS NOT NULL), sum(coalesce(solved, 0)), "
	    "sum(coalesce(satisfaction IN ('satisfied', 'basically_satisfied'), 0)), "
	    "sum(reopen_count > 0) FROM work_orders GROUP BY 1, 2, 5, 6, 7",
	    "");
}

/* ---- the timeline ---- */

struct event {
	int64_t order_id;
	const struct gz_account *actor; /* NULL: the system */
	const char *action, *from, *to, *note;
	json_t *data; /* borrowed, may be NULL */
	bool internal;
};

static int event_add(struct gz_conn *c, const struct event *ev, struct gz_err *err)
{
	char *data = ev->data ? gz_json_dump(ev->data) : NULL;
	int rc = gz_exec_args(
	    c, err,
	    "INSERT INTO work_order_events (work_order_id, at, actor_id, actor_name, action, "
	    "from_status, to_status, note, data, internal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    ev->actor ? "iiitttttti" : "iintttttti", ev->order_id, gz_now_ms(),
	    ev->actor ? ev->actor->id : 0, ev->actor ? ev->actor->display_name : "系统", ev->action,
	    ev->from, ev->to, ev->note, data ? data : "{}", (int64_t)ev->internal);
	free(data);
	return rc;
}

/* ---- units: the community and subdistrict above a unit ---- */

int gz_wo_unit_place(struct gz_conn *c, int64_t unit_id, char *path, size_t n, int64_t *community,
                     int64_t *subdistrict, char *kind, size_t kn, struct gz_err *err)
{
	struct gz_stmt *s = gz_stmt(c, "SELECT path, kind FROM units WHERE id = ?", err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, unit_id);
	int rc = gz_step(s, err);
	if (rc == 1) {
		snprintf(path, n, "%s", gz_col_text(s, 0));
		snprintf(kind, kn, "%s", gz_col_text(s, 1));
	}
	gz_stmt_done(s);
	if (rc <= 0)
		return rc < 0 ? -1
		              : gz_fail_field(err, GZ_E_VALIDATION, "unit_id",
		                              "unit_id: no unit with id %lld", (long long)unit_id);
	*community = *subdistrict = 0;
	/* walk the ids of the path: /1/2/5/30/ */
	for (const char *p = path + 1; *p;) {
		int64_t id = strtoll(p, NULL, 10);
		s = gz_stmt(c, "SELECT kind FROM units WHERE id = ?", err);
		if (!s)
			return -1;
		gz_bind_i64(s, 1, id);
		if ((rc = gz_step(s, err)) == 1) {
			if (strcmp(gz_col_text(s, 0), "community") == 0)
				*community = id;
			else if (strcmp(gz_col_text(s, 0), "subdistrict") == 0)
				*subdistrict = id;
		}
		gz_stmt_done(s);
		if (rc < 0)
			return -1;
		const char *slash = strchr(p, '/');
		if (!slash)
			break;
		p = slash + 1;
	}
	return 0;
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
	if (gz_wo_unit_place(w->conn, unit_id, path, sizeof(path), &community, &subdistrict, kind,
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
	/* the human number: GZ + Shanghai date + sequence of the day */
	char day[16], number[32];
	int64_t d = gz_shanghai_day(now);
	int y;
	unsigned m, dd;
	gz_civil_from_days(d, &y, &m, &dd);
	snprintf(day, sizeof(day), "%04d%02u%02u", y, m, dd);
	int64_t seq = 0;
	if (gz_exec_args(w->conn, err,
	                 "INSERT INTO work_order_numbers (day, last) VALUES (?, 1) "
	                 "ON CONFLICT (day) DO UPDATE SET last = last + 1",
	                 "t", day) ||
	    gz_query_i64(w->conn, err, &seq, "SELECT last FROM work_order_numbers WHERE day = ?",
	                 "t", day) < 0)
		return -1;
	snprintf(number, sizeof(number), "GZ%s%06lld", day, (long long)seq);
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
	return daily_apply(w->conn, w->id, -1, err);
}

static int wo_after_write(struct gz_write *w, struct gz_err *err)
{
	if (daily_apply(w->conn, w->id, 1, err))
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
	struct event ev = {w->id,
	                   w->actor,
	                   w->before ? "update" : "create",
	                   NULL,
	                   w->before ? NULL : "new",
	                   NULL,
	                   changed,
	                   false};
	if (w->before)
		ev.from = json_string_value(json_object_get(w->before, "status"));
	int rc = event_add(w->conn, &ev, err);
	json_decref(changed);
	return rc;
}

/* ---- output ---- */

static void wo_decorate(struct gz_conn *c, json_t *o)
{
	(void)c;
	json_t *req = json_object();
	json_object_set(req, "name", json_object_get(o, "requester_name"));
	json_object_set(req, "phone", json_object_get(o, "requester_phone"));
	json_object_set_new(o, "requester", req);
}

/* ---- list filters ---- */

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
	if (strcmp(key, "overdue") == 0) {
		if (strcmp(value, "true") && strcmp(value, "false"))
			return gz_fail_field(err, GZ_E_VALIDATION, key,
			                     "overdue must be true or false");
		gz_buf_addf(where, strcmp(value, "true") == 0 ? " AND t.status IN " RUNNING_SQL
		                                                " AND t.resolve_due_at < ?"
		                                              : " AND NOT (t.status IN " RUNNING_SQL
		                                                " AND t.resolve_due_at < ?)");
		gz_args_i64(args, gz_now_ms());
		return 1;
	}
	if (strcmp(key, "q") == 0) {
		size_t n = gz_utf8_len(value);
		if (n == 0 || n > 100)
			return gz_fail_field(err, GZ_E_VALIDATION, key,
			                     "q must have 1 to 100 characters");
		if (n >= 3) {
			/* one FTS5 phrase: every character literal, quotes doubled */
			struct gz_buf phrase = GZ_BUF_INIT;
			gz_buf_addc(&phrase, '"');
			for (const char *p = value; *p; p++) {
				if (*p == '"')
					gz_buf_addc(&phrase, '"');
				gz_buf_addc(&phrase, *p);
			}
			gz_buf_addc(&phrase, '"');
			/* the FTS table drives the query: it yields matches newest first, so
			 * a page needs no list of every match (60k rowids for a common term) */
			o->join = " JOIN work_orders_fts f ON f.rowid = t.id";
			o->order_col = "f.rowid";
			gz_buf_adds(where, " AND f.work_orders_fts MATCH ?");
			gz_args_text(args, gz_strdup(&r->arena, phrase.data));
			gz_buf_release(&phrase);
		} else {
			/* trigrams cannot find 1-2 characters: a plain substring match */
			char *pat = gz_alloc(&r->arena, strlen(value) * 2 + 3), *w = pat;
			*w++ = '%';
			for (const char *p = value; *p; p++) {
				if (*p == '%' || *p == '_' || *p == '\\')
					*w++ = '\\';
				*w++ = *p;
			}
			*w++ = '%';
			*w = 0;
			gz_buf_adds(where,
			            " AND (t.title LIKE ? ESCAPE '\\' OR t.description LIKE ? "
			            "ESCAPE '\\' OR coalesce(t.address, '') LIKE ? ESCAPE '\\')");
			gz_args_text(args, pat);
			gz_args_text(args, pat);
			gz_args_text(args, pat);
		}
		return 1;
	}
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
    /* live: the scanner's stored flag may lag behind the clock */
    {"overdue", GZ_T_BOOL, GZ_F_READONLY,
     .expr = "(t.status IN " RUNNING_SQL " AND t.resolve_due_at < CAST((julianday('now') "
             "- 2440587.5) * 86400000 AS INTEGER))"},
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
    .decorate = wo_decorate,
};

/* ---- the order as the actions see it ---- */

struct order {
	int64_t id;
	int status;
	int64_t handler_org_id, handler_unit_id;
	char handler_unit_path[256];
	char unit_path[256];
	int64_t accept_due_at, resolve_due_at, extension_workdays, extension_requested;
	int64_t requester_user_id, created_by;
	char category[40], priority[16];
	int64_t co_orgs[32];
	bool co_reported[32];
	int nco;
};

static int order_load(struct gz_conn *c, int64_t id, struct order *o, struct gz_err *err)
{
	memset(o, 0, sizeof(*o));
	struct gz_stmt *s = gz_stmt(
	    c,
	    "SELECT w.status, coalesce(w.handler_org_id, 0), coalesce(w.handler_unit_id, 0), "
	    "coalesce(hu.path, ''), w.unit_path, coalesce(w.accept_due_at, 0), "
	    "coalesce(w.resolve_due_at, 0), w.extension_workdays, "
	    "coalesce(w.extension_requested, 0), coalesce(w.requester_user_id, 0), "
	    "coalesce(w.created_by, 0), w.category_code, w.priority FROM work_orders w "
	    "LEFT JOIN units hu ON hu.id = w.handler_unit_id WHERE w.id = ?",
	    err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, id);
	int rc = gz_step(s, err);
	if (rc == 1) {
		o->id = id;
		o->status = gz_wo_status_parse(gz_col_text(s, 0));
		o->handler_org_id = gz_col_i64(s, 1);
		o->handler_unit_id = gz_col_i64(s, 2);
		snprintf(o->handler_unit_path, sizeof(o->handler_unit_path), "%s",
		         gz_col_text(s, 3));
		snprintf(o->unit_path, sizeof(o->unit_path), "%s", gz_col_text(s, 4));
		o->accept_due_at = gz_col_i64(s, 5);
		o->resolve_due_at = gz_col_i64(s, 6);
		o->extension_workdays = gz_col_i64(s, 7);
		o->extension_requested = gz_col_i64(s, 8);
		o->requester_user_id = gz_col_i64(s, 9);
		o->created_by = gz_col_i64(s, 10);
		snprintf(o->category, sizeof(o->category), "%s", gz_col_text(s, 11));
		snprintf(o->priority, sizeof(o->priority), "%s", gz_col_text(s, 12));
	}
	gz_stmt_done(s);
	if (rc <= 0)
		return rc < 0 ? -1 : gz_entity_not_found(&gz_work_order_entity, id, err);
	s = gz_stmt(c,
	            "SELECT org_id, reported_at IS NOT NULL FROM work_order_handlers "
	            "WHERE work_order_id = ? ORDER BY added_at, org_id",
	            err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, id);
	while (o->nco < 32 && (rc = gz_step(s, err)) == 1) {
		o->co_orgs[o->nco] = gz_col_i64(s, 0);
		o->co_reported[o->nco] = gz_col_i64(s, 1);
		o->nco++;
	}
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
}

static struct gz_row_scope order_scope(const struct order *o)
{
	struct gz_row_scope sc = {o->unit_path,
	                          o->handler_org_id,
	                          o->requester_user_id,
	                          o->co_orgs,
	                          o->nco,
	                          o->created_by,
	                          NULL};
	sc.unit_path2 = o->handler_unit_path[0] ? o->handler_unit_path : NULL;
	return sc;
}

/* ---- who may act ---- */

static bool in_scope(const struct gz_account *a, const struct order *o)
{
	struct gz_row_scope sc = order_scope(o);
	return gz_scope_check(a, "work_orders.read", &sc, true, NULL) == 0;
}

static bool staff(const struct gz_account *a, const struct order *o)
{
	return gz_account_has(a, "work_orders.manage") && in_scope(a, o);
}

static bool handler(const struct gz_account *a, const struct order *o)
{
	if (a->roles & GZ_RB(ADMIN))
		return o->handler_org_id || o->handler_unit_id;
	if (!gz_account_has(a, "work_orders.handle"))
		return false;
	if (o->handler_org_id && a->org_id == o->handler_org_id)
		return true;
	/* a department or unit handles: its staff do */
	return o->handler_unit_id && (a->roles & GZ_ROLES_STAFF) && a->unit_path[0] &&
	       strncmp(o->handler_unit_path, a->unit_path, strlen(a->unit_path)) == 0;
}

static bool extension_decider(const struct gz_account *a, const struct order *o)
{
	return gz_account_has(a, "work_orders.extension") && in_scope(a, o);
}

static bool verifier(const struct gz_account *a, const struct order *o)
{
	return gz_account_has(a, "work_orders.verify") && in_scope(a, o);
}

static bool caller(const struct gz_account *a, const struct order *o)
{
	return gz_account_has(a, "work_orders.callback") && in_scope(a, o);
}

static int co_index(const struct gz_account *a, const struct order *o)
{
	for (int i = 0; a->org_id && i < o->nco; i++)
		if (o->co_orgs[i] == a->org_id)
			return i;
	return -1;
}

static bool pending_co_handler(const struct gz_account *a, const struct order *o)
{
	int i = co_index(a, o);
	return i >= 0 && !o->co_reported[i];
}

static bool anyone(const struct gz_account *a, const struct order *o)
{
	return in_scope(a, o);
}

/* ---- the actions ---- */

struct act {
	struct gz_req *r;
	struct gz_conn *c;
	struct order o;
	json_t *body;
	const struct action *action;
	json_t *data; /* event data */
	int to;       /* new status, -1 when unchanged */
	struct gz_buf set;
	struct gz_args args;
};

typedef int (*apply_fn)(struct act *x, struct gz_err *err);

struct action {
	const char *name;
	unsigned from;
	bool (*who)(const struct gz_account *a, const struct order *o);
	bool (*ready)(const struct order *o); /* further precondition, NULL none */
	apply_fn apply;
	const char *const fields[6]; /* body fields besides "action" */
};

static void set_col(struct act *x, const char *col, char type, int64_t i, const char *t)
{
	gz_buf_addf(&x->set, ", %s = ?", col);
	if (type == 'i')
		gz_args_i64(&x->args, i);
	else if (type == 't')
		gz_args_text(&x->args, t);
	else
		gz_args_null(&x->args);
}

static const char *body_text(struct act *x, const char *name)
{
	return json_string_value(json_object_get(x->body, name));
}

static int need_text(struct act *x, const char *name, size_t max, const char **out,
                     struct gz_err *err)
{
	json_t *v = json_object_get(x->body, name);
	if (!json_is_string(v) || !*json_string_value(v))
		return gz_fail_field(err, GZ_E_VALIDATION, name, "%s is required", name);
	if (gz_utf8_len(json_string_value(v)) > max)
		return gz_fail_field(err, GZ_E_VALIDATION, name, "%s is too long", name);
	*out = json_string_value(v);
	return 0;
}

static int need_bool(struct act *x, const char *name, bool *out, struct gz_err *err)
{
	json_t *v = json_object_get(x->body, name);
	if (!json_is_boolean(v))
		return gz_fail_field(err, GZ_E_VALIDATION, name, "%s must be true or false", name);
	*out = json_is_true(v);
	return 0;
}

static int org_exists(struct act *x, int64_t id, const char *field, struct gz_err *err)
{
	int64_t n = 0;
	if (gz_query_i64(x->c, err, &n, "SELECT count(*) FROM orgs WHERE id = ?", "i", id) < 0)
		return -1;
	return n ? 0
	         : gz_fail_field(err, GZ_E_VALIDATION, field, "%s: no organisation %lld", field,
	                         (long long)id);
}

static int accept_hours(struct act *x, int64_t *hours, struct gz_err *err)
{
	int64_t days;
	return gz_sla_rule(x->c, x->o.category, x->o.priority, hours, &days, err);
}

static int apply_dispatch(struct act *x, struct gz_err *err)
{
	json_t *org = json_object_get(x->body, "handler_org_id"),
	       *unit = json_object_get(x->body, "handler_unit_id");
	if (!org == !unit)
		return gz_fail_field(err, GZ_E_VALIDATION,
		                     org ? "handler_unit_id" : "handler_org_id",
		                     "give exactly one of handler_org_id and handler_unit_id");
	json_t *id = org ? org : unit;
	const char *field = org ? "handler_org_id" : "handler_unit_id";
	if (!json_is_integer(id) || json_integer_value(id) <= 0)
		return gz_fail_field(err, GZ_E_VALIDATION, field, "%s must be an id", field);
	int64_t v = json_integer_value(id);
	if (org && org_exists(x, v, field, err))
		return -1;
	if (unit) {
		int64_t n = 0;
		if (gz_query_i64(x->c, err, &n, "SELECT count(*) FROM units WHERE id = ?", "i", v) <
		    0)
			return -1;
		if (!n)
			return gz_fail_field(err, GZ_E_VALIDATION, field, "%s: no unit %lld", field,
			                     (long long)v);
	}
	int64_t hours, now = gz_now_ms();
	if (accept_hours(x, &hours, err))
		return -1;
	set_col(x, "handler_org_id", org ? 'i' : 'n', v, NULL);
	set_col(x, "handler_unit_id", unit ? 'i' : 'n', v, NULL);
	if (unit) {
		/* SET expressions see the old row: name the new unit explicitly */
		gz_buf_adds(&x->set, ", handler_unit_path = (SELECT path FROM units WHERE id = ?)");
		gz_args_i64(&x->args, v);
	} else
		set_col(x, "handler_unit_path", 'n', 0, NULL);
	set_col(x, "dispatched_at", 'i', now, NULL);
	set_col(x, "accept_due_at", 'i', now + hours * 3600000, NULL);
	set_col(x, "accepted_at", 'n', 0, NULL);
	set_col(x, "accepted_on_time", 'n', 0, NULL);
	json_object_set_new(x->data, field, json_integer(v));
	x->to = GZ_WO_DISPATCHED;
	return 0;
}

static int apply_accept(struct act *x, struct gz_err *err)
{
	(void)err;
	int64_t now = gz_now_ms();
	set_col(x, "accepted_at", 'i', now, NULL);
	set_col(x, "accepted_on_time", 'i', now <= x->o.accept_due_at, NULL);
	x->to = GZ_WO_ACCEPTED;
	return 0;
}

static int apply_return(struct act *x, struct gz_err *err)
{
	const char *reason = body_text(x, "reason");
	bool ok = false;
	for (const char *const *v = return_reasons; reason && *v; v++)
		ok |= strcmp(*v, reason) == 0;
	if (!ok)
		return gz_fail_field(err, GZ_E_VALIDATION, "reason",
		                     "reason must be one of: wrong_area, unclear_ownership, "
		                     "overlapping_duty, other");
	gz_buf_adds(&x->set, ", return_count = return_count + 1");
	set_col(x, "return_reason", 't', 0, reason);
	set_col(x, "handler_org_id", 'n', 0, NULL);
	set_col(x, "handler_unit_id", 'n', 0, NULL);
	set_col(x, "handler_unit_path", 'n', 0, NULL);
	json_object_set_new(x->data, "reason", json_string(reason));
	if (x->o.handler_org_id)
		json_object_set_new(x->data, "returned_by_org_id",
		                    json_integer(x->o.handler_org_id));
	x->to = GZ_WO_RETURNED;
	return 0;
}

static int apply_start(struct act *x, struct gz_err *err)
{
	(void)err;
	x->to = GZ_WO_IN_PROGRESS;
	return 0;
}

static bool before_deadline(const struct order *o)
{
	return gz_now_ms() < o->resolve_due_at && !o->extension_requested;
}

static int apply_request_extension(struct act *x, struct gz_err *err)
{
	json_t *d = json_object_get(x->body, "workdays");
	const char *reason = NULL;
	if (!json_is_integer(d) || json_integer_value(d) < 1 || json_integer_value(d) > 15)
		return gz_fail_field(err, GZ_E_VALIDATION, "workdays",
		                     "workdays must be a whole number from 1 to 15");
	if (need_text(x, "reason", 500, &reason, err))
		return -1;
	int64_t n = json_integer_value(d);
	if (x->o.extension_workdays + n > 15)
		return gz_fail_field(err, GZ_E_VALIDATION, "workdays",
		                     "extensions may total 15 working days; %lld are left",
		                     (long long)(15 - x->o.extension_workdays));
	set_col(x, "extension_requested", 'i', n, NULL);
	json_object_set_new(x->data, "workdays", json_integer(n));
	json_object_set_new(x->data, "reason", json_string(reason));
	return 0;
}

static bool extension_pending(const struct order *o)
{
	return o->extension_requested > 0;
}

static int apply_decide_extension(struct act *x, struct gz_err *err)
{
	bool approve = false;
	if (need_bool(x, "approve", &approve, err))
		return -1;
	set_col(x, "extension_requested", 'n', 0, NULL);
	json_object_set_new(x->data, "approve", json_boolean(approve));
	json_object_set_new(x->data, "workdays", json_integer(x->o.extension_requested));
	if (!approve)
		return 0;
	int64_t due;
	if (gz_sla_extend(x->c, x->o.resolve_due_at, x->o.extension_requested, &due, err))
		return -1;
	set_col(x, "resolve_due_at", 'i', due, NULL);
	gz_buf_addf(&x->set, ", extension_workdays = extension_workdays + %lld",
	            (long long)x->o.extension_requested);
	if (due > gz_now_ms())
		set_col(x, "overdue", 'i', 0, NULL);
	char buf[GZ_TIME_BUF];
	gz_time_format(due, buf, sizeof(buf));
	json_object_set_new(x->data, "resolve_due_at", json_string(buf));
	return 0;
}

static int add_co_handlers(struct gz_conn *c, int64_t order_id, const struct order *o, json_t *ids,
                           json_t *data, struct gz_err *err)
{
	if (!ids)
		return 0;
	if (!json_is_array(ids) || json_array_size(ids) > 16)
		return gz_fail_field(
		    err, GZ_E_VALIDATION, "co_handler_org_ids",
		    "co_handler_org_ids must be a list of up to 16 organisation ids");
	json_t *added = json_array();
	size_t i;
	json_t *v;
	int rc = 0;
	json_array_foreach(ids, i, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) <= 0) {
			rc = gz_fail_field(err, GZ_E_VALIDATION, "co_handler_org_ids",
			                   "co_handler_org_ids must hold organisation ids");
			break;
		}
		int64_t id = json_integer_value(v), n = 0;
		if (gz_query_i64(c, err, &n, "SELECT count(*) FROM orgs WHERE id = ?", "i", id) <
		    0) {
			rc = -1;
			break;
		}
		if (!n) {
			rc = gz_fail_field(err, GZ_E_VALIDATION, "co_handler_org_ids",
			                   "co_handler_org_ids: no organisation %lld",
			                   (long long)id);
			break;
		}
		if (id == o->handler_org_id)
			continue;
		if (gz_exec_args(c, err,
		                 "INSERT INTO work_order_handlers (work_order_id, org_id, role, "
		                 "added_at) VALUES (?, ?, 'co_handler', ?) ON CONFLICT DO NOTHING",
		                 "iii", order_id, id, gz_now_ms())) {
			rc = -1;
			break;
		}
		if (gz_changes(c))
			json_array_append_new(added, json_integer(id));
	}
	if (!rc)
		json_object_set_new(data, "co_handler_org_ids", json_incref(added));
	json_decref(added);
	return rc;
}

static int apply_escalate(struct act *x, struct gz_err *err)
{
	set_col(x, "escalated", 'i', 1, NULL);
	return add_co_handlers(x->c, x->o.id, &x->o, json_object_get(x->body, "co_handler_org_ids"),
	                       x->data, err);
}

static int apply_report(struct act *x, struct gz_err *err)
{
	const struct gz_account *a = x->r->acct;
	json_object_set_new(x->data, "org_id", json_integer(a->org_id));
	return gz_exec_args(x->c, err,
	                    "UPDATE work_order_handlers SET reported_at = ?, report_note = ? "
	                    "WHERE work_order_id = ? AND org_id = ?",
	                    "itii", gz_now_ms(), body_text(x, "note"), x->o.id, a->org_id);
}

static int apply_resolve(struct act *x, struct gz_err *err)
{
	const char *result = NULL;
	if (need_text(x, "result", 2000, &result, err))
		return -1;
	int64_t now = gz_now_ms();
	set_col(x, "resolved_at", 'i', now, NULL);
	set_col(x, "resolved_on_time", 'i', now <= x->o.resolve_due_at, NULL);
	json_object_set_new(x->data, "result", json_string(result));
	x->to = GZ_WO_RESOLVED;
	return 0;
}

static int apply_verify(struct act *x, struct gz_err *err)
{
	bool passed = false;
	if (need_bool(x, "passed", &passed, err))
		return -1;
	json_object_set_new(x->data, "passed", json_boolean(passed));
	if (passed) {
		set_col(x, "verified_at", 'i', gz_now_ms(), NULL);
		x->to = GZ_WO_VERIFIED;
	} else {
		/* back to the handler: the resolution did not hold */
		set_col(x, "resolved_at", 'n', 0, NULL);
		set_col(x, "resolved_on_time", 'n', 0, NULL);
		x->to = GZ_WO_IN_PROGRESS;
	}
	return 0;
}

static int apply_callback(struct act *x, struct gz_err *err)
{
	const char *sat = body_text(x, "satisfaction");
	bool ok = false, solved = false;
	for (const char *const *v = satisfactions; sat && *v; v++)
		ok |= strcmp(*v, sat) == 0;
	if (!ok)
		return gz_fail_field(err, GZ_E_VALIDATION, "satisfaction",
		                     "satisfaction must be satisfied, basically_satisfied or "
		                     "dissatisfied");
	if (need_bool(x, "solved", &solved, err))
		return -1;
	set_col(x, "satisfaction", 't', 0, sat);
	set_col(x, "solved", 'i', solved, NULL);
	set_col(x, "closed_at", 'i', gz_now_ms(), NULL);
	json_object_set_new(x->data, "satisfaction", json_string(sat));
	json_object_set_new(x->data, "solved", json_boolean(solved));
	x->to = GZ_WO_CLOSED;
	return 0;
}

static bool has_handler(const struct order *o)
{
	return o->handler_org_id || o->handler_unit_id;
}

static int apply_reopen(struct act *x, struct gz_err *err)
{
	int64_t hours, now = gz_now_ms();
	if (accept_hours(x, &hours, err))
		return -1;
	gz_buf_adds(&x->set, ", reopen_count = reopen_count + 1");
	static const char *const cleared[] = {
	    "accepted_at", "accepted_on_time", "resolved_at",  "resolved_on_time",
	    "verified_at", "closed_at",        "satisfaction", "solved"};
	for (size_t i = 0; i < GZ_ARRAY_LEN(cleared); i++)
		set_col(x, cleared[i], 'n', 0, NULL);
	set_col(x, "dispatched_at", 'i', now, NULL);
	set_col(x, "accept_due_at", 'i', now + hours * 3600000, NULL);
	x->to = GZ_WO_DISPATCHED;
	return 0;
}

static int apply_merge(struct act *x, struct gz_err *err)
{
	json_t *into = json_object_get(x->body, "into_id");
	if (!json_is_integer(into) || json_integer_value(into) <= 0)
		return gz_fail_field(err, GZ_E_VALIDATION, "into_id",
		                     "into_id must be an order id");
	int64_t id = json_integer_value(into);
	if (id == x->o.id)
		return gz_fail_field(err, GZ_E_VALIDATION, "into_id",
		                     "an order cannot be merged into itself");
	struct order target;
	if (order_load(x->c, id, &target, err) || !in_scope(x->r->acct, &target))
		return gz_fail_field(err, GZ_E_VALIDATION, "into_id", "into_id: no work order %lld",
		                     (long long)id);
	if (target.status == GZ_WO_MERGED || target.status == GZ_WO_CANCELLED)
		return gz_fail_field(err, GZ_E_VALIDATION, "into_id",
		                     "cannot merge into a %s order",
		                     gz_wo_status_names[target.status]);
	set_col(x, "merged_into_id", 'i', id, NULL);
	json_object_set_new(x->data, "into_id", json_integer(id));
	x->to = GZ_WO_MERGED;
	return 0;
}

static int apply_cancel(struct act *x, struct gz_err *err)
{
	const char *reason = NULL;
	if (need_text(x, "reason", 500, &reason, err))
		return -1;
	json_object_set_new(x->data, "reason", json_string(reason));
	x->to = GZ_WO_CANCELLED;
	return 0;
}

static int apply_comment(struct act *x, struct gz_err *err)
{
	const char *note = NULL;
	if (need_text(x, "note", 2000, &note, err))
		return -1;
	json_t *internal = json_object_get(x->body, "internal");
	if (internal && !json_is_boolean(internal))
		return gz_fail_field(err, GZ_E_VALIDATION, "internal",
		                     "internal must be true or false");
	if (json_is_true(internal) && !(x->r->acct->roles & (GZ_ROLES_STAFF | GZ_RB(GRID))))
		return gz_fail_field(err, GZ_E_FORBIDDEN, "internal",
		                     "only staff may write internal comments");
	return 0;
}

static const struct action actions[] = {
    {"dispatch",
     ST(NEW) | ST(RETURNED),
     staff,
     NULL,
     apply_dispatch,
     {"handler_org_id", "handler_unit_id", "note"}},
    {"accept", ST(DISPATCHED), handler, NULL, apply_accept, {"note"}},
    {"return", ST(DISPATCHED) | ST(ACCEPTED), handler, NULL, apply_return, {"reason", "note"}},
    {"start", ST(ACCEPTED), handler, NULL, apply_start, {"note"}},
    {"request_extension",
     ST(ACCEPTED) | ST(IN_PROGRESS),
     handler,
     before_deadline,
     apply_request_extension,
     {"workdays", "reason", "note"}},
    {"decide_extension",
     ST(ACCEPTED) | ST(IN_PROGRESS),
     extension_decider,
     extension_pending,
     apply_decide_extension,
     {"approve", "note"}},
    {"escalate", OPEN_STATES, staff, NULL, apply_escalate, {"note", "co_handler_org_ids"}},
    {"report", OPEN_STATES, pending_co_handler, NULL, apply_report, {"note"}},
    {"resolve", ST(ACCEPTED) | ST(IN_PROGRESS), handler, NULL, apply_resolve, {"note", "result"}},
    {"verify", ST(RESOLVED), verifier, NULL, apply_verify, {"passed", "note"}},
    {"callback", ST(VERIFIED), caller, NULL, apply_callback, {"satisfaction", "solved", "note"}},
    {"reopen", ST(CLOSED) | ST(VERIFIED), staff, has_handler, apply_reopen, {"note"}},
    {"merge", OPEN_STATES, staff, NULL, apply_merge, {"into_id", "note"}},
    {"cancel", ST(NEW) | ST(DISPATCHED), staff, NULL, apply_cancel, {"reason", "note"}},
    {"comment", ~0u, anyone, NULL, apply_comment, {"note", "internal"}},
};

static bool may(const struct action *ac, const struct gz_account *a, const struct order *o)
{
	return o->status >= 0 && (ac->from & (1u << o->status)) && (!ac->ready || ac->ready(o)) &&
	       ac->who(a, o);
}

static json_t *allowed_actions(const struct gz_account *a, const struct order *o)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < GZ_ARRAY_LEN(actions); i++)
		if (may(&actions[i], a, o))
			json_array_append_new(arr, json_string(actions[i].name));
	return arr;
}

/* ---- detail: the order with its timeline, handlers, attachments, actions ---- */

static bool sees_internal(const struct gz_account *a)
{
	return a->roles & (GZ_ROLES_STAFF | GZ_RB(GRID));
}

#define TIMELINE_DEFAULT 50
#define TIMELINE_MAX 500

/* The page of an order's timeline before the event before (0: from the newest): the
 * limit latest such events, oldest first as the whole timeline always was; *next is
 * the cursor ("c<id>") to the older ones, or 0 when these reach the first event.
 * Internal events count only for accounts that see them.  A detail shows one page so
 * that an order with thousands of events (a long dispute, a chatty integration)
 * costs what a short one costs. */
static json_t *timeline(struct gz_conn *c, int64_t id, bool internal, int64_t before, int64_t limit,
                        int64_t *next, struct gz_err *err)
{
	json_t *arr = json_array();
	*next = 0;
	struct gz_stmt *s = gz_stmt(c,
	                            "SELECT id, at, coalesce(actor_id, 0), actor_name, action, "
	                            "from_status, to_status, note, data, internal "
	                            "FROM work_order_events WHERE work_order_id = ? AND id < ? "
	                            "AND (? OR internal = 0) ORDER BY id DESC LIMIT ?",
	                            err);
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

static json_t *cursor_json(int64_t next)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "c%lld", (long long)next);
	return next ? json_string(buf) : json_null();
}

/* A page size from the query parameter name: 1..500, TIMELINE_DEFAULT when absent. */
static int page_limit(struct gz_req *r, const char *name, int64_t *limit, struct gz_err *err)
{
	const char *v = gz_req_query(r, name);
	*limit = TIMELINE_DEFAULT;
	if (v && (!gz_parse_i64(v, limit) || *limit < 1 || *limit > TIMELINE_MAX))
		return gz_fail_field(err, GZ_E_VALIDATION, name,
		                     "%s must be a whole number from 1 to %d", name, TIMELINE_MAX);
	return 0;
}

static json_t *handlers(struct gz_conn *c, int64_t id, json_t *order, struct gz_err *err)
{
	json_t *arr = json_array();
	int64_t horg = json_integer_value(json_object_get(order, "handler_org_id"));
	int64_t hunit = json_integer_value(json_object_get(order, "handler_unit_id"));
	const char *sql =
	    horg ? "SELECT name FROM orgs WHERE id = ?" : "SELECT name FROM units WHERE id = ?";
	if (horg || hunit) {
		struct gz_stmt *s = gz_stmt(c, sql, err);
		if (s) {
			gz_bind_i64(s, 1, horg ? horg : hunit);
			if (gz_step(s, err) == 1)
				json_array_append_new(
				    arr,
				    json_pack("{s:s,s:o,s:o,s:s}", "role", "handler", "org_id",
				              horg ? json_integer(horg) : json_null(), "unit_id",
				              hunit ? json_integer(hunit) : json_null(), "name",
				              gz_col_text(s, 0)));
			gz_stmt_done(s);
		}
	}
	struct gz_stmt *s =
	    gz_stmt(c,
	            "SELECT h.org_id, o.name, h.added_at, h.reported_at, "
	            "h.report_note FROM work_order_handlers h JOIN orgs o ON "
	            "o.id = h.org_id WHERE h.work_order_id = ? ORDER BY h.added_at, "
	            "h.org_id",
	            err);
	if (!s) {
		json_decref(arr);
		return NULL;
	}
	gz_bind_i64(s, 1, id);
	while (gz_step(s, err) == 1) {
		char added[GZ_TIME_BUF], rep[GZ_TIME_BUF];
		gz_time_format(gz_col_i64(s, 2), added, sizeof(added));
		bool reported = !gz_col_null(s, 3);
		if (reported)
			gz_time_format(gz_col_i64(s, 3), rep, sizeof(rep));
		json_array_append_new(
		    arr,
		    json_pack("{s:s,s:I,s:s,s:s,s:b,s:o,s:o}", "role", "co_handler", "org_id",
		              (json_int_t)gz_col_i64(s, 0), "name", gz_col_text(s, 1), "added_at",
		              added, "reported", reported, "reported_at",
		              reported ? json_string(rep) : json_null(), "report_note",
		              gz_col_null(s, 4) ? json_null() : json_string(gz_col_text(s, 4))));
	}
	gz_stmt_done(s);
	return arr;
}

static json_t *attachments(struct gz_conn *c, int64_t id, struct gz_err *err)
{
	json_t *arr = json_array();
	struct gz_stmt *s = gz_stmt(c,
	                            "SELECT id, content_type, size, filename, created_at FROM "
	                            "work_order_attachments WHERE work_order_id = ? ORDER BY id",
	                            err);
	if (!s)
		return arr;
	gz_bind_i64(s, 1, id);
	while (gz_step(s, err) == 1) {
		char at[GZ_TIME_BUF];
		gz_time_format(gz_col_i64(s, 4), at, sizeof(at));
		json_array_append_new(
		    arr,
		    json_pack("{s:I,s:s,s:I,s:o,s:s,s:s}", "id", (json_int_t)gz_col_i64(s, 0),
		              "content_type", gz_col_text(s, 1), "size",
		              (json_int_t)gz_col_i64(s, 2), "filename",
		              gz_col_null(s, 3) ? json_null() : json_string(gz_col_text(s, 3)),
		              "created_at", at, "url", gz_col_text(s, 0) /* replaced below */));
		json_t *last = json_array_get(arr, json_array_size(arr) - 1);
		char url[96];
		snprintf(url, sizeof(url), "/api/v1/work-orders/%lld/attachments/%lld",
		         (long long)id, (long long)gz_col_i64(s, 0));
		json_object_set_new(last, "url", json_string(url));
	}
	gz_stmt_done(s);
	return arr;
}

/* The full detail of a visible order (with the account's allowed actions). */
static json_t *detail(struct gz_req *r, struct gz_conn *c, int64_t id, bool scoped,
                      int64_t timeline_limit, struct gz_err *err)
{
	/* unscoped: after an action that took the order out of the actor's reach (a
	 * handler returning it), the actor still gets the result of what it did */
	json_t *o = gz_entity_load(&gz_work_order_entity, c, r->app, scoped ? r->acct : NULL, id,
	                           false, err);
	if (!o)
		return NULL;
	wo_decorate(c, o);
	struct order ord;
	int64_t next;
	json_t *tl = timeline(c, id, sees_internal(r->acct), 0, timeline_limit, &next, err);
	json_t *hs = tl ? handlers(c, id, o, err) : NULL;
	if (!tl || !hs || order_load(c, id, &ord, err)) {
		json_decref(tl);
		json_decref(hs);
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "timeline", tl);
	json_object_set_new(o, "timeline_next_cursor", cursor_json(next));
	json_object_set_new(o, "handlers", hs);
	json_object_set_new(o, "attachments", attachments(c, id, err));
	json_object_set_new(o, "allowed_actions", allowed_actions(r->acct, &ord));
	return o;
}

json_t *gz_work_order_visible(struct gz_req *r, struct gz_conn *c, int64_t id, struct gz_err *err)
{
	json_t *o = gz_entity_load(&gz_work_order_entity, c, r->app, r->acct, id, false, err);
	if (o)
		wo_decorate(c, o);
	return o;
}

static int get_handler(struct gz_req *r, struct gz_err *err)
{
	int64_t id, tl_limit;
	if (gz_req_id(r, "id", &id, err) || page_limit(r, "timeline_limit", &tl_limit, err))
		return -1;
	struct gz_conn *c = gz_db_reader(r->app->db);
	json_t *o = detail(r, c, id, true, tl_limit, err);
	gz_db_reader_done(r->app->db, c);
	if (!o)
		return -1;
	gz_reply_header(r, "ETag",
	                gz_sprintf(&r->arena, "\"%lld\"",
	                           (long long)json_integer_value(json_object_get(o, "version"))));
	return gz_reply_json(r, 200, o);
}

/* GET …/{id}/timeline?cursor=&limit=: a page of the timeline older than the cursor
 * (the detail's timeline_next_cursor), oldest first like the detail's; the same
 * scope as the detail (404 outside it). */
static int timeline_handler(struct gz_req *r, struct gz_err *err)
{
	int64_t id, limit, before = 0;
	if (gz_req_id(r, "id", &id, err) || page_limit(r, "limit", &limit, err))
		return -1;
	const char *cur = gz_req_query(r, "cursor");
	if (cur && *cur && (cur[0] != 'c' || !gz_parse_i64(cur + 1, &before) || before <= 0))
		return gz_fail_field(err, GZ_E_VALIDATION, "cursor",
		                     "cursor is not one this server returned");
	struct gz_conn *c = gz_db_reader(r->app->db);
	json_t *o = gz_work_order_visible(r, c, id, err), *items = NULL;
	int64_t next = 0;
	if (o)
		items = timeline(c, id, sees_internal(r->acct), before, limit, &next, err);
	gz_db_reader_done(r->app->db, c);
	json_decref(o);
	if (!items)
		return -1;
	return gz_reply_json(
	    r, 200, json_pack("{s:o,s:o}", "items", items, "next_cursor", cursor_json(next)));
}

/* The body's requester object becomes the flat requester_name/phone fields. */
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

/* ---- POST /work-orders/{id}/actions ---- */

struct action_job {
	struct gz_req *r;
	int64_t id;
	const struct action *action;
	int64_t timeline_limit; /* of the order in the reply */
};

static int action_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct action_job *j = ctx;
	struct gz_req *r = j->r;
	struct act x = {.r = r, .c = c, .body = r->body, .action = j->action, .to = -1};
	if (order_load(c, j->id, &x.o, err))
		return -1;
	if (!in_scope(r->acct, &x.o))
		return gz_entity_not_found(&gz_work_order_entity, j->id, err);
	if (!may(j->action, r->acct, &x.o)) {
		json_t *allowed = allowed_actions(r->acct, &x.o);
		char *text = gz_json_dump(allowed);
		json_decref(allowed);
		gz_fail(err, GZ_E_TRANSITION, "'%s' is not possible on a %s work order for you",
		        j->action->name, gz_wo_status_names[x.o.status]);
		snprintf(err->allowed, sizeof(err->allowed), "%s", text);
		free(text);
		return -1;
	}
	x.data = json_object();
	gz_buf_init(&x.set);
	int rc = daily_apply(c, j->id, -1, err);
	if (!rc)
		rc = j->action->apply(&x, err);
	if (!rc) {
		const char *from = gz_wo_status_names[x.o.status];
		const char *to = x.to >= 0 ? gz_wo_status_names[x.to] : NULL;
		struct gz_buf sql = GZ_BUF_INIT;
		gz_buf_adds(&sql, "UPDATE work_orders SET updated_at = ?, version = version + 1");
		if (to)
			gz_buf_adds(&sql, ", status = ?");
		gz_buf_add(&sql, x.set.data ? x.set.data : "", x.set.len);
		gz_buf_adds(&sql, " WHERE id = ?");
		struct gz_stmt *s = gz_stmt(c, sql.data, err);
		gz_buf_release(&sql);
		rc = -1;
		if (s) {
			int i = 1;
			gz_bind_i64(s, i++, gz_now_ms());
			if (to)
				gz_bind_text(s, i++, to);
			gz_args_bind(s, &x.args, i);
			gz_bind_i64(s, i + x.args.n, j->id);
			rc = gz_step(s, err) < 0 ? -1 : 0;
			gz_stmt_done(s);
		}
		const char *note = body_text(&x, "note");
		struct event ev = {j->id,
		                   r->acct,
		                   j->action->name,
		                   from,
		                   to,
		                   note,
		                   x.data,
		                   strcmp(j->action->name, "comment") == 0 &&
		                       json_is_true(json_object_get(r->body, "internal"))};
		if (!rc)
			rc = event_add(c, &ev, err);
		if (!rc)
			rc = daily_apply(c, j->id, 1, err);
		if (!rc) {
			json_t *sum =
			    json_pack("{s:s,s:s,s:o,s:O}", "action", j->action->name, "from", from,
			              "to", to ? json_string(to) : json_null(), "data", x.data);
			char *text = gz_json_dump(sum);
			json_decref(sum);
			struct gz_audit a = {r->acct, j->action->name, "work_order", j->id,
			                     text,    r->client};
			rc = gz_audit_append(c, &a, err);
			free(text);
		}
	}
	gz_buf_release(&x.set);
	json_decref(x.data);
	if (rc)
		return -1;
	json_t *o = detail(r, c, j->id, false, j->timeline_limit, err);
	if (!o)
		return -1;
	gz_reply_header(r, "ETag",
	                gz_sprintf(&r->arena, "\"%lld\"",
	                           (long long)json_integer_value(json_object_get(o, "version"))));
	return gz_reply_json(r, 200, o);
}

static int actions_handler(struct gz_req *r, struct gz_err *err)
{
	struct action_job j = {.r = r};
	if (gz_req_id(r, "id", &j.id, err) ||
	    page_limit(r, "timeline_limit", &j.timeline_limit, err))
		return -1;
	json_t *name = json_object_get(r->body, "action");
	if (!json_is_string(name))
		return gz_fail_field(err, GZ_E_VALIDATION, "action", "action is required");
	for (size_t i = 0; i < GZ_ARRAY_LEN(actions); i++)
		if (strcmp(actions[i].name, json_string_value(name)) == 0)
			j.action = &actions[i];
	if (!j.action)
		return gz_fail_field(err, GZ_E_VALIDATION, "action", "unknown action '%s'",
		                     json_string_value(name));
	const char *key;
	json_t *v;
	json_object_foreach(r->body, key, v)
	{
		bool ok = strcmp(key, "action") == 0;
		for (int k = 0; k < 6 && j.action->fields[k] && !ok; k++)
			ok = strcmp(j.action->fields[k], key) == 0;
		if (!ok)
			return gz_fail_field(err, GZ_E_UNKNOWN_FIELD, key,
			                     "unknown field '%s' for %s", key, j.action->name);
	}
	json_t *note = json_object_get(r->body, "note");
	if (note && !json_is_null(note) &&
	    (!json_is_string(note) || gz_utf8_len(json_string_value(note)) > 2000))
		return gz_fail_field(err, GZ_E_VALIDATION, "note",
		                     "note must be text of at most 2000 characters");
	return gz_req_write(r, action_fn, &j, sizeof(j), err);
}

/* ---- duplicates: open orders of the same category near the same place ---- */

static double distance_m(double lat1, double lng1, double lat2, double lng2)
{
	const double rad = 3.14159265358979323846 / 180, R = 6371000;
	double dlat = (lat2 - lat1) * rad, dlng = (lng2 - lng1) * rad;
	double a = sin(dlat / 2) * sin(dlat / 2) +
	           cos(lat1 * rad) * cos(lat2 * rad) * sin(dlng / 2) * sin(dlng / 2);
	return 2 * R * atan2(sqrt(a), sqrt(1 - a));
}

struct candidate {
	json_t *o;
	double dist; /* metres, or 1e12 when unknown */
	int64_t created;
};

static int cmp_candidate(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;
	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return x->created > y->created ? -1 : x->created < y->created;
}

/* Open orders like (category, unit, lat/lng) in the last 30 days, best first. */
static int similar(struct gz_req *r, struct gz_conn *c, int64_t self, const char *category,
                   int64_t unit_id, json_t *lat, json_t *lng, struct gz_err *err)
{
	char path[256], kind[32];
	int64_t community, subdistrict;
	if (gz_wo_unit_place(c, unit_id, path, sizeof(path), &community, &subdistrict, kind,
	                     sizeof(kind), err))
		return -1;
	/* the compound around a building, else the unit itself */
	char place[256];
	snprintf(place, sizeof(place), "%s", path);
	if (strcmp(kind, "building") == 0) {
		char *cut = place + strlen(place) - 1;
		while (cut > place && cut[-1] != '/')
			cut--;
		*cut = 0;
	}
	char end[256];
	gz_path_upper(place, end, sizeof(end));
	bool geo = json_is_number(lat) && json_is_number(lng);
	double la = geo ? json_number_value(lat) : 0, ln = geo ? json_number_value(lng) : 0;
	/* 200 m is about 0.0018 degrees of latitude; longitude shrinks with cos(lat) */
	double dla = 0.0019, dln = 0.0019 / fmax(cos(la * 3.14159265358979323846 / 180), 0.1);
	struct gz_buf sql = GZ_BUF_INIT;
	gz_buf_adds(
	    &sql, "SELECT id FROM work_orders t WHERE t.category_code = ? AND t.status IN " OPEN_SQL
	          " AND t.created_at >= ? AND t.id <> ? AND ((t.unit_path >= ? "
	          "AND t.unit_path < ?)");
	if (geo)
		gz_buf_adds(&sql, " OR (t.lat BETWEEN ? AND ? AND t.lng BETWEEN ? AND ?)");
	gz_buf_adds(&sql, ") ORDER BY t.id DESC LIMIT 200");
	struct gz_stmt *s = gz_stmt(c, sql.data, err);
	gz_buf_release(&sql);
	if (!s)
		return -1;
	gz_bind_text(s, 1, category);
	gz_bind_i64(s, 2, gz_now_ms() - 30LL * 86400000);
	gz_bind_i64(s, 3, self);
	gz_bind_text(s, 4, place);
	gz_bind_text(s, 5, end);
	if (geo) {
		gz_bind_double(s, 6, la - dla);
		gz_bind_double(s, 7, la + dla);
		gz_bind_double(s, 8, ln - dln);
		gz_bind_double(s, 9, ln + dln);
	}
	int64_t ids[200];
	int n = 0, rc;
	while (n < 200 && (rc = gz_step(s, err)) == 1)
		ids[n++] = gz_col_i64(s, 0);
	gz_stmt_done(s);
	struct candidate *cands = gz_alloc(&r->arena, sizeof(*cands) * (size_t)(n ? n : 1));
	int m = 0;
	for (int i = 0; i < n; i++) {
		struct gz_err ignore;
		json_t *o = gz_entity_load(&gz_work_order_entity, c, r->app, r->acct, ids[i], false,
		                           &ignore);
		if (!o)
			continue; /* outside the account's scope */
		wo_decorate(c, o);
		double d = 1e12;
		json_t *olat = json_object_get(o, "lat"), *olng = json_object_get(o, "lng");
		if (geo && json_is_number(olat) && json_is_number(olng))
			d = distance_m(la, ln, json_number_value(olat), json_number_value(olng));
		if (geo && d > 200 && d < 1e12) {
			/* outside the circle: keep it only when it is in the same place */
			const char *up = json_string_value(json_object_get(o, "unit_path"));
			if (!up || strncmp(up, place, strlen(place)) != 0) {
				json_decref(o);
				continue;
			}
		}
		int64_t created = 0;
		gz_time_parse(json_string_value(json_object_get(o, "created_at")), &created);
		if (d < 1e12)
			json_object_set_new(o, "distance_m", json_integer((json_int_t)round(d)));
		cands[m++] = (struct candidate){o, d, created};
	}
	qsort(cands, (size_t)m, sizeof(*cands), cmp_candidate);
	json_t *items = json_array();
	for (int i = 0; i < m; i++) {
		if (i < 20)
			json_array_append(items, cands[i].o);
		json_decref(cands[i].o);
	}
	return gz_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

static int similar_handler(struct gz_req *r, struct gz_err *err)
{
	int64_t id;
	if (gz_req_id(r, "id", &id, err))
		return -1;
	struct gz_conn *c = gz_db_reader(r->app->db);
	json_t *o = gz_work_order_visible(r, c, id, err);
	int rc = -1;
	if (o)
		rc = similar(r, c, id, json_string_value(json_object_get(o, "category_code")),
		             json_integer_value(json_object_get(o, "unit_id")),
		             json_object_get(o, "lat"), json_object_get(o, "lng"), err);
	json_decref(o);
	gz_db_reader_done(r->app->db, c);
	return rc;
}

/* GET /work-orders/similar?category_code=&unit_id=[&lat=&lng=]: before a create. */
static int similar_draft_handler(struct gz_req *r, struct gz_err *err)
{
	const char *cat = gz_req_query(r, "category_code"), *unit = gz_req_query(r, "unit_id");
	const char *lat = gz_req_query(r, "lat"), *lng = gz_req_query(r, "lng");
	int64_t unit_id;
	if (!cat || !*cat)
		return gz_fail_field(err, GZ_E_VALIDATION, "category_code",
		                     "category_code is required");
	if (!unit || !gz_parse_i64(unit, &unit_id) || unit_id <= 0)
		return gz_fail_field(err, GZ_E_VALIDATION, "unit_id", "unit_id must be a unit id");
	json_t *jl = NULL, *jg = NULL;
	if (lat || lng) {
		char *e1 = NULL, *e2 = NULL;
		double a = lat ? strtod(lat, &e1) : NAN, b = lng ? strtod(lng, &e2) : NAN;
		if (!lat || !lng || *e1 || *e2 || !(a >= -90 && a <= 90) ||
		    !(b >= -180 && b <= 180))
			return gz_fail_field(err, GZ_E_VALIDATION, lat ? "lng" : "lat",
			                     "lat and lng must be coordinates given together");
		jl = json_real(a);
		jg = json_real(b);
	}
	struct gz_conn *c = gz_db_reader(r->app->db);
	int rc = similar(r, c, 0, cat, unit_id, jl, jg, err);
	gz_db_reader_done(r->app->db, c);
	json_decref(jl);
	json_decref(jg);
	return rc;
}

/* ---- the SLA scanner ---- */

static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool running, stop;
	struct gz_app *app;
	_Atomic long long escalated;
} scanner = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static int scan_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	int *count = ctx;
	int64_t now = gz_now_ms();
	/* once per breach: a deadline already escalated is not escalated again, but an
	 * extended deadline that passes is a new breach */
	struct gz_stmt *s = gz_stmt(c,
	                            "SELECT id, status, resolve_due_at FROM work_orders WHERE "
	                            "status IN " RUNNING_SQL " AND resolve_due_at < ? AND "
	                            "(auto_escalated_due IS NULL OR auto_escalated_due <> "
	                            "resolve_due_at) ORDER BY resolve_due_at LIMIT 500",
	                            err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, now);
	int64_t ids[500], dues[500];
	char statuses[500][16];
	int n = 0, rc;
	while (n < 500 && (rc = gz_step(s, err)) == 1) {
		ids[n] = gz_col_i64(s, 0);
		snprintf(statuses[n], sizeof(statuses[n]), "%s", gz_col_text(s, 1));
		dues[n++] = gz_col_i64(s, 2);
	}
	gz_stmt_done(s);
	if (rc < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		char due[GZ_TIME_BUF];
		gz_time_format(dues[i], due, sizeof(due));
		json_t *data = json_pack("{s:s,s:s}", "reason", "overdue", "resolve_due_at", due);
		struct event ev = {ids[i], NULL,           "escalate", statuses[i],
		                   NULL,   "超期自动督办", data,       false};
		int r2 = gz_exec_args(c, err,
		                      "UPDATE work_orders SET overdue = 1, escalated = 1, "
		                      "auto_escalated_due = resolve_due_at, updated_at = ?, "
		                      "version = version + 1 WHERE id = ?",
		                      "ii", now, ids[i]);
		if (!r2)
			r2 = event_add(c, &ev, err);
		if (!r2) {
			char *sum = gz_json_dump(data);
			struct gz_audit a = {NULL,   "escalate", "work_order",
			                     ids[i], sum,        "sla-scanner"};
			r2 = gz_audit_append(c, &a, err);
			free(sum);
		}
		json_decref(data);
		if (r2)
			return -1;
	}
	*count = n;
	return 0;
}

static void *scanner_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&scanner.lock);
	while (!scanner.stop) {
		pthread_mutex_unlock(&scanner.lock);
		int count = 0;
		struct gz_err err;
		do {
			if (gz_db_write(scanner.app->db, scan_fn, &count, &err)) {
				gz_warn("SLA scan failed: %s", err.message);
				break;
			}
			scanner.escalated += count;
			if (count)
				gz_info("SLA scanner escalated %d overdue work order(s)", count);
		} while (count == 500);
		pthread_mutex_lock(&scanner.lock);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += scanner.app->cfg.sla_scan_seconds;
		if (!scanner.stop)
			pthread_cond_timedwait(&scanner.cond, &scanner.lock, &ts);
	}
	pthread_mutex_unlock(&scanner.lock);
	return NULL;
}

static int wo_start(struct gz_app *app, struct gz_err *err)
{
	scanner.app = app;
	scanner.stop = false;
	if (pthread_create(&scanner.thread, NULL, scanner_main, NULL))
		return gz_fail(err, GZ_E_INTERNAL, "cannot start the SLA scanner");
	scanner.running = true;
	return 0;
}

static void wo_stop(struct gz_app *app)
{
	(void)app;
	if (!scanner.running)
		return;
	pthread_mutex_lock(&scanner.lock);
	scanner.stop = true;
	pthread_cond_signal(&scanner.cond);
	pthread_mutex_unlock(&scanner.lock);
	pthread_join(scanner.thread, NULL);
	scanner.running = false;
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
	            (long long)scanner.escalated);
}

/* Brings the full-text index up to date with the orders the batch changed, before it
 * commits (migration 0003 says why): out with the text an order had in the index, in
 * with the text it has now.  One FTS5 segment per batch instead of one per order. */
static int fts_sync(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	(void)ctx;
	int64_t any = 0;
	if (gz_query_i64(c, err, &any, "SELECT EXISTS (SELECT 1 FROM work_orders_fts_pending)",
	                 "") < 0)
		return -1;
	if (!any)
		return 0;
	return gz_exec_args(c, err,
	                    "INSERT INTO work_orders_fts (work_orders_fts, rowid, title, "
	                    "description, address) SELECT 'delete', id, title, description, "
	                    "address FROM work_orders_fts_pending WHERE indexed = 1",
	                    "") ||
	               gz_exec_args(c, err,
	                            "INSERT INTO work_orders_fts (rowid, title, description, "
	                            "address) SELECT w.id, w.title, w.description, "
	                            "coalesce(w.address, '') FROM work_orders_fts_pending p "
	                            "JOIN work_orders w ON w.id = p.id ORDER BY p.id",
	                            "") ||
	               gz_exec_args(c, err, "DELETE FROM work_orders_fts_pending", "")
	           ? -1
	           : 0;
}

static int wo_init(struct gz_app *app, struct gz_err *err)
{
	(void)err;
	static struct gz_app *registered;
	if (registered != app) {
		gz_metrics_add_provider(wo_metrics, app);
		registered = app;
	}
	gz_db_on_batch_end(app->db, fts_sync, NULL);
	return 0;
}

static const char *const similar_params[] = {"category_code", "unit_id", "lat", "lng", NULL};

static const char *const timeline_params[] = {"timeline_limit", NULL};
static const char *const timeline_page_params[] = {"cursor", "limit", NULL};

static const struct gz_route routes[] = {
    {GZ_GET, "/api/v1/work-orders", gz_entity_list_handler, "work_orders.read", GZ_R_LIST,
     &gz_work_order_entity,
     "List work orders (filters: status list, category_code subtree, unit_id subtree, channel, "
     "handler_org_id, overdue, created_from, created_to, q full text)"},
    {GZ_POST, "/api/v1/work-orders", create_handler, "work_orders.create", GZ_R_JSON,
     &gz_work_order_entity, "File a work order"},
    {GZ_GET, "/api/v1/work-orders/similar", similar_draft_handler, "work_orders.read", 0, NULL,
     "Open orders like a draft (category_code, unit_id, lat, lng): duplicate hints",
     similar_params},
    {GZ_GET, "/api/v1/work-orders/{id}", get_handler, "work_orders.read", 0, &gz_work_order_entity,
     "A work order with its latest timeline events (timeline_limit, default 50; "
     "timeline_next_cursor for older ones), handlers and allowed actions",
     timeline_params},
    {GZ_PATCH, "/api/v1/work-orders/{id}", patch_handler, "work_orders.manage", GZ_R_JSON,
     &gz_work_order_entity, "Change an open work order's editable fields"},
    {GZ_POST, "/api/v1/work-orders/{id}/actions", actions_handler, "work_orders.read", GZ_R_JSON,
     NULL, "Take an action of the lifecycle (the order in the reply as the detail, timeline_limit)",
     timeline_params, .row = &gz_work_order_entity},
    {GZ_GET, "/api/v1/work-orders/{id}/timeline", timeline_handler, "work_orders.read", 0, NULL,
     "Older timeline events of a work order, oldest first (cursor from timeline_next_cursor, "
     "limit 1..500)",
     timeline_page_params, .row = &gz_work_order_entity},
    {GZ_GET, "/api/v1/work-orders/{id}/similar", similar_handler, "work_orders.read", 0, NULL,
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
    {NULL},
};

static const struct gz_entity *const entities[] = {&gz_work_order_entity, NULL};

const struct gz_module gz_work_orders_module = {"work_orders", routes,   perms,  entities,
                                                wo_init,       wo_start, wo_stop};
