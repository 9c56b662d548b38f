/* t80-cli.c - the command line: help and usage errors, init, user add/passwd/
 * disable/enable, migrate, audit verify (and tampering), backup during writes and
 * restore.  The group's server (demo data) runs while the commands use its database;
 * the last test stops it to tamper with the audit log. */
#include "harness.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static struct srv S;
static bool stopped;
static char *admin_tok;
static int64_t u_shaliu;
static char out[65536];

static int setup(void **state)
{
	(void)state;
	static const char *const env[] = {"GONGZHI_SESSION_CACHE_SECONDS=1", NULL};
	if (srv_start(&S, env, true))
		return -1;
	admin_tok = login(&S, "admin", ADMIN_PW);
	if (!admin_tok)
		return -1;
	u_shaliu = unit_id(&S, admin_tok, "沙柳北路社区");
	return u_shaliu ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(admin_tok);
	int rc = stopped ? 0 : srv_stop(&S);
	srv_cleanup(&S);
	assert_int_equal(rc, 0);
	return 0;
}

/* ---- helpers ---- */

/* runs sql on the database at url (or an SQLite file) with the backend's shell;
 * returns the exit status, output in o */
static int sql_at(const char *url, const char *sql, char *o, size_t olen)
{
	return db_sql_url(url, o, olen, "%s", sql);
}

static int64_t count_at(const char *url, const char *table)
{
	char sql[128], o[256];
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s;", table);
	int rc = sql_at(url, sql, o, sizeof o);
	if (rc != 0)
		print_error("%s on %s: %s\n", sql, url, o);
	assert_int_equal(rc, 0);
	return strtoll(o, NULL, 10);
}

/* asserts the exit status of a command (the buffer out), printing its output on mismatch */
#define cli(expect, ...) assert_cli(&S, out, sizeof out, (expect), __VA_ARGS__)

static int64_t orgs_total(void)
{
	struct resp *r = api(&S, "GET", "/api/v1/orgs?count=true&limit=1", admin_tok, NULL, NULL);
	assert_status(r, 200);
	int64_t t = jint(r->json, "total");
	resp_free(r);
	return t;
}

static long login_status(const char *user, const char *pw)
{
	struct resp *r = login_resp(&S, user, pw);
	assert_non_null(r);
	long st = r->status;
	resp_free(r);
	return st;
}

/* ---- tests ---- */

static void cli_help_and_usage(void **state)
{
	(void)state;
	cli(0, "--help");
	assert_non_null(strstr(out, "usage"));
	assert_non_null(strstr(out, "serve"));
	assert_non_null(strstr(out, "backup"));
	cli(0, "help");
	cli(0, "serve --help");
	assert_non_null(strstr(out, "--listen"));
	cli(0, "user --help");
	assert_non_null(strstr(out, "user add"));
	/* usage errors: exit 2 */
	cli(2, "%s", "");
	cli(2, "frobnicate");
	assert_non_null(strstr(out, "frobnicate"));
	cli(2, "migrate --no-such-option 1");
	cli(2, "user");
	cli(2, "user add");
	cli(2, "user add --username climissing --password 'Good-Passw0rd'");
	cli(2, "user add --username climissing --role community_staff");
	cli(2, "user frob --username admin");
	cli(2, "user add --username clibadunit --role community_staff --unit-id abc --password "
	       "'Good-Passw0rd'");
	cli(2, "audit");
	cli(2, "audit frob");
	cli(2, "backup");
	cli(2, "backup a b");
	cli(2, "restore");
	cli(2, "init --admin-password");
	/* nothing was created by the usage errors */
	struct resp *r = api(&S, "GET", "/api/v1/users?q=climissing", admin_tok, NULL, NULL);
	if (r->status == 200)
		assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);
}

static void cli_init_twice(void **state)
{
	(void)state;
	cli(1, "init --admin-password '%s'", ADMIN_PW);
	cli(1, "init");
	/* the server's database still works, admin's password unchanged */
	char *t = login(&S, "admin", ADMIN_PW);
	assert_non_null(t);
	free(t);
	/* a fresh database: init works once */
	char db[400];
	snprintf(db, sizeof db, "%s", srv_db_url(&S, "fresh"));
	cli(0, "init --db '%s' --admin-password 'Fresh-Passw0rd-1'", db);
	cli(1, "init --db '%s' --admin-password 'Fresh-Passw0rd-1'", db);
	cli(0, "audit verify --db '%s'", db);
	cli(0, "migrate --db '%s'", db);
	/* a weak admin password */
	snprintf(db, sizeof db, "%s", srv_db_url(&S, "fresh2"));
	cli(1, "init --db '%s' --admin-password 'weak'", db);
	assert_non_null(strstr(out, "password"));
}

