/* work_order.h - work orders (工单): the 12345 lifecycle.  Other files of the module
 * (attachments, statistics, export) use these to find orders and check access. */
#ifndef GZ_WORK_ORDER_H
#define GZ_WORK_ORDER_H
#include "http/http.h"
#include "model/entity.h"

extern const struct gz_entity gz_work_order_entity;
extern const struct gz_module gz_work_orders_module;
extern const struct gz_module gz_work_order_files_module;
/* Statistics and the CSV export (work_order_stats.c). */
extern const struct gz_module gz_work_order_stats_module;

/* Statuses, in the order of the lifecycle. */
#define GZ_WO_STATUSES(X)                                                                          \
	X(NEW, "new")                                                                              \
	X(DISPATCHED, "dispatched")                                                                \
	X(ACCEPTED, "accepted")                                                                    \
	X(IN_PROGRESS, "in_progress")                                                              \
	X(RESOLVED, "resolved")                                                                    \
	X(VERIFIED, "verified")                                                                    \
	X(CLOSED, "closed")                                                                        \
	X(RETURNED, "returned")                                                                    \
	X(CANCELLED, "cancelled")                                                                  \
	X(MERGED, "merged")

enum gz_wo_status {
#define GZ_X(n, s) GZ_WO_##n,
	GZ_WO_STATUSES(GZ_X)
#undef GZ_X
	    GZ_WO_STATUS_COUNT
};
extern const char *const gz_wo_status_names[];
int gz_wo_status_parse(const char *s); /* -1 unknown */

/* ---- overdue and due soon: the one definition ----
 * An order is overdue while its resolve deadline runs (new, dispatched, accepted,
 * in progress, returned) and has passed, or while it has not been accepted (new,
 * dispatched, returned) and its accept deadline has passed.  It is due soon while it
 * runs, is not overdue, and a deadline it still has to meet is inside the warning
 * window of the SLA scanner (GZ_SLA_WARN_SQL: the last fifth of the time the
 * deadline allowed).  Every '?' is the current time in ms (bind it as often as
 * GZ_WO_OVERDUE_PARAMS / GZ_WO_DUE_SOON_PARAMS say), so that the list filter, the
 * list rows, the detail, the counts, the statistics and the exports compare with a
 * time the server chose, in portable SQL.  The row is "t" (work_orders). */
#define GZ_WO_RUNNING_STATES "('new','dispatched','accepted','in_progress','returned')"
#define GZ_WO_UNACCEPTED_STATES "('new','dispatched','returned')"
/* the last fifth of the time from start to due: the scanner's warning window */
#define GZ_SLA_WARN_SQL(start, due) "? >= " start " + (" due " - " start ") * 4 / 5"
#define GZ_WO_OVERDUE_COND                                                                         \
	"(t.status IN " GZ_WO_RUNNING_STATES                                                       \
	" AND (t.resolve_due_at < ? OR (t.status IN " GZ_WO_UNACCEPTED_STATES                      \
	" AND t.accept_due_at < ?)))"
#define GZ_WO_OVERDUE_PARAMS 2
/* 0 or 1, never NULL */
#define GZ_WO_OVERDUE_EXPR "(CASE WHEN " GZ_WO_OVERDUE_COND " THEN 1 ELSE 0 END)"
/* which deadline an overdue order missed: 'resolve' (the graver) or 'accept', NULL */
#define GZ_WO_OVERDUE_DEADLINE_EXPR                                                                \
	"(CASE WHEN t.status IN " GZ_WO_RUNNING_STATES " AND t.resolve_due_at < ? THEN "           \
	"'resolve' WHEN t.status IN " GZ_WO_UNACCEPTED_STATES " AND t.accept_due_at < ? THEN "     \
	"'accept' ELSE NULL END)"
#define GZ_WO_DUE_SOON_COND                                                                        \
	"(t.status IN " GZ_WO_RUNNING_STATES " AND " GZ_WO_OVERDUE_EXPR                            \
	" = 0 AND ((" GZ_SLA_WARN_SQL(                                                             \
	    "t.created_at",                                                                        \
	    "t.resolve_due_at") ") OR (t.status IN " GZ_WO_UNACCEPTED_STATES                       \
	                        " AND " GZ_SLA_WARN_SQL("coalesce(t.dispatched_at, t.created_at)", \
	                                                "t.accept_due_at") ")))"
#define GZ_WO_DUE_SOON_PARAMS (GZ_WO_OVERDUE_PARAMS + 2)
#define GZ_WO_DUE_SOON_EXPR "(CASE WHEN " GZ_WO_DUE_SOON_COND " THEN 1 ELSE 0 END)"
/* Appends " AND <cond>" (or " AND NOT" of it when !yes) of overdue (due_soon false)
 * or due soon (due_soon true) to where, binding now. */
void gz_wo_deadline_where(bool due_soon, bool yes, int64_t now, struct gz_buf *where,
                          struct gz_args *args);

/* Loads an order the request's account may see (404 otherwise) as output JSON.
 * New reference. */
json_t *gz_work_order_visible(struct gz_req *r, struct gz_conn *c, int64_t id, struct gz_err *err);
/* Recomputes the daily aggregates from the orders (after bulk loads). */
int gz_work_orders_rebuild_daily(struct gz_conn *c, struct gz_err *err);
/* Loads about per_day orders a day for the last days days (the demo); returns the
 * number of orders or -1. */
int gz_work_orders_demo(struct gz_app *app, int days, int per_day, struct gz_err *err);

#endif
