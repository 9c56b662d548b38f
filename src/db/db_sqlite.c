/* db_sqlite.c - the SQLite backend of db.h.
 *
 * One writer connection owned by the writer thread, which takes every queued write
 * job, runs them in one BEGIN IMMEDIATE … COMMIT with a savepoint each (group
 * commit), and wakes their callers after the commit.  Checkpoints run on a thread and
 * connection of their own, so that copying the WAL into the database and its fsync
 * never hold up a commit.  A pool of read connections
 * (query_only) serves reads.  Every connection keeps its prepared statements in a
 * small cache keyed by SQL text.  Nothing SQLite-specific leaves this file. */
#include "db.h"
#include "migrations.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/timefmt.h"
#include "core/util.h"
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* statements cached per connection: a set-associative table, PROBE slots a set */
enum { CACHE_SLOTS = 512, PROBE = 4 };

struct gz_stmt {
	sqlite3_stmt *st;
	struct gz_conn *conn;
	char *sql;
	bool cached, in_use;
};

struct gz_conn {
	sqlite3 *h;
	struct gz_stmt cache[CACHE_SLOTS];
	struct gz_conn *next_free;
};

struct job {
	gz_write_fn fn;
	void *ctx;
	struct gz_err *err;
	int rc;
	bool done;
	pthread_cond_t cond; /* a waiting caller (gz_db_write) */
	/* or a callback (gz_db_write_async); the job is then the writer's to free */
	void (*on_done)(void *done_ctx, int rc);
	void *done_ctx;
	struct job *next;
};

struct gz_db {
	char *path;
	struct gz_db_opts opts;
	struct gz_conn *writer;
	struct gz_conn *readers;
	int nreaders;
	struct gz_conn *free_readers;
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond;

	pthread_t writer_thread;
	bool writer_running;
	pthread_mutex_t q_lock;
	pthread_cond_t q_cond;
	struct job *q_head, *q_tail;
	bool stopping;
	struct {
		gz_write_fn fn;
		void *ctx;
	} batch_end[8];
	int nbatch_end;
	struct {
		void (*fn)(struct gz_conn *c, void *ctx);
		void *ctx;
	} on_commit[4];
	int non_commit;

	/* the checkpointer: woken by the writer's WAL hook */
	struct gz_conn *ckpt_conn;
	pthread_t ckpt_thread;
	bool ckpt_running, ckpt_wanted, ckpt_stopping;
	pthread_mutex_t ckpt_lock;
	pthread_cond_t ckpt_cond;
};

/* WAL frames after which a checkpoint is started (SQLite's autocheckpoint default) */
enum { CHECKPOINT_FRAMES = 1000 };

static int sql_fail(sqlite3 *h, int rc, const char *what, struct gz_err *err)
{
	int ext = h ? sqlite3_extended_errcode(h) : rc;
	const char *msg = h ? sqlite3_errmsg(h) : sqlite3_errstr(rc);
	if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
		/* "UNIQUE constraint failed: orgs.name" -> field "name" */
		const char *dot = strrchr(msg, '.');
		const char *field = dot ? dot + 1 : "";
		return gz_fail_field(err, GZ_E_CONFLICT, field, "%s already exists",
		                     *field ? field : "the object");
	}
	if (ext == SQLITE_CONSTRAINT_FOREIGNKEY) {
		gz_warn("foreign key failed: %s", msg);
		return gz_fail(err, GZ_E_VALIDATION, "a referenced object does not exist");
	}
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		gz_warn("constraint failed: %s", msg);
		return gz_fail(err, GZ_E_VALIDATION, "the change violates a rule of the data");
	}
	gz_error("sqlite %s: %s (%d)", what, msg, ext);
	if ((rc & 0xff) == SQLITE_FULL)
		return gz_fail(err, GZ_E_STORAGE,
		               "the server's disk is full: nothing of the request was written");
	if ((rc & 0xff) == SQLITE_BUSY)
		return gz_fail(err, GZ_E_UNAVAILABLE, "database busy, try again");
	return gz_fail(err, GZ_E_INTERNAL, "internal error");
}

