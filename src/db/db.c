/* db.c - the backend-neutral half of db.h: picks the backend by the URL, forwards
 * statements to it, and runs the write queue both backends share.
 *
 * The queue: callers hand write functions to gz_db_write(); nwriters threads (one on
 * SQLite, whose file has one writer; several on PostgreSQL, where the server takes
 * concurrent transactions) each take a batch of up to batch_max queued jobs and give it
 * to the backend's run_batch, which runs the jobs in one transaction, a savepoint each
 * (group commit), and wakes their callers after the commit. */
#include "db_backend.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/util.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- forwarding ---- */

struct gz_stmt *gz_stmt(struct gz_conn *c, const char *sql, struct gz_err *err)
{
	if (c->memo)
		gz_conn_memo_note_sql(c, sql);
	return c->ops->stmt(c, sql, err);
}

void gz_stmt_done(struct gz_stmt *s)
{
	if (s)
		s->ops->stmt_done(s);
}

void gz_stmt_stream(struct gz_stmt *s)
{
	if (s->ops->stmt_stream)
		s->ops->stmt_stream(s);
}

void gz_bind_i64(struct gz_stmt *s, int i, int64_t v)
{
	s->ops->bind_i64(s, i, v);
}

void gz_bind_double(struct gz_stmt *s, int i, double v)
{
	s->ops->bind_double(s, i, v);
}

void gz_bind_text(struct gz_stmt *s, int i, const char *v)
{
	if (v)
		s->ops->bind_text(s, i, v);
	else
		s->ops->bind_null(s, i);
}

void gz_bind_blob(struct gz_stmt *s, int i, const void *p, size_t n)
{
	s->ops->bind_blob(s, i, p, n);
}

void gz_bind_null(struct gz_stmt *s, int i)
{
	s->ops->bind_null(s, i);
}

int gz_step(struct gz_stmt *s, struct gz_err *err)
{
	return s->ops->step(s, err);
}

int gz_step_deferred(struct gz_stmt *s, struct gz_err *err)
{
	if (s->ops->step_deferred)
		return s->ops->step_deferred(s, err);
	int rc;
	while ((rc = gz_step(s, err)) == 1)
		;
	return rc < 0 ? -1 : 0;
}

int gz_col_count(struct gz_stmt *s)
{
	return s->ops->col_count(s);
}

const char *gz_col_name(struct gz_stmt *s, int i)
{
	return s->ops->col_name(s, i);
}

bool gz_col_null(struct gz_stmt *s, int i)
{
	return s->ops->col_null(s, i);
}

char gz_col_type(struct gz_stmt *s, int i)
{
	return s->ops->col_type(s, i);
}

int64_t gz_col_i64(struct gz_stmt *s, int i)
{
	return s->ops->col_i64(s, i);
}

double gz_col_double(struct gz_stmt *s, int i)
{
	return s->ops->col_double(s, i);
}

const char *gz_col_text(struct gz_stmt *s, int i)
{
	return s->ops->col_text(s, i);
}

const void *gz_col_blob(struct gz_stmt *s, int i, size_t *n)
{
	return s->ops->col_blob(s, i, n);
}

int64_t gz_changes(struct gz_conn *c)
{
	return c->ops->changes(c);
}

int gz_exec_script(struct gz_conn *c, const char *sql, struct gz_err *err)
{
	if (c->memo)
		gz_conn_memo_note_sql(c, sql);
	return c->ops->exec_script(c, sql, err);
}

const char *gz_db_backend(const struct gz_db *db)
{
	return db->ops->name;
}

const char *gz_conn_backend(const struct gz_conn *c)
{
	return c->ops->name;
}

bool gz_conn_is_pg(const struct gz_conn *c)
{
	return strcmp(c->ops->name, "postgresql") == 0;
}

struct gz_conn *gz_db_reader(struct gz_db *db)
{
	return db->ops->reader(db);
}

