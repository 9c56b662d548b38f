/* server.c - libmicrohttpd glue and the dispatcher.
 *
 * MHD runs an epoll thread pool.  A request's state is created in the URI log
 * callback (which sees the raw URI, so path and query are parsed by router.c, not
 * MHD), the body is collected on the following calls up to the route's limit, and
 * the response is queued on a later call (answering on the first call would make MHD
 * close the connection).  The dispatcher enforces, once for every route: method
 * (405 with Allow), content type (415), body size (413), JSON shape (400),
 * authentication (401), CSRF for cookie sessions (403), a pending second-factor
 * enrolment (403 unless the route is GZ_R_TOTP_SETUP), the route's permission
 * (403), the abuse limits (429 with Retry-After: per client address before the
 * body is parsed or credentials are looked up, per account once it is known; routes
 * flagged GZ_R_UNLIMITED, /healthz and /metrics, are never limited), Idempotency-Key
 * replay; then calls the handler and renders errors in the
 * one shape.  A reply body is JSON, a buffer, a file, or a stream the handler hands
 * over (r->out_stream: MHD pulls it piece by piece with chunked encoding, so an
 * export of any size takes constant memory).  Every request is logged as one JSON
 * line and counted in /metrics. */
#include "http/server.h"
#include "app.h"
#include "auth/auth.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "http/idempotency.h"
#include "http/ratelimit.h"
#include <microhttpd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* An address of trusted_proxies, or one being compared with them. */
struct addr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char bytes[16];
};

/* The URI log callback's context: which daemon a request arrived on. */
struct listener {
	struct gz_server *s;
	bool metrics;
};

struct gz_server {
	struct MHD_Daemon *daemon;
	struct MHD_Daemon *metrics_daemon; /* NULL unless metrics_listen is set */
	struct listener main_listener, metrics_listener;
	struct addr *proxies; /* trusted_proxies */
	size_t nproxies;
	struct gz_app *app;
	const struct gz_route **routes;
	size_t nroutes;
	_Atomic int inflight;
	_Atomic int suspended; /* connections waiting for the writer */
	_Atomic bool stopping; /* after the signal: new requests are answered 503 */
	_Atomic uint64_t seq;
};

static struct gz_server *the_server;

/* struct gz_req.out_stream is handed to MHD as is */
_Static_assert(GZ_STREAM_END == MHD_CONTENT_READER_END_OF_STREAM, "stream end");
_Static_assert(GZ_STREAM_ERROR == MHD_CONTENT_READER_END_WITH_ERROR, "stream error");

/* ---- request accessors ---- */

const char *gz_req_header(struct gz_req *r, const char *name)
{
	return r->conn ? MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name) : NULL;
}

const char *gz_req_cookie(struct gz_req *r, const char *name)
{
	return r->conn ? MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name) : NULL;
}

const char *gz_req_param(struct gz_req *r, const char *name)
{
	for (int i = 0; i < r->nparams; i++)
		if (strcmp(r->params[i].key, name) == 0)
			return r->params[i].value;
	return NULL;
}

int gz_req_id(struct gz_req *r, const char *name, int64_t *id, struct gz_err *err)
{
	const char *v = gz_req_param(r, name);
	if (!v || !gz_parse_i64(v, id) || *id <= 0)
		return gz_fail(err, GZ_E_NOT_FOUND, "no such object: '%s' is not an id",
		               v ? v : "");
	return 0;
}

const char *gz_req_query(struct gz_req *r, const char *key)
{
	const char *v = NULL;
	for (int i = 0; i < r->nquery; i++)
		if (strcmp(r->query[i].key, key) == 0)
			v = r->query[i].value;
	return v;
}

char *gz_json_dump(json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY);
}

int gz_reply_json(struct gz_req *r, int status, json_t *body)
{
	json_decref(r->json);
	r->json = body;
	r->status = status;
	return 0;
}

int gz_reply_text(struct gz_req *r, int status, const char *type, const char *text)
{
	json_decref(r->json);
	r->json = NULL;
	gz_buf_reset(&r->out);
	gz_buf_adds(&r->out, text);
	r->out_type = type;
	r->status = status;
	return 0;
}

struct gz_buf *gz_reply_json_buf(struct gz_req *r, int status)
{
	json_decref(r->json);
	r->json = NULL;
	gz_buf_reset(&r->out);
	r->out_type = "application/json; charset=utf-8";
	r->status = status;
	return &r->out;
}

int gz_reply_empty(struct gz_req *r, int status)
{
	json_decref(r->json);
	r->json = NULL;
	gz_buf_reset(&r->out);
	r->out_type = NULL;
	r->status = status;
	return 0;
}

void gz_reply_header(struct gz_req *r, const char *name, const char *value)
{
	for (int i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].key, name) == 0 && strcasecmp(name, "Set-Cookie")) {
			r->headers[i].value = value;
			return;
		}
	if (r->nheaders == GZ_MAX_HEADERS)
		GZ_BUG("too many response headers");
	r->headers[r->nheaders].key = name;
	r->headers[r->nheaders].value = value;
	r->nheaders++;
}

