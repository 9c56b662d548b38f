/* db.h - the database API every layer above src/db/ uses.
 *
 * The backend (SQLite now, PostgreSQL later) is hidden: callers see opaque handles,
 * portable SQL with '?' placeholders, INSERT … RETURNING, and integer milliseconds
 * for times.  Reads borrow a connection from a pool; writes are functions handed to
 * the single writer, which runs many requests' functions in one transaction (group
 * commit), each inside its own savepoint so that one failure spoils nothing else,
 * and returns only when the transaction is durably committed.
 *
 * Errors: constraint violations map to GZ_E_CONFLICT (unique) or GZ_E_VALIDATION
 * (foreign key, check); everything else is GZ_E_INTERNAL with the detail logged. */
#ifndef GZ_DB_H
#define GZ_DB_H
#include "core/err.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gz_db;
struct gz_conn;
struct gz_stmt;

/* A result that must be looked at: a write whose failure goes unseen is a write the
 * client is told succeeded. */
#define GZ_MUST_USE __attribute__((warn_unused_result))

struct gz_db_opts {
	int read_connections;    /* pool size, >= 1 */
	int batch_max;           /* requests per group commit */
	const char *synchronous; /* "FULL" or "NORMAL" */
	bool create;             /* create the database file when missing */
	bool writer;             /* start the writer thread (false: read-only tools) */
};

void gz_db_opts_default(struct gz_db_opts *o);
/* Opens url (sqlite:/path, or a bare path).  *out is owned by the caller and released
 * with gz_db_close(). */
int gz_db_open(const char *url, const struct gz_db_opts *o, struct gz_db **out, struct gz_err *err);
/* Finishes queued writes, stops the writer, closes every connection.  NULL is a no-op. */
void gz_db_close(struct gz_db *db);
const char *gz_db_backend(const struct gz_db *db);
const char *gz_conn_backend(const struct gz_conn *c);
bool gz_conn_is_pg(const struct gz_conn *c);
/* true when url names a PostgreSQL database (postgresql://… or postgres://…) */
bool gz_db_url_is_pg(const char *url);

/* Borrows a read connection (blocks while all are in use); give it back with
 * gz_db_reader_done().  Each borrow sees the latest committed state. */
struct gz_conn *gz_db_reader(struct gz_db *db);
void gz_db_reader_done(struct gz_db *db, struct gz_conn *c);

/* A write: runs on the writer thread inside a savepoint of the batch transaction.
 * Returning -1 rolls back to the savepoint; err is then handed to the caller. */
typedef int (*gz_write_fn)(struct gz_conn *c, void *ctx, struct gz_err *err);
/* Queues fn and waits until its batch is committed (durably with synchronous=FULL).
 * Returns fn's result, or -1 when the commit itself failed. */
int gz_db_write(struct gz_db *db, gz_write_fn fn, void *ctx, struct gz_err *err);
/* Queues fn like gz_db_write but returns at once: after the batch commits, the writer
 * thread calls done(done_ctx, rc) with fn's result (or -1 when the commit failed; err
 * filled).  ctx and err must stay valid until then.  Returns -1 with err set, done
 * never called, when the database is shutting down. */
int gz_db_write_async(struct gz_db *db, gz_write_fn fn, void *ctx, struct gz_err *err,
                      void (*done)(void *done_ctx, int rc), void *done_ctx);
/* Registers fn to run on the writer once per batch, after the batch's jobs and before
 * its commit, in the same transaction: work a module folds from every job into one
 * statement (the full-text index).  A failure fails the whole batch.  Register while
 * nothing writes yet (a module's init); at most 8. */
void gz_db_on_batch_end(struct gz_db *db, gz_write_fn fn, void *ctx);
/* Registers fn to run on the writer thread after each batch in which a job succeeded
 * has committed (durably with synchronous=FULL), before the batch's callers are woken;
 * never after a failed batch.  fn gets the writer connection, outside any transaction:
 * what it reads there is committed.  It must be quick (it delays every caller of the
 * batch): a point query or two, no I/O of its own.  Register while nothing writes yet
 * (a module's init); at most 4. */
