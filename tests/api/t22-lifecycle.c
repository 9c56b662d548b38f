/* t22-lifecycle.c - the work-order state machine of API.md, action by action and
 * role by role.
 *
 * Orders are filed by the resident jumin (channel web) in 沙柳北路社区第一网格, so
 * that the community's staff (shequ), the subdistrict's staff (jiedao), the grid
 * worker of that grid (wangge), the resident and admin all see them; they are
 * dispatched to 天津鸿润物业 (the org of wuye, from /auth/me).  hehuoren (partner,
 * 金仕途) is not involved and sees nothing.
 *
 * The expected rights come from API.md's table (model below) and the requester's rate
 * action of docs/work-orders.md; admin is taken to hold
 * every role's rights, the handler's included (API.md names no role for admin).
 *   matrix_<state>_<role>: the detail's allowed_actions equals the model; every action
 *     outside it answers 409 invalid_transition whose "allowed" is the same list (404
 *     for an account that cannot see the order).
 *   legal_<state>_<role>_<action>: on a fresh order in that state the action answers
 *     200 and the order reaches the table's status, with a timeline event.
 * Then the particular rules (return reasons, extensions, co-handlers, failed
 * verification, reopen, merge, cancel) and a replay check over every order touched. */
#include "harness.h"
#include "wo_common.h"
#include <unistd.h>

enum { SHEQU, JIEDAO, WUYE, HEHUOREN, WANGGE, JUMIN, ADMIN, SHEQU2, LUSHAN, NUSERS };
enum { NROLES = 7 }; /* the roles of the matrix */
static const char *const usernames[NUSERS] = {"shequ", "jiedao", "wuye",   "hehuoren", "wangge",
                                              "jumin", "admin",  "shequ2", "lushan"};
static struct fixture fx;
static const char *tok[NUSERS];

static int64_t u_grid1, o_hongrun, o_jinshitu, o_dongxin_wuye;
static int64_t target; /* an open order everything is merged into */

/* ---- actions ---- */

enum {
	A_DISPATCH,
	A_ACCEPT,
	A_RETURN,
	A_START,
	A_REQ_EXT,
	A_DEC_EXT,
	A_ESCALATE,
	A_REPORT,
	A_RESOLVE,
	A_VERIFY,
	A_CALLBACK,
	A_REOPEN,
	A_MERGE,
	A_CANCEL,
	A_COMMENT,
	A_RATE,
	NACT
};
static const char *const act_name[NACT] = {
    "dispatch", "accept", "return",  "start",  "request_extension", "decide_extension",
    "escalate", "report", "resolve", "verify", "callback",          "reopen",
    "merge",    "cancel", "comment", "rate"};
#define AB(a) (1u << (a))

/* a valid body for each action */
static const char *act_body(int a)
{
	switch (a) {
	case A_DISPATCH:
		return F(
		    "{\"action\":\"dispatch\",\"handler_org_id\":%lld,\"note\":\"请物业处理\"}",
		    (long long)o_hongrun);
	case A_ACCEPT:
		return "{\"action\":\"accept\",\"note\":\"已签收\"}";
	case A_RETURN:
		return "{\"action\":\"return\",\"reason\":\"wrong_area\",\"note\":"
		       "\"非本单位辖区\"}";
	case A_START:
		return "{\"action\":\"start\",\"note\":\"开始处理\"}";
	case A_REQ_EXT:
		return "{\"action\":\"request_extension\",\"workdays\":2,\"reason\":\"配件未到\"}";
	case A_DEC_EXT:
		return "{\"action\":\"decide_extension\",\"approve\":true,\"note\":\"同意\"}";
	case A_ESCALATE:
		return "{\"action\":\"escalate\",\"note\":\"请加快办理\"}";
	case A_REPORT:
		return "{\"action\":\"report\",\"note\":\"已报到\"}";
	case A_RESOLVE:
		return "{\"action\":\"resolve\",\"result\":\"已修复\",\"note\":\"处理完毕\"}";
	case A_VERIFY:
		return "{\"action\":\"verify\",\"passed\":true,\"note\":\"现场核实\"}";
	case A_CALLBACK:
		return "{\"action\":\"callback\",\"satisfaction\":\"satisfied\",\"solved\":true,"
		       "\"note\":\"回访\"}";
	case A_REOPEN:
		return "{\"action\":\"reopen\",\"note\":\"重新办理\"}";
	case A_MERGE:
		return F("{\"action\":\"merge\",\"into_id\":%lld}", (long long)target);
	case A_CANCEL:
		return "{\"action\":\"cancel\",\"reason\":\"重复工单\"}";
	case A_RATE:
		return "{\"action\":\"rate\",\"satisfaction\":\"satisfied\",\"solved\":true,"
		       "\"note\":\"满意\"}";
	default:
		return "{\"action\":\"comment\",\"note\":\"备注一条\"}";
	}
}

/* the status an action leads to (NULL: unchanged) */
static const char *act_to(int a)
{
	switch (a) {
	case A_DISPATCH:
		return "dispatched";
	case A_ACCEPT:
		return "accepted";
	case A_RETURN:
		return "returned";
	case A_START:
		return "in_progress";
	case A_RESOLVE:
		return "resolved";
	case A_VERIFY:
		return "verified";
	case A_CALLBACK:
		return "closed";
	case A_REOPEN:
		return "dispatched";
	case A_MERGE:
		return "merged";
	case A_CANCEL:
		return "cancelled";
	default:
		return NULL;
	}
}

/* ---- states ---- */

enum {
	K_NEW,
	K_DISPATCHED,
	K_ACCEPTED,
	K_ACCEPTED_EXT,
	K_IN_PROGRESS,
	K_RESOLVED,
	K_VERIFIED,
	K_CLOSED,
	K_RETURNED,
	K_CANCELLED,
	K_MERGED,
	NKIND
};
static const char *const kind_name[NKIND] = {
    "new",         "dispatched", "accepted", "accepted_pending_extension",
    "in_progress", "resolved",   "verified", "closed",
    "returned",    "cancelled",  "merged"};
static const char *const kind_status[NKIND] = {"new",         "dispatched", "accepted", "accepted",
                                               "in_progress", "resolved",   "verified", "closed",
                                               "returned",    "cancelled",  "merged"};
static const bool kind_handler[NKIND] = {false, true, true,  true,  true, true,
                                         true,  true, false, false, false};

/* every order this program touched, for the replay check */
static int64_t touched[2048];
static int ntouched;

static void touch(int64_t id)
{
	for (int i = 0; i < ntouched; i++)
		if (touched[i] == id)
			return;
	if (ntouched < (int)(sizeof touched / sizeof touched[0]))
		touched[ntouched++] = id;
}