void gz_reply_error(struct gz_req *r, const struct gz_err *err)
{
	json_t *e = json_pack("{s:s,s:s}", "code", gz_code_string(err->code), "message",
	                      err->message[0] ? err->message : gz_code_string(err->code));
	if (err->field[0])
		json_object_set_new(e, "field", json_string(err->field));
	if (err->allowed[0]) {
		json_t *allowed = json_loads(err->allowed, 0, NULL);
		if (allowed)
			json_object_set_new(e, "allowed", allowed);
	}
	gz_reply_json(r, gz_code_status(err->code), json_pack("{s:o}", "error", e));
}

/* ---- routing ---- */

static const char *method_name(unsigned m)
{
	switch (m) {
	case GZ_GET:
		return "GET";
	case GZ_POST:
		return "POST";
	case GZ_PUT:
		return "PUT";
	case GZ_PATCH:
		return "PATCH";
	case GZ_DELETE:
		return "DELETE";
	case GZ_HEAD:
		return "HEAD";
	}
	return "?";
}

static enum gz_method parse_method(const char *m)
{
	static const struct {
		const char *name;
		enum gz_method m;
	} t[] = {{"GET", GZ_GET},     {"POST", GZ_POST},     {"PUT", GZ_PUT},
	         {"PATCH", GZ_PATCH}, {"DELETE", GZ_DELETE}, {"HEAD", GZ_HEAD}};
	for (size_t i = 0; i < GZ_ARRAY_LEN(t); i++)
		if (strcmp(t[i].name, m) == 0)
			return t[i].m;
	return 0;
}

/* Finds the route; on a path match with another method sets *allow. */
static const struct gz_route *find_route(struct gz_server *s, struct gz_req *r, unsigned *allow)
{
	*allow = 0;
	unsigned want = r->method == GZ_HEAD ? GZ_GET : r->method;
	for (size_t i = 0; i < s->nroutes; i++) {
		const struct gz_route *rt = s->routes[i];
		/* with a metrics listener, /metrics is there and nowhere else */
		bool metrics_only = s->metrics_daemon && (rt->flags & GZ_R_METRICS);
		if (metrics_only != r->metrics_listener)
			continue;
		int np;
		struct gz_kv params[GZ_MAX_PARAMS];
		if (!gz_route_match(rt->pattern, r->path, &r->arena, params, &np))
			continue;
		if (rt->methods & want) {
			memcpy(r->params, params, sizeof(params));
			r->nparams = np;
			return rt;
		}
		*allow |= rt->methods;
	}
	return NULL;
}

/* Is r's path a route of the metrics listener, asked on the main one?  (Then it is a
 * 404 there, not a page of the console.) */
static bool served_elsewhere(struct gz_server *s, struct gz_req *r)
{
	if (!s->metrics_daemon || r->metrics_listener)
		return false;
	for (size_t i = 0; i < s->nroutes; i++)
		if ((s->routes[i]->flags & GZ_R_METRICS) &&
		    gz_route_match(s->routes[i]->pattern, r->path, &r->arena, NULL, NULL))
			return true;
	return false;
}

static bool json_content_type(const char *ct)
{
	if (!ct)
		return false;
	size_t n = strlen("application/json");
	if (strncasecmp(ct, "application/json", n) != 0)
		return false;
	const char *rest = ct + n;
	while (*rest == ' ')
		rest++;
	return *rest == 0 || *rest == ';';
}

static bool is_state_change(enum gz_method m)
{
	return m == GZ_POST || m == GZ_PUT || m == GZ_PATCH || m == GZ_DELETE;
}

/* Takes a token from a limit; over it, the 429 with Retry-After. */
static int limit_take(struct gz_req *r, struct gz_ratelimit *rl, const void *key, size_t n,
                      const char *who, struct gz_err *err)
{
	int64_t wait = gz_ratelimit_take(rl, key, n);
	if (!wait)
		return 0;
	gz_reply_header(r, "Retry-After", gz_sprintf(&r->arena, "%lld", (long long)wait));
	return gz_fail(err, GZ_E_RATE_LIMITED,
	               "too many requests from this %s: try again in %lld s", who, (long long)wait);
}

