/* t94-db-pipeline.c - the writer's memo of reference lookups (gz_stmt_memo) and its
 * deferred statements (gz_step_deferred) give the answers plain statements give, on
 * both backends (PostgreSQL when GONGZHI_TEST_PG names a server, SQLite otherwise):
 * a lookup after a write to its table sees the write, one after a failed job does not
 * see what the job wrote, and a deferred statement's error fails its own job, not the
 * next one, and leaves the others' writes alone.  Uses the db API directly, several
 * jobs queued behind a slow one so that they share one batch. */
#include "core/err.h"
#include "db/db.h"
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

static struct gz_db *db;
static char dir[64], url[512];

/* ---- jobs ---- */

static int job_script(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	return gz_exec_script(c, ctx, err);
}

/* holds the writer a while, so that the jobs queued meanwhile form one batch */
static int job_slow(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	(void)c, (void)ctx, (void)err;
	struct timespec t = {0, 300 * 1000000L};
	nanosleep(&t, NULL);
	return 0;
}

/* the kind of unit 1 through the memo, into ctx (a char[16]) */
static int memo_kind(struct gz_conn *c, char *out, struct gz_err *err)
{
	struct gz_stmt *s = gz_stmt_memo(c, "SELECT kind FROM units WHERE id = ?", err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, 1);
	int rc = gz_step(s, err);
	snprintf(out, 16, "%s", rc == 1 ? gz_col_text(s, 0) : "-");
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
}

struct look {
	char before[16], after[16];
	const char *set; /* NULL: only look */
	bool fail;       /* fail the job after writing */
};

static int job_look(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct look *l = ctx;
	if (memo_kind(c, l->before, err))
		return -1;
	if (!l->set)
		return 0;
	if (gz_exec_args(c, err, "UPDATE units SET kind = ? WHERE id = 1", "t", l->set))
		return -1;
	if (memo_kind(c, l->after, err))
		return -1;
	return l->fail ? gz_fail(err, GZ_E_VALIDATION, "refused after writing") : 0;
}

/* inserts k deferred; ctx: the key */
static int job_defer(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	return gz_exec_deferred(c, err, "INSERT INTO t (k) VALUES (?)", "i", *(int64_t *)ctx);
}

/* a deferred duplicate, then a statement that waits for its answer */
static int job_defer_then_wait(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	(void)ctx;
	if (gz_exec_deferred(c, err, "INSERT INTO t (k) VALUES (?)", "i", (int64_t)1))
		return -1;
	int64_t n = 0;
	return gz_query_i64(c, err, &n, "SELECT count(*) FROM t", "") < 0 ? -1 : 0;
}

/* ---- a batch of several jobs ---- */

struct waiter {
	pthread_mutex_t m;
	pthread_cond_t cv;
	int left;
};

struct slot {
	struct waiter *w;
	int rc;
	bool done;
	struct gz_err err;
};

static void on_done(void *ctx, int rc)
{
	struct slot *s = ctx;
	pthread_mutex_lock(&s->w->m);
	s->rc = rc;
	s->done = true;
	s->w->left--;
	pthread_cond_broadcast(&s->w->cv);
	pthread_mutex_unlock(&s->w->m);
}

/* Runs the n jobs behind a slow one and waits for all of them. */
static void batch(int n, gz_write_fn *fns, void **ctxs, struct slot *slots)
{
	struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, n + 1};
	struct slot slow = {.w = &w};
	struct gz_err e;
	assert_int_equal(gz_db_write_async(db, job_slow, NULL, &slow.err, on_done, &slow), 0);
	for (int i = 0; i < n; i++) {
		slots[i] = (struct slot){.w = &w};
		assert_int_equal(
		    gz_db_write_async(db, fns[i], ctxs[i], &slots[i].err, on_done, &slots[i]), 0);
	}
	pthread_mutex_lock(&w.m);
	while (w.left)
		pthread_cond_wait(&w.cv, &w.m);
	pthread_mutex_unlock(&w.m);
	(void)e;
}

static int64_t count(const char *sql)
{
	struct gz_conn *c = gz_db_reader(db);
	struct gz_err err;
	int64_t n = -1;
	if (gz_query_i64(c, &err, &n, sql, "") < 0)
		n = -2;
	gz_db_reader_done(db, c);
	return n;
}

/* ---- tests ---- */

