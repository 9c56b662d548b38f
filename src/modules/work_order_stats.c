/* work_order_stats.c - what the work orders add up to: the statistics endpoint (the
 * three rates of the 12345 model and a composite score, grouped by category, unit,
 * handler, channel, day or month) and the CSV export of the list.
 *
 * Statistics read only work_order_daily, the per-day aggregates work_order.c keeps
 * in the same transaction as every change, so their cost depends on the number of
 * days, units and categories, never on the number of orders.  The export streams:
 * it walks the ids in windows of EXPORT_WINDOW (a read connection borrowed per
 * window and given back before any byte is sent), so a million rows cost the memory
 * of one window and hold no connection while a slow client reads.  Each window
 * drives the query through the primary key: a filter with an index of its own
 * (community, status …) would otherwise make every batch of a keyset walk read and
 * sort all the remaining matches, which is quadratic.  The rows are those of the
 * list's filters and scope (gz_entity_where) among the orders that existed when the
 * export began; an order that changes meanwhile appears as it was when its window
 * was read.  Lifecycle rules and the aggregates themselves stay in work_order.c. */
#include "app.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "modules/work_order.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- statistics ---- */

/* One group of work_order_daily rows summed up. */
struct counts {
	int64_t total, dispatched, accepted_on_time, resolved, resolved_on_time, rated, solved,
	    satisfied, reopened;
	double resolve_hours_sum;
};

static void counts_add(struct counts *to, const struct counts *c)
{
	to->total += c->total;
	to->dispatched += c->dispatched;
	to->accepted_on_time += c->accepted_on_time;
	to->resolved += c->resolved;
	to->resolved_on_time += c->resolved_on_time;
	to->rated += c->rated;
	to->solved += c->solved;
	to->satisfied += c->satisfied;
	to->reopened += c->reopened;
	to->resolve_hours_sum += c->resolve_hours_sum;
}

/* The sums every query selects, in the order counts_read() reads them. */
#define SUMS                                                                                       \
	"coalesce(sum(d.total), 0) AS total, coalesce(sum(d.dispatched), 0) AS dispatched, "       \
	"coalesce(sum(d.accepted_on_time), 0) AS accepted_on_time, "                               \
	"coalesce(sum(d.resolved), 0) AS resolved, "                                               \
	"coalesce(sum(d.resolved_on_time), 0) AS resolved_on_time, "                               \
	"coalesce(sum(d.rated), 0) AS rated, coalesce(sum(d.solved), 0) AS solved, "               \
	"coalesce(sum(d.satisfied), 0) AS satisfied, coalesce(sum(d.reopened), 0) AS reopened, "   \
	"coalesce(sum(d.resolve_hours_sum), 0) AS resolve_hours_sum"

static void counts_read(struct gz_stmt *s, int first, struct counts *c)
{
	c->total = gz_col_i64(s, first);
	c->dispatched = gz_col_i64(s, first + 1);
	c->accepted_on_time = gz_col_i64(s, first + 2);
	c->resolved = gz_col_i64(s, first + 3);
	c->resolved_on_time = gz_col_i64(s, first + 4);
	c->rated = gz_col_i64(s, first + 5);
	c->solved = gz_col_i64(s, first + 6);
	c->satisfied = gz_col_i64(s, first + 7);
	c->reopened = gz_col_i64(s, first + 8);
	c->resolve_hours_sum = gz_col_double(s, first + 9);
}

/* n / d rounded to 4 decimals, or null when nothing was counted. */
static json_t *rate(int64_t n, int64_t d)
{
	return d ? json_real(round((double)n / (double)d * 10000) / 10000) : json_null();
}

/* The composite score: the weighted mean of the three rates (weights in percent,
 * normalised by their sum so that the score stays in 0..1); null unless all three
 * rates are known, as a missing rate would otherwise count as a perfect or a zero
 * one. */