/* Does the request carry "Authorization: Bearer <token>"?  Compared in constant time. */
static bool metrics_token_ok(struct gz_req *r, const char *token)
{
	const char *h = gz_req_header(r, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	return gz_secret_equal(h, token);
}

/* The pipeline every routed request goes through. */
static int dispatch(struct gz_server *s, struct gz_req *r, struct gz_err *err)
{
	if (!r->path)
		return gz_fail(err, GZ_E_BAD_REQUEST, "malformed URL");
	if (!r->route) {
		unsigned allow;
		r->route = find_route(s, r, &allow);
		if (!r->route && allow) {
			char buf[64] = "";
			for (unsigned m = 1; m <= GZ_HEAD; m <<= 1)
				if (allow & m)
					snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
					         "%s%s", *buf ? ", " : "", method_name(m));
			gz_reply_header(r, "Allow", gz_strdup(&r->arena, buf));
			return gz_fail(err, GZ_E_METHOD, "%s is not allowed here",
			               r->method ? method_name(r->method) : "this method");
		}
		if (!r->route)
			return gz_fail(err, GZ_E_NOT_FOUND, "no such path: %s", r->path);
	}
	const struct gz_route *rt = r->route;
	r->route_name = rt->pattern;
	if (!(rt->flags & GZ_R_UNLIMITED) && r->client &&
	    limit_take(r, s->app->limit_address, r->client, strlen(r->client), "address", err))
		return -1;
	if (r->query_error.code != GZ_OK) {
		*err = r->query_error;
		return -1;
	}
	if (!(rt->flags & GZ_R_LIST))
		for (int i = 0; i < r->nquery; i++) {
			bool ok = false;
			for (const char *const *q = rt->query; q && *q && !ok; q++)
				ok = strcmp(*q, r->query[i].key) == 0;
			if (!ok)
				return gz_fail_field(err, GZ_E_UNKNOWN_FIELD, r->query[i].key,
				                     "unknown query parameter '%s'",
				                     r->query[i].key);
		}
	if (r->too_large)
		return gz_fail(err, GZ_E_TOO_LARGE, "the body is larger than %zu bytes",
		               r->body_limit);
	if (rt->flags & GZ_R_JSON) {
		if (!json_content_type(r->content_type))
			return gz_fail(err, GZ_E_MEDIA_TYPE,
			               "send the body as Content-Type: application/json");
		json_error_t je;
		r->body = json_loadb(r->raw_body.data ? r->raw_body.data : "", r->raw_body.len,
		                     JSON_REJECT_DUPLICATES, &je);
		if (!r->body)
			return gz_fail(err, GZ_E_INVALID_JSON, "invalid JSON: %s", je.text);
		if (!json_is_object(r->body))
			return gz_fail(err, GZ_E_INVALID_JSON, "the body must be a JSON object");
	} else if (r->raw_body.len && !(rt->flags & GZ_R_UPLOAD)) {
		return gz_fail(err, GZ_E_MEDIA_TYPE, "this request takes no body");
	}
	if ((rt->flags & GZ_R_METRICS) && *s->app->cfg.metrics_token) {
		/* the scraper's token, not an account's: sessions are not looked at */
		if (!metrics_token_ok(r, s->app->cfg.metrics_token)) {
			gz_reply_header(r, "WWW-Authenticate", "Bearer realm=\"metrics\"");
			return gz_fail(err, GZ_E_UNAUTHENTICATED,
			               "send Authorization: Bearer <metrics_token>");
		}
		return rt->handler(r, err);
	}
	if (gz_auth_request(r, err))
		return -1;
	if (r->acct && !(rt->flags & GZ_R_UNLIMITED) &&
	    limit_take(r, s->app->limit_account, &r->acct->id, sizeof(r->acct->id), "account", err))
		return -1;
	if (!(rt->flags & GZ_R_PUBLIC)) {
		if (!r->acct)
			return gz_fail(err, GZ_E_UNAUTHENTICATED, "log in first");
		if (r->via_cookie && is_state_change(r->method) && !(rt->flags & GZ_R_NO_CSRF)) {
			const char *t = gz_req_header(r, "X-CSRF-Token");
			if (!t || strcmp(t, r->acct->csrf) != 0)
				return gz_fail(err, GZ_E_CSRF,
				               "missing or wrong X-CSRF-Token header");
		}
		/* an account that must enrol a second factor does that first (API keys are
		 * integrations, not people at a login page) */
		if (r->acct->totp_enrol && !r->acct->api_key_id && !(rt->flags & GZ_R_TOTP_SETUP))
			return gz_fail(
			    err, GZ_E_TOTP_ENROLMENT,
			    "enrol a second factor first (POST /api/v1/auth/totp/enrol)");
		if (gz_scope_check(r->acct, rt->perm, NULL, false, err))
			return -1;
		if (gz_route_row(rt) && s->app->route_reach && s->app->route_reach(r, err))
			return -1;
	}
	int rc = gz_idem_replay(r, err);
	if (rc)
		return rc < 0 ? -1 : 0;
	return rt->handler(r, err);
}

/* ---- MHD callbacks ---- */

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *con)
{
	struct listener *l = cls;
	struct gz_server *s = l->s;
	struct gz_req *r = gz_xcalloc(1, sizeof(*r));
	r->metrics_listener = l->metrics;
	gz_arena_init(&r->arena);
	r->app = s->app;
	r->conn = con;
	r->out_fd = -1;
	r->start_ns = gz_monotonic_ns();
	r->raw_uri = gz_strdup(&r->arena, uri ? uri : "");
	r->route_name = "(none)";
	atomic_fetch_add(&s->inflight, 1);
	return r;
}

/* Releases a streaming body the server never handed to MHD (an error replaced it,
 * or the response could not be created). */
static void stream_drop(struct gz_req *r)
{
	if (r->out_stream && r->out_stream_free)
		r->out_stream_free(r->out_stream_ctx);
	r->out_stream = NULL;
	r->out_stream_free = NULL;
	r->out_stream_ctx = NULL;
}

static void request_free(struct gz_req *r)
{
	stream_drop(r);
	json_decref(r->body);
	json_decref(r->json);
	gz_buf_release(&r->raw_body);
	gz_buf_release(&r->out);
	gz_arena_release(&r->arena);
	free(r);
}

