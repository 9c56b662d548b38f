/* t26-notify: the notifications the lifecycle actions and the SLA scanner write.
 * For each action of a work order's life, the accounts its row declares (README.md,
 * Notifications) get a row in the notifications table, read here with the database's
 * shell (sqlite3 or psql: db_sql()), and the actor never does.  The SLA scanner
 * (GONGZHI_SLA_SCAN_SECONDS=1) warns the handler once before the deadline and
 * once at the breach, and a restart repeats neither.  Also GET /api/v1/todo: the rows
 * on which an account has a task, with those tasks. */
#include "wo_common.h"
#include <string.h>

enum { SHEQU, JIEDAO, WUYE, HEHUOREN, WANGGE, JUMIN, ADMIN, NUSERS };
static const char *const usernames[NUSERS] = {"shequ",  "jiedao", "wuye", "hehuoren",
                                              "wangge", "jumin",  "admin"};
static const char *const ENV[] = {"GONGZHI_SLA_SCAN_SECONDS=1", NULL};
static struct fixture fx;
static const char *tok[NUSERS];
static int64_t uid[NUSERS];
static int64_t u_grid1, o_hongrun, o_jinshitu;

/* one integer from the server's database */
#define sql_int(q) db_int(&S, "%s", (q))

static void sql_exec(const char *q)
{
	char o[1024];
	int st = db_sql(&S, o, sizeof o, "%s", q);
	if (st != 0)
		print_error("%s: %d: %s\n", q, st, o);
	assert_int_equal(st, 0);
}

/* notifications of kind work_order.<action> about order id for account who */
static int64_t notes(int who, int64_t id, const char *action)
{
	return sql_int(F("SELECT count(*) FROM notifications WHERE user_id = %lld AND "
	                 "object_type = 'work_order' AND object_id = %lld AND kind = "
	                 "'work_order.%s'",
	                 (long long)uid[who], (long long)id, action));
}

static int64_t new_order(const char *title)
{
	return wo_create(tok[JUMIN], F("{\"title\":%s,\"description\":\"楼道灯不亮\","
	                               "\"category_code\":\"010901\","
	                               "\"channel\":\"web\",\"unit_id\":%lld}",
	                               J(title), (long long)u_grid1));
}

static const char *dispatch_body(void)
{
	return F("{\"action\":\"dispatch\",\"handler_org_id\":%lld}", (long long)o_hongrun);
}

static int setup(void **state)
{
	(void)state;
	if (fixture_start(&fx, &S, ENV))
		return -1;
	for (int i = 0; i < NUSERS; i++) {
		if (!(tok[i] = fx_token(&fx, usernames[i])))
			return -1;
		for (int k = 0; k < FX_NACCOUNTS; k++)
			if (strcmp(fx_usernames[k], usernames[i]) == 0)
				uid[i] = fx.uid[k];
	}
	u_grid1 = fx.u_grid1;
	o_hongrun = fx.o_hongrun;
	o_jinshitu = fx.o_jinshitu;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	int rc = fixture_stop(&fx);
	assert_int_equal(rc, 0);
	return 0;
}

/* dispatch → the handler organisation's accounts; return → the dispatcher */
static void dispatch_and_return(void **state)
{
	(void)state;
	int64_t id = new_order("通知-派发");
	assert_int_equal(notes(WUYE, id, "dispatch"), 0);
	assert_string_equal(wo_do(tok[SHEQU], id, dispatch_body()), "dispatched");
	assert_int_equal(notes(WUYE, id, "dispatch"), 1);
	assert_int_equal(notes(SHEQU, id, "dispatch"), 0); /* the actor */
	assert_int_equal(notes(JUMIN, id, "dispatch"), 0);
	assert_int_equal(notes(HEHUOREN, id, "dispatch"), 0);
	/* every account of the organisation, each once */
	int64_t org_accounts = sql_int(F("SELECT count(*) FROM users WHERE org_id = %lld AND "
	                                 "disabled = 0",
	                                 (long long)o_hongrun));
	assert_int_equal(sql_int(F("SELECT count(*) FROM notifications WHERE object_id = %lld "
	                           "AND kind = 'work_order.dispatch'",
	                           (long long)id)),
	                 org_accounts);
	/* accepting tells nobody */
	assert_string_equal(wo_do(tok[WUYE], id, "{\"action\":\"accept\"}"), "accepted");
	assert_int_equal(sql_int(F("SELECT count(*) FROM notifications WHERE object_id = %lld "
	                           "AND kind = 'work_order.accept'",
	                           (long long)id)),
	                 0);
	assert_string_equal(
	    wo_do(tok[WUYE], id, "{\"action\":\"return\",\"reason\":\"wrong_area\"}"), "returned");
	assert_int_equal(notes(SHEQU, id, "return"), 1); /* the dispatcher */
	assert_int_equal(notes(WUYE, id, "return"), 0);
	assert_int_equal(notes(JIEDAO, id, "return"), 0);
	/* the title names the order */
	int64_t titled = sql_int(F("SELECT count(*) FROM notifications WHERE user_id = %lld AND "
	                           "object_id = %lld AND kind = 'work_order.return' AND "
	                           "title LIKE '%%通知-派发%%'",
	                           (long long)uid[SHEQU], (long long)id));
	assert_int_equal(titled, 1);
}

