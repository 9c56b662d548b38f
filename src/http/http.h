/* http.h - requests, responses, routes and modules.
 *
 * A module declares its routes as rows (method, path pattern with {name} segments,
 * handler, permission, flags); the dispatcher enforces method, content type, body
 * limit, authentication, CSRF and the route's permission once, so handlers only do
 * their own work.  A handler returns 0 after setting a response with gz_reply_*(), or
 * -1 with err filled; the dispatcher renders every error in the one error shape.
 * Every request owns an arena (r->arena): handlers never free. */
#ifndef GZ_HTTP_H
#define GZ_HTTP_H
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "db/db.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct gz_app;
struct gz_account;
struct gz_entity;
struct gz_req;

enum gz_method {
	GZ_GET = 1,
	GZ_POST = 2,
	GZ_PUT = 4,
	GZ_PATCH = 8,
	GZ_DELETE = 16,
	GZ_HEAD = 32,
};

enum gz_route_flag {
	GZ_R_PUBLIC = 1,  /* no account needed (an account is still read when sent) */
	GZ_R_JSON = 2,    /* body must be a JSON object */
	GZ_R_UPLOAD = 4,  /* multipart body up to the upload limit */
	GZ_R_NO_CSRF = 8, /* state change allowed without the CSRF header (login) */
	GZ_R_LIST = 16,   /* a list: the handler validates its query parameters itself */
	/* not subject to the abuse limits (health checks, metrics) */
	GZ_R_UNLIMITED = 32,
	/* reachable by a session that must still enrol a second factor (require_totp_for):
	 * every other route answers 403 totp_enrolment_required to it */
	GZ_R_TOTP_SETUP = 64,
	GZ_R_METRICS = 128, /* served on metrics_listen alone when that is set, and behind
	                      metrics_token when that is set */
	/* changes stored state (goes through the writer); the OpenAPI document and the
	 * route-table test read it: a POST/PATCH/PUT/DELETE row without it is a mistake */
	GZ_R_WRITE = 256,
	/* every successful call leaves an audit entry (the entity layer writes it) */
	GZ_R_AUDIT = 512,
	/* the reply is a file (an export.csv or export.xlsx), not JSON: the entity, when
	 * set, is the one whose rows it holds (the OpenAPI document says so) */
	GZ_R_FILE = 1024,
};

typedef int (*gz_handler)(struct gz_req *r, struct gz_err *err);

struct gz_route {
	unsigned methods;
	const char *pattern; /* "/api/v1/units/{id}/tree" */
	gz_handler handler;
	const char *perm; /* permission name, NULL for none beyond authentication */
	unsigned flags;
	const struct gz_entity *entity; /* for the generic entity handlers */
	const char *summary;            /* one line for the OpenAPI document */
	const char *const
	    *query; /* query parameters accepted (NULL-terminated); others are a 400 */
	/* the entity whose {id} row the route acts on (see gz_route_row()): before the
	 * handler runs, the dispatcher answers 404 unless the account may read that row,
	 * with the same message whether it is missing or out of scope */
	const struct gz_entity *row;
};

/* The entity of the row a route acts on: row when set, else the route's entity when
 * its pattern has an {id} segment (the generic get/patch rows), else NULL. */
const struct gz_entity *gz_route_row(const struct gz_route *rt);

struct gz_perm {
	const char *name;
	unsigned roles; /* bit mask of enum gz_role */
	const char *summary;
};

struct gz_module {
	const char *name;
	const struct gz_route *routes;           /* terminated by a row with pattern NULL */
	const struct gz_perm *perms;             /* terminated by a row with name NULL */
	const struct gz_entity *const *entities; /* NULL-terminated */
	/* Optional: called once after the database is open (register metrics …). */
	int (*init)(struct gz_app *app, struct gz_err *err);
	/* Optional: background work while serving (started after the server listens,
	 * stopped before the database closes). */
	int (*start)(struct gz_app *app, struct gz_err *err);
	void (*stop)(struct gz_app *app);
	/* Optional: called when the server starts to stop, before it waits for the
	 * requests in flight: ends replies that would otherwise never end (event
	 * streams), so that shutdown is not held for the grace period. */
	void (*quiesce)(struct gz_app *app);
	/* Optional: `gongzhi migrate-to` ran, in a write on the target, once every table
	 * is copied: derived data the target keeps differently from the source (an index
	 * of its own) is scheduled for rebuilding here. */
	int (*after_copy)(struct gz_conn *c, struct gz_err *err);
};

struct gz_kv {
	const char *key, *value;
};

/* Results of a streaming body callback (struct gz_req.out_stream). */
#define GZ_STREAM_END ((ssize_t)-1)
#define GZ_STREAM_ERROR ((ssize_t)-2)

#define GZ_MAX_PARAMS 4
#define GZ_MAX_HEADERS 12

struct gz_req {
	struct gz_arena arena;
	struct gz_app *app;
	const struct gz_route *route;
	enum gz_method method;
	const char *raw_uri;
	const char *path; /* decoded, without the query string */
	struct gz_kv params[GZ_MAX_PARAMS];
	int nparams;
	struct gz_kv *query;
	int nquery;
	json_t *body; /* parsed JSON object for GZ_R_JSON routes; owned by the request */
	struct gz_buf raw_body;
	const char *content_type;
	const struct gz_account *acct; /* NULL when anonymous */
	void *handler_ctx;             /* for a handler and its entity hooks */
	bool via_cookie;
	char request_id[24];
	/* the client's address: the peer's, or from X-Forwarded-For when the peer is a
	 * trusted proxy; via_https: such a proxy says the client used https;
	 * metrics_listener: the request arrived on metrics_listen */
	const char *client;
	bool via_https, metrics_listener;
	void *conn; /* the server's connection handle */

