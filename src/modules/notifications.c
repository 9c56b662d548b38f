/* notifications.c - the accounts' inboxes: writing notifications inside the write
 * that causes them (gz_notify_*, see notify.h), reading them (GET
 * /api/v1/notifications, keyset paging, newest first) and marking them read (POST
 * /api/v1/notifications/read), and the module that also serves the event stream
 * (notify_events.c) and runs the webhook (notify_webhook.c).  Owns the table
 * notifications.  An account only ever sees and marks its own rows: the account id
 * comes from the session, never from the request. */
#include "modules/notify.h"
#include "app.h"
#include "auth/auth.h"
#include "core/timefmt.h"
#include "core/util.h"
#include <stdlib.h>
#include <string.h>

int gz_roles_from_json_text(const char *text, unsigned *mask);

static int insert_one(struct gz_conn *c, int64_t user, const struct gz_notice_msg *m, int64_t now,
                      struct gz_err *err)
{
	struct gz_stmt *s =
	    gz_stmt(c,
	            "INSERT INTO notifications (user_id, kind, object_type, "
	            "object_id, title, body, created_at) SELECT id, ?, ?, ?, ?, ?, ? "
	            "FROM users WHERE id = ? AND disabled = 0",
	            err);
	if (!s)
		return -1;
	gz_bind_text(s, 1, m->kind);
	if (m->object_type)
		gz_bind_text(s, 2, m->object_type);
	else
		gz_bind_null(s, 2);
	if (m->object_id)
		gz_bind_i64(s, 3, m->object_id);
	else
		gz_bind_null(s, 3);
	gz_bind_text(s, 4, m->title);
	if (m->body)
		gz_bind_text(s, 5, m->body);
	else
		gz_bind_null(s, 5);
	gz_bind_i64(s, 6, now);
	gz_bind_i64(s, 7, user);
	int rc = gz_step(s, err);
	gz_stmt_done(s);
	if (rc < 0)
		return -1;
	/* the other nodes' event streams and webhook deliverer learn of it at the commit */
	return gz_changes(c) ? gz_db_signal(c, "notifications", err) : 0;
}

int gz_notify_users(struct gz_conn *c, const int64_t *users, int n, int64_t except,
                    const struct gz_notice_msg *m, struct gz_err *err)
{
	int64_t now = gz_now_ms();
	for (int i = 0; i < n; i++) {
		if (!users[i] || users[i] == except)
			continue;
		bool seen = false;
		for (int j = 0; j < i && !seen; j++)
			seen = users[j] == users[i];
		if (!seen && insert_one(c, users[i], m, now, err))
			return -1;
	}
	return 0;
}

/* Collects the ids a query yields (first column) into a growing array. */
static int collect(struct gz_stmt *s, int64_t **ids, int *n, const char *perm, struct gz_err *err)
{
	int rc, cap = 0;
	const struct gz_perm *p = perm ? gz_perm_find(perm) : NULL;
	while ((rc = gz_step(s, err)) == 1) {
		if (p) {
			unsigned mask = 0;
			gz_roles_from_json_text(gz_col_text(s, 1), &mask);
			if (!(mask & (p->roles | GZ_RB(ADMIN))))
				continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*ids = gz_xrealloc(*ids, (size_t)cap * sizeof(**ids));
		}
		(*ids)[(*n)++] = gz_col_i64(s, 0);
	}
	return rc < 0 ? -1 : 0;
}

static int notify_query(struct gz_conn *c, const char *sql, const char *text, int64_t num,
                        const char *perm, int64_t except, const struct gz_notice_msg *m,
                        struct gz_err *err)
{
	struct gz_stmt *s = gz_stmt(c, sql, err);
	if (!s)
		return -1;
	if (text)
		gz_bind_text(s, 1, text);
	else
		gz_bind_i64(s, 1, num);
	int64_t *ids = NULL;
	int n = 0;
	int rc = collect(s, &ids, &n, perm, err);
	gz_stmt_done(s);
	if (!rc)
		rc = gz_notify_users(c, ids, n, except, m, err);
	free(ids);
	return rc;
}

int gz_notify_org(struct gz_conn *c, int64_t org_id, int64_t except, const struct gz_notice_msg *m,
                  struct gz_err *err)
{
	if (!org_id)
		return 0;
	return notify_query(c, "SELECT id FROM users WHERE org_id = ? AND disabled = 0", NULL,
	                    org_id, NULL, except, m, err);
}