static void parse_target(struct gz_req *r)
{
	const char *q = strchr(r->raw_uri, '?');
	size_t plen = q ? (size_t)(q - r->raw_uri) : strlen(r->raw_uri);
	/* an encoded slash would let one path parameter span two segments */
	bool encoded_slash = false;
	for (size_t i = 0; i + 2 < plen; i++)
		if (r->raw_uri[i] == '%' && r->raw_uri[i + 1] == '2' &&
		    (r->raw_uri[i + 2] == 'F' || r->raw_uri[i + 2] == 'f'))
			encoded_slash = true;
	r->path = encoded_slash ? NULL : gz_url_decode(&r->arena, r->raw_uri, plen, false);
	if (r->path &&
	    (r->path[0] != '/' || strstr(r->path, "/../") ||
	     strcmp(r->path + strlen(r->path) - (strlen(r->path) >= 3 ? 3 : 0), "/..") == 0))
		r->path = NULL;
	gz_err_clear(&r->query_error);
	if (q && gz_query_parse(&r->arena, q + 1, &r->query, &r->nquery, &r->query_error))
		r->nquery = 0;
}

static void make_request_id(struct gz_server *s, struct gz_req *r)
{
	const char *given = gz_req_header(r, "X-Request-Id");
	bool ok = given && *given && strlen(given) < sizeof(r->request_id);
	for (const char *p = given; ok && *p; p++)
		ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		     (*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '_';
	if (ok)
		snprintf(r->request_id, sizeof(r->request_id), "%s", given);
	else
		snprintf(r->request_id, sizeof(r->request_id), "%x-%llx", (unsigned)getpid(),
		         (unsigned long long)atomic_fetch_add(&s->seq, 1));
}

static enum MHD_Result send_response(struct gz_req *r)
{
	struct MHD_Response *resp;
	const char *type = NULL;
	if (r->out_fd >= 0) {
		resp = MHD_create_response_from_fd64(r->out_fd_size, r->out_fd);
		type = r->out_type;
		r->out_fd = -1; /* MHD closes it */
	} else if (r->out_stream && !r->json) {
		/* MHD owns the context from here: it calls out_stream_free when done */
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, r->out_stream,
		                                         r->out_stream_ctx, r->out_stream_free);
		type = r->out_type;
		if (resp)
			r->out_stream = NULL;
		else
			stream_drop(r);
	} else if (r->json) {
		char *text = gz_json_dump(r->json);
		gz_buf_reset(&r->out);
		gz_buf_adds(&r->out, text);
		gz_buf_addc(&r->out, '\n');
		free(text);
		type = "application/json; charset=utf-8";
		resp = MHD_create_response_from_buffer(r->out.len, r->out.data,
		                                       MHD_RESPMEM_PERSISTENT);
	} else {
		type = r->out.len ? r->out_type : NULL;
		resp = MHD_create_response_from_buffer(r->out.len, r->out.data ? r->out.data : "",
		                                       MHD_RESPMEM_PERSISTENT);
	}
	if (!resp)
		return MHD_NO;
	if (type)
		MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	bool cache_set = false, csp_set = false;
	for (int i = 0; i < r->nheaders; i++) {
		cache_set |= strcasecmp(r->headers[i].key, "Cache-Control") == 0;
		csp_set |= strcasecmp(r->headers[i].key, "Content-Security-Policy") == 0;
	}
	/* security headers on every reply: the console's files set their own policy
	 * (static.c); anything else is not a page and may load nothing */
	if (!csp_set)
		MHD_add_response_header(resp, "Content-Security-Policy",
		                        "default-src 'none'; frame-ancestors 'none'");
	if (!cache_set && gz_str_has_prefix(r->path ? r->path : "", "/api/"))
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	for (int i = 0; i < r->nheaders; i++)
		MHD_add_response_header(resp, r->headers[i].key, r->headers[i].value);
	enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- the request head, checked before any body is read ---- */

/* Our own limits on the request head, below what MHD's connection memory allows (see
 * MHD_MEMORY below): a request over them gets its 414 or 431 in the error shape from
 * us; only a head too large for the connection's memory gets MHD's own HTML reply. */
#define MAX_URI_BYTES (8 * 1024)
#define MAX_HEADER_BYTES (32 * 1024)
#define MAX_HEADER_COUNT 100
/* MHD's per-connection memory: read buffer plus header records.  The read buffer
 * grows into all of it, so a head of up to about 60 KB still reaches the access
 * handler and gets our JSON 414/431.  Not larger: MHD 0.9.75 zeroes the whole pool
 * before every request on a kept-alive connection (128 KB cost a measurable share
 * of /healthz throughput). */
#define MHD_MEMORY (64 * 1024)

struct head {
	size_t bytes, count;
	int content_length, transfer_encoding;
	bool chunked;
};

static enum MHD_Result head_count(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
	struct head *h = cls;
	(void)kind;
	h->bytes += strlen(key) + strlen(value ? value : "") + 4; /* ": " and CRLF */
	h->count++;
	if (strcasecmp(key, "Content-Length") == 0)
		h->content_length++;
	if (strcasecmp(key, "Transfer-Encoding") == 0) {
		h->transfer_encoding++;
		h->chunked = value && strcasecmp(value, "chunked") == 0;
	}
	return MHD_YES;
}

/* Fails when the head is over our limits or frames its body ambiguously: two
 * Content-Length headers (MHD would silently use the first), Content-Length beside
 * Transfer-Encoding (MHD would silently use the chunked framing), a transfer coding
 * other than chunked (MHD would read the body until the client closes) — each a way
 * to make a proxy in front and gongzhi disagree on where the next request starts. */
static int check_head(struct gz_req *r, struct MHD_Connection *con, struct gz_err *err)
{
	if (strlen(r->raw_uri) > MAX_URI_BYTES)
		return gz_fail(err, GZ_E_URI_TOO_LONG, "the URL is longer than %d bytes",
		               MAX_URI_BYTES);
	struct head h = {0};
	MHD_get_connection_values(con, MHD_HEADER_KIND, head_count, &h);
	if (h.bytes > MAX_HEADER_BYTES || h.count > MAX_HEADER_COUNT)
		return gz_fail(err, GZ_E_HEADERS_TOO_LARGE,
		               "the request headers are larger than %d bytes or more than %d",
		               MAX_HEADER_BYTES, MAX_HEADER_COUNT);
	if (h.content_length > 1)
		return gz_fail(err, GZ_E_BAD_REQUEST, "more than one Content-Length header");
	if (h.transfer_encoding && h.content_length)
		return gz_fail(err, GZ_E_BAD_REQUEST,
		               "Content-Length and Transfer-Encoding must not be sent together");
	if (h.transfer_encoding > 1 || (h.transfer_encoding && !h.chunked))
		return gz_fail(err, GZ_E_BAD_REQUEST,
		               "the only accepted Transfer-Encoding is a single 'chunked'");
	const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Length");
	int64_t len;
	if (cl && gz_parse_i64(cl, &len) && len > (int64_t)r->body_limit)
		return gz_fail(err, GZ_E_TOO_LARGE, "the body is larger than %zu bytes",
		               r->body_limit);
	return 0;
}

/* ---- the client's address behind trusted proxies ---- */

/* Parses an address, IPv4-mapped IPv6 taken as IPv4. */
static bool addr_parse(const char *text, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, a->bytes) == 1) {
		a->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, text, a->bytes) != 1)
		return false;
	a->family = AF_INET6;
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(a->bytes, mapped, 12) == 0) {
		memmove(a->bytes, a->bytes + 12, 4);
		memset(a->bytes + 4, 0, 12);
		a->family = AF_INET;
	}
	return true;
}

