/* t75-faults: the writer under failing storage.
 *
 * A test build of the server honours GONGZHI_TEST_FAULT=<sql-substring>:<full|ioerr>:<nth>
 * (src/db/db_sqlite.c): the nth statement whose SQL contains the substring fails as on
 * a full disk or an I/O error, rolling back the writer's whole transaction the way
 * SQLite may.  Many clients create organisations at once, so that the failure lands in
 * a batch of several requests; afterwards, and again after a restart, exactly the
 * creates answered 201 exist and none of the others does, and the server goes on
 * serving reads and writes.  The disk-full test fills a real tmpfs.  Both are about
 * SQLite and skipped on PostgreSQL; the stop under load runs on both backends. */
#include "harness.h"
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

enum { THREADS = 8, PER_THREAD = 6, TOTAL = THREADS * PER_THREAD };

struct shot {
	char name[64];
	long status;
	int64_t id;
	char code[48];
};

struct burst {
	struct srv *s;
	const char *tok;
	struct shot *shots; /* PER_THREAD of them */
};

static void *burst_main(void *arg)
{
	struct burst *b = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		struct shot *sh = &b->shots[i];
		char body[160];
		snprintf(body, sizeof(body), "{\"kind\":\"ngo\",\"name\":\"%s\"}", sh->name);
		struct resp *r = api(b->s, "POST", "/api/v1/orgs", b->tok, body, NULL);
		sh->status = r ? r->status : 0;
		sh->id = r ? jint(r->json, "id") : 0;
		snprintf(sh->code, sizeof(sh->code), "%s", r ? err_code(r) : "");
		resp_free(r);
	}
	return NULL;
}

