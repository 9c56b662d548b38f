/* test_audit.c - unit tests for src/auth/audit.c on a real SQLite database in a
 * temporary directory: NULL, 0 and "" are told apart in keyed entries (a NULL client
 * turned into "" and a NULL object_id turned into 0 break the chain, which the old
 * coalescing scheme could not see), an entry rolled back with its savepoint is never
 * checkpointed, the clean-close checkpoint names the last committed entry, a reopened
 * chain holds, and a log written under the old unkeyed scheme is sealed by a keyed
 * audit_rekey entry on first open, after which rewriting the old prefix is detected. */
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

static struct gz_db *open_db_url(const char *u, const char *head, bool audit)
{
	struct gz_db_opts o;
	gz_db_opts_default(&o);
	o.create = true;
	struct gz_db *db;
	struct gz_err err;
	if (gz_db_open(u, &o, &db, &err))
		fail_msg("open: %s", err.message);
	int applied;
	if (gz_db_migrate(db, &applied, &err))
		fail_msg("migrate: %s", err.message);
	if (audit && gz_audit_open(db, keyp, head, &err))
		fail_msg("audit open: %s", err.message);
	return db;
}

static struct gz_db *open_db(void)
{
	return open_db_url(url, headp, true);
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

/* Waits (at most 5 s) until the checkpoint thread has written the head at id: it
 * writes at most once a second, after the commit, on a thread of its own. */
static void wait_head(int64_t id)
{
	for (int i = 0; i < 500; i++) {
		FILE *f = fopen(headp, "r");
		json_t *o = f ? json_loadf(f, 0, NULL) : NULL;
		if (f)
			fclose(f);
		int64_t at = o ? json_integer_value(json_object_get(o, "id")) : 0;
		json_decref(o);
		if (at == id)
			return;
		usleep(10000);
	}
	fail_msg("the head file never reached entry %lld", (long long)id);
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
	wait_head(3);
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

/* writes n entries the way gongzhi did before migration 4: plain SHA-256 over
 * newline-separated fields, NULL ids as 0, scheme 1 */
struct legacy {
	int n;
	const char *action;
};

static int legacy_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	const struct legacy *l = ctx;
	char prev[GZ_SHA256_HEX] =
	    "0000000000000000000000000000000000000000000000000000000000000000";
	if (gz_exec_script(c, "DROP TRIGGER audit_keyed_only", err))
		return -1;
	for (int id = 1; id <= l->n; id++) {
		char msg[512], h[GZ_SHA256_HEX];
		int64_t at = 1700000000000 + id;
		snprintf(msg, sizeof msg, "%s\n%d\n%lld\n0\nsystem\n%s\nthing\n%d\n{}\nweb", prev,
		         id, (long long)at, l->action, id);
		gz_sha256_hex(msg, strlen(msg), h);
		if (gz_exec_args(
		        c, err,
		        "INSERT INTO audit_log (id, at, actor_id, actor, action, object_type, "
		        "object_id, summary, client, prev_hash, hash, scheme) VALUES (?, ?, "
		        "NULL, 'system', ?, 'thing', ?, '{}', 'web', ?, ?, 1)",
		        "iititt", (int64_t)id, at, l->action, (int64_t)id, prev, h))
			return -1;
		memcpy(prev, h, sizeof prev);
	}
	return gz_exec_script(c,
	                      "CREATE TRIGGER audit_keyed_only BEFORE INSERT ON audit_log WHEN "
	                      "NEW.scheme <> 2 BEGIN SELECT RAISE(ABORT, 'keyed only'); END",
	                      err);
}

static void old_entries_are_sealed(void **state)
{
	(void)state;
	char u[320], head[320];
	snprintf(u, sizeof u, "sqlite:%s/old.db", dir);
	snprintf(head, sizeof head, "%s/old.db.audit-head", dir);
	struct gz_db *db = open_db_url(u, head, false);
	struct legacy l = {5, "old"};
	struct gz_err err;
	assert_int_equal(gz_db_write(db, legacy_fn, &l, &err), 0);
	gz_db_close(db);
	/* the first open seals them with a keyed entry and checkpoints it */
	db = open_db_url(u, head, true);
	struct gz_audit_report rep;
	assert_int_equal(gz_audit_verify(db, &rep, &err), 0);
	assert_int_equal(rep.checked, 6);
	assert_int_equal(rep.legacy, 5);
	struct gz_conn *c = gz_db_reader(db);
	int64_t seal = 0;
	assert_int_equal(gz_query_i64(c, &err, &seal,
	                              "SELECT id FROM audit_log WHERE action = 'audit_rekey' AND "
	                              "scheme = 2 AND object_id = 5",
	                              ""),
	                 1);
	gz_db_reader_done(db, c);
	assert_int_equal(seal, 6);
	/* a second open does not seal again; the head names the seal */
	close_db(db);
	db = open_db_url(u, head, true);
	assert_int_equal(gz_audit_verify(db, &rep, &err), 0);
	assert_int_equal(rep.checked, 6);
	assert_true(rep.has_head);
	assert_int_equal(rep.head.id, 6);
	/* the old prefix put back as it was still holds ... */
	static const char del[] = "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; "
	                          "DELETE FROM audit_log WHERE id <= 5";
	assert_int_equal(gz_db_write(db, exec_fn, (void *)del, &err), 0);
	assert_int_equal(gz_db_write(db, legacy_fn, &l, &err), 0);
	verify_expect(db, 0, 0, NULL);
	/* ... but rewritten with recomputed plain hashes, the keyed seal no longer links */
	assert_int_equal(gz_db_write(db, exec_fn, (void *)(del + 60), &err), 0);
	l.action = "forged";
	assert_int_equal(gz_db_write(db, legacy_fn, &l, &err), 0);
	verify_expect(db, 1, 6, "link");
	close_db(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(nulls_are_not_zero_nor_empty),
	    cmocka_unit_test(rolled_back_entries_are_not_checkpointed),
	    cmocka_unit_test(old_entries_are_sealed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
