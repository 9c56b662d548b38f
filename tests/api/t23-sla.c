/* t23-sla.c - deadlines: SLA rules (longest category prefix wins, per priority), the
 * working-day calendar (weekends, a holiday week, a make-up Saturday), extensions, and
 * the SLA scanner (GONGZHI_SLA_SCAN_SECONDS=1) escalating each breach exactly once.
 *
 * The server runs on the real clock, so every expectation is computed here from the
 * order's own created_at (Shanghai calendar) and the calendar this test PUT for the
 * current and the next year: resolve_due_at = 24:00 (+08:00) of the N-th working day
 * after the day of creation, accept_due_at = created_at + accept hours.
 * Overdue orders are made by stopping the server and moving resolve_due_at into the
 * past with the database's shell (sqlite3 or psql: db_sql(), a test fixture), then
 * restarting. */
#include "harness.h"
#include "wo_common.h"
#include <unistd.h>

enum { ADMIN, SHEQU, JIEDAO, WUYE, NUSERS };
static const char *const usernames[NUSERS] = {"admin", "shequ", "jiedao", "wuye"};
static struct fixture fx;
static const char *tok[NUSERS];
static const char *const ENV[] = {"GONGZHI_SLA_SCAN_SECONDS=1", NULL};

static int64_t u_shaliu, o_hongrun;

/* ---- the calendar of this test ---- */

enum { MAXCAL = 128 };
static struct {
	int64_t day;
	bool workday;
} cal[MAXCAL];
static int ncal;

static bool is_workday(int64_t day)
{
	for (int i = 0; i < ncal; i++)
		if (cal[i].day == day)
			return cal[i].workday;
	return weekday(day) < 5;
}

/* the N-th working day after day */
static int64_t workdays_after(int64_t day, int n)
{
	int64_t d = day;
	for (int k = 0; k < n;) {
		d++;
		k += is_workday(d);
		assert_true(d - day < 400);
	}
	return d;
}

static void cal_reset(void)
{
	ncal = 0;
}

static void cal_mark(int64_t day, bool workday)
{
	for (int i = 0; i < ncal; i++)
		if (cal[i].day == day) {
			cal[i].workday = workday;
			return;
		}
	assert_true(ncal < MAXCAL);
	cal[ncal].day = day;
	cal[ncal].workday = workday;
	ncal++;
}

static int year_of(int64_t day)
{
	int y;
	unsigned m, d;
	civil_from_days(day, &y, &m, &d);
	return y;
}

/* PUTs the calendar for this year and the next (replacing both) */
static void cal_put(void)
{
	int y0 = year_of(sh_day(now_ms()));
	for (int y = y0; y <= y0 + 1; y++) {
		json_t *hol = json_array(), *work = json_array();
		for (int i = 0; i < ncal; i++)
			if (year_of(cal[i].day) == y)
				json_array_append_new(cal[i].workday ? work : hol,
				                      json_string(date_str(cal[i].day)));
		json_t *b = json_pack("{s:o,s:o}", "holidays", hol, "workdays", work);
		char *body = json_dumps(b, JSON_COMPACT);
		json_decref(b);
		struct resp *r = apif(&S, "PUT", tok[ADMIN], body, "/api/v1/calendar/%d", y);
		if (r->status != 200)
			print_error("PUT calendar %d %s: %ld %s\n", y, body, r->status, r->body);
		free(body);
		assert_status(r, 200);
		resp_free(r);
	}
}

/* ---- setup ---- */