int gz_notify_unit_perm(struct gz_conn *c, const char *unit_path, const char *perm, int64_t except,
                        const struct gz_notice_msg *m, struct gz_err *err)
{
	if (!unit_path || !*unit_path)
		return 0;
	/* accounts whose unit's path is a prefix of the row's: the subtree holds it */
	return notify_query(c,
	                    "SELECT u.id, u.roles FROM users u JOIN units su ON su.id = u.unit_id "
	                    "WHERE u.disabled = 0 AND substr(?1, 1, length(su.path)) = su.path",
	                    unit_path, 0, perm, except, m, err);
}

/* ---- the inbox ---- */

json_t *gz_notice_json(struct gz_stmt *s, int f)
{
	char at[GZ_TIME_BUF];
	gz_time_format(gz_col_i64(s, f + 6), at, sizeof(at));
	return json_pack("{s:I,s:s,s:o,s:o,s:s,s:o,s:s,s:b}", "id", (json_int_t)gz_col_i64(s, f),
	                 "kind", gz_col_text(s, f + 1), "object_type",
	                 gz_col_null(s, f + 2) ? json_null() : json_string(gz_col_text(s, f + 2)),
	                 "object_id",
	                 gz_col_null(s, f + 3) ? json_null() : json_integer(gz_col_i64(s, f + 3)),
	                 "title", gz_col_text(s, f + 4), "body",
	                 gz_col_null(s, f + 5) ? json_null() : json_string(gz_col_text(s, f + 5)),
	                 "created_at", at, "read", !gz_col_null(s, f + 7));
}

static const char *const list_params[] = {"limit", "cursor", "unread", "count", NULL};

static int query_bool(const char *k, const char *v, bool *out, struct gz_err *err)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
		*out = v[0] == 't';
		return 0;
	}
	return gz_fail_field(err, GZ_E_VALIDATION, k, "%s must be true or false", k);
}

static int count_rows(struct gz_conn *c, int64_t user, bool unread, int64_t *n, struct gz_err *err)
{
	int rc = gz_query_i64(c, err, n,
	                      unread ? "SELECT count(*) FROM notifications WHERE user_id = ? AND "
	                               "read_at IS NULL"
	                             : "SELECT count(*) FROM notifications WHERE user_id = ?",
	                      "i", user);
	return rc < 0 ? -1 : 0;
}

static int list_handler(struct gz_req *r, struct gz_err *err)
{
	int64_t limit = 50, cursor = 0;
	bool unread = false, count = false;
	for (int i = 0; i < r->nquery; i++) {
		const char *k = r->query[i].key, *v = r->query[i].value;
		if (strcmp(k, "limit") == 0) {
			if (!gz_parse_i64(v, &limit) || limit < 1 || limit > 500)
				return gz_fail_field(err, GZ_E_VALIDATION, k,
				                     "limit must be a whole number from 1 to 500");
		} else if (strcmp(k, "cursor") == 0) {
			if (v[0] != 'c' || !gz_parse_i64(v + 1, &cursor) || cursor <= 0)
				return gz_fail_field(err, GZ_E_VALIDATION, k,
				                     "cursor is not one this server returned");
		} else if (query_bool(k, v, strcmp(k, "unread") == 0 ? &unread : &count, err)) {
			return -1;
		}
	}
	int64_t user = r->acct->id;
	struct gz_conn *c = gz_db_reader(r->app->db);
	struct gz_stmt *s =
	    gz_stmt(c,
	            unread ? "SELECT " GZ_NOTICE_COLS " FROM notifications WHERE user_id = ?1 AND "
	                     "read_at IS NULL AND id < ?2 ORDER BY id DESC LIMIT ?3"
	                   : "SELECT " GZ_NOTICE_COLS " FROM notifications WHERE user_id = ?1 AND "
	                     "id < ?2 ORDER BY id DESC LIMIT ?3",
	            err);
	json_t *items = json_array();
	int rc = -1, n = 0;
	int64_t last = 0, nunread = 0, total = 0;
	if (s) {
		gz_bind_i64(s, 1, user);
		gz_bind_i64(s, 2, cursor ? cursor : INT64_MAX);
		gz_bind_i64(s, 3, limit + 1);
		while ((rc = gz_step(s, err)) == 1) {
			if (n++ == limit)
				break;
			last = gz_col_i64(s, 0);
			json_array_append_new(items, gz_notice_json(s, 0));
		}
		gz_stmt_done(s);
	}
	if (rc >= 0)
		rc = count_rows(c, user, true, &nunread, err);
	if (rc >= 0 && count)
		rc = count_rows(c, user, unread, &total, err);
	gz_db_reader_done(r->app->db, c);
	if (rc < 0) {
		json_decref(items);
		return -1;
	}
	json_t *next =
	    n > limit ? json_string(gz_sprintf(&r->arena, "c%lld", (long long)last)) : json_null();
	json_t *out = json_pack("{s:o,s:o,s:I}", "items", items, "next_cursor", next, "unread",
	                        (json_int_t)nunread);
	if (count)
		json_object_set_new(out, "total", json_integer(total));
	return gz_reply_json(r, 200, out);
}

