/* db_pgsql.c - the PostgreSQL backend of db.h (libpq).
 *
 * Several gongzhi nodes may share one database.  Reads go through a pool of
 * connections in autocommit, read-only.  Writes go through db.c's queue to one writer
 * connection per node, which runs each batch of jobs in one transaction with a
 * savepoint per job (group commit, as on SQLite) and takes, first thing in the batch,
 * a transaction-scoped advisory lock that every node's writer takes: writes are
 * serialized across the nodes, so the rules that read and then write (the audit
 * chain's next link, the day's order number, a state machine's current state, a
 * version check) see every other committed write and none in flight — what SQLite's
 * one writer gives on one machine — while reads scale with the nodes.  Commits are
 * durable (synchronous_commit=on).
 *
 * Statements: the SQL that callers pass is shared with SQLite: '?' and '?N'
 * placeholders become $N here.  A parameter's type is the bind call's (int8, float8,
 * text, bytea; NULL is left to the server to infer), and each connection keeps its
 * statements prepared on the server, keyed by SQL text, re-prepared when a later
 * call binds other types.  Results come back as text (booleans 't'/'f' read as 1/0
 * by gz_col_i64, bytea decoded from hex).  Errors map to the same gz_err codes as
 * SQLite's, the field of a unique violation taken from the catalog entry of the
 * violated index (its last column), not from the message. */
#include "db_backend.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/util.h"
#include <libpq-fe.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* the advisory lock every node's writer takes for its batch (a 64-bit key: "gongzhi") */
#define WRITE_LOCK_KEY "7451216920337574249"

/* MAXP: parameters of one statement (PostgreSQL's own limit is 65535) */
enum { CACHE_SLOTS = 256, PROBE = 4, MAXP = 32766, STACKP = 64 };
enum { OID_UNKNOWN = 0, OID_BYTEA = 17, OID_INT8 = 20, OID_TEXT = 25, OID_FLOAT8 = 701 };

struct pg_param {
	char type; /* 0 unbound (NULL), 'i', 'd', 't', 'b', 'n' */
	char *buf; /* owned copy of text/blob, or the number's digits */
	size_t cap;
	int len;
};

struct pg_conn;

struct pg_stmt {
	struct gz_stmt base;
	struct pg_conn *conn;
	char *sql;   /* as given: the cache key */
	char *pgsql; /* with $N */
	int nparams;
	char name[24]; /* the server-side prepared statement, "" when none */
	char *sig;     /* the bound types it was prepared with, nparams letters */
	struct pg_param *p;
	PGresult *res;
	int row, nrows;
	bool executed, stream, streaming, cached, in_use;
	bool defer; /* the next execution goes down the writer's pipeline */
	unsigned char *blob;
};

struct pg_conn {
	struct gz_conn base;
	struct pg_db *db;
	PGconn *h;
	bool reader;
	bool transient; /* the last error was a deadlock or serialization failure */
	bool piped;     /* in pipeline mode: statements sent whose answers are unread */
	int64_t changes;
	unsigned next_name;
	struct pg_stmt cache[CACHE_SLOTS];
	char **dealloc; /* prepared statements evicted from the cache, to drop when idle */
	int ndealloc, capdealloc;
	struct pg_conn *next_free;
};

struct ukey {
	char *index, *column;
};

struct pg_db {
	struct gz_db base;
	char *url;
	struct pg_conn *writer;
	struct pg_conn *free_readers;
	int nreaders;
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond;
	/* unique indexes' last columns, for the field of a unique violation */
	pthread_mutex_t ukey_lock;
	struct ukey *ukeys;
	int nukeys;
	bool ukeys_loaded;
	/* LISTEN: a thread with a connection of its own */
	struct {
		char channel[64];
		void (*fn)(void *ctx);
		void *ctx;
	} listeners[4];
	int nlisteners;
	pthread_mutex_t listen_lock;
	pthread_t listen_thread;
	bool listening;
	atomic_bool listen_stop;
};

#define ST(s) ((struct pg_stmt *)(s))
#define CN(c) ((struct pg_conn *)(c))

/* ---- errors ---- */

static void ukeys_free(struct pg_db *db)
{
	for (int i = 0; i < db->nukeys; i++) {
		free(db->ukeys[i].index);
		free(db->ukeys[i].column);
	}
	free(db->ukeys);
	db->ukeys = NULL;
	db->nukeys = 0;
}

/* Reads every unique index of the schema with its last key column.  On a connection
 * of its own: the one whose statement failed may be in an aborted transaction. */
static void ukeys_load_locked(struct pg_db *db)
{
	PGconn *h = PQconnectdb(db->url);
	if (PQstatus(h) != CONNECTION_OK) {
		gz_warn("postgresql: cannot read the unique indexes: %s", PQerrorMessage(h));
		PQfinish(h);
		return;
	}
	PGresult *r = PQexec(h, "SELECT i.relname, coalesce(a.attname, '') FROM pg_index x "
	                        "JOIN pg_class i ON i.oid = x.indexrelid "
	                        "JOIN pg_namespace n ON n.oid = i.relnamespace "
	                        "LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid "
	                        "AND a.attnum = x.indkey[x.indnkeyatts - 1] "
	                        "WHERE x.indisunique AND n.nspname = current_schema()");
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		ukeys_free(db);
		int n = PQntuples(r);
		db->ukeys = gz_xcalloc((size_t)n + 1, sizeof(*db->ukeys));
		for (int i = 0; i < n; i++) {
			db->ukeys[i].index = gz_xstrdup(PQgetvalue(r, i, 0));
			db->ukeys[i].column = gz_xstrdup(PQgetvalue(r, i, 1));
		}
		db->nukeys = n;
		db->ukeys_loaded = true;
	}
	PQclear(r);
	PQfinish(h);
}

/* The field a unique index stands for ("" when it has none, e.g. an expression). */
static void ukey_field(struct pg_db *db, const char *index, char *out, size_t cap)
{
	out[0] = 0;
	if (!index)
		return;
	pthread_mutex_lock(&db->ukey_lock);
	for (int pass = 0; pass < 2 && !out[0]; pass++) {
		if (pass == 1 || !db->ukeys_loaded)
			ukeys_load_locked(db); /* a migration may have added the index */
		for (int i = 0; i < db->nukeys; i++)
			if (strcmp(db->ukeys[i].index, index) == 0) {
				snprintf(out, cap, "%s", db->ukeys[i].column);
				pass = 2;
				break;
			}
	}
	pthread_mutex_unlock(&db->ukey_lock);
}