static int conn_open(const char *path, int flags, const char *sync, bool readonly,
                     struct gz_conn **out, struct gz_err *err)
{
	sqlite3 *h = NULL;
	int rc = sqlite3_open_v2(path, &h, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		gz_error("cannot open database %s: %s", path, h ? sqlite3_errmsg(h) : "");
		sqlite3_close(h);
		return gz_fail(err, GZ_E_INTERNAL, "cannot open database %s", path);
	}
	sqlite3_busy_timeout(h, 5000);
	/* the writer gets a larger page cache (batched inserts halve in speed with the
	 * default 2 MB; 16 MB is as fast as 24 at a million orders); readers 2 MB each, as
	 * the OS page cache is shared anyway: the process stays under 64 MB resident with
	 * 8 readers */
	char pragmas[512];
	snprintf(pragmas, sizeof(pragmas),
	         "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON;"
	         "PRAGMA cache_size=%d; PRAGMA temp_store=MEMORY;%s",
	         sync, readonly ? -2048 : -16384, readonly ? " PRAGMA query_only=1;" : "");
	char *msg = NULL;
	if (sqlite3_exec(h, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		gz_error("cannot configure database %s: %s", path, msg ? msg : "");
		sqlite3_free(msg);
		sqlite3_close(h);
		return gz_fail(err, GZ_E_INTERNAL, "cannot open database %s", path);
	}
	struct gz_conn *c = gz_xcalloc(1, sizeof(*c));
	c->h = h;
	*out = c;
	return 0;
}

static void conn_close(struct gz_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < CACHE_SLOTS; i++) {
		sqlite3_finalize(c->cache[i].st);
		free(c->cache[i].sql);
	}
	sqlite3_close(c->h);
	free(c);
}

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

struct gz_stmt *gz_stmt(struct gz_conn *c, const char *sql, struct gz_err *err)
{
	uint32_t h = hash_str(sql) % CACHE_SLOTS & ~(uint32_t)(PROBE - 1);
	struct gz_stmt *slot = NULL;
	for (uint32_t k = 0; k < PROBE; k++) {
		struct gz_stmt *cand = &c->cache[h + k];
		if (cand->st && !cand->in_use && strcmp(cand->sql, sql) == 0) {
			cand->in_use = true;
			return cand;
		}
		/* the slot to fill on a miss: an empty one, else the first free one */
		if (!cand->in_use && (!slot || (slot->st && !cand->st)))
			slot = cand;
	}
	if (!slot)
		slot = &c->cache[h]; /* all in use: prepared uncached below */
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v3(c->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		gz_error("prepare failed: %s in: %s", sqlite3_errmsg(c->h), sql);
		gz_fail(err, GZ_E_INTERNAL, "internal error");
		return NULL;
	}
	if (!slot->in_use) {
		sqlite3_finalize(slot->st);
		free(slot->sql);
		slot->st = st;
		slot->sql = gz_xstrdup(sql);
		slot->conn = c;
		slot->cached = true;
		slot->in_use = true;
		return slot;
	}
	struct gz_stmt *s = gz_xcalloc(1, sizeof(*s));
	s->st = st;
	s->conn = c;
	return s;
}

void gz_stmt_done(struct gz_stmt *s)
{
	if (!s)
		return;
	if (s->cached) {
		sqlite3_reset(s->st);
		sqlite3_clear_bindings(s->st);
		s->in_use = false;
		return;
	}
	sqlite3_finalize(s->st);
	free(s);
}

void gz_bind_i64(struct gz_stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(s->st, i, v);
}

void gz_bind_double(struct gz_stmt *s, int i, double v)
{
	sqlite3_bind_double(s->st, i, v);
}

void gz_bind_text(struct gz_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s->st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s->st, i);
}

void gz_bind_blob(struct gz_stmt *s, int i, const void *p, size_t n)
{
	sqlite3_bind_blob64(s->st, i, p, n, SQLITE_TRANSIENT);
}

void gz_bind_null(struct gz_stmt *s, int i)
{
	sqlite3_bind_null(s->st, i);
}

#ifdef GZ_TEST_HOOKS
/* Test builds only: GONGZHI_TEST_FAULT=<sql-substring>:<full|ioerr>:<nth> makes the
 * nth execution of a statement whose SQL contains the substring fail as SQLite fails on
 * a full disk or an I/O error, including the rollback of the whole open transaction
 * that SQLite may do then (the worst case the writer must handle).  Read once; fires
 * once.  Never compiled into a release build. */
static struct {
	pthread_once_t once;
	char needle[200];
	int code;
	long nth;
	long seen;
	pthread_mutex_t lock;
} fault = {.once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER};

static void fault_init(void)
{
	const char *v = getenv("GONGZHI_TEST_FAULT");
	if (!v || !*v)
		return;
	const char *c1 = strchr(v, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2 || (size_t)(c1 - v) >= sizeof(fault.needle))
		return;
	memcpy(fault.needle, v, (size_t)(c1 - v));
	fault.needle[c1 - v] = 0;
	fault.code = strncmp(c1 + 1, "full:", 5) == 0 ? SQLITE_FULL : SQLITE_IOERR_WRITE;
	fault.nth = strtol(c2 + 1, NULL, 10);
	gz_warn("test fault armed: statement %ld containing '%s' fails with %s", fault.nth,
	        fault.needle, sqlite3_errstr(fault.code));
}

