/* t85-audit.c - the audit log endpoints: GET /api/v1/audit (admin only, filters,
 * keyset paging, newest first) and GET /api/v1/audit/verify; then the anchored chain:
 * the head checkpoint follows committed writes, and with the server stopped the
 * database's shell (sqlite3 or psql: db_sql()) does what an attacker with the database
 * can do (drop the append-only
 * triggers, delete the last entries, rewrite a suffix recomputing plain SHA-256 hashes,
 * turn a NULL actor_id into 0) and `gongzhi audit verify` must exit 1 naming the entry;
 * the head file and the key are lost, forged and replaced; exports verify with the key.
 * Each tampering test starts from a copy of the untouched database and head (a file
 * copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL: db_copy()). */
#include "harness.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct srv S;
static char *admin_tok, *shequ_tok;
static bool running = true;
static char out[65536];

static int setup(void **state)
{
	(void)state;
	if (srv_start(&S, NULL, true))
		return -1;
	admin_tok = login(&S, "admin", ADMIN_PW);
	shequ_tok = login(&S, "shequ", DEMO_PW);
	return admin_tok && shequ_tok ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(admin_tok);
	free(shequ_tok);
	int rc = running ? srv_stop(&S) : 0;
	srv_cleanup(&S);
	assert_int_equal(rc, 0);
	return 0;
}

static void lists_newest_first_with_filters(void **state)
{
	(void)state;
	struct resp *r =
	    api(&S, "GET", "/api/v1/audit?action=login&actor=shequ", admin_tok, NULL, NULL);
	assert_int_equal(r->status, 200);
	json_t *items = jpath(r->json, "items");
	assert_true(json_array_size(items) >= 1);
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		assert_string_equal(jstr(it, "action"), "login");
		assert_string_equal(jstr(it, "actor"), "shequ");
		assert_true(strstr(jstr(it, "at"), "+08:00") != NULL);
	}
	resp_free(r);
	/* a write shows up with its summary */
	r = api(&S, "POST", "/api/v1/orgs", admin_tok,
	        "{\"kind\":\"ngo\",\"name\":\"审计测试组织\"}", NULL);
	assert_int_equal(r->status, 201);
	int64_t org = jint(r->json, "id");
	resp_free(r);
	r = apif(&S, "GET", admin_tok, NULL, "/api/v1/audit?object_type=org&object_id=%lld",
	         (long long)org);
	assert_int_equal(r->status, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 1);
	assert_string_equal(jstr(r->json, "items.0.action"), "create");
	assert_string_equal(jstr(r->json, "items.0.summary.name"), "审计测试组织");
	resp_free(r);
}

static void pages_without_overlap(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/audit?limit=3", admin_tok, NULL, NULL);
	assert_int_equal(r->status, 200);
	int64_t first_page_last = jint(r->json, "items.2.id");
	int64_t first = jint(r->json, "items.0.id");
	assert_true(first > first_page_last);
	char cursor[64];
	snprintf(cursor, sizeof(cursor), "%s", jstr(r->json, "next_cursor"));
	resp_free(r);
	assert_true(cursor[0] == 'c');
	r = apif(&S, "GET", admin_tok, NULL, "/api/v1/audit?limit=3&cursor=%s", cursor);
	assert_int_equal(r->status, 200);
	assert_true(jint(r->json, "items.0.id") < first_page_last);
	resp_free(r);
}

static void admin_only_and_bad_input(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/audit", shequ_tok, NULL, NULL);
	assert_int_equal(r->status, 403);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/audit", NULL, NULL, NULL);
	assert_int_equal(r->status, 401);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/audit?bogus=1", admin_tok, NULL, NULL);
	assert_int_equal(r->status, 400);
	assert_string_equal(err_code(r), "unknown_field");
	assert_string_equal(err_field(r), "bogus");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/audit?from=yesterday", admin_tok, NULL, NULL);
	assert_int_equal(r->status, 400);
	assert_string_equal(err_field(r), "from");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/audit?limit=0", admin_tok, NULL, NULL);
	assert_int_equal(r->status, 400);
	assert_string_equal(err_field(r), "limit");
	resp_free(r);
}