static void memo_sees_writes_and_forgets_rollbacks(void **state)
{
	(void)state;
	struct gz_err err;
	assert_int_equal(
	    gz_db_write(db, job_script, "UPDATE units SET kind = 'a' WHERE id = 1", &err), 0);
	struct look l1 = {0}, l2 = {.set = "b"}, l3 = {0}, l4 = {.set = "c", .fail = true},
	            l5 = {0};
	gz_write_fn fns[] = {job_look, job_look, job_look, job_look, job_look};
	void *ctxs[] = {&l1, &l2, &l3, &l4, &l5};
	struct slot slots[5];
	batch(5, fns, ctxs, slots);
	assert_int_equal(slots[0].rc, 0);
	assert_string_equal(l1.before, "a");
	assert_int_equal(slots[1].rc, 0);
	assert_string_equal(l2.before, "a"); /* memoized by job 1: still right */
	assert_string_equal(l2.after, "b");  /* the write dropped the memo */
	assert_int_equal(slots[2].rc, 0);
	assert_string_equal(l3.before, "b");
	assert_int_equal(slots[3].rc, -1);
	assert_string_equal(slots[3].err.message, "refused after writing");
	assert_string_equal(l4.after, "c"); /* the job saw its own write … */
	assert_int_equal(slots[4].rc, 0);
	assert_string_equal(l5.before, "b"); /* … which was rolled back, memo and all */
	assert_int_equal(count("SELECT count(*) FROM units WHERE id = 1 AND kind = 'b'"), 1);
}

static void deferred_error_fails_its_own_job(void **state)
{
	(void)state;
	int64_t k1 = 1, k2 = 2, dup = 1, k3 = 3;
	gz_write_fn fns[] = {job_defer, job_defer, job_defer, job_defer};
	void *ctxs[] = {&k1, &k2, &dup, &k3};
	struct slot slots[4];
	batch(4, fns, ctxs, slots);
	assert_int_equal(slots[0].rc, 0);
	assert_int_equal(slots[1].rc, 0);
	assert_int_equal(slots[2].rc, -1);
	assert_int_equal(slots[2].err.code, GZ_E_CONFLICT);
	assert_string_equal(slots[2].err.field, "k");
	assert_int_equal(slots[3].rc, 0);
	assert_int_equal(count("SELECT count(*) FROM t"), 3);
	assert_int_equal(count("SELECT count(*) FROM t WHERE k IN (1, 2, 3)"), 3);
	/* alone in its batch, too */
	struct gz_err err;
	assert_int_equal(gz_db_write(db, job_defer, &dup, &err), -1);
	assert_int_equal(err.code, GZ_E_CONFLICT);
	int64_t k4 = 4;
	assert_int_equal(gz_db_write(db, job_defer, &k4, &err), 0);
	assert_int_equal(count("SELECT count(*) FROM t"), 4);
}

static void deferred_error_reaches_the_next_wait(void **state)
{
	(void)state;
	int64_t k5 = 5;
	gz_write_fn fns[] = {job_defer_then_wait, job_defer};
	void *ctxs[] = {NULL, &k5};
	struct slot slots[2];
	batch(2, fns, ctxs, slots);
	assert_int_equal(slots[0].rc, -1);
	assert_int_equal(slots[0].err.code, GZ_E_CONFLICT); /* not "transaction aborted" */
	assert_int_equal(slots[1].rc, 0);
	assert_int_equal(count("SELECT count(*) FROM t WHERE k = 5"), 1);
}

static int setup(void **state)
{
	(void)state;
	const char *pg = getenv("GONGZHI_TEST_PG");
	snprintf(dir, sizeof dir, "/tmp/gz-t94-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	if (pg && *pg)
		snprintf(url, sizeof url, "%st94_%d", pg, (int)getpid());
	else
		snprintf(url, sizeof url, "sqlite:%s/t.db", dir);
	struct gz_db_opts o;
	gz_db_opts_default(&o);
	o.create = true;
	struct gz_err err;
	if (gz_db_open(url, &o, &db, &err)) {
		fprintf(stderr, "open %s: %s\n", url, err.message);
		return -1;
	}
	printf("# backend %s\n", gz_db_backend(db));
	return gz_db_write(db, job_script,
	                   "CREATE TABLE units (id BIGINT PRIMARY KEY, kind TEXT NOT NULL);"
	                   "INSERT INTO units (id, kind) VALUES (1, 'a');"
	                   "CREATE TABLE t (k BIGINT, CONSTRAINT t_k UNIQUE (k))",
	                   &err);
}

static int teardown(void **state)
{
	(void)state;
	gz_db_close(db);
	const char *pg = getenv("GONGZHI_TEST_PG");
	char cmd[800];
	if (pg && *pg) {
		snprintf(cmd, sizeof cmd,
		         "psql -XAtq '%spostgres' -c 'DROP DATABASE IF EXISTS t94_%d WITH (FORCE)' "
		         ">/dev/null",
		         pg, (int)getpid());
		if (system(cmd))
			fprintf(stderr, "could not drop t94_%d\n", (int)getpid());
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(memo_sees_writes_and_forgets_rollbacks),
	    cmocka_unit_test(deferred_error_fails_its_own_job),
	    cmocka_unit_test(deferred_error_reaches_the_next_wait),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
