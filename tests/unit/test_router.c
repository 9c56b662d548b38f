/* test_router.c - unit tests for src/http/router.c: path patterns with {name}
 * parameters, URL decoding (escapes, '+', NUL and invalid UTF-8 refused) and
 * query-string parsing (empty values, missing '=', empty keys, the 64-parameter cap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/arena.h"
#include "http/http.h"
#include <stdio.h>
#include <string.h>

static int setup(void **state)
{
	static struct gz_arena a;
	gz_arena_init(&a);
	*state = &a;
	return 0;
}

static int teardown(void **state)
{
	gz_arena_release(*state);
	return 0;
}

/* ---- gz_route_match ---- */

static void test_match_static(void **state)
{
	struct gz_arena *a = *state;
	struct gz_kv p[GZ_MAX_PARAMS];
	int n = -1;
	assert_true(gz_route_match("/api/v1/units", "/api/v1/units", a, p, &n));
	assert_int_equal(n, 0);
	assert_false(gz_route_match("/api/v1/units", "/api/v1/unit", a, p, &n));
	assert_false(gz_route_match("/api/v1/units", "/api/v1/unitsx", a, p, &n));
	assert_false(gz_route_match("/api/v1/units", "/api/v1/units/x", a, p, &n));
	assert_false(gz_route_match("/api/v1/units", "/api/v2/units", a, p, &n));
	assert_false(gz_route_match("/api/v1/units", "", a, p, &n));
	assert_false(gz_route_match("/api/v1/units", "/API/v1/units", a, p, &n));
	assert_true(gz_route_match("/", "/", a, p, &n));
	assert_false(gz_route_match("/", "", a, p, &n));
}

static void test_match_trailing_slash(void **state)
{
	struct gz_arena *a = *state;
	struct gz_kv p[GZ_MAX_PARAMS];
	int n = -1;
	assert_true(gz_route_match("/api/v1/units", "/api/v1/units/", a, p, &n));
	assert_int_equal(n, 0);
	assert_false(gz_route_match("/api/v1/units", "/api/v1/units//", a, p, &n));
	assert_true(gz_route_match("/api/v1/units/{id}", "/api/v1/units/7/", a, p, &n));
	assert_int_equal(n, 1);
	assert_string_equal(p[0].value, "7");
}

static void test_match_params(void **state)
{
	struct gz_arena *a = *state;
	struct gz_kv p[GZ_MAX_PARAMS];
	int n = -1;
	char path[] = "/api/v1/units/42/tree";
	assert_true(gz_route_match("/api/v1/units/{id}/tree", path, a, p, &n));
	assert_int_equal(n, 1);
	assert_string_equal(p[0].key, "id");
	assert_string_equal(p[0].value, "42");
	/* values are copies, not pointers into the path */
	assert_true(p[0].value < path || p[0].value >= path + sizeof(path));
	path[14] = '9';
	assert_string_equal(p[0].value, "42");

	assert_true(gz_route_match("/api/v1/work-orders/{id}/comments/{cid}",
	                           "/api/v1/work-orders/WO-2026-1/comments/abc", a, p, &n));
	assert_int_equal(n, 2);
	assert_string_equal(p[0].key, "id");
	assert_string_equal(p[0].value, "WO-2026-1");
	assert_string_equal(p[1].key, "cid");
	assert_string_equal(p[1].value, "abc");

	/* a parameter is one whole, non-empty segment */
	assert_false(gz_route_match("/api/v1/units/{id}", "/api/v1/units/", a, p, &n));
	assert_false(gz_route_match("/api/v1/units/{id}", "/api/v1/units", a, p, &n));
	assert_false(gz_route_match("/api/v1/units/{id}", "/api/v1/units//", a, p, &n));
	assert_false(gz_route_match("/api/v1/units/{id}", "/api/v1/units/1/2", a, p, &n));
	assert_false(gz_route_match("/api/v1/units/{id}/tree", "/api/v1/units/1/trees", a, p, &n));
	assert_false(gz_route_match("/api/v1/units/{id}/tree", "/api/v1/units/1", a, p, &n));
	/* Chinese and encoded-looking values pass through unchanged */
	assert_true(gz_route_match("/d/{name}", "/d/街道", a, p, &n));
	assert_string_equal(p[0].value, "街道");
}

