/* t90-authz: the authorisation matrix, generated from the route table.
 *
 * The server describes every route in /api/v1/openapi.json with the roles that may
 * call it (x-roles, from its permission) and the entity whose {id} row it acts on
 * (x-row).  This suite takes that list and, for every route, every role (and no
 * login) and every row of a pool that stands in each relation to the roles — a row
 * of the role's own, rows in and out of its unit scope, a row of another
 * organisation — sends the request and checks the answer: 2xx when the role holds
 * the permission and reaches the row, 403 when it lacks the permission, 404 when the
 * row lies outside its reach (with the very message a missing row gets), 401 with no
 * login.  Which role reaches which pool row is written down here, once, from the
 * rule in DESIGN.md (unit roles: their subtree; partner and property accounts: their
 * organisation's rows; everyone: their own).  A route the server has and this file
 * has no case for fails the suite: a new module's routes are covered by adding rows
 * to cases[], not by writing tests. */
#include "harness.h"
#include <stdio.h>
#include <stdlib.h>

enum { ADM, SUB, COM, GRD, PAR, PRO, MED, RES, NROLES, ANON = NROLES };
static const char *const role_names[NROLES] = {
    "admin",   "subdistrict_staff", "community_staff", "grid_worker",
    "partner", "property",          "mediator",        "resident"};
static const char *const logins[NROLES] = {"admin",    "jiedao", "shequ",   "wangge",
                                           "hehuoren", "wuye",   "tiaojie", "jumin"};

static struct srv S;
static struct fixture fx;
static char *tok[NROLES];
static int64_t self_id[NROLES];
static int64_t u_grid, u_sl, u_dx, u_out, o_property, o_partner, o_bank, o_hospital;
static char mark[32]; /* a word in the names of this suite's rows */

/* A pool: rows of one entity, each with the roles that reach it ("yyy-----": admin,
 * subdistrict, community, grid, partner, property, mediator, resident). */
struct row {
	int64_t id;
	const char *reach;  /* who reaches the row (reads; writes too unless global) */
	const char *wreach; /* global-read entities: who may write it (out of reach: 403) */
	bool self;          /* the calling role's own row (id from self_id) */
	int64_t aid;        /* an attachment of the row (work orders) */
};
struct pool {
	const char *entity;
	bool global; /* every holder of the read permission sees every row */
	struct row rows[4];
	int n;
};
static struct pool P_WO = {"work_order"}, P_USER = {"user"}, P_UNIT = {"unit"},
                   P_ORG = {"org", true}, P_DICT = {"dict_entry", true}, P_SLA = {"sla_rule", true},
                   P_KEY = {"api_key"}, P_NOTICE = {"notice"};

enum kind { PUBLIC, SELF, PERM, ROW, CREATE };
struct kase {
	const char *method, *pattern;
	enum kind kind;
	struct pool *pool;
	int ok; /* the success status */
	/* the body for role k (on row i, or with the unit inside its scope when in) */
	const char *(*body)(int k, int i, bool in);
	bool upload;
	/* CREATE: the roles ("-------y") that may still create when the body names a unit
	 * outside their scope (otherwise 403; admin has no outside) */
	const char *out_ok;
	const char *query; /* a query string the route needs */
};

static const char *in_unit_of(int k)
{
	return F("%lld", (long long)(k == GRD ? u_grid : u_sl));
}