/* Maps a failed result (or, res NULL, a failed connection) to a gz_err. */
static int pg_fail(struct pg_conn *c, const PGresult *res, const char *what, struct gz_err *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c->h);
	c->transient = false;
	if (!state || PQstatus(c->h) != CONNECTION_OK) {
		gz_error("postgresql %s: %s", what, msg);
		return gz_fail(err, GZ_E_UNAVAILABLE, "the database is unreachable, try again");
	}
	if (strcmp(state, "23505") == 0) {
		char field[128];
		ukey_field(c->db, PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME), field,
		           sizeof(field));
		return gz_fail_field(err, GZ_E_CONFLICT, field, "%s already exists",
		                     *field ? field : "the object");
	}
	if (strcmp(state, "23503") == 0) {
		gz_warn("foreign key failed: %s", msg);
		return gz_fail(err, GZ_E_VALIDATION, "a referenced object does not exist");
	}
	if (strncmp(state, "23", 2) == 0 || strcmp(state, "P0001") == 0) {
		gz_warn("constraint failed: %s", msg);
		return gz_fail(err, GZ_E_VALIDATION, "the change violates a rule of the data");
	}
	if (strncmp(state, "22", 2) == 0) {
		gz_warn("bad value: %s", msg);
		return gz_fail(err, GZ_E_VALIDATION, "a value is malformed or out of range");
	}
	if (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0 ||
	    strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0) {
		gz_warn("postgresql %s: %s", what, msg);
		c->transient = true;
		return gz_fail(err, GZ_E_UNAVAILABLE, "database busy, try again");
	}
	gz_error("postgresql %s: %s (%s)", what, msg, state);
	if (strcmp(state, "53100") == 0)
		return gz_fail(err, GZ_E_STORAGE,
		               "the database's disk is full: nothing of the request was written");
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0 ||
	    strncmp(state, "53", 2) == 0)
		return gz_fail(err, GZ_E_UNAVAILABLE, "the database is unavailable, try again");
	return gz_fail(err, GZ_E_INTERNAL, "internal error");
}

/* ---- the writer's pipeline ----
 *
 * Inside a batch, a statement whose answer the job does not read (gz_step_deferred:
 * the timeline row, the daily aggregates, the audit entry, a bigram posting chunk, the
 * RELEASE and SAVEPOINT between jobs) is sent in libpq's pipeline mode without waiting;
 * the next statement that needs an answer, or the end of the job, reads all of them
 * with one sync.  A create then costs three round trips instead of seven. */

static int pipe_enter(struct pg_conn *c, struct gz_err *err)
{
	if (c->piped)
		return 0;
	if (!PQenterPipelineMode(c->h))
		return pg_fail(c, NULL, "pipeline", err);
	c->piped = true;
	return 0;
}

/* Reads the answers of what was sent without waiting and leaves pipeline mode: 0, or
 * -1 with the first statement's error (the later ones were skipped by the server).
 * keep: the last statement's result is left there for the caller (a statement that
 * waits rides the same round trip as the deferred ones before it). */
static int pipe_settle(struct pg_conn *c, struct gz_err *err, PGresult **keep)
{
	if (!c->piped)
		return 0;
	c->piped = false;
	int rc = 0, nulls = 0;
	if (!PQpipelineSync(c->h))
		rc = pg_fail(c, NULL, "sync", err);
	while (rc == 0 || PQstatus(c->h) == CONNECTION_OK) {
		PGresult *r = PQgetResult(c->h);
		if (!r) {
			if (++nulls == 2) { /* one NULL ends each statement's answer: gone */
				if (rc == 0)
					rc = pg_fail(c, NULL, "pipeline", err);
				break;
			}
			continue;
		}
		nulls = 0;
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (rc == 0 && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
		    st != PGRES_PIPELINE_ABORTED)
			rc = pg_fail(c, r, "deferred step", err);
		if (keep) {
			PQclear(*keep);
			*keep = r;
		} else {
			PQclear(r);
		}
	}
	if (!PQexitPipelineMode(c->h) && rc == 0)
		rc = pg_fail(c, NULL, "pipeline", err);
	return rc;
}

/* Sends a command without parameters down the pipeline. */
static int pipe_simple(struct pg_conn *c, const char *sql, struct gz_err *err)
{
	if (pipe_enter(c, err))
		return -1;
	if (!PQsendQueryParams(c->h, sql, 0, NULL, NULL, NULL, NULL, 0))
		return pg_fail(c, NULL, "send", err);
	return 0;
}

/* Runs a command without parameters (BEGIN, SAVEPOINT …, a script). */
static int pg_simple(struct pg_conn *c, const char *sql, struct gz_err *err)
{
	if (pipe_settle(c, err, NULL))
		return -1;
	PGresult *r = PQexec(c->h, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = 0;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		rc = pg_fail(c, r, "exec", err);
	} else {
		const char *n = PQcmdTuples(r);
		if (*n)
			c->changes = strtoll(n, NULL, 10);
	}
	PQclear(r);
	return rc;
}

/* ---- placeholders ---- */

/* '?' and '?N' outside quotes and comments become $N; *nparams gets the largest N. */
char *gz_pgsql_placeholders(const char *sql, int *nparams)
{
	struct gz_buf b = GZ_BUF_INIT;
	int maxn = 0;
	for (const char *p = sql; *p;) {
		if (*p == '\'' || *p == '"') {
			char q = *p;
			const char *e = p + 1;
			while (*e && !(*e == q && e[1] != q))
				e += *e == q ? 2 : 1;
			if (*e)
				e++;
			gz_buf_add(&b, p, (size_t)(e - p));
			p = e;
		} else if (p[0] == '-' && p[1] == '-') {
			const char *e = strchr(p, '\n');
			e = e ? e : p + strlen(p);
			gz_buf_add(&b, p, (size_t)(e - p));
			p = e;
		} else if (*p == '?') {
			p++;
			int n;
			if (*p >= '0' && *p <= '9') {
				n = 0;
				while (*p >= '0' && *p <= '9')
					n = n * 10 + (*p++ - '0');
			} else {
				n = maxn + 1;
			}
			if (n > maxn)
				maxn = n;
			gz_buf_addf(&b, "$%d", n);
		} else {
			gz_buf_addc(&b, *p++);
		}
	}
	*nparams = maxn;
	char *out = gz_xstrdup(b.data ? b.data : "");
	gz_buf_release(&b);
	return out;
}