/* The injected error, or SQLITE_OK when none fires for this statement. */
static int fault_check(sqlite3 *h, const char *sql)
{
	pthread_once(&fault.once, fault_init);
	if (!fault.needle[0] || !sql || !strstr(sql, fault.needle))
		return SQLITE_OK;
	pthread_mutex_lock(&fault.lock);
	bool fire = ++fault.seen == fault.nth;
	pthread_mutex_unlock(&fault.lock);
	if (!fire)
		return SQLITE_OK;
	gz_warn("test fault fires on: %s", sql);
	if (!sqlite3_get_autocommit(h))
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
	return fault.code;
}

static int fault_fail(sqlite3 *h, int code, const char *what, struct gz_err *err)
{
	gz_error("sqlite %s: injected %s", what, sqlite3_errstr(code));
	if (code == SQLITE_FULL)
		return gz_fail(err, GZ_E_STORAGE,
		               "the server's disk is full: nothing of the request was written");
	(void)h;
	return gz_fail(err, GZ_E_INTERNAL, "internal error");
}
#endif

int gz_step(struct gz_stmt *s, struct gz_err *err)
{
#ifdef GZ_TEST_HOOKS
	int injected = fault_check(s->conn->h, sqlite3_sql(s->st));
	if (injected != SQLITE_OK)
		return fault_fail(s->conn->h, injected, "step", err);
#endif
	int rc = sqlite3_step(s->st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return sql_fail(s->conn->h, rc, "step", err);
}

int gz_col_count(struct gz_stmt *s)
{
	return sqlite3_column_count(s->st);
}

const char *gz_col_name(struct gz_stmt *s, int i)
{
	return sqlite3_column_name(s->st, i);
}

bool gz_col_null(struct gz_stmt *s, int i)
{
	return sqlite3_column_type(s->st, i) == SQLITE_NULL;
}

int64_t gz_col_i64(struct gz_stmt *s, int i)
{
	return sqlite3_column_int64(s->st, i);
}

double gz_col_double(struct gz_stmt *s, int i)
{
	return sqlite3_column_double(s->st, i);
}

const char *gz_col_text(struct gz_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s->st, i);
	return t ? (const char *)t : "";
}

const void *gz_col_blob(struct gz_stmt *s, int i, size_t *n)
{
	const void *p = sqlite3_column_blob(s->st, i);
	*n = (size_t)sqlite3_column_bytes(s->st, i);
	return p;
}

int64_t gz_changes(struct gz_conn *c)
{
	return sqlite3_changes64(c->h);
}

static void bind_va(struct gz_stmt *s, const char *types, va_list ap)
{
	for (int i = 0; types[i]; i++) {
		switch (types[i]) {
		case 'i':
			gz_bind_i64(s, i + 1, va_arg(ap, int64_t));
			break;
		case 't':
			gz_bind_text(s, i + 1, va_arg(ap, const char *));
			break;
		case 'd':
			gz_bind_double(s, i + 1, va_arg(ap, double));
			break;
		case 'n': /* takes an int64 argument, ignored: "i" or "n" chosen by a flag */
			(void)va_arg(ap, int64_t);
			gz_bind_null(s, i + 1);
			break;
		default:
			GZ_BUG("bad bind type '%c'", types[i]);
		}
	}
}

int gz_query_i64(struct gz_conn *c, struct gz_err *err, int64_t *out, const char *sql,
                 const char *types, ...)
{
	struct gz_stmt *s = gz_stmt(c, sql, err);
	if (!s)
		return -1;
	va_list ap;
	va_start(ap, types);
	bind_va(s, types, ap);
	va_end(ap);
	int rc = gz_step(s, err);
	if (rc == 1 && out)
		*out = gz_col_i64(s, 0);
	gz_stmt_done(s);
	return rc;
}

int gz_exec_args(struct gz_conn *c, struct gz_err *err, const char *sql, const char *types, ...)
{
	struct gz_stmt *s = gz_stmt(c, sql, err);
	if (!s)
		return -1;
	va_list ap;
	va_start(ap, types);
	bind_va(s, types, ap);
	va_end(ap);
	int rc;
	while ((rc = gz_step(s, err)) == 1)
		;
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
}

int gz_exec_script(struct gz_conn *c, const char *sql, struct gz_err *err)
{
#ifdef GZ_TEST_HOOKS
	int injected = fault_check(c->h, sql);
	if (injected != SQLITE_OK)
		return fault_fail(c->h, injected, "exec", err);
#endif
	char *msg = NULL;
	int rc = sqlite3_exec(c->h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		gz_error("script failed: %s", msg ? msg : "");
		sqlite3_free(msg);
		return sql_fail(c->h, rc, "exec", err);
	}
	return 0;
}

