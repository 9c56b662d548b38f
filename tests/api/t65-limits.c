/* t65-limits: the limits on what one client may ask (issue 9, items 5 and 6).
 *
 *   idempotency_*: an Idempotency-Key is bound to its request (method, path, query,
 *     body): the same request replays (Idempotent-Replayed: true), another one with
 *     the key is 409 conflict naming the header, and nothing is done twice.
 *   account_limit, address_limit: a server with small token buckets answers 429
 *     rate_limited with Retry-After in whole seconds, per account and per client
 *     address (the test speaks from several loopback addresses, 127.0.0.x), never
 *     for /healthz and /metrics, and lets a client in again once the bucket refills.
 *   login_address_limit: failed logins are counted per address whatever usernames
 *     are tried; once the address is over, its attempts are refused before the
 *     password is checked and lock no account.
 *   user_unlock: `gongzhi user unlock` clears a lockout, audited.
 *   timeline_*: a work order with more events than a page: the detail and the
 *     action reply carry the latest ones, oldest first, with timeline_next_cursor,
 *     and GET …/timeline pages the older ones in the same scope.
 *
 * The main server S runs with the harness's defaults (limits off); the limit tests
 * start their own server with small limits. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strcasestr */
#endif
#include "harness.h"
#include "wo_common.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char *admin, *shequ, *jumin, *hehuoren;
static struct srv L; /* the server with small limits, started by the first test */
static bool l_started;
static int64_t u_grid1;

static int setup(void **state)
{
	(void)state;
	if (srv_start(&S, NULL, true))
		return -1;
	admin = login(&S, "admin", ADMIN_PW);
	shequ = login(&S, "shequ", DEMO_PW);
	jumin = login(&S, "jumin", DEMO_PW);
	hehuoren = login(&S, "hehuoren", DEMO_PW);
	if (!admin || !shequ || !jumin || !hehuoren)
		return -1;
	u_grid1 = unit_id(&S, admin, "沙柳北路社区第一网格");
	return u_grid1 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(admin);
	free(shequ);
	free(jumin);
	free(hehuoren);
	int rc = srv_stop(&S);
	srv_cleanup(&S);
	if (l_started) {
		int lrc = srv_stop(&L);
		srv_cleanup(&L);
		rc = rc ? rc : lrc;
	}
	assert_int_equal(rc, 0);
	return 0;
}

/* ---- HTTP from a chosen loopback address ----
 * libcurl through the harness always speaks from 127.0.0.1; the address limits need
 * clients at other addresses, so this sends one request (Connection: close) from a
 * socket bound to from (any of 127.0.0.0/8 is the loopback on Linux). */

struct raw {
	long status;
	char retry_after[32]; /* "" when absent */
	json_t *json;
	char body[8192];
};

static void raw_free(struct raw *r)
{
	json_decref(r->json);
	r->json = NULL;
}

static void raw_http(struct srv *s, const char *from, const char *method, const char *path,
                     const char *token, const char *body, struct raw *out)
{
	memset(out, 0, sizeof(*out));
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct timeval tv = {20, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in local = {.sin_family = AF_INET};
	assert_int_equal(inet_pton(AF_INET, from, &local.sin_addr), 1);
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) != 0) {
		print_error("cannot bind to %s\n", from);
		fail();
	}
	struct sockaddr_in peer = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
	inet_pton(AF_INET, "127.0.0.1", &peer.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&peer, sizeof(peer)), 0);
	char req[4096];
	int n = snprintf(req, sizeof(req),
	                 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
	                 "%s%s%s%s%s%zu\r\n\r\n%s",
	                 method, path, token ? "Authorization: Bearer " : "", token ? token : "",
	                 token ? "\r\n" : "", body ? "Content-Type: application/json\r\n" : "",
	                 "Content-Length: ", body ? strlen(body) : 0, body ? body : "");
	assert_true(n > 0 && (size_t)n < sizeof(req));
	assert_int_equal(write(fd, req, (size_t)n), n);
	static char resp[65536];
	size_t len = 0;
	ssize_t got;
	while (len < sizeof(resp) - 1 && (got = read(fd, resp + len, sizeof(resp) - 1 - len)) > 0)
		len += (size_t)got;
	close(fd);
	resp[len] = 0;
	assert_true(sscanf(resp, "HTTP/1.%*d %ld", &out->status) == 1);
	char *end = strstr(resp, "\r\n\r\n");
	assert_non_null(end);
	*end = 0;
	const char *ra = strcasestr(resp, "\r\nRetry-After:");
	if (ra) {
		ra += strlen("\r\nRetry-After:");
		while (*ra == ' ')
			ra++;
		size_t k = 0;
		while (ra[k] && ra[k] != '\r' && k < sizeof(out->retry_after) - 1) {
			out->retry_after[k] = ra[k];
			k++;
		}
	}
	snprintf(out->body, sizeof(out->body), "%s", end + 4);
	out->json = json_loads(out->body, 0, NULL);
}