static int setup(void **state)
{
	(void)state;
	if (fixture_start(&fx, &S, ENV))
		return -1;
	for (int i = 0; i < NUSERS; i++)
		if (!(tok[i] = fx_token(&fx, usernames[i])))
			return -1;
	o_hongrun = fx.o_hongrun;
	u_shaliu = fx.u_shaliu;
	struct resp *r;
	/* a test category tree: 07 three working days, 0701 one */
	const char *rules[] = {
	    "{\"category_code\":\"07\",\"priority\":\"normal\",\"accept_hours\":5,\"resolve_"
	    "workdays\":3}",
	    "{\"category_code\":\"0701\",\"priority\":\"normal\",\"accept_hours\":3,\"resolve_"
	    "workdays\":1}",
	};
	for (int i = 0; i < 2; i++) {
		r = api(&S, "POST", "/api/v1/sla-rules", tok[ADMIN], rules[i], NULL);
		long st = r->status;
		if (st != 201)
			fprintf(stderr, "sla rule %s: %ld %s\n", rules[i], st, r->body);
		resp_free(r);
		if (st != 201)
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	int rc = fixture_stop(&fx);
	assert_int_equal(rc, 0);
	return 0;
}

/* ---- helpers ---- */

static const char *order_body(const char *category, const char *priority)
{
	return F("{\"title\":\"时限测试\",\"description\":\"SLA\",\"category_code\":\"%s\","
	         "\"priority\":\"%s\","
	         "\"channel\":\"phone\",\"unit_id\":%lld}",
	         category, priority, (long long)u_shaliu);
}

/* Creates an order and checks both deadlines against the model. */
#define check_deadlines(cat, pri, hours, days)                                                     \
	check_deadlines_((cat), (pri), (hours), (days), __LINE__)
static int64_t check_deadlines_(const char *cat, const char *pri, int hours, int days, int line)
{
	struct resp *r = NULL;
	int64_t id = wo_create_r(tok[SHEQU], order_body(cat, pri), &r);
	int64_t created = jtime(r->json, "created_at");
	int64_t accept = jtime(r->json, "accept_due_at"),
	        resolve = jtime(r->json, "resolve_due_at");
	int64_t exp_accept = created + (int64_t)hours * 3600000;
	int64_t last = workdays_after(sh_day(created), days);
	int64_t exp_resolve = end_of_day(last);
	/* accept_due_at is checked to the millisecond in sla_accept_due_exact */
	if (accept >= exp_accept - 1000 && accept <= exp_accept)
		exp_accept = accept;
	if (accept != exp_accept || resolve != exp_resolve)
		print_error(
		    "line %d: %s/%s created %s: accept_due_at %s (expected %s), resolve_due_at %s "
		    "(expected %s = 24:00 of %s, working day %d after %s)\n",
		    line, cat, pri, jstr(r->json, "created_at"), jstr(r->json, "accept_due_at"),
		    fmt_time(exp_accept), jstr(r->json, "resolve_due_at"), fmt_time(exp_resolve),
		    date_str(last), days, date_str(sh_day(created)));
	assert_int_equal(accept, exp_accept);
	assert_int_equal(resolve, exp_resolve);
	/* shown in +08:00 */
	const char *shown = jstr(r->json, "resolve_due_at");
	assert_true(strlen(shown) >= 6 && strcmp(shown + strlen(shown) - 6, "+08:00") == 0);
	resp_free(r);
	/* the detail says the same */
	r = wo_get_ok(tok[SHEQU], id);
	assert_int_equal(jtime(r->json, "resolve_due_at"), exp_resolve);
	assert_int_equal(jtime(r->json, "accept_due_at"), exp_accept);
	resp_free(r);
	return id;
}

/* accept_due_at is exactly created_at + accept_hours (not a clock read apart) */
static void sla_accept_due_exact(void **state)
{
	(void)state;
	int off = 0;
	for (int i = 0; i < 30; i++) {
		struct resp *r = NULL;
		wo_create_r(tok[SHEQU], order_body("0701", "normal"), &r);
		int64_t created = jtime(r->json, "created_at"),
		        accept = jtime(r->json, "accept_due_at");
		if (accept != created + 3 * 3600000LL) {
			print_error(
			    "created_at %s, accept_due_at %s: %lld ms off created_at + 3 h\n",
			    jstr(r->json, "created_at"), jstr(r->json, "accept_due_at"),
			    (long long)(accept - created - 3 * 3600000LL));
			off++;
		}
		resp_free(r);
	}
	assert_int_equal(off, 0);
}

/* ---- tests ---- */

static void sla_rules_api(void **state)
{
	(void)state;
	cal_reset();
	cal_put();
	/* only admin writes rules; everyone reads them */
	struct resp *r = api(&S, "POST", "/api/v1/sla-rules", tok[SHEQU],
	                     "{\"category_code\":\"0703\",\"priority\":\"normal\",\"accept_hours\":"
	                     "1,\"resolve_workdays\":1}",
	                     NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/sla-rules?limit=500", tok[SHEQU], NULL, NULL);
	assert_status(r, 200);
	int64_t rule0701 = 0;
	size_t i;
	json_t *it;
	json_array_foreach(jpath(r->json, "items"), i,
	                   it) if (strcmp(jstr(it, "category_code"), "0701") == 0 &&
	                           strcmp(jstr(it, "priority"), "normal") == 0) rule0701 =
	    jint(it, "id");
	resp_free(r);
	assert_true(rule0701 > 0);
	const char *bad[] = {
	    "{\"category_code\":\"0799\",\"priority\":\"normal\",\"accept_hours\":1,\"resolve_"
	    "workdays\":1}",
	    "{\"category_code\":\"0703\",\"priority\":\"soon\",\"accept_hours\":1,\"resolve_"
	    "workdays\":1}",
	    "{\"category_code\":\"0703\",\"priority\":\"normal\",\"accept_hours\":0,\"resolve_"
	    "workdays\":1}",
	    "{\"category_code\":\"0703\",\"priority\":\"normal\",\"accept_hours\":1,\"resolve_"
	    "workdays\":0}",
	    "{\"category_code\":\"0703\",\"priority\":\"normal\",\"accept_hours\":1}",
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		r = api(&S, "POST", "/api/v1/sla-rules", tok[ADMIN], bad[k], NULL);
		if (r->status != 400)
			print_error("%s: %ld %s\n", bad[k], r->status, r->body);
		assert_int_equal(r->status, 400);
		resp_free(r);
	}
	/* one rule per prefix and priority */
	r = api(&S, "POST", "/api/v1/sla-rules", tok[ADMIN],
	        "{\"category_code\":\"07\",\"priority\":\"normal\",\"accept_hours\":9,\"resolve_"
	        "workdays\":9}",
	        NULL);
	assert_int_equal(r->status, 409);
	resp_free(r);
	check_deadlines("0701", "normal", 3, 1);
	/* a changed rule applies to new orders */
	r = apif(&S, "PATCH", tok[ADMIN], "{\"resolve_workdays\":2,\"accept_hours\":6}",
	         "/api/v1/sla-rules/%lld", (long long)rule0701);
	assert_status(r, 200);
	resp_free(r);
	check_deadlines("0701", "normal", 6, 2);
	r = apif(&S, "PATCH", tok[ADMIN], "{\"resolve_workdays\":1,\"accept_hours\":3}",
	         "/api/v1/sla-rules/%lld", (long long)rule0701);
	assert_status(r, 200);
	resp_free(r);
	check_deadlines("0701", "normal", 3, 1);
}

static void sla_weekends(void **state)
{
	(void)state;
	cal_reset();
	cal_put();
	/* five working days always cross a weekend */
	int64_t today = sh_day(now_ms());
	assert_true(workdays_after(today, 5) - today >= 7);
	check_deadlines("0801", "normal", 4, 5); /* the default rule */
	check_deadlines("0702", "normal", 5, 3); /* 07 */
	check_deadlines("0701", "normal", 3, 1); /* 0701 beats 07 */
	check_deadlines("0701", "urgent", 1, 1); /* no 07 rule for urgent: the default's */
	check_deadlines("0701", "low", 8, 10);
	check_deadlines("010301", "normal", 2, 3); /* the seeded 0103 */
	check_deadlines("010101", "normal", 2, 2); /* the seeded 0101 */
}

static void sla_holiday_week(void **state)
{
	(void)state;
	cal_reset();
	int64_t today = sh_day(now_ms());
	int marked = 0;
	for (int64_t d = today + 1; marked < 5; d++)
		if (weekday(d) < 5) {
			cal_mark(d, false);
			marked++;
		}
	cal_put();
	/* the next working day is at least a week away */
	assert_true(workdays_after(today, 1) - today >= 7);
	check_deadlines("0701", "normal", 3, 1);
	check_deadlines("0702", "normal", 5, 3);
	check_deadlines("0801", "normal", 4, 5);
}

static void sla_makeup_saturday(void **state)
{
	(void)state;
	cal_reset();
	int64_t today = sh_day(now_ms());
	int64_t sat = today + 1;
	while (weekday(sat) != 5)
		sat++;
	for (int64_t d = today + 1; d < sat; d++)
		cal_mark(d, false); /* the weekdays up to it are holidays */
	cal_mark(sat, true);        /* 调休: the Saturday is worked */
	cal_mark(sat + 2, false);   /* and the Monday after is a holiday again */
	cal_put();
	assert_int_equal(workdays_after(today, 1), sat);
	assert_int_equal(workdays_after(today, 2), sat + 3);
	check_deadlines("0701", "normal", 3, 1);
	check_deadlines("0702", "normal", 5, 3);
	/* a Sunday make-up day as well */
	cal_mark(sat + 1, true);
	cal_put();
	assert_int_equal(workdays_after(today, 2), sat + 1);
	check_deadlines("0702", "normal", 5, 3);
}

static void sla_extension(void **state)
{
	(void)state;
	cal_reset();
	cal_put();
	int64_t id = check_deadlines("0702", "normal", 5, 3);
	wo_do(tok[SHEQU], id,
	      F("{\"action\":\"dispatch\",\"handler_org_id\":%lld}", (long long)o_hongrun));
	wo_do(tok[WUYE], id, "{\"action\":\"accept\"}");
	struct resp *r = wo_get_ok(tok[ADMIN], id);
	int64_t due0 = jtime(r->json, "resolve_due_at");
	resp_free(r);
	/* after the deadline's day: two holidays, a make-up Saturday */
	int64_t last = sh_day(due0 - 1);
	int marked = 0;
	for (int64_t d = last + 1; marked < 2; d++)
		if (weekday(d) < 5) {
			cal_mark(d, false);
			marked++;
		}
	int64_t sat = last + 1;
	while (weekday(sat) != 5)
		sat++;
	cal_mark(sat, true);
	cal_put();
	wo_do(tok[WUYE], id,
	      "{\"action\":\"request_extension\",\"workdays\":4,\"reason\":\"等待配件\"}");
	wo_do(tok[JIEDAO], id, "{\"action\":\"decide_extension\",\"approve\":true}");
	r = wo_get_ok(tok[ADMIN], id);
	int64_t due1 = jtime(r->json, "resolve_due_at");
	int64_t exp = end_of_day(workdays_after(last, 4));
	if (due1 != exp)
		print_error("extended from %s by 4 working days: %s, expected %s\n", fmt_time(due0),
		            jstr(r->json, "resolve_due_at"), fmt_time(exp));
	assert_int_equal(due1, exp);
	resp_free(r);
	/* refused: nothing moves */
	wo_do(tok[WUYE], id,
	      "{\"action\":\"request_extension\",\"workdays\":2,\"reason\":\"再等等\"}");
	wo_do(tok[JIEDAO], id, "{\"action\":\"decide_extension\",\"approve\":false}");
	r = wo_get_ok(tok[ADMIN], id);
	assert_int_equal(jtime(r->json, "resolve_due_at"), due1);
	resp_free(r);
	/* approved again: from the new deadline */
	wo_do(tok[WUYE], id,
	      "{\"action\":\"request_extension\",\"workdays\":1,\"reason\":\"最后一天\"}");
	wo_do(tok[JIEDAO], id, "{\"action\":\"decide_extension\",\"approve\":true}");
	r = wo_get_ok(tok[ADMIN], id);
	assert_int_equal(jtime(r->json, "resolve_due_at"),
	                 end_of_day(workdays_after(sh_day(due1 - 1), 1)));
	resp_free(r);
}

/* ---- the scanner ---- */

static void db_set_due(const int64_t *ids, int n, int64_t due)
{
	char list[512] = "";
	size_t used = 0;
	for (int i = 0; i < n; i++)
		used += (size_t)snprintf(list + used, sizeof list - used, "%s%lld", i ? "," : "",
		                         (long long)ids[i]);
	/* the length is checked: a truncated list would update the wrong rows */
	assert_true(used < sizeof list);
	char o[1024];
	int rc = db_sql(&S, o, sizeof o,
	                "UPDATE work_orders SET resolve_due_at = %lld WHERE id IN (%s);",
	                (long long)due, list);
	if (rc != 0)
		print_error("UPDATE work_orders: %d: %s\n", rc, o);
	assert_int_equal(rc, 0);
}

/* the sessions live in the database: the fixture's tokens stay valid */
static void restart(void)
{
	assert_int_equal(srv_restart(&S, ENV), 0);
}

static int escalations(int64_t id, json_t **last_out)
{
	struct resp *r = wo_get_ok(tok[ADMIN], id);
	int n = 0;
	size_t i;
	json_t *ev;
	json_array_foreach(jpath(r->json, "timeline"), i,
	                   ev) if (strcmp(jstr(ev, "action"), "escalate") == 0)
	{
		n++;
		if (last_out) {
			json_decref(*last_out);
			*last_out = json_incref(ev);
		}
	}
	resp_free(r);
	return n;
}

/* waits (max 8 s) until the order has n escalations */
static void wait_escalations(int64_t id, int n)
{
	for (int i = 0; i < 80 && escalations(id, NULL) < n; i++)
		msleep(100);
}

static void sla_scanner(void **state)
{
	(void)state;
	cal_reset();
	cal_put();
	const char *dispatch =
	    F("{\"action\":\"dispatch\",\"handler_org_id\":%lld}", (long long)o_hongrun);
	/* accepted, new, and resolved (whose deadline no longer runs) */
	int64_t acc = wo_create(tok[SHEQU], order_body("0702", "normal"));
	wo_do(tok[SHEQU], acc, dispatch);
	wo_do(tok[WUYE], acc, "{\"action\":\"accept\"}");
	int64_t fresh = wo_create(tok[SHEQU], order_body("0702", "normal"));
	int64_t done = wo_create(tok[SHEQU], order_body("0702", "normal"));
	wo_do(tok[SHEQU], done, dispatch);
	wo_do(tok[WUYE], done, "{\"action\":\"accept\"}");
	wo_do(tok[WUYE], done, "{\"action\":\"resolve\",\"result\":\"已处理\"}");
	/* nothing is overdue yet */
	msleep(1500);
	assert_int_equal(escalations(acc, NULL), 0);
	assert_int_equal(escalations(fresh, NULL), 0);

	/* the deadlines pass */
	assert_int_equal(srv_stop(&S), 0);
	const int64_t ids[] = {acc, fresh, done};
	db_set_due(ids, 3, now_ms() - 3600000);
	restart();
	wait_escalations(acc, 1);
	wait_escalations(fresh, 1);
	msleep(2500);
	json_t *ev = NULL;
	assert_int_equal(escalations(acc, &ev), 1);
	assert_non_null(jpath(ev, "actor"));
	if (!json_is_null(jpath(ev, "actor.id")))
		print_error("the scanner's event: %s\n", json_dumps(ev, JSON_COMPACT));
	assert_true(json_is_null(jpath(ev, "actor.id")));
	assert_string_equal(jstr(ev, "from_status"), "accepted");
	assert_true(json_is_null(jpath(ev, "to_status")) ||
	            strcmp(jstr(ev, "to_status"), "accepted") == 0);
	json_decref(ev);
	ev = NULL;
	assert_int_equal(escalations(fresh, &ev), 1);
	assert_true(json_is_null(jpath(ev, "actor.id")));
	json_decref(ev);
	assert_int_equal(escalations(done, NULL), 0);
	struct resp *r = wo_get_ok(tok[ADMIN], acc);
	assert_string_equal(jstr(r->json, "status"), "accepted");
	assert_true(json_is_true(jpath(r->json, "escalated")));
	assert_true(json_is_true(jpath(r->json, "overdue")));
	resp_free(r);
	r = wo_get_ok(tok[ADMIN], fresh);
	assert_string_equal(jstr(r->json, "status"), "new");
	assert_true(json_is_true(jpath(r->json, "escalated")));
	assert_true(json_is_true(jpath(r->json, "overdue")));
	resp_free(r);
	r = wo_get_ok(tok[ADMIN], done);
	assert_false(json_is_true(jpath(r->json, "escalated")));
	assert_false(json_is_true(jpath(r->json, "overdue")));
	resp_free(r);
	/* the overdue filter */
	r = api(&S, "GET", "/api/v1/work-orders?overdue=true&limit=500", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	assert_true(items_have(r->json, acc));
	assert_true(items_have(r->json, fresh));
	assert_false(items_have(r->json, done));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/work-orders?overdue=false&limit=500", tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	assert_false(items_have(r->json, acc));
	assert_true(items_have(r->json, done));
	resp_free(r);
	/* the community's staff see it as overdue too */
	assert_true(wo_total(tok[SHEQU], "overdue=true") >= 2);
	/* past the deadline: no extension */
	r = wo_act(tok[WUYE], acc,
	           "{\"action\":\"request_extension\",\"workdays\":2,\"reason\":\"来不及\"}");
	if (r->status != 409)
		print_error("request_extension after the deadline: %ld %s\n", r->status, r->body);
	assert_error(r, 409, "invalid_transition", NULL);
	resp_free(r);

	/* once per breach: still one after more scans */
	msleep(2500);
	assert_int_equal(escalations(acc, NULL), 1);
	assert_int_equal(escalations(fresh, NULL), 1);

	/* a new breach (another past deadline): a second escalation */
	assert_int_equal(srv_stop(&S), 0);
	db_set_due(&acc, 1, now_ms() - 7200000);
	restart();
	wait_escalations(acc, 2);
	msleep(2500);
	assert_int_equal(escalations(acc, NULL), 2);
	assert_int_equal(escalations(fresh, NULL), 1);
	assert_int_equal(escalations(done, NULL), 0);
	/* staff escalating by hand is another event, not a breach */
	wo_do(tok[SHEQU], acc, "{\"action\":\"escalate\",\"note\":\"人工督办\"}");
	msleep(1500);
	ev = NULL;
	assert_int_equal(escalations(acc, &ev), 3);
	assert_true(json_is_integer(jpath(ev, "actor.id")));
	json_decref(ev);

	/* resolved late: the order's overdue field and the overdue filter agree */
	wo_do(tok[WUYE], acc, "{\"action\":\"resolve\",\"result\":\"迟办结\"}");
	r = wo_get_ok(tok[ADMIN], acc);
	bool field = json_is_true(jpath(r->json, "overdue"));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/work-orders?overdue=true&status=resolved&limit=500", tok[ADMIN],
	        NULL, NULL);
	assert_status(r, 200);
	bool in_true = items_have(r->json, acc);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/work-orders?overdue=false&status=resolved&limit=500",
	        tok[ADMIN], NULL, NULL);
	assert_status(r, 200);
	bool in_false = items_have(r->json, acc);
	json_t *item = NULL;
	size_t i;
	json_t *it;
	json_array_foreach(jpath(r->json, "items"), i, it) if (jint(it, "id") == acc) item = it;
	bool item_field = item && json_is_true(jpath(item, "overdue"));
	resp_free(r);
	if (field != in_true || in_true == in_false || (in_false && item_field))
		print_error(
		    "a late resolved order: \"overdue\": %s, listed under overdue=true: %s, "
		    "under overdue=false: %s (with \"overdue\": %s)\n",
		    field ? "true" : "false", in_true ? "yes" : "no", in_false ? "yes" : "no",
		    item_field ? "true" : "false");
	assert_true(in_true != in_false);
	assert_int_equal(field, in_true);
	assert_false(in_false && item_field);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sla_rules_api),        cmocka_unit_test(sla_weekends),
	    cmocka_unit_test(sla_accept_due_exact), cmocka_unit_test(sla_holiday_week),
	    cmocka_unit_test(sla_makeup_saturday),  cmocka_unit_test(sla_extension),
	    cmocka_unit_test(sla_scanner),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