/* request_extension → the deciders (work_orders.extension over the unit);
 * decide_extension → the handler */
static void extensions(void **state)
{
	(void)state;
	int64_t id = new_order("通知-延期");
	wo_do(tok[SHEQU], id, dispatch_body());
	wo_do(tok[WUYE], id, "{\"action\":\"accept\"}");
	assert_string_equal(
	    wo_do(tok[WUYE], id,
	          "{\"action\":\"request_extension\",\"workdays\":2,\"reason\":\"配件未到\"}"),
	    "accepted");
	assert_int_equal(notes(JIEDAO, id, "request_extension"), 1);
	assert_int_equal(notes(SHEQU, id, "request_extension"), 0); /* cannot decide */
	assert_int_equal(notes(WUYE, id, "request_extension"), 0);  /* the actor */
	assert_string_equal(
	    wo_do(tok[JIEDAO], id, "{\"action\":\"decide_extension\",\"approve\":true}"),
	    "accepted");
	assert_int_equal(notes(WUYE, id, "decide_extension"), 1);
	assert_int_equal(notes(JIEDAO, id, "decide_extension"), 0);
}

/* escalate with co-handlers → the co-handlers' accounts (and the handler) */
static void escalation(void **state)
{
	(void)state;
	int64_t id = new_order("通知-吹哨");
	wo_do(tok[SHEQU], id, dispatch_body());
	assert_string_equal(
	    wo_do(tok[SHEQU], id,
	          F("{\"action\":\"escalate\",\"note\":\"吹哨\",\"co_handler_org_ids\":[%lld]}",
	            (long long)o_jinshitu)),
	    "dispatched");
	assert_int_equal(notes(HEHUOREN, id, "escalate"), 1);
	assert_int_equal(notes(WUYE, id, "escalate"), 1);
	assert_int_equal(notes(SHEQU, id, "escalate"), 0);
	/* the same co-handler again: not added, not told again */
	wo_do(tok[JIEDAO], id,
	      F("{\"action\":\"escalate\",\"co_handler_org_ids\":[%lld]}", (long long)o_jinshitu));
	assert_int_equal(notes(HEHUOREN, id, "escalate"), 1);
	assert_int_equal(notes(WUYE, id, "escalate"), 2);
}

/* comment → the requester unless internal or written by the requester;
 * resolve → the creator and the verifiers; verify failed, callback dissatisfied →
 * the handler */