/* Runs TOTAL creates from THREADS clients; fills shots. */
static void burst(struct srv *s, const char *tok, struct shot *shots, const char *tag)
{
	pthread_t th[THREADS];
	struct burst b[THREADS];
	for (int i = 0; i < TOTAL; i++) {
		snprintf(shots[i].name, sizeof(shots[i].name), "故障%s%d-%d", tag, (int)getpid(),
		         i);
		shots[i].status = 0;
	}
	for (int t = 0; t < THREADS; t++) {
		b[t] = (struct burst){s, tok, shots + t * PER_THREAD};
		assert_int_equal(pthread_create(&th[t], NULL, burst_main, &b[t]), 0);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
}

/* Every 201 is there under its id, nothing else is. Returns the number of 201s. */
static int check_exactly_acknowledged(struct srv *s, const char *tok, struct shot *shots)
{
	int ok = 0;
	for (int i = 0; i < TOTAL; i++) {
		int64_t found = org_id(s, tok, shots[i].name);
		if (shots[i].status == 201) {
			if (found != shots[i].id)
				print_error("acknowledged %s (id %lld) found as %lld\n",
				            shots[i].name, (long long)shots[i].id,
				            (long long)found);
			assert_int_equal(found, shots[i].id);
			ok++;
		} else {
			if (found)
				print_error("%s answered %ld (%s) but exists as %lld\n",
				            shots[i].name, shots[i].status, shots[i].code,
				            (long long)found);
			assert_int_equal(found, 0);
		}
	}
	return ok;
}

/* One fault scenario: start with the fault armed, burst, check that the fault fired
 * and failed some requests with want_status, that exactly the acknowledged creates
 * exist, that the server still serves, and the same after a restart. */
static void fault_case(const char *fault, long want_status, const char *want_code)
{
	if (harness_pg())
		skip(); /* GONGZHI_TEST_FAULT is a hook in db_sqlite.c (SQLite's failure modes) */
	struct srv s;
	const char *env[] = {F("GONGZHI_TEST_FAULT=%s", fault), NULL};
	assert_int_equal(srv_start(&s, env, false), 0);
	if (!srv_log_has(&s, "test fault armed", NULL)) {
		srv_stop(&s);
		srv_cleanup(&s);
		skip(); /* a build without test hooks (release): nothing to inject */
	}
	char *tok = login(&s, "admin", ADMIN_PW);
	assert_non_null(tok);
	struct shot shots[TOTAL];
	burst(&s, tok, shots, "a");
	assert_true(srv_log_has(&s, "test fault fires", NULL));
	int failed = 0;
	for (int i = 0; i < TOTAL; i++) {
		if (shots[i].status == 201)
			continue;
		if (shots[i].status != want_status || strcmp(shots[i].code, want_code) != 0)
			print_error("%s: %ld %s, expected %ld %s\n", shots[i].name, shots[i].status,
			            shots[i].code, want_status, want_code);
		assert_int_equal(shots[i].status, want_status);
		assert_string_equal(shots[i].code, want_code);
		failed++;
	}
	assert_true(failed > 0);
	int ok = check_exactly_acknowledged(&s, tok, shots);
	assert_int_equal(ok + failed, TOTAL);

	/* the writer goes on: a burst without a fault succeeds entirely */
	struct shot again[TOTAL];
	burst(&s, tok, again, "b");
	for (int i = 0; i < TOTAL; i++)
		assert_int_equal(again[i].status, 201);

	/* durably: the same after a restart */
	const char *env2[] = {"GONGZHI_TEST_FAULT", NULL};
	assert_int_equal(srv_restart(&s, env2), 0);
	free(tok);
	tok = login(&s, "admin", ADMIN_PW);
	assert_non_null(tok);
	assert_int_equal(check_exactly_acknowledged(&s, tok, shots), ok);
	assert_int_equal(check_exactly_acknowledged(&s, tok, again), TOTAL);
	free(tok);
	assert_int_equal(srv_stop(&s), 0);
	srv_cleanup(&s);
}

/* a job's own statement fails with a full disk and takes the transaction with it:
 * the jobs of that batch that had already run must not be acknowledged */
static void t_full_in_job(void **st)
{
	(void)st;
	fault_case("INSERT INTO orgs:full:9", 507, "insufficient_storage");
}

static void t_ioerr_in_job(void **st)
{
	(void)st;
	fault_case("INSERT INTO orgs:ioerr:14", 500, "internal");
}

/* the savepoint itself fails: the rest of the batch must not run in autocommit */
static void t_full_savepoint(void **st)
{
	(void)st;
	fault_case("SAVEPOINT job:full:14", 507, "insufficient_storage");
}

static void t_ioerr_release(void **st)
{
	(void)st;
	fault_case("RELEASE job:ioerr:12", 500, "internal");
}

static void t_ioerr_commit(void **st)
{
	(void)st;
	fault_case("COMMIT:ioerr:6", 500, "internal");
}

/* A real full disk: the database on a small tmpfs, filled with a file until writes
 * fail.  They answer 507, reads go on, and writes resume once the file is removed. */
static void t_disk_full(void **st)
{
	(void)st;
	if (harness_pg())
		skip(); /* fills a tmpfs under an SQLite file (PostgreSQL keeps its own) */
	if (geteuid() != 0) {
		print_message("# SKIP disk-full test: needs root to mount a tmpfs\n");
		skip();
	}
	char mnt[] = "/tmp/gz-t75-XXXXXX";
	assert_non_null(mkdtemp(mnt));
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=24m")) {
		print_message("# SKIP disk-full test: cannot mount a tmpfs here\n");
		rmdir(mnt);
		skip();
	}
	struct srv s;
	const char *env[] = {F("GONGZHI_DB=sqlite:%s/t.db", mnt), NULL};
	/* the harness initialises its own database; copy it onto the tmpfs */
	assert_int_equal(srv_start(&s, NULL, false), 0);
	assert_int_equal(srv_stop(&s), 0);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cp %s/t.db %s/t.db", s.dir, mnt);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(srv_restart(&s, env), 0);
	char *tok = login(&s, "admin", ADMIN_PW);
	assert_non_null(tok);
	int64_t before =
	    post_id(&s, tok, "/api/v1/orgs", "{\"kind\":\"ngo\",\"name\":\"满盘之前\"}");
	assert_true(before > 0);

	/* fill the file system, leaving nothing */
	snprintf(cmd, sizeof(cmd), "dd if=/dev/zero of=%s/fill bs=64k 2>/dev/null; sync", mnt);
	if (system(cmd)) {
		/* dd ends with "no space left", which is the point */
	}
	/* a write big enough to need new pages */
	char *big = repeat("满", 1000);
	int full = 0;
	for (int i = 0; i < 40 && !full; i++) {
		struct resp *r =
		    apif(&s, "POST", tok,
		         F("{\"kind\":\"ngo\",\"name\":\"满盘%d\",\"description\":\"%s\"}", i, big),
		         "/api/v1/orgs");
		if (r->status == 507) {
			assert_string_equal(err_code(r), "insufficient_storage");
			assert_true(contains(jstr(r->json, "error.message"), "disk"));
			full = 1;
		} else if (r->status != 201) {
			print_error("disk full answered %ld: %s\n", r->status, r->body);
			assert_int_equal(r->status, 201);
		}
		resp_free(r);
	}
	assert_true(full);
	/* reads go on */
	struct resp *r = apif(&s, "GET", tok, NULL, "/api/v1/orgs/%lld", (long long)before);
	assert_status(r, 200);
	resp_free(r);
	r = api(&s, "GET", "/api/v1/orgs", tok, NULL, NULL);
	assert_status(r, 200);
	resp_free(r);

	/* space returns: writes resume */
	snprintf(cmd, sizeof(cmd), "%s/fill", mnt);
	assert_int_equal(unlink(cmd), 0);
	int64_t after =
	    post_id(&s, tok, "/api/v1/orgs", "{\"kind\":\"ngo\",\"name\":\"满盘之后\"}");
	assert_true(after > 0);
	free(big);
	free(tok);
	assert_int_equal(srv_stop(&s), 0);
	srv_cleanup(&s);
	umount(mnt);
	rmdir(mnt);
}

/* ---- SIGTERM while kept-alive clients keep writing ---- */