void gz_db_on_commit(struct gz_db *db, void (*fn)(struct gz_conn *c, void *ctx), void *ctx);

/* Several nodes on one database.
 *
 * A lease names a background job that must run on one node at a time (the SLA
 * scanner, the webhook deliverer).  gz_db_lease_hold() is true while this process
 * holds it, taking it when free.  On PostgreSQL it is a session advisory lock on a
 * connection of the lease's own: released when the holder dies (its connection
 * closes), then taken by the next node that asks.  On SQLite (one machine) always true. */
struct gz_lease;
struct gz_lease *gz_db_lease(struct gz_db *db, const char *name);
bool gz_db_lease_hold(struct gz_lease *l);
void gz_db_lease_free(struct gz_lease *l);
/* fn(ctx) runs on a thread of the database's after any node commits a transaction
 * that signalled channel (PostgreSQL: LISTEN/NOTIFY, the NOTIFY sent by a trigger or
 * gz_db_signal).  On SQLite nothing: one process writes, and its commit hooks see
 * every write.  Register before writes start; at most 4. */
int gz_db_listen(struct gz_db *db, const char *channel, void (*fn)(void *ctx), void *ctx,
                 struct gz_err *err);
/* Inside a write: every node's listeners of channel run once this commits. */
int gz_db_signal(struct gz_conn *c, const char *channel, struct gz_err *err) GZ_MUST_USE;

/* Statements.  gz_stmt() returns a prepared statement from the connection's cache
 * (prepared on first use), with no bindings; finish with gz_stmt_done(), which
 * resets it.  Parameters are numbered from 1, columns from 0. */
struct gz_stmt *gz_stmt(struct gz_conn *c, const char *sql, struct gz_err *err);
void gz_stmt_done(struct gz_stmt *s);
/* A statement that reads only reference tables (gz_db_memo_table(): units,
 * dict_entries, sla_rules, calendar_days, orgs), for lookups a write repeats.  Inside
 * a write on PostgreSQL, where each statement is a round trip, its rows are kept for
 * the rest of the batch's transaction (which holds the write lock, so no other node
 * changes them) and served again for the same SQL and bindings; a write to one of
 * those tables or a rollback to a job's savepoint drops them.  Elsewhere gz_stmt().
 * Up to 8 parameters, no blobs. */
struct gz_stmt *gz_stmt_memo(struct gz_conn *c, const char *sql, struct gz_err *err);
bool gz_db_memo_table(const char *table);
/* Nonzero while the connection runs a writer's transaction that keeps a memo (see
 * gz_stmt_memo); it changes whenever what the transaction wrote may have been rolled
 * back, so a value cached under one serial (the audit chain's head) holds while it
 * stays the same.  0 on SQLite and outside writes. */
uint64_t gz_conn_txn_serial(const struct gz_conn *c);
/* A hint before the first step: the rows are many and read once, in order, with no
 * other statement on the connection meanwhile (an export); PostgreSQL then fetches
 * them one at a time instead of holding the whole result.  SQLite always streams. */
void gz_stmt_stream(struct gz_stmt *s);
void gz_bind_i64(struct gz_stmt *s, int i, int64_t v);
void gz_bind_double(struct gz_stmt *s, int i, double v);
void gz_bind_text(struct gz_stmt *s, int i, const char *v); /* NULL binds NULL */
void gz_bind_blob(struct gz_stmt *s, int i, const void *p, size_t n);
void gz_bind_null(struct gz_stmt *s, int i);
/* 1 when a row is ready, 0 when done, -1 on error (err filled). */
int gz_step(struct gz_stmt *s, struct gz_err *err) GZ_MUST_USE;
/* Runs a bound statement whose rows and change count the caller will not read (an
 * insert of a timeline row, an aggregate's upsert).  Inside a write on PostgreSQL it is
 * sent down the writer's pipeline without waiting for its answer: an error it meets
 * comes back from the connection's next statement that waits, or at the latest when
 * the job ends, and fails the job all the same.  Elsewhere it runs at once.  0, or -1
 * with err. */