static int64_t new_order(const char *title)
{
	int64_t id =
	    wo_create(tok[JUMIN], F("{\"title\":%s,\"description\":\"楼道灯不亮，夜间出行不便\","
	                            "\"category_code\":\"010901\","
	                            "\"channel\":\"web\",\"unit_id\":%lld}",
	                            J(title), (long long)u_grid1));
	touch(id);
	return id;
}

static const char *status_of(int64_t id)
{
	struct resp *r = wo_get_ok(tok[ADMIN], id);
	const char *s = F("%s", jstr(r->json, "status"));
	resp_free(r);
	return s;
}

/* A fresh order in the state of kind, driven there through the API. */
static int64_t build(int kind)
{
	int64_t id = new_order(F("状态机-%s", kind_name[kind]));
	const char *dispatch = act_body(A_DISPATCH);
	switch (kind) {
	case K_NEW:
		break;
	case K_CANCELLED:
		wo_do(tok[SHEQU], id, act_body(A_CANCEL));
		break;
	case K_MERGED:
		wo_do(tok[SHEQU], id, act_body(A_MERGE));
		break;
	case K_RETURNED: {
		wo_do(tok[SHEQU], id, dispatch);
		struct resp *r = wo_act(tok[WUYE], id, act_body(A_RETURN));
		long st = r->status;
		resp_free(r);
		if (st != 200) {
			/* the handler could not return it (see return_by_handler): admin does */
			static bool told;
			if (!told)
				print_message("# wuye's return answered %ld; returned orders are "
				              "built by admin\n",
				              st);
			told = true;
			wo_do(tok[ADMIN], id, act_body(A_RETURN));
		}
		break;
	}
	default:
		wo_do(tok[SHEQU], id, dispatch);
		if (kind == K_DISPATCHED)
			break;
		wo_do(tok[WUYE], id, act_body(A_ACCEPT));
		if (kind == K_ACCEPTED)
			break;
		if (kind == K_ACCEPTED_EXT) {
			wo_do(tok[WUYE], id, act_body(A_REQ_EXT));
			break;
		}
		wo_do(tok[WUYE], id, act_body(A_START));
		if (kind == K_IN_PROGRESS)
			break;
		wo_do(tok[WUYE], id, act_body(A_RESOLVE));
		if (kind == K_RESOLVED)
			break;
		wo_do(tok[SHEQU], id, act_body(A_VERIFY));
		if (kind == K_VERIFIED)
			break;
		wo_do(tok[SHEQU], id, act_body(A_CALLBACK));
		break;
	}
	const char *st = status_of(id);
	if (strcmp(st, kind_status[kind]) != 0) {
		print_error("built a %s order %lld but it is %s\n", kind_name[kind], (long long)id,
		            st);
		fail();
	}
	return id;
}

/* ---- the model: API.md's table ---- */

static bool visible(int role, int kind)
{
	switch (role) {
	case WUYE:
		return kind_handler[kind];
	case HEHUOREN:
		return false;
	default:
		return true;
	}
}

static unsigned expected(int role, int kind)
{
	if (!visible(role, kind))
		return 0;
	const char *st = kind_status[kind];
	bool has_handler = kind_handler[kind], pending = kind == K_ACCEPTED_EXT;
	bool open = strcmp(st, "closed") && strcmp(st, "cancelled") && strcmp(st, "merged");
	bool staff = role == SHEQU || role == JIEDAO || role == ADMIN;
	bool handler = has_handler && (role == WUYE || role == ADMIN);
	bool decider = role == JIEDAO || role == ADMIN;
	bool verifier = role == SHEQU || role == WANGGE || role == ADMIN;
	bool caller = role == SHEQU || role == ADMIN;
#define IS(s) (strcmp(st, (s)) == 0)
	unsigned m = AB(A_COMMENT);
	if ((IS("new") || IS("returned")) && staff)
		m |= AB(A_DISPATCH);
	if (IS("dispatched") && handler)
		m |= AB(A_ACCEPT);
	if ((IS("dispatched") || IS("accepted")) && handler)
		m |= AB(A_RETURN);
	if (IS("accepted") && handler)
		m |= AB(A_START);
	if ((IS("accepted") || IS("in_progress")) && handler && !pending)
		m |= AB(A_REQ_EXT);
	if ((IS("accepted") || IS("in_progress")) && pending && decider)
		m |= AB(A_DEC_EXT);
	if (open && staff)
		m |= AB(A_ESCALATE) | AB(A_MERGE);
	if ((IS("accepted") || IS("in_progress")) && handler)
		m |= AB(A_RESOLVE);
	if (IS("resolved") && verifier)
		m |= AB(A_VERIFY);
	if (IS("verified") && caller)
		m |= AB(A_CALLBACK);
	if ((IS("closed") || IS("verified")) && staff && has_handler)
		m |= AB(A_REOPEN);
	if ((IS("new") || IS("dispatched")) && staff)
		m |= AB(A_CANCEL);
	/* the requester's own rating of a closed order (issue 11; docs/work-orders.md) */
	if (IS("closed") && role == JUMIN)
		m |= AB(A_RATE);
#undef IS
	return m;
}

/* a list of action names as a set; bit 31 when it names something else */
static unsigned mask_of(json_t *arr)
{
	unsigned m = 0;
	size_t i;
	json_t *v;
	if (!json_is_array(arr))
		return 1u << 31;
	json_array_foreach(arr, i, v)
	{
		bool found = false;
		for (int a = 0; a < NACT; a++)
			if (json_is_string(v) && strcmp(json_string_value(v), act_name[a]) == 0) {
				m |= AB(a);
				found = true;
			}
		if (!found)
			m |= 1u << 31;
	}
	return m;
}

static const char *mask_str(unsigned m)
{
	char buf[512] = "";
	size_t n = 0;
	for (int a = 0; a < NACT; a++)
		if (m & AB(a))
			n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", n ? "," : "",
			                      act_name[a]);
	if (m & (1u << 31))
		snprintf(buf + n, sizeof buf - n, "%s(unknown)", n ? "," : "");
	return F("[%s]", buf);
}

/* ---- setup ---- */

static int setup(void **state)
{
	(void)state;
	if (fixture_start(&fx, &S, NULL))
		return -1;
	for (int i = 0; i < NUSERS; i++)
		if (!(tok[i] = fx_token(&fx, usernames[i])))
			return -1;
	u_grid1 = fx.u_grid1;
	o_hongrun = fx.o_hongrun;
	o_jinshitu = fx.o_jinshitu;
	o_dongxin_wuye = fx.o_dongxin_wuye;
	struct resp *r =
	    api(&S, "POST", "/api/v1/work-orders", tok[JUMIN],
	        F("{\"title\":\"合并目标\",\"description\":\"同一问题的主工单\",\"category_code\":"
	          "\"010901\","
	          "\"channel\":\"web\",\"unit_id\":%lld}",
	          (long long)u_grid1),
	        NULL);
	target = jint(r->json, "id");
	long st = r->status;
	resp_free(r);
	if (st != 201)
		return -1;
	touch(target);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	int rc = fixture_stop(&fx);
	assert_int_equal(rc, 0);
	return 0;
}

