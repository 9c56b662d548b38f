/* t21-work-orders.c - work orders: create, external ids, detail, list filters and
 * paging, Chinese full-text search (and its literal special characters), PATCH with
 * If-Match, Idempotency-Key, concurrent actions, bad input (writes nothing) and what
 * residents see.  One server with the demo district.
 *
 * Two fixed sets of orders are made in setup, before any test writes: corpus A (five
 * orders in several units, categories, channels and states) for the list filters, read
 * through a created_from/created_to window that only they fall in; corpus B (six orders
 * in 远翠东里小区, which no other test uses) for the search. */
#include "harness.h"
#include "wo_common.h"
#include <pthread.h>
#include <unistd.h>

enum { ADMIN, JIEDAO, LUSHAN, SHEQU, SHEQU2, WANGGE, HEHUOREN, WUYE, JUMIN, NUSERS };
static const char *const usernames[NUSERS] = {"admin",  "jiedao",   "lushan", "shequ", "shequ2",
                                              "wangge", "hehuoren", "wuye",   "jumin"};
static struct fixture fx;
static const char *tok[NUSERS];
static int64_t uid_of[NUSERS];

static int64_t u_district, u_dongxin, u_shaliu, u_beili, u_beili_b1, u_shaliuyuan, u_fengqi,
    u_fengqi_xq, u_qinglin, u_yuancui_xq, u_grid1;
static int64_t o_hongrun, o_dongxin_wuye, o_jinshitu;

/* corpus A: list filters */
enum { NA = 5 };
static int64_t A[NA], A_created[NA];
static char WINDOW[512];

/* corpus B: search */
enum { NB = 6 };
static int64_t B[NB];
static char
    BWINDOW[512]; /* created_from/created_to around corpus B (the demo has orders there too) */
static const char *const b_title[NB] = {"电梯故障", "楼道漏水", "停车位纠纷",
                                        "电梯困人", "路灯不亮", "满意度100%_测试*(一)"};
static const char *const b_desc[NB] = {
    "3号楼电梯停运，无法上下楼", "5号楼楼道顶部漏水严重", "业主之间因车位使用权发生争执",
    "电梯困人约十分钟",          "小区北门路灯夜间不亮",  "他说\"OR\"然后'NEAR'再\\退出"};

/* a minimal valid body for a unit (title/category/channel fixed) */
static const char *body_at(int64_t unit, const char *extra)
{
	return F(
	    "{\"title\":\"测试工单\",\"description\":\"测试描述\",\"category_code\":\"010301\","
	    "\"channel\":\"hotline_12345\",\"unit_id\":%lld%s%s}",
	    (long long)unit, extra && *extra ? "," : "", extra ? extra : "");
}

