/* calendar.c - the holiday calendar per year: GET returns the year's holidays and
 * make-up working days, PUT replaces them (admin), audited with what changed. */
#include "modules/calendar.h"
#include "modules/units.h"
#include "app.h"
#include "auth/auth.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "http/idempotency.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gz_calendar_is_workday(struct gz_conn *c, int64_t day, struct gz_err *err)
{
	struct gz_stmt *s = gz_stmt_memo(c, "SELECT kind FROM calendar_days WHERE day = ?", err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, day);
	int rc = gz_step(s, err);
	int result;
	if (rc == 1)
		result = strcmp(gz_col_text(s, 0), "workday") == 0;
	else
		result = gz_weekday(day) < 5;
	gz_stmt_done(s);
	return rc < 0 ? -1 : result;
}

static int parse_year(struct gz_req *r, int64_t *year, int64_t *first, int64_t *last,
                      struct gz_err *err)
{
	const char *y = gz_req_param(r, "year");
	if (!gz_parse_i64(y, year) || *year < 1970 || *year > 2200)
		return gz_fail(err, GZ_E_NOT_FOUND, "no calendar for year '%s'", y);
	*first = gz_days_from_civil((int)*year, 1, 1);
	*last = gz_days_from_civil((int)*year, 12, 31);
	return 0;
}

static json_t *year_json(struct gz_conn *c, int64_t year, int64_t first, int64_t last,
                         struct gz_err *err)
{
	json_t *hol = json_array(), *work = json_array(), *notes = json_object();
	struct gz_stmt *s = gz_stmt(c,
	                            "SELECT day, kind, note FROM calendar_days WHERE day >= ? AND "
	                            "day <= ? ORDER BY day",
	                            err);
	int rc = -1;
	if (s) {
		gz_bind_i64(s, 1, first);
		gz_bind_i64(s, 2, last);
		while ((rc = gz_step(s, err)) == 1) {
			char d[16];
			gz_date_format(gz_col_i64(s, 0), d, sizeof(d));
			json_array_append_new(
			    strcmp(gz_col_text(s, 1), "holiday") == 0 ? hol : work, json_string(d));
			if (!gz_col_null(s, 2) && *gz_col_text(s, 2))
				json_object_set_new(notes, d, json_string(gz_col_text(s, 2)));
		}
		gz_stmt_done(s);
	}
	if (rc < 0) {
		json_decref(hol);
		json_decref(work);
		json_decref(notes);
		return NULL;
	}
	return json_pack("{s:I,s:o,s:o,s:o}", "year", (json_int_t)year, "holidays", hol, "workdays",
	                 work, "notes", notes);
}

static int get_handler(struct gz_req *r, struct gz_err *err)
{
	int64_t year = 0, first = 0, last = 0;
	if (parse_year(r, &year, &first, &last, err))
		return -1;
	struct gz_conn *c = gz_db_reader(r->app->db);
	json_t *o = year_json(c, year, first, last, err);
	gz_db_reader_done(r->app->db, c);
	return o ? gz_reply_json(r, 200, o) : -1;
}

struct put_job {
	struct gz_req *r;
	int64_t year, first, last;
	int64_t *days;
	const char **kinds, **notes;
	size_t n;
};

static int put_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct put_job *j = ctx;
	if (gz_exec_args(c, err, "DELETE FROM calendar_days WHERE day >= ? AND day <= ?", "ii",
	                 j->first, j->last))
		return -1;
	for (size_t i = 0; i < j->n; i++)
		if (gz_exec_args(c, err,
		                 "INSERT INTO calendar_days (day, kind, note) VALUES (?, ?, ?)",
		                 "itt", j->days[i], j->kinds[i], j->notes[i]))
			return -1;
	json_t *o = year_json(c, j->year, j->first, j->last, err);
	if (!o)
		return -1;
	char *sum = gz_json_dump(o);
	struct gz_audit a = {j->r->acct, "update", "calendar", j->year, sum, j->r->client};
	int rc = gz_audit_append(c, &a, err);
	free(sum);
	gz_reply_json(j->r, 200, o);
	return rc;
}

static int collect(struct gz_req *r, struct put_job *j, const char *field, const char *kind,
                   json_t *notes, struct gz_err *err)
{
	json_t *arr = json_object_get(r->body, field);
	if (!arr)
		return 0;
	if (!json_is_array(arr))
		return gz_fail_field(err, GZ_E_VALIDATION, field, "%s must be a list of dates",
		                     field);
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		int64_t d;
		if (!json_is_string(v) || !gz_date_parse(json_string_value(v), &d))
			return gz_fail_field(err, GZ_E_VALIDATION, field,
			                     "%s: each entry must be a date such as 2026-10-01",
			                     field);
		if (d < j->first || d > j->last)
			return gz_fail_field(err, GZ_E_VALIDATION, field, "%s: %s is not in %lld",
			                     field, json_string_value(v), (long long)j->year);
		for (size_t k = 0; k < j->n; k++)
			if (j->days[k] == d)
				return gz_fail_field(err, GZ_E_VALIDATION, field,
				                     "%s is listed twice", json_string_value(v));
		if (j->n >= 366)
			return gz_fail_field(err, GZ_E_VALIDATION, field, "too many dates");
		json_t *note = json_object_get(notes, json_string_value(v));
		j->days[j->n] = d;
		j->kinds[j->n] = kind;
		j->notes[j->n] = json_is_string(note) ? json_string_value(note) : NULL;
		j->n++;
	}
	return 0;
}

static int put_handler(struct gz_req *r, struct gz_err *err)
{
	struct put_job j = {.r = r};
	if (parse_year(r, &j.year, &j.first, &j.last, err))
		return -1;
	const char *key;
	json_t *v;
	json_object_foreach(r->body, key, v)
	{
		if (strcmp(key, "holidays") && strcmp(key, "workdays") && strcmp(key, "notes") &&
		    strcmp(key, "year"))
			return gz_fail_field(err, GZ_E_UNKNOWN_FIELD, key, "unknown field '%s'",
			                     key);
	}
	json_t *notes = json_object_get(r->body, "notes");
	if (notes && !json_is_object(notes))
		return gz_fail_field(err, GZ_E_VALIDATION, "notes", "notes must map dates to text");
	j.days = gz_alloc(&r->arena, sizeof(int64_t) * 367);
	j.kinds = gz_alloc(&r->arena, sizeof(char *) * 367);
	j.notes = gz_alloc(&r->arena, sizeof(char *) * 367);
	if (collect(r, &j, "holidays", "holiday", notes, err) ||
	    collect(r, &j, "workdays", "workday", notes, err))
		return -1;
	return gz_req_write(r, put_fn, &j, sizeof(j), err);
}

static const struct gz_route routes[] = {
    {GZ_GET, "/api/v1/calendar/{year}", get_handler, "calendar.read", 0, NULL,
     "Holidays and make-up working days of a year"},
    {GZ_PUT, "/api/v1/calendar/{year}", put_handler, "calendar.write",
     GZ_R_JSON | GZ_R_WRITE | GZ_R_AUDIT, NULL,
     "Replace a year's holidays and make-up working days"},
    {0, NULL},
};

static const struct gz_perm perms[] = {
    {"calendar.read", GZ_ROLES_ALL, "read the working-day calendar"},
    {"calendar.write", GZ_RB(ADMIN), "maintain the working-day calendar"},
    {NULL},
};

const struct gz_module gz_calendar_module = {"calendar", routes, perms, NULL, NULL};