	/* response */
	int status;
	json_t *json;      /* reply body as JSON (owned) */
	struct gz_buf out; /* reply body as bytes, when json is NULL */
	const char *out_type;
	int out_fd; /* reply body from a file, when >= 0 */
	uint64_t out_fd_size;
	/* Reply body produced piece by piece (a large export), when out_stream is set and
	 * no JSON reply replaced it: out_stream fills buf with at most max bytes and
	 * returns how many (never 0), GZ_STREAM_END after the last byte, or
	 * GZ_STREAM_ERROR to abort the response (the client sees a truncated body).  It
	 * runs on a server thread after the handler has returned, possibly after the
	 * request's arena is gone: ctx must own everything it uses.  out_stream_free(ctx)
	 * runs exactly once, when the response is done or abandoned; it must release
	 * whatever ctx holds (a database connection included).  Setting out_stream hands
	 * ctx to the server. */
	ssize_t (*out_stream)(void *ctx, uint64_t pos, char *buf, size_t max);
	void (*out_stream_free)(void *ctx);
	void *out_stream_ctx;
	struct gz_kv headers[GZ_MAX_HEADERS];
	int nheaders;

	/* a write in flight (gz_req_write_async): the connection is suspended until the
	 * writer sets write_done, then after() finishes the request on a server thread */
	bool write_pending;
	_Atomic bool write_done;
	int write_rc;
	struct gz_err write_err;
	int (*write_after)(struct gz_req *r, int rc, struct gz_err *err);
	int (*write_then)(struct gz_req *r, struct gz_err *err);
	void *write_job; /* gz_req_write's job, for its after() */

	/* bookkeeping */
	int64_t start_ns;
	bool too_large, dispatched;
	int64_t content_length;
	size_t discarded; /* bytes of an oversized chunked body thrown away */
	size_t body_limit;
	const char *route_name;    /* for metrics */
	struct gz_err query_error; /* a malformed query string, reported after routing */
};

/* Runs fn on the database writer without holding a server thread while the batch
 * commits: the connection is suspended, and once the write is committed (or failed)
 * after(r, rc, err) runs on a server thread to finish the reply (rc and err as
 * gz_db_write gives them; its return value is the handler's).  ctx must live as long
 * as the request (the arena).  The handler returns 0 right after this call.  Without
 * a connection (r->conn NULL) the write is simply done in place. */
int gz_req_write_async(struct gz_req *r, gz_write_fn fn, void *ctx,
                       int (*after)(struct gz_req *r, int rc, struct gz_err *err),
                       struct gz_err *err);

/* Runs fn once the request's write has succeeded (at once when no write is in
 * flight): a last touch to the reply that must not be stored with it (a secret shown
 * once is kept out of the Idempotency-Key record). */
int gz_req_then(struct gz_req *r, int (*fn)(struct gz_req *r, struct gz_err *err),
                struct gz_err *err);

/* Should a cookie set in reply to r be Secure?  cookie_secure: always, never, or
 * (auto) when r came over https through a trusted proxy. */
bool gz_req_cookie_secure(struct gz_req *r);

/* Request accessors. */
const char *gz_req_header(struct gz_req *r, const char *name); /* NULL when absent */
const char *gz_req_param(struct gz_req *r, const char *name);  /* path parameter */
const char *gz_req_cookie(struct gz_req *r, const char *name);
/* The {id} path parameter as a positive integer, or a 404 when it is not one. */
int gz_req_id(struct gz_req *r, const char *name, int64_t *id, struct gz_err *err);
const char *gz_req_query(struct gz_req *r, const char *key); /* last value, NULL */

/* Responses.  gz_reply_json steals the reference to body. */
int gz_reply_json(struct gz_req *r, int status, json_t *body);
int gz_reply_text(struct gz_req *r, int status, const char *type, const char *text);
int gz_reply_empty(struct gz_req *r, int status);
/* Starts a JSON body written by hand (lists): returns the response buffer, emptied,
 * for the caller to append one JSON value to.  An error reply afterwards replaces it. */
struct gz_buf *gz_reply_json_buf(struct gz_req *r, int status);
void gz_reply_header(struct gz_req *r, const char *name, const char *value);
/* Renders err in the one error shape. */
void gz_reply_error(struct gz_req *r, const struct gz_err *err);

/* Routing (pure functions, fuzzed). */
/* Matches path against pattern; fills params (values point into an arena copy). */
bool gz_route_match(const char *pattern, const char *path, struct gz_arena *a, struct gz_kv *params,
                    int *nparams);
/* Decodes %XX and, when plus, '+' as space; fails on %00, bad escapes or bad UTF-8. */
char *gz_url_decode(struct gz_arena *a, const char *s, size_t n, bool plus);
/* Parses "a=1&b=%E4%B8%AD" into key/value pairs.  Fails with bad_request. */
int gz_query_parse(struct gz_arena *a, const char *qs, struct gz_kv **out, int *n,
                   struct gz_err *err);

/* Serialises JSON the house way (compact, 15 significant digits). */
char *gz_json_dump(json_t *j);

#endif
