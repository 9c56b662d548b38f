/* work_order_lifecycle.c - the work orders' state machine as rows of the lifecycle
 * engine (src/model/lifecycle.h) and its business rules: who handles an order, what
 * each action changes besides the status (deadlines, handlers, co-handlers,
 * extensions, callbacks), and whom each action notifies.  The endpoint, validation,
 * timeline, audit, 409s and notification delivery are the engine's. */
#include "core/timefmt.h"
#include "core/util.h"
#include "modules/sla.h"
#include "modules/units.h"
#include "modules/work_order_internal.h"
#include <stdio.h>
#include <string.h>

#define ST GZ_WO_ST

static const char *const satisfactions[] = {"satisfied", "basically_satisfied", "dissatisfied",
                                            NULL};
static const char *const return_reasons[] = {"wrong_area", "unclear_ownership", "overlapping_duty",
                                             "other", NULL};

/* ---- the order as the actions see it ---- */

int gz_wo_order_load(struct gz_conn *c, int64_t id, void *row, struct gz_err *err)
{
	struct gz_wo_order *o = row;
	memset(o, 0, sizeof(*o));
	struct gz_stmt *s = gz_stmt(
	    c,
	    "SELECT w.status, coalesce(w.handler_org_id, 0), coalesce(w.handler_unit_id, 0), "
	    "coalesce(hu.path, ''), w.unit_path, coalesce(w.accept_due_at, 0), "
	    "coalesce(w.resolve_due_at, 0), w.extension_workdays, "
	    "coalesce(w.extension_requested, 0), coalesce(w.requester_user_id, 0), "
	    "coalesce(w.created_by, 0), w.category_code, w.priority, w.number, w.title, "
	    "w.community_id, coalesce(w.resident_rated_at, 0) FROM work_orders w "
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
		snprintf(o->number, sizeof(o->number), "%s", gz_col_text(s, 13));
		snprintf(o->title, sizeof(o->title), "%s", gz_col_text(s, 14));
		o->community_id = gz_col_i64(s, 15);
		o->resident_rated_at = gz_col_i64(s, 16);
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
	while (o->nco < GZ_WO_MAX_CO && (rc = gz_step(s, err)) == 1) {
		o->co_orgs[o->nco] = gz_col_i64(s, 0);
		o->co_reported[o->nco] = gz_col_i64(s, 1);
		o->nco++;
	}
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
}

static int order_state(const void *row)
{
	return ((const struct gz_wo_order *)row)->status;
}

/* ---- who may act: the relations of an account to an order ---- */

static bool in_scope(const struct gz_account *a, const struct gz_wo_order *o)
{
	struct gz_row_scope sc = {o->unit_path,
	                          o->handler_org_id,
	                          o->requester_user_id,
	                          o->co_orgs,
	                          o->nco,
	                          o->created_by,
	                          NULL};
	sc.unit_path2 = o->handler_unit_path[0] ? o->handler_unit_path : NULL;
	return gz_scope_check(a, "work_orders.read", &sc, true, NULL) == 0;
}

static bool handles(const struct gz_account *a, const struct gz_wo_order *o)
{
	if (a->roles & GZ_RB(ADMIN))
		return o->handler_org_id || o->handler_unit_id;
	if (o->handler_org_id && a->org_id == o->handler_org_id)
		return true;
	/* a department or unit handles: its staff do */
	return o->handler_unit_id && (a->roles & GZ_ROLES_STAFF) && a->unit_path[0] &&
	       strncmp(o->handler_unit_path, a->unit_path, strlen(a->unit_path)) == 0;
}

static bool pending_co_handler(const struct gz_account *a, const struct gz_wo_order *o)
{
	for (int i = 0; a->org_id && i < o->nco; i++)
		if (o->co_orgs[i] == a->org_id)
			return !o->co_reported[i];
	return false;
}

static bool relation(unsigned rel, const struct gz_account *a, const void *row)
{
	const struct gz_wo_order *o = row;
	switch (rel) {
	case GZ_LC_SCOPE:
		return in_scope(a, o);
	case GZ_LC_HANDLER:
		return handles(a, o);
	case GZ_LC_CO_HANDLER:
		return pending_co_handler(a, o);
	case GZ_LC_OWNER:
		/* the requester's own account: a resident who filed the order for themself */
		return a->id && o->requester_user_id == a->id;
	default:
		return false;
	}
}

/* ---- preconditions ---- */

static bool before_deadline(const void *row)
{
	const struct gz_wo_order *o = row;
	return gz_now_ms() < o->resolve_due_at && !o->extension_requested;
}

static bool extension_pending(const void *row)
{
	return ((const struct gz_wo_order *)row)->extension_requested > 0;
}

static bool has_handler(const void *row)
{
	const struct gz_wo_order *o = row;
	return o->handler_org_id || o->handler_unit_id;
}

static bool not_rated(const void *row)
{
	return !((const struct gz_wo_order *)row)->resident_rated_at;
}

/* ---- the rules ---- */

#define ORDER(x) ((struct gz_wo_order *)(x)->row)

static int accept_hours(struct gz_lc_ctx *x, int64_t *hours, struct gz_err *err)
{
	int64_t days;
	return gz_sla_rule(x->c, ORDER(x)->category, ORDER(x)->priority, hours, &days, err);
}

static json_t *body(struct gz_lc_ctx *x, const char *name)
{
	return json_object_get(x->body, name);
}

static int apply_dispatch(struct gz_lc_ctx *x, struct gz_err *err)
{
	json_t *org = body(x, "handler_org_id"), *unit = body(x, "handler_unit_id");
	if (!org == !unit)
		return gz_fail_field(err, GZ_E_VALIDATION,
		                     org ? "handler_unit_id" : "handler_org_id",
		                     "give exactly one of handler_org_id and handler_unit_id");
	int64_t v = json_integer_value(org ? org : unit), hours;
	if (accept_hours(x, &hours, err))
		return -1;
	gz_lc_set(x, "handler_org_id", org ? 'i' : 'n', v, NULL);
	gz_lc_set(x, "handler_unit_id", unit ? 'i' : 'n', v, NULL);
	if (unit) {
		/* SET expressions see the old row: name the new unit explicitly */
		gz_buf_adds(&x->set, ", handler_unit_path = (SELECT path FROM units WHERE id = ?)");
		gz_args_i64(&x->args, v);
	} else
		gz_lc_set(x, "handler_unit_path", 'n', 0, NULL);
	gz_lc_set(x, "dispatched_at", 'i', x->now, NULL);
	gz_lc_set(x, "accept_due_at", 'i', x->now + hours * 3600000, NULL);
	gz_lc_set(x, "accepted_at", 'n', 0, NULL);
	gz_lc_set(x, "accepted_on_time", 'n', 0, NULL);
	json_object_set_new(x->data, org ? "handler_org_id" : "handler_unit_id", json_integer(v));
	return 0;
}

static int apply_accept(struct gz_lc_ctx *x, struct gz_err *err)
{
	(void)err;
	gz_lc_set(x, "accepted_at", 'i', x->now, NULL);
	gz_lc_set(x, "accepted_on_time", 'i', x->now <= ORDER(x)->accept_due_at, NULL);
	return 0;
}

static int apply_return(struct gz_lc_ctx *x, struct gz_err *err)
{
	(void)err;
	const char *reason = json_string_value(body(x, "reason"));
	gz_buf_adds(&x->set, ", return_count = return_count + 1");
	gz_lc_set(x, "return_reason", 't', 0, reason);
	gz_lc_set(x, "handler_org_id", 'n', 0, NULL);
	gz_lc_set(x, "handler_unit_id", 'n', 0, NULL);
	gz_lc_set(x, "handler_unit_path", 'n', 0, NULL);
	json_object_set_new(x->data, "reason", json_string(reason));
	if (ORDER(x)->handler_org_id)
		json_object_set_new(x->data, "returned_by_org_id",
		                    json_integer(ORDER(x)->handler_org_id));
	return 0;
}

static int apply_request_extension(struct gz_lc_ctx *x, struct gz_err *err)
{
	int64_t n = json_integer_value(body(x, "workdays"));
	if (ORDER(x)->extension_workdays + n > 15)
		return gz_fail_field(err, GZ_E_VALIDATION, "workdays",
		                     "extensions may total 15 working days; %lld are left",
		                     (long long)(15 - ORDER(x)->extension_workdays));
	gz_lc_set(x, "extension_requested", 'i', n, NULL);
	json_object_set_new(x->data, "workdays", json_integer(n));
	json_object_set(x->data, "reason", body(x, "reason"));
	return 0;
}

static int apply_decide_extension(struct gz_lc_ctx *x, struct gz_err *err)
{
	bool approve = json_integer_value(body(x, "approve"));
	int64_t n = ORDER(x)->extension_requested;
	gz_lc_set(x, "extension_requested", 'n', 0, NULL);
	json_object_set_new(x->data, "approve", json_boolean(approve));
	json_object_set_new(x->data, "workdays", json_integer(n));
	if (!approve)
		return 0;
	int64_t due;
	if (gz_sla_extend(x->c, ORDER(x)->resolve_due_at, n, &due, err))
		return -1;
	gz_lc_set(x, "resolve_due_at", 'i', due, NULL);
	gz_buf_addf(&x->set, ", extension_workdays = extension_workdays + %lld", (long long)n);
	if (due > x->now)
		gz_lc_set(x, "overdue", 'i', 0, NULL);
	char buf[GZ_TIME_BUF];
	gz_time_format(due, buf, sizeof(buf));
	json_object_set_new(x->data, "resolve_due_at", json_string(buf));
	return 0;
}

/* co_handler_org_ids (a reference list the engine has validated: ids of organisations
 * that exist, at most 16, none twice) join the order's co-handlers; the handler itself
 * is not its own co-handler. */
static int apply_escalate(struct gz_lc_ctx *x, struct gz_err *err)
{
	gz_lc_set(x, "escalated", 'i', 1, NULL);
	json_t *ids = body(x, "co_handler_org_ids");
	if (!ids)
		return 0;
	json_t *added = json_array();
	json_object_set_new(x->data, "co_handler_org_ids", added);
	size_t i;
	json_t *v;
	json_array_foreach(ids, i, v)
	{
		int64_t id = json_integer_value(v);
		if (id == ORDER(x)->handler_org_id)
			continue;
		if (gz_exec_args(x->c, err,
		                 "INSERT INTO work_order_handlers (work_order_id, org_id, role, "
		                 "added_at) VALUES (?, ?, 'co_handler', ?) ON CONFLICT DO NOTHING",
		                 "iii", x->id, id, x->now))
			return -1;
		if (gz_changes(x->c))
			json_array_append_new(added, json_integer(id));
	}
	/* the order carries at most GZ_WO_MAX_CO co-handlers: the relation checks read them
	 * all (order_load), so they agree with the list scope's subquery */
	int64_t total = 0;
	if (gz_query_i64(x->c, err, &total,
	                 "SELECT count(*) FROM work_order_handlers WHERE work_order_id = ?", "i",
	                 x->id) < 0)
		return -1;
	if (total > GZ_WO_MAX_CO)
		return gz_fail_field(err, GZ_E_VALIDATION, "co_handler_org_ids",
		                     "an order has at most %d co-handling organisations",
		                     GZ_WO_MAX_CO);
	return 0;
}

static int apply_report(struct gz_lc_ctx *x, struct gz_err *err)
{
	json_object_set_new(x->data, "org_id", json_integer(x->acct->org_id));
	return gz_exec_args(x->c, err,
	                    "UPDATE work_order_handlers SET reported_at = ?, report_note = ? "
	                    "WHERE work_order_id = ? AND org_id = ?",
	                    "itii", x->now, x->note, x->id, x->acct->org_id);
}

static int apply_resolve(struct gz_lc_ctx *x, struct gz_err *err)
{
	(void)err;
	gz_lc_set(x, "resolved_at", 'i', x->now, NULL);
	gz_lc_set(x, "resolved_on_time", 'i', x->now <= ORDER(x)->resolve_due_at, NULL);
	json_object_set(x->data, "result", body(x, "result"));
	return 0;
}

static int apply_verify(struct gz_lc_ctx *x, struct gz_err *err)
{
	(void)err;
	bool passed = json_integer_value(body(x, "passed"));
	json_object_set_new(x->data, "passed", json_boolean(passed));
	if (passed) {
		gz_lc_set(x, "verified_at", 'i', x->now, NULL);
		x->to = GZ_WO_VERIFIED;
		x->notify = 0;
	} else {
		/* back to the handler: the resolution did not hold */
		gz_lc_set(x, "resolved_at", 'n', 0, NULL);
		gz_lc_set(x, "resolved_on_time", 'n', 0, NULL);
		x->to = GZ_WO_IN_PROGRESS;
	}
	return 0;
}

static int apply_callback(struct gz_lc_ctx *x, struct gz_err *err)
{
	(void)err;
	const char *sat = json_string_value(body(x, "satisfaction"));
	bool solved = json_integer_value(body(x, "solved"));
	gz_lc_set(x, "satisfaction", 't', 0, sat);
	gz_lc_set(x, "solved", 'i', solved, NULL);
	gz_lc_set(x, "closed_at", 'i', x->now, NULL);
	json_object_set_new(x->data, "satisfaction", json_string(sat));
	json_object_set_new(x->data, "solved", json_boolean(solved));
	/* the handler hears of a dissatisfied requester (a reopen may follow) */
	if (strcmp(sat, "dissatisfied") != 0)
		x->notify = 0;
	return 0;
}

static int apply_reopen(struct gz_lc_ctx *x, struct gz_err *err)
{
	int64_t hours;
	if (accept_hours(x, &hours, err))
		return -1;
	gz_buf_adds(&x->set, ", reopen_count = reopen_count + 1");
	static const char *const cleared[] = {
	    "accepted_at", "accepted_on_time", "resolved_at", "resolved_on_time", "verified_at",
	    "closed_at",   "satisfaction",     "solved",      "resident_rated_at"};
	for (size_t i = 0; i < GZ_ARRAY_LEN(cleared); i++)
		gz_lc_set(x, cleared[i], 'n', 0, NULL);
	gz_lc_set(x, "dispatched_at", 'i', x->now, NULL);
	gz_lc_set(x, "accept_due_at", 'i', x->now + hours * 3600000, NULL);
	return 0;
}

/* The requester's own word on a closed order: it takes the place of the callback's
 * answer (satisfaction, solved: the statistics count it), once per closing.  "Not
 * solved" follows the callback's rules for an unsolved order: the order goes back to
 * its handler as a reopen would (reopen_count, fresh accept deadline), and the
 * handler is told; a dissatisfied but solved answer is told to the handler too. */
static int apply_rate(struct gz_lc_ctx *x, struct gz_err *err)
{
	const char *sat = json_string_value(body(x, "satisfaction"));
	bool solved = json_integer_value(body(x, "solved"));
	json_object_set_new(x->data, "satisfaction", json_string(sat));
	json_object_set_new(x->data, "solved", json_boolean(solved));
	if (!solved) {
		if (!has_handler(x->row)) {
			x->to = GZ_WO_RETURNED; /* nobody to send it back to: to the dispatcher */
			gz_lc_set(x, "closed_at", 'n', 0, NULL);
			gz_lc_set(x, "satisfaction", 'n', 0, NULL);
			gz_lc_set(x, "solved", 'n', 0, NULL);
			x->notify = GZ_LC_N_DISPATCHER;
			return 0;
		}
		x->to = GZ_WO_DISPATCHED;
		json_object_set_new(x->data, "reopened", json_true());
		return apply_reopen(x, err);
	}
	gz_lc_set(x, "satisfaction", 't', 0, sat);
	gz_lc_set(x, "solved", 'i', 1, NULL);
	gz_lc_set(x, "resident_rated_at", 'i', x->now, NULL);
	if (strcmp(sat, "dissatisfied") != 0)
		x->notify = 0;
	return 0;
}

static int apply_merge(struct gz_lc_ctx *x, struct gz_err *err)
{
	int64_t id = json_integer_value(body(x, "into_id"));
	if (id == x->id)
		return gz_fail_field(err, GZ_E_VALIDATION, "into_id",
		                     "an order cannot be merged into itself");
	struct gz_wo_order target;
	if (gz_wo_order_load(x->c, id, &target, err) || !in_scope(x->acct, &target))
		return gz_fail_field(err, GZ_E_VALIDATION, "into_id", "into_id: no work order %lld",
		                     (long long)id);
	if (target.status == GZ_WO_MERGED || target.status == GZ_WO_CANCELLED)
		return gz_fail_field(err, GZ_E_VALIDATION, "into_id",
		                     "cannot merge into a %s order",
		                     gz_wo_status_names[target.status]);
	gz_lc_set(x, "merged_into_id", 'i', id, NULL);
	json_object_set_new(x->data, "into_id", json_integer(id));
	return 0;
}

static int apply_cancel(struct gz_lc_ctx *x, struct gz_err *err)
{
	(void)err;
	json_object_set(x->data, "reason", body(x, "reason"));
	return 0;
}

static int apply_comment(struct gz_lc_ctx *x, struct gz_err *err)
{
	x->internal = json_integer_value(body(x, "internal")) != 0;
	if (x->internal && !gz_wo_sees_internal(x->acct))
		return gz_fail_field(err, GZ_E_FORBIDDEN, "internal",
		                     "only staff may write internal comments");
	/* an internal comment is for staff: the requester is not told of it */
	if (x->internal)
		x->notify = 0;
	return 0;
}

/* ---- the rows ---- */

static const struct gz_field f_dispatch[] = {
    {"handler_org_id", GZ_T_INT, 0, 0, 0, NULL, NULL, &gz_org_entity},
    {"handler_unit_id", GZ_T_INT, 0, 0, 0, NULL, NULL, &gz_unit_entity},
    {NULL}};
static const struct gz_field f_return[] = {
    {"reason", GZ_T_ENUM, GZ_F_REQUIRED, 0, 0, return_reasons}, {NULL}};
static const struct gz_field f_request_extension[] = {{"workdays", GZ_T_INT, GZ_F_REQUIRED, 1, 15},
                                                      {"reason", GZ_T_TEXT, GZ_F_REQUIRED, 1, 500},
                                                      {NULL}};
static const struct gz_field f_decide_extension[] = {{"approve", GZ_T_BOOL, GZ_F_REQUIRED}, {NULL}};
/* organisations called in ("whistle-blowing"): any registered one, whatever the
 * caller's unit (a district department answers a community's call), so the reference
 * is checked for existence, not against the caller's scope; no child table of its
 * own (apply_escalate adds them to work_order_handlers, which the detail shows) */
static const struct gz_field f_escalate[] = {
    {"co_handler_org_ids", GZ_T_REFS, 0, 0, 16, .ref = &gz_org_entity}, {NULL}};
static const struct gz_field f_resolve[] = {{"result", GZ_T_TEXT, GZ_F_REQUIRED, 1, 2000}, {NULL}};
static const struct gz_field f_verify[] = {{"passed", GZ_T_BOOL, GZ_F_REQUIRED}, {NULL}};
static const struct gz_field f_callback[] = {
    {"satisfaction", GZ_T_ENUM, GZ_F_REQUIRED, 0, 0, satisfactions},
    {"solved", GZ_T_BOOL, GZ_F_REQUIRED},
    {NULL}};
static const struct gz_field f_rate[] = {
    {"satisfaction", GZ_T_ENUM, GZ_F_REQUIRED, 0, 0, satisfactions},
    {"solved", GZ_T_BOOL, GZ_F_REQUIRED},
    {NULL}};
static const struct gz_field f_merge[] = {{"into_id", GZ_T_INT, GZ_F_REQUIRED, 1, INT64_MAX},
                                          {NULL}};
static const struct gz_field f_cancel[] = {{"reason", GZ_T_TEXT, GZ_F_REQUIRED, 1, 500}, {NULL}};
static const struct gz_field f_comment[] = {{"internal", GZ_T_BOOL}, {NULL}};

#define MANAGE "work_orders.manage"
#define HANDLE "work_orders.handle"
#define S GZ_LC_SCOPE
#define H GZ_LC_HANDLER

/* Whom each action notifies is listed in README.md (Notifications). */
static const struct gz_lc_action actions[] = {
    {"dispatch", ST(NEW) | ST(RETURNED), GZ_WO_DISPATCHED, MANAGE, S, NULL, f_dispatch,
     apply_dispatch, GZ_LC_N_HANDLER, "新工单派发给你们", true},
    {"accept", ST(DISPATCHED), GZ_WO_ACCEPTED, HANDLE, H, NULL, NULL, apply_accept, 0, NULL, true},
    {"return", ST(DISPATCHED) | ST(ACCEPTED), GZ_WO_RETURNED, HANDLE, H, NULL, f_return,
     apply_return, GZ_LC_N_DISPATCHER, "工单被退回，请重新派发"},
    {"start", ST(ACCEPTED), GZ_WO_IN_PROGRESS, HANDLE, H, NULL, NULL, NULL, 0, NULL, true},
    {"request_extension", ST(ACCEPTED) | ST(IN_PROGRESS), GZ_LC_SAME, HANDLE, H, before_deadline,
     f_request_extension, apply_request_extension, GZ_LC_N_APPROVERS, "延期申请待审批"},
    {"decide_extension", ST(ACCEPTED) | ST(IN_PROGRESS), GZ_LC_SAME, "work_orders.extension", S,
     extension_pending, f_decide_extension, apply_decide_extension, GZ_LC_N_HANDLER,
     "延期申请已审批", true},
    {"escalate", GZ_WO_OPEN_STATES, GZ_LC_SAME, MANAGE, S, NULL, f_escalate, apply_escalate,
     GZ_LC_N_CO_HANDLERS | GZ_LC_N_HANDLER, "工单督办（吹哨），请协同办理"},
    {"report", GZ_WO_OPEN_STATES, GZ_LC_SAME, NULL, GZ_LC_CO_HANDLER, NULL, NULL, apply_report, 0,
     NULL, true},
    {"resolve", ST(ACCEPTED) | ST(IN_PROGRESS), GZ_WO_RESOLVED, HANDLE, H, NULL, f_resolve,
     apply_resolve, GZ_LC_N_CREATOR | GZ_LC_N_APPROVERS, "工单已办结，待核实", true},
    {"verify", ST(RESOLVED), GZ_WO_VERIFIED, "work_orders.verify", S, NULL, f_verify, apply_verify,
     GZ_LC_N_HANDLER, "核实未通过，请继续办理", true},
    {"callback", ST(VERIFIED), GZ_WO_CLOSED, "work_orders.callback", S, NULL, f_callback,
     apply_callback, GZ_LC_N_HANDLER, "回访不满意", true},
    {"reopen", ST(CLOSED) | ST(VERIFIED), GZ_WO_DISPATCHED, MANAGE, S, has_handler, NULL,
     apply_reopen, GZ_LC_N_HANDLER, "工单重新派发给你们"},
    /* the requester rates a closed order: "not solved" sends it back (apply_rate) */
    {"rate", ST(CLOSED), GZ_WO_CLOSED, NULL, GZ_LC_OWNER, not_rated, f_rate, apply_rate,
     GZ_LC_N_HANDLER, "居民评价：问题未解决或不满意"},
    {"merge", GZ_WO_OPEN_STATES, GZ_WO_MERGED, MANAGE, S, NULL, f_merge, apply_merge, 0, NULL},
    {"cancel", ST(NEW) | ST(DISPATCHED), GZ_WO_CANCELLED, MANAGE, S, NULL, f_cancel, apply_cancel,
     GZ_LC_N_HANDLER, "工单已撤销"},
    {"comment", ~0u, GZ_LC_SAME, NULL, S, NULL, f_comment, apply_comment, GZ_LC_N_REQUESTER,
     "工单有新的留言", false, true},
    {NULL},
};

/* ---- notifications: the recipients of an action ---- */

int gz_wo_notify_handler(struct gz_conn *c, const struct gz_wo_order *o, int64_t except,
                         const struct gz_notice_msg *m, struct gz_err *err)
{
	if (o->handler_org_id)
		return gz_notify_org(c, o->handler_org_id, except, m, err);
	if (o->handler_unit_id)
		return gz_notify_unit_perm(c, o->handler_unit_path, HANDLE, except, m, err);
	return 0;
}

static int recipients(unsigned kind, struct gz_lc_ctx *x, const struct gz_notice_msg *m,
                      struct gz_err *err)
{
	const struct gz_wo_order *o = x->after ? x->after : x->row;
	int64_t except = x->acct ? x->acct->id : 0;
	switch (kind) {
	case GZ_LC_N_HANDLER:
		return gz_wo_notify_handler(x->c, o, except, m, err);
	case GZ_LC_N_CO_HANDLERS: {
		json_t *ids = json_object_get(x->data, "co_handler_org_ids"), *v;
		size_t i;
		json_array_foreach(ids, i, v)
		{
			if (gz_notify_org(x->c, json_integer_value(v), except, m, err))
				return -1;
		}
		return 0;
	}
	case GZ_LC_N_REQUESTER:
		return gz_notify_users(x->c, &o->requester_user_id, 1, except, m, err);
	case GZ_LC_N_CREATOR:
		return gz_notify_users(x->c, &o->created_by, 1, except, m, err);
	case GZ_LC_N_DISPATCHER: {
		/* the account that last sent the order to a handler */
		int64_t who = 0;
		if (gz_query_i64(x->c, err, &who,
		                 "SELECT coalesce(actor_id, 0) FROM work_order_events WHERE "
		                 "work_order_id = ? AND action IN ('dispatch', 'reopen') "
		                 "ORDER BY id DESC LIMIT 1",
		                 "i", x->id) < 0)
			return -1;
		return gz_notify_users(x->c, &who, 1, except, m, err);
	}
	case GZ_LC_N_APPROVERS:
		/* who takes the next decision: extensions, verification on site */
		return gz_notify_unit_perm(x->c, o->unit_path,
		                           strcmp(x->action->name, "request_extension") == 0
		                               ? "work_orders.extension"
		                               : "work_orders.verify",
		                           except, m, err);
	default:
		return 0;
	}
}

static const char *order_label(const void *row, struct gz_arena *a)
{
	const struct gz_wo_order *o = row;
	return gz_sprintf(a, "%s %s", o->number, o->title);
}

static int64_t order_due(const void *row)
{
	const struct gz_wo_order *o = row;
	/* waiting to be accepted: the accept deadline comes first */
	return o->status == GZ_WO_DISPATCHED ? o->accept_due_at : o->resolve_due_at;
}

static int daily_out(struct gz_lc_ctx *x, struct gz_err *err)
{
	return gz_wo_daily_apply(x->c, x->id, -1, err);
}

static int daily_in(struct gz_lc_ctx *x, struct gz_err *err)
{
	return gz_wo_daily_apply(x->c, x->id, 1, err);
}

const struct gz_machine gz_work_order_machine = {
    .name = "work_order",
    .entity = &gz_work_order_entity,
    .states = gz_wo_status_names,
    .actions = actions,
    .events_table = "work_order_events",
    .events_fk = "work_order_id",
    .due_col = "resolve_due_at",
    .row_size = sizeof(struct gz_wo_order),
    .load = gz_wo_order_load,
    .state = order_state,
    .relation = relation,
    .recipients = recipients,
    .label = order_label,
    .due_at = order_due,
    .before = daily_out,
    .after = daily_in,
    .sees_internal = gz_wo_sees_internal,
};
