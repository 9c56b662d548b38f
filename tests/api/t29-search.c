/* t29-search.c - the keyword box of the work-order list (q=), as defined at the head of
 * src/modules/work_order_search.c: a substring of title, description or address (ASCII
 * letters case-insensitive, everything else exact, LIKE's wildcards literal), or the
 * exact order number (GZ + digits: that order only) or external id (besides the text
 * matches), within the account's scope.  Queries of 1, 2 (the bigram index), 3 and 5
 * characters; an order edited is found by its new text only; orders older than the
 * bigram index (listed in work_order_grams_todo, as migration 0013 lists the orders
 * that exist) are indexed after a restart while answers stay exact (on SQLite: the
 * file is edited with the sqlite3 tool); and for a set of
 * queries the API's total equals a count over every order fetched through the API.
 * The backend-neutral part of the suite: it runs on SQLite and, with the lead's
 * PostgreSQL pass, on PostgreSQL. */
#include "harness.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct srv S;
static struct fixture fx;

/* made in setup: rare characters the demo never writes, one set per field */
enum { T_TITLE, T_DESC, T_ADDR, T_CASE, T_META, T_OTHER, T_EXT, T_EXTTEXT, NT };
static int64_t id[NT];
static char number[NT][32];
static char ext_id[32]; /* the external id of T_EXT (digits, also in T_EXTTEXT's title) */

static const char *tok(enum fx_account a)
{
	return fx.tok[a];
}

static int64_t create(int64_t unit, const char *title, const char *description, const char *address,
                      const char *extra)
{
	json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:I}", "title", title, "description",
	                      description, "category_code", "010301", "channel", "hotline_12345",
	                      "unit_id", (json_int_t)unit);
	if (address)
		json_object_set_new(b, "address", json_string(address));
	if (extra)
		json_object_set_new(b, "external_id", json_string(extra));
	char *body = json_dumps(b, 0);
	json_decref(b);
	int64_t v = post_id(&S, tok(FX_ADMIN), "/api/v1/work-orders", body);
	free(body);
	return v;
}