static void args_push(struct gz_args *a, char type)
{
	if (a->n >= GZ_ARGS_MAX) {
		/* input-driven (many filters): the caller checks overflow and refuses */
		a->overflow = true;
		a->n = GZ_ARGS_MAX - 1;
	}
	a->v[a->n].type = type;
	a->n++;
}

void gz_args_i64(struct gz_args *a, int64_t v)
{
	args_push(a, 'i');
	a->v[a->n - 1].i = v;
}

void gz_args_text(struct gz_args *a, const char *v)
{
	args_push(a, v ? 't' : 'n');
	a->v[a->n - 1].t = v;
}

void gz_args_double(struct gz_args *a, double v)
{
	args_push(a, 'd');
	a->v[a->n - 1].d = v;
}

void gz_args_null(struct gz_args *a)
{
	args_push(a, 'n');
}

void gz_args_bind(struct gz_stmt *s, const struct gz_args *a, int first)
{
	for (int k = 0; k < a->n; k++) {
		int i = first + k;
		switch (a->v[k].type) {
		case 'i':
			gz_bind_i64(s, i, a->v[k].i);
			break;
		case 't':
			gz_bind_text(s, i, a->v[k].t);
			break;
		case 'd':
			gz_bind_double(s, i, a->v[k].d);
			break;
		default:
			gz_bind_null(s, i);
		}
	}
}

/* ---- the writer ---- */

/* One statement without parameters through the statement cache: the writer runs
 * SAVEPOINT/RELEASE for every job, and parsing them each time shows in profiles. */
static int raw(struct gz_conn *c, const char *sql, struct gz_err *e)
{
	struct gz_stmt *s = gz_stmt(c, sql, e);
	if (!s)
		return -1;
	int rc = gz_step(s, e);
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
}

/* The batch failed as a whole: every job that had succeeded gets the error. */
static void fail_batch(struct job *batch, const struct gz_err *e)
{
	for (struct job *j = batch; j; j = j->next)
		if (j->rc == 0) {
			*j->err = *e;
			j->rc = -1;
		}
}

/* The transaction is gone (SQLite rolls it back on SQLITE_FULL, IOERR or NOMEM, and
 * a failed SAVEPOINT, ROLLBACK TO or RELEASE leaves it in no known state): every job
 * of the batch fails, those already run and those not yet run alike, so that no
 * client is told "failed" for a write that committed, and no later job runs in
 * autocommit. */
static void abort_batch(struct gz_conn *w, struct job *batch, const struct gz_err *e)
{
	if (!sqlite3_get_autocommit(w->h))
		sqlite3_exec(w->h, "ROLLBACK", NULL, NULL, NULL);
	struct gz_err why = *e;
	if (why.code != GZ_E_STORAGE) /* the detail is in the log */
		gz_fail(&why, GZ_E_INTERNAL, "internal error");
	fail_batch(batch, &why);
}

static void run_batch(struct gz_db *db, struct job *batch, int n)
{
	struct gz_conn *w = db->writer;
	struct gz_err e;
	gz_err_clear(&e);
	if (gz_exec_script(w, "BEGIN IMMEDIATE", &e)) {
		fail_batch(batch, &e); /* no job has run: rc is still 0 for all */
		return;
	}
	bool any = false;
	for (struct job *j = batch; j; j = j->next) {
		if (raw(w, "SAVEPOINT job", &e)) {
			abort_batch(w, batch, &e);
			gz_metrics_commit_batch(n);
			return;
		}
		j->rc = j->fn(w, j->ctx, j->err);
		if (sqlite3_get_autocommit(w->h)) {
			/* the job's failure rolled back the whole transaction: its own error
			 * is the one to report (507 for a full disk) */
			gz_error("the writer's transaction was rolled back by a failed job");
			if (j->rc == 0)
				gz_fail(j->err, GZ_E_INTERNAL, "internal error");
			j->rc = -1;
			struct gz_err why = *j->err;
			abort_batch(w, batch, &why);
			gz_metrics_commit_batch(n);
			return;
		}
		if (j->rc && raw(w, "ROLLBACK TO job", &e)) {
			abort_batch(w, batch, &e);
			gz_metrics_commit_batch(n);
			return;
		}
		if (raw(w, "RELEASE job", &e)) {
			if (j->rc == 0)
				j->rc = gz_fail(j->err, GZ_E_INTERNAL, "internal error");
			abort_batch(w, batch, &e);
			gz_metrics_commit_batch(n);
			return;
		}
		any |= j->rc == 0;
	}
	int end = 0;
	for (int i = 0; any && !end && i < db->nbatch_end; i++)
		end = db->batch_end[i].fn(w, db->batch_end[i].ctx, &e);
	if (end)
		gz_error("batch end: %s", e.message);
	if (end || gz_exec_script(w, "COMMIT", &e)) {
		abort_batch(w, batch, &e);
	} else if (any) {
		for (int i = 0; i < db->non_commit; i++)
			db->on_commit[i].fn(w, db->on_commit[i].ctx);
	}
	gz_metrics_commit_batch(n);
}

