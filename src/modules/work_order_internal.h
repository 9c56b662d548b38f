/* work_order_internal.h - what the files of the work-order module share: the state
 * sets, the order as the lifecycle rules see it, the daily aggregates, the detail,
 * the full-text search and the duplicate hints.  Not for other modules (they use
 * work_order.h). */
#ifndef GZ_WORK_ORDER_INTERNAL_H
#define GZ_WORK_ORDER_INTERNAL_H
#include "model/lifecycle.h"
#include "modules/work_order.h"

/* co-handling organisations an order may have (escalate refuses more) */
#define GZ_WO_MAX_CO 32
#define GZ_WO_ST(n) (1u << GZ_WO_##n)
/* open: somebody still has to act */
#define GZ_WO_OPEN_STATES                                                                          \
	(GZ_WO_ST(NEW) | GZ_WO_ST(DISPATCHED) | GZ_WO_ST(ACCEPTED) | GZ_WO_ST(IN_PROGRESS) |       \
	 GZ_WO_ST(RESOLVED) | GZ_WO_ST(VERIFIED) | GZ_WO_ST(RETURNED))
#define GZ_WO_OPEN_SQL                                                                             \
	"('new','dispatched','accepted','in_progress','resolved','verified','returned')"
/* the resolve deadline runs in these */
#define GZ_WO_RUNNING_SQL GZ_WO_RUNNING_STATES

/* The order as the lifecycle rules see it (work_order_lifecycle.c). */
struct gz_wo_order {
	int64_t id;
	int status;
	int64_t handler_org_id, handler_unit_id;
	char handler_unit_path[256];
	char unit_path[256];
	int64_t accept_due_at, resolve_due_at, extension_workdays, extension_requested;
	int64_t requester_user_id, created_by, community_id;
	int64_t resident_rated_at; /* the requester's rating since the last closing, 0 none */
	char category[40], priority[16];
	char number[32], title[160];
	int64_t co_orgs[GZ_WO_MAX_CO];
	bool co_reported[GZ_WO_MAX_CO];
	int nco;
};
int gz_wo_order_load(struct gz_conn *c, int64_t id, void *row, struct gz_err *err);
extern const struct gz_machine gz_work_order_machine;
/* Notifies the order's handler: its organisation's accounts, or the staff of its
 * handling unit who hold work_orders.handle (except: an account left out, 0 none). */
int gz_wo_notify_handler(struct gz_conn *c, const struct gz_wo_order *o, int64_t except,
                         const struct gz_notice_msg *m, struct gz_err *err);

/* Adds (sign 1) or removes (sign -1) an order's contribution to its day's bucket. */
int gz_wo_daily_apply(struct gz_conn *c, int64_t id, int sign, struct gz_err *err);
/* The requester object of a row read on its own. */
void gz_wo_decorate(struct gz_conn *c, json_t *o);
/* Staff and grid workers see internal events and comments. */
bool gz_wo_sees_internal(const struct gz_account *a);

/* The detail's child lists of the entity: handler and co-handlers, attachments
 * (work_order_detail.c; the detail is gz_lifecycle_detail's). */
extern const struct gz_child_list gz_wo_children[];

/* q= of the list (work_order_search.c, the one backend-specific file; what q finds is
 * defined at its head): appends the condition and its arguments to where/args, and may
 * set o's driving join.  0, or -1 with err (a 400 naming q for bad text). */
int gz_wo_search_filter(struct gz_req *r, const char *value, struct gz_buf *where,
                        struct gz_args *args, struct gz_list_opts *o, struct gz_err *err);
/* Brings the search indexes (bigrams; FTS5 on SQLite) up to date before a batch
 * commits (gz_db_on_batch_end; ctx is the struct gz_db). */
int gz_wo_search_sync(struct gz_conn *c, void *ctx, struct gz_err *err);
/* While serving: indexes the orders older than the bigram index in a background
 * thread (small write jobs), stopped by gz_wo_search_stop(). */
int gz_wo_search_start(struct gz_app *app, struct gz_err *err);
/* After `gongzhi migrate-to`: every order onto the target's to-do list of the bigram
 * index (SQLite's is an FTS5 table, not copied), which the first server works off. */
int gz_wo_search_after_copy(struct gz_conn *c, struct gz_err *err);
void gz_wo_search_stop(struct gz_app *app);

/* Duplicate hints (work_order_similar.c). */
int gz_wo_similar_handler(struct gz_req *r, struct gz_err *err);
int gz_wo_similar_draft_handler(struct gz_req *r, struct gz_err *err);

/* The next human number for an order filed at `at` (GZ + Shanghai day + sequence). */
int gz_wo_number(struct gz_conn *c, int64_t at, char *out, size_t cap, struct gz_err *err);

#endif