/* Asserts a 429 rate_limited in the error shape with a Retry-After of whole seconds
 * (at least 1); returns it. */
static long assert_limited(struct raw *r)
{
	if (r->status != 429)
		print_error("expected 429, got %ld: %s\n", r->status, r->body);
	assert_int_equal(r->status, 429);
	assert_string_equal(jstr(r->json, "error.code"), "rate_limited");
	assert_true(*jstr(r->json, "error.message"));
	assert_true(*r->retry_after);
	for (const char *p = r->retry_after; *p; p++)
		assert_true(isdigit((unsigned char)*p));
	long secs = atol(r->retry_after);
	assert_true(secs >= 1);
	return secs;
}

static char *raw_login(struct srv *s, const char *from, const char *user, const char *pw,
                       long *status)
{
	struct raw r;
	raw_http(s, from, "POST", "/api/v1/auth/login", NULL,
	         F("{\"username\":%s,\"password\":%s}", J(user), J(pw)), &r);
	*status = r.status;
	char *tok = r.status == 200 ? strdup(jstr(r.json, "token")) : NULL;
	raw_free(&r);
	return tok;
}

static double secs_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- Idempotency-Key bound to its request ---- */

static int64_t units_total(void)
{
	return total_count(&S, admin, "/api/v1/units", "kind=grid");
}

static void idempotency_mismatch_refused(void **state)
{
	(void)state;
	int64_t parent = unit_id(&S, admin, "沙柳北路社区");
	const char *hdr = F("Idempotency-Key: %s", uniq("t65-units-"));
	const char *body = F("{\"kind\":\"grid\",\"name\":\"幂等绑定网格\",\"parent_id\":%lld}",
	                     (long long)parent);
	int64_t before = units_total();
	struct resp *r1 = api(&S, "POST", "/api/v1/units", admin, body, hdr);
	assert_status(r1, 201);
	assert_null(resp_header(r1, "Idempotent-Replayed"));
	/* the same request: replayed */
	struct resp *r2 = api(&S, "POST", "/api/v1/units", admin, body, hdr);
	assert_status(r2, 201);
	assert_string_equal(resp_header(r2, "Idempotent-Replayed"), "true");
	assert_int_equal(jint(r2->json, "id"), jint(r1->json, "id"));
	resp_free(r2);
	/* another body with the key: refused, nothing created */
	const char *other =
	    F("{\"kind\":\"grid\",\"name\":\"另一个网格\",\"parent_id\":%lld}", (long long)parent);
	r2 = api(&S, "POST", "/api/v1/units", admin, other, hdr);
	assert_error(r2, 409, "conflict", "Idempotency-Key");
	assert_true(contains(jstr(r2->json, "error.message"),
	                     "Idempotency-Key was used for a different request"));
	assert_null(resp_header(r2, "Idempotent-Replayed"));
	resp_free(r2);
	/* the same body sent to another path with the key: refused too */
	r2 = api(&S, "POST", "/api/v1/orgs", admin, body, hdr);
	assert_error(r2, 409, "conflict", "Idempotency-Key");
	resp_free(r2);
	/* a body that differs only in its bytes (whitespace) is another request */
	r2 = api(&S, "POST", "/api/v1/units", admin, F("%s ", body), hdr);
	assert_error(r2, 409, "conflict", "Idempotency-Key");
	resp_free(r2);
	assert_int_equal(units_total(), before + 1);
	/* and the first request still replays */
	r2 = api(&S, "POST", "/api/v1/units", admin, body, hdr);
	assert_status(r2, 201);
	assert_string_equal(resp_header(r2, "Idempotent-Replayed"), "true");
	assert_int_equal(jint(r2->json, "id"), jint(r1->json, "id"));
	resp_free(r2);
	resp_free(r1);
	assert_int_equal(units_total(), before + 1);
}