static int setup(void **state)
{
	(void)state;
	if (fixture_start(&fx, &S, NULL))
		return -1;
	snprintf(ext_id, sizeof ext_id, "77%06d", (int)getpid() % 1000000);
	int64_t sl = fx.u_shaliu_beili, fq = fx.u_fengqi_xiaoqu;
	id[T_TITLE] = create(sl, "龘靐齉爨麤报修", "普通的描述", "普通的地址", NULL);
	id[T_DESC] = create(sl, "普通标题一", "只在描述里的淼骉鱻描述", NULL, NULL);
	id[T_ADDR] = create(sl, "普通标题二", "普通的描述", "焱垚燚地址三号", NULL);
	id[T_CASE] = create(sl, "XyloPhone Ébène 犇", "quiet", "Elm St", NULL);
	id[T_META] = create(sl, "进度100%_完\\成犇", "描述", NULL, NULL);
	/* another community's order with the same rare title as T_TITLE */
	id[T_OTHER] = create(fq, "龘靐齉爨麤另一社区", "描述", NULL, NULL);
	id[T_EXT] = create(sl, "外部编号工单", "描述", NULL, ext_id);
	id[T_EXTTEXT] = create(sl, F("提到%s的工单", ext_id), "描述", NULL, NULL);
	for (int i = 0; i < NT; i++) {
		if (!id[i])
			return -1;
		struct resp *r = apif(&S, "GET", tok(FX_ADMIN), NULL, "/api/v1/work-orders/%lld",
		                      (long long)id[i]);
		snprintf(number[i], sizeof number[i], "%s", jstr(r->json, "number"));
		resp_free(r);
		if (!number[i][0])
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return fixture_stop(&fx) == 0 ? 0 : -1;
}

/* The ids q finds for an account (every page), and the total it reports; asserts 200. */
struct found {
	int64_t ids[64];
	int n;
	int64_t total;
};

static void search(enum fx_account who, const char *q, struct found *f)
{
	struct resp *r =
	    apif(&S, "GET", tok(who), NULL, "/api/v1/work-orders?q=%s&count=true&limit=60", Q(q));
	assert_status(r, 200);
	f->total = jint(r->json, "total");
	f->n = 0;
	size_t k;
	json_t *it;
	json_array_foreach(jpath(r->json, "items"), k, it) if (f->n < 64) f->ids[f->n++] =
	    jint(it, "id");
	resp_free(r);
}

static bool found_has(const struct found *f, int64_t x)
{
	for (int i = 0; i < f->n; i++)
		if (f->ids[i] == x)
			return true;
	return false;
}

/* Asserts that q finds exactly the orders of the mask (bits of T_*) among ours, and
 * that the total counts no more than them plus `others` orders not ours. */
static void expect(enum fx_account who, const char *q, unsigned mask, int64_t others)
{
	struct found f;
	search(who, q, &f);
	unsigned got = 0;
	for (int i = 0; i < NT; i++)
		if (found_has(&f, id[i]))
			got |= 1u << i;
	if (got != mask || f.total != __builtin_popcount(mask) + others)
		print_error("q=%s as %s: ours 0x%x (total %lld), expected 0x%x (total %lld)\n", q,
		            fx_usernames[who], got, (long long)f.total, mask,
		            (long long)(__builtin_popcount(mask) + others));
	assert_int_equal(got, mask);
	assert_int_equal(f.total, __builtin_popcount(mask) + others);
}

#define BIT(x) (1u << (x))

static void search_lengths(void **state)
{
	(void)state;
	/* 1, 2, 3 and 5 characters of the title; both communities' orders for admin */
	expect(FX_ADMIN, "龘", BIT(T_TITLE) | BIT(T_OTHER), 0);
	expect(FX_ADMIN, "龘靐", BIT(T_TITLE) | BIT(T_OTHER), 0);
	expect(FX_ADMIN, "靐齉爨", BIT(T_TITLE) | BIT(T_OTHER), 0);
	expect(FX_ADMIN, "龘靐齉爨麤", BIT(T_TITLE) | BIT(T_OTHER), 0);
	expect(FX_ADMIN, "麤报修", BIT(T_TITLE), 0);
	expect(FX_ADMIN, "麤另一社区", BIT(T_OTHER), 0);
	/* each character present, the pair or triple not: nothing */
	expect(FX_ADMIN, "靐龘", 0, 0);
	expect(FX_ADMIN, "龘齉", 0, 0);
	expect(FX_ADMIN, "龘靐爨", 0, 0);
	expect(FX_ADMIN, "龘靐齉爨麤麤", 0, 0);
}

static void search_fields(void **state)
{
	(void)state;
	/* only in the description; only in the address */
	expect(FX_ADMIN, "淼", BIT(T_DESC), 0);
	expect(FX_ADMIN, "淼骉", BIT(T_DESC), 0);
	expect(FX_ADMIN, "淼骉鱻描述", BIT(T_DESC), 0);
	expect(FX_ADMIN, "焱垚", BIT(T_ADDR), 0);
	expect(FX_ADMIN, "燚地址三", BIT(T_ADDR), 0);
	/* a pair across two fields is not a substring of either */
	expect(FX_ADMIN, "修普", 0, 0);
}

static void search_case(void **state)
{
	(void)state;
	/* ASCII letters in any case */
	expect(FX_ADMIN, "xylophone", BIT(T_CASE), 0);
	expect(FX_ADMIN, "XYLOPHONE", BIT(T_CASE), 0);
	expect(FX_ADMIN, "pH", BIT(T_CASE), 0);
	expect(FX_ADMIN, "eLM s", BIT(T_CASE), 0);
	expect(FX_ADMIN, "QUIET", BIT(T_CASE), 0);
	/* other letters exactly: É is not é (the same on every backend) */
	expect(FX_ADMIN, "Ébène", BIT(T_CASE), 0);
	expect(FX_ADMIN, "ÉBène", BIT(T_CASE), 0);
	expect(FX_ADMIN, "ébène", 0, 0);
	expect(FX_ADMIN, "ÉBÈNE", 0, 0);
	expect(FX_ADMIN, "è", BIT(T_CASE), 0);
	/* one rare character, two orders */
	expect(FX_ADMIN, "犇", BIT(T_CASE) | BIT(T_META), 0);
}

static void search_literal(void **state)
{
	(void)state;
	/* LIKE's wildcards and escape are characters like any other */
	expect(FX_ADMIN, "%_", BIT(T_META), 0);
	expect(FX_ADMIN, "0%_完", BIT(T_META), 0);
	expect(FX_ADMIN, "_完", BIT(T_META), 0);
	expect(FX_ADMIN, "完\\", BIT(T_META), 0);
	expect(FX_ADMIN, "\\成犇", BIT(T_META), 0);
	expect(FX_ADMIN, "10%", 0, 0); /* as a wildcard: "100%…" */
	expect(FX_ADMIN, "1_0", 0, 0); /* as a wildcard: "100" */
	expect(FX_ADMIN, "进%完", 0, 0);
	expect(FX_ADMIN, "%完", 0, 0);
	expect(FX_ADMIN, "\\\\", 0, 0);
	expect(FX_ADMIN, "\"犇", 0, 0);
}

static void search_number(void **state)
{
	(void)state;
	/* the full number: that order only, the letters in any case */
	expect(FX_ADMIN, number[T_TITLE], BIT(T_TITLE), 0);
	char lower[32];
	snprintf(lower, sizeof lower, "%s", number[T_ADDR]);
	lower[0] = 'g';
	lower[1] = 'Z';
	expect(FX_ADMIN, lower, BIT(T_ADDR), 0);
	/* a number that is nobody's: nothing (numbers are not text) */
	expect(FX_ADMIN, "GZ0000000000", 0, 0);
	/* the external id: that order, and the order that mentions it in its title */
	expect(FX_ADMIN, ext_id, BIT(T_EXT) | BIT(T_EXTTEXT), 0);
	/* part of it: only the text */
	char part[32];
	snprintf(part, sizeof part, "%.*s", (int)strlen(ext_id) - 1, ext_id);
	expect(FX_ADMIN, part, BIT(T_EXTTEXT), 0);
	/* the first page holds the exact order too when text matches exist (union) */
	struct found f;
	search(FX_SHEQU, ext_id, &f);
	assert_true(found_has(&f, id[T_EXT]));
}

static void search_scope(void **state)
{
	(void)state;
	/* 沙柳北路社区's staff finds her order, not 凤岐里's, by text */
	expect(FX_SHEQU, "龘靐", BIT(T_TITLE), 0);
	expect(FX_SHEQU2, "龘靐", BIT(T_OTHER), 0);
	expect(FX_SHEQU, "龘靐齉爨麤", BIT(T_TITLE), 0);
	/* nor by number or external id */
	expect(FX_SHEQU2, number[T_TITLE], 0, 0);
	expect(FX_SHEQU, number[T_OTHER], 0, 0);
	expect(FX_SHEQU2, number[T_OTHER], BIT(T_OTHER), 0);
	expect(FX_SHEQU2, ext_id, 0, 0);
	expect(FX_SHEQU, ext_id, BIT(T_EXT) | BIT(T_EXTTEXT), 0);
	/* a resident filed none of them */
	expect(FX_JUMIN, number[T_TITLE], 0, 0);
	expect(FX_JUMIN, "龘", 0, 0);
}

static void search_bad(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/work-orders?q=", tok(FX_ADMIN), NULL, NULL);
	assert_error(r, 400, "validation_failed", "q");
	resp_free(r);
	char *longq = repeat("龘", 101);
	r = apif(&S, "GET", tok(FX_ADMIN), NULL, "/api/v1/work-orders?q=%s", Q(longq));
	assert_error(r, 400, "validation_failed", "q");
	resp_free(r);
	free(longq);
	r = api(&S, "GET", "/api/v1/work-orders?q=%ff%fe", tok(FX_ADMIN), NULL, NULL);
	assert_int_equal(r->status, 400);
	resp_free(r);
}

static void patch_title(int64_t order, const char *title)
{
	struct resp *r = apif(&S, "PATCH", tok(FX_ADMIN), F("{\"title\":\"%s\"}", title),
	                      "/api/v1/work-orders/%lld", (long long)order);
	assert_status(r, 200);
	resp_free(r);
}

static void search_follows_edits(void **state)
{
	(void)state;
	int64_t x = create(fx.u_shaliu_beili, "旧题鼗鼙", "描述", NULL, NULL);
	struct found f;
	search(FX_ADMIN, "鼗鼙", &f);
	assert_int_equal(f.total, 1);
	patch_title(x, "新题鼍鼋");
	for (int i = 0; i < 4; i++) { /* the old text gone at every length, the new found */
		const char *gone[] = {"鼗", "鼗鼙", "旧题鼗", "旧题鼗鼙"};
		const char *now[] = {"鼍", "鼍鼋", "新题鼍", "新题鼍鼋"};
		search(FX_ADMIN, gone[i], &f);
		assert_int_equal(f.total, 0);
		search(FX_ADMIN, now[i], &f);
		assert_int_equal(f.total, 1);
		assert_true(found_has(&f, x));
	}
	/* a shared pair stays (both texts hold 题): still exactly this order and others' */
	search(FX_ADMIN, "题鼍", &f);
	assert_int_equal(f.total, 1);
	/* back again */
	patch_title(x, "旧题鼗鼙");
	search(FX_ADMIN, "鼗鼙", &f);
	assert_int_equal(f.total, 1);
	search(FX_ADMIN, "鼍鼋", &f);
	assert_int_equal(f.total, 0);
}

/* ---- against a count over every order ---- */

struct order {
	int64_t id;
	char *title, *description, *address, *number, *external_id;
};
static struct order *all;
static size_t nall;

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

/* Every order through the API: the list without q (as admin: the whole district),
 * then each one's detail for the description. */
static void load_all(void)
{
	if (all)
		return;
	size_t cap = 0;
	char cursor[64] = "";
	for (;;) {
		struct resp *r =
		    apif(&S, "GET", tok(FX_ADMIN), NULL, "/api/v1/work-orders?limit=500%s%s",
		         *cursor ? "&cursor=" : "", cursor);
		assert_status(r, 200);
		size_t k;
		json_t *it;
		json_array_foreach(jpath(r->json, "items"), k, it)
		{
			if (nall == cap) {
				cap = cap ? cap * 2 : 1024;
				all = realloc(all, cap * sizeof(*all));
			}
			all[nall++].id = jint(it, "id");
		}
		const char *next = jstr(r->json, "next_cursor");
		snprintf(cursor, sizeof cursor, "%s", next);
		resp_free(r);
		if (!*cursor)
			break;
	}
	for (size_t i = 0; i < nall; i++) {
		struct resp *r =
		    apif(&S, "GET", tok(FX_ADMIN), NULL,
		         "/api/v1/work-orders/%lld?timeline_limit=1", (long long)all[i].id);
		assert_status(r, 200);
		json_t *ext = jpath(r->json, "external_id");
		all[i].title = dup_or_empty(jstr(r->json, "title"));
		all[i].description = dup_or_empty(jstr(r->json, "description"));
		all[i].address = dup_or_empty(jstr(r->json, "address"));
		all[i].number = dup_or_empty(jstr(r->json, "number"));
		all[i].external_id = json_is_string(ext) ? strdup(json_string_value(ext)) : NULL;
		resp_free(r);
	}
}

/* ASCII letters folded, everything else as is */
static char *fold(const char *s)
{
	char *f = strdup(s);
	for (char *p = f; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	return f;
}

static bool contains_folded(const char *hay, const char *fq)
{
	char *fh = fold(hay);
	bool yes = strstr(fh, fq) != NULL;
	free(fh);
	return yes;
}

static bool number_shaped(const char *q)
{
	if (strlen(q) < 3 || (q[0] | 32) != 'g' || (q[1] | 32) != 'z')
		return false;
	for (const char *p = q + 2; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* The definition, applied to the orders fetched. */
static int64_t brute_count(const char *q)
{
	int64_t n = 0;
	char *fq = fold(q);
	for (size_t i = 0; i < nall; i++) {
		const struct order *o = &all[i];
		bool m;
		if (number_shaped(q)) {
			char up[64];
			snprintf(up, sizeof up, "GZ%s", q + 2);
			m = strcmp(o->number, up) == 0;
		} else {
			m = contains_folded(o->title, fq) || contains_folded(o->description, fq) ||
			    contains_folded(o->address, fq) ||
			    (o->external_id && strcmp(o->external_id, q) == 0);
		}
		n += m;
	}
	free(fq);
	return n;
}

static void search_matches_brute_force(void **state)
{
	(void)state;
	load_all();
	assert_true(nall > 1000); /* the demo's orders and ours */
	const char *qs[] = {
	    /* 1 character */
	    "水", "楼", "梯", "%", "_", "\\", "a", "S", "3", "犇", "龘", "é",
	    /* 2 */
	    "电梯", "漏水", "号楼", "社区", "停水", "火星", "st", "ST", "%_", "1号", "，老",
	    /* 3 and more */
	    "电梯故障", "号楼电梯", "天津市河东区", "楼道灯不亮", "停车位纠纷", "不存在的词",
	    "沙柳北里", "xylophone", "0%_完", "请尽快维修。", "河东区沙柳",
	    /* numbers and external ids */
	    number[T_META], number[T_CASE], "GZ20000101000001", ext_id};
	int bad = 0;
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		struct resp *r = apif(&S, "GET", tok(FX_ADMIN), NULL,
		                      "/api/v1/work-orders?q=%s&count=true&limit=1", Q(qs[i]));
		int64_t api_total = jint(r->json, "total");
		long st = r->status;
		resp_free(r);
		int64_t want = brute_count(qs[i]);
		if (st != 200 || api_total != want) {
			print_error("q=%s: HTTP %ld, total %lld, the orders hold %lld\n", qs[i], st,
			            (long long)api_total, (long long)want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Orders older than the bigram index: emptied by hand and every order listed in
 * work_order_grams_todo, as migration 0013 leaves an existing database.  After a
 * restart the answers stay exact while the server refills it, and the list empties. */
static void search_backfill(void **state)
{
	(void)state;
	if (strncmp(S.db, "sqlite:", 7) != 0)
		skip(); /* the backend-specific part: the file is edited with sqlite3 */
	load_all();
	assert_int_equal(srv_stop(&S), 0);
	char out[256];
	int rc = sh(out, sizeof out,
	            "sqlite3 '%s' \"INSERT INTO work_orders_bigrams (work_orders_bigrams) "
	            "VALUES ('delete-all'); INSERT INTO work_order_grams_todo SELECT id FROM "
	            "work_orders; SELECT count(*) FROM work_order_grams_todo\" 2>&1",
	            S.db + 7);
	assert_int_equal(rc, 0);
	assert_true(atoll(out) > 1000);
	assert_int_equal(srv_restart(&S, NULL), 0);
	/* right away (the backfill may be under way) and again once it is done */
	for (int round = 0; round < 2; round++) {
		const char *qs[] = {"电梯", "火星", "龘靐", "淼骉", "%_", "st"};
		for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
			struct resp *r =
			    apif(&S, "GET", tok(FX_ADMIN), NULL,
			         "/api/v1/work-orders?q=%s&count=true&limit=1", Q(qs[i]));
			assert_status(r, 200);
			if (jint(r->json, "total") != brute_count(qs[i]))
				print_error("round %d, q=%s: total %lld, the orders hold %lld\n",
				            round, qs[i], (long long)jint(r->json, "total"),
				            (long long)brute_count(qs[i]));
			assert_int_equal(jint(r->json, "total"), brute_count(qs[i]));
			resp_free(r);
		}
		if (round == 0) {
			int left = -1;
			for (int i = 0; i < 200 && left != 0; i++) {
				if (i)
					msleep(100);
				rc = sh(out, sizeof out,
				        "sqlite3 '%s' 'SELECT count(*) FROM work_order_grams_todo' "
				        "2>&1",
				        S.db + 7);
				left = rc == 0 ? atoi(out) : -1;
			}
			assert_int_equal(left, 0);
			/* every order has its document: the bigram 天津 (every demo address) */
			rc = sh(out, sizeof out,
			        "sqlite3 '%s' \"SELECT count(*) FROM work_orders_bigrams WHERE "
			        "work_orders_bigrams MATCH '\\\"005929006d25\\\"'\" 2>&1",
			        S.db + 7);
			assert_int_equal(rc, 0);
			assert_int_equal(atoll(out), brute_count("天津"));
		}
	}
	char logout[512];
	rc = sh(logout, sizeof logout, "grep -c 'search index: bigrams of' '%s'", S.log);
	assert_int_equal(rc, 0);
	assert_true(atoi(logout) >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(search_lengths),
	    cmocka_unit_test(search_fields),
	    cmocka_unit_test(search_case),
	    cmocka_unit_test(search_literal),
	    cmocka_unit_test(search_number),
	    cmocka_unit_test(search_scope),
	    cmocka_unit_test(search_bad),
	    cmocka_unit_test(search_follows_edits),
	    cmocka_unit_test(search_matches_brute_force),
	    cmocka_unit_test(search_backfill),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