static void test_match_param_limit(void **state)
{
	struct gz_arena *a = *state;
	struct gz_kv p[GZ_MAX_PARAMS + 1];
	int n = -1;
	assert_int_equal(GZ_MAX_PARAMS, 4);
	assert_true(gz_route_match("/{a}/{b}/{c}/{d}", "/1/2/3/4", a, p, &n));
	assert_int_equal(n, 4);
	assert_string_equal(p[3].key, "d");
	assert_string_equal(p[3].value, "4");
	/* five parameters do not fit: no match, and nothing written past the array */
	memset(&p[GZ_MAX_PARAMS], 0, sizeof(p[0]));
	n = -1;
	assert_false(gz_route_match("/{a}/{b}/{c}/{d}/{e}", "/1/2/3/4/5", a, p, &n));
	assert_null(p[GZ_MAX_PARAMS].key);
	assert_null(p[GZ_MAX_PARAMS].value);
}

static void test_match_malformed_pattern(void **state)
{
	struct gz_arena *a = *state;
	struct gz_kv p[GZ_MAX_PARAMS];
	int n;
	assert_false(gz_route_match("/units/{id", "/units/1", a, p, &n));
}

/* ---- gz_url_decode ---- */

static void expect_decode(const char *in, bool plus, const char *want)
{
	struct gz_arena a;
	gz_arena_init(&a);
	char *got = gz_url_decode(&a, in, strlen(in), plus);
	if (!got)
		fail_msg("gz_url_decode(\"%s\") failed", in);
	if (strcmp(got, want) != 0)
		fail_msg("gz_url_decode(\"%s\") = \"%s\", want \"%s\"", in, got, want);
	gz_arena_release(&a);
}

static void expect_decode_fail(const char *in, size_t n)
{
	struct gz_arena a;
	gz_arena_init(&a);
	char *got = gz_url_decode(&a, in, n, true);
	if (got)
		fail_msg("gz_url_decode(\"%.*s\") = \"%s\", want failure", (int)n, in, got);
	gz_arena_release(&a);
}

static void test_decode_escapes(void **state)
{
	expect_decode("%E4%B8%AD", false, "中");
	expect_decode("%e4%b8%ad%E6%96%87", false, "中文");
	expect_decode("a%20b", false, "a b");
	expect_decode("%41%42", false, "AB"); /* an escape that ends the input */
	expect_decode("%25", false, "%");
	expect_decode("%2B", true, "+");
	expect_decode("%F0%9F%98%80", false, "😀");
	expect_decode("", false, "");
	expect_decode("plain-text_~.", false, "plain-text_~.");
	expect_decode("中", false, "中"); /* raw UTF-8 is accepted */
}

static void test_decode_plus(void **state)
{
	expect_decode("a+b+", true, "a b ");
	expect_decode("a+b+", false, "a+b+");
}

static void test_decode_length_honoured(void **state)
{
	struct gz_arena a;
	gz_arena_init(&a);
	char *got = gz_url_decode(&a, "abc%41def", 6, false);
	assert_non_null(got);
	assert_string_equal(got, "abcA");
	/* an escape cut by n is truncated, even though bytes follow in memory */
	assert_null(gz_url_decode(&a, "abc%41", 5, false));
	gz_arena_release(&a);
}

