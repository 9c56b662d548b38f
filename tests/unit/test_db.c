/* test_db.c - the backend-neutral parts of src/db/: PostgreSQL's placeholders from the
 * SQL both backends share (SQLite's numbering of bare and numbered '?', nothing inside
 * quotes, identifiers or comments), and the write queue and statement API on SQLite
 * (binds of every type read back with their types, a job's failure rolled back alone
 * within its batch). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db/db_backend.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void expect_rewrite(const char *in, const char *out, int n)
{
	int got = -1;
	char *s = gz_pgsql_placeholders(in, &got);
	if (strcmp(s, out) || got != n)
		print_error("%s -> %s (%d), expected %s (%d)\n", in, s, got, out, n);
	assert_string_equal(s, out);
	assert_int_equal(got, n);
	free(s);
}

static void placeholders(void **state)
{
	(void)state;
	expect_rewrite("SELECT 1", "SELECT 1", 0);
	expect_rewrite("SELECT ? + ?", "SELECT $1 + $2", 2);
	expect_rewrite("SELECT ?1, ?1, ?2", "SELECT $1, $1, $2", 2);
	/* a bare ? after ?N is one more than the largest so far, as in SQLite */
	expect_rewrite("SELECT ?3, ?", "SELECT $3, $4", 4);
	expect_rewrite("SELECT ?2, ?1, ?", "SELECT $2, $1, $3", 3);
	/* never inside literals, identifiers or comments */
	expect_rewrite("SELECT '?', 'it''s ?', ? -- what?\n, \"a?\"",
	               "SELECT '?', 'it''s ?', $1 -- what?\n, \"a?\"", 1);
	expect_rewrite("WHERE t LIKE ? ESCAPE '\\'", "WHERE t LIKE $1 ESCAPE '\\'", 1);
	expect_rewrite("SELECT ?12", "SELECT $12", 12);
}

static char dir[256];

static int ins(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	const int *k = ctx;
	if (gz_exec_args(c, err, "INSERT INTO t (k) VALUES (?)", "i", (int64_t)*k))
		return -1;
	return *k == 2 ? gz_fail(err, GZ_E_VALIDATION, "two is refused") : 0;
}

static void sqlite_types_and_batches(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/gz-test-db-XXXXXX");
	assert_non_null(mkdtemp(dir));
	char url[300];
	snprintf(url, sizeof url, "sqlite:%s/d.db", dir);
	struct gz_db_opts o;
	gz_db_opts_default(&o);
	o.create = true;
	struct gz_db *db;
	struct gz_err err;
	assert_int_equal(gz_db_open(url, &o, &db, &err), 0);
	assert_string_equal(gz_db_backend(db), "sqlite");
	assert_int_equal(gz_db_write(db, (gz_write_fn)(void *)gz_exec_script,
	                             "CREATE TABLE t (k INTEGER UNIQUE)", &err),
	                 0);
	int k1 = 1, k2 = 2, k3 = 3;
	assert_int_equal(gz_db_write(db, ins, &k1, &err), 0);
	assert_int_equal(gz_db_write(db, ins, &k2, &err), -1);
	assert_string_equal(err.message, "two is refused");
	assert_int_equal(gz_db_write(db, ins, &k3, &err), 0);
	assert_int_equal(gz_db_write(db, ins, &k1, &err), -1);
	assert_int_equal(err.code, GZ_E_CONFLICT);
	assert_string_equal(err.field, "k");
	struct gz_conn *c = gz_db_reader(db);
	int64_t n = 0;
	assert_int_equal(gz_query_i64(c, &err, &n, "SELECT count(*) FROM t WHERE k <> 2", ""), 1);
	assert_int_equal(n, 2);
	int64_t two = 0;
	assert_int_equal(gz_query_i64(c, &err, &two, "SELECT count(*) FROM t WHERE k = 2", ""), 1);
	assert_int_equal(two, 0); /* the failed job's insert was rolled back */
	struct gz_stmt *s = gz_stmt(c, "SELECT ?, ?, ?, ?, ?", &err);
	assert_non_null(s);
	gz_bind_i64(s, 1, 42);
	gz_bind_double(s, 2, 2.5);
	gz_bind_text(s, 3, "共治");
	gz_bind_blob(s, 4, "\0x", 2);
	gz_bind_null(s, 5);
	assert_int_equal(gz_step(s, &err), 1);
	assert_int_equal(gz_col_type(s, 0), 'i');
	assert_int_equal(gz_col_i64(s, 0), 42);
	assert_int_equal(gz_col_type(s, 1), 'd');
	assert_true(gz_col_double(s, 1) == 2.5);
	assert_int_equal(gz_col_type(s, 2), 't');
	assert_string_equal(gz_col_text(s, 2), "共治");
	assert_int_equal(gz_col_type(s, 3), 'b');
	size_t len = 0;
	const char *b = gz_col_blob(s, 3, &len);
	assert_int_equal(len, 2);
	assert_int_equal(b[1], 'x');
	assert_int_equal(gz_col_type(s, 4), 'n');
	assert_true(gz_col_null(s, 4));
	gz_stmt_done(s);
	gz_db_reader_done(db, c);
	/* one machine: a lease is always held, listening and signals do nothing */
	struct gz_lease *l = gz_db_lease(db, "x");
	assert_true(gz_db_lease_hold(l));
	gz_db_lease_free(l);
	gz_db_close(db);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(placeholders),
	    cmocka_unit_test(sqlite_types_and_batches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