static json_t *score(const struct gz_config *cfg, const struct counts *c)
{
	double w1 = (double)cfg->score_weight_response, w2 = (double)cfg->score_weight_resolution,
	       w3 = (double)cfg->score_weight_satisfaction, sum = w1 + w2 + w3;
	if (!c->dispatched || !c->rated || sum <= 0)
		return json_null();
	double s = (w1 * (double)c->accepted_on_time / (double)c->dispatched +
	            w2 * (double)c->solved / (double)c->rated +
	            w3 * (double)c->satisfied / (double)c->rated) /
	           sum;
	return json_real(round(s * 10000) / 10000);
}

/* A row of the answer: key and name first (both stolen; NULL leaves them out, as
 * in the totals), then the counts, the rates and the score. */
static json_t *counts_json(const struct gz_config *cfg, json_t *key, json_t *name,
                           const struct counts *c)
{
	json_t *o = json_object();
	if (key)
		json_object_set_new(o, "key", key);
	if (name)
		json_object_set_new(o, "name", name);
	json_object_set_new(o, "total", json_integer(c->total));
	json_object_set_new(o, "dispatched", json_integer(c->dispatched));
	json_object_set_new(o, "accepted_on_time", json_integer(c->accepted_on_time));
	json_object_set_new(o, "resolved", json_integer(c->resolved));
	json_object_set_new(o, "resolved_on_time", json_integer(c->resolved_on_time));
	json_object_set_new(o, "rated", json_integer(c->rated));
	json_object_set_new(o, "solved", json_integer(c->solved));
	json_object_set_new(o, "satisfied", json_integer(c->satisfied));
	json_object_set_new(o, "reopened", json_integer(c->reopened));
	json_object_set_new(o, "response_rate", rate(c->accepted_on_time, c->dispatched));
	json_object_set_new(o, "resolution_rate", rate(c->solved, c->rated));
	json_object_set_new(o, "satisfaction_rate", rate(c->satisfied, c->rated));
	json_object_set_new(o, "on_time_rate", rate(c->resolved_on_time, c->resolved));
	json_object_set_new(
	    o, "avg_hours_to_resolve",
	    c->resolved ? json_real(round(c->resolve_hours_sum / (double)c->resolved * 10) / 10)
	                : json_null());
	json_object_set_new(o, "score", score(cfg, c));
	return o;
}

/* What group_by may name: the key column of work_order_daily and how to find the
 * key's display name (a subquery over the grouped key g.k, NULL when none). */
enum key_kind { KEY_TEXT, KEY_ID, KEY_DAY, KEY_MONTH };
static const struct group {
	const char *name, *column, *name_sql;
	enum key_kind kind;
} groups[] = {
    {"category", "d.category_code",
     "(SELECT name FROM dict_entries WHERE type = 'category' AND code = g.k)", KEY_TEXT},
    {"unit", "d.community_id", "(SELECT name FROM units WHERE id = g.k)", KEY_ID},
    {"handler_org", "d.handler_org_id", "(SELECT name FROM orgs WHERE id = g.k)", KEY_ID},
    {"channel", "d.channel", NULL, KEY_TEXT},
    {"day", "d.day", NULL, KEY_DAY},
    /* months are merged from days in C: portable SQL has no month of a day number */
    {"month", "d.day", NULL, KEY_MONTH},
};

/* A condition (no leading AND) selecting the daily rows of a unit's subtree:
 * communities and subdistricts have their own columns, the district is everything,
 * anything below a community is found through the units under it.  1 on success, 0
 * when there is no such unit, -1 on error. */