/* ---- connections ---- */

/* Durable commits whatever the server's default; times are integers, so the time zone
 * changes nothing but is fixed anyway.  Generic plans: a list statement took 0.4-0.7
 * ms to plan at every execution (PostgreSQL plans the first five with the values) for
 * 0.03 ms of executing; planned once per connection, it is the 0.03 ms. */
static const char *session_setup(bool reader)
{
	return reader ? "SET synchronous_commit = on; SET client_min_messages = warning; "
	                "SET TimeZone = 'UTC'; SET plan_cache_mode = force_generic_plan; "
	                "SET default_transaction_read_only = on"
	              : "SET synchronous_commit = on; SET client_min_messages = warning; "
	                "SET TimeZone = 'UTC'; SET plan_cache_mode = force_generic_plan";
}

static int conn_open(struct pg_db *db, bool reader, struct pg_conn **out, struct gz_err *err)
{
	PGconn *h = PQconnectdb(db->url);
	if (PQstatus(h) != CONNECTION_OK) {
		gz_error("cannot connect to PostgreSQL: %s", PQerrorMessage(h));
		PQfinish(h);
		return gz_fail(err, GZ_E_UNAVAILABLE, "cannot connect to the database");
	}
	struct pg_conn *c = gz_xcalloc(1, sizeof(*c));
	c->base.ops = db->base.ops;
	c->db = db;
	c->h = h;
	c->reader = reader;
	if (pg_simple(c, session_setup(reader), err)) {
		PQfinish(h);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

static void param_free(struct pg_stmt *s)
{
	for (int i = 0; i < s->nparams; i++)
		free(s->p[i].buf);
	free(s->p);
	s->p = NULL;
	free(s->sig);
	s->sig = NULL;
}

static void stmt_clear(struct pg_stmt *s)
{
	PQclear(s->res);
	s->res = NULL;
	free(s->blob);
	s->blob = NULL;
}

static void conn_close(struct pg_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < CACHE_SLOTS; i++) {
		struct pg_stmt *s = &c->cache[i];
		stmt_clear(s);
		param_free(s);
		free(s->sql);
		free(s->pgsql);
	}
	for (int i = 0; i < c->ndealloc; i++)
		free(c->dealloc[i]);
	free(c->dealloc);
	PQfinish(c->h);
	free(c);
}

/* Outside any transaction: drops the prepared statements the cache evicted, and
 * reconnects a connection the server dropped (its prepared statements go with it). */
static void conn_idle(struct pg_conn *c)
{
	if (PQstatus(c->h) != CONNECTION_OK) {
		gz_warn("postgresql: connection lost, reconnecting");
		PQreset(c->h);
		c->piped = false;
		for (int i = 0; i < CACHE_SLOTS; i++)
			c->cache[i].name[0] = 0;
		for (int i = 0; i < c->ndealloc; i++)
			free(c->dealloc[i]);
		c->ndealloc = 0;
		if (PQstatus(c->h) == CONNECTION_OK) {
			struct gz_err e;
			if (pg_simple(c, session_setup(c->reader), &e))
				gz_warn("postgresql: %s", e.message);
		}
		return;
	}
	for (int i = 0; i < c->ndealloc; i++) {
		char sql[64];
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", c->dealloc[i]);
		PQclear(PQexec(c->h, sql));
		free(c->dealloc[i]);
	}
	c->ndealloc = 0;
}

static void dealloc_later(struct pg_conn *c, const char *name)
{
	if (c->ndealloc == c->capdealloc) {
		c->capdealloc = c->capdealloc ? c->capdealloc * 2 : 16;
		c->dealloc = gz_xrealloc(c->dealloc, (size_t)c->capdealloc * sizeof(char *));
	}
	c->dealloc[c->ndealloc++] = gz_xstrdup(name);
}

/* ---- statements ---- */

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void stmt_init(struct pg_stmt *s, struct pg_conn *c, const char *sql)
{
	s->base.ops = c->base.ops;
	s->conn = c;
	s->sql = gz_xstrdup(sql);
	s->pgsql = gz_pgsql_placeholders(sql, &s->nparams);
	if (s->nparams > MAXP)
		GZ_BUG("%d parameters in: %s", s->nparams, sql);
	s->p = gz_xcalloc((size_t)s->nparams + 1, sizeof(*s->p));
	s->sig = gz_xcalloc((size_t)s->nparams + 1, 1);
	s->name[0] = 0;
}

static struct gz_stmt *pg_stmt_get(struct gz_conn *gc, const char *sql, struct gz_err *err)
{
	(void)err;
	struct pg_conn *c = CN(gc);
	uint32_t h = hash_str(sql) % CACHE_SLOTS & ~(uint32_t)(PROBE - 1);
	struct pg_stmt *slot = NULL;
	for (uint32_t k = 0; k < PROBE; k++) {
		struct pg_stmt *cand = &c->cache[h + k];
		if (cand->sql && !cand->in_use && strcmp(cand->sql, sql) == 0) {
			cand->in_use = true;
			return &cand->base;
		}
		if (!cand->in_use && (!slot || (slot->sql && !cand->sql)))
			slot = cand;
	}
	if (slot) {
		if (slot->name[0])
			dealloc_later(c, slot->name);
		stmt_clear(slot);
		param_free(slot);
		free(slot->sql);
		free(slot->pgsql);
		memset(slot, 0, sizeof(*slot));
		stmt_init(slot, c, sql);
		slot->cached = true;
		slot->in_use = true;
		return &slot->base;
	}
	/* every slot of the set in use (nested statements): one of its own, unprepared */
	struct pg_stmt *s = gz_xcalloc(1, sizeof(*s));
	stmt_init(s, c, sql);
	return &s->base;
}

static void stmt_reset(struct pg_stmt *s)
{
	if (s->streaming) {
		/* the caller stopped early: the rest of the rows must still be read */
		PGresult *r;
		while ((r = PQgetResult(s->conn->h)))
			PQclear(r);
		s->streaming = false;
	}
	stmt_clear(s);
	for (int i = 0; i < s->nparams; i++) {
		s->p[i].type = 0;
		s->p[i].len = 0;
	}
	s->executed = false;
	s->stream = false;
	s->row = s->nrows = 0;
}

static void pg_stmt_done(struct gz_stmt *gs)
{
	struct pg_stmt *s = ST(gs);
	stmt_reset(s);
	if (s->cached) {
		s->in_use = false;
		return;
	}
	param_free(s);
	free(s->sql);
	free(s->pgsql);
	free(s);
}

static void pg_stmt_stream(struct gz_stmt *s)
{
	ST(s)->stream = true;
}

static struct pg_param *param(struct pg_stmt *s, int i)
{
	if (i < 1 || i > s->nparams)
		GZ_BUG("bind of parameter %d of %d in: %s", i, s->nparams, s->sql);
	return &s->p[i - 1];
}

static void param_set(struct pg_param *p, char type, const void *v, size_t n)
{
	if (p->cap < n + 1) {
		p->cap = n + 1 < 32 ? 32 : n + 1;
		free(p->buf);
		p->buf = gz_xcalloc(1, p->cap);
	}
	memcpy(p->buf, v, n);
	p->buf[n] = 0;
	p->len = (int)n;
	p->type = type;
}

static void pg_bind_i64(struct gz_stmt *s, int i, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%lld", (long long)v);
	param_set(param(ST(s), i), 'i', num, (size_t)n);
}

static void pg_bind_double(struct gz_stmt *s, int i, double v)
{
	char num[40];
	int n = snprintf(num, sizeof(num), "%.17g", v);
	param_set(param(ST(s), i), 'd', num, (size_t)n);
}

static void pg_bind_text(struct gz_stmt *s, int i, const char *v)
{
	param_set(param(ST(s), i), 't', v, strlen(v));
}

static void pg_bind_blob(struct gz_stmt *s, int i, const void *p, size_t n)
{
	param_set(param(ST(s), i), 'b', p ? p : "", p ? n : 0);
}

static void pg_bind_null(struct gz_stmt *s, int i)
{
	param(ST(s), i)->type = 'n';
}

static Oid type_oid(char t)
{
	switch (t) {
	case 'i':
		return OID_INT8;
	case 'd':
		return OID_FLOAT8;
	case 't':
		return OID_TEXT;
	case 'b':
		return OID_BYTEA;
	default:
		return OID_UNKNOWN;
	}
}

/* A statement prepared with signature sig takes the current bindings when each
 * bound type matches (a NULL fits any). */
static bool sig_fits(const struct pg_stmt *s)
{
	if ((int)strlen(s->sig) != s->nparams)
		return false;
	for (int i = 0; i < s->nparams; i++) {
		char t = s->p[i].type;
		if (t && t != 'n' && t != s->sig[i])
			return false;
	}
	return true;
}

static int execute_with(struct pg_stmt *s, const char **vals, int *lens, int *fmts, Oid *types,
                        struct gz_err *err);

static int execute(struct pg_stmt *s, struct gz_err *err)
{
	const char *vals_s[STACKP];
	int lens_s[STACKP], fmts_s[STACKP];
	Oid types_s[STACKP];
	const char **vals = vals_s;
	int *lens = lens_s, *fmts = fmts_s;
	Oid *types = types_s;
	size_t np = (size_t)s->nparams;
	if (np > STACKP) { /* a bulk insert (migrate-to) */
		vals = gz_xcalloc(np, sizeof(*vals));
		lens = gz_xcalloc(np, sizeof(*lens));
		fmts = gz_xcalloc(np, sizeof(*fmts));
		types = gz_xcalloc(np, sizeof(*types));
	}
	int rc = execute_with(s, vals, lens, fmts, types, err);
	if (np > STACKP) {
		free(vals);
		free(lens);
		free(fmts);
		free(types);
	}
	return rc;
}

static int execute_with(struct pg_stmt *s, const char **vals, int *lens, int *fmts, Oid *types,
                        struct gz_err *err)
{
	struct pg_conn *c = s->conn;
	for (int i = 0; i < s->nparams; i++) {
		const struct pg_param *p = &s->p[i];
		bool null = !p->type || p->type == 'n';
		vals[i] = null ? NULL : p->buf;
		lens[i] = p->len;
		fmts[i] = p->type == 'b';
		types[i] = type_oid(p->type);
	}
	bool defer = s->defer;
	s->defer = false;
	if ((s->stream || (s->cached && (!s->name[0] || !sig_fits(s)))) &&
	    pipe_settle(c, err, NULL))
		return -1; /* to be prepared first, or streamed: out of the pipeline */
	PGresult *r;
	if (s->cached && (!s->name[0] || !sig_fits(s))) {
		if (s->name[0])
			dealloc_later(c, s->name);
		snprintf(s->name, sizeof(s->name), "g%u", ++c->next_name);
		for (int i = 0; i < s->nparams; i++)
			s->sig[i] = s->p[i].type && s->p[i].type != 'n' ? s->p[i].type : 'n';
		s->sig[s->nparams] = 0;
		r = PQprepare(c->h, s->name, s->pgsql, s->nparams, types);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			gz_error("prepare failed: %s in: %s", PQresultErrorMessage(r), s->pgsql);
			int rc = pg_fail(c, r, "prepare", err);
			PQclear(r);
			s->name[0] = 0;
			s->sig[0] = 0;
			return rc;
		}
		PQclear(r);
	}
	if (defer) {
		if (pipe_enter(c, err))
			return -1;
		if (!(s->cached
		          ? PQsendQueryPrepared(c->h, s->name, s->nparams, vals, lens, fmts, 0)
		          : PQsendQueryParams(c->h, s->pgsql, s->nparams, types, vals, lens, fmts,
		                              0)))
			return pg_fail(c, NULL, "send", err);
		s->executed = true;
		s->nrows = s->row = 0;
		return 0;
	}
	if (s->stream) {
		int ok =
		    s->cached
		        ? PQsendQueryPrepared(c->h, s->name, s->nparams, vals, lens, fmts, 0)
		        : PQsendQueryParams(c->h, s->pgsql, s->nparams, types, vals, lens, fmts, 0);
		if (!ok || !PQsetSingleRowMode(c->h)) {
			PGresult *e;
			while ((e = PQgetResult(c->h)))
				PQclear(e);
			return pg_fail(c, NULL, "send", err);
		}
		s->streaming = true;
		s->executed = true;
		return 0;
	}
	if (c->piped) { /* down the pipeline behind the deferred ones, one sync for all */
		if (!(s->cached
		          ? PQsendQueryPrepared(c->h, s->name, s->nparams, vals, lens, fmts, 0)
		          : PQsendQueryParams(c->h, s->pgsql, s->nparams, types, vals, lens, fmts,
		                              0)))
			return pg_fail(c, NULL, "send", err);
		r = NULL;
		struct gz_err early;
		gz_err_clear(&early);
		if (pipe_settle(c, &early, &r) &&
		    (!r || PQresultStatus(r) == PGRES_PIPELINE_ABORTED ||
		     PQresultStatus(r) == PGRES_COMMAND_OK ||
		     PQresultStatus(r) == PGRES_TUPLES_OK)) {
			PQclear(r); /* an earlier, deferred statement failed */
			*err = early;
			return -1;
		}
	} else {
		r = s->cached
		        ? PQexecPrepared(c->h, s->name, s->nparams, vals, lens, fmts, 0)
		        : PQexecParams(c->h, s->pgsql, s->nparams, types, vals, lens, fmts, 0);
	}
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		if (!state || strncmp(state, "23", 2))
			gz_warn("failed statement: %s", s->pgsql);
		int rc = pg_fail(c, r, "step", err);
		PQclear(r);
		return rc;
	}
	const char *n = PQcmdTuples(r);
	c->changes = *n ? strtoll(n, NULL, 10) : 0;
	s->res = r;
	s->nrows = st == PGRES_TUPLES_OK ? PQntuples(r) : 0;
	s->row = 0;
	s->executed = true;
	return 0;
}