void gz_db_reader_done(struct gz_db *db, struct gz_conn *c)
{
	if (c)
		db->ops->reader_done(db, c);
}

/* ---- several nodes ---- */

/* on a backend of one machine: a lease that is always held */
static struct gz_lease always_held;

struct gz_lease *gz_db_lease(struct gz_db *db, const char *name)
{
	return db->ops->lease ? db->ops->lease(db, name) : &always_held;
}

bool gz_db_lease_hold(struct gz_lease *l)
{
	if (!l)
		return false;
	return l == &always_held || l->ops->lease_hold(l);
}

void gz_db_lease_free(struct gz_lease *l)
{
	if (l && l != &always_held)
		l->ops->lease_free(l);
}

int gz_db_listen(struct gz_db *db, const char *channel, void (*fn)(void *ctx), void *ctx,
                 struct gz_err *err)
{
	return db->ops->listen ? db->ops->listen(db, channel, fn, ctx, err) : 0;
}

int gz_db_signal(struct gz_conn *c, const char *channel, struct gz_err *err)
{
	return c->ops->signal ? c->ops->signal(c, channel, err) : 0;
}

/* ---- conveniences ---- */

/* The type letters of gz_query_i64/gz_exec_args as an argument list, bound as one. */
static void bind_va(struct gz_stmt *s, const char *types, va_list ap)
{
	struct gz_args a = {0};
	for (int i = 0; types[i]; i++) {
		switch (types[i]) {
		case 'i':
			gz_args_i64(&a, va_arg(ap, int64_t));
			break;
		case 't':
			gz_args_text(&a, va_arg(ap, const char *));
			break;
		case 'd':
			gz_args_double(&a, va_arg(ap, double));
			break;
		case 'n': /* takes an int64 argument, ignored: "i" or "n" chosen by a flag */
			(void)va_arg(ap, int64_t);
			gz_args_null(&a);
			break;
		default:
			GZ_BUG("bad bind type '%c'", types[i]);
		}
	}
	if (a.overflow)
		GZ_BUG("more than %d bind types", GZ_ARGS_MAX);
	gz_args_bind(s, &a, 1);
}

/* sql prepared (through the memo when memo) and bound from the type letters and ap,
 * or NULL (err filled) */
static struct gz_stmt *stmt_va(struct gz_conn *c, const char *sql, const char *types, va_list ap,
                               bool memo, struct gz_err *err)
{
	struct gz_stmt *s = memo ? gz_stmt_memo(c, sql, err) : gz_stmt(c, sql, err);
	if (s)
		bind_va(s, types, ap);
	return s;
}

/* gz_query_i64's answer from the prepared s (done here) */
static int first_i64(struct gz_stmt *s, int64_t *out, struct gz_err *err)
{
	if (!s)
		return -1;
	int rc = gz_step(s, err);
	if (rc == 1 && out)
		*out = gz_col_i64(s, 0);
	gz_stmt_done(s);
	return rc;
}

int gz_query_i64(struct gz_conn *c, struct gz_err *err, int64_t *out, const char *sql,
                 const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	struct gz_stmt *s = stmt_va(c, sql, types, ap, false, err);
	va_end(ap);
	return first_i64(s, out, err);
}

int gz_query_i64_memo(struct gz_conn *c, struct gz_err *err, int64_t *out, const char *sql,
                      const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	struct gz_stmt *s = stmt_va(c, sql, types, ap, true, err);
	va_end(ap);
	return first_i64(s, out, err);
}

int gz_exec_deferred(struct gz_conn *c, struct gz_err *err, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	struct gz_stmt *s = stmt_va(c, sql, types, ap, false, err);
	va_end(ap);
	if (!s)
		return -1;
	int rc = gz_step_deferred(s, err);
	gz_stmt_done(s);
	return rc;
}