static void *writer_main(void *arg)
{
	struct gz_db *db = arg;
	pthread_mutex_lock(&db->q_lock);
	for (;;) {
		while (!db->q_head && !db->stopping)
			pthread_cond_wait(&db->q_cond, &db->q_lock);
		if (!db->q_head && db->stopping)
			break;
		struct job *batch = db->q_head, *last = batch;
		int n = 1;
		while (last->next && n < db->opts.batch_max) {
			last = last->next;
			n++;
		}
		db->q_head = last->next;
		if (!db->q_head)
			db->q_tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&db->q_lock);

		run_batch(db, batch, n);

		/* callbacks first, outside the lock (they resume connections) ... */
		struct job *waiting = NULL;
		for (struct job *j = batch, *next; j; j = next) {
			next = j->next;
			if (j->on_done) {
				j->on_done(j->done_ctx, j->rc);
				free(j);
			} else {
				j->next = waiting;
				waiting = j;
			}
		}
		/* ... then the callers waiting in gz_db_write */
		pthread_mutex_lock(&db->q_lock);
		for (struct job *j = waiting, *next; j; j = next) {
			next = j->next;
			j->done = true;
			pthread_cond_signal(&j->cond);
		}
	}
	pthread_mutex_unlock(&db->q_lock);
	return NULL;
}

static int enqueue(struct gz_db *db, struct job *j, struct gz_err *err)
{
	if (!db->writer_running)
		GZ_BUG("write on a database opened without a writer");
	if (db->stopping)
		return gz_fail(err, GZ_E_UNAVAILABLE, "shutting down");
	if (db->q_tail)
		db->q_tail->next = j;
	else
		db->q_head = j;
	db->q_tail = j;
	pthread_cond_signal(&db->q_cond);
	return 0;
}

int gz_db_write_async(struct gz_db *db, gz_write_fn fn, void *ctx, struct gz_err *err,
                      void (*done)(void *done_ctx, int rc), void *done_ctx)
{
	struct job *j = gz_xcalloc(1, sizeof(*j));
	*j = (struct job){.fn = fn, .ctx = ctx, .err = err, .on_done = done, .done_ctx = done_ctx};
	pthread_mutex_lock(&db->q_lock);
	int rc = enqueue(db, j, err);
	pthread_mutex_unlock(&db->q_lock);
	if (rc)
		free(j);
	return rc;
}

void gz_db_on_batch_end(struct gz_db *db, gz_write_fn fn, void *ctx)
{
	pthread_mutex_lock(&db->q_lock);
	if (db->nbatch_end == (int)(sizeof(db->batch_end) / sizeof(db->batch_end[0])))
		GZ_BUG("too many batch-end functions");
	db->batch_end[db->nbatch_end].fn = fn;
	db->batch_end[db->nbatch_end].ctx = ctx;
	db->nbatch_end++;
	pthread_mutex_unlock(&db->q_lock);
}

void gz_db_on_commit(struct gz_db *db, void (*fn)(struct gz_conn *c, void *ctx), void *ctx)
{
	pthread_mutex_lock(&db->q_lock);
	if (db->non_commit == (int)(sizeof(db->on_commit) / sizeof(db->on_commit[0])))
		GZ_BUG("too many commit functions");
	db->on_commit[db->non_commit].fn = fn;
	db->on_commit[db->non_commit].ctx = ctx;
	db->non_commit++;
	pthread_mutex_unlock(&db->q_lock);
}

/* ---- the checkpointer ---- */