static int64_t new_order(const char *title)
{
	return wo_create(jumin, F("{\"title\":%s,\"description\":\"楼道灯不亮，夜间出行不便\","
	                          "\"category_code\":\"010901\",\"channel\":\"web\","
	                          "\"unit_id\":%lld}",
	                          J(title), (long long)u_grid1));
}

/* One key cannot answer for two orders: the path (with the id) is part of the
 * request, and so is the query. */
static void idempotency_bound_to_path_and_query(void **state)
{
	(void)state;
	int64_t o1 = new_order("幂等：第一单"), o2 = new_order("幂等：第二单");
	const char *hdr = F("Idempotency-Key: %s", uniq("t65-comment-"));
	const char *body = "{\"action\":\"comment\",\"note\":\"同一个键\"}";
	struct resp *r =
	    apihf(&S, "POST", shequ, body, hdr, "/api/v1/work-orders/%lld/actions", (long long)o1);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "id"), o1);
	resp_free(r);
	r = apihf(&S, "POST", shequ, body, hdr, "/api/v1/work-orders/%lld/actions", (long long)o2);
	assert_error(r, 409, "conflict", "Idempotency-Key");
	resp_free(r);
	r = apihf(&S, "POST", shequ, body, hdr, "/api/v1/work-orders/%lld/actions?timeline_limit=5",
	          (long long)o1);
	assert_error(r, 409, "conflict", "Idempotency-Key");
	resp_free(r);
	r = apihf(&S, "POST", shequ, body, hdr, "/api/v1/work-orders/%lld/actions", (long long)o1);
	assert_status(r, 200);
	assert_string_equal(resp_header(r, "Idempotent-Replayed"), "true");
	assert_int_equal(jint(r->json, "id"), o1);
	resp_free(r);
	r = wo_get_ok(admin, o1);
	assert_int_equal(count_events(r->json, "comment"), 1);
	resp_free(r);
	r = wo_get_ok(admin, o2);
	assert_int_equal(count_events(r->json, "comment"), 0);
	resp_free(r);
	/* without a key the second order takes the comment */
	wo_do(shequ, o2, body);
}

/* ---- request rates ---- */

static const char *const limited_env[] = {"GONGZHI_RATE_LIMIT_ACCOUNT=1",
                                          "GONGZHI_RATE_LIMIT_ACCOUNT_BURST=5",
                                          "GONGZHI_RATE_LIMIT_ADDRESS=1",
                                          "GONGZHI_RATE_LIMIT_ADDRESS_BURST=40",
                                          "GONGZHI_LOGIN_ADDRESS_FAILURES=6",
                                          "GONGZHI_LOGIN_ADDRESS_WINDOW_SECONDS=3600",
                                          NULL};

static void need_limited(void)
{
	if (l_started)
		return;
	assert_int_equal(srv_start(&L, limited_env, true), 0);
	l_started = true;
}

/* Sends GET path from from with token until a 429; returns how many were let through
 * (fails after max). */
static int until_limited(const char *from, const char *path, const char *token, int max,
                         long *retry)
{
	for (int i = 0; i < max; i++) {
		struct raw r;
		raw_http(&L, from, "GET", path, token, NULL, &r);
		if (r.status == 429) {
			*retry = assert_limited(&r);
			raw_free(&r);
			return i;
		}
		raw_free(&r);
	}
	print_error("no 429 after %d requests to %s\n", max, path);
	fail();
	return -1;
}

