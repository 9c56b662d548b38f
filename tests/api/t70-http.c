/* t70-http: the HTTP level — health, metrics, OpenAPI, routing errors (404, 405),
 * body limit (413), content types, static files and path traversal, request ids,
 * the error shape, invalid UTF-8, concurrency; and, over raw sockets where curl will
 * not send the malformed thing, request framing (duplicate Content-Length,
 * Content-Length with chunked), 414/431 and the JSON-lines log after a flood. */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct srv S;
static char *admin;

static int setup(void **state)
{
	(void)state;
	if (srv_start(&S, NULL, true))
		return -1;
	admin = login(&S, "admin", ADMIN_PW);
	return admin ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(admin);
	int rc = srv_stop(&S);
	srv_cleanup(&S);
	assert_int_equal(rc, 0);
	return 0;
}

/* The error body has exactly the documented shape. */
static void check_error_shape(struct resp *r)
{
	assert_non_null(r->json);
	assert_true(json_is_object(r->json));
	assert_int_equal(json_object_size(r->json), 1);
	json_t *e = jpath(r->json, "error");
	assert_true(json_is_object(e));
	assert_true(json_is_string(jpath(e, "code")));
	assert_true(strlen(jstr(e, "code")) > 0);
	assert_true(json_is_string(jpath(e, "message")));
	assert_true(strlen(jstr(e, "message")) > 0);
	json_t *f = jpath(e, "field");
	assert_true(f == NULL || json_is_string(f));
	const char *key;
	json_t *v;
	json_object_foreach(e, key, v)
	    assert_true(strcmp(key, "code") == 0 || strcmp(key, "message") == 0 ||
	                strcmp(key, "field") == 0 || strcmp(key, "allowed") == 0);
	assert_true(contains(resp_header(r, "Content-Type"), "application/json"));
}

/* The headers every reply carries; console: the console's policy, else the API's. */
static void check_security_headers(struct resp *r, bool console)
{
	assert_string_equal(resp_header(r, "X-Content-Type-Options"), "nosniff");
	assert_string_equal(resp_header(r, "X-Frame-Options"), "DENY");
	assert_string_equal(resp_header(r, "Referrer-Policy"), "no-referrer");
	const char *csp = resp_header(r, "Content-Security-Policy");
	if (!csp)
		print_error("no Content-Security-Policy: %s\n", r->headers);
	assert_non_null(csp);
	assert_true(contains(csp, "frame-ancestors 'none'"));
	if (console) {
		assert_string_equal(csp, "default-src 'self'; script-src 'self'; style-src 'self' "
		                         "'unsafe-inline'; img-src 'self' data: blob:; connect-src "
		                         "'self'; frame-ancestors 'none'; base-uri 'self'; "
		                         "form-action 'self'");
	} else {
		assert_string_equal(csp, "default-src 'none'; frame-ancestors 'none'");
	}
}

static void security_headers(void **state)
{
	(void)state;
	static const struct {
		const char *method, *path;
		bool auth, console;
	} cases[] = {
	    {"GET", "/healthz", false, false},
	    {"GET", "/metrics", false, false},
	    {"GET", "/api/v1/openapi.json", false, false},
	    {"GET", "/api/v1/auth/me", true, false},
	    {"GET", "/api/v1/auth/me", false, false},   /* 401 */
	    {"GET", "/api/v1/nope", false, false},      /* 404 */
	    {"DELETE", "/api/v1/users", true, false},   /* 405 */
	    {"GET", "/", false, true},                  /* the placeholder page */
	    {"GET", "/work-orders/12", false, true},    /* a console route */
	    {"GET", "/assets/missing.js", false, true}, /* a console 404 */
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct resp *r = api(&S, cases[i].method, cases[i].path,
		                     cases[i].auth ? admin : NULL, NULL, NULL);
		assert_true(r->status > 0);
		check_security_headers(r, cases[i].console);
		resp_free(r);
	}
}

static void healthz(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/healthz", NULL, NULL, NULL);
	assert_status(r, 200);
	assert_true(contains(resp_header(r, "Content-Type"), "application/json"));
	assert_string_equal(jstr(r->json, "status"), "ok");
	assert_string_equal(jstr(r->json, "db"), "ok");
	resp_free(r);
	r = api(&S, "POST", "/healthz", NULL, "{}", NULL);
	assert_error(r, 405, "method_not_allowed", NULL);
	assert_true(contains(resp_header(r, "Allow"), "GET"));
	resp_free(r);
}

static void metrics(void **state)
{
	(void)state;
	struct resp *h = api(&S, "GET", "/healthz", NULL, NULL, NULL);
	resp_free(h);
	struct resp *r = api(&S, "GET", "/metrics", NULL, NULL, NULL);
	assert_status(r, 200);
	assert_true(contains(resp_header(r, "Content-Type"), "text/plain"));
	assert_true(contains(r->body, "gongzhi_http_requests_total"));
	assert_true(contains(r->body, "gongzhi_http_requests_total{"));
	assert_true(contains(r->body, "route=\""));
	assert_true(contains(r->body, "status=\""));
	assert_true(contains(r->body, "gongzhi_http_request_duration_seconds"));
	assert_true(contains(r->body, "gongzhi_db_commit_batch_size"));
	assert_true(contains(r->body, "# TYPE gongzhi_http_requests_total counter"));
	assert_true(contains(r->body, "# TYPE gongzhi_http_request_duration_seconds histogram"));
	assert_true(contains(r->body, "# TYPE gongzhi_db_commit_batch_size histogram"));
	/* counted under the route pattern, not the raw path */
	assert_true(contains(r->body, "route=\"/healthz\""));
	assert_false(json_is_object(r->json));
	resp_free(r);
	/* a write shows up in the commit batch histogram */
	char *t = login(&S, "admin", ADMIN_PW);
	free(t);
	r = api(&S, "GET", "/metrics", NULL, NULL, NULL);
	assert_true(contains(r->body, "gongzhi_db_commit_batch_size_count"));
	const char *c = strstr(r->body, "gongzhi_db_commit_batch_size_count");
	assert_non_null(c);
	while (*c && *c != ' ')
		c++;
	assert_true(atof(c) >= 1);
	resp_free(r);
}

