/* work_order_stats.c - what the work orders add up to: the statistics endpoint (the
 * three rates of the 12345 model and a composite score, grouped by category, unit,
 * handler, channel, day or month) and the exports of the list (CSV and Excel).
 *
 * Statistics read only work_order_daily, the per-day aggregates work_order.c keeps
 * in the same transaction as every change, so their cost depends on the number of
 * days, units and categories, never on the number of orders (the live overdue counts
 * read the running orders alone).  The exports are the list's filters and scope
 * (gz_entity_where) through the export engine (model/export.c: windows of ids,
 * streamed CSV, constant-memory workbook); this file says only what the columns are.
 * Lifecycle rules and the aggregates themselves stay in work_order.c. */
#include "app.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "model/export.h"
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
	int64_t overdue; /* live, from the orders (not the aggregates): set after the sums */
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
	to->overdue += c->overdue;
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
	c->overdue = 0;
}

/* n / d rounded to 4 decimals, or null when nothing was counted. */
static json_t *rate(int64_t n, int64_t d)
{
	return d ? json_real(round((double)n / (double)d * 10000) / 10000) : json_null();
}

/* The composite score: the weighted mean of the three rates (weights in percent,
 * normalised by their sum) as a score from 0 to 100 with 2 decimals — the one unit
 * of the score everywhere (the rates stay fractions from 0 to 1); null unless all
 * three rates are known, as a missing rate would otherwise count as a perfect or a
 * zero one. */
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
	return json_real(round(s * 10000) / 100);
}

/* A row of the answer: key and name first (both stolen; NULL leaves them out, as
 * in the totals), then the counts, the rates and the score.  A row of fewer than
 * min_orders orders is marked too_few and has no rates nor score (null): a unit with
 * two orders would otherwise top or end a ranking by chance. */
static json_t *counts_json(const struct gz_config *cfg, json_t *key, json_t *name,
                           const struct counts *c, int64_t min_orders)
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
	json_object_set_new(o, "overdue", json_integer(c->overdue));
	json_object_set_new(o, "sample_size", json_integer(c->total));
	bool too_few = c->total < min_orders;
	json_object_set_new(o, "too_few", json_boolean(too_few));
	if (too_few) {
		static const char *const nulls[] = {"response_rate",        "resolution_rate",
		                                    "satisfaction_rate",    "on_time_rate",
		                                    "avg_hours_to_resolve", "score"};
		for (size_t i = 0; i < GZ_ARRAY_LEN(nulls); i++)
			json_object_set_new(o, nulls[i], json_null());
		return o;
	}
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
	const char *order_column; /* the same key over the orders t */
} groups[] = {
    {"category", "d.category_code",
     "(SELECT name FROM dict_entries WHERE type = 'category' AND code = g.k)", KEY_TEXT,
     "t.category_code"},
    {"unit", "d.community_id", "(SELECT name FROM units WHERE id = g.k)", KEY_ID, "t.community_id"},
    {"handler_org", "d.handler_org_id", "(SELECT name FROM orgs WHERE id = g.k)", KEY_ID,
     "coalesce(t.handler_org_id, 0)"},
    {"channel", "d.channel", NULL, KEY_TEXT, "t.channel"},
    {"day", "d.day", NULL, KEY_DAY, "(t.created_at + 28800000) / 86400000"},
    /* months are merged from days in C: portable SQL has no month of a day number */
    {"month", "d.day", NULL, KEY_MONTH, "(t.created_at + 28800000) / 86400000"},
};

/* A condition (no leading AND) selecting the daily rows of a unit's subtree:
 * communities and subdistricts have their own columns, the district is everything,
 * anything below a community is found through the units under it.  1 on success, 0
 * when there is no such unit, -1 on error. */