static void cli_user_add(void **state)
{
	(void)state;
	cli(0,
	    "user add --username cliuser1 --role community_staff --unit-id %lld --password "
	    "'Good-Passw0rd'",
	    (long long)u_shaliu);
	char *t = login(&S, "cliuser1", "Good-Passw0rd");
	assert_non_null(t);
	struct resp *r = api(&S, "GET", "/api/v1/auth/me", t, NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "username"), "cliuser1");
	assert_string_equal(jstr(r->json, "roles.0"), "community_staff");
	assert_int_equal(jint(r->json, "unit_id"), u_shaliu);
	resp_free(r);
	/* the account works with its role's permissions and scope */
	r = apif(&S, "GET", t, NULL, "/api/v1/units/%lld", (long long)u_shaliu);
	assert_status(r, 200);
	resp_free(r);
	free(t);
	/* with a display name */
	cli(0,
	    "user add --username cliuser2 --role grid_worker --unit-id %lld --display-name "
	    "'网格员测试' --password 'Good-Passw0rd'",
	    (long long)u_shaliu);
	t = login(&S, "cliuser2", "Good-Passw0rd");
	assert_non_null(t);
	r = api(&S, "GET", "/api/v1/auth/me", t, NULL, NULL);
	assert_status(r, 200);
	assert_string_equal(jstr(r->json, "display_name"), "网格员测试");
	assert_string_equal(jstr(r->json, "roles.0"), "grid_worker");
	resp_free(r);
	free(t);
}

static void cli_user_add_refused(void **state)
{
	(void)state;
	/* weak passwords: exit 1 and a message naming the policy */
	cli(1,
	    "user add --username cliweak1 --role community_staff --unit-id %lld --password 'abc'",
	    (long long)u_shaliu);
	assert_non_null(strstr(out, "password"));
	assert_non_null(strstr(out, "10"));
	cli(1,
	    "user add --username cliweak2 --role community_staff --unit-id %lld --password "
	    "'abcdefghijkl'",
	    (long long)u_shaliu);
	assert_non_null(strstr(out, "password"));
	/* an unknown role, an unknown unit, a taken username */
	cli(1, "user add --username clibad1 --role king --password 'Good-Passw0rd'");
	cli(1, "user add --username clibad2 --role community_staff --unit-id 99999999 --password "
	       "'Good-Passw0rd'");
	cli(1,
	    "user add --username jiedao --role community_staff --unit-id %lld --password "
	    "'Good-Passw0rd'",
	    (long long)u_shaliu);
	/* none of them can log in */
	static const char *const users[] = {"cliweak1", "cliweak2", "clibad1", "clibad2"};
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(login_status(users[i], "Good-Passw0rd"), 401);
	/* jiedao is unchanged */
	char *t = login(&S, "jiedao", DEMO_PW);
	assert_non_null(t);
	free(t);
}

static void cli_user_passwd(void **state)
{
	(void)state;
	cli(0,
	    "user add --username clipw --role community_staff --unit-id %lld --password "
	    "'First-Passw0rd'",
	    (long long)u_shaliu);
	char *t = login(&S, "clipw", "First-Passw0rd");
	assert_non_null(t);
	free(t);
	cli(0, "user passwd --username clipw --password 'Second-Passw0rd'");
	assert_int_equal(login_status("clipw", "First-Passw0rd"), 401);
	t = login(&S, "clipw", "Second-Passw0rd");
	assert_non_null(t);
	free(t);
	/* a weak new password, an unknown user, no password */
	cli(1, "user passwd --username clipw --password 'short'");
	assert_non_null(strstr(out, "password"));
	t = login(&S, "clipw", "Second-Passw0rd");
	assert_non_null(t);
	free(t);
	cli(1, "user passwd --username clinobody --password 'Second-Passw0rd'");
	cli(2, "user passwd --username clipw");
}

static void cli_user_disable(void **state)
{
	(void)state;
	cli(0,
	    "user add --username clidis --role community_staff --unit-id %lld --password "
	    "'Good-Passw0rd'",
	    (long long)u_shaliu);
	char *t = login(&S, "clidis", "Good-Passw0rd");
	assert_non_null(t);
	free(t);
	cli(0, "user disable --username clidis");
	/* no new session */
	long st = login_status("clidis", "Good-Passw0rd");
	if (st != 401 && st != 403)
		print_error("login of a disabled account: %ld\n", st);
	assert_true(st == 401 || st == 403);
	/* enabled again */
	cli(0, "user enable --username clidis");
	t = login(&S, "clidis", "Good-Passw0rd");
	assert_non_null(t);
	free(t);
	cli(1, "user disable --username clinobody");
	cli(1, "user enable --username clinobody");
}