static int pg_step(struct gz_stmt *gs, struct gz_err *err)
{
	struct pg_stmt *s = ST(gs);
	if (!s->executed && execute(s, err))
		return -1;
	free(s->blob);
	s->blob = NULL;
	if (s->streaming) {
		PQclear(s->res);
		s->res = PQgetResult(s->conn->h);
		ExecStatusType st = PQresultStatus(s->res);
		if (st == PGRES_SINGLE_TUPLE) {
			s->row = 1;
			return 1;
		}
		int rc = 0;
		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
			rc = pg_fail(s->conn, s->res, "step", err);
		PGresult *e;
		while ((e = PQgetResult(s->conn->h)))
			PQclear(e);
		s->streaming = false;
		PQclear(s->res);
		s->res = NULL;
		return rc;
	}
	if (s->row < s->nrows) {
		s->row++;
		return 1;
	}
	return 0;
}

/* Inside a writer's transaction: sent without waiting (see pipe_settle). */
static int pg_step_deferred(struct gz_stmt *gs, struct gz_err *err)
{
	struct pg_stmt *s = ST(gs);
	if (s->executed || s->stream || !s->conn->base.serial) {
		int rc;
		while ((rc = pg_step(gs, err)) == 1)
			;
		return rc < 0 ? -1 : 0;
	}
	s->defer = true;
	return execute(s, err);
}