static void comments_resolution_callback(void **state)
{
	(void)state;
	int64_t id = new_order("通知-办结");
	wo_do(tok[SHEQU], id, dispatch_body());
	wo_do(tok[SHEQU], id, "{\"action\":\"comment\",\"note\":\"已派给物业\"}");
	assert_int_equal(notes(JUMIN, id, "comment"), 1);
	assert_int_equal(notes(SHEQU, id, "comment"), 0);
	wo_do(tok[SHEQU], id, "{\"action\":\"comment\",\"note\":\"内部\",\"internal\":true}");
	assert_int_equal(notes(JUMIN, id, "comment"), 1);
	wo_do(tok[JUMIN], id, "{\"action\":\"comment\",\"note\":\"谢谢\"}");
	assert_int_equal(notes(JUMIN, id, "comment"), 1);
	wo_do(tok[WUYE], id, "{\"action\":\"accept\"}");
	assert_string_equal(wo_do(tok[WUYE], id, "{\"action\":\"resolve\",\"result\":\"已修复\"}"),
	                    "resolved");
	assert_int_equal(notes(JUMIN, id, "resolve"), 1); /* the creator */
	assert_int_equal(notes(SHEQU, id, "resolve"), 1); /* verifies */
	assert_int_equal(notes(WANGGE, id, "resolve"), 1);
	assert_int_equal(notes(WUYE, id, "resolve"), 0);
	assert_int_equal(notes(HEHUOREN, id, "resolve"), 0);
	assert_string_equal(wo_do(tok[WANGGE], id,
	                          "{\"action\":\"verify\",\"passed\":false,\"note\":\"灯仍不亮\"}"),
	                    "in_progress");
	assert_int_equal(notes(WUYE, id, "verify"), 1);
	assert_int_equal(notes(WANGGE, id, "verify"), 0);
	wo_do(tok[WUYE], id, "{\"action\":\"resolve\",\"result\":\"换了灯泡\"}");
	assert_string_equal(wo_do(tok[WANGGE], id, "{\"action\":\"verify\",\"passed\":true}"),
	                    "verified");
	assert_int_equal(notes(WUYE, id, "verify"), 1); /* a pass tells nobody */
	assert_string_equal(wo_do(tok[SHEQU], id,
	                          "{\"action\":\"callback\",\"satisfaction\":\"dissatisfied\","
	                          "\"solved\":false}"),
	                    "closed");
	assert_int_equal(notes(WUYE, id, "callback"), 1);
	assert_int_equal(notes(SHEQU, id, "callback"), 0);
	/* reopen → the handler again */
	assert_string_equal(wo_do(tok[SHEQU], id, "{\"action\":\"reopen\"}"), "dispatched");
	assert_int_equal(notes(WUYE, id, "reopen"), 1);
}

/* a refused action writes no notification (one transaction) */
static void refused_writes_none(void **state)
{
	(void)state;
	int64_t id = new_order("通知-拒绝");
	struct resp *r = wo_act(tok[JUMIN], id, dispatch_body());
	assert_int_equal(r->status, 409);
	resp_free(r);
	r = wo_act(tok[SHEQU], id, "{\"action\":\"dispatch\",\"handler_org_id\":99999999}");
	assert_int_equal(r->status, 400);
	resp_free(r);
	assert_int_equal(
	    sql_int(F("SELECT count(*) FROM notifications WHERE object_id = %lld", (long long)id)),
	    0);
}

static bool todo_has(int who, int64_t id, const char *action)
{
	struct resp *r = api(&S, "GET", "/api/v1/todo?limit=200", tok[who], NULL, NULL);
	assert_int_equal(r->status, 200);
	bool found = false;
	size_t i;
	json_t *it;
	json_array_foreach(jpath(r->json, "items"), i, it)
	{
		if (jint(it, "id") != id)
			continue;
		assert_string_equal(jstr(it, "type"), "work_order");
		assert_true(contains(jstr(it, "title"), "通知-待办"));
		size_t k;
		json_t *a;
		json_array_foreach(jpath(it, "actions"), k, a) found |=
		    strcmp(json_string_value(a), action) == 0;
	}
	resp_free(r);
	return found;
}

