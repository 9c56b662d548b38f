/* sla.c - SLA rules (an entity the admin maintains), the deadline arithmetic on
 * the working-day calendar of calendar.c, and the scanner that escalates work orders
 * past their deadline and warns their handlers before (notifications). */
#include "modules/sla.h"
#include "app.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "model/entity.h"
#include "modules/calendar.h"
#include "modules/work_order_internal.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
#define OFFSET_MS ((int64_t)GZ_SHANGHAI_OFFSET_MIN * 60000)

int gz_sla_rule(struct gz_conn *c, const char *category, const char *priority,
                int64_t *accept_hours, int64_t *resolve_workdays, struct gz_err *err)
{
	struct gz_stmt *s =
	    gz_stmt_memo(c,
	                 "SELECT accept_hours, resolve_workdays FROM sla_rules "
	                 "WHERE priority = ? AND substr(?, 1, length(category_code)) = "
	                 "category_code ORDER BY length(category_code) DESC LIMIT 1",
	                 err);
	if (!s)
		return -1;
	gz_bind_text(s, 1, priority);
	gz_bind_text(s, 2, category);
	int rc = gz_step(s, err);
	if (rc == 1) {
		*accept_hours = gz_col_i64(s, 0);
		*resolve_workdays = gz_col_i64(s, 1);
	}
	gz_stmt_done(s);
	if (rc == 0) {
		/* no rule at all for this priority: the national default */
		*accept_hours = 4;
		*resolve_workdays = 5;
	}
	return rc < 0 ? -1 : 0;
}

int gz_workdays_after(struct gz_conn *c, int64_t day, int64_t n, int64_t *out, struct gz_err *err)
{
	int64_t d = day, k = 0;
	while (k < n) {
		d++;
		int w = gz_calendar_is_workday(c, d, err);
		if (w < 0)
			return -1;
		k += w;
		if (d - day > 3660)
			return gz_fail(err, GZ_E_INTERNAL, "the calendar has no working days");
	}
	*out = d;
	return 0;
}

static int64_t end_of_day(int64_t day)
{
	return (day + 1) * DAY_MS - OFFSET_MS;
}

int gz_sla_deadlines(struct gz_conn *c, const char *category, const char *priority,
                     int64_t created_ms, int64_t *accept_due, int64_t *resolve_due,
                     struct gz_err *err)
{
	int64_t hours, days, last;
	if (gz_sla_rule(c, category, priority, &hours, &days, err) ||
	    gz_workdays_after(c, gz_shanghai_day(created_ms), days, &last, err))
		return -1;
	*accept_due = created_ms + hours * 3600000;
	*resolve_due = end_of_day(last);
	return 0;
}

int gz_sla_extend(struct gz_conn *c, int64_t resolve_due, int64_t n, int64_t *out,
                  struct gz_err *err)
{
	int64_t last;
	if (gz_workdays_after(c, gz_shanghai_day(resolve_due - 1), n, &last, err))
		return -1;
	*out = end_of_day(last);
	return 0;
}

static const char *const priorities[] = {"urgent", "high", "normal", "low", NULL};
static const char *const priority_labels[] = {"紧急", "高", "普通", "低", NULL};

static int sla_before_create(struct gz_write *w, struct gz_err *err)
{
	json_t *code = json_object_get(w->in, "category_code");
	if (!code) {
		json_object_set_new(w->in, "category_code", json_string(""));
		return 0;
	}
	int64_t n = 0;
	if (gz_query_i64(w->conn, err, &n,
	                 "SELECT count(*) FROM dict_entries WHERE type = 'category' AND code = ?",
	                 "t", json_string_value(code)) < 0)
		return -1;
	if (!n && *json_string_value(code))
		return gz_fail_field(err, GZ_E_VALIDATION, "category_code",
		                     "category_code: '%s' is not a category",
		                     json_string_value(code));
	return 0;
}

static const struct gz_field sla_fields[] = {
    {"category_code", GZ_T_TEXT, GZ_F_CREATE_ONLY | GZ_F_FILTER, 0, 32, .label = "分类编码前缀"},
    {"priority", GZ_T_ENUM, GZ_F_REQUIRED | GZ_F_CREATE_ONLY | GZ_F_FILTER, 0, 0, priorities,
     .label = "优先级", .value_labels = priority_labels},
    {"accept_hours", GZ_T_INT, GZ_F_REQUIRED, 1, 720, .label = "受理时限（小时）"},
    {"resolve_workdays", GZ_T_INT, GZ_F_REQUIRED, 1, 60, .label = "办结时限（工作日）"},
    {NULL},
};

