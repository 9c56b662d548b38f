/* db_sqlite.c - the SQLite backend of db.h.
 *
 * One writer connection owned by db.c's one writer thread, which takes the queued write
 * jobs and runs them in one BEGIN IMMEDIATE … COMMIT with a savepoint each (group
 * commit), and wakes their callers after the commit.  Checkpoints run on a thread and
 * connection of their own, so that copying the WAL into the database and its fsync
 * never hold up a commit.  A pool of read connections
 * (query_only) serves reads.  Every connection keeps its prepared statements in a
 * small cache keyed by SQL text.  Nothing SQLite-specific leaves this file. */
#include "db_backend.h"
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

#define ST(s) ((struct sq_stmt *)(s))
#define CN(c) ((struct sq_conn *)(c))

/* statements cached per connection: a set-associative table, PROBE slots a set */
enum { CACHE_SLOTS = 512, PROBE = 4 };

struct sq_stmt {
	struct gz_stmt base;
	sqlite3_stmt *st;
	struct sq_conn *conn;
	char *sql;
	bool cached, in_use;
};

struct sq_conn {
	struct gz_conn base;
	sqlite3 *h;
	struct sq_stmt cache[CACHE_SLOTS];
	struct sq_conn *next_free;
};

struct sq_db {
	struct gz_db base;
	char *path;
	struct sq_conn *writer;
	int nreaders;
	struct sq_conn *free_readers;
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_cond;

	/* the checkpointer: woken by the writer's WAL hook */
	struct sq_conn *ckpt_conn;
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
                     struct sq_conn **out, struct gz_err *err)
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
	struct sq_conn *c = gz_xcalloc(1, sizeof(*c));
	c->h = h;
	*out = c;
	return 0;
}

static void conn_close(struct sq_conn *c)
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