static bool addr_trusted(struct gz_server *s, const struct addr *a)
{
	for (size_t i = 0; i < s->nproxies; i++)
		if (s->proxies[i].family == a->family &&
		    memcmp(s->proxies[i].bytes, a->bytes, sizeof(a->bytes)) == 0)
			return true;
	return false;
}

/* One X-Forwarded-For element ("1.2.3.4", " 1.2.3.4:80", "[::1]:80") as an address. */
static bool forwarded_addr(const char *p, size_t n, struct addr *a)
{
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	char text[INET6_ADDRSTRLEN + 8];
	if (n == 0 || n >= sizeof(text))
		return false;
	memcpy(text, p, n);
	text[n] = 0;
	char *t = text;
	if (*t == '[') {
		char *close = strchr(t, ']');
		if (!close)
			return false;
		*close = 0;
		t++;
	} else {
		char *colon = strchr(t, ':');
		if (colon && !strchr(colon + 1, ':'))
			*colon = 0; /* IPv4 with a port */
	}
	return addr_parse(t, a);
}

static enum MHD_Result collect_xff(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
	struct gz_buf *b = cls;
	(void)kind;
	if (strcasecmp(key, "X-Forwarded-For") == 0 && value) {
		if (b->len)
			gz_buf_addc(b, ',');
		gz_buf_adds(b, value);
	}
	return MHD_YES;
}

/* Sets r->client and r->via_https.  The peer's address is the client's unless the
 * peer is a trusted proxy: then X-Forwarded-For (all such headers, in order) is read
 * from the right, skipping trusted proxies, and the first address that is not one is
 * the client (the left-most when all are; an element that is no address ends the
 * walk), and X-Forwarded-Proto: https marks the request as https.  From any other
 * peer both headers are ignored: a client can put anything in them. */
static void client_address(struct gz_server *s, struct gz_req *r, struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char text[INET6_ADDRSTRLEN] = "";
	struct addr peer = {0};
	if (ci && ci->client_addr) {
		if (ci->client_addr->sa_family == AF_INET) {
			peer.family = AF_INET;
			memcpy(peer.bytes, &((struct sockaddr_in *)ci->client_addr)->sin_addr, 4);
		} else if (ci->client_addr->sa_family == AF_INET6) {
			peer.family = AF_INET6;
			memcpy(peer.bytes, &((struct sockaddr_in6 *)ci->client_addr)->sin6_addr,
			       16);
		}
		if (peer.family)
			inet_ntop(peer.family, peer.bytes, text, sizeof(text));
	}
	r->client = gz_strdup(&r->arena, text);
	if (!peer.family || !addr_trusted(s, &peer))
		return;
	const char *proto = gz_req_header(r, "X-Forwarded-Proto");
	r->via_https = proto && strcasecmp(proto, "https") == 0;
	struct gz_buf xff = GZ_BUF_INIT;
	MHD_get_connection_values(con, MHD_HEADER_KIND, collect_xff, &xff);
	const char *list = xff.data ? xff.data : "";
	size_t end = xff.len;
	while (end > 0) {
		size_t start = end;
		while (start > 0 && list[start - 1] != ',')
			start--;
		struct addr hop;
		if (!forwarded_addr(list + start, end - start, &hop))
			break;
		inet_ntop(hop.family, hop.bytes, text, sizeof(text));
		r->client = gz_strdup(&r->arena, text);
		if (!addr_trusted(s, &hop))
			break;
		end = start ? start - 1 : 0;
	}
	gz_buf_release(&xff);
}