static int unit_condition(struct gz_req *r, struct gz_conn *c, int64_t unit_id, const char *a,
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
		gz_buf_addf(where, "%s.community_id = ?", a);
		gz_args_i64(args, unit_id);
	} else if (strcmp(kind, "subdistrict") == 0) {
		gz_buf_addf(where, "%s.subdistrict_id = ?", a);
		gz_args_i64(args, unit_id);
	} else if (strcmp(kind, "district") == 0) {
		gz_buf_adds(where, "1=1");
	} else {
		char *end = gz_alloc(&r->arena, strlen(path) + 1);
		gz_path_upper(path, end, strlen(path) + 1);
		gz_buf_addf(where,
		            "%s.unit_id IN (SELECT id FROM units WHERE path >= ? AND path < ?)", a);
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

static int stats_scope(struct gz_req *r, struct gz_conn *c, bool orders, struct gz_buf *where,
                       struct gz_args *args, bool *join, struct gz_err *err)
{
	const struct gz_account *a = r->acct;
	*join = false;
	if (a->roles & GZ_RB(ADMIN))
		return 0;
	if ((a->roles & (GZ_ROLES_STAFF | GZ_RB(GRID))) && a->unit_id && !a->org_id) {
		gz_buf_adds(where, " AND (");
		int rc = unit_condition(r, c, a->unit_id, orders ? "t" : "d", where, args, err);
		if (rc < 0)
			return -1;
		gz_buf_adds(where, rc ? ")" : "1=0)");
	}
	gz_buf_adds(where, " AND ");
	/* over the orders (the live overdue counts): the same two relations, on the
	 * order's own columns */
	gz_scope_sql(a, orders ? "t.unit_path" : DAILY_UNIT_PATH, NULL,
	             orders ? "t.handler_org_id" : DAILY_ORG, NULL, where, args);
	*join = !orders;
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

/* The filters of the query string as conditions on work_order_daily d, or (orders)
 * on the orders t themselves: their columns have the same names, and the days of
 * the aggregates are the Shanghai days of created_at. */
static int stats_filters(struct gz_req *r, struct gz_conn *c, bool orders, struct gz_buf *where,
                         struct gz_args *args, struct gz_err *err)
{
	const char *v, *a = orders ? "t" : "d";
	if ((v = gz_req_query(r, "unit_id"))) {
		int64_t id;
		if (!gz_parse_i64(v, &id) || id <= 0)
			return gz_fail_field(err, GZ_E_VALIDATION, "unit_id",
			                     "unit_id must be a unit id");
		gz_buf_adds(where, " AND ");
		int rc = unit_condition(r, c, id, a, where, args, err);
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
		gz_buf_addf(where, " AND %s.category_code >= ? AND %s.category_code < ? || '~'", a,
		            a);
		gz_args_text(args, v);
		gz_args_text(args, v);
	}
	if ((v = gz_req_query(r, "channel"))) {
		const struct gz_field *f = gz_entity_field(&gz_work_order_entity, "channel");
		char *copy = gz_strdup(&r->arena, v), *save = NULL;
		int k = 0;
		gz_buf_addf(where, " AND %s.channel IN (", a);
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
		gz_buf_addf(where, " AND %s.handler_org_id = ?", a);
		gz_args_i64(args, id);
	}
	static const char *const times[] = {"created_from", "created_to"};
	for (int i = 0; i < 2; i++) {
		int64_t ms;
		if (!(v = gz_req_query(r, times[i])))
			continue;
		if (gz_range_bound(v, i == 1, &ms))
			return gz_fail_field(err, GZ_E_VALIDATION, times[i],
			                     "%s must be a date (YYYY-MM-DD) or an ISO-8601 time",
			                     times[i]);
		/* whole Shanghai days, the end date included (created_to's bound is the
		 * instant after its day): the aggregates know the day of creation only, and
		 * the orders are counted over the same days */
		int64_t day = gz_shanghai_day(i ? ms - 1 : ms);
		if (orders) {
			gz_buf_adds(where, i ? " AND t.created_at < ?" : " AND t.created_at >= ?");
			gz_args_i64(args, (day + (i ? 1 : 0)) * 86400000 -
			                      (int64_t)GZ_SHANGHAI_OFFSET_MIN * 60000);
		} else {
			gz_buf_adds(where, i ? " AND d.day <= ?" : " AND d.day >= ?");
			gz_args_i64(args, day);
		}
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
	         "100 × (%lld × response_rate + %lld × resolution_rate + %lld × "
	         "satisfaction_rate) / %lld: a score from 0 to 100 (2 decimals); null unless all "
	         "three rates are known",
	         (long long)cfg->score_weight_response, (long long)cfg->score_weight_resolution,
	         (long long)cfg->score_weight_satisfaction,
	         (long long)(cfg->score_weight_response + cfg->score_weight_resolution +
	                     cfg->score_weight_satisfaction));
	return json_pack(
	    "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "response_rate",
	    "accepted within the accept deadline / dispatched", "resolution_rate",
	    "called back and solved / called back (rated)", "satisfaction_rate",
	    "satisfied or basically satisfied / called back (rated)", "on_time_rate",
	    "resolved within the resolve deadline / resolved", "avg_hours_to_resolve",
	    "hours from creation to resolution, averaged over the resolved orders", "score", text,
	    "rates", "numbers from 0 to 1 rounded to 4 decimals; null when the denominator is 0",
	    "overdue",
	    "open orders now past their resolve deadline, or past their accept deadline and "
	    "never accepted (new, dispatched, returned); counted live from the orders",
	    "sample_size", "the orders of the row (total), from which its rates are drawn",
	    "too_few",
	    "true when the row has fewer than min_orders orders (min_orders parameter, default "
	    "the stats_min_orders setting): its rates, average and score are then null");
}

/* The live overdue orders (work_order.h's definition) under the same filters and
 * scope as the aggregates, counted by the group's key: map gets the key's JSON text
 * -> count, *total the sum.  The orders are read, not the aggregates (overdue is a
 * matter of the clock), but only the running ones: the status index bounds it. */
static int overdue_counts(struct gz_req *r, struct gz_conn *c, const struct group *g, json_t *map,
                          int64_t *total, struct gz_err *err)
{
	struct gz_buf sql = GZ_BUF_INIT, where = GZ_BUF_INIT;
	struct gz_args args = {0};
	bool join;
	*total = 0;
	int rc = stats_filters(r, c, true, &where, &args, err);
	if (!rc)
		rc = stats_scope(r, c, true, &where, &args, &join, err);
	if (!rc) {
		gz_wo_deadline_where(false, true, gz_now_ms(), &where, &args);
		const char *col = g ? g->order_column : "NULL";
		gz_buf_addf(&sql, "SELECT %s, count(*) FROM work_orders t WHERE 1=1%s%s%s", col,
		            gz_buf_str(&where), g ? " GROUP BY " : "", g ? col : "");
		struct gz_stmt *s = gz_stmt(c, sql.data, err);
		rc = -1;
		if (s) {
			gz_args_bind(s, &args, 1);
			while ((rc = gz_step(s, err)) == 1) {
				json_t *key = key_json(g, s);
				char *k = json_dumps(key, JSON_ENCODE_ANY | JSON_COMPACT);
				int64_t n = gz_col_i64(s, 1);
				json_object_set_new(
				    map, k,
				    json_integer(json_integer_value(json_object_get(map, k)) + n));
				*total += n;
				free(k);
				json_decref(key);
			}
			gz_stmt_done(s);
		}
	}
	gz_buf_release(&sql);
	gz_buf_release(&where);
	return rc < 0 ? -1 : 0;
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
	int64_t min_orders = r->app->cfg.stats_min_orders;
	const char *mo = gz_req_query(r, "min_orders");
	if (mo && (!gz_parse_i64(mo, &min_orders) || min_orders < 0 || min_orders > 1000000))
		return gz_fail_field(err, GZ_E_VALIDATION, "min_orders",
		                     "min_orders must be a whole number from 0 to 1000000");
	struct gz_buf sql = GZ_BUF_INIT, where = GZ_BUF_INIT;
	struct gz_args args = {0};
	json_t *rows = json_array();
	struct counts totals = {0}, cur = {0};
	json_t *month = NULL; /* the month being summed up, for group_by=month */
	json_t *overdue = json_object();
	int64_t overdue_total = 0;
	struct gz_conn *c = gz_db_reader(r->app->db);
	int rc = stats_filters(r, c, false, &where, &args, err);
	bool join = false;
	if (!rc)
		rc = stats_scope(r, c, false, &where, &args, &join, err);
	if (!rc)
		rc = overdue_counts(r, c, g, overdue, &overdue_total, err);
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
						    rows,
						    counts_json(&r->app->cfg, month, json_null(),
						                &cur, min_orders));
					month = key;
					cur = n;
					continue;
				}
				json_t *name = gz_col_null(s, 11) ? json_null()
				                                  : json_string(gz_col_text(s, 11));
				json_array_append_new(
				    rows, counts_json(&r->app->cfg, key, name, &n, min_orders));
			}
			gz_stmt_done(s);
		}
	}
	gz_db_reader_done(r->app->db, c);
	if (month)
		json_array_append_new(
		    rows, counts_json(&r->app->cfg, month, json_null(), &cur, min_orders));
	gz_buf_release(&sql);
	gz_buf_release(&where);
	if (rc < 0) {
		json_decref(rows);
		json_decref(overdue);
		return -1;
	}
	/* each row's live overdue orders, by its key (a month's once, not per day) */
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
	{
		char *k = json_dumps(json_object_get(row, "key"), JSON_ENCODE_ANY | JSON_COMPACT);
		json_object_set_new(row, "overdue",
		                    json_integer(json_integer_value(json_object_get(overdue, k))));
		free(k);
	}
	json_decref(overdue);
	totals.overdue = overdue_total;
	json_t *res = json_object();
	json_object_set_new(res, "group_by", g ? json_string(g->name) : json_null());
	json_object_set_new(res, "rows", rows);
	json_object_set_new(res, "min_orders", json_integer(min_orders));
	json_object_set_new(res, "totals",
	                    counts_json(&r->app->cfg, NULL, NULL, &totals, min_orders));
	json_object_set_new(res, "definitions", definitions(&r->app->cfg));
	return gz_reply_json(r, 200, res);
}