/* ---- the matrix ---- */

struct cell {
	int kind, role, action;
};

static int64_t probe[NKIND];

static int64_t get_probe(int kind)
{
	if (!probe[kind])
		probe[kind] = build(kind);
	return probe[kind];
}

static void matrix(void **state)
{
	const struct cell *c = *state;
	int64_t id = get_probe(c->kind);
	const char *t = tok[c->role], *who = usernames[c->role];
	unsigned exp = expected(c->role, c->kind);
	int bad = 0;
	if (!visible(c->role, c->kind)) {
		struct resp *r = wo_get(t, id);
		if (r->status != 404) {
			print_error("%s GET of a %s order: %ld %s\n", who, kind_name[c->kind],
			            r->status, r->body);
			bad++;
		}
		resp_free(r);
		for (int a = 0; a < NACT; a++) {
			r = wo_act(t, id, act_body(a));
			if (r->status != 404 || strcmp(err_code(r), "not_found") != 0) {
				print_error("%s %s on a %s order it cannot see: %ld %s\n", who,
				            act_name[a], kind_name[c->kind], r->status, r->body);
				bad++;
				if (r->status == 200)
					probe[c->kind] = 0;
			}
			resp_free(r);
		}
		assert_int_equal(bad, 0);
		return;
	}
	struct resp *r = wo_get(t, id);
	assert_status(r, 200);
	unsigned shown = mask_of(jpath(r->json, "allowed_actions"));
	resp_free(r);
	if (shown != exp) {
		print_error("%s on a %s order: allowed_actions %s, API.md says %s\n", who,
		            kind_name[c->kind], mask_str(shown), mask_str(exp));
		bad++;
	}
	for (int a = 0; a < NACT; a++) {
		if (exp & AB(a))
			continue;
		r = wo_act(t, id, act_body(a));
		if (r->status != 409 || strcmp(err_code(r), "invalid_transition") != 0) {
			print_error(
			    "%s %s on a %s order: %ld %.400s (expected 409 invalid_transition)\n",
			    who, act_name[a], kind_name[c->kind], r->status, r->body);
			bad++;
			if (r->status == 200)
				probe[c->kind] = 0; /* it moved: the next test builds another */
		} else {
			unsigned allowed = mask_of(err_allowed(r));
			if (allowed != exp || allowed != shown) {
				print_error("%s %s on a %s order: allowed %s; allowed_actions %s; "
				            "API.md %s\n",
				            who, act_name[a], kind_name[c->kind], mask_str(allowed),
				            mask_str(shown), mask_str(exp));
				bad++;
			}
		}
		resp_free(r);
	}
	if (probe[c->kind]) {
		const char *st = status_of(id);
		if (strcmp(st, kind_status[c->kind]) != 0) {
			print_error("the %s order %lld is now %s\n", kind_name[c->kind],
			            (long long)id, st);
			probe[c->kind] = 0;
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void legal(void **state)
{
	const struct cell *c = *state;
	int64_t id = build(c->kind);
	struct resp *before = wo_get_ok(tok[ADMIN], id);
	int64_t due_before = jtime(before->json, "resolve_due_at");
	int events_before = (int)json_array_size(jpath(before->json, "timeline"));
	resp_free(before);

	struct resp *r = wo_act(tok[c->role], id, act_body(c->action));
	assert_status(r, 200);
	const char *to = act_to(c->action) ? act_to(c->action) : kind_status[c->kind];
	assert_string_equal(jstr(r->json, "status"), to);
	assert_int_equal(jint(r->json, "id"), id);
	resp_free(r);

	r = wo_get_ok(tok[ADMIN], id);
	assert_string_equal(jstr(r->json, "status"), to);
	json_t *tl = jpath(r->json, "timeline");
	assert_int_equal(json_array_size(tl), events_before + 1);
	json_t *ev = last_event(r->json);
	assert_string_equal(jstr(ev, "action"), act_name[c->action]);
	assert_string_equal(jstr(ev, "from_status"), kind_status[c->kind]);
	if (act_to(c->action))
		assert_string_equal(jstr(ev, "to_status"), to);
	else if (!json_is_null(jpath(ev, "to_status")))
		assert_string_equal(jstr(ev, "to_status"), to);
	assert_true(json_is_integer(jpath(ev, "actor.id")));
	assert_true(*jstr(ev, "actor.display_name"));
	int64_t at;
	assert_true(parse_time(jstr(ev, "at"), &at));
	switch (c->action) {
	case A_DISPATCH:
	case A_REOPEN:
		assert_int_equal(jint(r->json, "handler_org_id"), o_hongrun);
		assert_non_null(handler_entry(r->json, o_hongrun));
		if (c->action == A_REOPEN)
			assert_int_equal(jint(r->json, "reopen_count"), 1);
		break;
	case A_ESCALATE:
		assert_true(json_is_true(jpath(r->json, "escalated")));
		break;
	case A_DEC_EXT:
		assert_true(jtime(r->json, "resolve_due_at") > due_before);
		break;
	case A_COMMENT:
		assert_string_equal(jstr(ev, "note"), "备注一条");
		break;
	case A_REQ_EXT: {
		/* now pending: the subdistrict decides, the handler cannot ask again */
		struct resp *d = wo_get_ok(tok[JIEDAO], id);
		unsigned m = mask_of(jpath(d->json, "allowed_actions"));
		resp_free(d);
		assert_true(m & AB(A_DEC_EXT));
		d = wo_get_ok(tok[WUYE], id);
		m = mask_of(jpath(d->json, "allowed_actions"));
		resp_free(d);
		assert_false(m & AB(A_REQ_EXT));
		break;
	}
	default:
		break;
	}
	resp_free(r);
}

/* ---- particular rules ---- */

/* the handler returns an order: it is back with the staff, no longer the handler's */
static void return_by_handler(void **state)
{
	(void)state;
	const int kinds[] = {K_DISPATCHED, K_ACCEPTED};
	for (int i = 0; i < 2; i++) {
		int64_t id = build(kinds[i]);
		struct resp *r = wo_act(tok[WUYE], id,
		                        "{\"action\":\"return\",\"reason\":\"unclear_ownership\","
		                        "\"note\":\"权属不清\"}");
		if (r->status != 200)
			print_error("wuye returns a %s order: %ld %s; the order is now %s\n",
			            kind_name[kinds[i]], r->status, r->body, status_of(id));
		assert_status(r, 200);
		assert_string_equal(jstr(r->json, "status"), "returned");
		resp_free(r);
		r = wo_get_ok(tok[SHEQU], id);
		assert_string_equal(jstr(r->json, "status"), "returned");
		assert_int_equal(jint(r->json, "return_count"), 1);
		json_t *ev = last_event(r->json);
		assert_string_equal(jstr(ev, "action"), "return");
		assert_string_equal(jstr(ev, "from_status"), kind_status[kinds[i]]);
		assert_string_equal(jstr(ev, "to_status"), "returned");
		assert_true(mask_of(jpath(r->json, "allowed_actions")) & AB(A_DISPATCH));
		resp_free(r);
	}
}

/* the reasons; returns and re-dispatches counted.  The handler here is admin (who
 * holds every role's rights), so that return_by_handler alone shows the handler's
 * own problems. */
static void return_reasons(void **state)
{
	(void)state;
	int64_t id = build(K_DISPATCHED);
	const char *bad[] = {"{\"action\":\"return\",\"reason\":\"bogus\"}",
	                     "{\"action\":\"return\"}", "{\"action\":\"return\",\"reason\":\"\"}",
	                     "{\"action\":\"return\",\"reason\":3}",
	                     "{\"action\":\"return\",\"reason\":\"WRONG_AREA\"}"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct resp *r = wo_act(tok[WUYE], id, bad[i]);
		if (r->status != 400 || strcmp(err_field(r), "reason") != 0)
			print_error("%s: %ld %s\n", bad[i], r->status, r->body);
		assert_int_equal(r->status, 400);
		assert_string_equal(err_field(r), "reason");
		resp_free(r);
	}
	assert_string_equal(status_of(id), "dispatched");
	const char *reasons[] = {"wrong_area", "unclear_ownership", "overlapping_duty", "other"};
	for (int i = 0; i < 4; i++) {
		if (i % 2)
			assert_string_equal(wo_do(tok[WUYE], id, act_body(A_ACCEPT)), "accepted");
		assert_string_equal(
		    wo_do(tok[ADMIN], id,
		          F("{\"action\":\"return\",\"reason\":\"%s\",\"note\":\"退回%d\"}",
		            reasons[i], i)),
		    "returned");
		struct resp *r = wo_get_ok(tok[ADMIN], id);
		assert_int_equal(jint(r->json, "return_count"), i + 1);
		json_t *ev = last_event(r->json);
		assert_string_equal(jstr(ev, "action"), "return");
		assert_string_equal(jstr(ev, "to_status"), "returned");
		assert_true(contains(r->body, reasons[i]));
		resp_free(r);
		/* staff re-dispatch; the count stays */
		assert_string_equal(wo_do(tok[i < 2 ? SHEQU : JIEDAO], id, act_body(A_DISPATCH)),
		                    "dispatched");
		r = wo_get_ok(tok[ADMIN], id);
		assert_int_equal(jint(r->json, "return_count"), i + 1);
		resp_free(r);
	}
	/* returned orders wait for staff: the former handler cannot act on them */
	wo_do(tok[ADMIN], id, act_body(A_RETURN));
	struct resp *r = wo_act(tok[WUYE], id, act_body(A_ACCEPT));
	assert_true(r->status == 404 || r->status == 409);
	resp_free(r);
}

static void extensions(void **state)
{
	(void)state;
	int64_t id = build(K_ACCEPTED);
	struct resp *r = wo_get_ok(tok[ADMIN], id);
	int64_t due0 = jtime(r->json, "resolve_due_at");
	resp_free(r);
	/* only the handler asks */
	r = wo_act(tok[SHEQU], id,
	           "{\"action\":\"request_extension\",\"workdays\":10,\"reason\":\"r\"}");
	assert_error(r, 409, "invalid_transition", NULL);
	resp_free(r);
	const char *bad[][2] = {
	    {"{\"action\":\"request_extension\",\"workdays\":0,\"reason\":\"r\"}", "workdays"},
	    {"{\"action\":\"request_extension\",\"workdays\":16,\"reason\":\"r\"}", "workdays"},
	    {"{\"action\":\"request_extension\",\"workdays\":-1,\"reason\":\"r\"}", "workdays"},
	    {"{\"action\":\"request_extension\",\"workdays\":\"3\",\"reason\":\"r\"}", "workdays"},
	    {"{\"action\":\"request_extension\",\"workdays\":2.5,\"reason\":\"r\"}", "workdays"},
	    {"{\"action\":\"request_extension\",\"reason\":\"r\"}", "workdays"},
	    {"{\"action\":\"request_extension\",\"workdays\":3}", "reason"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = wo_act(tok[WUYE], id, bad[i][0]);
		if (r->status != 400 || strcmp(err_field(r), bad[i][1]) != 0)
			print_error("%s: %ld %s\n", bad[i][0], r->status, r->body);
		assert_int_equal(r->status, 400);
		assert_string_equal(err_field(r), bad[i][1]);
		resp_free(r);
	}
	/* 10 working days */
	assert_string_equal(
	    wo_do(
	        tok[WUYE], id,
	        "{\"action\":\"request_extension\",\"workdays\":10,\"reason\":\"需协调供水公司\"}"),
	    "accepted");
	/* one request at a time */
	r = wo_act(tok[WUYE], id,
	           "{\"action\":\"request_extension\",\"workdays\":1,\"reason\":\"r\"}");
	assert_error(r, 409, "invalid_transition", NULL);
	resp_free(r);
	/* the community's staff, the grid worker and the handler do not decide */
	const int not_deciders[] = {SHEQU, WANGGE, WUYE};
	for (size_t i = 0; i < 3; i++) {
		r = wo_act(tok[not_deciders[i]], id, act_body(A_DEC_EXT));
		if (r->status != 409)
			print_error("%s decide_extension: %ld %s\n", usernames[not_deciders[i]],
			            r->status, r->body);
		assert_error(r, 409, "invalid_transition", NULL);
		assert_false(mask_of(err_allowed(r)) & AB(A_DEC_EXT));
		resp_free(r);
	}
	r = wo_act(tok[JIEDAO], id, "{\"action\":\"decide_extension\",\"approve\":\"yes\"}");
	assert_error(r, 400, "validation_failed", "approve");
	resp_free(r);
	r = wo_act(tok[JIEDAO], id, "{\"action\":\"decide_extension\"}");
	assert_int_equal(r->status, 400);
	assert_string_equal(err_field(r), "approve");
	resp_free(r);
	/* the subdistrict approves: the deadline moves by 10 working days (at least 14 days) */
	assert_string_equal(
	    wo_do(tok[JIEDAO], id, "{\"action\":\"decide_extension\",\"approve\":true}"),
	    "accepted");
	r = wo_get_ok(tok[ADMIN], id);
	int64_t due1 = jtime(r->json, "resolve_due_at");
	assert_true(due1 >= due0 + 14 * DAY_MS);
	assert_true(due1 <= due0 + 40 * DAY_MS);
	resp_free(r);
	/* 10 + 6 > 15 */
	r = wo_act(tok[WUYE], id,
	           "{\"action\":\"request_extension\",\"workdays\":6,\"reason\":\"还需要\"}");
	if (r->status != 400)
		print_error("10 then 6 working days: %ld %s\n", r->status, r->body);
	assert_int_equal(r->status, 400);
	assert_string_equal(err_field(r), "workdays");
	resp_free(r);
	/* 5 more, refused: the deadline stays */
	assert_string_equal(
	    wo_do(tok[WUYE], id,
	          "{\"action\":\"request_extension\",\"workdays\":5,\"reason\":\"还需要\"}"),
	    "accepted");
	assert_string_equal(
	    wo_do(tok[JIEDAO], id,
	          "{\"action\":\"decide_extension\",\"approve\":false,\"note\":\"不同意\"}"),
	    "accepted");
	r = wo_get_ok(tok[ADMIN], id);
	assert_int_equal(jtime(r->json, "resolve_due_at"), due1);
	resp_free(r);
	/* no pending request: nothing to decide */
	r = wo_act(tok[JIEDAO], id, act_body(A_DEC_EXT));
	assert_error(r, 409, "invalid_transition", NULL);
	resp_free(r);
	/* a refused request used none of the 15: 5 more (in progress), approved by admin */
	assert_string_equal(wo_do(tok[WUYE], id, act_body(A_START)), "in_progress");
	assert_string_equal(
	    wo_do(tok[WUYE], id,
	          "{\"action\":\"request_extension\",\"workdays\":5,\"reason\":\"最后一次\"}"),
	    "in_progress");
	assert_string_equal(
	    wo_do(tok[ADMIN], id, "{\"action\":\"decide_extension\",\"approve\":true}"),
	    "in_progress");
	r = wo_get_ok(tok[ADMIN], id);
	int64_t due2 = jtime(r->json, "resolve_due_at");
	assert_true(due2 >= due1 + 7 * DAY_MS);
	assert_int_equal(count_events(r->json, "decide_extension"), 3);
	assert_int_equal(count_events(r->json, "request_extension"), 3);
	resp_free(r);
	/* 15 used */
	r = wo_act(tok[WUYE], id,
	           "{\"action\":\"request_extension\",\"workdays\":1,\"reason\":\"再延\"}");
	if (r->status != 400 && r->status != 409)
		print_error("a 16th working day: %ld %s\n", r->status, r->body);
	assert_true(r->status == 400 || r->status == 409);
	resp_free(r);
	/* a resolved order asks for nothing */
	wo_do(tok[WUYE], id, act_body(A_RESOLVE));
	r = wo_act(tok[WUYE], id, act_body(A_REQ_EXT));
	assert_error(r, 409, "invalid_transition", NULL);
	resp_free(r);
}

static void co_handlers(void **state)
{
	(void)state;
	int64_t id = build(K_DISPATCHED);
	/* bad lists */
	const char *bad[] = {
	    "{\"action\":\"escalate\",\"co_handler_org_ids\":[99999999]}",
	    "{\"action\":\"escalate\",\"co_handler_org_ids\":\"x\"}",
	    "{\"action\":\"escalate\",\"co_handler_org_ids\":[\"1\"]}",
	    "{\"action\":\"escalate\",\"co_handler_org_ids\":[0]}",
	    /* at most 16, none twice */
	    "{\"action\":\"escalate\",\"co_handler_org_ids\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,"
	    "15,16,17]}",
	    F("{\"action\":\"escalate\",\"co_handler_org_ids\":[%lld,%lld]}", (long long)o_jinshitu,
	      (long long)o_jinshitu),
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct resp *r = wo_act(tok[SHEQU], id, bad[i]);
		if (r->status != 400 || strcmp(err_field(r), "co_handler_org_ids") != 0)
			print_error("%s: %ld %s\n", bad[i], r->status, r->body);
		assert_int_equal(r->status, 400);
		assert_string_equal(err_field(r), "co_handler_org_ids");
		resp_free(r);
	}
	struct resp *r = wo_get_ok(tok[ADMIN], id);
	assert_false(json_is_true(jpath(r->json, "escalated")));
	assert_null(handler_entry(r->json, o_jinshitu));
	resp_free(r);
	/* a grid worker does not escalate */
	r = wo_act(tok[WANGGE], id, "{\"action\":\"escalate\",\"note\":\"吹哨\"}");
	assert_error(r, 409, "invalid_transition", NULL);
	resp_free(r);
	/* 吹哨: two co-handlers */
	assert_string_equal(wo_do(tok[SHEQU], id,
	                          F("{\"action\":\"escalate\",\"note\":\"街乡吹哨\",\"co_handler_"
	                            "org_ids\":[%lld,%lld]}",
	                            (long long)o_jinshitu, (long long)o_dongxin_wuye)),
	                    "dispatched");
	r = wo_get_ok(tok[ADMIN], id);
	assert_true(json_is_true(jpath(r->json, "escalated")));
	json_t *h1 = handler_entry(r->json, o_jinshitu),
	       *h2 = handler_entry(r->json, o_dongxin_wuye);
	assert_non_null(h1);
	assert_non_null(h2);
	assert_true(json_is_false(jpath(h1, "reported")));
	assert_true(json_is_false(jpath(h2, "reported")));
	assert_non_null(handler_entry(r->json, o_hongrun));
	json_t *ev = last_event(r->json);
	assert_string_equal(jstr(ev, "action"), "escalate");
	resp_free(r);
	/* the co-handler sees the order and may report (and comment) */
	r = wo_get_ok(tok[HEHUOREN], id);
	assert_string_equal(mask_str(mask_of(jpath(r->json, "allowed_actions"))),
	                    mask_str(AB(A_REPORT) | AB(A_COMMENT)));
	resp_free(r);
	assert_true(wo_total(tok[HEHUOREN], "") >= 1);
	/* nor accept: they are not the handler */
	r = wo_act(tok[HEHUOREN], id, act_body(A_ACCEPT));
	assert_error(r, 409, "invalid_transition", NULL);
	resp_free(r);
	/* the handler is no co-handler */
	r = wo_act(tok[WUYE], id, act_body(A_REPORT));
	assert_error(r, 409, "invalid_transition", NULL);
	resp_free(r);
	assert_string_equal(
	    wo_do(tok[HEHUOREN], id, "{\"action\":\"report\",\"note\":\"已到场协助\"}"),
	    "dispatched");
	r = wo_get_ok(tok[ADMIN], id);
	h1 = handler_entry(r->json, o_jinshitu);
	h2 = handler_entry(r->json, o_dongxin_wuye);
	assert_true(json_is_true(jpath(h1, "reported")));
	assert_true(json_is_false(jpath(h2, "reported")));
	ev = last_event(r->json);
	assert_string_equal(jstr(ev, "action"), "report");
	resp_free(r);
	/* once */
	r = wo_act(tok[HEHUOREN], id, "{\"action\":\"report\",\"note\":\"再次报到\"}");
	assert_error(r, 409, "invalid_transition", NULL);
	assert_string_equal(mask_str(mask_of(err_allowed(r))), mask_str(AB(A_COMMENT)));
	resp_free(r);
	/* the order goes on with its handler */
	assert_string_equal(wo_do(tok[WUYE], id, act_body(A_ACCEPT)), "accepted");
	/* escalating again with the same org adds nobody twice */
	wo_do(tok[JIEDAO], id,
	      F("{\"action\":\"escalate\",\"co_handler_org_ids\":[%lld]}", (long long)o_jinshitu));
	r = wo_get_ok(tok[ADMIN], id);
	int n = 0;
	size_t i;
	json_t *h;
	json_array_foreach(jpath(r->json, "handlers"), i, h) n += jint(h, "org_id") == o_jinshitu;
	assert_int_equal(n, 1);
	resp_free(r);
}

static void verify_failed(void **state)
{
	(void)state;
	int64_t id = build(K_RESOLVED);
	struct resp *r = wo_act(tok[SHEQU], id, "{\"action\":\"verify\"}");
	assert_int_equal(r->status, 400);
	assert_string_equal(err_field(r), "passed");
	resp_free(r);
	r = wo_act(tok[SHEQU], id, "{\"action\":\"verify\",\"passed\":\"no\"}");
	assert_int_equal(r->status, 400);
	resp_free(r);
	assert_string_equal(
	    wo_do(tok[SHEQU], id, "{\"action\":\"verify\",\"passed\":false,\"note\":\"灯仍不亮\"}"),
	    "in_progress");
	r = wo_get_ok(tok[ADMIN], id);
	json_t *ev = last_event(r->json);
	assert_string_equal(jstr(ev, "action"), "verify");
	assert_string_equal(jstr(ev, "from_status"), "resolved");
	assert_string_equal(jstr(ev, "to_status"), "in_progress");
	resp_free(r);
	/* the handler resolves again; the grid worker verifies */
	assert_string_equal(wo_do(tok[WUYE], id, act_body(A_RESOLVE)), "resolved");
	assert_string_equal(wo_do(tok[WANGGE], id, act_body(A_VERIFY)), "verified");
}

static void callback_and_reopen(void **state)
{
	(void)state;
	int64_t id = build(K_VERIFIED);
	const char *bad[][2] = {
	    {"{\"action\":\"callback\",\"satisfaction\":\"meh\",\"solved\":true}", "satisfaction"},
	    {"{\"action\":\"callback\",\"solved\":true}", "satisfaction"},
	    {"{\"action\":\"callback\",\"satisfaction\":\"satisfied\"}", "solved"},
	};
	for (size_t i = 0; i < 3; i++) {
		struct resp *r = wo_act(tok[SHEQU], id, bad[i][0]);
		if (r->status != 400 || strcmp(err_field(r), bad[i][1]) != 0)
			print_error("%s: %ld %s\n", bad[i][0], r->status, r->body);
		assert_int_equal(r->status, 400);
		assert_string_equal(err_field(r), bad[i][1]);
		resp_free(r);
	}
	assert_string_equal(wo_do(tok[SHEQU], id,
	                          "{\"action\":\"callback\",\"satisfaction\":\"dissatisfied\","
	                          "\"solved\":false,\"note\":\"居民不满意\"}"),
	                    "closed");
	struct resp *r = wo_get_ok(tok[ADMIN], id);
	assert_string_equal(jstr(r->json, "satisfaction"), "dissatisfied");
	assert_int_equal(jint(r->json, "reopen_count"), 0);
	resp_free(r);
	/* residents, handlers and grid workers do not reopen */
	const int nope[] = {JUMIN, WUYE, WANGGE};
	for (size_t i = 0; i < 3; i++) {
		r = wo_act(tok[nope[i]], id, act_body(A_REOPEN));
		assert_error(r, 409, "invalid_transition", NULL);
		resp_free(r);
	}
	/* staff reopen: back to the same handler */
	assert_string_equal(wo_do(tok[SHEQU], id, act_body(A_REOPEN)), "dispatched");
	r = wo_get_ok(tok[ADMIN], id);
	assert_int_equal(jint(r->json, "reopen_count"), 1);
	assert_int_equal(jint(r->json, "handler_org_id"), o_hongrun);
	json_t *ev = last_event(r->json);
	assert_string_equal(jstr(ev, "action"), "reopen");
	assert_string_equal(jstr(ev, "from_status"), "closed");
	assert_string_equal(jstr(ev, "to_status"), "dispatched");
	resp_free(r);
	/* and round again, satisfied this time */
	assert_string_equal(wo_do(tok[WUYE], id, act_body(A_ACCEPT)), "accepted");
	assert_string_equal(wo_do(tok[WUYE], id, act_body(A_START)), "in_progress");
	assert_string_equal(wo_do(tok[WUYE], id, act_body(A_RESOLVE)), "resolved");
	assert_string_equal(wo_do(tok[WANGGE], id, act_body(A_VERIFY)), "verified");
	assert_string_equal(wo_do(tok[SHEQU], id, act_body(A_CALLBACK)), "closed");
	r = wo_get_ok(tok[ADMIN], id);
	assert_int_equal(jint(r->json, "reopen_count"), 1);
	assert_string_equal(jstr(r->json, "satisfaction"), "satisfied");
	resp_free(r);
	/* a verified order may be reopened before the callback too */
	int64_t id2 = build(K_VERIFIED);
	assert_string_equal(wo_do(tok[JIEDAO], id2, act_body(A_REOPEN)), "dispatched");
	r = wo_get_ok(tok[ADMIN], id2);
	assert_int_equal(jint(r->json, "reopen_count"), 1);
	resp_free(r);
}

static void merging(void **state)
{
	(void)state;
	int64_t id = build(K_NEW);
	const char *bad[] = {
	    F("{\"action\":\"merge\",\"into_id\":%lld}", (long long)id),
	    "{\"action\":\"merge\",\"into_id\":99999999}",
	    "{\"action\":\"merge\",\"into_id\":\"1\"}",
	    "{\"action\":\"merge\",\"into_id\":0}",
	    "{\"action\":\"merge\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct resp *r = wo_act(tok[SHEQU], id, bad[i]);
		if (r->status != 400 || strcmp(err_field(r), "into_id") != 0)
			print_error("%s: %ld %s\n", bad[i], r->status, r->body);
		assert_int_equal(r->status, 400);
		assert_string_equal(err_field(r), "into_id");
		resp_free(r);
	}
	assert_string_equal(status_of(id), "new");
	/* into an order outside the merger's scope: as if it did not exist */
	int64_t elsewhere =
	    wo_create(tok[SHEQU2], F("{\"title\":\"凤岐里\",\"description\":\"d\",\"category_"
	                             "code\":\"010901\",\"channel\":\"phone\","
	                             "\"unit_id\":%lld}",
	                             (long long)unit_id(&S, tok[ADMIN], "凤岐里社区")));
	touch(elsewhere);
	struct resp *r = wo_act(tok[SHEQU], id,
	                        F("{\"action\":\"merge\",\"into_id\":%lld}", (long long)elsewhere));
	if (r->status != 400 && r->status != 404)
		print_error("merge into an order out of scope: %ld %s\n", r->status, r->body);
	assert_true(r->status == 400 || r->status == 404);
	resp_free(r);
	assert_string_equal(status_of(id), "new");
	/* a dispatched order merges too */
	int64_t d = build(K_DISPATCHED);
	assert_string_equal(
	    wo_do(tok[JIEDAO], d, F("{\"action\":\"merge\",\"into_id\":%lld}", (long long)id)),
	    "merged");
	assert_string_equal(wo_do(tok[SHEQU], id, act_body(A_MERGE)), "merged");
	r = wo_get_ok(tok[ADMIN], id);
	assert_int_equal(jint(r->json, "merged_into_id"), target);
	json_t *ev = last_event(r->json);
	assert_string_equal(jstr(ev, "action"), "merge");
	assert_string_equal(jstr(ev, "to_status"), "merged");
	resp_free(r);
	/* the target is untouched */
	assert_string_equal(status_of(target), "new");
}

static void cancelling(void **state)
{
	(void)state;
	int64_t id = build(K_NEW);
	const char *bad[] = {"{\"action\":\"cancel\"}", "{\"action\":\"cancel\",\"reason\":\"\"}",
	                     "{\"action\":\"cancel\",\"reason\":5}"};
	for (size_t i = 0; i < 3; i++) {
		struct resp *r = wo_act(tok[SHEQU], id, bad[i]);
		if (r->status != 400 || strcmp(err_field(r), "reason") != 0)
			print_error("%s: %ld %s\n", bad[i], r->status, r->body);
		assert_int_equal(r->status, 400);
		assert_string_equal(err_field(r), "reason");
		resp_free(r);
	}
	assert_string_equal(
	    wo_do(tok[SHEQU], id, "{\"action\":\"cancel\",\"reason\":\"居民撤诉\"}"), "cancelled");
	struct resp *r = wo_get_ok(tok[ADMIN], id);
	json_t *ev = last_event(r->json);
	assert_string_equal(jstr(ev, "action"), "cancel");
	assert_string_equal(jstr(ev, "from_status"), "new");
	assert_string_equal(jstr(ev, "to_status"), "cancelled");
	assert_true(contains(r->body, "居民撤诉"));
	resp_free(r);
	int64_t d = build(K_DISPATCHED);
	assert_string_equal(wo_do(tok[JIEDAO], d, "{\"action\":\"cancel\",\"reason\":\"重复\"}"),
	                    "cancelled");
	/* the former handler no longer acts */
	r = wo_act(tok[WUYE], d, act_body(A_ACCEPT));
	assert_true(r->status == 409 || r->status == 404);
	resp_free(r);
}

static void out_of_scope(void **state)
{
	(void)state;
	const int kinds[] = {K_NEW, K_DISPATCHED, K_RESOLVED};
	const int who[] = {SHEQU2, LUSHAN};
	for (size_t k = 0; k < 3; k++)
		for (size_t w = 0; w < 2; w++) {
			int64_t id = get_probe(kinds[k]);
			struct resp *r = wo_get(tok[who[w]], id);
			assert_error(r, 404, "not_found", NULL);
			resp_free(r);
			for (int a = 0; a < NACT; a++) {
				r = wo_act(tok[who[w]], id, act_body(a));
				if (r->status != 404)
					print_error("%s %s: %ld %s\n", usernames[who[w]],
					            act_name[a], r->status, r->body);
				assert_error(r, 404, "not_found", NULL);
				resp_free(r);
			}
		}
}

static void bad_requests(void **state)
{
	(void)state;
	int64_t id = get_probe(K_NEW);
	const char *bad[][2] = {
	    {"{\"action\":\"fly\"}", "action"},
	    {"{}", "action"},
	    {"{\"action\":5}", "action"},
	    {"{\"action\":\"comment\",\"note\":\"x\",\"colour\":1}", "colour"},
	    {"{\"action\":\"dispatch\",\"handler_org_id\":1,\"workdays\":2}", "workdays"},
	    {"{\"action\":\"comment\"}", "note"},
	    {"{\"action\":\"comment\",\"note\":\"x\",\"internal\":\"yes\"}", "internal"},
	    {"{\"action\":\"dispatch\"}", NULL},
	    {"{\"action\":\"dispatch\",\"handler_org_id\":99999999}", "handler_org_id"},
	    {"{\"action\":\"dispatch\",\"handler_unit_id\":99999999}", "handler_unit_id"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct resp *r = wo_act(tok[SHEQU], id, bad[i][0]);
		if (r->status != 400 || (bad[i][1] && strcmp(err_field(r), bad[i][1]) != 0))
			print_error("%s: %ld %s\n", bad[i][0], r->status, r->body);
		assert_int_equal(r->status, 400);
		if (bad[i][1])
			assert_string_equal(err_field(r), bad[i][1]);
		resp_free(r);
	}
	struct resp *r =
	    wo_act(tok[SHEQU], id, "{\"action\":\"comment\",\"note\":\"x\",\"colour\":1}");
	assert_error(r, 400, "unknown_field", "colour");
	resp_free(r);
	r = wo_act(tok[SHEQU], id, "not json");
	assert_error(r, 400, "invalid_json", NULL);
	resp_free(r);
	r = wo_act(tok[SHEQU], 99999999, act_body(A_COMMENT));
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	assert_string_equal(status_of(id), "new");
	/* a unit as handler: its staff handle */
	int64_t u = build(K_NEW);
	assert_string_equal(
	    wo_do(tok[SHEQU], u,
	          F("{\"action\":\"dispatch\",\"handler_unit_id\":%lld}", (long long)u_grid1)),
	    "dispatched");
}

/* Idempotency-Key on an action: the replay answers as the first time, appends nothing */
static void action_idempotency(void **state)
{
	(void)state;
	int64_t id = build(K_DISPATCHED);
	const char *hdr = F("Idempotency-Key: %s", uniq("accept-"));
	struct resp *r1 = apihf(&S, "POST", tok[WUYE], act_body(A_ACCEPT), hdr,
	                        "/api/v1/work-orders/%lld/actions", (long long)id);
	assert_status(r1, 200);
	struct resp *r2 = apihf(&S, "POST", tok[WUYE], act_body(A_ACCEPT), hdr,
	                        "/api/v1/work-orders/%lld/actions", (long long)id);
	assert_status(r2, 200);
	assert_string_equal(jstr(r2->json, "status"), "accepted");
	assert_int_equal(jint(r2->json, "version"), jint(r1->json, "version"));
	resp_free(r1);
	resp_free(r2);
	struct resp *r = wo_get_ok(tok[ADMIN], id);
	assert_int_equal(count_events(r->json, "accept"), 1);
	resp_free(r);
	/* without the key the same action is a conflict */
	r = wo_act(tok[WUYE], id, act_body(A_ACCEPT));
	assert_error(r, 409, "invalid_transition", NULL);
	resp_free(r);
	/* a comment twice with one key is one comment */
	hdr = F("Idempotency-Key: %s", uniq("comment-"));
	for (int i = 0; i < 2; i++) {
		r = apihf(&S, "POST", tok[SHEQU], "{\"action\":\"comment\",\"note\":\"只记一次\"}",
		          hdr, "/api/v1/work-orders/%lld/actions", (long long)id);
		assert_status(r, 200);
		resp_free(r);
	}
	r = wo_get_ok(tok[ADMIN], id);
	assert_int_equal(count_events(r->json, "comment"), 1);
	resp_free(r);
}

/* a unit as the handler: its staff handle the order, wherever the unit is */
static void unit_handler(void **state)
{
	(void)state;
	int64_t u_shaliu = unit_id(&S, tok[ADMIN], "沙柳北路社区");
	int64_t u_lushan = unit_id(&S, tok[ADMIN], "鲁山道街道");
	assert_true(u_shaliu > 0 && u_lushan > 0);
	/* the community itself */
	int64_t id = build(K_NEW);
	assert_string_equal(
	    wo_do(tok[SHEQU], id,
	          F("{\"action\":\"dispatch\",\"handler_unit_id\":%lld}", (long long)u_shaliu)),
	    "dispatched");
	struct resp *r = wo_get_ok(tok[SHEQU], id);
	assert_int_equal(jint(r->json, "handler_unit_id"), u_shaliu);
	unsigned m = mask_of(jpath(r->json, "allowed_actions"));
	resp_free(r);
	assert_true(m & AB(A_ACCEPT));
	assert_string_equal(wo_do(tok[SHEQU], id, act_body(A_ACCEPT)), "accepted");
	/* another subdistrict: its staff must see the order to handle it */
	int64_t id2 = build(K_NEW);
	assert_string_equal(
	    wo_do(tok[JIEDAO], id2,
	          F("{\"action\":\"dispatch\",\"handler_unit_id\":%lld,\"note\":\"转鲁山道街道\"}",
	            (long long)u_lushan)),
	    "dispatched");
	r = wo_get(tok[LUSHAN], id2);
	if (r->status != 200)
		print_error("lushan (staff of the handler unit) GET: %ld %s\n", r->status, r->body);
	assert_status(r, 200);
	m = mask_of(jpath(r->json, "allowed_actions"));
	resp_free(r);
	assert_true(m & AB(A_ACCEPT));
	assert_true(wo_total(tok[LUSHAN], F("handler_unit_id=%lld", (long long)u_lushan)) >= 1);
	assert_string_equal(wo_do(tok[LUSHAN], id2, act_body(A_ACCEPT)), "accepted");
}

/* every order's status is the to_status of its last status-changing event */
static void replay(void **state)
{
	(void)state;
	int bad = 0;
	for (int i = 0; i < ntouched; i++) {
		struct resp *r = wo_get_ok(tok[ADMIN], touched[i]);
		const char *last = NULL;
		size_t k;
		json_t *ev;
		json_array_foreach(jpath(r->json, "timeline"), k,
		                   ev) if (json_is_string(jpath(ev, "to_status"))) last =
		    jstr(ev, "to_status");
		if (!last || strcmp(last, jstr(r->json, "status")) != 0) {
			print_error("order %lld is %s but its timeline ends in %s\n",
			            (long long)touched[i], jstr(r->json, "status"),
			            last ? last : "(nothing)");
			bad++;
		}
		resp_free(r);
	}
	print_message("replayed %d orders\n", ntouched);
	assert_true(ntouched > 100);
	assert_int_equal(bad, 0);
}

int main(void)
{
	static const int roles[NROLES] = {SHEQU, JIEDAO, WUYE, HEHUOREN, WANGGE, JUMIN, ADMIN};
	enum { MAXT = 1024 };
	static struct CMUnitTest tests[MAXT];
	static struct cell cells[MAXT];
	size_t n = 0;
	for (int k = 0; k < NKIND; k++)
		for (int ri = 0; ri < NROLES; ri++) {
			cells[n] = (struct cell){k, roles[ri], -1};
			char *name = malloc(96);
			snprintf(name, 96, "matrix_%s_%s", kind_name[k], usernames[roles[ri]]);
			tests[n] = (struct CMUnitTest){name, matrix, NULL, NULL, &cells[n]};
			n++;
		}
	for (int k = 0; k < NKIND; k++)
		for (int ri = 0; ri < NROLES; ri++) {
			unsigned m = expected(roles[ri], k);
			for (int a = 0; a < NACT && n < MAXT - 16; a++)
				if (m & AB(a)) {
					cells[n] = (struct cell){k, roles[ri], a};
					char *name = malloc(128);
					snprintf(name, 128, "legal_%s_%s_%s", kind_name[k],
					         usernames[roles[ri]], act_name[a]);
					tests[n] =
					    (struct CMUnitTest){name, legal, NULL, NULL, &cells[n]};
					n++;
				}
		}
	const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(return_by_handler),
	    cmocka_unit_test(return_reasons),
	    cmocka_unit_test(extensions),
	    cmocka_unit_test(co_handlers),
	    cmocka_unit_test(verify_failed),
	    cmocka_unit_test(callback_and_reopen),
	    cmocka_unit_test(merging),
	    cmocka_unit_test(cancelling),
	    cmocka_unit_test(out_of_scope),
	    cmocka_unit_test(bad_requests),
	    cmocka_unit_test(unit_handler),
	    cmocka_unit_test(action_idempotency),
	    cmocka_unit_test(replay),
	};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		tests[n++] = fixed[i];
	return _cmocka_run_group_tests("t22-lifecycle", tests, n, setup, teardown);
}