/* ---- bodies ---- */
static const char *b_none(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return NULL;
}
static const char *b_login(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return "{\"username\":\"jiedao\",\"password\":\"" DEMO_PW "\"}";
}
static const char *b_password(int k, int i, bool in)
{
	(void)k, (void)i, (void)in; /* a wrong old password: authorised, then refused */
	return "{\"old_password\":\"not-the-password\",\"new_password\":\"Another-Pass-2026!\"}";
}
static const char *b_totp_code(int k, int i, bool in)
{
	(void)k, (void)i, (void)in; /* a wrong code: authorised, then refused */
	return "{\"code\":\"000000\"}";
}
static const char *b_totp_disable(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return "{\"password\":\"not-the-password\",\"code\":\"000000\"}";
}
static const char *b_wo_create(int k, int i, bool in)
{
	(void)i;
	return F("{\"title\":\"矩阵%s\",\"description\":\"权限矩阵\",\"category_code\":\"010101\","
	         "\"channel\":\"%s\",\"unit_id\":%s}",
	         mark, k == RES ? "web" : "walk_in",
	         in ? in_unit_of(k) : F("%lld", (long long)u_out));
}
static const char *b_wo_patch(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return F("{\"title\":\"矩阵%s改\"}", mark);
}
static const char *b_comment(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return "{\"action\":\"comment\",\"note\":\"矩阵\"}";
}
static const char *b_reveal(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return "{\"field\":\"requester_phone\",\"purpose\":\"矩阵回访\"}";
}
static const char *b_user_create(int k, int i, bool in)
{
	(void)i;
	return F("{\"username\":\"%s\",\"display_name\":\"矩阵\",\"password\":\"Matrix-Pass-2026\","
	         "\"roles\":[\"resident\"],\"unit_id\":%s}",
	         uniq("mx"), in ? in_unit_of(k) : F("%lld", (long long)u_out));
}
static const char *b_name(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return F("{\"display_name\":\"矩阵%s\"}", mark);
}
static const char *b_unit_create(int k, int i, bool in)
{
	(void)i;
	return F("{\"parent_id\":%s,\"kind\":\"grid\",\"name\":\"%s\"}",
	         in ? in_unit_of(k) : F("%lld", (long long)u_out), uniq("矩阵网格"));
}
static const char *b_sort(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return "{\"sort\":7}";
}
static const char *b_org_create(int k, int i, bool in)
{
	(void)i;
	return F("{\"kind\":\"shop\",\"name\":\"%s\",\"unit_id\":%s}", uniq("矩阵商店"),
	         in ? in_unit_of(k) : F("%lld", (long long)u_out));
}
static const char *b_desc(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return "{\"description\":\"矩阵\"}";
}
static const char *b_dict_create(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return F("{\"code\":\"%s\",\"name\":\"矩阵\"}", uniq("mx"));
}
static const char *b_dict_patch(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return "{\"sort\":3}";
}
static const char *b_sla_create(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return F("{\"category_code\":\"%s\",\"priority\":\"low\",\"accept_hours\":8,"
	         "\"resolve_workdays\":9}",
	         mark);
}
static const char *b_sla_patch(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return "{\"accept_hours\":8}";
}
static const char *b_key_create(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return F("{\"name\":\"%s\",\"user_id\":%lld}", uniq("mx"), (long long)self_id[COM]);
}
static const char *b_key_patch(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return "{\"name\":\"矩阵\"}";
}
static const char *b_notice_create(int k, int i, bool in)
{
	(void)i;
	return F("{\"title\":\"矩阵\",\"body\":\"矩阵\",\"category\":\"notice\",\"unit_id\":%s}",
	         in ? in_unit_of(k) : F("%lld", (long long)u_out));
}
static const char *b_notice_patch(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return "{\"pinned\":true}";
}
static const char *b_notice_withdraw_draft(int k, int i, bool in)
{
	(void)k, (void)i, (void)in; /* a draft cannot be withdrawn: reached, then refused */
	return "{\"action\":\"withdraw\"}";
}
static const char *b_read_all(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return "{\"all\":true}";
}
static const char *calendar_body;
static const char *b_calendar(int k, int i, bool in)
{
	(void)k, (void)i, (void)in;
	return calendar_body;
}

/* Every route the server has: method, pattern, how to call it.  (Routes of later
 * modules get their rows here.) */