static int wal_hook(void *arg, sqlite3 *h, const char *name, int frames)
{
	(void)h;
	(void)name;
	struct gz_db *db = arg;
	if (frames >= CHECKPOINT_FRAMES) {
		pthread_mutex_lock(&db->ckpt_lock);
		db->ckpt_wanted = true;
		pthread_cond_signal(&db->ckpt_cond);
		pthread_mutex_unlock(&db->ckpt_lock);
	}
	return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
	struct gz_db *db = arg;
	pthread_mutex_lock(&db->ckpt_lock);
	for (;;) {
		while (!db->ckpt_wanted && !db->ckpt_stopping)
			pthread_cond_wait(&db->ckpt_cond, &db->ckpt_lock);
		if (db->ckpt_stopping)
			break;
		db->ckpt_wanted = false;
		pthread_mutex_unlock(&db->ckpt_lock);
		/* PASSIVE: copies what no reader still needs, never waits for anyone; the
		 * writer starts the WAL over once everything is copied */
		int log = 0, done = 0;
		int rc = sqlite3_wal_checkpoint_v2(db->ckpt_conn->h, NULL,
		                                   SQLITE_CHECKPOINT_PASSIVE, &log, &done);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			gz_warn("checkpoint: %s", sqlite3_errmsg(db->ckpt_conn->h));
		pthread_mutex_lock(&db->ckpt_lock);
	}
	pthread_mutex_unlock(&db->ckpt_lock);
	return NULL;
}

static int ckpt_start(struct gz_db *db, struct gz_err *err)
{
	if (conn_open(db->path, SQLITE_OPEN_READWRITE, db->opts.synchronous, false, &db->ckpt_conn,
	              err))
		return -1;
	if (pthread_create(&db->ckpt_thread, NULL, ckpt_main, db))
		return gz_fail(err, GZ_E_INTERNAL, "cannot start the checkpoint thread");
	db->ckpt_running = true;
	/* the writer no longer checkpoints itself; its commits wake the thread */
	sqlite3_wal_autocheckpoint(db->writer->h, 0);
	sqlite3_wal_hook(db->writer->h, wal_hook, db);
	return 0;
}

static void ckpt_stop(struct gz_db *db)
{
	if (db->ckpt_running) {
		pthread_mutex_lock(&db->ckpt_lock);
		db->ckpt_stopping = true;
		pthread_cond_signal(&db->ckpt_cond);
		pthread_mutex_unlock(&db->ckpt_lock);
		pthread_join(db->ckpt_thread, NULL);
		db->ckpt_running = false;
	}
	conn_close(db->ckpt_conn);
	db->ckpt_conn = NULL;
}

int gz_db_write(struct gz_db *db, gz_write_fn fn, void *ctx, struct gz_err *err)
{
	struct gz_err local;
	if (!err)
		err = &local;
	struct job j = {.fn = fn, .ctx = ctx, .err = err};
	pthread_cond_init(&j.cond, NULL);
	pthread_mutex_lock(&db->q_lock);
	if (enqueue(db, &j, err)) {
		pthread_mutex_unlock(&db->q_lock);
		pthread_cond_destroy(&j.cond);
		return -1;
	}
	while (!j.done)
		pthread_cond_wait(&j.cond, &db->q_lock);
	pthread_mutex_unlock(&db->q_lock);
	pthread_cond_destroy(&j.cond);
	return j.rc;
}

/* ---- open / close / pool ---- */

void gz_db_opts_default(struct gz_db_opts *o)
{
	o->read_connections = 4;
	o->batch_max = 256;
	o->synchronous = "FULL";
	o->create = false;
	o->writer = true;
}

int gz_db_open(const char *url, const struct gz_db_opts *o, struct gz_db **out, struct gz_err *err)
{
	const char *path = url;
	if (gz_str_has_prefix(url, "sqlite://"))
		path = url + 9;
	else if (gz_str_has_prefix(url, "sqlite:"))
		path = url + 7;
	else if (gz_str_has_prefix(url, "postgres"))
		return gz_fail(err, GZ_E_BAD_REQUEST,
		               "the PostgreSQL backend is not part of this build yet");
	if (!*path)
		return gz_fail(err, GZ_E_BAD_REQUEST, "no database path in '%s'", url);
	if (strcmp(o->synchronous, "FULL") && strcmp(o->synchronous, "NORMAL"))
		return gz_fail(err, GZ_E_BAD_REQUEST, "synchronous must be FULL or NORMAL");
	if (!o->create && access(path, F_OK) != 0)
		return gz_fail(err, GZ_E_NOT_FOUND,
		               "no database at %s (create one with 'gongzhi init')", path);
	struct gz_db *db = gz_xcalloc(1, sizeof(*db));
	db->path = gz_xstrdup(path);
	db->opts = *o;
	pthread_mutex_init(&db->pool_lock, NULL);
	pthread_cond_init(&db->pool_cond, NULL);
	pthread_mutex_init(&db->q_lock, NULL);
	pthread_cond_init(&db->q_cond, NULL);
	pthread_mutex_init(&db->ckpt_lock, NULL);
	pthread_cond_init(&db->ckpt_cond, NULL);
	int flags = SQLITE_OPEN_READWRITE | (o->create ? SQLITE_OPEN_CREATE : 0);
	if (conn_open(path, flags, o->synchronous, false, &db->writer, err)) {
		gz_db_close(db);
		return -1;
	}
	int n = o->read_connections > 0 ? o->read_connections : 1;
	for (int i = 0; i < n; i++) {
		struct gz_conn *c;
		if (conn_open(path, SQLITE_OPEN_READWRITE, o->synchronous, true, &c, err)) {
			gz_db_close(db);
			return -1;
		}
		c->next_free = db->free_readers;
		db->free_readers = c;
		db->nreaders++;
	}
	if (o->writer) {
		if (ckpt_start(db, err)) {
			gz_db_close(db);
			return -1;
		}
		if (pthread_create(&db->writer_thread, NULL, writer_main, db)) {
			gz_db_close(db);
			return gz_fail(err, GZ_E_INTERNAL, "cannot start the writer thread");
		}
		db->writer_running = true;
	}
	*out = db;
	return 0;
}