#define READ_IDS_MAX 500

struct mark_read {
	int64_t user, now;
	bool all;
	int64_t ids[READ_IDS_MAX];
	int n;
};

static int mark_read_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct mark_read *m = ctx;
	if (m->all)
		return gz_exec_args(c, err,
		                    "UPDATE notifications SET read_at = ? WHERE user_id = ? AND "
		                    "read_at IS NULL",
		                    "ii", m->now, m->user);
	/* another account's ids match no row: ignored, like ids that do not exist, so
	 * the reply says nothing about them */
	for (int i = 0; i < m->n; i++)
		if (gz_exec_args(
		        c, err,
		        "UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? "
		        "AND read_at IS NULL",
		        "iii", m->now, m->ids[i], m->user))
			return -1;
	return 0;
}

static int mark_read_after(struct gz_req *r, int rc, struct gz_err *err)
{
	return rc ? -1 : gz_reply_empty(r, 204);
}

static int read_handler(struct gz_req *r, struct gz_err *err)
{
	struct mark_read *m = gz_alloc(&r->arena, sizeof(*m));
	memset(m, 0, sizeof(*m));
	m->user = r->acct->id;
	m->now = gz_now_ms();
	const char *k;
	json_t *v, *ids = NULL, *all = NULL;
	json_object_foreach(r->body, k, v)
	{
		if (strcmp(k, "ids") == 0)
			ids = v;
		else if (strcmp(k, "all") == 0)
			all = v;
		else
			return gz_fail_field(err, GZ_E_UNKNOWN_FIELD, k, "unknown field '%s'", k);
	}
	if (all && !json_is_true(all))
		return gz_fail_field(err, GZ_E_VALIDATION, "all", "all must be true when sent");
	if (!all == !ids)
		return gz_fail_field(err, GZ_E_VALIDATION, ids ? "all" : "ids",
		                     "send either ids (a list of notification ids) or all: true");
	m->all = all != NULL;
	if (ids) {
		if (!json_is_array(ids) || json_array_size(ids) > READ_IDS_MAX)
			return gz_fail_field(err, GZ_E_VALIDATION, "ids",
			                     "ids must be a list of at most %d notification ids",
			                     READ_IDS_MAX);
		size_t i;
		json_array_foreach(ids, i, v)
		{
			if (!json_is_integer(v) || json_integer_value(v) <= 0)
				return gz_fail_field(err, GZ_E_VALIDATION, "ids",
				                     "ids must hold positive whole numbers");
			m->ids[m->n++] = json_integer_value(v);
		}
	}
	return gz_req_write_async(r, mark_read_fn, m, mark_read_after, err);
}

/* ---- the module ---- */

static const char *const event_params[] = {"once", NULL};

static const struct gz_route routes[] = {
    {GZ_GET, "/api/v1/notifications", list_handler, NULL, 0, NULL,
     "The account's notifications, newest first (unread=true, count=true); always the "
     "unread count",
     list_params},
    {GZ_POST, "/api/v1/notifications/read", read_handler, NULL, GZ_R_JSON | GZ_R_WRITE, NULL,
     "Mark the account's notifications read: {\"ids\":[…]} or {\"all\":true}"},
    {GZ_GET, "/api/v1/events", gz_events_handler, NULL, 0, NULL,
     "Server-Sent Events: one 'notification' event per new notification of the account "
     "(Last-Event-ID resumes; once=true ends after the backlog)",
     event_params},
    {0, NULL},
};

static int module_init(struct gz_app *app, struct gz_err *err)
{
	if (gz_events_init(app, err))
		return -1;
	return gz_webhook_init(app, err);
}

static int module_start(struct gz_app *app, struct gz_err *err)
{
	if (gz_events_start(app, err))
		return -1;
	return gz_webhook_start(app, err);
}

static void module_stop(struct gz_app *app)
{
	gz_webhook_stop(app);
	gz_events_stop(app);
}

const struct gz_module gz_notifications_module = {
    "notifications", routes, NULL, NULL, module_init, module_start, module_stop, gz_events_quiesce,
};