/* the current row: after a step that returned 1 */
static int cur(const struct pg_stmt *s)
{
	return s->streaming ? 0 : s->row - 1;
}

static int pg_col_count(struct gz_stmt *s)
{
	return ST(s)->res ? PQnfields(ST(s)->res) : 0;
}

static const char *pg_col_name(struct gz_stmt *s, int i)
{
	return ST(s)->res ? PQfname(ST(s)->res, i) : "";
}

static bool pg_col_null(struct gz_stmt *s, int i)
{
	return !ST(s)->res || PQgetisnull(ST(s)->res, cur(ST(s)), i);
}

static char pg_col_type(struct gz_stmt *s, int i)
{
	if (pg_col_null(s, i))
		return 'n';
	switch (PQftype(ST(s)->res, i)) {
	case 16: /* bool */
	case 20: /* int8 */
	case 21: /* int2 */
	case 23: /* int4 */
		return 'i';
	case 700:  /* float4 */
	case 701:  /* float8 */
	case 1700: /* numeric */
		return 'd';
	case OID_BYTEA:
		return 'b';
	default:
		return 't';
	}
}

static int64_t pg_col_i64(struct gz_stmt *s, int i)
{
	if (pg_col_null(s, i))
		return 0;
	const char *v = PQgetvalue(ST(s)->res, cur(ST(s)), i);
	if (v[0] == 't' && !v[1])
		return 1;
	if (v[0] == 'f' && !v[1])
		return 0;
	if (strpbrk(v, ".eE"))
		return (int64_t)strtod(v, NULL); /* a numeric: truncated, as SQLite does */
	return strtoll(v, NULL, 10);
}

static double pg_col_double(struct gz_stmt *s, int i)
{
	if (pg_col_null(s, i))
		return 0;
	const char *v = PQgetvalue(ST(s)->res, cur(ST(s)), i);
	if (v[0] == 't' && !v[1])
		return 1;
	return strtod(v, NULL);
}