void gz_db_close(struct gz_db *db)
{
	if (!db)
		return;
	if (db->writer_running) {
		pthread_mutex_lock(&db->q_lock);
		db->stopping = true;
		pthread_cond_signal(&db->q_cond);
		pthread_mutex_unlock(&db->q_lock);
		pthread_join(db->writer_thread, NULL);
	}
	ckpt_stop(db);
	while (db->free_readers) {
		struct gz_conn *c = db->free_readers;
		db->free_readers = c->next_free;
		conn_close(c);
	}
	if (db->writer) {
		/* checkpoint so the database file is complete on its own */
		struct gz_err e;
		if (raw(db->writer, "PRAGMA wal_checkpoint(TRUNCATE)", &e))
			gz_warn("final checkpoint failed: %s", e.message);
		else
			gz_info("final checkpoint done");
		conn_close(db->writer);
	}
	pthread_mutex_destroy(&db->pool_lock);
	pthread_cond_destroy(&db->pool_cond);
	pthread_mutex_destroy(&db->q_lock);
	pthread_cond_destroy(&db->q_cond);
	pthread_mutex_destroy(&db->ckpt_lock);
	pthread_cond_destroy(&db->ckpt_cond);
	free(db->path);
	free(db);
}

const char *gz_db_backend(const struct gz_db *db)
{
	(void)db;
	return "sqlite";
}

struct gz_conn *gz_db_reader(struct gz_db *db)
{
	pthread_mutex_lock(&db->pool_lock);
	while (!db->free_readers)
		pthread_cond_wait(&db->pool_cond, &db->pool_lock);
	struct gz_conn *c = db->free_readers;
	db->free_readers = c->next_free;
	pthread_mutex_unlock(&db->pool_lock);
	return c;
}

void gz_db_reader_done(struct gz_db *db, struct gz_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&db->pool_lock);
	c->next_free = db->free_readers;
	db->free_readers = c;
	pthread_cond_signal(&db->pool_cond);
	pthread_mutex_unlock(&db->pool_lock);
}

/* ---- schema ---- */

int gz_db_latest_version(const struct gz_db *db)
{
	(void)db;
	return gz_migrations_sqlite[gz_migrations_sqlite_count - 1].version;
}

int gz_db_schema_version(struct gz_db *db, int64_t *version, struct gz_err *err)
{
	struct gz_conn *c = gz_db_reader(db);
	int64_t n = 0;
	int rc = gz_query_i64(
	    c, err, &n, "SELECT count(*) FROM sqlite_master WHERE name='schema_migrations'", "");
	*version = 0;
	if (rc == 1 && n > 0)
		rc = gz_query_i64(c, err, version,
		                  "SELECT coalesce(max(version),0) FROM schema_migrations", "");
	gz_db_reader_done(db, c);
	return rc < 0 ? -1 : 0;
}

struct migrate_ctx {
	int64_t from;
	int applied;
};

static int migrate_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct migrate_ctx *m = ctx;
	if (gz_exec_script(c,
	                   "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER "
	                   "PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
	                   err))
		return -1;
	for (size_t i = 0; i < gz_migrations_sqlite_count; i++) {
		const struct gz_migration *mg = &gz_migrations_sqlite[i];
		if (mg->version <= m->from)
			continue;
		if (gz_exec_script(c, mg->sql, err))
			return -1;
		if (gz_exec_args(c, err,
		                 "INSERT INTO schema_migrations (version, name, applied_at) "
		                 "VALUES (?, ?, ?)",
		                 "iti", (int64_t)mg->version, mg->name, gz_now_ms()))
			return -1;
		m->applied++;
	}
	return 0;
}