static void test_decode_rejects(void **state)
{
	const char *bad[] = {
	    "%",
	    "%4",
	    "abc%4",
	    "%G1",
	    "%1G",
	    "%zz",
	    "%%41",
	    "%00",
	    "a%00b",
	    "%FF",
	    "%C3%28",
	    "%C0%AF",       /* overlong */
	    "%E4%B8",       /* truncated sequence */
	    "%ED%A0%80",    /* surrogate */
	    "%F4%90%80%80", /* above U+10FFFF */
	    "%80",
	    "\xff",
	    "\xe4\xb8",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_decode_fail(bad[i], strlen(bad[i]));
	/* a raw NUL inside n */
	expect_decode_fail("ab\0cd", 5);
}

/* ---- gz_query_parse ---- */

static void test_query_multiple(void **state)
{
	struct gz_arena *a = *state;
	struct gz_err e;
	gz_err_clear(&e);
	struct gz_kv *kv = NULL;
	int n = -1;
	assert_int_equal(gz_query_parse(a, "a=1&b=%E4%B8%AD&c=x+y&a=2", &kv, &n, &e), 0);
	assert_int_equal(n, 4);
	assert_string_equal(kv[0].key, "a");
	assert_string_equal(kv[0].value, "1");
	assert_string_equal(kv[1].key, "b");
	assert_string_equal(kv[1].value, "中");
	assert_string_equal(kv[2].key, "c");
	assert_string_equal(kv[2].value, "x y");
	assert_string_equal(kv[3].key, "a"); /* repeats kept, in order */
	assert_string_equal(kv[3].value, "2");
}

static void test_query_empty_values(void **state)
{
	struct gz_arena *a = *state;
	struct gz_err e;
	gz_err_clear(&e);
	struct gz_kv *kv = NULL;
	int n = -1;
	assert_int_equal(gz_query_parse(a, "a=&b=", &kv, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(kv[0].value, "");
	assert_string_equal(kv[1].value, "");
	/* missing '=' is an empty value */
	assert_int_equal(gz_query_parse(a, "flag&x=1", &kv, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(kv[0].key, "flag");
	assert_non_null(kv[0].value);
	assert_string_equal(kv[0].value, "");
	assert_string_equal(kv[1].key, "x");
	assert_string_equal(kv[1].value, "1");
	/* '=' inside the value */
	assert_int_equal(gz_query_parse(a, "f=a=b", &kv, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(kv[0].value, "a=b");
	/* empty pieces between '&' are skipped */
	assert_int_equal(gz_query_parse(a, "&&q=1&&", &kv, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(kv[0].key, "q");
}

static void test_query_none(void **state)
{
	struct gz_arena *a = *state;
	struct gz_err e;
	gz_err_clear(&e);
	struct gz_kv *kv = (struct gz_kv *)1;
	int n = -1;
	assert_int_equal(gz_query_parse(a, "", &kv, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_null(kv);
	kv = (struct gz_kv *)1;
	n = -1;
	assert_int_equal(gz_query_parse(a, NULL, &kv, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_null(kv);
}

static void expect_query_fail(struct gz_arena *a, const char *qs)
{
	struct gz_err e;
	gz_err_clear(&e);
	struct gz_kv *kv;
	int n;
	if (gz_query_parse(a, qs, &kv, &n, &e) != -1)
		fail_msg("query \"%.60s\" accepted", qs);
	assert_int_equal(e.code, GZ_E_BAD_REQUEST);
	assert_int_equal(gz_code_status(e.code), 400);
}

static void test_query_rejects(void **state)
{
	struct gz_arena *a = *state;
	expect_query_fail(a, "=v");
	expect_query_fail(a, "a=1&=2");
	expect_query_fail(a, "=");
	expect_query_fail(a, "a=%zz");
	expect_query_fail(a, "a=%4");
	expect_query_fail(a, "a%=1");
	expect_query_fail(a, "a=%00");
	expect_query_fail(a, "a=%FF");
	expect_query_fail(a, "%C0%AF=1");
}

static void test_query_limit(void **state)
{
	struct gz_arena *a = *state;
	char qs[2048];
	size_t len = 0;
	for (int i = 0; i < 64; i++)
		len += (size_t)snprintf(qs + len, sizeof(qs) - len, "%sk%d=%d", i ? "&" : "", i, i);
	struct gz_err e;
	gz_err_clear(&e);
	struct gz_kv *kv = NULL;
	int n = -1;
	assert_int_equal(gz_query_parse(a, qs, &kv, &n, &e), 0);
	assert_int_equal(n, 64);
	assert_string_equal(kv[63].key, "k63");
	assert_string_equal(kv[63].value, "63");
	snprintf(qs + len, sizeof(qs) - len, "&k64=64");
	expect_query_fail(a, qs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_match_static, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_match_trailing_slash, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_match_params, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_match_param_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_match_malformed_pattern, setup, teardown),
	    cmocka_unit_test(test_decode_escapes),
	    cmocka_unit_test(test_decode_plus),
	    cmocka_unit_test(test_decode_length_honoured),
	    cmocka_unit_test(test_decode_rejects),
	    cmocka_unit_test_setup_teardown(test_query_multiple, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_query_empty_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_query_none, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_query_rejects, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_query_limit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