static const char *pg_col_text(struct gz_stmt *s, int i)
{
	if (pg_col_null(s, i))
		return "";
	const char *v = PQgetvalue(ST(s)->res, cur(ST(s)), i);
	/* a boolean reads as SQLite's integer would */
	if (PQftype(ST(s)->res, i) == 16 /* bool */)
		return v[0] == 't' ? "1" : "0";
	return v;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static const void *pg_col_blob(struct gz_stmt *gs, int i, size_t *n)
{
	struct pg_stmt *s = ST(gs);
	*n = 0;
	if (pg_col_null(gs, i))
		return NULL;
	const char *v = PQgetvalue(s->res, cur(s), i);
	if (PQftype(s->res, i) != OID_BYTEA || v[0] != '\\' || v[1] != 'x') {
		*n = (size_t)PQgetlength(s->res, cur(s), i);
		return v;
	}
	size_t len = strlen(v + 2) / 2;
	free(s->blob);
	s->blob = gz_xcalloc(len + 1, 1);
	for (size_t k = 0; k < len; k++) {
		int hi = hexval(v[2 + 2 * k]), lo = hexval(v[3 + 2 * k]);
		if (hi < 0 || lo < 0)
			break;
		s->blob[k] = (unsigned char)(hi << 4 | lo);
		*n = k + 1;
	}
	return s->blob;
}

static int64_t pg_changes(struct gz_conn *c)
{
	return CN(c)->changes;
}

static int pg_exec_script(struct gz_conn *c, const char *sql, struct gz_err *err)
{
	return pg_simple(CN(c), sql, err);
}

/* ---- the writer ---- */

/* Ends the batch's transaction without committing; the memo goes with it. */
static void rollback(struct pg_conn *w)
{
	struct gz_err ignored;
	gz_conn_txn_end(&w->base);
	(void)pipe_settle(w, &ignored, NULL);
	PQclear(PQexec(w->h, "ROLLBACK"));
}

/* The transaction is gone (a failed savepoint command, a lost connection): every job
 * fails, those run and those not yet run alike, so that no client is told "failed"
 * for a write that committed. */
static void abort_batch(struct pg_conn *w, struct gz_job *batch, const struct gz_err *e)
{
	rollback(w);
	struct gz_err why = *e;
	if (why.code != GZ_E_STORAGE && why.code != GZ_E_UNAVAILABLE)
		gz_fail(&why, GZ_E_INTERNAL, "internal error");
	gz_db_fail_batch(batch, &why);
}

/* One attempt; 1 when it should be tried again (a deadlock or serialization failure,
 * which roll back the whole transaction). */
static int try_batch(struct pg_db *db, struct gz_job *batch, int n)
{
	struct pg_conn *w = db->writer;
	struct gz_err e;
	gz_err_clear(&e);
	if (pg_simple(w, "BEGIN; SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY ")", &e)) {
		rollback(w);
		gz_db_fail_batch(batch, &e);
		return 0;
	}
	gz_conn_txn_begin(&w->base);
	bool any = false, single = n == 1;
	/* each job runs inside SAVEPOINT job; its RELEASE and the next job's SAVEPOINT go
	 * down the pipeline with the job's deferred statements */
	if (!single && pipe_simple(w, "SAVEPOINT job", &e)) {
		abort_batch(w, batch, &e);
		return 0;
	}
	for (struct gz_job *j = batch; j; j = j->next) {
		j->rc = j->fn(&w->base, j->ctx, j->err);
		if (j->rc == 0 && !single &&
		    (pipe_simple(w, "RELEASE job", j->err) ||
		     (j->next && pipe_simple(w, "SAVEPOINT job", j->err))))
			j->rc = -1;
		struct gz_err late;
		gz_err_clear(&late);
		if (pipe_settle(w, &late, NULL) && j->rc == 0) /* a deferred statement failed */
			j->rc = -1, *j->err = late;
		if (j->rc && w->transient) {
			rollback(w);
			return 1;
		}
		if (PQstatus(w->h) != CONNECTION_OK) {
			gz_fail(&e, GZ_E_UNAVAILABLE, "the database is unreachable, try again");
			if (j->rc == 0)
				j->rc = -1, *j->err = e;
			abort_batch(w, batch, &e);
			return 0;
		}
		if (j->rc && single) {
			rollback(w); /* the job's own error stands */
			return 0;
		}
		if (j->rc) { /* the savepoint is still there: RELEASE did not run */
			if (pg_simple(w,
			              j->next ? "ROLLBACK TO job; RELEASE job; SAVEPOINT job"
			                      : "ROLLBACK TO job; RELEASE job",
			              &e)) {
				abort_batch(w, batch, &e);
				return 0;
			}
			gz_conn_txn_begin(&w->base); /* what the job wrote may be memoized */
		}
		any |= j->rc == 0;
	}
	int end = any ? gz_db_run_batch_end(&db->base, &w->base, &e) : 0;
	if (end && w->transient) {
		rollback(w);
		return 1;
	}
	gz_conn_txn_end(&w->base);
	if (end || pg_simple(w, "COMMIT", &e)) {
		if (!end && w->transient)
			return 1;
		abort_batch(w, batch, &e);
		return 0;
	}
	if (any)
		gz_db_run_on_commit(&db->base, &w->base);
	return 0;
}

static void pg_run_batch(struct gz_db *gdb, int worker, struct gz_job *batch, int n)
{
	(void)worker;
	struct pg_db *db = (struct pg_db *)gdb;
	conn_idle(db->writer);
	for (int attempt = 0;; attempt++) {
		if (!try_batch(db, batch, n))
			break;
		if (attempt == 4) {
			struct gz_err e;
			gz_fail(&e, GZ_E_UNAVAILABLE, "database busy, try again");
			for (struct gz_job *j = batch; j; j = j->next)
				j->rc = -1, *j->err = e;
			break;
		}
		gz_warn("postgresql: batch of %d retried after a deadlock or serialization failure",
		        n);
		for (struct gz_job *j = batch; j; j = j->next) {
			j->rc = 0;
			gz_err_clear(j->err);
		}
	}
	gz_metrics_commit_batch(n);
}

/* ---- open / close / pool ---- */

static void pg_close(struct gz_db *gdb);
static struct gz_conn *pg_reader(struct gz_db *gdb);
static void pg_reader_done(struct gz_db *gdb, struct gz_conn *c);

static struct gz_lease *pg_lease(struct gz_db *db, const char *name);
static bool pg_lease_hold(struct gz_lease *l);
static void pg_lease_free(struct gz_lease *l);
static int pg_listen(struct gz_db *db, const char *channel, void (*fn)(void *ctx), void *ctx,
                     struct gz_err *err);
static int pg_signal(struct gz_conn *c, const char *channel, struct gz_err *err);

static struct gz_db_ops pgsql_ops = {
    .name = "postgresql",
    .has_migrations_sql = "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL "
                          "THEN 0 ELSE 1 END",
    .create_migrations_sql = "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT "
                             "PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    .close = pg_close,
    .reader = pg_reader,
    .reader_done = pg_reader_done,
    .run_batch = pg_run_batch,
    .step_deferred = pg_step_deferred,
    .stmt = pg_stmt_get,
    .stmt_done = pg_stmt_done,
    .stmt_stream = pg_stmt_stream,
    .bind_i64 = pg_bind_i64,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .col_count = pg_col_count,
    .col_name = pg_col_name,
    .col_null = pg_col_null,
    .col_type = pg_col_type,
    .col_i64 = pg_col_i64,
    .col_double = pg_col_double,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .changes = pg_changes,
    .exec_script = pg_exec_script,
    .lease = pg_lease,
    .lease_hold = pg_lease_hold,
    .lease_free = pg_lease_free,
    .listen = pg_listen,
    .signal = pg_signal,
};

static pthread_once_t ops_once = PTHREAD_ONCE_INIT;

static void ops_init(void)
{
	pgsql_ops.migrations = gz_migrations_pgsql;
	pgsql_ops.nmigrations = gz_migrations_pgsql_count;
}

/* The database named by url does not exist: creates it from the server's maintenance
 * database (gongzhi init on a new server). */
static int create_database(const char *url, struct gz_err *err)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(url, &msg);
	if (!opts) {
		gz_fail(err, GZ_E_BAD_REQUEST, "bad database URL: %s", msg ? msg : url);
		PQfreemem(msg);
		return -1;
	}
	const char *dbname = NULL;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "dbname") == 0 && o->val && *o->val)
			dbname = o->val;
	int rc = -1;
	if (!dbname) {
		gz_fail(err, GZ_E_BAD_REQUEST, "the database URL names no database");
	} else {
		const char *kw[] = {"dbname", "dbname", NULL};
		const char *val[] = {url, "postgres", NULL};
		PGconn *h = PQconnectdbParams(kw, val, 1);
		if (PQstatus(h) != CONNECTION_OK) {
			gz_error("cannot connect to PostgreSQL: %s", PQerrorMessage(h));
			gz_fail(err, GZ_E_UNAVAILABLE, "cannot connect to the database server");
		} else {
			char *ident = PQescapeIdentifier(h, dbname, strlen(dbname));
			char sql[512];
			snprintf(sql, sizeof(sql),
			         "CREATE DATABASE %s ENCODING 'UTF8' TEMPLATE template0",
			         ident ? ident : "\"\"");
			PQfreemem(ident);
			PGresult *r = PQexec(h, sql);
			if (PQresultStatus(r) == PGRES_COMMAND_OK) {
				gz_info("created database %s", dbname);
				rc = 0;
			} else {
				const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
				if (st &&
				    strcmp(st, "42P04") == 0) /* created meanwhile by another */
					rc = 0;
				else
					gz_fail(err, GZ_E_INTERNAL, "cannot create database %s: %s",
					        dbname, PQresultErrorMessage(r));
			}
			PQclear(r);
		}
		PQfinish(h);
	}
	PQconninfoFree(opts);
	return rc;
}

