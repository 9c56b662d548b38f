/* db_backend.h - what a database backend gives db.c (internal to src/db/).
 *
 * db.c owns the public API of db.h: it picks the backend by the URL, forwards each
 * call through the backend's table of operations, and runs the write queue that both
 * backends share (jobs, group commit batches, the batch-end and commit hooks).  A
 * backend supplies connections, statements and the running of one batch. */
#ifndef GZ_DB_BACKEND_H
#define GZ_DB_BACKEND_H
#include "db.h"
#include "migrations.h"
#include <pthread.h>

struct gz_db_ops;

/* The first member of every backend's database, connection and statement. */
struct gz_db {
	const struct gz_db_ops *ops;
	struct gz_db_opts opts;

	/* the write queue: nwriters threads take batches of up to batch_max jobs */
	pthread_mutex_t q_lock;
	pthread_cond_t q_cond;
	struct gz_job *q_head, *q_tail;
	bool stopping, writer_running;
	int nwriters;
	pthread_t writer_threads[16];
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
};

struct gz_memo;

struct gz_conn {
	const struct gz_db_ops *ops;
	/* a writer's transaction (db_memo.c): nonzero while one runs on a backend that
	 * keeps a memo of reference lookups; changes at each rollback to a savepoint */
	uint64_t serial;
	struct gz_memo *memo;
};

struct gz_stmt {
	const struct gz_db_ops *ops;
};

struct gz_lease {
	const struct gz_db_ops *ops; /* NULL: always held */
};

struct gz_job {
	gz_write_fn fn;
	void *ctx;
	struct gz_err *err;
	int rc;
	bool done;
	pthread_cond_t cond; /* a waiting caller (gz_db_write) */
	/* or a callback (gz_db_write_async); the job is then the writer's to free */
	void (*on_done)(void *done_ctx, int rc);
	void *done_ctx;
	struct gz_job *next;
};

struct gz_db_ops {
	const char *name; /* "sqlite", "postgresql" */
	const struct gz_migration *migrations;
	size_t nmigrations;
	/* one row, one column, 1 when the schema_migrations table exists */
	const char *has_migrations_sql;
	const char *create_migrations_sql;

	void (*close)(struct gz_db *db); /* after the writers have stopped */
	struct gz_conn *(*reader)(struct gz_db *db);
	void (*reader_done)(struct gz_db *db, struct gz_conn *c);
	/* runs one batch on writer thread number worker (0 .. nwriters-1) */
	void (*run_batch)(struct gz_db *db, int worker, struct gz_job *batch, int n);
	/* migrations run under this lock (several nodes may start at once); may be NULL */
	int (*migrate_lock)(struct gz_conn *c, struct gz_err *err);

	struct gz_stmt *(*stmt)(struct gz_conn *c, const char *sql, struct gz_err *err);
	void (*stmt_done)(struct gz_stmt *s);
	void (*stmt_stream)(struct gz_stmt *s);
	void (*bind_i64)(struct gz_stmt *s, int i, int64_t v);
	void (*bind_double)(struct gz_stmt *s, int i, double v);
	void (*bind_text)(struct gz_stmt *s, int i, const char *v);
	void (*bind_blob)(struct gz_stmt *s, int i, const void *p, size_t n);
	void (*bind_null)(struct gz_stmt *s, int i);
	int (*step)(struct gz_stmt *s, struct gz_err *err);
	/* runs s, whose answer nobody reads, possibly without waiting (may be NULL) */
	int (*step_deferred)(struct gz_stmt *s, struct gz_err *err);
	int (*col_count)(struct gz_stmt *s);
	const char *(*col_name)(struct gz_stmt *s, int i);
	bool (*col_null)(struct gz_stmt *s, int i);
	char (*col_type)(struct gz_stmt *s, int i);
	int64_t (*col_i64)(struct gz_stmt *s, int i);
	double (*col_double)(struct gz_stmt *s, int i);
	const char *(*col_text)(struct gz_stmt *s, int i);
	const void *(*col_blob)(struct gz_stmt *s, int i, size_t *n);
	int64_t (*changes)(struct gz_conn *c);
	int (*exec_script)(struct gz_conn *c, const char *sql, struct gz_err *err);

	/* several nodes (NULL on a backend of one machine) */
	struct gz_lease *(*lease)(struct gz_db *db, const char *name);
	bool (*lease_hold)(struct gz_lease *l);
	void (*lease_free)(struct gz_lease *l);
	int (*listen)(struct gz_db *db, const char *channel, void (*fn)(void *ctx), void *ctx,
	              struct gz_err *err);
	int (*signal)(struct gz_conn *c, const char *channel, struct gz_err *err);
};

/* The backends' constructors: fill *out (which begins with struct gz_db) with its ops
 * and options; db.c then starts the writers. */
int gz_sqlite_open(const char *path, const struct gz_db_opts *o, struct gz_db **out,
                   struct gz_err *err);
int gz_pgsql_open(const char *url, const struct gz_db_opts *o, struct gz_db **out,
                  struct gz_err *err);

/* PostgreSQL: '?' and '?N' outside quotes and comments as $N (SQLite's numbering: a
 * bare '?' is one more than the largest before it); *nparams gets the largest.  The
 * caller frees. */
char *gz_pgsql_placeholders(const char *sql, int *nparams);

/* The writer's memo (db_memo.c), for backends with a round trip per statement: call
 * gz_conn_txn_begin() once the batch's transaction holds the write lock and after every
 * rollback to a savepoint, gz_conn_txn_end() when the transaction ends either way. */
void gz_conn_txn_begin(struct gz_conn *c);
void gz_conn_txn_end(struct gz_conn *c);
/* Called by gz_stmt() with every statement while a memo is kept: a write to a
 * reference table drops it. */
void gz_conn_memo_note_sql(struct gz_conn *c, const char *sql);

/* For run_batch: the hooks db.c keeps. */
int gz_db_run_batch_end(struct gz_db *db, struct gz_conn *c, struct gz_err *err);
void gz_db_run_on_commit(struct gz_db *db, struct gz_conn *c);
/* Every job of the batch that had succeeded gets e (the batch failed as a whole). */
void gz_db_fail_batch(struct gz_job *batch, const struct gz_err *e);

#endif