static void openapi(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/openapi.json", NULL, NULL, NULL);
	assert_status(r, 200);
	assert_true(contains(resp_header(r, "Content-Type"), "application/json"));
	assert_true(json_is_string(jpath(r->json, "openapi")));
	assert_true(strncmp(jstr(r->json, "openapi"), "3.", 2) == 0);
	json_t *paths = jpath(r->json, "paths");
	assert_true(json_is_object(paths));
	static const struct {
		const char *path, *methods[3];
	} want[] = {
	    {"/healthz", {"get"}},
	    {"/metrics", {"get"}},
	    {"/api/v1/openapi.json", {"get"}},
	    {"/api/v1/auth/login", {"post"}},
	    {"/api/v1/auth/logout", {"post"}},
	    {"/api/v1/auth/me", {"get"}},
	    {"/api/v1/auth/password", {"post"}},
	    {"/api/v1/users", {"get", "post"}},
	    {"/api/v1/users/{id}", {"get", "patch"}},
	    {"/api/v1/api-keys", {"get", "post"}},
	    {"/api/v1/api-keys/{id}", {"get", "patch"}},
	    {"/api/v1/units", {"get", "post"}},
	    {"/api/v1/units/{id}", {"get", "patch"}},
	    {"/api/v1/units/{id}/tree", {"get"}},
	    {"/api/v1/orgs", {"get", "post"}},
	    {"/api/v1/orgs/{id}", {"get", "patch"}},
	    {"/api/v1/dicts/{type}", {"get", "post"}},
	    {"/api/v1/calendar/{year}", {"get", "put"}},
	};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		json_t *p = json_object_get(paths, want[i].path);
		if (!p)
			print_error("openapi lacks %s\n", want[i].path);
		assert_true(json_is_object(p));
		for (int m = 0; m < 3 && want[i].methods[m]; m++) {
			if (!json_object_get(p, want[i].methods[m]))
				print_error("openapi lacks %s %s\n", want[i].methods[m],
				            want[i].path);
			assert_non_null(json_object_get(p, want[i].methods[m]));
		}
	}
	/* every documented path answers something other than 404 */
	const char *path;
	json_t *v;
	json_object_foreach(paths, path, v)
	{
		char concrete[256];
		size_t o = 0;
		for (const char *p = path; *p && o < sizeof concrete - 8; p++) {
			if (*p == '{') {
				const char *end = strchr(p, '}');
				const char *sub = strncmp(p, "{year}", 6) == 0   ? "2026"
				                  : strncmp(p, "{type}", 6) == 0 ? "category"
				                                                 : "1";
				o += (size_t)snprintf(concrete + o, sizeof concrete - o, "%s", sub);
				p = end;
			} else {
				concrete[o++] = *p;
			}
		}
		concrete[o] = '\0';
		const char *m;
		json_t *op;
		json_object_foreach(v, m, op)
		{
			char method[16];
			size_t k;
			for (k = 0; m[k] && k < sizeof method - 1; k++)
				method[k] = (char)(m[k] >= 'a' && m[k] <= 'z' ? m[k] - 32 : m[k]);
			method[k] = '\0';
			if (strcmp(method, "GET") && strcmp(method, "POST") &&
			    strcmp(method, "PATCH") && strcmp(method, "PUT") &&
			    strcmp(method, "DELETE"))
				continue;
			/* anonymous requests: the route exists, so never 404 or 405 */
			struct resp *q = api(&S, method, concrete, NULL,
			                     strcmp(method, "GET") ? "{}" : NULL, NULL);
			if (q->status == 404 || q->status == 405)
				print_error("%s %s -> %ld %s\n", method, concrete, q->status,
				            q->body);
			assert_true(q->status != 404 || strcmp(err_code(q), "not_found") == 0);
			assert_int_not_equal(q->status, 405);
			if (q->status == 404)
				assert_false(
				    contains(jstr(q->json, "error.message"), "no such path"));
			resp_free(q);
		}
	}
	resp_free(r);
}

static void unknown_paths(void **state)
{
	(void)state;
	static const char *const paths[] = {
	    "/api/v1/nope",
	    "/api/v1/",
	    "/api/v1",
	    "/api/v2/users",
	    "/api/v1/users/1/roles",
	    "/api/v1/auth",
	    "/api/v1/auth/me/more",
	    "/api/nothing",
	};
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
		struct resp *r = api(&S, "GET", paths[i], admin, NULL, NULL);
		if (r->status != 404)
			print_error("GET %s -> %ld\n", paths[i], r->status);
		assert_error(r, 404, "not_found", NULL);
		check_error_shape(r);
		resp_free(r);
		r = api(&S, "GET", paths[i], NULL, NULL, NULL);
		assert_error(r, 404, "not_found", NULL);
		resp_free(r);
		r = api(&S, "POST", paths[i], admin, "{}", NULL);
		assert_error(r, 404, "not_found", NULL);
		resp_free(r);
	}
}