enum { LOAD_THREADS = 8, LOAD_MAX = 4000 };

struct load {
	struct srv *s;
	const char *tok;
	int t;
	_Atomic bool *quit;
	int n;                 /* creates answered 201 */
	int64_t ids[LOAD_MAX]; /* their ids */
	char names[LOAD_MAX][40];
	int unavailable; /* 503 answers */
	int other;       /* anything else but transport failures */
};

static size_t grab(char *p, size_t size, size_t n, void *ud)
{
	struct gz_tbuf {
		char d[4096];
		size_t len;
	} *b = ud;
	size_t k = size * n;
	size_t room = sizeof(b->d) - 1 - b->len;
	size_t c = k < room ? k : room;
	memcpy(b->d + b->len, p, c);
	b->len += c;
	b->d[b->len] = 0;
	return k;
}

static void *load_main(void *arg)
{
	struct load *l = arg;
	CURL *c = curl_easy_init(); /* one handle: its connection is kept alive */
	struct curl_slist *h = NULL;
	char auth[256];
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", l->tok);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	char url[128];
	snprintf(url, sizeof(url), "%s/api/v1/orgs", l->s->base);
	for (int i = 0; !atomic_load(l->quit) && l->n < LOAD_MAX; i++) {
		struct {
			char d[4096];
			size_t len;
		} b = {.len = 0};
		char name[40], body[128];
		snprintf(name, sizeof(name), "停机%d-%d-%d", (int)getpid(), l->t, i);
		snprintf(body, sizeof(body), "{\"kind\":\"ngo\",\"name\":\"%s\"}", name);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, grab);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
		if (curl_easy_perform(c) != CURLE_OK) {
			msleep(5); /* the server is gone or going: try again until told to quit */
			continue;
		}
		long st = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
		if (st == 201) {
			json_t *j = json_loads(b.d, 0, NULL);
			l->ids[l->n] = jint(j, "id");
			snprintf(l->names[l->n], sizeof(l->names[0]), "%s", name);
			l->n++;
			json_decref(j);
		} else if (st == 503) {
			l->unavailable++;
		} else {
			l->other++;
		}
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void t_sigterm_under_load(void **st)
{
	(void)st;
	struct srv s;
	assert_int_equal(srv_start(&s, NULL, false), 0);
	char *tok = login(&s, "admin", ADMIN_PW);
	assert_non_null(tok);
	static struct load loads[LOAD_THREADS];
	pthread_t th[LOAD_THREADS];
	_Atomic bool quit = false;
	for (int t = 0; t < LOAD_THREADS; t++) {
		loads[t] = (struct load){.s = &s, .tok = tok, .t = t, .quit = &quit};
		assert_int_equal(pthread_create(&th[t], NULL, load_main, &loads[t]), 0);
	}
	msleep(1500);
	double t0 = now_s();
	int status = srv_stop(&s); /* SIGTERM, then waits for the exit */
	double took = now_s() - t0;
	atomic_store(&quit, true);
	for (int t = 0; t < LOAD_THREADS; t++)
		pthread_join(th[t], NULL);
	int acked = 0, unavailable = 0, other = 0;
	for (int t = 0; t < LOAD_THREADS; t++) {
		acked += loads[t].n;
		unavailable += loads[t].unavailable;
		other += loads[t].other;
	}
	print_message("# stop took %.2f s; %d creates acknowledged, %d answered 503, %d other\n",
	              took, acked, unavailable, other);
	if (status != 0)
		srv_log_tail(&s, 30);
	assert_int_equal(status, 0);
	assert_true(took < 11.0);
	assert_int_equal(other, 0);
	assert_true(acked > 0);
	assert_false(srv_log_has(&s, "suspended connections", NULL));
	if (!harness_pg()) /* the WAL checkpoint at close is SQLite's */
		assert_true(srv_log_has(&s, "final checkpoint done", NULL));

	assert_int_equal(srv_restart(&s, NULL), 0);
	free(tok);
	tok = login(&s, "admin", ADMIN_PW);
	assert_non_null(tok);
	/* every acknowledged create is there: count them in one list per thread prefix */
	for (int t = 0; t < LOAD_THREADS; t++)
		for (int i = 0; i<loads[t].n; i += loads[t].n> 40 ? loads[t].n / 40 : 1)
			assert_int_equal(org_id(&s, tok, loads[t].names[i]), loads[t].ids[i]);
	int64_t total = total_count(&s, tok, "/api/v1/orgs", F("q=%s", Q("停机")));
	assert_true(total >= acked);
	free(tok);
	assert_int_equal(srv_stop(&s), 0);
	srv_cleanup(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_full_in_job),        cmocka_unit_test(t_ioerr_in_job),
	    cmocka_unit_test(t_full_savepoint),     cmocka_unit_test(t_ioerr_release),
	    cmocka_unit_test(t_ioerr_commit),       cmocka_unit_test(t_disk_full),
	    cmocka_unit_test(t_sigterm_under_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