/* GET /api/v1/todo: the rows with a task for the account */
static void todo(void **state)
{
	(void)state;
	int64_t id = new_order("通知-待办");
	assert_true(todo_has(SHEQU, id, "dispatch"));
	assert_false(todo_has(WUYE, id, "accept")); /* not its order yet */
	assert_false(todo_has(JUMIN, id, "dispatch"));
	wo_do(tok[SHEQU], id, dispatch_body());
	assert_true(todo_has(WUYE, id, "accept"));
	assert_false(todo_has(SHEQU, id, "dispatch"));
	struct resp *r = api(&S, "GET", "/api/v1/todo?limit=0", tok[WUYE], NULL, NULL);
	assert_int_equal(r->status, 400);
	assert_string_equal(err_field(r), "limit");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/todo?limit=201", tok[WUYE], NULL, NULL);
	assert_int_equal(r->status, 400);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/todo?colour=red", tok[WUYE], NULL, NULL);
	assert_int_equal(r->status, 400);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/todo", NULL, NULL, NULL);
	assert_int_equal(r->status, 401);
	resp_free(r);
	/* ordered by due time */
	r = api(&S, "GET", "/api/v1/todo", tok[ADMIN], NULL, NULL);
	assert_int_equal(r->status, 200);
	int64_t last = 0;
	size_t i;
	json_t *it;
	json_array_foreach(jpath(r->json, "items"), i, it)
	{
		int64_t due = 0;
		if (parse_time(jstr(it, "due_at"), &due)) {
			assert_true(due >= last);
			last = due;
		}
	}
	assert_true(json_array_size(jpath(r->json, "items")) <= 50);
	resp_free(r);
}

static void wait_notes(int who, int64_t id, const char *kind, int64_t n)
{
	for (int i = 0; i < 80 && notes(who, id, kind) < n; i++)
		msleep(100);
}

/* the scanner: a warning once 80% of the time has passed, a breach at the deadline,
 * each once, also across a restart */
static void sla_warning_and_breach(void **state)
{
	(void)state;
	int64_t id = new_order("通知-超期");
	wo_do(tok[SHEQU], id, dispatch_body());
	int64_t now = now_ms();
	sql_exec(F("UPDATE work_orders SET created_at = %lld, resolve_due_at = %lld WHERE id = "
	           "%lld",
	           (long long)(now - 10 * DAY_MS), (long long)(now + 3600000), (long long)id));
	wait_notes(WUYE, id, "sla_warning", 1);
	assert_int_equal(notes(WUYE, id, "sla_warning"), 1);
	assert_int_equal(notes(SHEQU, id, "sla_warning"), 0);
	msleep(2500);
	assert_int_equal(notes(WUYE, id, "sla_warning"), 1);
	assert_int_equal(srv_restart(&S, ENV), 0); /* sessions live in the database */
	msleep(2500);
	assert_int_equal(notes(WUYE, id, "sla_warning"), 1);
	assert_int_equal(notes(WUYE, id, "sla_breach"), 0);
	sql_exec(F("UPDATE work_orders SET resolve_due_at = %lld WHERE id = %lld",
	           (long long)(now - 1000), (long long)id));
	wait_notes(WUYE, id, "sla_breach", 1);
	assert_int_equal(notes(WUYE, id, "sla_breach"), 1);
	msleep(2500);
	assert_int_equal(srv_restart(&S, ENV), 0); /* sessions live in the database */
	msleep(2500);
	assert_int_equal(notes(WUYE, id, "sla_breach"), 1);
	assert_int_equal(notes(WUYE, id, "sla_warning"), 1);
}

/* after all the actions above (and the demo's orders): every order's status is the
 * to-state of its last status-changing event, and the timeline refuses changes */
static void status_is_last_event(void **state)
{
	(void)state;
	assert_true(sql_int("SELECT count(*) FROM work_orders") > 5);
	assert_int_equal(
	    sql_int("SELECT count(*) FROM work_orders w WHERE w.status IS DISTINCT FROM "
	            "(SELECT e.to_status FROM work_order_events e WHERE "
	            "e.work_order_id = w.id AND e.to_status IS NOT NULL ORDER BY "
	            "e.id DESC LIMIT 1)"),
	    0);
	char out[1024] = "";
	assert_int_not_equal(db_sql(&S, out, sizeof out,
	                            "UPDATE work_order_events SET note = 'x' WHERE id = "
	                            "(SELECT max(id) FROM work_order_events)"),
	                     0);
	assert_true(contains(out, "append-only"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dispatch_and_return),
	    cmocka_unit_test(extensions),
	    cmocka_unit_test(escalation),
	    cmocka_unit_test(comments_resolution_callback),
	    cmocka_unit_test(refused_writes_none),
	    cmocka_unit_test(todo),
	    cmocka_unit_test(sla_warning_and_breach),
	    cmocka_unit_test(status_is_last_event),
	};
	return cmocka_run_group_tests_name("t26-notify", tests, setup, teardown);
}