static struct gz_stmt *sq_stmt_get(struct gz_conn *gc, const char *sql, struct gz_err *err)
{
	struct sq_conn *c = (struct sq_conn *)gc;
	uint32_t h = hash_str(sql) % CACHE_SLOTS & ~(uint32_t)(PROBE - 1);
	struct sq_stmt *slot = NULL;
	for (uint32_t k = 0; k < PROBE; k++) {
		struct sq_stmt *cand = &c->cache[h + k];
		if (cand->st && !cand->in_use && strcmp(cand->sql, sql) == 0) {
			cand->in_use = true;
			return &cand->base;
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
		slot->base.ops = c->base.ops;
		return &slot->base;
	}
	struct sq_stmt *s = gz_xcalloc(1, sizeof(*s));
	s->base.ops = c->base.ops;
	s->st = st;
	s->conn = c;
	return &s->base;
}

static void sq_stmt_done(struct gz_stmt *gs)
{
	struct sq_stmt *s = (struct sq_stmt *)gs;
	if (s->cached) {
		sqlite3_reset(s->st);
		sqlite3_clear_bindings(s->st);
		s->in_use = false;
		return;
	}
	sqlite3_finalize(s->st);
	free(s);
}

static void sq_bind_i64(struct gz_stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(ST(s)->st, i, v);
}

static void sq_bind_double(struct gz_stmt *s, int i, double v)
{
	sqlite3_bind_double(ST(s)->st, i, v);
}

static void sq_bind_text(struct gz_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(ST(s)->st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(ST(s)->st, i);
}

static void sq_bind_blob(struct gz_stmt *s, int i, const void *p, size_t n)
{
	sqlite3_bind_blob64(ST(s)->st, i, p, n, SQLITE_TRANSIENT);
}

static void sq_bind_null(struct gz_stmt *s, int i)
{
	sqlite3_bind_null(ST(s)->st, i);
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

static int sq_step(struct gz_stmt *gs, struct gz_err *err)
{
	struct sq_stmt *s = ST(gs);
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

static int sq_col_count(struct gz_stmt *s)
{
	return sqlite3_column_count(ST(s)->st);
}

static const char *sq_col_name(struct gz_stmt *s, int i)
{
	return sqlite3_column_name(ST(s)->st, i);
}

static bool sq_col_null(struct gz_stmt *s, int i)
{
	return sqlite3_column_type(ST(s)->st, i) == SQLITE_NULL;
}

static char sq_col_type(struct gz_stmt *s, int i)
{
	switch (sqlite3_column_type(ST(s)->st, i)) {
	case SQLITE_INTEGER:
		return 'i';
	case SQLITE_FLOAT:
		return 'd';
	case SQLITE_TEXT:
		return 't';
	case SQLITE_BLOB:
		return 'b';
	default:
		return 'n';
	}
}

static int64_t sq_col_i64(struct gz_stmt *s, int i)
{
	return sqlite3_column_int64(ST(s)->st, i);
}

static double sq_col_double(struct gz_stmt *s, int i)
{
	return sqlite3_column_double(ST(s)->st, i);
}

static const char *sq_col_text(struct gz_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(ST(s)->st, i);
	return t ? (const char *)t : "";
}

static const void *sq_col_blob(struct gz_stmt *s, int i, size_t *n)
{
	const void *p = sqlite3_column_blob(ST(s)->st, i);
	*n = (size_t)sqlite3_column_bytes(ST(s)->st, i);
	return p;
}

static int64_t sq_changes(struct gz_conn *c)
{
	return sqlite3_changes64(CN(c)->h);
}

static int sq_exec_script(struct gz_conn *gc, const char *sql, struct gz_err *err)
{
	struct sq_conn *c = CN(gc);
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

/* ---- the writer ---- */

/* One statement without parameters through the statement cache: the writer runs
 * SAVEPOINT/RELEASE for every job, and parsing them each time shows in profiles. */
static int raw(struct sq_conn *c, const char *sql, struct gz_err *e)
{
	struct gz_stmt *s = gz_stmt(&c->base, sql, e);
	if (!s)
		return -1;
	int rc = gz_step(s, e);
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
}

/* The transaction is gone (SQLite rolls it back on SQLITE_FULL, IOERR or NOMEM, and
 * a failed SAVEPOINT, ROLLBACK TO or RELEASE leaves it in no known state): every job
 * of the batch fails, those already run and those not yet run alike, so that no
 * client is told "failed" for a write that committed, and no later job runs in
 * autocommit. */
static void abort_batch(struct sq_conn *w, struct gz_job *batch, const struct gz_err *e)
{
	if (!sqlite3_get_autocommit(w->h))
		sqlite3_exec(w->h, "ROLLBACK", NULL, NULL, NULL);
	struct gz_err why = *e;
	if (why.code != GZ_E_STORAGE) /* the detail is in the log */
		gz_fail(&why, GZ_E_INTERNAL, "internal error");
	gz_db_fail_batch(batch, &why);
}

static void sq_run_batch(struct gz_db *gdb, int worker, struct gz_job *batch, int n)
{
	(void)worker; /* one writer */
	struct sq_db *db = (struct sq_db *)gdb;
	struct sq_conn *w = db->writer;
	struct gz_err e;
	gz_err_clear(&e);
	if (sq_exec_script(&w->base, "BEGIN IMMEDIATE", &e)) {
		gz_db_fail_batch(batch, &e); /* no job has run: rc is still 0 for all */
		return;
	}
	bool any = false;
	for (struct gz_job *j = batch; j; j = j->next) {
		if (raw(w, "SAVEPOINT job", &e)) {
			abort_batch(w, batch, &e);
			gz_metrics_commit_batch(n);
			return;
		}
		j->rc = j->fn(&w->base, j->ctx, j->err);
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
	int end = any ? gz_db_run_batch_end(gdb, &w->base, &e) : 0;
	if (end || sq_exec_script(&w->base, "COMMIT", &e))
		abort_batch(w, batch, &e);
	else if (any)
		gz_db_run_on_commit(gdb, &w->base);
	gz_metrics_commit_batch(n);
}

/* ---- the checkpointer ---- */

static int wal_hook(void *arg, sqlite3 *h, const char *name, int frames)
{
	(void)h;
	(void)name;
	struct sq_db *db = arg;
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
	struct sq_db *db = arg;
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

static int ckpt_start(struct sq_db *db, struct gz_err *err)
{
	if (conn_open(db->path, SQLITE_OPEN_READWRITE, db->base.opts.synchronous, false,
	              &db->ckpt_conn, err))
		return -1;
	if (pthread_create(&db->ckpt_thread, NULL, ckpt_main, db))
		return gz_fail(err, GZ_E_INTERNAL, "cannot start the checkpoint thread");
	db->ckpt_running = true;
	/* the writer no longer checkpoints itself; its commits wake the thread */
	sqlite3_wal_autocheckpoint(db->writer->h, 0);
	sqlite3_wal_hook(db->writer->h, wal_hook, db);
	return 0;
}

static void ckpt_stop(struct sq_db *db)
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

static void sq_close(struct gz_db *gdb);
static struct gz_conn *sq_reader(struct gz_db *gdb);
static void sq_reader_done(struct gz_db *gdb, struct gz_conn *c);

static const struct gz_db_ops sqlite_ops = {
    .name = "sqlite",
    .migrations = gz_migrations_sqlite,
    .nmigrations = 0, /* set in gz_sqlite_open: the count is not a constant expression */
    .has_migrations_sql = "SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'",
    .create_migrations_sql = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER "
                             "PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    .close = sq_close,
    .reader = sq_reader,
    .reader_done = sq_reader_done,
    .run_batch = sq_run_batch,
    .stmt = sq_stmt_get,
    .stmt_done = sq_stmt_done,
    .bind_i64 = sq_bind_i64,
    .bind_double = sq_bind_double,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .col_count = sq_col_count,
    .col_name = sq_col_name,
    .col_null = sq_col_null,
    .col_type = sq_col_type,
    .col_i64 = sq_col_i64,
    .col_double = sq_col_double,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .changes = sq_changes,
    .exec_script = sq_exec_script,
};

static struct gz_db_ops ops_with_count;
static pthread_once_t ops_once = PTHREAD_ONCE_INIT;

static void ops_init(void)
{
	ops_with_count = sqlite_ops;
	ops_with_count.nmigrations = gz_migrations_sqlite_count;
}

static bool is_sqlite(const struct gz_db *db)
{
	return db->ops == &ops_with_count;
}

static int conn_new(struct sq_db *db, int flags, bool readonly, struct sq_conn **out,
                    struct gz_err *err)
{
	if (conn_open(db->path, flags, db->base.opts.synchronous, readonly, out, err))
		return -1;
	(*out)->base.ops = db->base.ops;
	return 0;
}

int gz_sqlite_open(const char *path, const struct gz_db_opts *o, struct gz_db **out,
                   struct gz_err *err)
{
	pthread_once(&ops_once, ops_init);
	if (strcmp(o->synchronous, "FULL") && strcmp(o->synchronous, "NORMAL"))
		return gz_fail(err, GZ_E_BAD_REQUEST, "synchronous must be FULL or NORMAL");
	if (!o->create && access(path, F_OK) != 0)
		return gz_fail(err, GZ_E_NOT_FOUND,
		               "no database at %s (create one with 'gongzhi init')", path);
	struct sq_db *db = gz_xcalloc(1, sizeof(*db));
	db->base.ops = &ops_with_count;
	db->base.opts = *o;
	db->path = gz_xstrdup(path);
	pthread_mutex_init(&db->pool_lock, NULL);
	pthread_cond_init(&db->pool_cond, NULL);
	pthread_mutex_init(&db->ckpt_lock, NULL);
	pthread_cond_init(&db->ckpt_cond, NULL);
	int flags = SQLITE_OPEN_READWRITE | (o->create ? SQLITE_OPEN_CREATE : 0);
	if (conn_new(db, flags, false, &db->writer, err)) {
		sq_close(&db->base);
		return -1;
	}
	int n = o->read_connections > 0 ? o->read_connections : 1;
	for (int i = 0; i < n; i++) {
		struct sq_conn *c = NULL;
		if (conn_new(db, SQLITE_OPEN_READWRITE, true, &c, err)) {
			sq_close(&db->base);
			return -1;
		}
		c->next_free = db->free_readers;
		db->free_readers = c;
		db->nreaders++;
	}
	if (o->writer && ckpt_start(db, err)) {
		sq_close(&db->base);
		return -1;
	}
	*out = &db->base;
	return 0;
}

static void sq_close(struct gz_db *gdb)
{
	struct sq_db *db = (struct sq_db *)gdb;
	ckpt_stop(db);
	while (db->free_readers) {
		struct sq_conn *c = db->free_readers;
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
	pthread_mutex_destroy(&db->ckpt_lock);
	pthread_cond_destroy(&db->ckpt_cond);
	free(db->path);
	free(db);
}

static struct gz_conn *sq_reader(struct gz_db *gdb)
{
	struct sq_db *db = (struct sq_db *)gdb;
	pthread_mutex_lock(&db->pool_lock);
	while (!db->free_readers)
		pthread_cond_wait(&db->pool_cond, &db->pool_lock);
	struct sq_conn *c = db->free_readers;
	db->free_readers = c->next_free;
	pthread_mutex_unlock(&db->pool_lock);
	return &c->base;
}

static void sq_reader_done(struct gz_db *gdb, struct gz_conn *gc)
{
	struct sq_db *db = (struct sq_db *)gdb;
	struct sq_conn *c = CN(gc);
	pthread_mutex_lock(&db->pool_lock);
	c->next_free = db->free_readers;
	db->free_readers = c;
	pthread_cond_signal(&db->pool_cond);
	pthread_mutex_unlock(&db->pool_lock);
}

static int not_sqlite(struct gz_err *err, const char *what)
{
	return gz_fail(err, GZ_E_BAD_REQUEST,
	               "%s works on SQLite databases; on PostgreSQL use pg_dump, pg_restore or "
	               "a base backup (see docs/deploy.md)",
	               what);
}

/* ---- backup / restore ---- */

int gz_db_backup(struct gz_db *gdb, const char *path, struct gz_err *err)
{
	if (!is_sqlite(gdb))
		return not_sqlite(err, "backup");
	struct sq_db *db = (struct sq_db *)gdb;
	if (access(path, F_OK) == 0)
		return gz_fail(err, GZ_E_CONFLICT, "%s already exists", path);
	/* VACUUM INTO copies one read transaction's snapshot: consistent while the
	 * writer goes on.  It needs a connection that may write a new file. */
	struct sq_conn *c;
	if (conn_open(db->path, SQLITE_OPEN_READWRITE, "FULL", false, &c, err))
		return -1;
	c->base.ops = gdb->ops;
	struct gz_stmt *s = gz_stmt(&c->base, "VACUUM INTO ?", err);
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

int gz_db_restore(struct gz_db *gdb, const char *path, struct gz_err *err)
{
	if (!is_sqlite(gdb))
		return not_sqlite(err, "restore");
	struct sq_db *db = (struct sq_db *)gdb;
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
	if (!is_sqlite(db))
		return 0; /* PostgreSQL checks its pages itself (data_checksums) */
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