bool gz_req_cookie_secure(struct gz_req *r)
{
	const char *mode = r->app->cfg.cookie_secure;
	if (strcmp(mode, "always") == 0)
		return true;
	if (strcmp(mode, "never") == 0)
		return false;
	return r->via_https;
}

/* MHD's own messages (a client that hung up, a request MHD rejected itself) as
 * lines of the JSON log, so that stderr holds nothing else. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = 0;
	gz_log(GZ_LOG_WARN, NULL, "microhttpd: %s", msg);
}

/* The one error reply of a failed request: internal errors are logged with the
 * request id and shown to the client as that id only. */
static void reply_failure(struct gz_req *r, struct gz_err *err)
{
	if (err->code == GZ_E_INTERNAL || err->code == GZ_OK)
		gz_log(GZ_LOG_ERROR, r->request_id, "internal error: %s", err->message);
	if (err->code == GZ_E_INTERNAL)
		snprintf(err->message, sizeof(err->message), "internal error (request %s)",
		         r->request_id);
	gz_reply_error(r, err);
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *con, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
	struct gz_server *s = cls;
	struct gz_req *r = *con_cls;
	(void)url;
	(void)version;
	if (!r)
		return MHD_NO;
	if (!r->dispatched && r->body_limit == 0) {
		/* first call: headers are in */
		r->method = parse_method(method);
		parse_target(r);
		make_request_id(s, r);
		r->content_type = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Type");
		client_address(s, r, con);
		unsigned allow;
		if (r->method && r->path)
			r->route = find_route(s, r, &allow);
		r->body_limit = (size_t)((r->route && (r->route->flags & GZ_R_UPLOAD))
		                             ? s->app->cfg.upload_limit
		                             : s->app->cfg.body_limit);
		struct gz_err err;
		if (check_head(r, con, &err)) {
			/* answer before the body is read (no 100 Continue is sent); MHD then
			 * closes the connection, which is right for an oversized upload and
			 * for a body whose end cannot be trusted */
			r->dispatched = true;
			gz_reply_error(r, &err);
			return send_response(r);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (r->dispatched)
			return MHD_YES;
		if (!r->too_large && r->raw_body.len + n > r->body_limit) {
			r->too_large = true; /* a chunked body: discard the rest, answer 413 */
			gz_buf_release(&r->raw_body);
		}
		if (r->too_large) {
			r->discarded += n;
			return r->discarded > 64 * r->body_limit ? MHD_NO : MHD_YES;
		}
		gz_buf_add(&r->raw_body, upload_data, n);
		return MHD_YES;
	}
	if (r->dispatched) {
		if (!r->write_pending || !atomic_load(&r->write_done))
			return MHD_YES;
		/* resumed: the write is committed (or failed); finish the reply */
		r->write_pending = false;
		if (r->write_after(r, r->write_rc, &r->write_err) ||
		    (r->write_then && r->write_then(r, &r->write_err)))
			reply_failure(r, &r->write_err);
		return send_response(r);
	}
	r->dispatched = true;
	struct gz_err err;
	gz_err_clear(&err);
	r->status = 200;
	if (atomic_load(&s->stopping)) {
		/* nothing new starts once the stop has begun, so that the requests in
		 * flight (and the writes they wait for) are all the stop has to wait for;
		 * the connection closes, so a kept-alive client sends no more */
		gz_fail(&err, GZ_E_UNAVAILABLE, "the server is shutting down; try again");
		gz_reply_error(r, &err);
		gz_reply_header(r, "Connection", "close");
		gz_reply_header(r, "Retry-After", "5");
		return send_response(r);
	}
	if (r->path && !r->route && !r->metrics_listener && !served_elsewhere(s, r) &&
	    !gz_str_has_prefix(r->path, "/api/") && (r->method == GZ_GET || r->method == GZ_HEAD)) {
		if (gz_static_serve(s->app, r, &err))
			gz_reply_error(r, &err);
	} else if (dispatch(s, r, &err)) {
		reply_failure(r, &err);
	}
	if (r->write_pending) /* suspended; the writer resumes the connection */
		return MHD_YES;
	return send_response(r);
}

/* ---- writes without a blocked thread ---- */

/* On the writer thread, after the batch: hands the result over and wakes the
 * connection.  r must not be touched after the resume: the server may finish and
 * free the request at once. */
static void write_committed(void *ctx, int rc)
{
	struct gz_req *r = ctx;
	r->write_rc = rc;
	atomic_store(&r->write_done, true);
	/* counted out here, not when the reply goes: a client that hung up meanwhile
	 * never gets its handler called again */
	atomic_fetch_sub(&the_server->suspended, 1);
	MHD_resume_connection(r->conn);
}

int gz_req_then(struct gz_req *r, int (*fn)(struct gz_req *r, struct gz_err *err),
                struct gz_err *err)
{
	if (!r->write_pending)
		return fn(r, err);
	r->write_then = fn;
	return 0;
}

int gz_req_write_async(struct gz_req *r, gz_write_fn fn, void *ctx,
                       int (*after)(struct gz_req *r, int rc, struct gz_err *err),
                       struct gz_err *err)
{
	if (!r->conn || !the_server)
		return after(r, gz_db_write(r->app->db, fn, ctx, err), err);
	gz_err_clear(&r->write_err);
	r->write_after = after;
	r->write_pending = true;
	atomic_store(&r->write_done, false);
	atomic_fetch_add(&the_server->suspended, 1);
	/* suspended before the job is queued: the writer may finish it at once */
	MHD_suspend_connection(r->conn);
	if (gz_db_write_async(r->app->db, fn, ctx, &r->write_err, write_committed, r)) {
		*err = r->write_err;
		r->write_pending = false;
		atomic_fetch_sub(&the_server->suspended, 1);
		MHD_resume_connection(r->conn);
		return -1;
	}
	return 0;
}

static void completed(void *cls, struct MHD_Connection *con, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	struct gz_server *s = cls;
	struct gz_req *r = *con_cls;
	(void)con;
	if (!r)
		return;
	double secs = (double)(gz_monotonic_ns() - r->start_ns) / 1e9;
	if (r->dispatched) {
		gz_metrics_request(r->route ? r->route->pattern : r->route_name, r->status, secs);
		struct gz_buf line = GZ_BUF_INIT;
		gz_buf_adds(&line, "\"level\":\"info\",\"msg\":\"request\",\"request_id\":");
		gz_buf_add_json_str(&line, r->request_id);
		gz_buf_addf(&line, ",\"method\":\"%s\",\"path\":", method_name(r->method));
		gz_buf_add_json_str(&line, r->path ? r->path : "(bad)");
		gz_buf_addf(&line,
		            ",\"status\":%d,\"ms\":%.3f,\"user\":%lld,\"client\":", r->status,
		            secs * 1000, r->acct ? (long long)r->acct->id : 0LL);
		gz_buf_add_json_str(&line, r->client ? r->client : "");
		if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
			gz_buf_addf(&line, ",\"terminated\":%d", (int)toe);
		if (gz_access_log_enabled)
			gz_log_raw(line.data);
		gz_buf_release(&line);
	}
	if (r->out_fd >= 0)
		close(r->out_fd);
	request_free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&s->inflight, 1);
}