/* a session opened before the account was disabled stops working */
static void cli_user_disable_ends_sessions(void **state)
{
	(void)state;
	cli(0,
	    "user add --username clidis2 --role community_staff --unit-id %lld --password "
	    "'Good-Passw0rd'",
	    (long long)u_shaliu);
	char *t = login(&S, "clidis2", "Good-Passw0rd");
	assert_non_null(t);
	struct resp *r = api(&S, "GET", "/api/v1/auth/me", t, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
	cli(0, "user disable --username clidis2");
	/* another process changed the account: the server re-reads a cached session
	 * after session_cache_seconds (1 s in this suite) */
	usleep(1200 * 1000);
	r = api(&S, "GET", "/api/v1/auth/me", t, NULL, NULL);
	bool session_ended = r->status == 401 || r->status == 403;
	if (!session_ended)
		print_error("a disabled account's session: %ld %s\n", r->status, r->body);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/units", t, NULL, NULL);
	session_ended = session_ended && (r->status == 401 || r->status == 403);
	resp_free(r);
	free(t);
	assert_true(session_ended);
}

static void cli_migrate(void **state)
{
	(void)state;
	cli(0, "migrate");
	assert_non_null(strstr(out, "0 migration(s) applied"));
	cli(0, "migrate");
	assert_non_null(strstr(out, "0 migration(s) applied"));
	/* the server is still fine */
	struct resp *r = api(&S, "GET", "/healthz", NULL, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);
}

static void cli_audit_verify(void **state)
{
	(void)state;
	cli(0, "audit verify");
	/* more entries after more writes, still holding */
	struct resp *r = api(&S, "POST", "/api/v1/orgs", admin_tok,
	                     "{\"kind\":\"ngo\",\"name\":\"审计链测试组织\"}", NULL);
	assert_status(r, 201);
	resp_free(r);
	cli(0, "audit verify");
	cli(0, "audit verify --db '%s'", S.db);
}

/* ---- backup during writes ---- */

struct writer {
	pthread_t th;
	atomic_bool stop;
	atomic_long created, failed;
	char last_error[512];
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	for (long i = 0; !atomic_load(&w->stop); i++) {
		char body[200];
		snprintf(body, sizeof body,
		         "{\"kind\":\"other\",\"name\":\"备份并发组织-%ld-%ld\"}", (long)getpid(),
		         i);
		struct resp *r = api(&S, "POST", "/api/v1/orgs", admin_tok, body, NULL);
		if (r && r->status == 201) {
			atomic_fetch_add(&w->created, 1);
		} else {
			if (atomic_fetch_add(&w->failed, 1) == 0)
				snprintf(w->last_error, sizeof w->last_error, "%ld %s",
				         r ? r->status : 0, r ? r->body : "");
		}
		resp_free(r);
	}
	return NULL;
}

static void cli_backup_during_writes(void **state)
{
	(void)state;
	if (harness_pg())
		skip(); /* backup/restore copy SQLite files; PostgreSQL has pg_dump and base backups
		         */
	enum { ROUNDS = 4 };
	struct writer w;
	memset(&w, 0, sizeof w);
	atomic_init(&w.stop, false);
	atomic_init(&w.created, 0);
	atomic_init(&w.failed, 0);
	assert_int_equal(pthread_create(&w.th, NULL, writer_main, &w), 0);
	/* let the writer get going */
	for (int i = 0; i < 200 && atomic_load(&w.created) < 5; i++)
		usleep(10000);
	int64_t before[ROUNDS], after[ROUNDS];
	char file[ROUNDS][400];
	int rcs[ROUNDS];
	char outs[ROUNDS][512];
	for (int k = 0; k < ROUNDS; k++) {
		snprintf(file[k], sizeof file[k], "%s/backup-%d.db", S.dir, k);
		before[k] = orgs_total();
		rcs[k] = run_cli(&S, outs[k], sizeof outs[k], "backup '%s'", file[k]);
		after[k] = orgs_total();
		usleep(20000);
	}
	atomic_store(&w.stop, true);
	pthread_join(w.th, NULL);
	if (atomic_load(&w.failed))
		print_error("writer: %ld failed, first: %s\n", (long)atomic_load(&w.failed),
		            w.last_error);
	assert_int_equal(atomic_load(&w.failed), 0);
	assert_true(atomic_load(&w.created) >= 5);

	for (int k = 0; k < ROUNDS; k++) {
		if (rcs[k] != 0)
			print_error("backup %d: exit %d: %s\n", k, rcs[k], outs[k]);
		assert_int_equal(rcs[k], 0);
		assert_int_equal(access(file[k], F_OK), 0);
		/* restore into a new database; its audit chain holds */
		char db[500];
		snprintf(db, sizeof db, "sqlite:%s/restored-%d.db", S.dir, k);
		cli(0, "restore --db '%s' '%s'", db, file[k]);
		cli(0, "audit verify --db '%s'", db);
		cli(0, "migrate --db '%s'", db);
		assert_non_null(strstr(out, "0 migration(s) applied"));
		int64_t n = count_at(db, "orgs");
		printf("# backup %d: %lld orgs before, %lld in the copy, %lld after\n", k,
		       (long long)before[k], (long long)n, (long long)after[k]);
		if (n < before[k] || n > after[k])
			print_error("backup %d: %lld orgs, not between %lld and %lld\n", k,
			            (long long)n, (long long)before[k], (long long)after[k]);
		assert_true(n >= before[k]);
		assert_true(n <= after[k]);
		/* every org in the copy has its audit entry */
		char o[256];
		assert_int_equal(
		    sql_at(db,
		           "SELECT count(*) FROM orgs WHERE id NOT IN (SELECT object_id FROM "
		           "audit_log WHERE object_type='org' AND action='create');",
		           o, sizeof o),
		    0);
		assert_int_equal(strtoll(o, NULL, 10), 0);
	}
	/* backup to an existing file */
	cli(1, "backup '%s'", file[0]);
	assert_non_null(strstr(out, file[0]));
	/* the live database is fine */
	cli(0, "audit verify");
}

static void cli_restore_refused(void **state)
{
	(void)state;
	if (harness_pg())
		skip(); /* restore reads SQLite backup files */
	char db[500], src[500];
	snprintf(db, sizeof db, "sqlite:%s/restore-none.db", S.dir);
	cli(1, "restore --db '%s' '%s/no-such-backup.db'", db, S.dir);
	/* not an SQLite database */
	snprintf(src, sizeof src, "%s/garbage.db", S.dir);
	FILE *f = fopen(src, "w");
	assert_non_null(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not a database ", f);
	fclose(f);
	snprintf(db, sizeof db, "sqlite:%s/restore-garbage.db", S.dir);
	cli(1, "restore --db '%s' '%s'", db, src);
	/* an SQLite database that is not a gongzhi backup */
	snprintf(src, sizeof src, "%s/other.db", S.dir);
	char o[256];
	assert_int_equal(sql_at(src, "CREATE TABLE x(a); INSERT INTO x VALUES (1);", o, sizeof o),
	                 0);
	snprintf(db, sizeof db, "sqlite:%s/restore-other.db", S.dir);
	cli(1, "restore --db '%s' '%s'", db, src);
}

/* last: stops the server */
static void cli_audit_tamper(void **state)
{
	(void)state;
	int rc = srv_stop(&S);
	stopped = true;
	assert_int_equal(rc, 0);
	cli(0, "audit verify");
	assert_true(count_at(S.db, "audit_log") > 3);
	/* the database refuses changes to the log ... */
	char o[1024];
	int st = sql_at(S.db, "UPDATE audit_log SET summary='{}' WHERE id=3;", o, sizeof o);
	assert_int_not_equal(st, 0);
	cli(0, "audit verify");
	/* ... unless the trigger is dropped */
	st = sql_at(S.db,
	            F("%s UPDATE audit_log SET summary='{}' WHERE id=3;",
	              sql_drop_trigger("audit_no_update", "audit_log")),
	            o, sizeof o);
	if (st != 0)
		print_error("%s: %s\n", S.db, o);
	assert_int_equal(st, 0);
	cli(1, "audit verify");
	const char *p = strstr(out, "entry 3");
	if (!p)
		print_error("output: %s\n", out);
	assert_non_null(p);
	assert_false(p[7] >= '0' && p[7] <= '9');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cli_help_and_usage),
	    cmocka_unit_test(cli_init_twice),
	    cmocka_unit_test(cli_user_add),
	    cmocka_unit_test(cli_user_add_refused),
	    cmocka_unit_test(cli_user_passwd),
	    cmocka_unit_test(cli_user_disable),
	    cmocka_unit_test(cli_user_disable_ends_sessions),
	    cmocka_unit_test(cli_migrate),
	    cmocka_unit_test(cli_audit_verify),
	    cmocka_unit_test(cli_backup_during_writes),
	    cmocka_unit_test(cli_restore_refused),
	    cmocka_unit_test(cli_audit_tamper),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
