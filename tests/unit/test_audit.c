/* test_audit.c - unit tests for src/auth/audit.c on a real SQLite database in a
 * temporary directory: NULL, 0 and "" are told apart in keyed entries (a NULL client
 * turned into "" and a NULL object_id turned into 0 break the chain, which the old
 * coalescing scheme could not see), an entry rolled back with its savepoint is never
 * checkpointed, the clean-close checkpoint names the last committed entry, and a
 * reopened chain holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "auth/auth.h"
#include "core/crypto.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256], url[300], keyp[300], headp[300];

static int setup(void **state)
{
	(void)state;
	if (gz_crypto_init())
		return -1;
	snprintf(dir, sizeof dir, "/tmp/gz-test-audit-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(url, sizeof url, "sqlite:%s/a.db", dir);
	snprintf(keyp, sizeof keyp, "%s/audit.key", dir);
	snprintf(headp, sizeof headp, "%s/a.db.audit-head", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct gz_db *open_db(void)
{
	struct gz_db_opts o;
	gz_db_opts_default(&o);
	o.create = true;
	struct gz_db *db;
	struct gz_err err;
	if (gz_db_open(url, &o, &db, &err))
		fail_msg("open: %s", err.message);
	int applied;
	if (gz_db_migrate(db, &applied, &err))
		fail_msg("migrate: %s", err.message);
	if (gz_audit_open(db, keyp, headp, &err))
		fail_msg("audit open: %s", err.message);
	return db;
}

static void close_db(struct gz_db *db)
{
	gz_db_close(db);
	gz_audit_close();
}

struct append {
	const char *client;
	int64_t object_id;
	bool fail; /* roll the job back after appending */
};

static int append_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct append *a = ctx;
	struct gz_audit e = {NULL, "test", "thing", a->object_id, NULL, a->client};
	if (gz_audit_append(c, &e, err))
		return -1;
	return a->fail ? gz_fail(err, GZ_E_CONFLICT, "rolled back on purpose") : 0;
}

static void append(struct gz_db *db, const char *client, int64_t object_id, bool fail)
{
	struct append a = {client, object_id, fail};
	struct gz_err err;
	int rc = gz_db_write(db, append_fn, &a, &err);
	assert_int_equal(rc, fail ? -1 : 0);
}

static int exec_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	return gz_exec_script(c, ctx, err);
}

static void tamper(struct gz_db *db, const char *sql)
{
	struct gz_err err;
	if (gz_db_write(db, exec_fn, (void *)sql, &err))
		fail_msg("tamper: %s", err.message);
}

static int64_t head_id_in_file(void)
{
	FILE *f = fopen(headp, "r");
	assert_non_null(f);
	json_t *o = json_loadf(f, 0, NULL);
	fclose(f);
	assert_non_null(o);
	int64_t id = json_integer_value(json_object_get(o, "id"));
	json_decref(o);
	return id;
}

static void verify_expect(struct gz_db *db, int rc, int64_t broken, const char *problem)
{
	struct gz_audit_report rep;
	struct gz_err err;
	int got = gz_audit_verify(db, &rep, &err);
	if (got != rc)
		fail_msg("verify: %d, expected %d: %s", got, rc, rep.message);
	assert_int_equal(rep.broken_id, broken);
	if (problem)
		assert_string_equal(rep.problem, problem);
	else
		assert_null(rep.problem);
}

static void nulls_are_not_zero_nor_empty(void **state)
{
	(void)state;
	struct gz_db *db = open_db();
	append(db, NULL, 0, false); /* 1: client NULL, object_id NULL */
	append(db, "", 7, false);   /* 2: client "" */
	append(db, "web", 0, false);
	verify_expect(db, 0, 0, NULL);
	tamper(db, "DROP TRIGGER audit_no_update; UPDATE audit_log SET client = '' WHERE id = 1");
	verify_expect(db, 1, 1, "changed");
	tamper(db, "UPDATE audit_log SET client = NULL WHERE id = 1");
	verify_expect(db, 0, 0, NULL);
	tamper(db, "UPDATE audit_log SET client = NULL WHERE id = 2");
	verify_expect(db, 1, 2, "changed");
	tamper(db, "UPDATE audit_log SET client = '' WHERE id = 2");
	tamper(db, "UPDATE audit_log SET object_id = 0 WHERE id = 3");
	verify_expect(db, 1, 3, "changed");
	tamper(db, "UPDATE audit_log SET object_id = NULL WHERE id = 3");
	verify_expect(db, 0, 0, NULL);
	close_db(db);
	assert_int_equal(head_id_in_file(), 3);
}

static void rolled_back_entries_are_not_checkpointed(void **state)
{
	(void)state;
	struct gz_db *db = open_db();
	verify_expect(db, 0, 0, NULL); /* reopened: the chain and its head hold */
	append(db, "web", 1, false);   /* 4 */
	append(db, "web", 2, true);    /* rolled back: 5 never exists */
	close_db(db);
	assert_int_equal(head_id_in_file(), 4);
	db = open_db();
	verify_expect(db, 0, 0, NULL);
	append(db, "web", 3, false); /* the next entry is 5 again */
	close_db(db);
	assert_int_equal(head_id_in_file(), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(nulls_are_not_zero_nor_empty),
	    cmocka_unit_test(rolled_back_entries_are_not_checkpointed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