static const struct gz_entity sla_entity = {
    .name = "sla_rule",
    .label = "时限规则",
    .table = "sla_rules",
    .fields = sla_fields,
    .perm_read = "sla.read",
    .perm_write = "sla.write",
    .global_read = true,
    .order_asc = true,
    .before_create = sla_before_create,
};

/* ---- the SLA scanner ----
 * A thread that every sla_scan_seconds escalates the work orders whose resolve
 * deadline has passed (once per deadline) and warns their handlers before. */

#define SCAN_BATCH 500

static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool running, stop;
	struct gz_app *app;
	struct gz_lease *lease; /* one node scans at a time */
	_Atomic long long escalated;
} scanner = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

/* The orders of a scan: running, with a deadline, not yet told about it. */
static int scan_ids(struct gz_conn *c, const char *sql, int nnow, int64_t now, int64_t *ids,
                    int64_t *dues, char (*statuses)[16], int *n, struct gz_err *err)
{
	struct gz_stmt *s = gz_stmt(c, sql, err);
	if (!s)
		return -1;
	for (int i = 1; i <= nnow; i++) /* every parameter is the time */
		gz_bind_i64(s, i, now);
	int rc = 0;
	*n = 0;
	while (*n < SCAN_BATCH && (rc = gz_step(s, err)) == 1) {
		ids[*n] = gz_col_i64(s, 0);
		snprintf(statuses[*n], sizeof(statuses[*n]), "%s", gz_col_text(s, 1));
		dues[(*n)++] = gz_col_i64(s, 2);
	}
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
}

/* Tells the handler of order id (the system is the sender: nobody is left out). */
static int notify_handler(struct gz_conn *c, int64_t id, const char *kind, const char *what,
                          struct gz_err *err)
{
	struct gz_wo_order o;
	if (gz_wo_order_load(c, id, &o, err))
		return -1;
	char title[256];
	snprintf(title, sizeof(title), "%s：%s %s", what, o.number, o.title);
	struct gz_notice_msg m = {kind, "work_order", id, title, NULL};
	return gz_wo_notify_handler(c, &o, 0, &m, err);
}

/* Before a breach: once 80% of the time from filing to the resolve deadline has passed,
 * the handler is told once per deadline (sla_warned_due, migration 0009, remembers it
 * across restarts; an extended deadline is a new one). */
static int warn_fn(struct gz_conn *c, int *count, struct gz_err *err)
{
	int64_t now = gz_now_ms(), ids[SCAN_BATCH], dues[SCAN_BATCH];
	char statuses[SCAN_BATCH][16];
	int n;
	if (scan_ids(c,
	             "SELECT id, status, resolve_due_at FROM work_orders WHERE status IN "
	             "('dispatched','accepted','in_progress') AND resolve_due_at >= ? "
	             "AND " GZ_SLA_WARN_SQL("created_at",
	                                    "resolve_due_at") " AND "
	                                                      "(sla_warned_due IS NULL OR "
	                                                      "sla_warned_due <> resolve_due_at) "
	                                                      "ORDER BY resolve_due_at LIMIT 500",
	             2, now, ids, dues, statuses, &n, err))
		return -1;
	for (int i = 0; i < n; i++)
		if (gz_exec_args(c, err, "UPDATE work_orders SET sla_warned_due = ? WHERE id = ?",
		                 "ii", dues[i], ids[i]) ||
		    notify_handler(c, ids[i], "work_order.sla_warning", "工单即将超期", err))
			return -1;
	*count = n;
	return 0;
}

struct scan_counts {
	int escalated, warned;
};

