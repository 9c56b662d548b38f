/* wo_common.h - helpers shared by the work-order API tests (t21, t22, t23): string
 * formatting, URL encoding, ISO-8601 times and Shanghai days, and thin wrappers around
 * the work-order endpoints.  Include after harness.h; it defines the test's server S. */
#ifndef GONGZHI_WO_COMMON_H
#define GONGZHI_WO_COMMON_H

#include "harness.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define WO_UNUSED __attribute__((unused))

static struct srv S;

/* a JSON string literal (with quotes) for s (rotating static buffers) */
static WO_UNUSED const char *J(const char *s)
{
	static char bufs[16][4096];
	static unsigned n;
	char *b = bufs[n++ % 16];
	json_t *v = json_string(s);
	char *t = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
	snprintf(b, sizeof bufs[0], "%s", t ? t : "null");
	free(t);
	json_decref(v);
	return b;
}

/* ---- days and times ---- */

#define DAY_MS 86400000LL
#define SH_OFFSET_MS (8LL * 3600000)

static WO_UNUSED int64_t days_from_civil(int y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static WO_UNUSED void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const int64_t yy = (int64_t)yoe + era * 400;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

static WO_UNUSED int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* the Shanghai calendar day (days since 1970-01-01) of an instant */
static WO_UNUSED int64_t sh_day(int64_t ms)
{
	int64_t x = ms + SH_OFFSET_MS;
	return x >= 0 ? x / DAY_MS : -((-x + DAY_MS - 1) / DAY_MS);
}

/* 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday) */
static WO_UNUSED int weekday(int64_t day)
{
	return (int)(((day % 7) + 7 + 3) % 7);
}

/* "YYYY-MM-DD" of a day (rotating static buffers) */
static WO_UNUSED const char *date_str(int64_t day)
{
	int y;
	unsigned m, d;
	civil_from_days(day, &y, &m, &d);
	return F("%04d-%02u-%02u", y, m, d);
}

/* the instant at which a Shanghai day ends (24:00 +08:00) */
static WO_UNUSED int64_t end_of_day(int64_t day)
{
	return (day + 1) * DAY_MS - SH_OFFSET_MS;
}

/* Parses "YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]" into ms since the epoch. */
static WO_UNUSED bool parse_time(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec, n = 0;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		return false;
	const char *p = s + n;
	int64_t frac = 0;
	if (*p == '.') {
		int digits = 0;
		p++;
		while (*p >= '0' && *p <= '9') {
			if (digits < 3)
				frac = frac * 10 + (*p - '0');
			digits++;
			p++;
		}
		for (; digits < 3; digits++)
			frac *= 10;
	}
	int64_t off = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
			return false;
		off = (oh * 60 + om) * 60000LL * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return false;
	}
	if (*p)
		return false;
	int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	*ms = days * DAY_MS + ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + frac - off;
	return true;
}

/* ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmm+08:00" (rotating static buffers) */
static WO_UNUSED const char *fmt_time(int64_t ms)
{
	int64_t local = ms + SH_OFFSET_MS;
	int64_t day = sh_day(ms);
	int64_t rem = local - day * DAY_MS;
	int y;
	unsigned m, d;
	civil_from_days(day, &y, &m, &d);
	return F("%04d-%02u-%02uT%02d:%02d:%02d.%03d+08:00", y, m, d, (int)(rem / 3600000),
	         (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
}

/* the same instant in UTC with a Z */
static WO_UNUSED const char *fmt_time_z(int64_t ms)
{
	int64_t day = ms >= 0 ? ms / DAY_MS : -((-ms + DAY_MS - 1) / DAY_MS);
	int64_t rem = ms - day * DAY_MS;
	int y;
	unsigned m, d;
	civil_from_days(day, &y, &m, &d);
	return F("%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d, (int)(rem / 3600000),
	         (int)(rem / 60000 % 60), (int)(rem / 1000 % 60), (int)(rem % 1000));
}

/* the time field of an object in ms (fails the test when absent or malformed) */
#define jtime(o, path) jtime_((o), (path), __FILE__, __LINE__)
static WO_UNUSED int64_t jtime_(json_t *o, const char *path, const char *file, int line)
{
	int64_t ms = 0;
	const char *v = jstr(o, path);
	if (!parse_time(v, &ms)) {
		print_error("%s:%d: %s is not an ISO-8601 time: '%s'\n", file, line, path, v);
		_fail(file, line);
	}
	return ms;
}

/* ---- work orders ---- */

/* POST /api/v1/work-orders; asserts 201; returns the id (*out gets the response when
 * out is not NULL, else it is freed). */
#define wo_create(tok, body) wo_create_((tok), (body), NULL, __FILE__, __LINE__)
#define wo_create_r(tok, body, out) wo_create_((tok), (body), (out), __FILE__, __LINE__)
static WO_UNUSED int64_t wo_create_(const char *tok, const char *body, struct resp **out,
                                    const char *file, int line)
{
	struct resp *r = api(&S, "POST", "/api/v1/work-orders", tok, body, NULL);
	if (!r || r->status != 201) {
		print_error("%s:%d: create %s: %ld %s\n", file, line, body, r ? r->status : 0,
		            r ? r->body : "");
		resp_free(r);
		_fail(file, line);
	}
	int64_t id = jint(r->json, "id");
	if (out)
		*out = r;
	else
		resp_free(r);
	return id;
}

/* POST /api/v1/work-orders/{id}/actions */
static WO_UNUSED struct resp *wo_act(const char *tok, int64_t id, const char *body)
{
	return apif(&S, "POST", tok, body, "/api/v1/work-orders/%lld/actions", (long long)id);
}

/* an action that must succeed (200); returns the new status (static rotating copy) */
#define wo_do(tok, id, body) wo_do_((tok), (id), (body), __FILE__, __LINE__)
static WO_UNUSED const char *wo_do_(const char *tok, int64_t id, const char *body, const char *file,
                                    int line)
{
	struct resp *r = wo_act(tok, id, body);
	if (!r || r->status != 200) {
		print_error("%s:%d: order %lld action %s: %ld %s\n", file, line, (long long)id,
		            body, r ? r->status : 0, r ? r->body : "");
		resp_free(r);
		_fail(file, line);
	}
	const char *st = F("%s", jstr(r->json, "status"));
	resp_free(r);
	return st;
}

static WO_UNUSED struct resp *wo_get(const char *tok, int64_t id)
{
	return apif(&S, "GET", tok, NULL, "/api/v1/work-orders/%lld", (long long)id);
}

/* GET that must succeed; caller frees */
#define wo_get_ok(tok, id) wo_get_ok_((tok), (id), __FILE__, __LINE__)
static WO_UNUSED struct resp *wo_get_ok_(const char *tok, int64_t id, const char *file, int line)
{
	struct resp *r = wo_get(tok, id);
	if (!r || r->status != 200) {
		print_error("%s:%d: GET order %lld: %ld %s\n", file, line, (long long)id,
		            r ? r->status : 0, r ? r->body : "");
		resp_free(r);
		_fail(file, line);
	}
	return r;
}

/* "total" of GET /api/v1/work-orders?count=true&limit=1&<query> */
#define wo_total(tok, query) wo_total_((tok), (query), __FILE__, __LINE__)
static WO_UNUSED int64_t wo_total_(const char *tok, const char *query, const char *file, int line)
{
	struct resp *r = apif(&S, "GET", tok, NULL, "/api/v1/work-orders?count=true&limit=1%s%s",
	                      *query ? "&" : "", query);
	if (!r || r->status != 200 || !json_is_integer(jpath(r->json, "total"))) {
		print_error("%s:%d: count ?%s: %ld %s\n", file, line, query, r ? r->status : 0,
		            r ? r->body : "");
		resp_free(r);
		_fail(file, line);
	}
	int64_t t = jint(r->json, "total");
	resp_free(r);
	return t;
}

/* timeline events of a detail with the given action */
static WO_UNUSED int count_events(json_t *order, const char *action)
{
	int n = 0;
	size_t i;
	json_t *ev;
	json_array_foreach(jpath(order, "timeline"), i,
	                   ev) if (strcmp(jstr(ev, "action"), action) == 0) n++;
	return n;
}

/* the last timeline event (borrowed) or NULL */
static WO_UNUSED json_t *last_event(json_t *order)
{
	json_t *tl = jpath(order, "timeline");
	size_t n = json_array_size(tl);
	return n ? json_array_get(tl, n - 1) : NULL;
}

/* the handlers entry of an organisation (borrowed) or NULL */
static WO_UNUSED json_t *handler_entry(json_t *order, int64_t org)
{
	size_t i;
	json_t *h;
	json_array_foreach(jpath(order, "handlers"), i, h) if (jint(h, "org_id") == org) return h;
	return NULL;
}

/* "allowed" of an invalid_transition error (error.allowed, or top-level allowed) */
static WO_UNUSED json_t *err_allowed(struct resp *r)
{
	json_t *a = jpath(r->json, "error.allowed");
	return a ? a : jpath(r->json, "allowed");
}

/* the ids of a list response's items contain id */
static WO_UNUSED bool items_have(json_t *res, int64_t id)
{
	size_t i;
	json_t *it;
	json_array_foreach(jpath(res, "items"), i, it) if (jint(it, "id") == id) return true;
	return false;
}

#endif