static int unit_condition(struct gz_req *r, struct gz_conn *c, int64_t unit_id,
                          struct gz_buf *where, struct gz_args *args, struct gz_err *err)
{
	struct gz_stmt *s = gz_stmt(c, "SELECT path, kind FROM units WHERE id = ?", err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, unit_id);
	char *path = NULL, *kind = NULL;
	int rc = gz_step(s, err);
	if (rc == 1) {
		path = gz_strdup(&r->arena, gz_col_text(s, 0));
		kind = gz_strdup(&r->arena, gz_col_text(s, 1));
	}
	gz_stmt_done(s);
	if (rc <= 0)
		return rc;
	if (strcmp(kind, "community") == 0) {
		gz_buf_adds(where, "d.community_id = ?");
		gz_args_i64(args, unit_id);
	} else if (strcmp(kind, "subdistrict") == 0) {
		gz_buf_adds(where, "d.subdistrict_id = ?");
		gz_args_i64(args, unit_id);
	} else if (strcmp(kind, "district") == 0) {
		gz_buf_adds(where, "1=1");
	} else {
		char *end = gz_alloc(&r->arena, strlen(path) + 1);
		gz_path_upper(path, end, strlen(path) + 1);
		gz_buf_adds(where,
		            "d.unit_id IN (SELECT id FROM units WHERE path >= ? AND path < ?)");
		gz_args_text(args, path);
		gz_args_text(args, end);
	}
	return 1;
}

/* The account's scope over the aggregates: the one rule (gz_scope_sql, as for the
 * work orders' lists) over the columns a daily row has — the path of its unit (units
 * su, joined) and its handler organisation.  The aggregates keep no requester,
 * creator or co-handler: those relations reach orders in lists, not in statistics.
 * For an account without an organisation the unit condition in front is implied by
 * the scope; it only lets the community/subdistrict index narrow the rows. */
static const char *const DAILY_UNIT_PATH = "su.path", *const DAILY_ORG = "d.handler_org_id";

static int stats_scope(struct gz_req *r, struct gz_conn *c, struct gz_buf *where,
                       struct gz_args *args, bool *join, struct gz_err *err)
{
	const struct gz_account *a = r->acct;
	*join = false;
	if (a->roles & GZ_RB(ADMIN))
		return 0;
	if ((a->roles & (GZ_ROLES_STAFF | GZ_RB(GRID))) && a->unit_id && !a->org_id) {
		gz_buf_adds(where, " AND (");
		int rc = unit_condition(r, c, a->unit_id, where, args, err);
		if (rc < 0)
			return -1;
		gz_buf_adds(where, rc ? ")" : "1=0)");
	}
	gz_buf_adds(where, " AND ");
	gz_scope_sql(a, DAILY_UNIT_PATH, NULL, DAILY_ORG, NULL, where, args);
	*join = true;
	return 0;
}

static bool code_chars(const char *v)
{
	for (const char *p = v; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == '-' || *p == '.'))
			return false;
	return *v != 0;
}