int gz_db_migrate(struct gz_db *db, int *applied, struct gz_err *err)
{
	struct migrate_ctx m = {0, 0};
	if (gz_db_schema_version(db, &m.from, err))
		return -1;
	if (m.from > gz_db_latest_version(db))
		return gz_fail(err, GZ_E_CONFLICT,
		               "database schema %lld is newer than this program (%d)",
		               (long long)m.from, gz_db_latest_version(db));
	int rc = gz_db_write(db, migrate_fn, &m, err);
	if (applied)
		*applied = rc ? 0 : m.applied;
	return rc;
}

int gz_db_check_schema(struct gz_db *db, struct gz_err *err)
{
	int64_t v;
	if (gz_db_schema_version(db, &v, err))
		return -1;
	int latest = gz_db_latest_version(db);
	if (v == 0)
		return gz_fail(err, GZ_E_CONFLICT,
		               "the database has no schema; run 'gongzhi init' first");
	if (v < latest)
		return gz_fail(err, GZ_E_CONFLICT,
		               "database schema %lld is older than %d; run 'gongzhi migrate'",
		               (long long)v, latest);
	if (v > latest)
		return gz_fail(err, GZ_E_CONFLICT,
		               "database schema %lld is newer than this program (%d)", (long long)v,
		               latest);
	return 0;
}

/* ---- backup / restore ---- */

int gz_db_backup(struct gz_db *db, const char *path, struct gz_err *err)
{
	if (access(path, F_OK) == 0)
		return gz_fail(err, GZ_E_CONFLICT, "%s already exists", path);
	/* VACUUM INTO copies one read transaction's snapshot: consistent while the
	 * writer goes on.  It needs a connection that may write a new file. */
	struct gz_conn *c;
	if (conn_open(db->path, SQLITE_OPEN_READWRITE, "FULL", false, &c, err))
		return -1;
	struct gz_stmt *s = gz_stmt(c, "VACUUM INTO ?", err);
	int rc = -1;
	if (s) {
		gz_bind_text(s, 1, path);
		rc = gz_step(s, err) < 0 ? -1 : 0;
		gz_stmt_done(s);
	}
	conn_close(c);
	return rc;
}

int gz_db_check_backup(const char *path, struct gz_err *err)
{
	sqlite3 *src = NULL;
	if (access(path, R_OK) != 0 ||
	    sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(src);
		return gz_fail(err, GZ_E_NOT_FOUND, "cannot open backup %s", path);
	}
	sqlite3_stmt *st = NULL;
	bool ok = sqlite3_prepare_v2(src, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
	          sqlite3_step(st) == SQLITE_ROW &&
	          strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
	sqlite3_finalize(st);
	int64_t version = 0;
	if (ok) {
		ok = sqlite3_prepare_v2(src, "SELECT max(version) FROM schema_migrations", -1, &st,
		                        NULL) == SQLITE_OK &&
		     sqlite3_step(st) == SQLITE_ROW;
		if (ok)
			version = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(src);
	if (!ok || version < 1)
		return gz_fail(err, GZ_E_VALIDATION, "%s is not a sound gongzhi backup", path);
	if (version > gz_migrations_sqlite[gz_migrations_sqlite_count - 1].version)
		return gz_fail(err, GZ_E_VALIDATION, "%s comes from a newer gongzhi (schema %lld)",
		               path, (long long)version);
	return 0;
}

int gz_db_restore(struct gz_db *db, const char *path, struct gz_err *err)
{
	if (gz_db_check_backup(path, err))
		return -1;
	sqlite3 *src = NULL;
	if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(src);
		return gz_fail(err, GZ_E_NOT_FOUND, "cannot open backup %s", path);
	}
	sqlite3_backup *b = sqlite3_backup_init(db->writer->h, "main", src, "main");
	int rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
	sqlite3_backup_finish(b);
	sqlite3_close(src);
	if (rc != SQLITE_DONE)
		return sql_fail(db->writer->h, rc, "restore", err);
	return 0;
}

int gz_db_check_integrity(struct gz_db *db, struct gz_err *err)
{
	struct gz_conn *c = gz_db_reader(db);
	struct gz_stmt *s = gz_stmt(c, "PRAGMA integrity_check", err);
	int rc = -1;
	if (s) {
		if (gz_step(s, err) == 1)
			rc = strcmp(gz_col_text(s, 0), "ok") == 0
			         ? 0
			         : gz_fail(err, GZ_E_INTERNAL, "integrity check: %s",
			                   gz_col_text(s, 0));
		gz_stmt_done(s);
	}
	gz_db_reader_done(db, c);
	return rc;
}