int gz_step_deferred(struct gz_stmt *s, struct gz_err *err) GZ_MUST_USE;
int gz_col_count(struct gz_stmt *s);
const char *gz_col_name(struct gz_stmt *s, int i);
bool gz_col_null(struct gz_stmt *s, int i);
/* The value's type: 'i' integer, 'd' real, 't' text, 'b' blob, 'n' NULL (SQLite: the
 * stored value's; PostgreSQL: the column's). */
char gz_col_type(struct gz_stmt *s, int i);
int64_t gz_col_i64(struct gz_stmt *s, int i);
double gz_col_double(struct gz_stmt *s, int i);
/* Valid until the next step or done; never NULL ("" for NULL). */
const char *gz_col_text(struct gz_stmt *s, int i);
const void *gz_col_blob(struct gz_stmt *s, int i, size_t *n);
/* Rows changed by the last statement on this connection. */
int64_t gz_changes(struct gz_conn *c);

/* Convenience: runs sql with bindings given as "i" (int64), "t" (text), "d"
 * (double), "n" (null, taking an int64 argument that is ignored) type letters, and returns the
 * first column of the first row as int64 in *out (when out != NULL).  Returns 1 row found, 0 none,
 * -1 error. */
int gz_query_i64(struct gz_conn *c, struct gz_err *err, int64_t *out, const char *sql,
                 const char *types, ...);
/* Same, through gz_stmt_memo(). */
int gz_query_i64_memo(struct gz_conn *c, struct gz_err *err, int64_t *out, const char *sql,
                      const char *types, ...);
/* Same as gz_exec_args, through gz_step_deferred(). */
int gz_exec_deferred(struct gz_conn *c, struct gz_err *err, const char *sql, const char *types,
                     ...) GZ_MUST_USE;
/* Same, running a statement that returns no rows. */
int gz_exec_args(struct gz_conn *c, struct gz_err *err, const char *sql, const char *types,
                 ...) GZ_MUST_USE;
/* Runs a script of several statements (migrations). */
int gz_exec_script(struct gz_conn *c, const char *sql, struct gz_err *err) GZ_MUST_USE;

/* A list of parameters built alongside dynamic SQL (filters, scope). Values are
 * borrowed: text must outlive the statement's execution. */
#define GZ_ARGS_MAX 128
struct gz_args {
	int n;
	bool overflow; /* more than GZ_ARGS_MAX were added: the query must be refused */
	struct {
		char type; /* 'i', 't', 'd', 'n' */
		int64_t i;
		double d;
		const char *t;
	} v[GZ_ARGS_MAX];
};
void gz_args_i64(struct gz_args *a, int64_t v);
void gz_args_text(struct gz_args *a, const char *v);
void gz_args_double(struct gz_args *a, double v);
void gz_args_null(struct gz_args *a);
/* Binds every argument from position first (1-based). */
void gz_args_bind(struct gz_stmt *s, const struct gz_args *a, int first);

/* Schema. */
int gz_db_schema_version(struct gz_db *db, int64_t *version, struct gz_err *err);
int gz_db_latest_version(const struct gz_db *db);
/* Applies pending migrations; *applied counts them. */
int gz_db_migrate(struct gz_db *db, int *applied, struct gz_err *err);
/* Fails unless the schema is at the latest version. */
int gz_db_check_schema(struct gz_db *db, struct gz_err *err);

/* Online, consistent copy to path (must not exist). */
int gz_db_backup(struct gz_db *db, const char *path, struct gz_err *err);
/* Checks that path is a sound database with a gongzhi schema this program knows. */
int gz_db_check_backup(const char *path, struct gz_err *err);
/* Replaces the database's content with the backup at path (no server running). */
int gz_db_restore(struct gz_db *db, const char *path, struct gz_err *err);
/* Integrity check: 0 when the database is sound. */
int gz_db_check_integrity(struct gz_db *db, struct gz_err *err);

#endif