int gz_pgsql_open(const char *url, const struct gz_db_opts *o, struct gz_db **out,
                  struct gz_err *err)
{
	pthread_once(&ops_once, ops_init);
	/* a quick probe: does the database exist? */
	PGconn *probe = PQconnectdb(url);
	if (PQstatus(probe) != CONNECTION_OK) {
		char why[512];
		snprintf(why, sizeof(why), "%s", PQerrorMessage(probe));
		PQfinish(probe);
		bool missing = strstr(why, "does not exist") != NULL;
		if (!(missing && o->create)) {
			gz_error("cannot connect to PostgreSQL: %s", why);
			if (missing)
				return gz_fail(err, GZ_E_NOT_FOUND,
				               "no such database (create one with 'gongzhi init')");
			return gz_fail(err, GZ_E_UNAVAILABLE, "cannot connect to the database: %s",
			               why);
		}
		if (create_database(url, err))
			return -1;
	} else {
		PQfinish(probe);
	}
	struct pg_db *db = gz_xcalloc(1, sizeof(*db));
	db->base.ops = &pgsql_ops;
	db->base.opts = *o;
	db->url = gz_xstrdup(url);
	pthread_mutex_init(&db->pool_lock, NULL);
	pthread_cond_init(&db->pool_cond, NULL);
	pthread_mutex_init(&db->ukey_lock, NULL);
	pthread_mutex_init(&db->listen_lock, NULL);
	if (o->writer && conn_open(db, false, &db->writer, err)) {
		pg_close(&db->base);
		return -1;
	}
	int n = o->read_connections > 0 ? o->read_connections : 1;
	for (int i = 0; i < n; i++) {
		struct pg_conn *c = NULL;
		if (conn_open(db, true, &c, err)) {
			pg_close(&db->base);
			return -1;
		}
		c->next_free = db->free_readers;
		db->free_readers = c;
		db->nreaders++;
	}
	*out = &db->base;
	return 0;
}

static void pg_close(struct gz_db *gdb)
{
	struct pg_db *db = (struct pg_db *)gdb;
	if (db->listening) {
		atomic_store(&db->listen_stop, true);
		pthread_join(db->listen_thread, NULL);
		db->listening = false;
	}
	while (db->free_readers) {
		struct pg_conn *c = db->free_readers;
		db->free_readers = c->next_free;
		conn_close(c);
	}
	conn_close(db->writer);
	ukeys_free(db);
	pthread_mutex_destroy(&db->pool_lock);
	pthread_cond_destroy(&db->pool_cond);
	pthread_mutex_destroy(&db->ukey_lock);
	pthread_mutex_destroy(&db->listen_lock);
	free(db->url);
	free(db);
}

static struct gz_conn *pg_reader(struct gz_db *gdb)
{
	struct pg_db *db = (struct pg_db *)gdb;
	pthread_mutex_lock(&db->pool_lock);
	while (!db->free_readers)
		pthread_cond_wait(&db->pool_cond, &db->pool_lock);
	struct pg_conn *c = db->free_readers;
	db->free_readers = c->next_free;
	pthread_mutex_unlock(&db->pool_lock);
	return &c->base;
}