static int setup(void **state)
{
	(void)state;
	if (fixture_start(&fx, &S, NULL))
		return -1;
	const char *a = fx.tok[FX_ADMIN];
	for (int i = 0; i < NUSERS; i++) {
		tok[i] = fx_token(&fx, usernames[i]);
		if (!tok[i])
			return -1;
		for (int k = 0; k < FX_NACCOUNTS; k++)
			if (strcmp(fx_usernames[k], usernames[i]) == 0)
				uid_of[i] = fx.uid[k];
	}
	u_district = fx.u_district;
	u_dongxin = fx.u_dongxin;
	u_shaliu = fx.u_shaliu;
	u_beili = fx.u_shaliu_beili;
	u_beili_b1 = fx.u_beili_b1;
	u_shaliuyuan = fx.u_shaliuyuan;
	u_fengqi = fx.u_fengqi;
	u_fengqi_xq = fx.u_fengqi_xiaoqu;
	u_qinglin = fx.u_qinglin;
	u_yuancui_xq = fx.u_yuancui;
	u_grid1 = fx.u_grid1;
	o_hongrun = fx.o_hongrun;
	o_dongxin_wuye = fx.o_dongxin_wuye;
	o_jinshitu = fx.o_jinshitu;

	/* corpus A */
	const int64_t a_unit[NA] = {u_beili_b1, u_beili, u_shaliuyuan, u_fengqi_xq, u_qinglin};
	const char *const a_cat[NA] = {"010301", "010501", "010401", "020301", "010302"};
	const char *const a_chan[NA] = {"hotline_12345", "web", "phone", "grid_patrol", "walk_in"};
	for (int i = 0; i < NA; i++) {
		struct resp *r = api(&S, "POST", "/api/v1/work-orders", a,
		                     F("{\"title\":\"筛选样本%d\",\"description\":\"列表筛选用\","
		                       "\"category_code\":\"%s\","
		                       "\"channel\":\"%s\",\"unit_id\":%lld}",
		                       i, a_cat[i], a_chan[i], (long long)a_unit[i]),
		                     NULL);
		if (r->status != 201 || !parse_time(jstr(r->json, "created_at"), &A_created[i])) {
			fprintf(stderr, "corpus A %d: %ld %s\n", i, r->status, r->body);
			resp_free(r);
			return -1;
		}
		A[i] = jint(r->json, "id");
		resp_free(r);
		msleep(6);
	}
	snprintf(WINDOW, sizeof WINDOW, "created_from=%s&created_to=%s", Q(fmt_time(A_created[0])),
	         Q(fmt_time(A_created[NA - 1] + 1)));
	const char *steps[][2] = {
	    {"1",
	     F("{\"action\":\"dispatch\",\"handler_org_id\":%lld}", (long long)o_dongxin_wuye)},
	    {"4", F("{\"action\":\"dispatch\",\"handler_org_id\":%lld}", (long long)o_hongrun)},
	    {"2", "{\"action\":\"cancel\",\"reason\":\"重复\"}"},
	};
	for (size_t i = 0; i < 3; i++) {
		struct resp *r = wo_act(a, A[atoi(steps[i][0])], steps[i][1]);
		long st = r->status;
		if (st != 200)
			fprintf(stderr, "corpus A step %zu: %ld %s\n", i, st, r->body);
		resp_free(r);
		if (st != 200)
			return -1;
	}

	/* corpus B */
	for (int i = 0; i < NB; i++) {
		struct resp *r =
		    api(&S, "POST", "/api/v1/work-orders", a,
		        F("{\"title\":%s,\"description\":%s,\"category_code\":\"0109\","
		          "\"channel\":\"phone\",\"unit_id\":%lld%s}",
		          J(b_title[i]), J(b_desc[i]), (long long)u_yuancui_xq,
		          i == 4 ? ",\"address\":\"远翠东里北门\"" : ""),
		        NULL);
		if (r->status != 201) {
			fprintf(stderr, "corpus B %d: %ld %s\n", i, r->status, r->body);
			resp_free(r);
			return -1;
		}
		B[i] = jint(r->json, "id");
		int64_t t = 0;
		parse_time(jstr(r->json, "created_at"), &t);
		if (i == 0)
			snprintf(BWINDOW, sizeof BWINDOW, "created_from=%s", Q(fmt_time(t)));
		if (i == NB - 1) {
			size_t l = strlen(BWINDOW);
			snprintf(BWINDOW + l, sizeof BWINDOW - l, "&created_to=%s",
			         Q(fmt_time(t + 1)));
		}
		resp_free(r);
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

/* the set (bit i = A[i]) of corpus-A orders a list shows; bit 30 when it shows others */
static unsigned list_mask_a(const char *token, const char *query, long *status)
{
	struct resp *r = apif(&S, "GET", token, NULL, "/api/v1/work-orders?limit=500&%s", query);
	*status = r->status;
	unsigned m = 0;
	size_t i;
	json_t *it;
	json_array_foreach(jpath(r->json, "items"), i, it)
	{
		int64_t id = jint(it, "id");
		bool found = false;
		for (int k = 0; k < NA; k++)
			if (A[k] == id) {
				m |= 1u << k;
				found = true;
			}
		if (!found)
			m |= 1u << 30;
	}
	if (r->status != 200)
		print_error("GET ?%s: %ld %s\n", query, r->status, r->body);
	resp_free(r);
	return m;
}

static unsigned popcount(unsigned m)
{
	unsigned n = 0;
	for (; m; m &= m - 1)
		n++;
	return n;
}

/* the actions of a JSON list as a sorted comma string (static rotating) */
static const char *names_of(json_t *arr)
{
	const char *names[32];
	size_t n = 0, i;
	json_t *v;
	json_array_foreach(arr, i, v) if (n < 32) names[n++] =
	    json_string_value(v) ? json_string_value(v) : "?";
	for (size_t x = 1; x < n; x++)
		for (size_t y = x; y > 0 && strcmp(names[y - 1], names[y]) > 0; y--) {
			const char *t = names[y];
			names[y] = names[y - 1];
			names[y - 1] = t;
		}
	char buf[1024] = "";
	size_t used = 0;
	for (size_t k = 0; k < n && used < sizeof buf; k++)
		used +=
		    (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", k ? "," : "", names[k]);
	return F("%s", buf);
}

/* ---- tests ---- */

static void wo_unauthenticated(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/work-orders", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/work-orders", NULL, body_at(u_shaliu, NULL), NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = apif(&S, "GET", NULL, NULL, "/api/v1/work-orders/%lld", (long long)A[0]);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = wo_act(NULL, A[0], "{\"action\":\"comment\",\"note\":\"x\"}");
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
}

static void wo_create_ok(void **state)
{
	(void)state;
	int64_t before = wo_total(tok[ADMIN], "");
	struct resp *r = NULL;
	int64_t id =
	    wo_create_r(tok[SHEQU],
	                F("{\"title\":\"电梯故障\",\"description\":\"3号楼电梯停运\",\"category_"
	                  "code\":\"010301\","
	                  "\"channel\":\"hotline_12345\",\"unit_id\":%lld,\"priority\":\"high\","
	                  "\"address\":\"沙柳北里1号楼\",\"lat\":39.1397,\"lng\":117.2803,"
	                  "\"requester\":{\"name\":\"王先生\",\"phone\":\"13812345678\"}}",
	                  (long long)u_beili_b1),
	                &r);
	assert_true(id > 0);
	/* number: GZ + Shanghai date of creation + 6 digits */
	const char *num = jstr(r->json, "number");
	int64_t created = jtime(r->json, "created_at");
	int y;
	unsigned m, d;
	civil_from_days(sh_day(created), &y, &m, &d);
	char prefix[16];
	snprintf(prefix, sizeof prefix, "GZ%04d%02u%02u", y, m, d);
	if (strlen(num) != 16 || strncmp(num, prefix, 10) != 0)
		print_error("number %s, expected %s + 6 digits\n", num, prefix);
	assert_int_equal(strlen(num), 16);
	assert_memory_equal(num, prefix, 10);
	for (int i = 10; i < 16; i++)
		assert_true(num[i] >= '0' && num[i] <= '9');
	assert_string_equal(jstr(r->json, "status"), "new");
	assert_string_equal(jstr(r->json, "title"), "电梯故障");
	assert_string_equal(jstr(r->json, "category_code"), "010301");
	assert_string_equal(jstr(r->json, "channel"), "hotline_12345");
	assert_string_equal(jstr(r->json, "priority"), "high");
	assert_int_equal(jint(r->json, "unit_id"), u_beili_b1);
	assert_true(jtime(r->json, "accept_due_at") > created);
	assert_true(jtime(r->json, "resolve_due_at") > created);
	assert_true(json_is_integer(jpath(r->json, "version")));
	/* Location and ETag */
	const char *loc = resp_header(r, "Location");
	assert_non_null(loc);
	assert_string_equal(loc, F("/api/v1/work-orders/%lld", (long long)id));
	const char *etag = resp_header(r, "ETag");
	assert_non_null(etag);
	assert_string_equal(etag, F("\"%lld\"", (long long)jint(r->json, "version")));
	resp_free(r);
	assert_int_equal(wo_total(tok[ADMIN], ""), before + 1);

	/* numbers are unique and increase within the day */
	int64_t id2 = wo_create_r(tok[SHEQU], body_at(u_shaliu, NULL), &r);
	const char *num2 = F("%s", jstr(r->json, "number"));
	resp_free(r);
	r = wo_get_ok(tok[SHEQU], id);
	const char *num1 = F("%s", jstr(r->json, "number"));
	resp_free(r);
	assert_true(id2 != id);
	if (strncmp(num1, num2, 10) == 0)
		assert_true(strcmp(num2, num1) > 0);

	/* priority defaults to normal; a grid worker files in the grid */
	r = NULL;
	wo_create_r(
	    tok[WANGGE],
	    F("{\"title\":\"巡查发现\",\"description\":\"井盖松动\",\"category_code\":\"020202\","
	      "\"channel\":\"grid_patrol\",\"unit_id\":%lld}",
	      (long long)u_grid1),
	    &r);
	assert_string_equal(jstr(r->json, "priority"), "normal");
	assert_string_equal(jstr(r->json, "status"), "new");
	resp_free(r);
}

static void wo_create_title_limit(void **state)
{
	(void)state;
	/* 100 characters (Chinese) are fine */
	char title[512] = "";
	for (int i = 0; i < 100; i++)
		strcat(title, "修");
	struct resp *r = NULL;
	wo_create_r(tok[SHEQU],
	            F("{\"title\":\"%s\",\"description\":\"长标题\",\"category_code\":\"0109\","
	              "\"channel\":\"walk_in\",\"unit_id\":%lld}",
	              title, (long long)u_shaliu),
	            &r);
	assert_string_equal(jstr(r->json, "title"), title);
	resp_free(r);
}

static void wo_external_id(void **state)
{
	(void)state;
	const char *ext = F("%s", uniq("12345-"));
	struct resp *r = NULL;
	int64_t id =
	    wo_create_r(tok[SHEQU], body_at(u_shaliu, F("\"external_id\":\"%s\"", ext)), &r);
	const char *number = F("%s", jstr(r->json, "number"));
	assert_string_equal(jstr(r->json, "external_id"), ext);
	resp_free(r);
	int64_t before = wo_total(tok[ADMIN], "");
	/* the same 12345 number again: a conflict naming the existing order */
	r = api(&S, "POST", "/api/v1/work-orders", tok[SHEQU],
	        body_at(u_shaliu, F("\"external_id\":\"%s\"", ext)), NULL);
	assert_error(r, 409, "conflict", NULL);
	if (!contains(jstr(r->json, "error.message"), number))
		print_error("message does not name %s: %s\n", number, r->body);
	assert_true(contains(jstr(r->json, "error.message"), number));
	resp_free(r);
	/* another account, another unit: still the same channel's number */
	r = api(&S, "POST", "/api/v1/work-orders", tok[JIEDAO],
	        body_at(u_shaliuyuan, F("\"external_id\":\"%s\"", ext)), NULL);
	assert_error(r, 409, "conflict", NULL);
	resp_free(r);
	assert_int_equal(wo_total(tok[ADMIN], ""), before);
	/* the same external id on another channel is another order */
	int64_t id2 = wo_create(tok[SHEQU],
	                        F("{\"title\":\"电话转来\",\"description\":\"同号不同渠道\","
	                          "\"category_code\":\"010301\","
	                          "\"channel\":\"phone\",\"unit_id\":%lld,\"external_id\":\"%s\"}",
	                          (long long)u_shaliu, ext));
	assert_true(id2 != id);
	assert_int_equal(wo_total(tok[ADMIN], ""), before + 1);
	/* filter by external_id is not required, but the order keeps it */
	r = wo_get_ok(tok[SHEQU], id2);
	assert_string_equal(jstr(r->json, "external_id"), ext);
	assert_string_equal(jstr(r->json, "channel"), "phone");
	resp_free(r);
}

static void wo_detail(void **state)
{
	(void)state;
	int64_t id = wo_create(tok[SHEQU], body_at(u_beili, NULL));
	struct resp *r = wo_get_ok(tok[SHEQU], id);
	assert_int_equal(jint(r->json, "id"), id);
	assert_string_equal(jstr(r->json, "status"), "new");
	const char *etag = resp_header(r, "ETag");
	assert_non_null(etag);
	assert_string_equal(etag, F("\"%lld\"", (long long)jint(r->json, "version")));
	/* timeline: the creation, by shequ */
	json_t *tl = jpath(r->json, "timeline");
	assert_true(json_is_array(tl));
	assert_true(json_array_size(tl) >= 1);
	json_t *ev = json_array_get(tl, 0);
	assert_true(json_is_integer(jpath(ev, "id")));
	int64_t at;
	assert_true(parse_time(jstr(ev, "at"), &at));
	assert_int_equal(jint(ev, "actor.id"), uid_of[SHEQU]);
	assert_true(*jstr(ev, "actor.display_name"));
	assert_true(*jstr(ev, "action"));
	assert_string_equal(jstr(ev, "to_status"), "new");
	assert_non_null(jpath(ev, "from_status"));
	assert_non_null(jpath(ev, "note"));
	assert_true(json_is_object(jpath(ev, "data")));
	/* no handlers yet */
	assert_true(json_is_array(jpath(r->json, "handlers")));
	assert_int_equal(json_array_size(jpath(r->json, "handlers")), 0);
	/* community staff on a new order */
	assert_true(json_is_array(jpath(r->json, "allowed_actions")));
	assert_string_equal(names_of(jpath(r->json, "allowed_actions")),
	                    "cancel,comment,dispatch,escalate,merge");
	resp_free(r);

	/* dispatched: the handler is listed, the event appended */
	wo_do(tok[SHEQU], id,
	      F("{\"action\":\"dispatch\",\"handler_org_id\":%lld,\"note\":\"请处理\"}",
	        (long long)o_hongrun));
	r = wo_get_ok(tok[SHEQU], id);
	assert_string_equal(jstr(r->json, "status"), "dispatched");
	assert_non_null(handler_entry(r->json, o_hongrun));
	ev = last_event(r->json);
	assert_string_equal(jstr(ev, "action"), "dispatch");
	assert_string_equal(jstr(ev, "from_status"), "new");
	assert_string_equal(jstr(ev, "to_status"), "dispatched");
	assert_string_equal(jstr(ev, "note"), "请处理");
	assert_int_equal(jint(ev, "actor.id"), uid_of[SHEQU]);
	assert_string_equal(names_of(jpath(r->json, "allowed_actions")),
	                    "cancel,comment,escalate,merge");
	resp_free(r);
	/* the handler's view */
	r = wo_get_ok(tok[WUYE], id);
	assert_string_equal(names_of(jpath(r->json, "allowed_actions")), "accept,comment,return");
	resp_free(r);

	/* not found, and outside scope */
	r = api(&S, "GET", "/api/v1/work-orders/99999999", tok[ADMIN], NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = wo_get(tok[SHEQU2], id);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = wo_get(tok[LUSHAN], id);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = wo_get(tok[HEHUOREN], id);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
}

/* A list row is the detail's short form: the same values for every key it has, the
 * long text and the requester's personal data left out. */
static void wo_list_rows(void **state)
{
	(void)state;
	struct resp *c = NULL;
	int64_t id = wo_create_r(
	    tok[SHEQU],
	    F("{\"title\":\"列表\\\"行\\\\检查\\n\",\"description\":\"长描述\\t只在详情\","
	      "\"category_code\":\"010301\",\"channel\":\"hotline_12345\",\"unit_id\":%lld,"
	      "\"address\":\"沙柳北里2号楼\",\"lat\":39.5,\"lng\":117.25,"
	      "\"external_id\":\"LR-1\",\"requester\":{\"name\":\"李女士\",\"phone\":"
	      "\"13912345678\"}}",
	      (long long)u_beili_b1),
	    &c);
	assert_true(id > 0);
	struct resp *d = wo_get_ok(tok[SHEQU], id);
	struct resp *l = apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/work-orders?number=%s",
	                      jstr(c->json, "number"));
	assert_int_equal(l->status, 200);
	assert_int_equal(json_array_size(jpath(l->json, "items")), 1);
	json_t *row = json_array_get(jpath(l->json, "items"), 0);
	const char *key;
	json_t *v;
	json_object_foreach(row, key, v)
	{
		json_t *dv = json_object_get(d->json, key);
		if (!dv || !json_equal(v, dv))
			print_error("list key %s differs from the detail\n", key);
		assert_non_null(dv);
		assert_true(json_equal(v, dv));
	}
	static const char *const listed[] = {"id",          "number",        "title",
	                                     "status",      "category_code", "channel",
	                                     "priority",    "unit_id",       "address",
	                                     "external_id", "accept_due_at", "resolve_due_at",
	                                     "overdue",     "escalated",     "handler_org_id",
	                                     "version",     "created_at",    "updated_at",
	                                     NULL};
	for (const char *const *k = listed; *k; k++) {
		if (!json_object_get(row, *k))
			print_error("list row lacks %s\n", *k);
		assert_non_null(json_object_get(row, *k));
	}
	static const char *const detail_only[] = {"description",     "requester", "requester_name",
	                                          "requester_phone", "lat",       "lng",
	                                          "timeline",        NULL};
	for (const char *const *k = detail_only; *k; k++) {
		if (json_object_get(row, *k))
			print_error("list row has %s\n", *k);
		assert_null(json_object_get(row, *k));
		assert_non_null(json_object_get(d->json, *k));
	}
	/* the detail keeps the phone masked */
	assert_string_equal(jstr(d->json, "requester.phone"), "139****5678");
	assert_string_equal(jstr(row, "title"), "列表\"行\\检查\n");
	resp_free(c);
	resp_free(d);
	resp_free(l);
}

struct filter_case {
	int who;
	const char *query;
	unsigned expect;
};

static void wo_list_filters(void **state)
{
	(void)state;
	const struct filter_case cases[] = {
	    {ADMIN, "", 0x1f},
	    {ADMIN, "status=new", 0x09},
	    {ADMIN, "status=new,cancelled", 0x0d},
	    {ADMIN, "status=dispatched", 0x12},
	    {ADMIN, "status=dispatched,new,cancelled", 0x1f},
	    {ADMIN, "status=closed", 0},
	    {ADMIN, "category_code=01", 0x17},
	    {ADMIN, "category_code=0103", 0x11},
	    {ADMIN, "category_code=010301", 0x01},
	    {ADMIN, "category_code=0105", 0x02},
	    {ADMIN, "category_code=02", 0x08},
	    {ADMIN, "category_code=03", 0},
	    {ADMIN, F("unit_id=%lld", (long long)u_district), 0x1f},
	    {ADMIN, F("unit_id=%lld", (long long)u_dongxin), 0x0f},
	    {ADMIN, F("unit_id=%lld", (long long)u_shaliu), 0x07},
	    {ADMIN, F("unit_id=%lld", (long long)u_beili), 0x03},
	    {ADMIN, F("unit_id=%lld", (long long)u_beili_b1), 0x01},
	    {ADMIN, F("unit_id=%lld", (long long)u_shaliuyuan), 0x04},
	    {ADMIN, F("unit_id=%lld", (long long)u_fengqi), 0x08},
	    {ADMIN, F("unit_id=%lld", (long long)u_qinglin), 0x10},
	    {ADMIN, "channel=hotline_12345", 0x01},
	    {ADMIN, "channel=grid_patrol", 0x08},
	    {ADMIN, "channel=open311", 0},
	    {ADMIN, F("handler_org_id=%lld", (long long)o_hongrun), 0x10},
	    {ADMIN, F("handler_org_id=%lld", (long long)o_dongxin_wuye), 0x02},
	    {ADMIN, F("handler_org_id=%lld", (long long)o_jinshitu), 0},
	    {ADMIN, "overdue=false", 0x1f},
	    {ADMIN, "overdue=true", 0},
	    {ADMIN, "status=new&category_code=01", 0x01},
	    {ADMIN, F("category_code=01&unit_id=%lld", (long long)u_shaliu), 0x07},
	    {ADMIN, F("status=dispatched&unit_id=%lld", (long long)u_dongxin), 0x02},
	    /* scope */
	    {SHEQU, "", 0x07},
	    {SHEQU2, "", 0x08},
	    {JIEDAO, "", 0x0f},
	    {LUSHAN, "", 0x10},
	    {WUYE, "", 0x10},
	    {WANGGE, "", 0},
	    {HEHUOREN, "", 0},
	    {JUMIN, "", 0},
	    {SHEQU, F("unit_id=%lld", (long long)u_fengqi), 0},
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *q = F("%s%s%s", WINDOW, *cases[i].query ? "&" : "", cases[i].query);
		long st;
		unsigned m = list_mask_a(tok[cases[i].who], q, &st);
		if (st != 200 || m != cases[i].expect) {
			print_error("as %s, ?%s: HTTP %ld, corpus set 0x%x, expected 0x%x\n",
			            usernames[cases[i].who], cases[i].query, st, m,
			            cases[i].expect);
			bad++;
			continue;
		}
		int64_t total = wo_total(tok[cases[i].who], q);
		if (total != (int64_t)popcount(cases[i].expect)) {
			print_error("as %s, ?%s: total %lld, expected %u\n",
			            usernames[cases[i].who], cases[i].query, (long long)total,
			            popcount(cases[i].expect));
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void wo_list_bad_filters(void **state)
{
	(void)state;
	const char *bad[] = {"status=open",
	                     "status=new,bogus",
	                     "overdue=yes",
	                     "limit=0",
	                     "limit=501",
	                     "cursor=zzz",
	                     "created_from=yesterday",
	                     "created_to=2026-13-45",
	                     "unit_id=abc",
	                     "count=maybe"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct resp *r =
		    apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/work-orders?%s", bad[i]);
		if (r->status != 400)
			print_error("?%s: %ld %s\n", bad[i], r->status, r->body);
		assert_int_equal(r->status, 400);
		resp_free(r);
	}
}

static void wo_list_created_window(void **state)
{
	(void)state;
	/* between A[1] and A[2] .. between A[3] and A[4]: exactly A[2], A[3] */
	int64_t from = (A_created[1] + A_created[2]) / 2, to = (A_created[3] + A_created[4]) / 2;
	assert_true(A_created[1] < from && from < A_created[2]);
	assert_true(A_created[3] < to && to < A_created[4]);
	long st;
	unsigned m = list_mask_a(
	    tok[ADMIN], F("created_from=%s&created_to=%s", Q(fmt_time(from)), Q(fmt_time(to))),
	    &st);
	assert_int_equal(st, 200);
	assert_int_equal(m, 0x0c);
	/* any offset is accepted: the same instants in UTC */
	m = list_mask_a(tok[ADMIN],
	                F("created_from=%s&created_to=%s", Q(fmt_time_z(from)), Q(fmt_time_z(to))),
	                &st);
	assert_int_equal(st, 200);
	assert_int_equal(m, 0x0c);
	/* only a lower bound before A[0] and an upper one before A[0]: nothing of A */
	m = list_mask_a(tok[ADMIN],
	                F("created_from=%s&created_to=%s", Q(fmt_time(A_created[0] - 3600000)),
	                  Q(fmt_time(A_created[0] - 1))),
	                &st);
	assert_int_equal(st, 200);
	assert_int_equal(m & 0x1f, 0);
	/* created_to alone before A[0]: no corpus order; created_from alone: all of them */
	m = list_mask_a(tok[ADMIN], F("created_to=%s", Q(fmt_time(A_created[0] - 1))), &st);
	assert_int_equal(m & 0x1f, 0);
	m = list_mask_a(tok[ADMIN], F("created_from=%s", Q(fmt_time(A_created[0]))), &st);
	assert_int_equal(m & 0x1f, 0x1f);
}

static void wo_list_paging(void **state)
{
	(void)state;
	char cursor[128] = "";
	unsigned seen = 0;
	int pages = 0, items = 0;
	for (;;) {
		struct resp *r = apif(&S, "GET", tok[ADMIN], NULL,
		                      "/api/v1/work-orders?%s&limit=2&count=true%s%s", WINDOW,
		                      *cursor ? "&cursor=" : "", *cursor ? Q(cursor) : "");
		assert_status(r, 200);
		assert_int_equal(jint(r->json, "total"), NA);
		json_t *arr = jpath(r->json, "items");
		assert_true(json_array_size(arr) <= 2);
		size_t i;
		json_t *it;
		json_array_foreach(arr, i, it)
		{
			int k = -1;
			for (int x = 0; x < NA; x++)
				if (A[x] == jint(it, "id"))
					k = x;
			assert_true(k >= 0);
			assert_false(seen & (1u << k));
			seen |= 1u << k;
			items++;
		}
		pages++;
		json_t *nc = jpath(r->json, "next_cursor");
		assert_non_null(nc);
		if (json_is_null(nc)) {
			resp_free(r);
			break;
		}
		assert_true(json_is_string(nc));
		snprintf(cursor, sizeof cursor, "%s", json_string_value(nc));
		resp_free(r);
		assert_true(pages < 10);
	}
	assert_int_equal(seen, 0x1f);
	assert_int_equal(items, NA);
	assert_int_equal(pages, 3);
	/* without count=true there is no total */
	struct resp *r =
	    apif(&S, "GET", tok[ADMIN], NULL, "/api/v1/work-orders?%s&limit=2", WINDOW);
	assert_status(r, 200);
	assert_null(jpath(r->json, "total"));
	assert_int_equal(json_array_size(jpath(r->json, "items")), 2);
	resp_free(r);
}

struct search_case {
	const char *q;
	unsigned expect; /* bit i = B[i] */
};

static void wo_search(void **state)
{
	(void)state;
	const struct search_case cases[] = {
	    /* one character */
	    {"电", 0x09},
	    {"漏", 0x02},
	    {"停", 0x05},
	    {"楼", 0x03},
	    {"门", 0x10},
	    /* two */
	    {"电梯", 0x09},
	    {"漏水", 0x02},
	    {"纠纷", 0x04},
	    {"号楼", 0x03},
	    {"不亮", 0x10},
	    {"车位", 0x04},
	    {"北门", 0x10},
	    {"火箭", 0},
	    /* three and more */
	    {"电梯困", 0x08},
	    {"楼电梯", 0x01},
	    {"电梯故障", 0x01},
	    {"停车位纠纷", 0x04},
	    {"楼道顶部漏水", 0x02},
	    {"东里北", 0x10},
	    {"电梯维修", 0},
	    {"梯故障停", 0},
	    {"路灯不亮了", 0},
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct resp *r =
		    apif(&S, "GET", tok[ADMIN], NULL,
		         "/api/v1/work-orders?%s&unit_id=%lld&q=%s&count=true&limit=100", BWINDOW,
		         (long long)u_yuancui_xq, Q(cases[i].q));
		unsigned m = 0;
		size_t k;
		json_t *it;
		json_array_foreach(jpath(r->json, "items"), k,
		                   it) for (int x = 0; x < NB; x++) if (B[x] == jint(it, "id")) m |=
		    1u << x;
		if (r->status != 200 || m != cases[i].expect ||
		    jint(r->json, "total") != (int64_t)popcount(cases[i].expect) ||
		    json_array_size(jpath(r->json, "items")) != popcount(cases[i].expect)) {
			print_error(
			    "q=%s: HTTP %ld, set 0x%x (total %lld), expected 0x%x: %.300s\n",
			    cases[i].q, r->status, m, (long long)jint(r->json, "total"),
			    cases[i].expect, r->body);
			bad++;
		}
		resp_free(r);
	}
	assert_int_equal(bad, 0);
	/* the same within the scope of a subdistrict's staff; outside it, nothing */
	assert_int_equal(wo_total(tok[JIEDAO], F("%s&q=%s&unit_id=%lld", BWINDOW, Q("电梯"),
	                                         (long long)u_yuancui_xq)),
	                 2);
	assert_int_equal(wo_total(tok[LUSHAN], F("%s&q=%s&unit_id=%lld", BWINDOW, Q("电梯"),
	                                         (long long)u_yuancui_xq)),
	                 0);
	assert_int_equal(wo_total(tok[SHEQU], F("%s&q=%s&unit_id=%lld", BWINDOW, Q("电梯故障"),
	                                        (long long)u_yuancui_xq)),
	                 0);
	/* no unit filter: the same within the corpus's time window */
	assert_int_equal(wo_total(tok[ADMIN], F("%s&q=%s", BWINDOW, Q("电梯"))), 2);
	assert_int_equal(wo_total(tok[ADMIN], F("%s&q=%s", BWINDOW, Q("停车位纠纷"))), 1);
}

static void wo_search_literal(void **state)
{
	(void)state;
	const struct search_case cases[] = {
	    {"%", 0x20},
	    {"_", 0x20},
	    {"*", 0x20},
	    {"(", 0x20},
	    {"\"", 0x20},
	    {"'", 0x20},
	    {"\\", 0x20},
	    {"OR", 0x20},
	    {"NEAR", 0x20},
	    {"100%", 0x20},
	    {"%_", 0x20},
	    {"00%_", 0x20},
	    {"*(一", 0x20},
	    {"(一)", 0x20},
	    {"\"OR\"", 0x20},
	    {"'NEAR'", 0x20},
	    {"再\\退", 0x20},
	    {"\\退", 0x20},
	    /* special characters that must not act as wildcards or operators */
	    {"%%", 0},
	    {"__", 0},
	    {"电%", 0},
	    {"电_", 0},
	    {"\\%", 0},
	    {"%电梯%", 0},
	    {"电梯 OR 漏水", 0},
	    {"电梯 OR", 0},
	    {"OR 电梯", 0},
	    {"NEAR(电梯 漏水)", 0},
	    {"电梯 NOT 漏水", 0},
	    {"电梯 AND 故障", 0},
	    {"电梯*", 0},
	    {"电*", 0},
	    {"^电梯", 0},
	    {"电梯\"", 0},
	    {"\")", 0},
	    {"' OR '1'='1", 0},
	    {"\" OR \"\"=\"", 0},
	    {"title:电梯", 0},
	    {"{title}: 电梯", 0},
	    {"电梯 + 漏水", 0},
	    {"a_c", 0},
	    {"\\", 0x20},
	    {")", 0x20},
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct resp *r =
		    apif(&S, "GET", tok[ADMIN], NULL,
		         "/api/v1/work-orders?%s&unit_id=%lld&q=%s&count=true&limit=100", BWINDOW,
		         (long long)u_yuancui_xq, Q(cases[i].q));
		unsigned m = 0;
		size_t k;
		json_t *it;
		json_array_foreach(jpath(r->json, "items"), k,
		                   it) for (int x = 0; x < NB; x++) if (B[x] == jint(it, "id")) m |=
		    1u << x;
		if (r->status != 200 || m != cases[i].expect ||
		    jint(r->json, "total") != (int64_t)popcount(cases[i].expect)) {
			print_error(
			    "q=%s: HTTP %ld, set 0x%x (total %lld), expected 0x%x: %.300s\n",
			    cases[i].q, r->status, m, (long long)jint(r->json, "total"),
			    cases[i].expect, r->body);
			bad++;
		}
		resp_free(r);
	}
	assert_int_equal(bad, 0);
	/* and without a unit filter: never everything, never a 500 (exact within the
	 * corpus's window; the demo orders may hold such characters too) */
	int64_t all = wo_total(tok[ADMIN], "");
	const struct search_case wild[] = {{"%", 1},  {"_", 1},  {"*", 1},           {"%%", 0},
	                                   {"__", 0}, {"\"", 1}, {"' OR '1'='1", 0}, {"NEAR", 1},
	                                   {"OR", 1}, {"\\", 1}, {"电梯 OR 漏水", 0}};
	for (size_t i = 0; i < sizeof wild / sizeof wild[0]; i++) {
		int64_t everywhere = wo_total(tok[ADMIN], F("q=%s", Q(wild[i].q)));
		if (everywhere >= all)
			print_error("q=%s matched all %lld orders\n", wild[i].q, (long long)all);
		assert_true(everywhere < all);
		int64_t n = wo_total(tok[ADMIN], F("%s&q=%s", BWINDOW, Q(wild[i].q)));
		if (n != (int64_t)wild[i].expect)
			print_error("q=%s matched %lld in the window, expected %u\n", wild[i].q,
			            (long long)n, wild[i].expect);
		assert_int_equal(n, wild[i].expect);
	}
}

static void wo_patch(void **state)
{
	(void)state;
	int64_t id = wo_create(tok[SHEQU], body_at(u_beili, NULL));
	struct resp *r = wo_get_ok(tok[SHEQU], id);
	int64_t v1 = jint(r->json, "version");
	resp_free(r);
	/* with the current version */
	r = apihf(
	    &S, "PATCH", tok[SHEQU], "{\"title\":\"楼道灯不亮\",\"address\":\"沙柳北里3号楼\"}",
	    F("If-Match: \"%lld\"", (long long)v1), "/api/v1/work-orders/%lld", (long long)id);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "title"), "楼道灯不亮");
	assert_string_equal(jstr(r->json, "address"), "沙柳北里3号楼");
	int64_t v2 = jint(r->json, "version");
	assert_true(v2 > v1);
	assert_non_null(resp_header(r, "ETag"));
	assert_string_equal(resp_header(r, "ETag"), F("\"%lld\"", (long long)v2));
	resp_free(r);
	/* stale: 412, nothing changed */
	r = apihf(&S, "PATCH", tok[SHEQU], "{\"title\":\"过期修改\"}",
	          F("If-Match: \"%lld\"", (long long)v1), "/api/v1/work-orders/%lld",
	          (long long)id);
	assert_error(r, 412, "precondition_failed", NULL);
	resp_free(r);
	r = wo_get_ok(tok[SHEQU], id);
	assert_string_equal(jstr(r->json, "title"), "楼道灯不亮");
	assert_int_equal(jint(r->json, "version"), v2);
	resp_free(r);
	/* read-only and create-only fields, unknown fields */
	const char *bad[][2] = {
	    {"{\"status\":\"closed\"}", "status"},
	    {"{\"number\":\"GZ1\"}", "number"},
	    {"{\"channel\":\"web\"}", "channel"},
	    {"{\"resolve_due_at\":\"2030-01-01T00:00:00+08:00\"}", "resolve_due_at"},
	    {"{\"colour\":\"red\"}", "colour"},
	    {"{\"title\":\"\"}", "title"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = apif(&S, "PATCH", tok[SHEQU], bad[i][0], "/api/v1/work-orders/%lld",
		         (long long)id);
		if (r->status != 400 || strcmp(err_field(r), bad[i][1]) != 0)
			print_error("PATCH %s: %ld %s\n", bad[i][0], r->status, r->body);
		assert_int_equal(r->status, 400);
		assert_string_equal(err_field(r), bad[i][1]);
		resp_free(r);
	}
	r = apif(&S, "PATCH", tok[SHEQU], "{\"colour\":\"red\"}", "/api/v1/work-orders/%lld",
	         (long long)id);
	assert_error(r, 400, "unknown_field", "colour");
	resp_free(r);
	/* while dispatched: still editable (without If-Match too) */
	wo_do(tok[SHEQU], id,
	      F("{\"action\":\"dispatch\",\"handler_org_id\":%lld}", (long long)o_hongrun));
	r = apif(&S, "PATCH", tok[SHEQU], "{\"description\":\"派单后补充说明\"}",
	         "/api/v1/work-orders/%lld", (long long)id);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "description"), "派单后补充说明");
	assert_string_equal(jstr(r->json, "status"), "dispatched");
	resp_free(r);
	/* to closed */
	wo_do(tok[WUYE], id, "{\"action\":\"accept\"}");
	wo_do(tok[WUYE], id, "{\"action\":\"resolve\",\"result\":\"已更换灯泡\"}");
	wo_do(tok[SHEQU], id, "{\"action\":\"verify\",\"passed\":true}");
	assert_string_equal(
	    wo_do(tok[SHEQU], id,
	          "{\"action\":\"callback\",\"satisfaction\":\"satisfied\",\"solved\":true}"),
	    "closed");
	r = wo_get_ok(tok[SHEQU], id);
	int64_t vc = jint(r->json, "version");
	resp_free(r);
	r = apihf(&S, "PATCH", tok[SHEQU], "{\"title\":\"关闭后修改\"}",
	          F("If-Match: \"%lld\"", (long long)vc), "/api/v1/work-orders/%lld",
	          (long long)id);
	assert_status(r, 409);
	assert_true(strcmp(err_code(r), "conflict") == 0 ||
	            strcmp(err_code(r), "invalid_transition") == 0);
	resp_free(r);
	r = wo_get_ok(tok[SHEQU], id);
	assert_string_equal(jstr(r->json, "title"), "楼道灯不亮");
	assert_int_equal(jint(r->json, "version"), vc);
	resp_free(r);
	/* a cancelled order is not open either */
	int64_t id2 = wo_create(tok[SHEQU], body_at(u_beili, NULL));
	wo_do(tok[SHEQU], id2, "{\"action\":\"cancel\",\"reason\":\"重复\"}");
	r = apif(&S, "PATCH", tok[SHEQU], "{\"title\":\"取消后修改\"}", "/api/v1/work-orders/%lld",
	         (long long)id2);
	assert_status(r, 409);
	resp_free(r);
	/* outside scope */
	int64_t id3 = wo_create(tok[SHEQU], body_at(u_beili, NULL));
	r = apif(&S, "PATCH", tok[SHEQU2], "{\"title\":\"越权修改\"}", "/api/v1/work-orders/%lld",
	         (long long)id3);
	assert_true(r->status == 404 || r->status == 403);
	resp_free(r);
	r = wo_get_ok(tok[SHEQU], id3);
	assert_string_equal(jstr(r->json, "title"), "测试工单");
	resp_free(r);
}

static void wo_idempotency(void **state)
{
	(void)state;
	const char *hdr = F("Idempotency-Key: %s", uniq("wo-key-"));
	int64_t before = wo_total(tok[ADMIN], "");
	const char *body =
	    F("{\"title\":\"幂等工单\",\"description\":\"重复提交\",\"category_code\":\"0109\","
	      "\"channel\":\"web\",\"unit_id\":%lld}",
	      (long long)u_shaliu);
	struct resp *r1 = api(&S, "POST", "/api/v1/work-orders", tok[SHEQU], body, hdr);
	assert_status(r1, 201);
	struct resp *r2 = api(&S, "POST", "/api/v1/work-orders", tok[SHEQU], body, hdr);
	assert_status(r2, 201);
	assert_int_equal(jint(r2->json, "id"), jint(r1->json, "id"));
	assert_string_equal(jstr(r2->json, "number"), jstr(r1->json, "number"));
	resp_free(r1);
	resp_free(r2);
	assert_int_equal(wo_total(tok[ADMIN], ""), before + 1);
	/* another account's key of the same name is its own */
	struct resp *r3 = api(&S, "POST", "/api/v1/work-orders", tok[JIEDAO], body, hdr);
	assert_status(r3, 201);
	resp_free(r3);
	assert_int_equal(wo_total(tok[ADMIN], ""), before + 2);
}

struct racer {
	pthread_barrier_t *barrier;
	const char *token;
	int64_t id;
	long status;
	char code[64];
};

static void *race(void *arg)
{
	struct racer *x = arg;
	pthread_barrier_wait(x->barrier);
	struct resp *r = wo_act(x->token, x->id, "{\"action\":\"accept\",\"note\":\"抢单\"}");
	x->status = r ? r->status : 0;
	snprintf(x->code, sizeof x->code, "%s", r ? err_code(r) : "");
	resp_free(r);
	return NULL;
}

static void wo_concurrent_accept(void **state)
{
	(void)state;
	for (int round = 0; round < 6; round++) {
		int64_t id = wo_create(tok[SHEQU], body_at(u_shaliu, NULL));
		wo_do(tok[SHEQU], id,
		      F("{\"action\":\"dispatch\",\"handler_org_id\":%lld}", (long long)o_hongrun));
		pthread_barrier_t b;
		pthread_barrier_init(&b, NULL, 2);
		struct racer x[2] = {{&b, tok[WUYE], id, 0, ""}, {&b, tok[WUYE], id, 0, ""}};
		pthread_t t[2];
		for (int i = 0; i < 2; i++)
			assert_int_equal(pthread_create(&t[i], NULL, race, &x[i]), 0);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&b);
		int ok = 0, conflict = 0;
		for (int i = 0; i < 2; i++) {
			if (x[i].status == 200)
				ok++;
			else if (x[i].status == 409 && strcmp(x[i].code, "invalid_transition") == 0)
				conflict++;
			else
				print_error("round %d racer %d: %ld %s\n", round, i, x[i].status,
				            x[i].code);
		}
		assert_int_equal(ok, 1);
		assert_int_equal(conflict, 1);
		struct resp *r = wo_get_ok(tok[SHEQU], id);
		assert_string_equal(jstr(r->json, "status"), "accepted");
		assert_int_equal(count_events(r->json, "accept"), 1);
		resp_free(r);
	}
}

struct creator {
	pthread_barrier_t *barrier;
	const char *token, *body, *headers;
	long status;
	int64_t id;
	char number[32], code[64];
};

static void *create_race(void *arg)
{
	struct creator *x = arg;
	pthread_barrier_wait(x->barrier);
	struct resp *r = api(&S, "POST", "/api/v1/work-orders", x->token, x->body, x->headers);
	x->status = r ? r->status : 0;
	x->id = r ? jint(r->json, "id") : 0;
	snprintf(x->number, sizeof x->number, "%s", r ? jstr(r->json, "number") : "");
	snprintf(x->code, sizeof x->code, "%s", r ? err_code(r) : "");
	resp_free(r);
	return NULL;
}

enum { NRACE = 8 };

/* NRACE creates at once; returns the number of 201s */
static int create_at_once(struct creator *x, const char *const *bodies, const char *headers)
{
	pthread_barrier_t b;
	pthread_barrier_init(&b, NULL, NRACE);
	pthread_t t[NRACE];
	for (int i = 0; i < NRACE; i++) {
		x[i] = (struct creator){&b, tok[SHEQU], bodies[i], headers, 0, 0, "", ""};
		assert_int_equal(pthread_create(&t[i], NULL, create_race, &x[i]), 0);
	}
	for (int i = 0; i < NRACE; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&b);
	int created = 0;
	for (int i = 0; i < NRACE; i++)
		created += x[i].status == 201;
	return created;
}

static void wo_concurrent_create(void **state)
{
	(void)state;
	struct creator x[NRACE];
	const char *bodies[NRACE];
	/* distinct orders: distinct numbers */
	int64_t before = wo_total(tok[ADMIN], "");
	for (int i = 0; i < NRACE; i++)
		bodies[i] =
		    F("{\"title\":\"并发%d\",\"description\":\"d\",\"category_code\":\"0109\","
		      "\"channel\":\"walk_in\",\"unit_id\":%lld}",
		      i, (long long)u_shaliu);
	assert_int_equal(create_at_once(x, bodies, NULL), NRACE);
	for (int i = 0; i < NRACE; i++)
		for (int k = 0; k < i; k++) {
			assert_true(x[i].id != x[k].id);
			if (strcmp(x[i].number, x[k].number) == 0)
				print_error("two orders numbered %s\n", x[i].number);
			assert_string_not_equal(x[i].number, x[k].number);
		}
	assert_int_equal(wo_total(tok[ADMIN], ""), before + NRACE);
	/* one 12345 number at once: one order, the others 409 */
	const char *ext = F("%s", uniq("race-"));
	for (int i = 0; i < NRACE; i++)
		bodies[i] =
		    F("{\"title\":\"同号并发%d\",\"description\":\"d\",\"category_code\":\"0109\","
		      "\"channel\":\"hotline_12345\",\"unit_id\":%lld,\"external_id\":\"%s\"}",
		      i, (long long)u_shaliu, ext);
	int created = create_at_once(x, bodies, NULL);
	for (int i = 0; i < NRACE; i++)
		if (x[i].status != 201 &&
		    !(x[i].status == 409 && strcmp(x[i].code, "conflict") == 0))
			print_error("racer %d: %ld %s\n", i, x[i].status, x[i].code);
	assert_int_equal(created, 1);
	for (int i = 0; i < NRACE; i++)
		assert_true(x[i].status == 201 || x[i].status == 409);
	assert_int_equal(wo_total(tok[ADMIN], ""), before + NRACE + 1);
	/* one Idempotency-Key at once: one order, every answer the same */
	const char *hdr = F("Idempotency-Key: %s", uniq("race-key-"));
	for (int i = 0; i < NRACE; i++)
		bodies[i] =
		    F("{\"title\":\"同键并发\",\"description\":\"d\",\"category_code\":\"0109\","
		      "\"channel\":\"walk_in\",\"unit_id\":%lld}",
		      (long long)u_shaliu);
	created = create_at_once(x, bodies, hdr);
	for (int i = 0; i < NRACE; i++)
		if (x[i].status != 201 || x[i].id != x[0].id)
			print_error("racer %d: %ld id %lld %s\n", i, x[i].status,
			            (long long)x[i].id, x[i].code);
	assert_int_equal(created, NRACE);
	for (int i = 1; i < NRACE; i++)
		assert_int_equal(x[i].id, x[0].id);
	assert_int_equal(wo_total(tok[ADMIN], ""), before + NRACE + 2);
}

struct bad_create {
	int who;
	const char *body;
	long status;
	const char *code;  /* NULL: any */
	const char *field; /* NULL: not checked */
};

/* The search index is fed at the end of each commit batch: orders filed together,
 * edited twice in a row, are found by their current text and no longer by the old. */
static void wo_search_follows_changes(void **state)
{
	(void)state;
	static const char *const words[NRACE] = {"甲子蓝鲸", "乙丑白鹭", "丙寅青松", "丁卯红枫",
	                                         "戊辰金桂", "己巳银杏", "庚午紫藤", "辛未翠竹"};
	const char *bodies[NRACE];
	char buf[NRACE][512];
	for (int i = 0; i < NRACE; i++) {
		snprintf(buf[i], sizeof buf[i],
		         "{\"title\":\"索引%s\",\"description\":\"批量描述%s号\",\"category_code\":"
		         "\"010301\",\"channel\":\"web\",\"unit_id\":%lld,\"address\":\"地址%s\"}",
		         words[i], words[i], (long long)u_beili, words[i]);
		bodies[i] = buf[i];
	}
	struct creator x[NRACE];
	assert_int_equal(create_at_once(x, bodies, NULL), NRACE);
	for (int i = 0; i < NRACE; i++) {
		/* each found once, by title, description and address words */
		assert_int_equal(wo_total(tok[ADMIN], F("q=%s", Q(F("索引%s", words[i])))), 1);
		assert_int_equal(wo_total(tok[ADMIN], F("q=%s", Q(F("描述%s号", words[i])))), 1);
		assert_int_equal(wo_total(tok[ADMIN], F("q=%s", Q(words[i]))), 1);
	}
	/* two edits of the title and address: only the latest text is found */
	int64_t id = x[0].id;
	struct resp *r = apif(&S, "PATCH", tok[SHEQU], "{\"title\":\"改名一次壬申\"}",
	                      "/api/v1/work-orders/%lld", (long long)id);
	assert_status(r, 200);
	resp_free(r);
	r = apif(&S, "PATCH", tok[SHEQU], "{\"title\":\"再改一次癸酉\",\"address\":\"新址甲戌\"}",
	         "/api/v1/work-orders/%lld", (long long)id);
	assert_status(r, 200);
	resp_free(r);
	assert_int_equal(wo_total(tok[ADMIN], F("q=%s", Q("索引甲子蓝鲸"))), 0);
	assert_int_equal(wo_total(tok[ADMIN], F("q=%s", Q("改名一次壬申"))), 0);
	assert_int_equal(wo_total(tok[ADMIN], F("q=%s", Q("地址甲子"))), 0);
	assert_int_equal(wo_total(tok[ADMIN], F("q=%s", Q("再改一次癸酉"))), 1);
	assert_int_equal(wo_total(tok[ADMIN], F("q=%s", Q("新址甲戌"))), 1);
	/* the description was not edited: still found */
	assert_int_equal(wo_total(tok[ADMIN], F("q=%s", Q("描述甲子蓝鲸号"))), 1);
	/* a rejected edit (stale version) leaves the index as it was */
	r = apihf(&S, "PATCH", tok[SHEQU], "{\"title\":\"不该出现乙亥\"}", "If-Match: \"1\"",
	          "/api/v1/work-orders/%lld", (long long)id);
	assert_error(r, 412, "precondition_failed", NULL);
	resp_free(r);
	assert_int_equal(wo_total(tok[ADMIN], F("q=%s", Q("不该出现乙亥"))), 0);
	assert_int_equal(wo_total(tok[ADMIN], F("q=%s", Q("再改一次癸酉"))), 1);
}

static void wo_create_bad_input(void **state)
{
	(void)state;
	char long_title[512] = "";
	for (int i = 0; i < 101; i++)
		strcat(long_title, "长");
	const char *base = "\"description\":\"坏输入\",\"channel\":\"web\"";
	const struct bad_create cases[] = {
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":\"019999\",\"unit_id\":%lld}", base,
	       (long long)u_shaliu),
	     400, NULL, "category_code"},
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":\"\",\"unit_id\":%lld}", base,
	       (long long)u_shaliu),
	     400, NULL, "category_code"},
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":10301,\"unit_id\":%lld}", base,
	       (long long)u_shaliu),
	     400, NULL, "category_code"},
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld}", base,
	       (long long)u_fengqi),
	     403, "forbidden", NULL},
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld}", base,
	       (long long)u_qinglin),
	     403, "forbidden", NULL},
	    {JIEDAO,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld}", base,
	       (long long)u_dongxin),
	     400, NULL, "unit_id"},
	    {ADMIN,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld}", base,
	       (long long)u_district),
	     400, NULL, "unit_id"},
	    {ADMIN,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":99999999}", base), 400,
	     NULL, "unit_id"},
	    {ADMIN,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":\"%lld\"}", base,
	       (long long)u_shaliu),
	     400, NULL, "unit_id"},
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld,\"lat\":200,"
	       "\"lng\":117.28}",
	       base, (long long)u_shaliu),
	     400, NULL, "lat"},
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld,\"lat\":-90.5,"
	       "\"lng\":117.28}",
	       base, (long long)u_shaliu),
	     400, NULL, "lat"},
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld,\"lat\":\"39.1\","
	       "\"lng\":117.28}",
	       base, (long long)u_shaliu),
	     400, NULL, "lat"},
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld,\"lat\":39.1,"
	       "\"lng\":181}",
	       base, (long long)u_shaliu),
	     400, NULL, "lng"},
	    {SHEQU,
	     F("{\"title\":\"%s\",%s,\"category_code\":\"010301\",\"unit_id\":%lld}", long_title,
	       base, (long long)u_shaliu),
	     400, NULL, "title"},
	    {SHEQU,
	     F("{\"title\":\"\",%s,\"category_code\":\"010301\",\"unit_id\":%lld}", base,
	       (long long)u_shaliu),
	     400, NULL, "title"},
	    {SHEQU,
	     F("{%s,\"category_code\":\"010301\",\"unit_id\":%lld}", base, (long long)u_shaliu),
	     400, NULL, "title"},
	    {SHEQU,
	     F("{\"title\":\"t\",\"description\":\"d\",\"category_code\":\"010301\",\"unit_id\":%"
	       "lld}",
	       (long long)u_shaliu),
	     400, NULL, "channel"},
	    {SHEQU,
	     F("{\"title\":\"t\",\"description\":\"d\",\"channel\":\"fax\",\"category_code\":"
	       "\"010301\","
	       "\"unit_id\":%lld}",
	       (long long)u_shaliu),
	     400, NULL, "channel"},
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld,\"priority\":"
	       "\"asap\"}",
	       base, (long long)u_shaliu),
	     400, NULL, "priority"},
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld,\"colour\":"
	       "\"red\"}",
	       base, (long long)u_shaliu),
	     400, "unknown_field", "colour"},
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld,\"status\":"
	       "\"closed\"}",
	       base, (long long)u_shaliu),
	     400, NULL, "status"},
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld,\"number\":"
	       "\"GZ1\"}",
	       base, (long long)u_shaliu),
	     400, NULL, "number"},
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld,\"requester\":{"
	       "\"age\":3}}",
	       base, (long long)u_shaliu),
	     400, NULL, NULL},
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld,\"requester\":"
	       "\"王\"}",
	       base, (long long)u_shaliu),
	     400, NULL, NULL},
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld,\"requester_org_"
	       "id\":99999999}",
	       base, (long long)u_shaliu),
	     400, NULL, "requester_org_id"},
	    {SHEQU,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld,\"external_id\":"
	       "\"\"}",
	       base, (long long)u_shaliu),
	     400, NULL, "external_id"},
	    {SHEQU, "[1,2]", 400, NULL, NULL},
	    {SHEQU, "{\"title\":", 400, "invalid_json", NULL},
	    {SHEQU, "", 400, NULL, NULL},
	    /* roles that may not file orders */
	    {WUYE,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld}", base,
	       (long long)u_qinglin),
	     403, "forbidden", NULL},
	    {HEHUOREN,
	     F("{\"title\":\"t\",%s,\"category_code\":\"010301\",\"unit_id\":%lld}", base,
	       (long long)u_shaliu),
	     403, "forbidden", NULL},
	};
	int64_t before = wo_total(tok[ADMIN], "");
	int bad = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct resp *r =
		    api(&S, "POST", "/api/v1/work-orders", tok[cases[i].who], cases[i].body, NULL);
		bool ok = r->status == cases[i].status && jpath(r->json, "error.message") &&
		          (!cases[i].code || strcmp(err_code(r), cases[i].code) == 0) &&
		          (!cases[i].field || strcmp(err_field(r), cases[i].field) == 0);
		if (!ok) {
			print_error(
			    "case %zu as %s: %.300s\n -> %ld %s (expected %ld %s field %s)\n", i,
			    usernames[cases[i].who], cases[i].body, r->status, r->body,
			    cases[i].status, cases[i].code ? cases[i].code : "*",
			    cases[i].field ? cases[i].field : "*");
			bad++;
		}
		resp_free(r);
		int64_t now_total = wo_total(tok[ADMIN], "");
		if (now_total != before) {
			print_error("case %zu wrote something: %lld orders, was %lld\n", i,
			            (long long)now_total, (long long)before);
			before = now_total;
			bad++;
		}
	}
	/* invalid UTF-8 in a string (raw bytes, and a lone surrogate escape) */
	const char *raw[] = {"\xff\xfe", "\xe7\x94", "\xc0\xaf", "\xed\xa0\x80"};
	for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
		const char *b =
		    F("{\"title\":\"坏%s字\",\"description\":\"d\",\"category_code\":\"010301\","
		      "\"channel\":\"web\",\"unit_id\":%lld}",
		      raw[i], (long long)u_shaliu);
		struct resp *r = api(&S, "POST", "/api/v1/work-orders", tok[SHEQU], b, NULL);
		if (r->status != 400) {
			print_error("invalid UTF-8 %zu: %ld %s\n", i, r->status, r->body);
			bad++;
		}
		resp_free(r);
	}
	struct resp *r =
	    api(&S, "POST", "/api/v1/work-orders", tok[SHEQU],
	        F("{\"title\":\"\\ud800x\",\"description\":\"d\",\"category_code\":\"010301\","
	          "\"channel\":\"web\",\"unit_id\":%lld}",
	          (long long)u_shaliu),
	        NULL);
	if (r->status != 400) {
		print_error("lone surrogate: %ld %s\n", r->status, r->body);
		bad++;
	}
	resp_free(r);
	r = api(
	    &S, "POST", "/api/v1/work-orders", tok[SHEQU],
	    F("{\"title\":\"nul\\u0000byte\",\"description\":\"d\",\"category_code\":\"010301\","
	      "\"channel\":\"web\",\"unit_id\":%lld}",
	      (long long)u_shaliu),
	    NULL);
	if (r->status != 400) {
		print_error("NUL in a string: %ld %s\n", r->status, r->body);
		bad++;
	}
	resp_free(r);
	int64_t after = wo_total(tok[ADMIN], "");
	if (after != before)
		print_error("the invalid UTF-8 cases wrote %lld orders\n",
		            (long long)(after - before));
	assert_int_equal(after, before);
	assert_int_equal(bad, 0);
}

