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

/* Loads an order the request's account may see (404 otherwise) as output JSON.
 * New reference. */
json_t *gz_work_order_visible(struct gz_req *r, struct gz_conn *c, int64_t id, struct gz_err *err);
/* Recomputes the daily aggregates from the orders (after bulk loads). */
int gz_work_orders_rebuild_daily(struct gz_conn *c, struct gz_err *err);
/* Loads about per_day orders a day for the last days days (the demo); returns the
 * number of orders or -1. */
int gz_work_orders_demo(struct gz_app *app, int days, int per_day, struct gz_err *err);

#endif