static const struct kase cases[] = {
    {"GET", "/healthz", PUBLIC, NULL, 200, b_none},
    {"GET", "/metrics", PUBLIC, NULL, 200, b_none},
    {"GET", "/api/v1/openapi.json", PUBLIC, NULL, 200, b_none},
    {"GET", "/api/v1/meta", SELF, NULL, 200, b_none},
    {"POST", "/api/v1/auth/login", PUBLIC, NULL, 200, b_login},
    {"POST", "/api/v1/auth/logout", SELF, NULL, 204, b_none},
    {"GET", "/api/v1/auth/me", SELF, NULL, 200, b_none},
    {"GET", "/api/v1/todo", SELF, NULL, 200, b_none},
    {"POST", "/api/v1/auth/password", SELF, NULL, 400, b_password},
    /* the second factor: every account for itself (integration keys are refused) */
    {"POST", "/api/v1/auth/totp/enrol", SELF, NULL, 200, b_none},
    {"POST", "/api/v1/auth/totp/confirm", SELF, NULL, 400, b_totp_code},
    {"POST", "/api/v1/auth/totp/disable", SELF, NULL, 409, b_totp_disable},
    {"GET", "/api/v1/users", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/users/export.csv", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/users/export.xlsx", PERM, NULL, 200, b_none},
    {"POST", "/api/v1/users", CREATE, NULL, 201, b_user_create},
    {"GET", "/api/v1/users/{id}", ROW, &P_USER, 200, b_none},
    {"PATCH", "/api/v1/users/{id}", ROW, &P_USER, 200, b_name},
    {"GET", "/api/v1/api-keys", PERM, NULL, 200, b_none},
    {"POST", "/api/v1/api-keys", PERM, NULL, 201, b_key_create},
    {"GET", "/api/v1/api-keys/{id}", ROW, &P_KEY, 200, b_none},
    {"PATCH", "/api/v1/api-keys/{id}", ROW, &P_KEY, 200, b_key_patch},
    {"GET", "/api/v1/audit", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/audit/export.csv", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/audit/export.xlsx", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/audit/verify", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/units", PERM, NULL, 200, b_none},
    {"POST", "/api/v1/units", CREATE, NULL, 201, b_unit_create},
    {"GET", "/api/v1/units/{id}", ROW, &P_UNIT, 200, b_none},
    {"PATCH", "/api/v1/units/{id}", ROW, &P_UNIT, 200, b_sort},
    {"GET", "/api/v1/units/{id}/tree", ROW, &P_UNIT, 200, b_none},
    {"GET", "/api/v1/orgs", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/orgs/export.csv", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/orgs/export.xlsx", PERM, NULL, 200, b_none},
    {"POST", "/api/v1/orgs", CREATE, NULL, 201, b_org_create},
    {"GET", "/api/v1/orgs/{id}", ROW, &P_ORG, 200, b_none},
    {"PATCH", "/api/v1/orgs/{id}", ROW, &P_ORG, 200, b_desc},
    /* archive: idempotent, so every role that may write gets 200 on the same row */
    {"DELETE", "/api/v1/orgs/{id}", ROW, &P_ORG, 200, b_none},
    {"GET", "/api/v1/dicts/{type}", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/dicts/{type}/export.csv", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/dicts/{type}/export.xlsx", PERM, NULL, 200, b_none},
    {"POST", "/api/v1/dicts/{type}", PERM, NULL, 201, b_dict_create},
    {"GET", "/api/v1/dicts/{type}/{id}", ROW, &P_DICT, 200, b_none},
    {"PATCH", "/api/v1/dicts/{type}/{id}", ROW, &P_DICT, 200, b_dict_patch},
    {"GET", "/api/v1/calendar/{year}", PERM, NULL, 200, b_none},
    {"PUT", "/api/v1/calendar/{year}", PERM, NULL, 200, b_calendar},
    {"GET", "/api/v1/sla-rules", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/sla-rules/export.csv", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/sla-rules/export.xlsx", PERM, NULL, 200, b_none},
    {"POST", "/api/v1/sla-rules", PERM, NULL, 201, b_sla_create},
    {"GET", "/api/v1/sla-rules/{id}", ROW, &P_SLA, 200, b_none},
    {"PATCH", "/api/v1/sla-rules/{id}", ROW, &P_SLA, 200, b_sla_patch},
    {"GET", "/api/v1/work-orders", PERM, NULL, 200, b_none},
    /* residents report anywhere (the order is theirs); staff and grid only inside */
    {"POST", "/api/v1/work-orders", CREATE, NULL, 201, b_wo_create, false, "-------y"},
    {"GET", "/api/v1/work-orders/similar", PERM, NULL, 200, b_none, false, NULL,
     "?category_code=010101&unit_id={unit}"},
    {"GET", "/api/v1/work-orders/export.csv", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/work-orders/export.xlsx", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/work-orders/counts", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/stats/work-orders", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/work-orders/{id}", ROW, &P_WO, 200, b_none},
    {"PATCH", "/api/v1/work-orders/{id}", ROW, &P_WO, 200, b_wo_patch},
    {"POST", "/api/v1/work-orders/{id}/actions", ROW, &P_WO, 200, b_comment},
    {"POST", "/api/v1/work-orders/{id}/reveal", ROW, &P_WO, 200, b_reveal},
    {"GET", "/api/v1/work-orders/{id}/similar", ROW, &P_WO, 200, b_none},
    {"GET", "/api/v1/work-orders/{id}/timeline", ROW, &P_WO, 200, b_none},
    {"POST", "/api/v1/work-orders/{id}/attachments", ROW, &P_WO, 201, b_none, true},
    {"GET", "/api/v1/work-orders/{id}/attachments", ROW, &P_WO, 200, b_none},
    {"GET", "/api/v1/work-orders/{id}/attachments/{aid}", ROW, &P_WO, 200, b_none},
    /* community notices: staff write in their subtree, published ones reach below */
    {"GET", "/api/v1/notices", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/notices/export.csv", PERM, NULL, 200, b_none},
    {"GET", "/api/v1/notices/export.xlsx", PERM, NULL, 200, b_none},
    {"POST", "/api/v1/notices", CREATE, NULL, 201, b_notice_create},
    {"GET", "/api/v1/notices/{id}", ROW, &P_NOTICE, 200, b_none},
    {"PATCH", "/api/v1/notices/{id}", ROW, &P_NOTICE, 200, b_notice_patch},
    {"POST", "/api/v1/notices/{id}/actions", ROW, &P_NOTICE, 409, b_notice_withdraw_draft},
    {"GET", "/api/v1/notices/{id}/timeline", ROW, &P_NOTICE, 200, b_none},
    {"GET", "/api/v1/notifications", SELF, NULL, 200, b_none},
    {"POST", "/api/v1/notifications/read", SELF, NULL, 204, b_read_all},
    /* an event stream never ends by itself: once=true ends it after the backlog, so
     * the matrix sees the status and the headers of the real route */
    {"GET", "/api/v1/events", SELF, NULL, 200, b_none, false, NULL, "?once=true"},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* ---- requests ---- */

static const unsigned char png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
    0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00,
    0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
#define BOUNDARY "gzmatrixboundary"

static struct resp *send(const struct kase *c, const char *path, int k, const char *body)
{
	const char *t = k == ANON ? NULL : tok[k];
	if (!c->upload)
		return api(&S, c->method, path, t, body, NULL);
	char head[256];
	int hn = snprintf(head, sizeof head,
	                  "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"file\"; "
	                  "filename=\"m.png\"\r\nContent-Type: image/png\r\n\r\n");
	const char *tail = "\r\n--" BOUNDARY "--\r\n";
	size_t n = (size_t)hn + sizeof png + strlen(tail);
	char *mp = malloc(n);
	memcpy(mp, head, (size_t)hn);
	memcpy(mp + hn, png, sizeof png);
	memcpy(mp + hn + sizeof png, tail, strlen(tail));
	struct resp *r = api_len(&S, c->method, path, t, mp, n,
	                         "Content-Type: multipart/form-data; boundary=" BOUNDARY);
	free(mp);
	return r;
}

/* The pattern with its parameters filled in for row (NULL: no row). */
static const char *fill(const char *pattern, const struct row *rw, int64_t id)
{
	char out[256];
	size_t o = 0;
	for (const char *p = pattern; *p && o < sizeof out - 24;) {
		if (*p != '{') {
			out[o++] = *p++;
			continue;
		}
		const char *close = strchr(p, '}');
		const char *v = ""; /* fail_msg() does not return, but is not declared so */
		if (strncmp(p, "{id}", 4) == 0)
			v = F("%lld", (long long)id);
		else if (strncmp(p, "{aid}", 5) == 0)
			v = F("%lld", (long long)(rw ? rw->aid : 1));
		else if (strncmp(p, "{type}", 6) == 0)
			v = "category";
		else if (strncmp(p, "{year}", 6) == 0)
			v = "2026";
		else if (strncmp(p, "{unit}", 6) == 0)
			v = F("%lld", (long long)u_sl);
		else
			fail_msg("no value for the parameter in %s", pattern);
		o += (size_t)snprintf(out + o, sizeof out - o, "%s", v);
		p = close + 1;
	}
	out[o] = 0;
	return F("%s", out);
}

static const char *fill_case(const struct kase *c, const struct row *rw, int64_t id)
{
	const char *path = fill(c->pattern, rw, id);
	return c->query ? F("%s%s", path, fill(c->query, rw, id)) : path;
}

static int failures;
static void check(const struct kase *c, const char *path, int k, long want, struct resp *r,
                  const char *want_msg)
{
	bool ok = r->status == want;
	if (ok && want_msg && strcmp(jstr(r->json, "error.message"), want_msg) != 0)
		ok = false;
	if (!ok) {
		failures++;
		print_error("%s %s as %s: expected %ld%s%s, got %ld: %.300s\n", c->method, path,
		            k == ANON ? "(no login)" : role_names[k], want, want_msg ? " " : "",
		            want_msg ? want_msg : "", r->status, r->body);
	}
}

static bool is_write(const char *m)
{
	return strcmp(m, "GET") != 0;
}

/* ---- fixture ---- */

static int64_t new_order(int k, int64_t unit, int64_t handler_org)
{
	int64_t id = post_id(&S, tok[k], "/api/v1/work-orders",
	                     F("{\"title\":\"矩阵%s\",\"description\":\"权限矩阵行\","
	                       "\"category_code\":\"010101\",\"channel\":\"%s\",\"unit_id\":%lld}",
	                       mark, k == RES ? "web" : "walk_in", (long long)unit));
	struct resp *r =
	    apif(&S, "POST", tok[ADM],
	         F("{\"action\":\"dispatch\",\"handler_org_id\":%lld}", (long long)handler_org),
	         "/api/v1/work-orders/%lld/actions", (long long)id);
	assert_status(r, 200);
	resp_free(r);
	return id;
}

static int setup(void **state)
{
	(void)state;
	if (fixture_start(&fx, &S, NULL))
		return -1;
	snprintf(mark, sizeof mark, "%s", uniq("mx"));
	/* the fixture's accounts come in the order of the roles, as ours */
	for (int k = 0; k < NROLES; k++) {
		tok[k] = fx.tok[k];
		self_id[k] = fx.uid[k];
		if (strcmp(fx_usernames[k], logins[k]) != 0)
			return -1;
	}
	u_grid = fx.u_grid1;
	u_sl = fx.u_shaliu;
	u_dx = fx.u_dongxin;
	u_out = fx.u_songshan; /* 鲁山道街道 */
	o_property = fx.o_hongrun;
	o_partner = fx.o_jinshitu;
	o_bank = fx.o_bank_hedong;
	o_hospital = fx.o_hospital; /* registered in 沙柳北路 */
	if (!u_grid || !u_sl || !u_dx || !u_out || !o_property || !o_partner || !o_bank ||
	    !o_hospital)
		return -1;

	/* work orders: in the grid (dispatched to the property company), in the community
	 * filed by the resident (dispatched to the partner), in another subdistrict */
	P_WO.rows[0] = (struct row){new_order(COM, u_grid, o_property), "yyyy-y--"};
	P_WO.rows[1] = (struct row){new_order(RES, u_sl, o_partner), "yyy-y--y"};
	P_WO.rows[2] = (struct row){new_order(ADM, u_out, o_bank), "y-------"};
	P_WO.n = 3;
	for (int i = 0; i < P_WO.n; i++) {
		const struct kase up = {"POST", "", ROW, NULL, 201, b_none, true};
		struct resp *r =
		    send(&up, F("/api/v1/work-orders/%lld/attachments", (long long)P_WO.rows[i].id),
		         ADM, NULL);
		assert_status(r, 201);
		P_WO.rows[i].aid = jint(r->json, "id");
		resp_free(r);
	}
	/* accounts: one's own, a resident of the community, a partner account of the
	 * subdistrict, a resident of another subdistrict */
	P_USER.rows[0] = (struct row){0, "yyyyyyyy", NULL, true};
	P_USER.rows[1] = (struct row){
	    create_user(&S, tok[ADM], uniq("mxa"), "Matrix-Pass-2026", "[\"resident\"]", u_sl, 0),
	    "yyy-----"};
	P_USER.rows[2] = (struct row){create_user(&S, tok[ADM], uniq("mxb"), "Matrix-Pass-2026",
	                                          "[\"partner\"]", u_dx, o_partner),
	                              "yy--y---"};
	P_USER.rows[3] = (struct row){
	    create_user(&S, tok[ADM], uniq("mxc"), "Matrix-Pass-2026", "[\"resident\"]", u_out, 0),
	    "y-------"};
	P_USER.n = 4;
	P_UNIT.rows[0] = (struct row){u_grid, "yyyy----"};
	P_UNIT.rows[1] = (struct row){u_sl, "yyy-----"};
	P_UNIT.rows[2] = (struct row){u_out, "y-------"};
	P_UNIT.n = 3;
	P_ORG.rows[0] = (struct row){o_hospital, "yyyyyyyy", "yyy-----"};
	P_ORG.rows[1] = (struct row){o_property, "yyyyyyyy", "y-------"};
	P_ORG.n = 2;
	P_DICT.rows[0] = (struct row){post_id(&S, tok[ADM], "/api/v1/dicts/category",
	                                      F("{\"code\":\"%s\",\"name\":\"矩阵\"}", mark)),
	                              "yyyyyyyy", "y-------"};
	P_DICT.n = 1;
	struct resp *r = api(&S, "GET", "/api/v1/sla-rules?limit=1", tok[ADM], NULL, NULL);
	P_SLA.rows[0] = (struct row){jint(r->json, "items.0.id"), "yyyyyyyy", "y-------"};
	P_SLA.n = 1;
	resp_free(r);
	r = api(&S, "POST", "/api/v1/api-keys", tok[ADM],
	        F("{\"name\":\"矩阵\",\"user_id\":%lld}", (long long)self_id[COM]), NULL);
	assert_status(r, 201);
	P_KEY.rows[0] = (struct row){jint(r->json, "id"), "y-------"};
	P_KEY.n = 1;
	/* notices (drafts: staff of the subtree only): in the grid, in the community, in
	 * another subdistrict */
	P_NOTICE.rows[0] = (struct row){post_id(&S, tok[ADM], "/api/v1/notices",
	                                        F("{\"title\":\"矩阵\",\"body\":\"x\","
	                                          "\"category\":\"notice\",\"unit_id\":%lld}",
	                                          (long long)u_grid)),
	                                "yyyy----"};
	P_NOTICE.rows[1] = (struct row){post_id(&S, tok[ADM], "/api/v1/notices",
	                                        F("{\"title\":\"矩阵\",\"body\":\"x\","
	                                          "\"category\":\"notice\",\"unit_id\":%lld}",
	                                          (long long)u_sl)),
	                                "yyy-----"};
	P_NOTICE.rows[2] = (struct row){post_id(&S, tok[ADM], "/api/v1/notices",
	                                        F("{\"title\":\"矩阵\",\"body\":\"x\","
	                                          "\"category\":\"notice\",\"unit_id\":%lld}",
	                                          (long long)u_out)),
	                                "y-------"};
	P_NOTICE.n = 3;
	resp_free(r);
	r = api(&S, "GET", "/api/v1/calendar/2026", tok[ADM], NULL, NULL);
	assert_status(r, 200);
	char *h = json_dumps(jpath(r->json, "holidays"), JSON_COMPACT),
	     *w = json_dumps(jpath(r->json, "workdays"), JSON_COMPACT);
	calendar_body = strdup(F("{\"holidays\":%s,\"workdays\":%s}", h, w));
	free(h);
	free(w);
	resp_free(r);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free((char *)calendar_body);
	int rc = fixture_stop(&fx);
	return rc == 0 ? 0 : -1;
}

/* ---- the matrix ---- */

static const struct kase *case_of(const char *method, const char *pattern)
{
	for (size_t i = 0; i < NCASES; i++)
		if (strcasecmp(cases[i].method, method) == 0 &&
		    strcmp(cases[i].pattern, pattern) == 0)
			return &cases[i];
	return NULL;
}

static void run_case(const struct kase *c, json_t *op)
{
	bool holds[NROLES] = {false};
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(op, "x-roles"), i, v)
	{
		for (int k = 0; k < NROLES; k++)
			if (strcmp(json_string_value(v), role_names[k]) == 0)
				holds[k] = true;
	}
	bool public = json_is_array(json_object_get(op, "security")) &&
	              json_array_size(json_object_get(op, "security")) == 0;
	const char *row_entity = json_string_value(json_object_get(op, "x-row"));
	if (c->kind == PUBLIC) {
		if (!public) {
			failures++;
			print_error("%s %s: the matrix says public, the server does not\n",
			            c->method, c->pattern);
		}
		for (int k = 0; k <= ANON; k++) {
			const char *path = fill_case(c, NULL, 0);
			struct resp *r = send(c, path, k, c->body(k, 0, true));
			check(c, path, k, c->ok, r, NULL);
			resp_free(r);
		}
		return;
	}
	if (public) {
		failures++;
		print_error("%s %s: public on the server, not in the matrix\n", c->method,
		            c->pattern);
	}
	if ((c->kind == ROW) != (row_entity != NULL) ||
	    (row_entity && strcmp(row_entity, c->pool->entity) != 0)) {
		failures++;
		print_error("%s %s: the server acts on rows of %s, the matrix on %s\n", c->method,
		            c->pattern, row_entity ? row_entity : "(none)",
		            c->kind == ROW ? c->pool->entity : "(none)");
		return;
	}
	int nrows = c->kind == ROW ? c->pool->n : 1;
	for (int ri = 0; ri < nrows; ri++) {
		const struct row *rw = c->kind == ROW ? &c->pool->rows[ri] : NULL;
		for (int k = 0; k <= ANON; k++) {
			int64_t id = rw ? (rw->self ? self_id[k == ANON ? RES : k] : rw->id) : 0;
			/* logout ends the session: a session of its own */
			char *own = NULL;
			if (strcmp(c->pattern, "/api/v1/auth/logout") == 0 && k != ANON) {
				own = tok[k];
				tok[k] = login(&S, logins[k], k == ADM ? ADMIN_PW : DEMO_PW);
			}
			const char *path = fill_case(c, rw, id);
			bool in = true;
			for (int pass = 0; pass < (c->kind == CREATE ? 2 : 1); pass++, in = false) {
				struct resp *r =
				    send(c, path, k, c->body(k == ANON ? RES : k, ri, in));
				long want;
				const char *msg = NULL;
				if (k == ANON)
					want = 401;
				else if (!holds[k])
					want = 403;
				else if (c->kind == CREATE && !in)
					want = k == ADM || (c->out_ok && c->out_ok[k] == 'y')
					           ? c->ok
					           : 403;
				else if (!rw)
					want = c->ok;
				else {
					const char *reach = c->pool->global && is_write(c->method)
					                        ? rw->wreach
					                        : rw->reach;
					if (reach[k] == 'y')
						want = c->ok;
					else if (c->pool->global)
						want = 403;
					else {
						want = 404;
						msg = F("no %s with id %lld", c->pool->entity,
						        (long long)id);
					}
				}
				check(c, path, k, want, r, msg);
				resp_free(r);
			}
			if (own) {
				free(tok[k]);
				tok[k] = own;
			}
		}
	}
	/* a missing row gets the message an out-of-reach one gets */
	if (c->kind == ROW) {
		const char *path = fill_case(c, &c->pool->rows[0], 987654321);
		struct resp *r = send(c, path, ADM, c->body(ADM, 0, true));
		check(c, path, ADM, 404, r, F("no %s with id 987654321", c->pool->entity));
		resp_free(r);
	}
}

/* Every route the server declares has a case, and every case holds. */
static void matrix(void **state)
{
	(void)state;
	struct resp *doc = api(&S, "GET", "/api/v1/openapi.json", NULL, NULL, NULL);
	assert_status(doc, 200);
	json_t *paths = jpath(doc->json, "paths");
	const char *pattern;
	json_t *item;
	int routes = 0, missing = 0;
	json_object_foreach(paths, pattern, item)
	{
		const char *method;
		json_t *op;
		json_object_foreach(item, method, op)
		{
			const struct kase *c = case_of(method, pattern);
			routes++;
			if (!c) {
				missing++;
				print_error("route %s %s has no row in the authorisation matrix\n",
				            method, pattern);
				continue;
			}
			run_case(c, op);
		}
	}
	/* and the matrix names no route the server lacks */
	for (size_t i = 0; i < NCASES; i++) {
		char m[8];
		size_t j = 0;
		for (; cases[i].method[j] && j < sizeof m - 1; j++)
			m[j] = (char)(cases[i].method[j] | 0x20);
		m[j] = 0;
		if (!jpath(json_object_get(paths, cases[i].pattern), m)) {
			missing++;
			print_error("the matrix has %s %s, the server does not\n", cases[i].method,
			            cases[i].pattern);
		}
	}
	print_message("# %d routes, %d without a case, %d wrong answers\n", routes, missing,
	              failures);
	resp_free(doc);
	assert_int_equal(missing, 0);
	assert_int_equal(failures, 0);
}

/* Lists hold exactly the pool rows the role reaches: "the check allows it" equals
 * "it is in the account's list". */
static void lists_agree_with_reach(void **state)
{
	(void)state;
	struct {
		const char *path;
		struct pool *pool;
		const char *perm_roles; /* roles holding the list's permission */
	} lists[] = {
	    {"/api/v1/work-orders?limit=500&q=", &P_WO, "yyyyyyyy"},
	    {"/api/v1/users?limit=500&q=mx", &P_USER, "yyy-yy--"},
	};
	int bad = 0;
	for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
		for (int k = 0; k < NROLES; k++) {
			const char *path =
			    F("%s%s", lists[l].path, l == 0 ? Q(F("矩阵%s", mark)) : "");
			struct resp *r = api(&S, "GET", path, tok[k], NULL, NULL);
			bool may = lists[l].perm_roles[k] == 'y';
			if (!may) {
				if (r->status != 403)
					bad++, print_error("%s as %s: %ld\n", path, role_names[k],
					                   r->status);
				resp_free(r);
				continue;
			}
			assert_status(r, 200);
			for (int i = 0; i < lists[l].pool->n; i++) {
				const struct row *rw = &lists[l].pool->rows[i];
				if (rw->self)
					continue;
				bool listed = has_id(jpath(r->json, "items"), rw->id);
				if (listed != (rw->reach[k] == 'y')) {
					bad++;
					print_error("%s as %s: row %lld %s\n", path, role_names[k],
					            (long long)rw->id,
					            listed ? "listed but out of reach"
					                   : "in reach but not listed");
				}
			}
			resp_free(r);
		}
	assert_int_equal(bad, 0);
}

/* Writes of references: orders filed into another community's unit, what only staff
 * and integrations may say about an order's origin. */
static void reference_writes(void **state)
{
	(void)state;
	/* community staff file into another community: refused, nothing created */
	int64_t before =
	    total_count(&S, tok[ADM], "/api/v1/work-orders", F("q=%s", Q(F("矩阵%s", mark))));
	struct resp *r =
	    api(&S, "POST", "/api/v1/work-orders", tok[COM],
	        F("{\"title\":\"矩阵%s\",\"description\":\"x\",\"category_code\":\"010101\","
	          "\"channel\":\"walk_in\",\"unit_id\":%lld}",
	          mark, (long long)u_out),
	        NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	assert_int_equal(
	    total_count(&S, tok[ADM], "/api/v1/work-orders", F("q=%s", Q(F("矩阵%s", mark)))),
	    before);
	/* a resident cannot pass an order off as a 12345 or Open311 one */
	const char *chans[] = {"hotline_12345", "open311"};
	for (int i = 0; i < 2; i++) {
		r = api(&S, "POST", "/api/v1/work-orders", tok[RES],
		        F("{\"title\":\"冒充\",\"description\":\"x\",\"category_code\":\"010101\","
		          "\"channel\":\"%s\",\"unit_id\":%lld}",
		          chans[i], (long long)u_sl),
		        NULL);
		assert_error(r, 403, "forbidden", "channel");
		resp_free(r);
	}
	r = api(&S, "POST", "/api/v1/work-orders", tok[GRD],
	        F("{\"title\":\"冒充\",\"description\":\"x\",\"category_code\":\"010101\","
	          "\"channel\":\"grid_patrol\",\"unit_id\":%lld,\"external_id\":\"H1\"}",
	          (long long)u_grid),
	        NULL);
	assert_error(r, 403, "forbidden", "external_id");
	resp_free(r);
	/* a duplicate 12345 number names the existing order only to those who see it */
	const char *ext = uniq("12345-");
	int64_t id =
	    post_id(&S, tok[ADM], "/api/v1/work-orders",
	            F("{\"title\":\"热线\",\"description\":\"x\",\"category_code\":\"010101\","
	              "\"channel\":\"hotline_12345\",\"unit_id\":%lld,\"external_id\":\"%s\"}",
	              (long long)u_out, ext));
	const char *dup =
	    F("{\"title\":\"热线\",\"description\":\"x\",\"category_code\":\"010101\","
	      "\"channel\":\"hotline_12345\",\"unit_id\":%lld,\"external_id\":\"%s\"}",
	      (long long)u_sl, ext);
	r = api(&S, "POST", "/api/v1/work-orders", tok[COM], dup, NULL);
	assert_error(r, 409, "conflict", "external_id");
	assert_false(contains(jstr(r->json, "error.message"), F("%lld", (long long)id)));
	assert_false(contains(jstr(r->json, "error.message"), "GZ"));
	resp_free(r);
	r = api(&S, "POST", "/api/v1/work-orders", tok[ADM], dup, NULL);
	assert_error(r, 409, "conflict", "external_id");
	assert_true(contains(jstr(r->json, "error.message"), F("(id %lld)", (long long)id)));
	resp_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(matrix),
	    cmocka_unit_test(lists_agree_with_reach),
	    cmocka_unit_test(reference_writes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