/* The filters of the query string as conditions on work_order_daily d. */
static int stats_filters(struct gz_req *r, struct gz_conn *c, struct gz_buf *where,
                         struct gz_args *args, struct gz_err *err)
{
	const char *v;
	if ((v = gz_req_query(r, "unit_id"))) {
		int64_t id;
		if (!gz_parse_i64(v, &id) || id <= 0)
			return gz_fail_field(err, GZ_E_VALIDATION, "unit_id",
			                     "unit_id must be a unit id");
		gz_buf_adds(where, " AND ");
		int rc = unit_condition(r, c, id, where, args, err);
		if (rc <= 0)
			return rc < 0
			           ? -1
			           : gz_fail_field(err, GZ_E_VALIDATION, "unit_id",
			                           "unit_id: no unit with id %lld", (long long)id);
	}
	if ((v = gz_req_query(r, "category_code"))) {
		if (!code_chars(v))
			return gz_fail_field(err, GZ_E_VALIDATION, "category_code",
			                     "category_code is a dictionary code");
		/* the category and everything below it */
		gz_buf_adds(where, " AND d.category_code >= ? AND d.category_code < ? || '~'");
		gz_args_text(args, v);
		gz_args_text(args, v);
	}
	if ((v = gz_req_query(r, "channel"))) {
		const struct gz_field *f = gz_entity_field(&gz_work_order_entity, "channel");
		char *copy = gz_strdup(&r->arena, v), *save = NULL;
		int k = 0;
		gz_buf_adds(where, " AND d.channel IN (");
		for (char *tok = strtok_r(copy, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			bool ok = false;
			for (const char *const *e = f->values; e && *e; e++)
				ok |= strcmp(*e, tok) == 0;
			if (!ok)
				return gz_fail_field(err, GZ_E_VALIDATION, "channel",
				                     "channel: unknown value '%s'", tok);
			/* each value is an SQL argument, and their number is bounded */
			if (k == 8)
				return gz_fail_field(err, GZ_E_VALIDATION, "channel",
				                     "channel: at most 8 values");
			gz_buf_adds(where, k++ ? ", ?" : "?");
			gz_args_text(args, tok);
		}
		if (!k)
			return gz_fail_field(err, GZ_E_VALIDATION, "channel",
			                     "channel must not be empty");
		gz_buf_adds(where, ")");
	}
	if ((v = gz_req_query(r, "handler_org_id"))) {
		int64_t id;
		if (!gz_parse_i64(v, &id) || id <= 0)
			return gz_fail_field(err, GZ_E_VALIDATION, "handler_org_id",
			                     "handler_org_id must be an organisation id");
		gz_buf_adds(where, " AND d.handler_org_id = ?");
		gz_args_i64(args, id);
	}
	static const char *const times[] = {"created_from", "created_to"};
	for (int i = 0; i < 2; i++) {
		int64_t ms;
		if (!(v = gz_req_query(r, times[i])))
			continue;
		if (!gz_time_parse(v, &ms))
			return gz_fail_field(err, GZ_E_VALIDATION, times[i],
			                     "%s must be an ISO-8601 time", times[i]);
		/* whole Shanghai days: the aggregates know the day of creation only */
		gz_buf_adds(where, i ? " AND d.day <= ?" : " AND d.day >= ?");
		gz_args_i64(args, gz_shanghai_day(ms));
	}
	return 0;
}

static json_t *key_json(const struct group *g, struct gz_stmt *s)
{
	if (!g)
		return json_null();
	switch (g->kind) {
	case KEY_ID:
		/* handler 0: not dispatched, or dispatched to a unit */
		return gz_col_null(s, 0) || gz_col_i64(s, 0) == 0 ? json_null()
		                                                  : json_integer(gz_col_i64(s, 0));
	case KEY_DAY:
	case KEY_MONTH: {
		char day[16];
		gz_date_format(gz_col_i64(s, 0), day, sizeof(day));
		if (g->kind == KEY_MONTH)
			day[7] = 0;
		return json_string(day);
	}
	default:
		return json_string(gz_col_text(s, 0));
	}
}

static json_t *definitions(const struct gz_config *cfg)
{
	char text[256];
	snprintf(text, sizeof(text),
	         "(%lld × response_rate + %lld × resolution_rate + %lld × satisfaction_rate) / "
	         "%lld; null unless all three rates are known",
	         (long long)cfg->score_weight_response, (long long)cfg->score_weight_resolution,
	         (long long)cfg->score_weight_satisfaction,
	         (long long)(cfg->score_weight_response + cfg->score_weight_resolution +
	                     cfg->score_weight_satisfaction));
	return json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "response_rate",
	    "accepted within the accept deadline / dispatched", "resolution_rate",
	    "called back and solved / called back (rated)", "satisfaction_rate",
	    "satisfied or basically satisfied / called back (rated)", "on_time_rate",
	    "resolved within the resolve deadline / resolved", "avg_hours_to_resolve",
	    "hours from creation to resolution, averaged over the resolved orders", "score", text,
	    "rates", "numbers from 0 to 1 rounded to 4 decimals; null when the denominator is 0");
}