static void account_limit(void **state)
{
	(void)state;
	need_limited();
	long st;
	char *a = raw_login(&L, "127.0.0.21", "admin", ADMIN_PW, &st);
	assert_int_equal(st, 200);
	char *b = raw_login(&L, "127.0.0.21", "shequ", DEMO_PW, &st);
	assert_int_equal(st, 200);
	/* the burst of 5 at 1 per second: five pass (one more per second the loop took) */
	double t0 = secs_now();
	long retry = 0;
	int passed = until_limited("127.0.0.22", "/api/v1/auth/me", a, 50, &retry);
	double took = secs_now() - t0;
	assert_true(passed >= 5);
	assert_true(passed <= 5 + (int)took + 1);
	assert_int_equal(retry, 1);
	/* the limit is the account's: from another address too */
	struct raw r;
	raw_http(&L, "127.0.0.23", "GET", "/api/v1/auth/me", a, NULL, &r);
	assert_limited(&r);
	raw_free(&r);
	/* another account from the same address is not limited */
	raw_http(&L, "127.0.0.22", "GET", "/api/v1/auth/me", b, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr(r.json, "username"), "shequ");
	raw_free(&r);
	/* health checks and metrics are never limited */
	for (int i = 0; i < 10; i++) {
		raw_http(&L, "127.0.0.22", "GET", "/healthz", a, NULL, &r);
		assert_int_equal(r.status, 200);
		raw_free(&r);
		raw_http(&L, "127.0.0.22", "GET", "/metrics", a, NULL, &r);
		assert_int_equal(r.status, 200);
		raw_free(&r);
	}
	/* after Retry-After the account may go on */
	msleep(retry * 1000 + 200);
	raw_http(&L, "127.0.0.22", "GET", "/api/v1/auth/me", a, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(jstr(r.json, "username"), "admin");
	raw_free(&r);
	free(a);
	free(b);
}

static void address_limit(void **state)
{
	(void)state;
	need_limited();
	/* anonymous requests count against their address (burst 40, 1 per second) */
	double t0 = secs_now();
	long retry = 0;
	int passed = until_limited("127.0.0.31", "/api/v1/auth/me", NULL, 200, &retry);
	double took = secs_now() - t0;
	assert_true(passed >= 40);
	assert_true(passed <= 40 + (int)took + 1);
	assert_int_equal(retry, 1);
	/* credentials do not help: the address is limited before they are read */
	long st;
	char *tok = raw_login(&L, "127.0.0.32", "jiedao", DEMO_PW, &st);
	assert_int_equal(st, 200);
	struct raw r;
	raw_http(&L, "127.0.0.31", "GET", "/api/v1/auth/me", tok, NULL, &r);
	assert_limited(&r);
	raw_free(&r);
	raw_http(&L, "127.0.0.31", "POST", "/api/v1/auth/login", NULL,
	         F("{\"username\":\"jiedao\",\"password\":%s}", J(DEMO_PW)), &r);
	assert_limited(&r);
	raw_free(&r);
	/* the same account from another address is fine */
	raw_http(&L, "127.0.0.32", "GET", "/api/v1/auth/me", tok, NULL, &r);
	assert_int_equal(r.status, 200);
	raw_free(&r);
	/* another address, anonymous: a 401, not a 429 */
	raw_http(&L, "127.0.0.33", "GET", "/api/v1/auth/me", NULL, NULL, &r);
	assert_int_equal(r.status, 401);
	raw_free(&r);
	/* /healthz and /metrics from the limited address */
	for (int i = 0; i < 10; i++) {
		raw_http(&L, "127.0.0.31", "GET", "/healthz", NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(jstr(r.json, "status"), "ok");
		raw_free(&r);
		raw_http(&L, "127.0.0.31", "GET", "/metrics", NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		raw_free(&r);
	}
	/* the 429s are counted in the metrics */
	struct resp *m = api(&L, "GET", "/metrics", NULL, NULL, NULL);
	assert_status(m, 200);
	assert_true(contains(m->body, "status=\"429\""));
	resp_free(m);
	msleep(retry * 1000 + 200);
	raw_http(&L, "127.0.0.31", "GET", "/api/v1/auth/me", NULL, NULL, &r);
	assert_int_equal(r.status, 401);
	raw_free(&r);
	free(tok);
}

/* 6 failures per hour per address; accounts lock after 5 (the default). */
static void login_address_limit(void **state)
{
	(void)state;
	need_limited();
	const char *spray = "127.0.0.41";
	long st;
	for (int i = 0; i < 4; i++) {
		assert_null(raw_login(&L, spray, "shequ", "Wrong-Pass-2026", &st));
		assert_int_equal(st, 401);
	}
	/* other usernames, known or not, count against the same address */
	assert_null(raw_login(&L, spray, "jiedao", "Wrong-Pass-2026", &st));
	assert_int_equal(st, 401);
	assert_null(raw_login(&L, spray, "nobody-t65", "Wrong-Pass-2026", &st));
	assert_int_equal(st, 401);
	/* the address is spent: refused before the password is looked at */
	struct raw r;
	raw_http(&L, spray, "POST", "/api/v1/auth/login", NULL,
	         "{\"username\":\"shequ\",\"password\":\"Wrong-Pass-2026\"}", &r);
	long retry = assert_limited(&r);
	assert_true(retry > 60); /* one failure back every 600 s */
	assert_true(contains(jstr(r.json, "error.message"), "failed logins"));
	raw_free(&r);
	for (int i = 0; i < 6; i++) {
		raw_http(&L, spray, "POST", "/api/v1/auth/login", NULL,
		         "{\"username\":\"shequ2\",\"password\":\"Wrong-Pass-2026\"}", &r);
		assert_limited(&r);
		raw_free(&r);
	}
	/* even the right password from there */
	assert_null(raw_login(&L, spray, "shequ", DEMO_PW, &st));
	assert_int_equal(st, 429);
	/* none of the accounts it tried is locked: shequ had 4 failures counted (the
	 * fifth, sixth … were refused), shequ2 none */
	const char *other = "127.0.0.42";
	const char *users[] = {"shequ", "shequ2", "jiedao"};
	for (int i = 0; i < 3; i++) {
		char *tok = raw_login(&L, other, users[i], DEMO_PW, &st);
		if (st != 200)
			print_error("%s: %ld\n", users[i], st);
		assert_int_equal(st, 200);
		free(tok);
	}
	/* the account lockout still works for an address under its limit */
	const char *third = "127.0.0.43";
	for (int i = 0; i < 4; i++) {
		assert_null(raw_login(&L, third, "wangge", "Wrong-Pass-2026", &st));
		assert_int_equal(st, 401);
	}
	raw_http(&L, third, "POST", "/api/v1/auth/login", NULL,
	         "{\"username\":\"wangge\",\"password\":\"Wrong-Pass-2026\"}", &r);
	assert_int_equal(r.status, 423);
	assert_string_equal(jstr(r.json, "error.code"), "account_locked");
	raw_free(&r);
}

/* ---- gongzhi user unlock ---- */

static void user_unlock(void **state)
{
	(void)state;
	for (int i = 0; i < 5; i++) {
		struct resp *r = login_resp(&S, "shequ2", "Wrong-Pass-2026");
		assert_status(r, i < 4 ? 401 : 423);
		resp_free(r);
	}
	struct resp *r = login_resp(&S, "shequ2", DEMO_PW);
	assert_error(r, 423, "account_locked", NULL);
	resp_free(r);
	char out[4096];
	int rc = run_cli(&S, out, sizeof out, "user unlock --username shequ2");
	if (rc != 0)
		print_error("%s\n", out);
	assert_int_equal(rc, 0);
	assert_true(contains(out, "user shequ2 unlocked"));
	r = login_resp(&S, "shequ2", DEMO_PW);
	assert_status(r, 200);
	resp_free(r);
	/* audited as the command line's, with the account as object */
	int64_t id = user_id(&S, admin, "shequ2");
	r = apif(&S, "GET", admin, NULL,
	         "/api/v1/audit?action=unlock&object_type=user&object_id=%lld", (long long)id);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 1);
	assert_string_equal(jstr(r->json, "items.0.client"), "cli");
	resp_free(r);
	/* again: nothing was locked; still fine */
	rc = run_cli(&S, out, sizeof out, "user unlock --username shequ2");
	assert_int_equal(rc, 0);
	assert_true(contains(out, "was not locked"));
	/* unlocking clears the counted failures too: four more do not lock */
	for (int i = 0; i < 4; i++) {
		r = login_resp(&S, "shequ2", "Wrong-Pass-2026");
		assert_status(r, 401);
		resp_free(r);
	}
	rc = run_cli(&S, out, sizeof out, "user unlock --username shequ2");
	assert_int_equal(rc, 0);
	for (int i = 0; i < 4; i++) {
		r = login_resp(&S, "shequ2", "Wrong-Pass-2026");
		assert_status(r, 401);
		resp_free(r);
	}
	r = login_resp(&S, "shequ2", DEMO_PW);
	assert_status(r, 200);
	resp_free(r);
	/* bad use */
	rc = run_cli(&S, out, sizeof out, "user unlock --username nobody-t65");
	assert_int_equal(rc, 1);
	assert_true(contains(out, "no user named"));
	rc = run_cli(&S, out, sizeof out, "user unlock");
	assert_int_equal(rc, 2);
	assert_true(contains(out, "needs --username"));
	/* the audit chain holds after the command line's writes */
	rc = run_cli(&S, out, sizeof out, "audit verify");
	assert_int_equal(rc, 0);
}

/* ---- the paged timeline ---- */

static int64_t busy; /* an order with 71 events: create and 70 comments, 10 internal */
#define BUSY_ALL 71
#define BUSY_PUBLIC 61

static void make_busy_order(void)
{
	if (busy)
		return;
	busy = new_order("时间线分页");
	for (int i = 1; i <= 70; i++)
		wo_do(shequ, busy,
		      F("{\"action\":\"comment\",\"note\":\"第%d条\",\"internal\":%s}", i,
		        i % 7 == 0 ? "true" : "false"));
}

/* Asserts ids strictly ascending; returns the count. */
static size_t ascending(json_t *arr)
{
	size_t i;
	json_t *ev;
	int64_t last = 0;
	json_array_foreach(arr, i, ev)
	{
		int64_t id = jint(ev, "id");
		assert_true(id > last);
		last = id;
	}
	return json_array_size(arr);
}

/* Every event a token sees, paging with limit from the detail's first page. */
static json_t *all_events(const char *tok, int64_t id, int limit, int *pages)
{
	struct resp *d = apif(&S, "GET", tok, NULL, "/api/v1/work-orders/%lld?timeline_limit=%d",
	                      (long long)id, limit);
	assert_status(d, 200);
	json_t *all = json_deep_copy(jpath(d->json, "timeline"));
	assert_true((int)json_array_size(all) <= limit);
	ascending(all);
	char cursor[64];
	json_t *c = jpath(d->json, "timeline_next_cursor");
	assert_non_null(c);
	snprintf(cursor, sizeof cursor, "%s", json_is_string(c) ? json_string_value(c) : "");
	resp_free(d);
	*pages = 1;
	while (*cursor) {
		struct resp *p = apif(&S, "GET", tok, NULL,
		                      "/api/v1/work-orders/%lld/timeline?cursor=%s&limit=%d",
		                      (long long)id, Q(cursor), limit);
		assert_status(p, 200);
		json_t *items = jpath(p->json, "items");
		assert_true(json_array_size(items) >= 1);
		assert_true((int)json_array_size(items) <= limit);
		ascending(items);
		/* older than what we have */
		assert_true(jint(json_array_get(items, json_array_size(items) - 1), "id") <
		            jint(json_array_get(all, 0), "id"));
		json_array_extend(items, all);
		json_decref(all);
		all = json_deep_copy(items);
		c = jpath(p->json, "next_cursor");
		assert_non_null(c);
		snprintf(cursor, sizeof cursor, "%s",
		         json_is_string(c) ? json_string_value(c) : "");
		resp_free(p);
		(*pages)++;
		assert_true(*pages < 100);
	}
	return all;
}

static void timeline_detail_page(void **state)
{
	(void)state;
	make_busy_order();
	struct resp *d = wo_get_ok(admin, busy);
	json_t *tl = jpath(d->json, "timeline");
	assert_int_equal(ascending(tl), 50);
	/* the latest 50: the newest comment last, the first 21 events left out */
	assert_string_equal(jstr(json_array_get(tl, 49), "note"), "第70条");
	assert_string_equal(jstr(json_array_get(tl, 0), "note"), "第21条");
	assert_true(json_is_string(jpath(d->json, "timeline_next_cursor")));
	const char *cur = jstr(d->json, "timeline_next_cursor");
	/* the older page: the rest, down to the creation */
	struct resp *p = apif(&S, "GET", admin, NULL, "/api/v1/work-orders/%lld/timeline?cursor=%s",
	                      (long long)busy, Q(cur));
	assert_status(p, 200);
	json_t *items = jpath(p->json, "items");
	assert_int_equal(ascending(items), BUSY_ALL - 50);
	assert_string_equal(jstr(json_array_get(items, 0), "action"), "create");
	assert_string_equal(jstr(json_array_get(items, BUSY_ALL - 51), "note"), "第20条");
	assert_true(jint(json_array_get(items, BUSY_ALL - 51), "id") <
	            jint(json_array_get(tl, 0), "id"));
	assert_true(json_is_null(jpath(p->json, "next_cursor")));
	resp_free(p);
	resp_free(d);
	/* all of it at once */
	d = apif(&S, "GET", admin, NULL, "/api/v1/work-orders/%lld?timeline_limit=500",
	         (long long)busy);
	assert_status(d, 200);
	assert_int_equal(ascending(jpath(d->json, "timeline")), BUSY_ALL);
	assert_true(json_is_null(jpath(d->json, "timeline_next_cursor")));
	json_t *whole = json_deep_copy(jpath(d->json, "timeline"));
	resp_free(d);
	/* paged by 10: the same events in the same order */
	int pages;
	json_t *paged = all_events(admin, busy, 10, &pages);
	assert_int_equal(pages, 8);
	assert_true(json_equal(paged, whole));
	json_decref(paged);
	json_decref(whole);
	/* an order with few events has no cursor */
	int64_t small = new_order("时间线：短");
	d = wo_get_ok(jumin, small);
	assert_int_equal(json_array_size(jpath(d->json, "timeline")), 1);
	assert_true(json_is_null(jpath(d->json, "timeline_next_cursor")));
	resp_free(d);
	p = apif(&S, "GET", jumin, NULL, "/api/v1/work-orders/%lld/timeline", (long long)small);
	assert_status(p, 200);
	assert_int_equal(json_array_size(jpath(p->json, "items")), 1);
	assert_true(json_is_null(jpath(p->json, "next_cursor")));
	resp_free(p);
}

/* Internal events are neither shown nor counted for a resident. */
static void timeline_internal_hidden(void **state)
{
	(void)state;
	make_busy_order();
	struct resp *d = wo_get_ok(jumin, busy);
	json_t *tl = jpath(d->json, "timeline");
	assert_int_equal(json_array_size(tl), 50);
	resp_free(d);
	int pages;
	json_t *all = all_events(jumin, busy, 7, &pages);
	assert_int_equal(json_array_size(all), BUSY_PUBLIC);
	assert_int_equal(pages, 9);
	size_t i;
	json_t *ev;
	json_array_foreach(all, i, ev) assert_false(json_is_true(json_object_get(ev, "internal")));
	json_decref(all);
	all = all_events(shequ, busy, 7, &pages);
	assert_int_equal(json_array_size(all), BUSY_ALL);
	json_decref(all);
}

/* An action's reply is the detail: the latest events with the cursor. */
static void timeline_in_action_reply(void **state)
{
	(void)state;
	make_busy_order();
	struct resp *r =
	    wo_act(shequ, busy, "{\"action\":\"comment\",\"note\":\"回复里的时间线\"}");
	assert_status(r, 200);
	json_t *tl = jpath(r->json, "timeline");
	assert_int_equal(ascending(tl), 50);
	assert_string_equal(jstr(json_array_get(tl, 49), "note"), "回复里的时间线");
	assert_true(json_is_string(jpath(r->json, "timeline_next_cursor")));
	resp_free(r);
	r = apif(&S, "POST", shequ, "{\"action\":\"comment\",\"note\":\"三条\"}",
	         "/api/v1/work-orders/%lld/actions?timeline_limit=3", (long long)busy);
	assert_status(r, 200);
	tl = jpath(r->json, "timeline");
	assert_int_equal(ascending(tl), 3);
	assert_string_equal(jstr(json_array_get(tl, 2), "note"), "三条");
	assert_string_equal(jstr(json_array_get(tl, 1), "note"), "回复里的时间线");
	resp_free(r);
	/* a bad timeline_limit changes nothing */
	struct resp *before = wo_get_ok(admin, busy);
	r = apif(&S, "POST", shequ, "{\"action\":\"comment\",\"note\":\"不会记下\"}",
	         "/api/v1/work-orders/%lld/actions?timeline_limit=0", (long long)busy);
	assert_error(r, 400, "validation_failed", "timeline_limit");
	resp_free(r);
	struct resp *after = wo_get_ok(admin, busy);
	assert_int_equal(jint(after->json, "version"), jint(before->json, "version"));
	resp_free(before);
	resp_free(after);
}

static void timeline_bad_requests(void **state)
{
	(void)state;
	make_busy_order();
	static const char *const bad_limits[] = {"0", "501", "abc", "-1", "", NULL};
	for (const char *const *v = bad_limits; *v; v++) {
		struct resp *r =
		    apif(&S, "GET", admin, NULL, "/api/v1/work-orders/%lld?timeline_limit=%s",
		         (long long)busy, *v);
		assert_error(r, 400, "validation_failed", "timeline_limit");
		resp_free(r);
		r = apif(&S, "GET", admin, NULL, "/api/v1/work-orders/%lld/timeline?limit=%s",
		         (long long)busy, *v);
		assert_error(r, 400, "validation_failed", "limit");
		resp_free(r);
	}
	static const char *const bad_cursors[] = {"zzz", "c0", "c-5", "cx", "12", NULL};
	for (const char *const *v = bad_cursors; *v; v++) {
		struct resp *r =
		    apif(&S, "GET", admin, NULL, "/api/v1/work-orders/%lld/timeline?cursor=%s",
		         (long long)busy, *v);
		assert_error(r, 400, "validation_failed", "cursor");
		resp_free(r);
	}
	struct resp *r = apif(&S, "GET", admin, NULL, "/api/v1/work-orders/%lld/timeline?bogus=1",
	                      (long long)busy);
	assert_error(r, 400, "unknown_field", "bogus");
	resp_free(r);
	/* out of scope, missing, anonymous, wrong method */
	r = apif(&S, "GET", hehuoren, NULL, "/api/v1/work-orders/%lld/timeline", (long long)busy);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = apif(&S, "GET", hehuoren, NULL, "/api/v1/work-orders/%lld", (long long)busy);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = apif(&S, "GET", admin, NULL, "/api/v1/work-orders/%d/timeline", 99999999);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = apif(&S, "GET", NULL, NULL, "/api/v1/work-orders/%lld/timeline", (long long)busy);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = apif(&S, "POST", admin, "{}", "/api/v1/work-orders/%lld/timeline", (long long)busy);
	assert_error(r, 405, "method_not_allowed", NULL);
	resp_free(r);
	/* the OpenAPI document describes the new route and parameter */
	r = api(&S, "GET", "/api/v1/openapi.json", NULL, NULL, NULL);
	assert_status(r, 200);
	assert_non_null(jpath(r->json, "paths./api/v1/work-orders/{id}/timeline"));
	assert_true(contains(r->body, "timeline_limit"));
	resp_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(idempotency_mismatch_refused),
	    cmocka_unit_test(idempotency_bound_to_path_and_query),
	    cmocka_unit_test(user_unlock),
	    cmocka_unit_test(timeline_detail_page),
	    cmocka_unit_test(timeline_internal_hidden),
	    cmocka_unit_test(timeline_in_action_reply),
	    cmocka_unit_test(timeline_bad_requests),
	    cmocka_unit_test(account_limit),
	    cmocka_unit_test(address_limit),
	    cmocka_unit_test(login_address_limit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
