/* work_order_similar.c - duplicate hints: open orders of the same category filed in
 * the last 30 days at the same place (the compound around a building, else the
 * unit) or within 200 m, nearest first, that the account may see.  One query reads
 * the candidates with their rows and the account's scope. */
#include "app.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "modules/units.h"
#include "modules/work_order_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double distance_m(double lat1, double lng1, double lat2, double lng2)
{
	const double rad = 3.14159265358979323846 / 180, R = 6371000;
	double dlat = (lat2 - lat1) * rad, dlng = (lng2 - lng1) * rad;
	double a = sin(dlat / 2) * sin(dlat / 2) +
	           cos(lat1 * rad) * cos(lat2 * rad) * sin(dlng / 2) * sin(dlng / 2);
	return 2 * R * atan2(sqrt(a), sqrt(1 - a));
}

struct candidate {
	json_t *o;
	double dist; /* metres, or 1e12 when unknown */
	int64_t created;
};

static int cmp_candidate(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;
	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return x->created > y->created ? -1 : x->created < y->created;
}

/* Open orders like (category, unit, lat/lng) in the last 30 days, best first. */
static int similar(struct gz_req *r, struct gz_conn *c, int64_t self, const char *category,
                   int64_t unit_id, json_t *lat, json_t *lng, struct gz_err *err)
{
	char path[256], kind[32];
	int64_t community, subdistrict;
	if (gz_unit_place(c, unit_id, path, sizeof(path), &community, &subdistrict, kind,
	                  sizeof(kind), err))
		return -1;
	/* the compound around a building, else the unit itself */
	char place[256];
	snprintf(place, sizeof(place), "%s", path);
	if (strcmp(kind, "building") == 0) {
		char *cut = place + strlen(place) - 1;
		while (cut > place && cut[-1] != '/')
			cut--;
		*cut = 0;
	}
	char end[256];
	gz_path_upper(place, end, sizeof(end));
	bool geo = json_is_number(lat) && json_is_number(lng);
	double la = geo ? json_number_value(lat) : 0, ln = geo ? json_number_value(lng) : 0;
	/* 200 m is about 0.0018 degrees of latitude; longitude shrinks with cos(lat) */
	double dla = 0.0019, dln = 0.0019 / fmax(cos(la * 3.14159265358979323846 / 180), 0.1);
	/* one query: the candidates as rows, in the account's scope */
	const struct gz_entity *e = &gz_work_order_entity;
	struct gz_buf sql = GZ_BUF_INIT;
	struct gz_args *args = gz_alloc(&r->arena, sizeof(*args));
	memset(args, 0, sizeof(*args));
	gz_buf_adds(&sql, "SELECT ");
	int now_params = gz_entity_select(e, &sql, false);
	gz_buf_adds(&sql, " WHERE t.category_code = ? AND t.status IN " GZ_WO_OPEN_SQL
	                  " AND t.created_at >= ? AND t.id <> ? AND ((t.unit_path >= ? "
	                  "AND t.unit_path < ?)");
	gz_args_text(args, category);
	gz_args_i64(args, gz_now_ms() - 30LL * 86400000);
	gz_args_i64(args, self);
	gz_args_text(args, gz_strdup(&r->arena, place));
	gz_args_text(args, gz_strdup(&r->arena, end));
	if (geo) {
		gz_buf_adds(&sql, " OR (t.lat BETWEEN ? AND ? AND t.lng BETWEEN ? AND ?)");
		gz_args_double(args, la - dla);
		gz_args_double(args, la + dla);
		gz_args_double(args, ln - dln);
		gz_args_double(args, ln + dln);
	}
	gz_buf_adds(&sql, ")");
	struct gz_buf scope = GZ_BUF_INIT;
	gz_entity_scope_where(r, e, &scope, args);
	gz_buf_add(&sql, scope.data ? scope.data : "", scope.len);
	gz_buf_release(&scope);
	gz_buf_adds(&sql, " ORDER BY t.id DESC LIMIT 200");
	struct gz_stmt *s = gz_stmt(c, sql.data, err);
	gz_buf_release(&sql);
	if (!s)
		return -1;
	gz_entity_bind_now(s, now_params, gz_now_ms());
	gz_args_bind(s, args, now_params + 1);
	struct candidate *cands = gz_alloc(&r->arena, sizeof(*cands) * 200);
	int m = 0, rc = 0;
	while (m < 200 && (rc = gz_step(s, err)) == 1) {
		json_t *o = gz_entity_row_json(e, s, r->app, false, NULL, &r->arena);
		gz_wo_decorate(c, o);
		double d = 1e12;
		json_t *olat = json_object_get(o, "lat"), *olng = json_object_get(o, "lng");
		if (geo && json_is_number(olat) && json_is_number(olng))
			d = distance_m(la, ln, json_number_value(olat), json_number_value(olng));
		if (geo && d > 200 && d < 1e12) {
			/* outside the circle: keep it only when it is in the same place */
			const char *up = json_string_value(json_object_get(o, "unit_path"));
			if (!up || strncmp(up, place, strlen(place)) != 0) {
				json_decref(o);
				continue;
			}
		}
		int64_t created = 0;
		gz_time_parse(json_string_value(json_object_get(o, "created_at")), &created);
		if (d < 1e12)
			json_object_set_new(o, "distance_m", json_integer((json_int_t)round(d)));
		cands[m++] = (struct candidate){o, d, created};
	}
	gz_stmt_done(s);
	if (rc < 0) {
		for (int i = 0; i < m; i++)
			json_decref(cands[i].o);
		return -1;
	}
	qsort(cands, (size_t)m, sizeof(*cands), cmp_candidate);
	json_t *items = json_array();
	for (int i = 0; i < m; i++) {
		if (i < 20)
			json_array_append(items, cands[i].o);
		json_decref(cands[i].o);
	}
	return gz_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

int gz_wo_similar_handler(struct gz_req *r, struct gz_err *err)
{
	int64_t id;
	if (gz_req_id(r, "id", &id, err))
		return -1;
	struct gz_conn *c = gz_db_reader(r->app->db);
	json_t *o = gz_work_order_visible(r, c, id, err);
	int rc = -1;
	if (o)
		rc = similar(r, c, id, json_string_value(json_object_get(o, "category_code")),
		             json_integer_value(json_object_get(o, "unit_id")),
		             json_object_get(o, "lat"), json_object_get(o, "lng"), err);
	json_decref(o);
	gz_db_reader_done(r->app->db, c);
	return rc;
}

/* GET /work-orders/similar?category_code=&unit_id=[&lat=&lng=]: before a create. */
int gz_wo_similar_draft_handler(struct gz_req *r, struct gz_err *err)
{
	const char *cat = gz_req_query(r, "category_code"), *unit = gz_req_query(r, "unit_id");
	const char *lat = gz_req_query(r, "lat"), *lng = gz_req_query(r, "lng");
	int64_t unit_id;
	if (!cat || !*cat)
		return gz_fail_field(err, GZ_E_VALIDATION, "category_code",
		                     "category_code is required");
	if (!unit || !gz_parse_i64(unit, &unit_id) || unit_id <= 0)
		return gz_fail_field(err, GZ_E_VALIDATION, "unit_id", "unit_id must be a unit id");
	json_t *jl = NULL, *jg = NULL;
	if (lat || lng) {
		char *e1 = NULL, *e2 = NULL;
		double a = lat ? strtod(lat, &e1) : NAN, b = lng ? strtod(lng, &e2) : NAN;
		if (!lat || !lng || *e1 || *e2 || !(a >= -90 && a <= 90) ||
		    !(b >= -180 && b <= 180))
			return gz_fail_field(err, GZ_E_VALIDATION, lat ? "lng" : "lat",
			                     "lat and lng must be coordinates given together");
		jl = json_real(a);
		jg = json_real(b);
	}
	struct gz_conn *c = gz_db_reader(r->app->db);
	int rc = similar(r, c, 0, cat, unit_id, jl, jg, err);
	gz_db_reader_done(r->app->db, c);
	json_decref(jl);
	json_decref(jg);
	return rc;
}