static int stats_handler(struct gz_req *r, struct gz_err *err)
{
	const struct group *g = NULL;
	const char *by = gz_req_query(r, "group_by");
	if (by && *by) {
		for (size_t i = 0; i < GZ_ARRAY_LEN(groups); i++)
			if (strcmp(groups[i].name, by) == 0)
				g = &groups[i];
		if (!g)
			return gz_fail_field(
			    err, GZ_E_VALIDATION, "group_by",
			    "group_by must be one of: category, unit, handler_org, "
			    "channel, day, month");
	}
	struct gz_buf sql = GZ_BUF_INIT, where = GZ_BUF_INIT;
	struct gz_args args = {0};
	json_t *rows = json_array();
	struct counts totals = {0}, cur = {0};
	json_t *month = NULL; /* the month being summed up, for group_by=month */
	struct gz_conn *c = gz_db_reader(r->app->db);
	int rc = stats_filters(r, c, &where, &args, err);
	bool join = false;
	if (!rc)
		rc = stats_scope(r, c, &where, &args, &join, err);
	const char *from =
	    join ? "work_order_daily d JOIN units su ON su.id = d.unit_id" : "work_order_daily d";
	if (!rc) {
		if (g)
			gz_buf_addf(&sql,
			            "SELECT g.*, %s FROM (SELECT %s AS k, " SUMS
			            " FROM %s WHERE 1=1%s GROUP BY %s) g ORDER BY %s",
			            g->name_sql ? g->name_sql : "NULL", g->column, from,
			            gz_buf_str(&where), g->column,
			            g->kind == KEY_DAY || g->kind == KEY_MONTH
			                ? "g.k"
			                : "g.total DESC, g.k");
		else
			gz_buf_addf(&sql, "SELECT NULL, " SUMS ", NULL FROM %s WHERE 1=1%s", from,
			            gz_buf_str(&where));
		struct gz_stmt *s = gz_stmt(c, sql.data, err);
		rc = -1;
		if (s) {
			gz_args_bind(s, &args, 1);
			while ((rc = gz_step(s, err)) == 1) {
				struct counts n;
				counts_read(s, 1, &n);
				counts_add(&totals, &n);
				json_t *key = key_json(g, s);
				if (g && g->kind == KEY_MONTH) {
					if (month && json_equal(month, key)) {
						counts_add(&cur, &n);
						json_decref(key);
						continue;
					}
					if (month)
						json_array_append_new(
						    rows, counts_json(&r->app->cfg, month,
						                      json_null(), &cur));
					month = key;
					cur = n;
					continue;
				}
				json_t *name = gz_col_null(s, 11) ? json_null()
				                                  : json_string(gz_col_text(s, 11));
				json_array_append_new(rows,
				                      counts_json(&r->app->cfg, key, name, &n));
			}
			gz_stmt_done(s);
		}
	}
	gz_db_reader_done(r->app->db, c);
	if (month)
		json_array_append_new(rows, counts_json(&r->app->cfg, month, json_null(), &cur));
	gz_buf_release(&sql);
	gz_buf_release(&where);
	if (rc < 0) {
		json_decref(rows);
		return -1;
	}
	json_t *res = json_object();
	json_object_set_new(res, "group_by", g ? json_string(g->name) : json_null());
	json_object_set_new(res, "rows", rows);
	json_object_set_new(res, "totals", counts_json(&r->app->cfg, NULL, NULL, &totals));
	json_object_set_new(res, "definitions", definitions(&r->app->cfg));
	return gz_reply_json(r, 200, res);
}

/* ---- the CSV export ---- */

#define EXPORT_WINDOW 2000 /* ids per batch */
#define STR_(x) #x
#define STR(x) STR_(x)

/* Display names of the enumerations, for people reading the file in Excel. */
struct label {
	const char *code, *zh;
};
static const struct label channel_labels[] = {{"hotline_12345", "12345热线"},
                                              {"grid_patrol", "网格巡查"},
                                              {"walk_in", "来访"},
                                              {"phone", "来电"},
                                              {"web", "网上"},
                                              {"open311", "Open311"},
                                              {"proactive", "主动发现"},
                                              {NULL, NULL}};
static const struct label priority_labels[] = {
    {"urgent", "紧急"}, {"high", "高"}, {"normal", "普通"}, {"low", "低"}, {NULL, NULL}};