static void method_not_allowed(void **state)
{
	(void)state;
	static const struct {
		const char *method, *path, *allow;
	} cases[] = {
	    {"DELETE", "/api/v1/auth/login", "POST"}, {"GET", "/api/v1/auth/logout", "POST"},
	    {"PUT", "/api/v1/users", "GET"},          {"DELETE", "/api/v1/users/1", "PATCH"},
	    {"POST", "/api/v1/units/1", "GET"},       {"DELETE", "/api/v1/units", "POST"},
	    {"PATCH", "/api/v1/openapi.json", "GET"}, {"PUT", "/metrics", "GET"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct resp *r =
		    api(&S, cases[i].method, cases[i].path, admin,
		        strcmp(cases[i].method, "GET") && strcmp(cases[i].method, "DELETE") ? "{}"
		                                                                            : NULL,
		        NULL);
		if (r->status != 405)
			print_error("%s %s -> %ld\n", cases[i].method, cases[i].path, r->status);
		assert_error(r, 405, "method_not_allowed", NULL);
		check_error_shape(r);
		const char *allow = resp_header(r, "Allow");
		if (!contains(allow, cases[i].allow))
			print_error("%s %s: Allow: %s\n", cases[i].method, cases[i].path,
			            allow ? allow : "(none)");
		assert_true(contains(allow, cases[i].allow));
		assert_false(contains(allow, cases[i].method));
		resp_free(r);
	}
	/* 405 comes before authentication: the path exists either way */
	struct resp *r = api(&S, "DELETE", "/api/v1/users/1", NULL, NULL, NULL);
	assert_error(r, 405, "method_not_allowed", NULL);
	assert_true(contains(resp_header(r, "Allow"), "GET"));
	resp_free(r);
}

static void method_not_allowed_unusual_verbs(void **state)
{
	(void)state;
	/* verbs the server does not know at all: still 405 with Allow on a known path */
	static const char *const verbs[] = {"OPTIONS", "TRACE", "PROPFIND"};
	for (size_t i = 0; i < 3; i++) {
		struct resp *r = api(&S, verbs[i], "/api/v1/users", admin, NULL, NULL);
		if (r->status != 405 || !resp_header(r, "Allow"))
			print_error("%s /api/v1/users -> %ld, Allow: %s\n", verbs[i], r->status,
			            resp_header(r, "Allow") ? resp_header(r, "Allow") : "(none)");
		assert_int_equal(r->status, 405);
		assert_string_equal(err_code(r), "method_not_allowed");
		assert_true(contains(resp_header(r, "Allow"), "GET"));
		assert_true(contains(resp_header(r, "Allow"), "POST"));
		resp_free(r);
	}
}

static char *big_login_body(size_t total)
{
	/* a valid JSON object padded with spaces to exactly total bytes */
	const char *head = "{\"username\":\"nobody-big\",\"password\":\"Wrong-Pass-2026\"";
	char *b = malloc(total + 1);
	size_t hl = strlen(head);
	memcpy(b, head, hl);
	memset(b + hl, ' ', total - hl - 1);
	b[total - 1] = '}';
	b[total] = '\0';
	return b;
}

static void payload_too_large(void **state)
{
	(void)state;
	const size_t MiB = 1024 * 1024;
	/* exactly the limit is fine */
	char *b = big_login_body(MiB);
	struct resp *r = api(&S, "POST", "/api/v1/auth/login", NULL, b, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	free(b);
	/* one byte over is not */
	b = big_login_body(MiB + 1);
	r = api(&S, "POST", "/api/v1/auth/login", NULL, b, NULL);
	assert_error(r, 413, "payload_too_large", NULL);
	check_error_shape(r);
	resp_free(r);
	free(b);
	/* the server is fine afterwards */
	r = api(&S, "GET", "/healthz", NULL, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
}

/* Far over the limit: the client must still receive the 413 (not a reset while it
 * is sending). headers: extra request headers. */
static void big_body_413(const char *headers)
{
	char *b = big_login_body(3 * 1024 * 1024);
	struct resp *r = api(&S, "POST", "/api/v1/users", admin, b, headers);
	free(b);
	if (r->status != 413)
		print_error("3 MiB body (%s): HTTP %ld (0 = connection closed before an answer)\n",
		            headers ? headers : "Content-Length", r->status);
	assert_error(r, 413, "payload_too_large", NULL);
	resp_free(r);
	r = api(&S, "GET", "/healthz", NULL, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
}

static void payload_too_large_3mib(void **state)
{
	(void)state;
	big_body_413(NULL);
}

static void payload_too_large_expect_continue(void **state)
{
	(void)state;
	/* what curl and most clients send for large bodies: the server should answer
	 * 413 instead of 100 Continue */
	big_body_413("Expect: 100-continue");
}

static void payload_too_large_chunked(void **state)
{
	(void)state;
	/* no Content-Length: the limit applies while reading */
	big_body_413("Transfer-Encoding: chunked");
}

static void body_limit_setting(void **state)
{
	(void)state;
	static const char *const env[] = {"GONGZHI_BODY_LIMIT=2048", NULL};
	struct srv s2;
	assert_int_equal(srv_start(&s2, env, false), 0);
	char *b = big_login_body(2049);
	struct resp *r = api(&s2, "POST", "/api/v1/auth/login", NULL, b, NULL);
	assert_error(r, 413, "payload_too_large", NULL);
	resp_free(r);
	free(b);
	b = big_login_body(2048);
	r = api(&s2, "POST", "/api/v1/auth/login", NULL, b, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	free(b);
	int rc = srv_stop(&s2);
	srv_cleanup(&s2);
	assert_int_equal(rc, 0);
}

static void content_types(void **state)
{
	(void)state;
	const char *body = "{\"username\":\"x\",\"password\":\"y\"}";
	static const char *const bad[] = {
	    "Content-Type: text/plain",
	    "Content-Type: application/xml",
	    "Content-Type: multipart/form-data; boundary=x",
	    "Content-Type: text/json",
	};
	for (size_t i = 0; i < 4; i++) {
		struct resp *r = api(&S, "POST", "/api/v1/users", admin, body, bad[i]);
		assert_error(r, 415, "unsupported_media_type", NULL);
		check_error_shape(r);
		resp_free(r);
	}
	/* case-insensitive media type with parameters is fine */
	struct resp *r = api(&S, "POST", "/api/v1/auth/login", NULL,
	                     "{\"username\":\"admin\",\"password\":\"" ADMIN_PW "\"}",
	                     "Content-Type: Application/JSON; charset=UTF-8");
	assert_status(r, 200);
	resp_free(r);
	/* every API answer is JSON */
	r = api(&S, "GET", "/api/v1/units?limit=1", admin, NULL, NULL);
	assert_status(r, 200);
	assert_true(contains(resp_header(r, "Content-Type"), "application/json"));
	resp_free(r);
}

static void invalid_json_and_utf8(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "{",
	    "}",
	    "nul",
	    "{\"a\":}",
	    "{\"a\":1,}",
	    "{\"a\" 1}",
	    "\"just a string\"",
	    "42",
	    "{\"display_name\":\"\\ud800\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct resp *r = api(&S, "POST", "/api/v1/users", admin, bad[i], NULL);
		if (r->status != 400)
			print_error("body %s -> %ld\n", bad[i], r->status);
		assert_int_equal(r->status, 400);
		check_error_shape(r);
		resp_free(r);
	}
	/* invalid UTF-8 inside JSON strings */
	static const char *const utf8[] = {
	    "{\"username\":\"u\xff\",\"password\":\"x\"}",
	    "{\"username\":\"u\xc3\",\"password\":\"x\"}",
	    "{\"username\":\"u\xed\xa0\x80\",\"password\":\"x\"}", /* encoded surrogate */
	    "{\"username\":\"u\xc0\xaf\",\"password\":\"x\"}",     /* overlong '/' */
	};
	for (size_t i = 0; i < 4; i++) {
		struct resp *r = api(&S, "POST", "/api/v1/auth/login", NULL, utf8[i], NULL);
		assert_int_equal(r->status, 400);
		check_error_shape(r);
		resp_free(r);
	}
	/* an embedded NUL byte */
	static const char nul_body[] = "{\"username\":\"adm\0in\",\"password\":\"x\"}";
	struct resp *r =
	    api_len(&S, "POST", "/api/v1/auth/login", NULL, nul_body, sizeof nul_body - 1, NULL);
	assert_int_equal(r->status, 400);
	resp_free(r);
	/* a request that takes no body given one */
	r = api(&S, "GET", "/api/v1/auth/me", admin, "{\"x\":1}", NULL);
	assert_int_equal(r->status / 100, 4);
	resp_free(r);
	/* a malformed query string */
	r = api(&S, "GET", "/api/v1/users?limit=%zz", admin, NULL, NULL);
	assert_int_equal(r->status, 400);
	check_error_shape(r);
	resp_free(r);
}

static void root_page(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/", NULL, NULL, NULL);
	assert_status(r, 200);
	assert_true(contains(resp_header(r, "Content-Type"), "text/html"));
	assert_true(contains(r->body, "gongzhi"));
	resp_free(r);
}

static bool leaked(struct resp *r)
{
	return contains(r->body, "root:") || contains(r->body, "[core]") ||
	       contains(r->body, "SQLite format") || contains(r->body, "repositoryformatversion");
}

static void path_traversal(void **state)
{
	(void)state;
	static const char *const paths[] = {
	    "/../../etc/passwd",
	    "/%2e%2e/%2e%2e/etc/passwd",
	    "/%2E%2E/%2E%2E/etc/passwd",
	    "/..%2f..%2fetc%2fpasswd",
	    "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
	    "/assets/../../../etc/passwd",
	    "/assets/..%2f..%2f..%2fetc%2fpasswd",
	    "/..\\..\\etc\\passwd",
	    "/%5c..%5c..%5cetc%5cpasswd",
	    "/.git/config",
	    "/.env",
	    "/%2egit/config",
	    "/t.db",
	    "/data/secret.key",
	    "/server.log",
	    "/etc/passwd",
	    "//etc/passwd",
	    "/api/v1/../../etc/passwd",
	    "/..",
	    "/.",
	};
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
		struct resp *r = api(&S, "GET", paths[i], NULL, NULL, NULL);
		if (leaked(r) || !(r->status == 404 || r->status == 400 ||
		                   (r->status == 200 && contains(r->body, "gongzhi") &&
		                    contains(resp_header(r, "Content-Type"), "text/html"))))
			print_error("GET %s -> %ld %.200s\n", paths[i], r->status, r->body);
		assert_false(leaked(r));
		/* 404 or 400; a console route may get the console page, never a file */
		assert_true(r->status == 404 || r->status == 400 ||
		            (r->status == 200 &&
		             contains(resp_header(r, "Content-Type"), "text/html") &&
		             contains(r->body, "gongzhi")));
		resp_free(r);
	}
	/* the explicitly listed ones are 404 or 400 */
	static const char *const strict[] = {"/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
	                                     "/.git/config"};
	for (size_t i = 0; i < 3; i++) {
		struct resp *r = api(&S, "GET", strict[i], NULL, NULL, NULL);
		assert_true(r->status == 404 || r->status == 400);
		assert_false(leaked(r));
		resp_free(r);
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void static_files(void **state)
{
	(void)state;
	/* a console directory with a symlink pointing out of it */
	static const char *const env[] = {"GONGZHI_WEB_DIR=web", NULL};
	struct srv s2;
	assert_int_equal(srv_start(&s2, env, false), 0);
	char p[512];
	snprintf(p, sizeof p, "%s/web", s2.dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/web/assets", s2.dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/web/index.html", s2.dir);
	write_file(p, "<!doctype html><title>gongzhi console</title>");
	snprintf(p, sizeof p, "%s/web/assets/app.js", s2.dir);
	write_file(p, "console.log('gongzhi');");
	snprintf(p, sizeof p, "%s/web/.hidden", s2.dir);
	write_file(p, "root:secret");
	char target[512];
	/* a file outside the console directory that exists: the database or the log */
	snprintf(target, sizeof target, "%s/%s", s2.dir, harness_pg() ? "server.log" : "t.db");
	snprintf(p, sizeof p, "%s/web/db.txt", s2.dir);
	assert_int_equal(symlink(target, p), 0);
	snprintf(p, sizeof p, "%s/web/passwd", s2.dir);
	assert_int_equal(symlink("/etc/passwd", p), 0);

	struct resp *r = api(&s2, "GET", "/assets/app.js", NULL, NULL, NULL);
	assert_status(r, 200);
	assert_true(contains(resp_header(r, "Content-Type"), "javascript"));
	assert_true(contains(r->body, "console.log"));
	check_security_headers(r, true);
	resp_free(r);
	r = api(&s2, "GET", "/", NULL, NULL, NULL);
	assert_status(r, 200);
	assert_true(contains(r->body, "gongzhi console"));
	check_security_headers(r, true);
	resp_free(r);
	static const char *const bad[] = {"/db.txt",           "/passwd",
	                                  "/.hidden",          "/assets/missing.js",
	                                  "/assets/../db.txt", "/%2ehidden"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		r = api(&s2, "GET", bad[i], NULL, NULL, NULL);
		if (leaked(r) || contains(r->body, "root:secret"))
			print_error("GET %s -> %ld %.200s\n", bad[i], r->status, r->body);
		assert_false(leaked(r));
		assert_false(contains(r->body, "root:secret"));
		assert_true(r->status == 404 || r->status == 400 ||
		            (r->status == 200 && contains(r->body, "gongzhi console")));
		resp_free(r);
	}
	int rc = srv_stop(&s2);
	srv_cleanup(&s2);
	assert_int_equal(rc, 0);
}

static void request_ids(void **state)
{
	(void)state;
	struct resp *a = api(&S, "GET", "/healthz", NULL, NULL, NULL);
	struct resp *b = api(&S, "GET", "/api/v1/nope", NULL, NULL, NULL);
	const char *ida = resp_header(a, "X-Request-Id");
	assert_non_null(ida);
	assert_true(strlen(ida) > 0);
	char copy[128];
	snprintf(copy, sizeof copy, "%s", ida);
	const char *idb = resp_header(b, "X-Request-Id");
	assert_non_null(idb); /* errors carry one too */
	assert_string_not_equal(copy, idb);
	resp_free(a);
	resp_free(b);
	/* a safe incoming id is echoed */
	struct resp *r = api(&S, "GET", "/healthz", NULL, NULL, "X-Request-Id: trace-abc_123-XYZ");
	assert_string_equal(resp_header(r, "X-Request-Id"), "trace-abc_123-XYZ");
	resp_free(r);
	r = api(&S, "POST", "/api/v1/auth/login", NULL, "{", "X-Request-Id: req-42");
	assert_int_equal(r->status, 400);
	assert_string_equal(resp_header(r, "X-Request-Id"), "req-42");
	resp_free(r);
	/* an unsafe one is replaced */
	static const char *const unsafe[] = {
	    "X-Request-Id: <script>alert(1)</script>",
	    "X-Request-Id: a b c",
	    "X-Request-Id: id\";drop",
	    "X-Request-Id: id%0d%0aSet-Cookie:x=1",
	};
	for (size_t i = 0; i < 4; i++) {
		r = api(&S, "GET", "/healthz", NULL, NULL, unsafe[i]);
		assert_status(r, 200);
		const char *id = resp_header(r, "X-Request-Id");
		assert_non_null(id);
		assert_true(strlen(id) > 0);
		assert_false(contains(id, "<"));
		assert_false(contains(id, " "));
		assert_false(contains(id, "\""));
		assert_false(contains(id, "%"));
		resp_free(r);
	}
	/* a very long one is replaced */
	char h[1200] = "X-Request-Id: ";
	memset(h + strlen(h), 'a', 1000);
	h[1014] = '\0';
	r = api(&S, "GET", "/healthz", NULL, NULL, h);
	assert_status(r, 200);
	assert_true(strlen(resp_header(r, "X-Request-Id")) < 200);
	resp_free(r);
}

static void unauthenticated(void **state)
{
	(void)state;
	static const char *const paths[] = {
	    "/api/v1/units",   "/api/v1/units/1",        "/api/v1/units/1/tree",
	    "/api/v1/users",   "/api/v1/orgs",           "/api/v1/api-keys",
	    "/api/v1/auth/me", "/api/v1/dicts/category", "/api/v1/calendar/2026",
	};
	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
		struct resp *r = api(&S, "GET", paths[i], NULL, NULL, NULL);
		if (r->status != 401)
			print_error("GET %s anonymous -> %ld\n", paths[i], r->status);
		assert_error(r, 401, "unauthenticated", NULL);
		check_error_shape(r);
		resp_free(r);
	}
	/* the same with a garbage token */
	struct resp *r = api(&S, "GET", "/api/v1/units", "gzs_garbage", NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/units", NULL, NULL, "Authorization: Bearer");
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/units", NULL, NULL, "Authorization: Token abc");
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	/* an over-long token */
	char tok[400] = "gzs_";
	memset(tok + 4, 'A', 300);
	tok[304] = '\0';
	r = api(&S, "GET", "/api/v1/units", tok, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	/* and with a token it works */
	r = api(&S, "GET", "/api/v1/units?limit=1", admin, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
}

static void error_shape_everywhere(void **state)
{
	(void)state;
	struct resp *r;
	r = api(&S, "GET", "/api/v1/users?limit=0", admin, NULL, NULL);
	assert_error(r, 400, "validation_failed", "limit");
	check_error_shape(r);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/users?bogus=1", admin, NULL, NULL);
	assert_error(r, 400, "unknown_field", "bogus");
	check_error_shape(r);
	resp_free(r);
	char *jt = login(&S, "jumin", DEMO_PW);
	r = api(&S, "GET", "/api/v1/api-keys", jt, NULL, NULL);
	assert_error(r, 403, "forbidden", NULL);
	check_error_shape(r);
	resp_free(r);
	free(jt);
	r = api(&S, "GET", "/api/v1/users/99999999", admin, NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	check_error_shape(r);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/users", admin,
	        "{\"username\":\"admin\",\"display_name\":\"x\",\"password\":\"Test-Pass-2026\","
	        "\"roles\":[\"resident\"]}",
	        NULL);
	assert_error(r, 409, "conflict", NULL);
	check_error_shape(r);
	resp_free(r);
	r = api(&S, "PATCH", "/api/v1/users/1", admin, "{\"display_name\":\"区级管理员\"}",
	        "If-Match: \"9999\"");
	assert_error(r, 412, "precondition_failed", NULL);
	check_error_shape(r);
	resp_free(r);
	/* no internals in messages */
	r = api(&S, "POST", "/api/v1/users", admin, "{\"username\":\"x'; DROP TABLE users;--\"}",
	        NULL);
	assert_int_equal(r->status, 400);
	check_error_shape(r);
	assert_false(contains(r->body, "SQLITE"));
	assert_false(contains(r->body, "sqlite"));
	assert_false(contains(r->body, "postgres"));
	assert_false(contains(r->body, "PostgreSQL"));
	assert_false(contains(r->body, "syntax error"));
	resp_free(r);
}

static void long_url(void **state)
{
	(void)state;
	char *path = malloc(20000);
	strcpy(path, "/api/v1/users?q=");
	size_t n = strlen(path);
	memset(path + n, 'a', 16000);
	path[n + 16000] = '\0';
	struct resp *r = api(&S, "GET", path, admin, NULL, NULL);
	assert_int_equal(r->status / 100, 4);
	resp_free(r);
	free(path);
	r = api(&S, "GET", "/healthz", NULL, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
}

struct worker {
	int n, ok, created;
	int64_t ids[10];
};

static void *work(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 20; i++) {
		struct resp *r = api(&S, "GET", "/api/v1/auth/me", admin, NULL, NULL);
		if (r && r->status == 200)
			w->ok++;
		resp_free(r);
	}
	for (int i = 0; i < 5; i++) {
		char u[64];
		snprintf(u, sizeof u, "conc%dx%d", w->n, i);
		json_t *b = json_pack("{s:s,s:s,s:s,s:[s]}", "username", u, "display_name", u,
		                      "password", "Test-Pass-2026", "roles", "resident");
		char *body = json_dumps(b, JSON_COMPACT);
		json_decref(b);
		struct resp *r = api(&S, "POST", "/api/v1/users", admin, body, NULL);
		free(body);
		if (r && r->status == 201)
			w->ids[w->created++] = jint(r->json, "id");
		resp_free(r);
	}
	return NULL;
}

static void concurrency(void **state)
{
	(void)state;
	enum { N = 8 };
	pthread_t th[N];
	struct worker w[N];
	memset(w, 0, sizeof w);
	for (int i = 0; i < N; i++) {
		w[i].n = i;
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++) {
		assert_int_equal(w[i].ok, 20);
		assert_int_equal(w[i].created, 5);
		for (int k = 0; k < 5; k++)
			for (int j = 0; j <= i; j++)
				for (int l = 0; l < 5; l++)
					if (!(j == i && l == k))
						assert_true(w[i].ids[k] != w[j].ids[l]);
	}
	struct resp *r = api(&S, "GET", "/api/v1/users?q=conc&count=true", admin, NULL, NULL);
	assert_int_equal(jint(r->json, "total"), N * 5);
	resp_free(r);
}

/* ---- raw sockets ---- */

struct raw {
	int status; /* of the first response, 0 when none */
	char *text; /* everything received, NUL-terminated */
	size_t len;
	bool closed;   /* the server closed the connection (not our timeout) */
	int responses; /* how many status lines arrived */
	json_t *json;  /* body of the first response, when JSON */
};

static int raw_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	return fd;
}

/* Sends len bytes, then reads until the server closes or wait_ms pass without data. */
static struct raw raw_send_to(int port, const char *data, size_t len, int wait_ms)
{
	int fd = raw_connect(port);
	size_t off = 0;
	while (off < len) {
		ssize_t w = send(fd, data + off, len - off, MSG_NOSIGNAL);
		if (w <= 0)
			break; /* the server may answer and close before reading it all */
		off += (size_t)w;
	}
	struct raw r = {0};
	size_t cap = 4096;
	r.text = malloc(cap);
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, wait_ms) <= 0)
			break;
		if (r.len + 4096 > cap)
			r.text = realloc(r.text, cap *= 2);
		ssize_t n = recv(fd, r.text + r.len, 4096, 0);
		if (n <= 0) {
			r.closed = true;
			break;
		}
		r.len += (size_t)n;
	}
	close(fd);
	r.text[r.len] = '\0';
	if (sscanf(r.text, "HTTP/1.1 %d", &r.status) != 1)
		r.status = 0;
	for (const char *p = r.text; (p = strstr(p, "HTTP/1.1 ")); p++)
		r.responses++;
	const char *body = strstr(r.text, "\r\n\r\n");
	if (body)
		r.json = json_loads(body + 4, JSON_DISABLE_EOF_CHECK, NULL);
	return r;
}

static struct raw raw_send(const char *text)
{
	return raw_send_to(S.port, text, strlen(text), 2000);
}

static void raw_free(struct raw *r)
{
	free(r->text);
	json_decref(r->json);
}

/* A raw reply in the one error shape, with that status and code. */
static void assert_raw_error(struct raw *r, int status, const char *code)
{
	if (r->status != status || !r->json || strcmp(jstr(r->json, "error.code"), code))
		print_error("expected %d %s, got: %.600s\n", status, code, r->text);
	assert_int_equal(r->status, status);
	assert_non_null(r->json);
	assert_string_equal(jstr(r->json, "error.code"), code);
	assert_true(strlen(jstr(r->json, "error.message")) > 0);
	assert_true(contains(r->text, "Content-Type: application/json"));
	assert_true(contains(r->text, "X-Frame-Options: DENY"));
	assert_true(contains(r->text, "Content-Security-Policy: default-src 'none'"));
}

#define LOGIN_HEAD                                                                                 \
	"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"

static void duplicate_content_length(void **state)
{
	(void)state;
	/* conflicting: MHD alone would read 5 bytes and take the rest as the next request */
	struct raw r = raw_send(LOGIN_HEAD "Content-Length: 5\r\nContent-Length: 60\r\n\r\n"
	                                   "{\"a\":1}GET /api/v1/nope HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_raw_error(&r, 400, "bad_request");
	assert_true(contains(jstr(r.json, "error.message"), "Content-Length"));
	assert_true(r.closed);            /* nothing after it on this connection is read */
	assert_int_equal(r.responses, 1); /* the smuggled GET got no answer */
	assert_true(contains(r.text, "Connection: close"));
	raw_free(&r);
	/* the same value twice is refused too */
	r = raw_send(LOGIN_HEAD "Content-Length: 7\r\ncontent-length: 7\r\n\r\n{\"a\":1}");
	assert_raw_error(&r, 400, "bad_request");
	assert_true(r.closed);
	raw_free(&r);
	/* one Content-Length is fine (the login fails on its merits) */
	r = raw_send(LOGIN_HEAD "Content-Length: 7\r\n\r\n{\"a\":1}");
	assert_raw_error(&r, 400, "unknown_field");
	assert_false(r.closed); /* keep-alive */
	raw_free(&r);
}

static void content_length_with_chunked(void **state)
{
	(void)state;
	struct raw r = raw_send(LOGIN_HEAD "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
	                                   "7\r\n{\"a\":1}\r\n0\r\n\r\n");
	assert_raw_error(&r, 400, "bad_request");
	assert_true(contains(jstr(r.json, "error.message"), "Transfer-Encoding"));
	assert_true(r.closed);
	assert_int_equal(r.responses, 1);
	raw_free(&r);
	/* the other order */
	r = raw_send(LOGIN_HEAD "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
	                        "7\r\n{\"a\":1}\r\n0\r\n\r\n");
	assert_raw_error(&r, 400, "bad_request");
	raw_free(&r);
	/* a coding other than chunked: MHD alone would wait for the client to close */
	r = raw_send(LOGIN_HEAD "Transfer-Encoding: gzip\r\n\r\n{\"a\":1}");
	assert_raw_error(&r, 400, "bad_request");
	assert_true(r.closed);
	raw_free(&r);
	r = raw_send(LOGIN_HEAD "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
	                        "7\r\n{\"a\":1}\r\n0\r\n\r\n");
	assert_raw_error(&r, 400, "bad_request");
	raw_free(&r);
	/* plain chunked works */
	r = raw_send(LOGIN_HEAD "Transfer-Encoding: chunked\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n");
	assert_raw_error(&r, 400, "unknown_field");
	raw_free(&r);
}

/* A GET of /healthz whose URL or headers are padded. */
static struct raw padded_get(size_t uri_pad, size_t header_pad, int nheaders)
{
	size_t cap = uri_pad + header_pad + (size_t)nheaders * 16 + 256;
	char *b = malloc(cap);
	size_t n = (size_t)snprintf(b, cap, "GET /healthz%s", uri_pad ? "?x=" : "");
	memset(b + n, 'a', uri_pad);
	n += uri_pad;
	n += (size_t)snprintf(b + n, cap - n, " HTTP/1.1\r\nHost: t\r\n");
	if (header_pad) {
		n += (size_t)snprintf(b + n, cap - n, "X-Pad: ");
		memset(b + n, 'b', header_pad);
		n += header_pad;
		n += (size_t)snprintf(b + n, cap - n, "\r\n");
	}
	for (int i = 0; i < nheaders; i++)
		n += (size_t)snprintf(b + n, cap - n, "X-H%d: 1\r\n", i);
	n += (size_t)snprintf(b + n, cap - n, "\r\n");
	struct raw r = raw_send_to(S.port, b, n, 2000);
	free(b);
	return r;
}

static void uri_and_headers_too_large(void **state)
{
	(void)state;
	/* gongzhi's limits: URL 8 KiB, headers 32 KiB or 100 lines */
	struct raw r = padded_get(8000, 0, 0);
	assert_raw_error(&r, 400, "unknown_field"); /* under the limit: routed */
	raw_free(&r);
	static const size_t uris[] = {8200, 20000, 60000};
	for (size_t i = 0; i < 3; i++) {
		r = padded_get(uris[i], 0, 0);
		assert_raw_error(&r, 414, "uri_too_long");
		raw_free(&r);
	}
	r = padded_get(0, 30000, 0);
	assert_int_equal(r.status, 200);
	raw_free(&r);
	static const size_t pads[] = {33000, 55000};
	for (size_t i = 0; i < 2; i++) {
		r = padded_get(0, pads[i], 0);
		assert_raw_error(&r, 431, "headers_too_large");
		raw_free(&r);
	}
	r = padded_get(0, 0, 95);
	assert_int_equal(r.status, 200);
	raw_free(&r);
	r = padded_get(0, 0, 101);
	assert_raw_error(&r, 431, "headers_too_large");
	raw_free(&r);
	/* past the connection's memory (64 KiB) MHD answers itself, still 431 */
	r = padded_get(0, 200000, 0);
	assert_int_equal(r.status, 431);
	assert_true(r.closed);
	raw_free(&r);
	/* and curl's view: the long URL is a 414 in the error shape */
	char *path = malloc(10000);
	strcpy(path, "/api/v1/users?q=");
	memset(path + strlen(path), 'a', 9000);
	path[16 + 9000] = '\0';
	struct resp *c = api(&S, "GET", path, admin, NULL, NULL);
	free(path);
	assert_error(c, 414, "uri_too_long", NULL);
	check_error_shape(c);
	resp_free(c);
}

/* Errors MHD raises before gongzhi sees the request: the status is right, the body is
 * MHD's (0.9.75 has no hook for it), the connection is closed, and the server is fine. */
static void mhd_own_errors(void **state)
{
	(void)state;
	struct raw r =
	    raw_send(LOGIN_HEAD "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
	assert_int_equal(r.status, 400);
	assert_true(r.closed);
	raw_free(&r);
	r = raw_send("GET /healthz HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n");
	assert_int_equal(r.status, 400);
	assert_true(r.closed);
	raw_free(&r);
	r = raw_send(LOGIN_HEAD "Content-Length: 7x\r\n\r\n{\"a\":1}");
	assert_int_equal(r.status, 400);
	assert_true(r.closed);
	raw_free(&r);
	r = raw_send("GARBAGE\r\n\r\n");
	assert_true(r.closed);
	assert_int_not_equal(r.status, 200);
	raw_free(&r);
	struct resp *c = api(&S, "GET", "/healthz", NULL, NULL, NULL);
	assert_status(c, 200);
	resp_free(c);
}

/* After a flood of bad requests (and clients hanging up half-way), every line the
 * server wrote to stderr is a JSON object with ts, level and msg. */
static void log_stays_json_lines(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    LOGIN_HEAD "Content-Length: 5\r\nContent-Length: 6\r\n\r\n{}",
	    LOGIN_HEAD "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
	    "GET /healthz HTTP/1.1\r\nHost: t\r\nbroken\r\n\r\n",
	    "GARBAGE\r\n\r\n",
	    "GET / HTTP/9.9\r\n\r\n",
	    LOGIN_HEAD "Content-Length: 100\r\n\r\n{\"a\"", /* hangs up mid-body */
	    "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Half: ", /* hangs up mid-head */
	    LOGIN_HEAD "Content-Length: -1\r\n\r\n",
	};
	for (int round = 0; round < 25; round++)
		for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
			struct raw r = raw_send_to(S.port, bad[i], strlen(bad[i]), 50);
			raw_free(&r);
		}
	struct resp *c = api(&S, "GET", "/healthz", NULL, NULL, NULL);
	assert_status(c, 200);
	resp_free(c);
	msleep(300);
	FILE *f = fopen(S.log, "r");
	assert_non_null(f);
	char line[8192];
	int lines = 0, mhd = 0;
	while (fgets(line, sizeof line, f)) {
		json_error_t je;
		json_t *j = json_loads(line, 0, &je);
		if (!j || !json_is_string(json_object_get(j, "ts")) ||
		    !json_is_string(json_object_get(j, "level")) ||
		    !json_is_string(json_object_get(j, "msg")))
			print_error("not a JSON log line: %s\n", line);
		assert_non_null(j);
		assert_true(json_is_string(json_object_get(j, "msg")));
		mhd += strncmp(jstr(j, "msg"), "microhttpd: ", 12) == 0;
		json_decref(j);
		lines++;
	}
	fclose(f);
	assert_true(lines > 50);
	assert_true(mhd >= 25); /* MHD's own messages came through the logger */
}

/* ---- /metrics on its own address, behind a token ---- */

static int any_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof a;
	int port = -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void metrics_own_listener(void **state)
{
	(void)state;
	int mport = any_free_port();
	char setting[64];
	snprintf(setting, sizeof setting, "GONGZHI_METRICS_LISTEN=127.0.0.1:%d", mport);
	const char *const env[] = {setting, NULL};
	struct srv s2;
	assert_int_equal(srv_start(&s2, env, false), 0);
	struct srv m = s2; /* the same server, seen on the metrics address */
	snprintf(m.base, sizeof m.base, "http://127.0.0.1:%d", mport);
	struct resp *r = api(&m, "GET", "/metrics", NULL, NULL, NULL);
	assert_status(r, 200);
	assert_true(contains(r->body, "gongzhi_http_requests_total"));
	resp_free(r);
	/* not on the main port */
	r = api(&s2, "GET", "/metrics", NULL, NULL, NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	/* and nothing else on the metrics port: no API, no console */
	static const char *const others[] = {"/healthz", "/api/v1/auth/me", "/", "/index.html",
	                                     "/api/v1/openapi.json"};
	for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
		r = api(&m, "GET", others[i], NULL, NULL, NULL);
		assert_error(r, 404, "not_found", NULL);
		resp_free(r);
	}
	r = api(&m, "POST", "/api/v1/auth/login", NULL,
	        "{\"username\":\"admin\",\"password\":\"" ADMIN_PW "\"}", NULL);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	/* the main port serves the rest as before */
	r = api(&s2, "GET", "/healthz", NULL, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	int rc = srv_stop(&s2);
	srv_cleanup(&s2);
	assert_int_equal(rc, 0);
}

static void metrics_token(void **state)
{
	(void)state;
	static const char *const env[] = {"GONGZHI_METRICS_TOKEN=scrape-0123456789abcdef", NULL};
	struct srv s2;
	assert_int_equal(srv_start(&s2, env, false), 0);
	struct resp *r = api(&s2, "GET", "/metrics", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	assert_true(contains(resp_header(r, "WWW-Authenticate"), "Bearer"));
	resp_free(r);
	static const char *const wrong[] = {
	    "Authorization: Bearer scrape-0123456789abcde",   /* one short */
	    "Authorization: Bearer scrape-0123456789abcdefX", /* one long */
	    "Authorization: Bearer scrape-0123456789abcdeF",
	    "Authorization: Basic c2NyYXBlLTAxMjM0NTY3ODlhYmNkZWY=",
	    "Authorization: scrape-0123456789abcdef",
	};
	for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
		r = api(&s2, "GET", "/metrics", NULL, NULL, wrong[i]);
		assert_error(r, 401, "unauthenticated", NULL);
		assert_false(contains(r->body, "gongzhi_http"));
		resp_free(r);
	}
	/* an account's token is not the scraper's */
	char *tok = login(&s2, "admin", ADMIN_PW);
	assert_non_null(tok);
	r = api(&s2, "GET", "/metrics", tok, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&s2, "GET", "/metrics", NULL, NULL,
	        "Authorization: Bearer scrape-0123456789abcdef");
	assert_status(r, 200);
	assert_true(contains(r->body, "gongzhi_http_requests_total"));
	resp_free(r);
	/* the rest is unaffected */
	r = api(&s2, "GET", "/api/v1/auth/me", tok, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	r = api(&s2, "GET", "/healthz", NULL, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	free(tok);
	int rc = srv_stop(&s2);
	srv_cleanup(&s2);
	assert_int_equal(rc, 0);
}

/* Bad values of the new settings stop the server at start, naming the setting. */
static void http_settings_checked(void **state)
{
	(void)state;
	static const struct {
		const char *flags, *name;
	} bad[] = {
	    {"--metrics-token short", "metrics_token"},
	    {"--cookie-secure sometimes", "cookie_secure"},
	    {"--trusted-proxies '127.0.0.1, proxy.example'", "trusted_proxies"},
	    {"--metrics-listen nowhere", "metrics_listen"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char out[4096];
		int rc = run_cli(&S, out, sizeof out, "serve --listen 127.0.0.1:%d %s",
		                 any_free_port(), bad[i].flags);
		if (rc == 0 || !contains(out, bad[i].name))
			print_error("serve %s -> %d: %s\n", bad[i].flags, rc, out);
		assert_int_not_equal(rc, 0);
		assert_true(contains(out, bad[i].name));
	}
}

/* ---- trusted proxies: the client's address and https ---- */

/* Logs in as admin with extra headers; returns the Set-Cookie header (malloc) and
 * writes the client address of the newest login audit entry into client. */
static char *login_via(struct srv *s, const char *headers, char *client, size_t n)
{
	struct resp *r = api(s, "POST", "/api/v1/auth/login", NULL,
	                     "{\"username\":\"admin\",\"password\":\"" ADMIN_PW "\"}", headers);
	assert_status(r, 200);
	const char *c = resp_header(r, "Set-Cookie");
	assert_non_null(c);
	assert_true(contains(c, "gz_session="));
	char *cookie = strdup(c);
	char *tok = strdup(jstr(r->json, "token"));
	resp_free(r);
	r = api(s, "GET", "/api/v1/audit?action=login&limit=1", tok, NULL, NULL);
	assert_status(r, 200);
	snprintf(client, n, "%s", jstr(r->json, "items.0.client"));
	resp_free(r);
	free(tok);
	return cookie;
}

static void forwarded_ignored_from_untrusted_peer(void **state)
{
	(void)state;
	char client[64];
	/* by default no proxy is trusted: the headers are the client's own words */
	char *cookie = login_via(&S, "X-Forwarded-For: 203.0.113.7\nX-Forwarded-Proto: https",
	                         client, sizeof client);
	assert_false(contains(cookie, "Secure"));
	assert_true(contains(cookie, "HttpOnly"));
	assert_true(contains(cookie, "SameSite=Strict"));
	assert_string_equal(client, "127.0.0.1");
	free(cookie);
	cookie = login_via(&S, NULL, client, sizeof client);
	assert_false(contains(cookie, "Secure"));
	assert_string_equal(client, "127.0.0.1");
	free(cookie);
}

static void forwarded_from_trusted_proxy(void **state)
{
	(void)state;
	static const char *const env[] = {"GONGZHI_TRUSTED_PROXIES=10.9.9.9, 127.0.0.1", NULL};
	struct srv s2;
	assert_int_equal(srv_start(&s2, env, false), 0);
	static const struct {
		const char *headers, *client;
		bool secure;
	} cases[] = {
	    {"X-Forwarded-For: 203.0.113.7\nX-Forwarded-Proto: https", "203.0.113.7", true},
	    {"X-Forwarded-Proto: HTTPS", "127.0.0.1", true},
	    {"X-Forwarded-For: 203.0.113.7", "203.0.113.7", false},
	    {"X-Forwarded-For: 203.0.113.7\nX-Forwarded-Proto: http", "203.0.113.7", false},
	    /* the right-most address that is not a trusted proxy; what the client put
	     * in front of it is not believed */
	    {"X-Forwarded-For: 198.51.100.1, 203.0.113.8, 10.9.9.9", "203.0.113.8", false},
	    {"X-Forwarded-For: 198.51.100.1,203.0.113.8 , 127.0.0.1", "203.0.113.8", false},
	    /* all trusted: the left-most */
	    {"X-Forwarded-For: 10.9.9.9, 127.0.0.1", "10.9.9.9", false},
	    /* two headers are one list */
	    {"X-Forwarded-For: 198.51.100.2\nX-Forwarded-For: 203.0.113.9", "203.0.113.9", false},
	    {"X-Forwarded-For: 203.0.113.10:4711", "203.0.113.10", false},
	    {"X-Forwarded-For: [2001:db8::1]:443", "2001:db8::1", false},
	    {"X-Forwarded-For: ::ffff:203.0.113.11", "203.0.113.11", false},
	    /* something that is no address ends the walk */
	    {"X-Forwarded-For: <script>", "127.0.0.1", false},
	    {"X-Forwarded-For: 203.0.113.12, bogus, 10.9.9.9", "10.9.9.9", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char client[64];
		char *cookie = login_via(&s2, cases[i].headers, client, sizeof client);
		if (strcmp(client, cases[i].client) ||
		    contains(cookie, "Secure") != cases[i].secure)
			print_error("%s -> client %s, cookie %s\n", cases[i].headers, client,
			            cookie);
		assert_string_equal(client, cases[i].client);
		assert_int_equal(contains(cookie, "; Secure"), cases[i].secure);
		free(cookie);
	}
	/* the access log names the forwarded client too */
	msleep(200);
	FILE *f = fopen(s2.log, "r");
	assert_non_null(f);
	char line[4096];
	bool seen = false;
	while (fgets(line, sizeof line, f))
		seen |= contains(line, "\"client\":\"203.0.113.8\"");
	fclose(f);
	assert_true(seen);
	/* logout over https clears the cookie with the same attributes */
	struct resp *r = api(&s2, "POST", "/api/v1/auth/login", NULL,
	                     "{\"username\":\"admin\",\"password\":\"" ADMIN_PW "\"}", NULL);
	char *tok = strdup(jstr(r->json, "token"));
	resp_free(r);
	r = api(&s2, "POST", "/api/v1/auth/logout", tok, NULL, "X-Forwarded-Proto: https");
	assert_status(r, 204);
	assert_true(contains(resp_header(r, "Set-Cookie"), "Max-Age=0; Secure"));
	resp_free(r);
	free(tok);
	int rc = srv_stop(&s2);
	srv_cleanup(&s2);
	assert_int_equal(rc, 0);
}

static void cookie_secure_setting(void **state)
{
	(void)state;
	static const char *const always[] = {"GONGZHI_COOKIE_SECURE=always", NULL};
	struct srv s2;
	assert_int_equal(srv_start(&s2, always, false), 0);
	char client[64];
	char *cookie = login_via(&s2, NULL, client, sizeof client);
	assert_true(contains(cookie, "; Secure"));
	free(cookie);
	int rc = srv_stop(&s2);
	srv_cleanup(&s2);
	assert_int_equal(rc, 0);
	static const char *const never[] = {"GONGZHI_COOKIE_SECURE=never",
	                                    "GONGZHI_TRUSTED_PROXIES=127.0.0.1", NULL};
	assert_int_equal(srv_start(&s2, never, false), 0);
	cookie = login_via(&s2, "X-Forwarded-Proto: https", client, sizeof client);
	assert_false(contains(cookie, "Secure"));
	free(cookie);
	rc = srv_stop(&s2);
	srv_cleanup(&s2);
	assert_int_equal(rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(healthz),
	    cmocka_unit_test(security_headers),
	    cmocka_unit_test(metrics),
	    cmocka_unit_test(openapi),
	    cmocka_unit_test(unknown_paths),
	    cmocka_unit_test(method_not_allowed),
	    cmocka_unit_test(method_not_allowed_unusual_verbs),
	    cmocka_unit_test(payload_too_large),
	    cmocka_unit_test(payload_too_large_3mib),
	    cmocka_unit_test(payload_too_large_expect_continue),
	    cmocka_unit_test(payload_too_large_chunked),
	    cmocka_unit_test(body_limit_setting),
	    cmocka_unit_test(content_types),
	    cmocka_unit_test(invalid_json_and_utf8),
	    cmocka_unit_test(root_page),
	    cmocka_unit_test(path_traversal),
	    cmocka_unit_test(static_files),
	    cmocka_unit_test(request_ids),
	    cmocka_unit_test(unauthenticated),
	    cmocka_unit_test(error_shape_everywhere),
	    cmocka_unit_test(long_url),
	    cmocka_unit_test(concurrency),
	    cmocka_unit_test(duplicate_content_length),
	    cmocka_unit_test(content_length_with_chunked),
	    cmocka_unit_test(uri_and_headers_too_large),
	    cmocka_unit_test(mhd_own_errors),
	    cmocka_unit_test(log_stays_json_lines),
	    cmocka_unit_test(metrics_own_listener),
	    cmocka_unit_test(metrics_token),
	    cmocka_unit_test(http_settings_checked),
	    cmocka_unit_test(forwarded_ignored_from_untrusted_peer),
	    cmocka_unit_test(forwarded_from_trusted_proxy),
	    cmocka_unit_test(cookie_secure_setting),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