static void pg_reader_done(struct gz_db *gdb, struct gz_conn *gc)
{
	struct pg_db *db = (struct pg_db *)gdb;
	struct pg_conn *c = CN(gc);
	if (PQtransactionStatus(c->h) == PQTRANS_INERROR ||
	    PQtransactionStatus(c->h) == PQTRANS_INTRANS)
		PQclear(PQexec(c->h, "ROLLBACK"));
	conn_idle(c);
	pthread_mutex_lock(&db->pool_lock);
	c->next_free = db->free_readers;
	db->free_readers = c;
	pthread_cond_signal(&db->pool_cond);
	pthread_mutex_unlock(&db->pool_lock);
}

/* ---- several nodes ---- */

struct pg_lease {
	struct gz_lease base;
	struct pg_db *db;
	char name[64];
	PGconn *h; /* holds the session lock while held */
	bool held;
	int64_t next_try_ms; /* after a failed connection: not before */
};

static struct gz_lease *pg_lease(struct gz_db *gdb, const char *name)
{
	struct pg_lease *l = gz_xcalloc(1, sizeof(*l));
	l->base.ops = gdb->ops;
	l->db = (struct pg_db *)gdb;
	snprintf(l->name, sizeof(l->name), "%s", name);
	return &l->base;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One round trip when held (the connection is still there, so the lock is); a try
 * of the lock when not. */
static bool pg_lease_hold(struct gz_lease *gl)
{
	struct pg_lease *l = (struct pg_lease *)gl;
	if (l->h && PQstatus(l->h) == CONNECTION_OK && l->held) {
		PGresult *r = PQexec(l->h, "SELECT 1");
		bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
		PQclear(r);
		if (ok)
			return true;
		gz_warn("lease %s: lost its connection", l->name);
	}
	if (l->held)
		gz_info("lease %s released", l->name);
	l->held = false;
	if (l->h && PQstatus(l->h) != CONNECTION_OK) {
		PQfinish(l->h);
		l->h = NULL;
	}
	if (!l->h) {
		if (mono_ms() < l->next_try_ms)
			return false;
		l->h = PQconnectdb(l->db->url);
		if (PQstatus(l->h) != CONNECTION_OK) {
			gz_warn("lease %s: %s", l->name, PQerrorMessage(l->h));
			PQfinish(l->h);
			l->h = NULL;
			l->next_try_ms = mono_ms() + 5000;
			return false;
		}
	}
	const char *vals[] = {l->name};
	PGresult *r =
	    PQexecParams(l->h, "SELECT pg_try_advisory_lock(hashtext('gongzhi lease ' || $1))", 1,
	                 NULL, vals, NULL, NULL, 0);
	l->held = PQresultStatus(r) == PGRES_TUPLES_OK && PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (l->held)
		gz_info("lease %s taken: this node runs it", l->name);
	return l->held;
}

static void pg_lease_free(struct gz_lease *gl)
{
	struct pg_lease *l = (struct pg_lease *)gl;
	PQfinish(l->h); /* the session lock goes with the connection */
	free(l);
}

/* Every signal goes over one channel, "gongzhi", its name in the payload: one LISTEN
 * per node whatever registers later. */
static void dispatch(struct pg_db *db, const char *channel)
{
	pthread_mutex_lock(&db->listen_lock);
	int n = db->nlisteners;
	pthread_mutex_unlock(&db->listen_lock);
	for (int i = 0; i < n; i++)
		if (!channel || strcmp(channel, db->listeners[i].channel) == 0)
			db->listeners[i].fn(db->listeners[i].ctx);
}

static void *listen_main(void *arg)
{
	struct pg_db *db = arg;
	PGconn *h = NULL;
	while (!atomic_load(&db->listen_stop)) {
		if (!h || PQstatus(h) != CONNECTION_OK) {
			PQfinish(h);
			h = PQconnectdb(db->url);
			PGresult *r =
			    PQstatus(h) == CONNECTION_OK ? PQexec(h, "LISTEN gongzhi") : NULL;
			bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
			PQclear(r);
			if (!ok) {
				gz_warn("postgresql LISTEN: %s", PQerrorMessage(h));
				PQfinish(h);
				h = NULL;
				for (int k = 0; k < 20 && !atomic_load(&db->listen_stop); k++)
					usleep(100000);
				continue;
			}
			/* what was signalled while no one listened: tell everyone once */
			dispatch(db, NULL);
		}
		struct pollfd p = {.fd = PQsocket(h), .events = POLLIN};
		if (poll(&p, 1, 200) <= 0)
			continue;
		if (!PQconsumeInput(h))
			continue; /* reconnects above */
		PGnotify *nt;
		while ((nt = PQnotifies(h))) {
			dispatch(db, nt->extra);
			PQfreemem(nt);
		}
	}
	PQfinish(h);
	return NULL;
}

static int pg_listen(struct gz_db *gdb, const char *channel, void (*fn)(void *ctx), void *ctx,
                     struct gz_err *err)
{
	struct pg_db *db = (struct pg_db *)gdb;
	pthread_mutex_lock(&db->listen_lock);
	if (db->nlisteners == (int)(sizeof(db->listeners) / sizeof(db->listeners[0])))
		GZ_BUG("too many listeners");
	snprintf(db->listeners[db->nlisteners].channel, sizeof(db->listeners[0].channel), "%s",
	         channel);
	db->listeners[db->nlisteners].fn = fn;
	db->listeners[db->nlisteners].ctx = ctx;
	db->nlisteners++;
	bool start = !db->listening;
	db->listening = true;
	pthread_mutex_unlock(&db->listen_lock);
	if (start && pthread_create(&db->listen_thread, NULL, listen_main, db)) {
		db->listening = false;
		return gz_fail(err, GZ_E_INTERNAL, "cannot start the LISTEN thread");
	}
	return 0;
}

static int pg_signal(struct gz_conn *c, const char *channel, struct gz_err *err)
{
	return gz_exec_args(c, err, "SELECT pg_notify('gongzhi', ?)", "t", channel);
}