static const struct label status_labels[] = {{"new", "新建"},
                                             {"dispatched", "已派单"},
                                             {"accepted", "已签收"},
                                             {"in_progress", "处理中"},
                                             {"resolved", "已办结"},
                                             {"verified", "已核实"},
                                             {"closed", "已关闭"},
                                             {"returned", "已退回"},
                                             {"cancelled", "已撤销"},
                                             {"merged", "已合并"},
                                             {NULL, NULL}};
static const struct label satisfaction_labels[] = {{"satisfied", "满意"},
                                                   {"basically_satisfied", "基本满意"},
                                                   {"dissatisfied", "不满意"},
                                                   {NULL, NULL}};

static const char *label(const struct label *t, const char *code)
{
	for (; t->code; t++)
		if (strcmp(t->code, code) == 0)
			return t->zh;
	return code;
}

static const char export_header[] =
    "\xEF\xBB\xBF" /* the BOM: Excel then reads the file as UTF-8 */
    "工单编号,标题,分类,渠道,优先级,状态,所属单位,地址,诉求人,联系电话,承办单位,创建时间,"
    "签收时限,办结时限,签收时间,办结时间,满意度,是否解决,是否超期\r\n";

/* The columns the rows are formatted from, in this order.  The window of ids drives
 * the query: CROSS JOIN fixes the order of the loops, and the LIMIT (which changes
 * nothing) keeps the subquery from being merged into the outer query. */
/* (clang-format cannot indent the strings that follow STR()) */
/* clang-format off */
static const char export_select[] =
    "SELECT t.id, t.number, t.title, coalesce(dc.name, t.category_code), t.channel, "
    "t.priority, t.status, coalesce(u.name, ''), coalesce(t.address, ''), "
    "coalesce(t.requester_name, ''), t.requester_phone, coalesce(o.name, hu.name, ''), "
    "t.created_at, t.accept_due_at, t.resolve_due_at, t.accepted_at, t.resolved_at, "
    "coalesce(t.satisfaction, ''), t.solved, t.overdue, t.resolve_due_at < ? AND t.status IN "
    "('new','dispatched','accepted','in_progress','returned') "
    "FROM (SELECT id FROM work_orders WHERE id > ? AND id <= ? ORDER BY id "
    "LIMIT " STR(EXPORT_WINDOW) ") w CROSS JOIN work_orders t "
    "LEFT JOIN dict_entries dc ON dc.type = 'category' AND dc.code = t.category_code "
    "LEFT JOIN units u ON u.id = t.unit_id LEFT JOIN orgs o ON o.id = t.handler_org_id "
    "LEFT JOIN units hu ON hu.id = t.handler_unit_id";
/* clang-format on */

/* The stream's state.  It owns everything it uses: it outlives the request. */
struct csv_export {
	struct gz_app *app;
	char request_id[24];
	char *sql;                /* export_select, the list's WHERE, AND t.id = w.id */
	struct gz_args args;      /* the filters and scope; text in owned[] */
	char *owned[GZ_ARGS_MAX]; /* copies of the text arguments */
	int64_t now;              /* for the live overdue flag */
	int64_t last_id;          /* the end of the last window read */
	int64_t end_id;           /* the last order when the export began; -1 unknown */
	bool done;                /* the last window reached end_id */
	struct gz_buf out;        /* formatted bytes of the current batch */
	size_t sent;              /* bytes of out already handed to the server */
	struct gz_arena arena;    /* per batch (masking) */
};

static void export_free(void *ctx)
{
	struct csv_export *x = ctx;
	free(x->sql);
	for (int i = 0; i < GZ_ARGS_MAX; i++)
		free(x->owned[i]);
	gz_buf_release(&x->out);
	gz_arena_release(&x->arena);
	free(x);
}

/* Appends one RFC 4180 field: quoted when it holds a comma, quote, CR or LF, with
 * quotes doubled.  guard: the text comes from the public; a leading = + - @ would
 * make a spreadsheet run it as a formula, so it is prefixed with an apostrophe. */