static int scan_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct scan_counts *count = ctx;
	int warned = 0;
	int64_t now = gz_now_ms(), ids[SCAN_BATCH], dues[SCAN_BATCH];
	char statuses[SCAN_BATCH][16];
	int n;
	/* once per breach: a deadline already escalated is not escalated again, but an
	 * extended deadline that passes is a new breach */
	if (scan_ids(c,
	             "SELECT id, status, resolve_due_at FROM work_orders WHERE "
	             "status IN " GZ_WO_RUNNING_SQL " AND resolve_due_at < ? AND "
	             "(auto_escalated_due IS NULL OR auto_escalated_due <> "
	             "resolve_due_at) ORDER BY resolve_due_at LIMIT 500",
	             1, now, ids, dues, statuses, &n, err))
		return -1;
	for (int i = 0; i < n; i++) {
		char due[GZ_TIME_BUF];
		gz_time_format(dues[i], due, sizeof(due));
		json_t *data = json_pack("{s:s,s:s}", "reason", "overdue", "resolve_due_at", due);
		struct gz_lc_event ev = {ids[i], NULL,           "escalate", statuses[i],
		                         NULL,   "超期自动督办", data,       false};
		int r2 = gz_exec_args(c, err,
		                      "UPDATE work_orders SET overdue = 1, escalated = 1, "
		                      "auto_escalated_due = resolve_due_at, updated_at = ?, "
		                      "version = version + 1 WHERE id = ?",
		                      "ii", now, ids[i]);
		if (!r2)
			r2 = gz_lifecycle_event(c, &gz_work_order_machine, &ev, err);
		if (!r2) {
			char *sum = gz_json_dump(data);
			struct gz_audit a = {NULL,   "escalate", "work_order",
			                     ids[i], sum,        "sla-scanner"};
			r2 = gz_audit_append(c, &a, err);
			free(sum);
		}
		if (!r2)
			r2 = notify_handler(c, ids[i], "work_order.sla_breach", "工单已超期", err);
		json_decref(data);
		if (r2)
			return -1;
	}
	if (warn_fn(c, &warned, err))
		return -1;
	count->escalated = n;
	count->warned = warned;
	return 0;
}

static void *scanner_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&scanner.lock);
	while (!scanner.stop) {
		pthread_mutex_unlock(&scanner.lock);
		struct scan_counts count;
		struct gz_err err;
		bool mine = gz_db_lease_hold(scanner.lease);
		do {
			if (!mine)
				break;
			count = (struct scan_counts){0, 0};
			if (gz_db_write(scanner.app->db, scan_fn, &count, &err)) {
				gz_warn("SLA scan failed: %s", err.message);
				break;
			}
			scanner.escalated += count.escalated;
			if (count.escalated || count.warned)
				gz_info("SLA scanner escalated %d overdue work order(s), warned %d",
				        count.escalated, count.warned);
		} while (count.escalated == SCAN_BATCH || count.warned == SCAN_BATCH);
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

static int sla_start(struct gz_app *app, struct gz_err *err)
{
	scanner.app = app;
	scanner.stop = false;
	scanner.lease = gz_db_lease(app->db, "sla-scanner");
	if (pthread_create(&scanner.thread, NULL, scanner_main, NULL)) {
		gz_db_lease_free(scanner.lease);
		return gz_fail(err, GZ_E_INTERNAL, "cannot start the SLA scanner");
	}
	scanner.running = true;
	return 0;
}

static void sla_stop(struct gz_app *app)
{
	(void)app;
	if (!scanner.running)
		return;
	pthread_mutex_lock(&scanner.lock);
	scanner.stop = true;
	pthread_cond_signal(&scanner.cond);
	pthread_mutex_unlock(&scanner.lock);
	pthread_join(scanner.thread, NULL);
	gz_db_lease_free(scanner.lease);
	scanner.lease = NULL;
	scanner.running = false;
}

long long gz_sla_escalations(void)
{
	return scanner.escalated;
}

static const struct gz_route routes[] = {
    GZ_ENTITY_ROUTE_EXPORT("/api/v1/sla-rules", &sla_entity, "sla.read",
                           "The SLA rules of the list's filters"),
    GZ_ENTITY_ROUTES("/api/v1/sla-rules", &sla_entity, "sla.read", "sla.write",
                     "SLA rules (filters: category_code, priority)",
                     "Add an SLA rule for a category prefix and priority", "Get an SLA rule",
                     "Change an SLA rule's hours or working days"),
    {0, NULL},
};

static const struct gz_perm perms[] = {
    {"sla.read", GZ_ROLES_ALL, "read SLA rules"},
    {"sla.write", GZ_RB(ADMIN), "maintain SLA rules"},
    {NULL},
};

static const struct gz_entity *const entities[] = {&sla_entity, NULL};

const struct gz_module gz_sla_module = {"sla", routes, perms, entities, NULL, sla_start, sla_stop};