int gz_exec_args(struct gz_conn *c, struct gz_err *err, const char *sql, const char *types, ...)
{
	va_list ap;
	va_start(ap, types);
	struct gz_stmt *s = stmt_va(c, sql, types, ap, false, err);
	va_end(ap);
	if (!s)
		return -1;
	int rc;
	while ((rc = gz_step(s, err)) == 1)
		;
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
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

/* ---- the write queue ---- */

void gz_db_fail_batch(struct gz_job *batch, const struct gz_err *e)
{
	for (struct gz_job *j = batch; j; j = j->next)
		if (j->rc == 0) {
			*j->err = *e;
			j->rc = -1;
		}
}

int gz_db_run_batch_end(struct gz_db *db, struct gz_conn *c, struct gz_err *err)
{
	for (int i = 0; i < db->nbatch_end; i++)
		if (db->batch_end[i].fn(c, db->batch_end[i].ctx, err)) {
			gz_error("batch end: %s", err->message);
			return -1;
		}
	return 0;
}

void gz_db_run_on_commit(struct gz_db *db, struct gz_conn *c)
{
	for (int i = 0; i < db->non_commit; i++)
		db->on_commit[i].fn(c, db->on_commit[i].ctx);
}

struct writer_arg {
	struct gz_db *db;
	int worker;
};

static void *writer_main(void *arg)
{
	struct writer_arg wa = *(struct writer_arg *)arg;
	free(arg);
	struct gz_db *db = wa.db;
	pthread_mutex_lock(&db->q_lock);
	for (;;) {
		while (!db->q_head && !db->stopping)
			pthread_cond_wait(&db->q_cond, &db->q_lock);
		if (!db->q_head && db->stopping)
			break;
		struct gz_job *batch = db->q_head, *last = batch;
		int n = 1;
		while (last->next && n < db->opts.batch_max) {
			last = last->next;
			n++;
		}
		db->q_head = last->next;
		if (!db->q_head)
			db->q_tail = NULL;
		else
			pthread_cond_signal(&db->q_cond); /* more for another writer */
		last->next = NULL;
		pthread_mutex_unlock(&db->q_lock);

		db->ops->run_batch(db, wa.worker, batch, n);

		/* callbacks first, outside the lock (they resume connections) ... */
		struct gz_job *waiting = NULL;
		for (struct gz_job *j = batch, *next; j; j = next) {
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
		for (struct gz_job *j = waiting, *next; j; j = next) {
			next = j->next;
			j->done = true;
			pthread_cond_signal(&j->cond);
		}
	}
	pthread_mutex_unlock(&db->q_lock);
	return NULL;
}

static int enqueue(struct gz_db *db, struct gz_job *j, struct gz_err *err)
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
	struct gz_job *j = gz_xcalloc(1, sizeof(*j));
	*j = (struct gz_job){
	    .fn = fn, .ctx = ctx, .err = err, .on_done = done, .done_ctx = done_ctx};
	pthread_mutex_lock(&db->q_lock);
	int rc = enqueue(db, j, err);
	pthread_mutex_unlock(&db->q_lock);
	if (rc)
		free(j);
	return rc;
}

int gz_db_write(struct gz_db *db, gz_write_fn fn, void *ctx, struct gz_err *err)
{
	struct gz_err local;
	if (!err)
		err = &local;
	struct gz_job j = {.fn = fn, .ctx = ctx, .err = err};
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

/* ---- open / close ---- */

void gz_db_opts_default(struct gz_db_opts *o)
{
	o->read_connections = 4;
	o->batch_max = 256;
	o->synchronous = "FULL";
	o->create = false;
	o->writer = true;
}

bool gz_db_url_is_pg(const char *url)
{
	return gz_str_has_prefix(url, "postgresql:") || gz_str_has_prefix(url, "postgres:");
}

static int start_writers(struct gz_db *db, int n, struct gz_err *err)
{
	if (n > (int)(sizeof(db->writer_threads) / sizeof(db->writer_threads[0])))
		n = (int)(sizeof(db->writer_threads) / sizeof(db->writer_threads[0]));
	for (int i = 0; i < n; i++) {
		struct writer_arg *wa = gz_xcalloc(1, sizeof(*wa));
		wa->db = db;
		wa->worker = i;
		if (pthread_create(&db->writer_threads[i], NULL, writer_main, wa)) {
			free(wa);
			return gz_fail(err, GZ_E_INTERNAL, "cannot start the writer threads");
		}
		db->nwriters = i + 1;
		db->writer_running = true;
	}
	return 0;
}

int gz_db_open(const char *url, const struct gz_db_opts *o, struct gz_db **out, struct gz_err *err)
{
	struct gz_db *db = NULL;
	int rc;
	if (gz_db_url_is_pg(url)) {
		rc = gz_pgsql_open(url, o, &db, err);
	} else {
		const char *path = url;
		if (gz_str_has_prefix(url, "sqlite://"))
			path = url + 9;
		else if (gz_str_has_prefix(url, "sqlite:"))
			path = url + 7;
		if (!*path)
			return gz_fail(err, GZ_E_BAD_REQUEST, "no database path in '%s'", url);
		rc = gz_sqlite_open(path, o, &db, err);
	}
	if (rc)
		return -1;
	db->opts = *o;
	pthread_mutex_init(&db->q_lock, NULL);
	pthread_cond_init(&db->q_cond, NULL);
	if (o->writer) {
		/* one writer on either backend: SQLite's file takes one; on PostgreSQL the
		 * nodes' writers serialize on one lock (db_pgsql.c says why), and a second
		 * writer of the same node would only wait for it */
		if (start_writers(db, 1, err)) {
			gz_db_close(db);
			return -1;
		}
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
		pthread_cond_broadcast(&db->q_cond);
		pthread_mutex_unlock(&db->q_lock);
		for (int i = 0; i < db->nwriters; i++)
			pthread_join(db->writer_threads[i], NULL);
		db->writer_running = false;
	}
	pthread_mutex_destroy(&db->q_lock);
	pthread_cond_destroy(&db->q_cond);
	db->ops->close(db);
}

/* ---- schema ---- */

int gz_db_latest_version(const struct gz_db *db)
{
	return db->ops->migrations[db->ops->nmigrations - 1].version;
}

int gz_db_schema_version(struct gz_db *db, int64_t *version, struct gz_err *err)
{
	struct gz_conn *c = gz_db_reader(db);
	int64_t n = 0;
	int rc = gz_query_i64(c, err, &n, db->ops->has_migrations_sql, "");
	*version = 0;
	if (rc == 1 && n > 0)
		rc = gz_query_i64(c, err, version,
		                  "SELECT coalesce(max(version),0) FROM schema_migrations", "");
	gz_db_reader_done(db, c);
	return rc < 0 ? -1 : 0;
}

struct migrate_ctx {
	const struct gz_db_ops *ops;
	int applied;
};

static int migrate_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct migrate_ctx *m = ctx;
	m->applied = 0;
	if (m->ops->migrate_lock && m->ops->migrate_lock(c, err))
		return -1;
	if (gz_exec_script(c, m->ops->create_migrations_sql, err))
		return -1;
	/* read under the lock: another node may have migrated meanwhile */
	int64_t from = 0;
	if (gz_query_i64(c, err, &from, "SELECT coalesce(max(version),0) FROM schema_migrations",
	                 "") < 0)
		return -1;
	for (size_t i = 0; i < m->ops->nmigrations; i++) {
		const struct gz_migration *mg = &m->ops->migrations[i];
		if (mg->version <= from)
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
	int64_t from = 0;
	if (gz_db_schema_version(db, &from, err))
		return -1;
	if (from > gz_db_latest_version(db))
		return gz_fail(err, GZ_E_CONFLICT,
		               "database schema %lld is newer than this program (%d)",
		               (long long)from, gz_db_latest_version(db));
	struct migrate_ctx m = {db->ops, 0};
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