static void csv_field(struct gz_buf *b, const char *s, bool guard, bool last)
{
	bool formula =
	    guard && (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r');
	bool quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		gz_buf_addc(b, '"');
	if (formula)
		gz_buf_addc(b, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			gz_buf_addc(b, '"');
		gz_buf_addc(b, *p);
	}
	if (quote)
		gz_buf_addc(b, '"');
	gz_buf_adds(b, last ? "\r\n" : ",");
}

static void csv_time(struct gz_buf *b, struct gz_stmt *s, int col)
{
	if (!gz_col_null(s, col)) {
		/* whole seconds: milliseconds only clutter a spreadsheet */
		int64_t ms = gz_col_i64(s, col);
		char t[GZ_TIME_BUF];
		gz_time_format(ms - ms % 1000, t, sizeof(t));
		gz_buf_adds(b, t);
	}
	gz_buf_addc(b, ',');
}

static void export_row(struct csv_export *x, struct gz_stmt *s)
{
	struct gz_buf *b = &x->out;
	csv_field(b, gz_col_text(s, 1), false, false);
	csv_field(b, gz_col_text(s, 2), true, false);
	csv_field(b, gz_col_text(s, 3), false, false);
	csv_field(b, label(channel_labels, gz_col_text(s, 4)), false, false);
	csv_field(b, label(priority_labels, gz_col_text(s, 5)), false, false);
	csv_field(b, label(status_labels, gz_col_text(s, 6)), false, false);
	csv_field(b, gz_col_text(s, 7), false, false);
	csv_field(b, gz_col_text(s, 8), true, false);
	csv_field(b, gz_col_text(s, 9), true, false);
	const char *phone = "";
	if (!gz_col_null(s, 10) && *gz_col_text(s, 10)) {
		/* masked as in the API; a value this key did not seal shows as stars */
		char *plain = gz_unseal(x->app->key, gz_col_text(s, 10));
		phone = plain ? gz_mask(&x->arena, plain) : "***";
		free(plain);
	}
	csv_field(b, phone, false, false);
	csv_field(b, gz_col_text(s, 11), false, false);
	for (int col = 12; col <= 16; col++)
		csv_time(b, s, col);
	csv_field(b, label(satisfaction_labels, gz_col_text(s, 17)), false, false);
	csv_field(b, gz_col_null(s, 18) ? "" : gz_col_i64(s, 18) ? "是" : "否", false, false);
	/* overdue as the API shows it: the scanner's flag, or a running deadline passed */
	csv_field(b, gz_col_i64(s, 19) || gz_col_i64(s, 20) ? "是" : "否", false, true);
}

/* Formats the rows of the next window of ids after out.  The read connection is
 * borrowed for this window only. */
static int export_batch(struct csv_export *x, struct gz_err *err)
{
	struct gz_conn *c = gz_db_reader(x->app->db);
	int rc = 0;
	if (x->end_id < 0 && gz_query_i64(c, err, &x->end_id,
	                                  "SELECT coalesce(max(id), 0) FROM work_orders", "") < 0)
		rc = -1;
	int64_t hi = x->last_id + EXPORT_WINDOW;
	if (!rc && hi > x->end_id)
		hi = x->end_id;
	struct gz_stmt *s = rc ? NULL : gz_stmt(c, x->sql, err);
	if (s) {
		gz_bind_i64(s, 1, x->now);
		gz_bind_i64(s, 2, x->last_id);
		gz_bind_i64(s, 3, hi);
		gz_args_bind(s, &x->args, 4);
		while ((rc = gz_step(s, err)) == 1)
			export_row(x, s);
		gz_stmt_done(s);
	}
	gz_db_reader_done(x->app->db, c);
	gz_arena_release(&x->arena);
	if (rc < 0 || !s)
		return -1;
	x->last_id = hi;
	x->done = hi >= x->end_id;
	return 0;
}

static ssize_t export_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
	struct csv_export *x = ctx;
	(void)pos;
	while (x->sent == x->out.len) {
		if (x->done)
			return GZ_STREAM_END;
		gz_buf_reset(&x->out);
		x->sent = 0;
		struct gz_err err;
		gz_err_clear(&err);
		if (export_batch(x, &err)) {
			/* the status line is gone: all that is left is to cut the body short */
			gz_log(GZ_LOG_ERROR, x->request_id,
			       "work-order export failed after id %lld: %s", (long long)x->last_id,
			       err.message);
			return GZ_STREAM_ERROR;
		}
	}
	size_t n = x->out.len - x->sent;
	if (n > max)
		n = max;
	memcpy(buf, x->out.data + x->sent, n);
	x->sent += n;
	return (ssize_t)n;
}