bool gz_access_log_enabled = true;

/* The abuse limits of the settings (before the first request can read them). */
static void limits_make(struct gz_app *app)
{
	const struct gz_config *cfg = &app->cfg;
	size_t entries = (size_t)cfg->rate_limit_entries;
	app->limit_account = gz_ratelimit_new((double)cfg->rate_limit_account,
	                                      (double)cfg->rate_limit_account_burst, entries);
	app->limit_address = gz_ratelimit_new((double)cfg->rate_limit_address,
	                                      (double)cfg->rate_limit_address_burst, entries);
	/* login_address_failures spread over the window, all of them at once */
	app->limit_login = gz_ratelimit_new((double)cfg->login_address_failures /
	                                        (double)cfg->login_address_window_seconds,
	                                    (double)cfg->login_address_failures, entries);
	/* reveal_per_hour spread over the hour, all of them at once */
	app->limit_reveal = gz_ratelimit_new((double)cfg->reveal_per_hour / 3600.0,
	                                     (double)cfg->reveal_per_hour, entries);
}

static void limits_free(struct gz_app *app)
{
	gz_ratelimit_free(app->limit_account);
	gz_ratelimit_free(app->limit_address);
	gz_ratelimit_free(app->limit_login);
	gz_ratelimit_free(app->limit_reveal);
	app->limit_account = app->limit_address = app->limit_login = app->limit_reveal = NULL;
}

static void server_free(struct gz_server *s)
{
	free(s->routes);
	free(s->proxies);
	free(s);
}

/* Parses the host:port of setting name (an IPv4 address or localhost). */
static int parse_listen(const char *name, const char *value, struct sockaddr_in *sa,
                        struct gz_err *err)
{
	char host[128];
	snprintf(host, sizeof(host), "%s", value);
	char *colon = strrchr(host, ':');
	int64_t port;
	if (!colon || !gz_parse_i64(colon + 1, &port) || port < 0 || port > 65535)
		return gz_fail_field(err, GZ_E_BAD_REQUEST, name, "%s must be host:port, not '%s'",
		                     name, value);
	*colon = 0;
	*sa = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host,
	              &sa->sin_addr) != 1)
		return gz_fail_field(err, GZ_E_BAD_REQUEST, name,
		                     "cannot listen on '%s' (an IPv4 address)", host);
	return 0;
}