/* ---- the exports: CSV and Excel (the engine is model/export.c) ---- */

/* Display names of the enumerations, for people reading the file in Excel. */
static const struct gz_label channel_labels[] = {{"hotline_12345", "12345热线"},
                                                 {"grid_patrol", "网格巡查"},
                                                 {"walk_in", "来访"},
                                                 {"phone", "来电"},
                                                 {"web", "网上"},
                                                 {"open311", "Open311"},
                                                 {"proactive", "主动发现"},
                                                 {NULL, NULL}};
static const struct gz_label priority_labels[] = {
    {"urgent", "紧急"}, {"high", "高"}, {"normal", "普通"}, {"low", "低"}, {NULL, NULL}};
static const struct gz_label status_labels[] = {{"new", "新建"},
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
static const struct gz_label satisfaction_labels[] = {{"satisfied", "满意"},
                                                      {"basically_satisfied", "基本满意"},
                                                      {"dissatisfied", "不满意"},
                                                      {NULL, NULL}};

/* The columns of both exports, in order; the times are columns FIRST_TIME..LAST_TIME. */
static const struct gz_export_column export_columns[] = {
    {"工单编号", 20}, {"标题", 30},     {"分类", 16},     {"渠道", 10},     {"优先级", 8},
    {"状态", 8},      {"所属单位", 20}, {"地址", 24},     {"诉求人", 10},   {"联系电话", 14},
    {"承办单位", 24}, {"创建时间", 20}, {"签收时限", 20}, {"办结时限", 20}, {"签收时间", 20},
    {"办结时间", 20}, {"满意度", 10},   {"是否解决", 8},  {"是否超期", 8}};
#define NCOLUMNS ((int)GZ_ARRAY_LEN(export_columns))
#define FIRST_TIME 11
#define LAST_TIME 15

/* The rows are formatted from these columns, in this order (column i of the result
 * is export column i - 1); the window (gz_export_from) and the joins follow.
 * Parameters: the time (the overdue definition's GZ_WO_OVERDUE_PARAMS), the window,
 * then the list's filters and scope. */
static const char export_select[] =
    "SELECT t.id, t.number, t.title, coalesce(dc.name, t.category_code), t.channel, "
    "t.priority, t.status, coalesce(u.name, ''), coalesce(t.address, ''), "
    "coalesce(t.requester_name, ''), t.requester_phone, coalesce(o.name, hu.name, ''), "
    "t.created_at, t.accept_due_at, t.resolve_due_at, t.accepted_at, t.resolved_at, "
    "coalesce(t.satisfaction, ''), t.solved, " GZ_WO_OVERDUE_EXPR;
static const char export_joins[] =
    " LEFT JOIN dict_entries dc ON dc.type = 'category' AND dc.code = t.category_code "
    "LEFT JOIN units u ON u.id = t.unit_id LEFT JOIN orgs o ON o.id = t.handler_org_id "
    "LEFT JOIN units hu ON hu.id = t.handler_unit_id";

/* The cells of the current row of export_select: what both formats write, so that
 * they agree cell by cell — the labels, the masking, the overdue flag. */
static void export_row(const void *ctx, struct gz_stmt *s, struct gz_app *app, struct gz_arena *a,
                       struct gz_export_cell *c)
{
	(void)ctx;
	for (int i = 0; i < NCOLUMNS; i++) {
		int col = i + 1;
		if (i >= FIRST_TIME && i <= LAST_TIME) {
			if (!gz_col_null(s, col))
				c[i] = (struct gz_export_cell){.kind = GZ_CELL_TIME,
				                               .time = gz_col_i64(s, col)};
			continue;
		}
		c[i].kind = GZ_CELL_TEXT;
		c[i].text = gz_col_text(s, col);
	}
	c[1].guard = c[7].guard = c[8].guard = true; /* title, address, requester */
	c[3].text = gz_label_of(channel_labels, c[3].text);
	c[4].text = gz_label_of(priority_labels, c[4].text);
	c[5].text = gz_label_of(status_labels, c[5].text);
	const char *phone = "";
	if (!gz_col_null(s, 10) && *gz_col_text(s, 10)) {
		/* masked as in the API; a value this key did not seal shows as stars */
		char *plain = gz_unseal(app->key, gz_col_text(s, 10));
		phone = plain ? gz_mask(a, plain) : "***";
		free(plain);
	}
	c[9].text = phone;
	c[16].text = gz_label_of(satisfaction_labels, c[16].text);
	c[17].text = gz_col_null(s, 18) ? "" : gz_col_i64(s, 18) ? "是" : "否";
	/* overdue by the one definition (work_order.h) */
	c[18].text = gz_col_i64(s, 19) ? "是" : "否";
}

static const struct gz_export_spec export_spec = {
    .table = "work_orders",
    .filename = "work-orders",
    .sheet = "工单",
    .columns = export_columns,
    .ncolumns = NCOLUMNS,
    .row = export_row,
};

static void buf_release(void *p)
{
	gz_buf_release(p);
}

/* The export of the list's filters and scope (gz_entity_where): the rows are those
 * among the orders that existed when the export began; an order that changes
 * meanwhile appears as it was when its window was read. */
static int export_reply(struct gz_req *r, enum gz_export_format format, struct gz_err *err)
{
	struct gz_buf *where = gz_zalloc(&r->arena, sizeof(*where));
	gz_defer(&r->arena, buf_release, where);
	struct gz_args args = {0};
	struct gz_list_opts lo; /* limit and cursor do not apply: the export is everything */
	if (gz_entity_where(r, &gz_work_order_entity, where, &args, &lo, err))
		return -1;
	struct gz_buf *sql = gz_zalloc(&r->arena, sizeof(*sql));
	gz_defer(&r->arena, buf_release, sql);
	gz_buf_adds(sql, export_select);
	gz_export_from(sql, "work_orders");
	gz_buf_adds(sql, export_joins);
	if (lo.join) /* a filter's driving join (full text): here only a filter */
		gz_buf_adds(sql, lo.join);
	gz_buf_add(sql, where->data, where->len);
	gz_buf_adds(sql, " AND t.id = w.id ORDER BY t.id");
	return gz_export_reply(r, &export_spec, format, sql->data, GZ_WO_OVERDUE_PARAMS, lo.now,
	                       &args, err);
}

static int export_handler(struct gz_req *r, struct gz_err *err)
{
	return export_reply(r, GZ_EXPORT_CSV, err);
}

static int export_xlsx_handler(struct gz_req *r, struct gz_err *err)
{
	return export_reply(r, GZ_EXPORT_XLSX, err);
}

/* ---- the module ---- */

static const char *const stats_params[] = {"group_by",   "unit_id",        "category_code",
                                           "channel",    "handler_org_id", "created_from",
                                           "created_to", "min_orders",     NULL};

static const struct gz_route routes[] = {
    {GZ_GET, "/api/v1/stats/work-orders", stats_handler, "stats.read", 0, NULL,
     "Work-order statistics: counts, the three rates and the score (group_by category, unit, "
     "handler_org, channel, day or month; filters unit_id, category_code, channel, "
     "handler_org_id, created_from, created_to as dates of whole Shanghai days, the end date "
     "included); each row has its sample_size, its live overdue count, and too_few (rates "
     "null) under min_orders orders; the score is out of 100",
     stats_params},
    /* before /work-orders/{id} (this module is listed before work orders); no entity:
     * the reply is not the entity's JSON, and the handler names the entity itself */
    {GZ_GET, "/api/v1/work-orders/export.csv", export_handler, "work_orders.read",
     GZ_R_LIST | GZ_R_FILE, NULL,
     "The work orders of the list's filters as CSV for Excel (UTF-8 with BOM), streamed"},
    {GZ_GET, "/api/v1/work-orders/export.xlsx", export_xlsx_handler, "work_orders.read",
     GZ_R_LIST | GZ_R_FILE, NULL,
     "The work orders of the list's filters as an Excel workbook (Chinese headers, times as "
     "Excel dates in Shanghai time, personal data masked as in the CSV), written in constant "
     "memory"},
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