static void wo_residents(void **state)
{
	(void)state;
	/* a resident files through the web channel (the demo's resident has filed some
	 * reports of its own already) */
	struct resp *r = NULL;
	int64_t before = wo_total(tok[JUMIN], "");
	int64_t mine = wo_create_r(tok[JUMIN],
	                           F("{\"title\":\"楼道灯坏了\",\"description\":"
	                             "\"5号楼2单元楼道灯不亮\",\"category_code\":\"010901\","
	                             "\"channel\":\"web\",\"unit_id\":%lld}",
	                             (long long)u_beili_b1),
	                           &r);
	assert_string_equal(jstr(r->json, "status"), "new");
	assert_string_equal(jstr(r->json, "channel"), "web");
	resp_free(r);
	int64_t mine2 = wo_create(tok[JUMIN], F("{\"title\":\"垃圾未清运\",\"description\":"
	                                        "\"门口垃圾两天未清\",\"category_code\":\"010601\","
	                                        "\"channel\":\"web\",\"unit_id\":%lld}",
	                                        (long long)u_shaliu));
	/* staff's order in the same community */
	int64_t theirs = wo_create(tok[SHEQU], body_at(u_beili_b1, NULL));

	/* the resident sees exactly their own orders */
	r = api(&S, "GET", "/api/v1/work-orders?count=true&limit=500", tok[JUMIN], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "total"), before + 2);
	assert_int_equal(json_array_size(jpath(r->json, "items")), before + 2);
	assert_true(items_have(r->json, mine));
	assert_true(items_have(r->json, mine2));
	resp_free(r);
	r = wo_get(tok[JUMIN], theirs);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = wo_get(tok[JUMIN], A[0]);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = wo_act(tok[JUMIN], theirs, "{\"action\":\"comment\",\"note\":\"我也遇到了\"}");
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	/* … and the community's staff see the resident's orders */
	r = wo_get_ok(tok[SHEQU], mine);
	resp_free(r);

	/* comments: internal ones stay with the staff */
	wo_do(tok[SHEQU], mine,
	      "{\"action\":\"comment\",\"note\":\"内部备注：该户多次投诉\",\"internal\":true}");
	wo_do(tok[SHEQU], mine, "{\"action\":\"comment\",\"note\":\"已联系物业，请耐心等待\"}");
	wo_do(tok[JUMIN], mine, "{\"action\":\"comment\",\"note\":\"谢谢\"}");
	r = wo_get_ok(tok[JUMIN], mine);
	assert_false(contains(r->body, "内部备注"));
	assert_true(contains(r->body, "已联系物业"));
	assert_true(contains(r->body, "谢谢"));
	assert_string_equal(names_of(jpath(r->json, "allowed_actions")), "comment");
	resp_free(r);
	r = wo_get_ok(tok[SHEQU], mine);
	assert_true(contains(r->body, "内部备注"));
	assert_true(contains(r->body, "谢谢"));
	resp_free(r);
	/* the resident cannot manage the order */
	r = wo_act(tok[JUMIN], mine, "{\"action\":\"cancel\",\"reason\":\"不需要了\"}");
	assert_error(r, 409, "invalid_transition", NULL);
	resp_free(r);
	r = apif(&S, "PATCH", tok[JUMIN], "{\"title\":\"改标题\"}", "/api/v1/work-orders/%lld",
	         (long long)mine);
	assert_true(r->status == 403 || r->status == 404);
	resp_free(r);
	/* still two more */
	assert_int_equal(wo_total(tok[JUMIN], ""), before + 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(wo_unauthenticated),
	    cmocka_unit_test(wo_list_filters),
	    cmocka_unit_test(wo_list_bad_filters),
	    cmocka_unit_test(wo_list_created_window),
	    cmocka_unit_test(wo_list_paging),
	    cmocka_unit_test(wo_search),
	    cmocka_unit_test(wo_search_literal),
	    cmocka_unit_test(wo_create_ok),
	    cmocka_unit_test(wo_create_title_limit),
	    cmocka_unit_test(wo_external_id),
	    cmocka_unit_test(wo_detail),
	    cmocka_unit_test(wo_list_rows),
	    cmocka_unit_test(wo_patch),
	    cmocka_unit_test(wo_idempotency),
	    cmocka_unit_test(wo_concurrent_accept),
	    cmocka_unit_test(wo_concurrent_create),
	    cmocka_unit_test(wo_search_follows_changes),
	    cmocka_unit_test(wo_create_bad_input),
	    cmocka_unit_test(wo_residents),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