/* Parses trusted_proxies: addresses separated by commas (and spaces). */
static int parse_proxies(struct gz_server *s, const char *list, struct gz_err *err)
{
	size_t n = 1;
	for (const char *p = list; *p; p++)
		n += *p == ',';
	s->proxies = gz_xcalloc(n, sizeof(*s->proxies));
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		char item[INET6_ADDRSTRLEN + 1];
		const char *q = p;
		size_t k = len;
		while (k && *q == ' ')
			q++, k--;
		while (k && q[k - 1] == ' ')
			k--;
		if (k) {
			if (k >= sizeof(item))
				k = sizeof(item) - 1;
			memcpy(item, q, k);
			item[k] = 0;
			if (!addr_parse(item, &s->proxies[s->nproxies]))
				return gz_fail_field(err, GZ_E_BAD_REQUEST, "trusted_proxies",
				                     "trusted_proxies: '%s' is not an IP address",
				                     item);
			s->nproxies++;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int check_http_settings(struct gz_app *app, struct gz_err *err)
{
	const char *cs = app->cfg.cookie_secure;
	if (strcmp(cs, "auto") && strcmp(cs, "always") && strcmp(cs, "never"))
		return gz_fail_field(err, GZ_E_BAD_REQUEST, "cookie_secure",
		                     "cookie_secure must be auto, always or never, not '%s'", cs);
	if (*app->cfg.metrics_token && strlen(app->cfg.metrics_token) < 16)
		return gz_fail_field(err, GZ_E_BAD_REQUEST, "metrics_token",
		                     "metrics_token must be at least 16 characters");
	return 0;
}

static struct MHD_Daemon *start_daemon(struct gz_server *s, struct sockaddr_in *sa,
                                       unsigned threads, struct listener *l)
{
	return MHD_start_daemon(
	    MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
	        MHD_ALLOW_SUSPEND_RESUME,
	    ntohs(sa->sin_port), NULL, NULL, access_handler, s,
	    /* first, or MHD prints its messages about earlier options itself */
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)sa,
	    MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_URI_LOG_CALLBACK, uri_log, l,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)MHD_MEMORY, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)4096, MHD_OPTION_END);
}

int gz_server_start(struct gz_app *app, struct gz_server **out, struct gz_err *err)
{
	struct gz_server *s = gz_xcalloc(1, sizeof(*s));
	s->app = app;
	size_t cap = 0;
	for (size_t m = 0; m < app->nmodules; m++)
		for (const struct gz_route *rt = app->modules[m]->routes; rt && rt->pattern; rt++)
			cap++;
	s->routes = gz_xcalloc(cap, sizeof(*s->routes));
	for (size_t m = 0; m < app->nmodules; m++)
		for (const struct gz_route *rt = app->modules[m]->routes; rt && rt->pattern; rt++) {
			if (rt->perm && !gz_perm_find(rt->perm)) {
				server_free(s);
				return gz_fail(err, GZ_E_INTERNAL,
				               "route %s names undeclared permission %s",
				               rt->pattern, rt->perm);
			}
			s->routes[s->nroutes++] = rt;
		}

	struct sockaddr_in sa, msa;
	if (parse_listen("listen", app->cfg.listen, &sa, err) ||
	    (*app->cfg.metrics_listen &&
	     parse_listen("metrics_listen", app->cfg.metrics_listen, &msa, err)) ||
	    parse_proxies(s, app->cfg.trusted_proxies, err) || check_http_settings(app, err)) {
		server_free(s);
		return -1;
	}
	limits_make(app);
	s->main_listener = (struct listener){s, false};
	s->metrics_listener = (struct listener){s, true};
	s->daemon = start_daemon(s, &sa, (unsigned)app->cfg.threads, &s->main_listener);
	if (s->daemon && *app->cfg.metrics_listen) {
		s->metrics_daemon = start_daemon(s, &msa, 1, &s->metrics_listener);
		if (s->metrics_daemon)
			gz_info("metrics on http://%s/metrics only", app->cfg.metrics_listen);
		if (!s->metrics_daemon) {
			MHD_stop_daemon(s->daemon);
			limits_free(app);
			server_free(s);
			return gz_fail(err, GZ_E_UNAVAILABLE, "cannot listen on %s (in use?)",
			               app->cfg.metrics_listen);
		}
	}
	if (!s->daemon) {
		limits_free(app);
		server_free(s);
		return gz_fail(err, GZ_E_UNAVAILABLE, "cannot listen on %s (in use?)",
		               app->cfg.listen);
	}
	the_server = s;
	*out = s;
	return 0;
}

void gz_server_stop(struct gz_server *s, int grace_ms)
{
	if (!s)
		return;
	/* stop accepting, answer what arrives on open connections 503 (closing them),
	 * let the requests in flight finish, then close.  grace_ms bounds the whole. */
	atomic_store(&s->stopping, true);
	/* no MHD_quiesce_daemon(): with an epoll thread pool it races the workers'
	 * own epoll changes and panics ("Failed to remove listen FD from epoll set",
	 * seen under load); new connections are accepted and answered 503 instead, and
	 * MHD_stop_daemon() closes the listening socket */
	int64_t deadline = gz_monotonic_ns() + (int64_t)grace_ms * 1000000;
	/* a suspended connection is a request in flight until MHD has resumed it and
	 * the reply is sent (completed() counts it out): inflight reaching 0 means MHD
	 * holds no suspended connection, which MHD_stop_daemon() must not meet */
	while (atomic_load(&s->inflight) > 0 && gz_monotonic_ns() < deadline)
		usleep(5000);
	if (atomic_load(&s->inflight) > 0) {
		int pending = atomic_load(&s->suspended);
		gz_error("%d requests (%d waiting for the writer) still unfinished after %d ms",
		         atomic_load(&s->inflight), pending, grace_ms);
		if (pending > 0) {
			/* stopping MHD now would abort the process; the writer still finishes
			 * their writes (gz_db_close) and resumes them on a daemon left running
			 * until the process ends */
			return;
		}
	}
	MHD_stop_daemon(s->daemon);
	if (s->metrics_daemon)
		MHD_stop_daemon(s->metrics_daemon);
	limits_free(s->app);
	server_free(s);
	the_server = NULL;
}

size_t gz_server_routes(struct gz_server *s, const struct gz_route ***routes)
{
	*routes = s->routes;
	return s->nroutes;
}