static int export_handler(struct gz_req *r, struct gz_err *err)
{
	struct gz_buf where = GZ_BUF_INIT;
	struct gz_args args = {0};
	struct gz_list_opts lo; /* limit and cursor do not apply: the export is everything */
	if (gz_entity_where(r, &gz_work_order_entity, &where, &args, &lo, err)) {
		gz_buf_release(&where);
		return -1;
	}
	struct csv_export *x = gz_xcalloc(1, sizeof(*x));
	x->app = r->app;
	snprintf(x->request_id, sizeof(x->request_id), "%s", r->request_id);
	x->now = gz_now_ms();
	x->end_id = -1;
	gz_arena_init(&x->arena);
	struct gz_buf sql = GZ_BUF_INIT;
	gz_buf_adds(&sql, export_select);
	if (lo.join) /* a filter's driving join (full text): here only a filter */
		gz_buf_adds(&sql, lo.join);
	gz_buf_add(&sql, where.data, where.len);
	gz_buf_adds(&sql, " AND t.id = w.id ORDER BY t.id");
	gz_buf_release(&where);
	x->sql = gz_buf_detach(&sql, NULL);
	x->args = args;
	for (int i = 0; i < args.n; i++)
		if (args.v[i].type == 't' && args.v[i].t)
			x->args.v[i].t = x->owned[i] = gz_xstrdup(args.v[i].t);
	/* the first batch now: an error still gets a proper status */
	gz_buf_adds(&x->out, export_header);
	if (export_batch(x, err)) {
		export_free(x);
		return -1;
	}
	r->status = 200;
	r->out_type = "text/csv; charset=utf-8";
	r->out_stream = export_read;
	r->out_stream_free = export_free;
	r->out_stream_ctx = x;
	gz_reply_header(r, "Content-Disposition", "attachment; filename=\"work-orders.csv\"");
	return 0;
}

/* ---- the module ---- */

static const char *const stats_params[] = {
    "group_by",       "unit_id",      "category_code", "channel",
    "handler_org_id", "created_from", "created_to",    NULL};

static const struct gz_route routes[] = {
    {GZ_GET, "/api/v1/stats/work-orders", stats_handler, "stats.read", 0, NULL,
     "Work-order statistics: counts, the three rates and the score (group_by category, unit, "
     "handler_org, channel, day or month; filters unit_id, category_code, channel, "
     "handler_org_id, created_from, created_to)",
     stats_params},
    /* before /work-orders/{id} (this module is listed before work orders); no entity:
     * the reply is not the entity's JSON, and the handler names the entity itself */
    {GZ_GET, "/api/v1/work-orders/export.csv", export_handler, "work_orders.read", GZ_R_LIST, NULL,
     "The work orders of the list's filters as CSV for Excel (UTF-8 with BOM), streamed"},
    {0, NULL},
};

static const struct gz_perm perms[] = {
    {"stats.read",
     GZ_RB(ADMIN) | GZ_RB(SUBDISTRICT) | GZ_RB(COMMUNITY) | GZ_RB(GRID) | GZ_RB(PARTNER) |
         GZ_RB(PROPERTY),
     "see statistics in scope"},
    {NULL},
};

const struct gz_module gz_work_order_stats_module = {"work_order_stats", routes, perms, NULL};