static void verify_holds(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/audit/verify", admin_tok, NULL, NULL);
	assert_int_equal(r->status, 200);
	assert_true(json_is_true(jpath(r->json, "holds")));
	assert_true(jint(r->json, "checked") > 10);
	assert_true(json_is_null(jpath(r->json, "broken_id")));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/audit/verify", shequ_tok, NULL, NULL);
	assert_int_equal(r->status, 403);
	resp_free(r);
}

/* ---- the anchored chain ---- */

/* The head checkpoint: named after the database file on SQLite; on PostgreSQL the one
 * .audit-head file the server wrote into its data directory. */
static const char *head_file(void)
{
	if (!harness_pg())
		return F("%s/t.db.audit-head", S.data);
	char o[1024] = "";
	sh(o, sizeof o, "ls -1 '%s'/*.audit-head 2>/dev/null | head -1", S.data);
	o[strcspn(o, "\n")] = 0;
	return o[0] ? F("%s", o) : F("%s/audit.audit-head", S.data);
}

static const char *key_file(void)
{
	return F("%s/audit.key", S.data);
}

/* the database's shell on the server's database, the statements read from a file (so
 * that no shell quoting gets in the way); asserts success */
static void sql_(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void sql_(const char *file, int line, const char *fmt, ...)
{
	char q[16384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q, sizeof q, fmt, ap);
	va_end(ap);
	char o[4096];
	int st = db_sql(&S, o, sizeof o, "%s", q);
	if (st != 0)
		print_error("%s:%d: %s: %s\n", file, line, q, o);
	assert_int_equal(st, 0);
}
#define sql(...) sql_(__FILE__, __LINE__, __VA_ARGS__)
#define DROP_NO_UPDATE sql_drop_trigger("audit_no_update", "audit_log")
#define DROP_NO_DELETE sql_drop_trigger("audit_no_delete", "audit_log")

/* s as an SQL string literal's content ('' for '); one of 4 rotating buffers */
static const char *sql_quote(const char *s)
{
	static char buf[4][8192];
	static int k;
	char *o = buf[k++ % 4];
	size_t n = 0;
	for (; *s && n < sizeof buf[0] - 2; s++) {
		if (*s == '\'')
			o[n++] = '\'';
		o[n++] = *s;
	}
	o[n] = 0;
	return o;
}

#define sql_int(q) db_int(&S, "%s", (q))

/* asserts the exit status of a command (the buffer out), printing its output on mismatch */
#define cli(expect, ...) assert_cli(&S, out, sizeof out, (expect), __VA_ARGS__)

/* asserts that out names entry id as the broken one ("at entry 12:", not "entry 123") */
static void names_entry(int64_t id)
{
	const char *want = F("broken at entry %lld:", (long long)id);
	if (!strstr(out, want))
		print_error("expected '%s' in:\n%s\n", want, out);
	assert_non_null(strstr(out, want));
}

static void cp(const char *from, const char *to)
{
	char o[1024];
	int st = sh(o, sizeof o, "cp -p '%s' '%s' 2>&1", from, to);
	if (st)
		print_error("cp: %s\n", o);
	assert_int_equal(st, 0);
}

/* Stops the server (once) and puts back the untouched database, head and key saved at
 * the first stop. */
static void stopped_untouched(void)
{
	static bool saved;
	if (running) {
		assert_int_equal(srv_stop(&S), 0);
		running = false;
	}
	static char orig[400];
	if (!saved) {
		snprintf(orig, sizeof orig, "%s", srv_db_url(&S, "orig"));
		assert_int_equal(db_copy(S.db, orig), 0);
		cp(head_file(), F("%s/orig.head", S.dir));
		cp(key_file(), F("%s/orig.key", S.dir));
		saved = true;
	}
	assert_int_equal(db_copy(orig, S.db), 0);
	cp(F("%s/orig.head", S.dir), head_file());
	cp(F("%s/orig.key", S.dir), key_file());
}

/* a new admin session (the database was put back: earlier sessions are gone) */
static void relogin(void)
{
	char *t = login(&S, "admin", ADMIN_PW);
	assert_non_null(t);
	free(admin_tok);
	admin_tok = t;
}

static struct resp *verify_api(void)
{
	struct resp *r = api(&S, "GET", "/api/v1/audit/verify", admin_tok, NULL, NULL);
	assert_status(r, 200);
	return r;
}

/* ---- the login log, the operation log, total and the exports ---- */

static bool is_login_action(const char *a)
{
	static const char *const login[] = {"login",
	                                    "login_failed",
	                                    "login_locked",
	                                    "login_totp_failed",
	                                    "logout",
	                                    "totp_enrol",
	                                    "totp_enabled",
	                                    "totp_disabled",
	                                    "totp_reset",
	                                    "totp_recovery_used",
	                                    NULL};
	for (const char *const *l = login; *l; l++)
		if (strcmp(*l, a) == 0)
			return true;
	return false;
}

/* Every entry of GET /api/v1/audit?query walked page by page (limit 7): the count,
 * and whether each entry is a sign-in event as kind expects (-1: no check). */
static int64_t walk(const char *query, int login)
{
	int64_t n = 0;
	char cursor[64] = "";
	for (int pages = 0; pages < 1000; pages++) {
		struct resp *r = apif(&S, "GET", admin_tok, NULL, "/api/v1/audit?limit=7&%s%s%s",
		                      query, cursor[0] ? "&cursor=" : "", cursor);
		assert_status(r, 200);
		size_t i;
		json_t *it;
		json_array_foreach(jpath(r->json, "items"), i, it)
		{
			if (login >= 0)
				assert_int_equal(is_login_action(jstr(it, "action")), login);
			n++;
		}
		const char *next = jstr(r->json, "next_cursor");
		snprintf(cursor, sizeof cursor, "%s", next);
		resp_free(r);
		if (!cursor[0])
			break;
	}
	return n;
}

/* "to=<now>": the entries written so far (the SLA scanner may add more meanwhile) */
static const char *until_now(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	time_t secs = tv.tv_sec;
	char stamp[32];
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", gmtime(&secs));
	msleep(5);
	return F("to=%s.%03d%%2B00:00", stamp, (int)(tv.tv_usec / 1000));
}

static void login_and_operation_logs(void **state)
{
	(void)state;
	/* a failure, a lockout-free success and a sign-out to find in the login log */
	struct resp *r = login_resp(&S, "shequ", "not-the-password");
	assert_status(r, 401);
	resp_free(r);
	char *t = login(&S, "shequ2", DEMO_PW);
	assert_non_null(t);
	r = api(&S, "POST", "/api/v1/auth/logout", t, NULL, NULL);
	assert_status(r, 204);
	resp_free(r);
	free(t);

	char until[96];
	snprintf(until, sizeof until, "%s", until_now());
	int64_t all = walk(until, -1), logins = walk(F("kind=login&%s", until), 1),
	        ops = walk(F("kind=operation&%s", until), 0);
	assert_true(logins >= 3);
	assert_true(ops >= 1);
	assert_int_equal(logins + ops, all);
	/* total: the same filters as the items, whatever the page */
	assert_int_equal(total_count(&S, admin_tok, "/api/v1/audit", F("kind=login&%s", until)),
	                 logins);
	assert_int_equal(total_count(&S, admin_tok, "/api/v1/audit", F("kind=operation&%s", until)),
	                 ops);
	assert_int_equal(total_count(&S, admin_tok, "/api/v1/audit", until), all);
	assert_int_equal(
	    total_count(&S, admin_tok, "/api/v1/audit", "kind=login&actor=shequ2&action=logout"),
	    1);
	/* without count=true there is no total */
	r = api(&S, "GET", "/api/v1/audit?kind=login&limit=2", admin_tok, NULL, NULL);
	assert_status(r, 200);
	assert_null(jpath(r->json, "total"));
	assert_int_equal(json_array_size(jpath(r->json, "items")), 2);
	resp_free(r);
	/* a date range is whole Shanghai days, the end date included: today's entries */
	char today[16];
	time_t now = time(NULL) + 8 * 3600;
	strftime(today, sizeof today, "%Y-%m-%d", gmtime(&now));
	assert_int_equal(total_count(&S, admin_tok, "/api/v1/audit",
	                             F("kind=login&actor=shequ2&from=%s&to=%s", today, today)),
	                 total_count(&S, admin_tok, "/api/v1/audit", "kind=login&actor=shequ2"));
	assert_int_equal(total_count(&S, admin_tok, "/api/v1/audit",
	                             F("kind=login&actor=shequ2&to=%s", "2020-01-01")),
	                 0);

	r = api(&S, "GET", "/api/v1/audit?kind=sessions", admin_tok, NULL, NULL);
	assert_error(r, 400, "validation_failed", "kind");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/audit?count=maybe", admin_tok, NULL, NULL);
	assert_error(r, 400, "validation_failed", "count");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/audit/export.csv?colour=red", admin_tok, NULL, NULL);
	assert_error(r, 400, "unknown_field", "colour");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/audit/export.xlsx?kind=x", admin_tok, NULL, NULL);
	assert_error(r, 400, "validation_failed", "kind");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/audit/export.csv", shequ_tok, NULL, NULL);
	assert_error(r, 403, "forbidden", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/audit/export.xlsx", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
}

static void exports_of_the_logs(void **state)
{
	(void)state;
	int64_t logins = total_count(&S, admin_tok, "/api/v1/audit", "kind=login");
	/* CSV: BOM, Chinese header, one line per entry, Chinese action names */
	struct resp *r =
	    api(&S, "GET", "/api/v1/audit/export.csv?kind=login", admin_tok, NULL, NULL);
	assert_status(r, 200);
	assert_true(contains(resp_header(r, "Content-Type"), "text/csv"));
	assert_true(contains(resp_header(r, "Content-Disposition"), "login-log.csv"));
	static const char head_csv[] = "\xEF\xBB\xBF编号,时间,操作人,操作人编号,操作,";
	assert_true(strncmp(r->body, head_csv, sizeof head_csv - 1) == 0);
	int lines = 0;
	for (const char *p = r->body; (p = strstr(p, "\r\n")); p += 2)
		lines++;
	assert_int_equal(lines - 1, logins);
	assert_true(contains(r->body, ",登录失败（密码错误）,会话,"));
	assert_true(contains(r->body, ",退出登录,"));
	assert_false(contains(r->body, ",新增,"));
	resp_free(r);

	/* Excel: the same rows, times as Excel dates, ids as numbers */
	json_t *rows = xlsx_get(&S, admin_tok, "/api/v1/audit/export.xlsx?kind=login");
	assert_int_equal((int64_t)json_array_size(rows), logins + 1);
	json_t *head = json_array_get(rows, 0);
	assert_string_equal(jstr(head, "A"), "编号");
	assert_string_equal(jstr(head, "E"), "操作");
	size_t i;
	json_t *row;
	int failed = 0;
	json_array_foreach(rows, i, row)
	{
		if (i == 0)
			continue;
		assert_true(json_is_number(json_object_get(row, "A")));
		assert_true(strncmp(jstr(row, "B"), "date:4", 6) == 0); /* a serial past 1990 */
		failed += strcmp(jstr(row, "E"), "登录失败（密码错误）") == 0;
		assert_string_not_equal(jstr(row, "E"), "新增");
	}
	assert_true(failed >= 1);
	json_decref(rows);

	/* the operation log: no sign-in among its rows, and its own name */
	char until[96];
	snprintf(until, sizeof until, "%s", until_now());
	int64_t ops = total_count(&S, admin_tok, "/api/v1/audit", F("kind=operation&%s", until));
	rows = xlsx_get(&S, admin_tok, F("/api/v1/audit/export.xlsx?kind=operation&%s", until));
	assert_int_equal((int64_t)json_array_size(rows), ops + 1);
	json_array_foreach(rows, i, row)
	{
		assert_string_not_equal(jstr(row, "E"), "登录");
		assert_string_not_equal(jstr(row, "E"), "退出登录");
	}
	json_decref(rows);
	r = apif(&S, "GET", admin_tok, NULL,
	         "/api/v1/audit/export.csv?kind=operation&action=create&%s", until);
	assert_status(r, 200);
	assert_true(contains(resp_header(r, "Content-Disposition"), "operation-log.csv"));
	lines = 0;
	for (const char *p = r->body; (p = strstr(p, "\r\n")); p += 2)
		lines++;
	assert_int_equal(lines - 1, total_count(&S, admin_tok, "/api/v1/audit",
	                                        F("kind=operation&action=create&%s", until)));
	resp_free(r);
}

static void key_and_head_files(void **state)
{
	(void)state;
	struct stat st;
	assert_int_equal(stat(key_file(), &st), 0);
	assert_int_equal(st.st_size, 32);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(head_file(), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	struct resp *r = verify_api();
	assert_true(json_is_true(jpath(r->json, "holds")));
	assert_true(json_is_null(jpath(r->json, "problem")));
	assert_true(json_is_null(jpath(r->json, "message")));
	assert_int_equal(jint(r->json, "legacy"), 0);
	assert_int_equal(jint(r->json, "last_id"), jint(r->json, "checked"));
	assert_true(json_is_object(jpath(r->json, "head")));
	assert_int_equal(strlen(jstr(r->json, "head.hash")), 64);
	assert_int_equal(jint(r->json, "unanchored"),
	                 jint(r->json, "last_id") - jint(r->json, "head.id"));
	resp_free(r);
}

/* a committed write is checkpointed soon (at most once a second), with a log line */
static void checkpoint_follows_commits(void **state)
{
	(void)state;
	int64_t org =
	    post_id(&S, admin_tok, "/api/v1/orgs", "{\"kind\":\"ngo\",\"name\":\"锚点测试组织\"}");
	assert_true(org > 0);
	int64_t last = 0, head = -1;
	for (int i = 0; i < 80 && head != last; i++) {
		struct resp *r = verify_api();
		assert_true(json_is_true(jpath(r->json, "holds")));
		last = jint(r->json, "last_id");
		head = jint(r->json, "head.id");
		resp_free(r);
		if (head != last)
			msleep(100);
	}
	assert_int_equal(head, last);
	/* the head file's entry is the org's create entry or later */
	assert_true(head >= sql_int(F("SELECT id FROM audit_log WHERE object_type='org' AND "
	                              "object_id=%lld AND action='create';",
	                              (long long)org)));
	char o[512];
	assert_int_equal(sh(o, sizeof o,
	                    "grep -c '\"event\":\"audit_checkpoint\",\"id\":%lld,' '%s'",
	                    (long long)head, S.log),
	                 0);
	assert_true(strtoll(o, NULL, 10) >= 1);
}

static void untouched_holds_after_restart(void **state)
{
	(void)state;
	stopped_untouched();
	cli(0, "audit verify");
	assert_non_null(strstr(out, "audit chain holds"));
	/* a clean shutdown checkpointed the last entry */
	assert_non_null(strstr(out, ", 0 entries after it not yet anchored"));
	assert_int_equal(srv_restart(&S, NULL), 0);
	running = true;
	/* a new session works and its entries chain on (the login was audited) */
	relogin();
	struct resp *r = verify_api();
	assert_true(json_is_true(jpath(r->json, "holds")));
	resp_free(r);
	assert_int_equal(srv_stop(&S), 0);
	running = false;
	cli(0, "audit verify");
	assert_non_null(strstr(out, ", 0 entries after it not yet anchored"));
}

static void truncated_tail(void **state)
{
	(void)state;
	stopped_untouched();
	int64_t last = sql_int("SELECT max(id) FROM audit_log;");
	assert_true(last > 10);
	/* the triggers stop a plain DELETE */
	char o[1024];
	assert_int_not_equal(
	    db_sql(&S, o, sizeof o,
	           "DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log);"),
	    0);
	sql("%s DELETE FROM audit_log WHERE id > %lld;", DROP_NO_DELETE, (long long)last - 3);
	cli(1, "audit verify");
	names_entry(last - 2);
	assert_non_null(strstr(out, "removed"));
	/* the whole log gone but the head says otherwise */
	sql("DELETE FROM audit_log;");
	cli(1, "audit verify");
	names_entry(1);
}

/* the legacy message: what a plain SHA-256 chain hashes (the scheme before 0004) */
static void plain_hash(json_t *row, const char *prev, char hex[65])
{
	const char *path = F("%s/msg.bin", S.dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	json_t *client = jpath(row, "client");
	fprintf(f, "%s\n%lld\n%lld\n%lld\n%s\n%s\n%s\n%lld\n%s\n%s", prev,
	        (long long)jint(row, "id"), (long long)jint(row, "at"),
	        (long long)jint(row, "actor_id"), jstr(row, "actor"), jstr(row, "action"),
	        jstr(row, "object_type"), (long long)jint(row, "object_id"), jstr(row, "summary"),
	        json_is_string(client) ? json_string_value(client) : "");
	fclose(f);
	char o[256];
	assert_int_equal(sh(o, sizeof o, "sha256sum '%s'", path), 0);
	memcpy(hex, o, 64);
	hex[64] = 0;
}

/* Rewrites the last n entries: the first one's summary changes, every hash recomputed as
 * plain SHA-256 (the attacker has no key); scheme is set to new_scheme (0: kept). */
static int64_t rewrite_suffix(int n, int new_scheme)
{
	int64_t last = sql_int("SELECT max(id) FROM audit_log;");
	int64_t first = last - n + 1;
	char o[65536];
	int st;
	if (harness_pg())
		st = db_sql(
		    &S, o, sizeof o,
		    "SELECT json_agg(json_build_object('id', id, 'at', at, 'actor_id', "
		    "actor_id, 'actor', actor, 'action', action, 'object_type', object_type, "
		    "'object_id', object_id, 'summary', summary, 'client', client, "
		    "'prev_hash', prev_hash) ORDER BY id) FROM audit_log WHERE id >= %lld",
		    (long long)first);
	else
		st = sh(
		    o, sizeof o,
		    "sqlite3 -json '%s' \"SELECT id, at, actor_id, actor, action, object_type, "
		    "object_id, summary, client, prev_hash FROM audit_log WHERE id >= %lld ORDER "
		    "BY id\"",
		    S.db + strlen("sqlite:"), (long long)first);
	if (st != 0)
		print_error("the audit rows: %s\n", o);
	assert_int_equal(st, 0);
	json_t *rows = json_loads(o, 0, NULL);
	assert_int_equal(json_array_size(rows), n);
	sql("%s", DROP_NO_UPDATE);
	char prev[65];
	snprintf(prev, sizeof prev, "%s", jstr(json_array_get(rows, 0), "prev_hash"));
	for (int i = 0; i < n; i++) {
		json_t *row = json_array_get(rows, (size_t)i);
		if (i == 0)
			json_object_set_new(row, "summary", json_string("{\"forged\":true}"));
		char h[65];
		plain_hash(row, prev, h);
		sql("UPDATE audit_log SET summary = '%s', prev_hash = '%s', hash = '%s'%s WHERE id "
		    "= "
		    "%lld;",
		    sql_quote(jstr(row, "summary")), prev, h,
		    new_scheme ? F(", scheme = %d", new_scheme) : "", (long long)jint(row, "id"));
		memcpy(prev, h, sizeof prev);
	}
	json_decref(rows);
	return first;
}

static void rewritten_suffix(void **state)
{
	(void)state;
	stopped_untouched();
	int64_t first = rewrite_suffix(4, 0);
	cli(1, "audit verify");
	names_entry(first);
	assert_non_null(strstr(out, "audit key"));
	/* passing the rewritten entries off as the old unkeyed scheme does not help */
	stopped_untouched();
	first = rewrite_suffix(4, 1);
	cli(1, "audit verify");
	names_entry(first);
	assert_non_null(strstr(out, "unkeyed scheme after keyed"));
	/* nor does rewriting the whole log as unkeyed: the head is then not in it */
	stopped_untouched();
	int64_t last = sql_int("SELECT max(id) FROM audit_log;");
	rewrite_suffix((int)last, 1);
	cli(1, "audit verify");
	names_entry(last);
	assert_non_null(strstr(out, "checkpointed"));
}

static void null_to_zero(void **state)
{
	(void)state;
	stopped_untouched();
	int64_t id = sql_int("SELECT max(id) FROM audit_log WHERE actor_id IS NULL;");
	assert_true(id > 0);
	sql("%s UPDATE audit_log SET actor_id = 0 WHERE id = %lld;", DROP_NO_UPDATE, (long long)id);
	cli(1, "audit verify");
	names_entry(id);
	/* the same for object_id (a NULL client against '' is in tests/unit/test_audit.c) */
	stopped_untouched();
	id = sql_int("SELECT max(id) FROM audit_log WHERE object_id IS NULL;");
	assert_true(id > 0);
	sql("%s UPDATE audit_log SET object_id = 0 WHERE id = %lld;", DROP_NO_UPDATE,
	    (long long)id);
	cli(1, "audit verify");
	names_entry(id);
}

static void gap_in_the_middle(void **state)
{
	(void)state;
	stopped_untouched();
	sql("%s DELETE FROM audit_log WHERE id = 5;", DROP_NO_DELETE);
	cli(1, "audit verify");
	names_entry(6);
	assert_non_null(strstr(out, "missing"));
}

static void head_lost_or_forged(void **state)
{
	(void)state;
	stopped_untouched();
	assert_int_equal(unlink(head_file()), 0);
	cli(1, "audit verify");
	assert_non_null(strstr(out, "audit chain broken"));
	assert_non_null(strstr(out, "missing"));
	/* a head file moved back to an earlier entry (the id changed, the MAC kept) */
	stopped_untouched();
	char o[1024];
	assert_int_equal(sh(o, sizeof o, "sed -i 's/\"id\":[0-9]*,/\"id\":3,/' '%s'", head_file()),
	                 0);
	cli(1, "audit verify");
	assert_non_null(strstr(out, "not authentic"));
	/* the server does not write over a head that does not match */
	assert_int_equal(srv_restart(&S, NULL), 0);
	running = true;
	relogin();
	struct resp *r = verify_api();
	assert_true(json_is_false(jpath(r->json, "holds")));
	assert_string_equal(jstr(r->json, "problem"), "head_forged");
	assert_true(json_is_null(jpath(r->json, "broken_id")));
	resp_free(r);
	post_id(&S, admin_tok, "/api/v1/orgs", "{\"kind\":\"ngo\",\"name\":\"伪造锚点后组织\"}");
	msleep(400);
	assert_int_equal(srv_stop(&S), 0);
	running = false;
	cli(1, "audit verify");
	assert_non_null(strstr(out, "not authentic"));
}

static void key_lost_or_replaced(void **state)
{
	(void)state;
	stopped_untouched();
	assert_int_equal(unlink(key_file()), 0);
	cli(1, "audit verify");
	assert_non_null(strstr(out, "audit key"));
	assert_non_null(strstr(out, "missing"));
	/* not silently replaced by a new key */
	assert_int_not_equal(access(key_file(), F_OK), 0);
	/* another key: the first keyed entry no longer verifies */
	char o[256];
	assert_int_equal(sh(o, sizeof o, "head -c 32 /dev/urandom > '%s' && chmod 600 '%s'",
	                    key_file(), key_file()),
	                 0);
	cli(1, "audit verify");
	names_entry(1);
	assert_non_null(strstr(out, "audit key"));
}

static void anchor_after_investigation(void **state)
{
	(void)state;
	stopped_untouched();
	int64_t last = sql_int("SELECT max(id) FROM audit_log;");
	sql("%s DELETE FROM audit_log WHERE id > %lld;", DROP_NO_DELETE, (long long)last - 2);
	cli(1, "audit verify");
	/* the operator re-anchors: logged with the old head */
	cli(0, "audit anchor");
	assert_non_null(strstr(out, "audit_reanchor"));
	assert_non_null(strstr(out, F("\"old_id\":%lld", (long long)last)));
	cli(0, "audit verify");
	/* a broken chain is not anchored */
	stopped_untouched();
	sql("%s UPDATE audit_log SET summary = '{}' WHERE id = 4;", DROP_NO_UPDATE);
	cli(1, "audit anchor");
	names_entry(4);
}

static void export_period(void **state)
{
	(void)state;
	stopped_untouched();
	const char *file = F("%s/export.jsonl", S.dir);
	cli(0, "audit export --from 2000-01-01 --to 2100-01-01 --out '%s'", file);
	int64_t last = sql_int("SELECT max(id) FROM audit_log;");
	assert_non_null(strstr(out, F("exported %lld audit entries", (long long)last)));
	cli(0, "audit verify --export '%s'", file);
	assert_non_null(strstr(out, "audit export holds"));
	assert_non_null(strstr(out, "authentic"));
	/* not over an existing file */
	cli(1, "audit export --from 2000-01-01 --to 2100-01-01 --out '%s'", file);
	/* a period in the middle: the entry before it comes along, the slice verifies */
	int64_t mid_at = sql_int("SELECT at FROM audit_log WHERE id = 10;");
	int64_t end_at =
	    sql_int(F("SELECT at FROM audit_log WHERE id = %lld;", (long long)last - 2));
	const char *part = F("%s/part.jsonl", S.dir);
	char from[64], to[64];
	/* times as UTC ISO-8601 from the stored milliseconds */
	char o[256];
	assert_int_equal(sh(o, sizeof o, "date -u -d @%lld.%03lld +%%Y-%%m-%%dT%%H:%%M:%%S.%%3NZ",
	                    (long long)(mid_at / 1000), (long long)(mid_at % 1000)),
	                 0);
	snprintf(from, sizeof from, "%.24s", o);
	assert_int_equal(sh(o, sizeof o, "date -u -d @%lld.%03lld +%%Y-%%m-%%dT%%H:%%M:%%S.%%3NZ",
	                    (long long)(end_at / 1000), (long long)(end_at % 1000)),
	                 0);
	snprintf(to, sizeof to, "%.24s", o);
	cli(0, "audit export --from '%s' --to '%s' --out '%s'", from, to, part);
	cli(0, "audit verify --export '%s'", part);
	FILE *f = fopen(part, "r");
	assert_non_null(f);
	char line[65536];
	assert_non_null(fgets(line, sizeof line, f));
	json_t *hdr = json_loads(line, 0, NULL);
	fclose(f);
	assert_non_null(hdr);
	int64_t before = jint(hdr, "before.id");
	assert_true(before > 0 && before < 10);
	assert_int_equal(jint(hdr, "first_id"), before + 1);
	assert_true(json_is_true(jpath(hdr, "chain.holds")));
	assert_int_equal(jint(hdr, "head.id"), last);
	json_decref(hdr);
	/* a changed line in the export is found */
	assert_int_equal(
	    sh(o, sizeof o,
	       "sed -i '3s/\"action\":\"[a-z_]*\"/\"action\":\"forged\"/' '%s' && sed -n "
	       "3p '%s' | grep -o '\"id\":[0-9]*' | head -1",
	       part, part),
	    0);
	int64_t changed = strtoll(o + 5, NULL, 10);
	cli(1, "audit verify --export '%s'", part);
	names_entry(changed);
	/* an empty period: the entry before it and none after, still verifiable */
	const char *empty = F("%s/empty.jsonl", S.dir);
	cli(0, "audit export --from 2099-01-01 --to 2100-01-01 --out '%s'", empty);
	assert_non_null(strstr(out, "exported 0 audit entries"));
	cli(0, "audit verify --export '%s'", empty);
	/* usage errors */
	cli(2, "audit export --from 2000-01-01");
	cli(2, "audit export --from yesterday --to 2100-01-01");
	cli(2, "audit export --from 2100-01-01 --to 2000-01-01");
	cli(2, "audit frob");
	cli(1, "audit verify --export '%s/no-such-file'", S.dir);
	/* an export of a broken chain says so and exits 1 */
	sql("%s DELETE FROM audit_log WHERE id = %lld;", DROP_NO_DELETE, (long long)last);
	cli(1, "audit export --from 2000-01-01 --to 2100-01-01 --out '%s/broken.jsonl'", S.dir);
	assert_non_null(strstr(out, "broken at entry"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lists_newest_first_with_filters),
	    cmocka_unit_test(pages_without_overlap),
	    cmocka_unit_test(admin_only_and_bad_input),
	    cmocka_unit_test(verify_holds),
	    cmocka_unit_test(login_and_operation_logs),
	    cmocka_unit_test(exports_of_the_logs),
	    cmocka_unit_test(key_and_head_files),
	    cmocka_unit_test(checkpoint_follows_commits),
	    cmocka_unit_test(untouched_holds_after_restart),
	    cmocka_unit_test(truncated_tail),
	    cmocka_unit_test(rewritten_suffix),
	    cmocka_unit_test(null_to_zero),
	    cmocka_unit_test(gap_in_the_middle),
	    cmocka_unit_test(head_lost_or_forged),
	    cmocka_unit_test(key_lost_or_replaced),
	    cmocka_unit_test(anchor_after_investigation),
	    cmocka_unit_test(export_period),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
