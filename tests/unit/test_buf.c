/* test_buf.c - unit tests for src/core/buf.c: the NUL-terminated invariant after
 * every operation, growth, reset, detach, JSON string escaping (checked by parsing
 * the result back with jansson), and aborting on impossible sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/buf.h"
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The invariant of buf.h: data is NUL-terminated at len and len < cap. */
static void check_invariant(const struct gz_buf *b)
{
	if (!b->data) {
		assert_int_equal(b->len, 0);
		assert_string_equal(gz_buf_str(b), "");
		return;
	}
	assert_true(b->len < b->cap);
	assert_int_equal(b->data[b->len], 0);
}

static void test_init_empty(void **state)
{
	struct gz_buf b = GZ_BUF_INIT;
	check_invariant(&b);
	assert_string_equal(gz_buf_str(&b), "");
	struct gz_buf c;
	memset(&c, 0x7f, sizeof(c));
	gz_buf_init(&c);
	assert_null(c.data);
	assert_int_equal(c.len, 0);
	assert_int_equal(c.cap, 0);
	gz_buf_release(&b);
	gz_buf_release(&c);
}

static void test_add_family(void **state)
{
	struct gz_buf b = GZ_BUF_INIT;
	gz_buf_adds(&b, "工单");
	check_invariant(&b);
	assert_int_equal(b.len, strlen("工单"));
	gz_buf_addc(&b, '#');
	check_invariant(&b);
	gz_buf_add(&b, "12345", 3);
	check_invariant(&b);
	gz_buf_add(&b, NULL, 0);
	check_invariant(&b);
	gz_buf_adds(&b, "");
	check_invariant(&b);
	assert_string_equal(gz_buf_str(&b), "工单#123");
	/* embedded NUL bytes are data: len counts them */
	gz_buf_add(&b, "a\0b", 3);
	check_invariant(&b);
	assert_int_equal(b.len, strlen("工单#123") + 3);
	assert_memory_equal(b.data + b.len - 3, "a\0b", 3);
	gz_buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_growth_many_small(void **state)
{
	struct gz_buf b = GZ_BUF_INIT;
	for (int i = 0; i < 10000; i++) {
		gz_buf_addc(&b, (char)('a' + i % 26));
		if (i % 1000 == 0)
			check_invariant(&b);
	}
	check_invariant(&b);
	assert_int_equal(b.len, 10000);
	for (size_t i = 0; i < 10000; i++)
		if (b.data[i] != (char)('a' + i % 26))
			fail_msg("byte %zu is %c", i, b.data[i]);
	gz_buf_release(&b);
}

static void call_vaddf(struct gz_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gz_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

static void test_addf(void **state)
{
	struct gz_buf b = GZ_BUF_INIT;
	gz_buf_addf(&b, "%s=%d", "n", -12);
	check_invariant(&b);
	assert_string_equal(gz_buf_str(&b), "n=-12");
	gz_buf_addf(&b, "%s", "");
	check_invariant(&b);
	assert_int_equal(b.len, 5);
	/* crosses several growth steps in one call */
	gz_buf_addf(&b, "|%5000d|", 7);
	check_invariant(&b);
	assert_int_equal(b.len, 5 + 5002);
	assert_int_equal(b.data[5 + 5000], '7');
	assert_int_equal(b.data[5 + 5001], '|');
	call_vaddf(&b, "%c%c", 'x', 'y');
	check_invariant(&b);
	assert_int_equal(b.data[b.len - 2], 'x');
	assert_int_equal(b.data[b.len - 1], 'y');
	gz_buf_release(&b);

	/* addf into a never-used buffer with an empty result */
	struct gz_buf e = GZ_BUF_INIT;
	gz_buf_addf(&e, "%s", "");
	check_invariant(&e);
	assert_string_equal(gz_buf_str(&e), "");
	gz_buf_release(&e);
}

static void test_reset_keeps_capacity(void **state)
{
	struct gz_buf b = GZ_BUF_INIT;
	gz_buf_reset(&b); /* on an empty buffer: no crash */
	check_invariant(&b);
	gz_buf_addf(&b, "%300s", "x");
	size_t cap = b.cap;
	char *data = b.data;
	gz_buf_reset(&b);
	check_invariant(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, cap);
	assert_ptr_equal(b.data, data);
	assert_string_equal(gz_buf_str(&b), "");
	gz_buf_adds(&b, "again");
	assert_string_equal(gz_buf_str(&b), "again");
	gz_buf_release(&b);
}

static void test_grow_reserves(void **state)
{
	struct gz_buf b = GZ_BUF_INIT;
	gz_buf_adds(&b, "ab");
	gz_buf_grow(&b, 1000);
	assert_true(b.cap >= b.len + 1000 + 1);
	char *data = b.data;
	for (int i = 0; i < 1000; i++)
		gz_buf_addc(&b, 'z');
	/* the reservation was enough: no reallocation happened */
	assert_ptr_equal(b.data, data);
	check_invariant(&b);
	gz_buf_release(&b);
}

static void test_detach(void **state)
{
	struct gz_buf b = GZ_BUF_INIT;
	gz_buf_adds(&b, "hello");
	size_t len = 0;
	char *p = gz_buf_detach(&b, &len);
	assert_string_equal(p, "hello");
	assert_int_equal(len, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	free(p);

	/* an empty buffer detaches to "" which the caller still frees */
	struct gz_buf e = GZ_BUF_INIT;
	len = 99;
	char *q = gz_buf_detach(&e, &len);
	assert_non_null(q);
	assert_string_equal(q, "");
	assert_int_equal(len, 0);
	free(q);

	/* NULL len is allowed; the buffer is reusable afterwards */
	gz_buf_adds(&e, "x");
	char *r = gz_buf_detach(&e, NULL);
	assert_string_equal(r, "x");
	free(r);
	gz_buf_adds(&e, "y");
	assert_string_equal(gz_buf_str(&e), "y");
	gz_buf_release(&e);
}

/* Encodes s and checks that a JSON parser reads back exactly s. */
static void json_round_trip(const char *s, const char *expect_literal)
{
	struct gz_buf b = GZ_BUF_INIT;
	gz_buf_adds(&b, "[");
	gz_buf_add_json_str(&b, s);
	gz_buf_adds(&b, "]");
	check_invariant(&b);
	json_error_t jerr;
	json_t *j = json_loads(gz_buf_str(&b), 0, &jerr);
	if (!j)
		fail_msg("not JSON: %s (%s)", gz_buf_str(&b), jerr.text);
	assert_true(json_is_string(json_array_get(j, 0)));
	assert_string_equal(json_string_value(json_array_get(j, 0)), s);
	if (expect_literal) {
		assert_int_equal(b.len, strlen(expect_literal) + 2);
		assert_memory_equal(b.data + 1, expect_literal, strlen(expect_literal));
	}
	json_decref(j);
	gz_buf_release(&b);
}

static void test_json_str(void **state)
{
	json_round_trip("", "\"\"");
	json_round_trip("plain", "\"plain\"");
	json_round_trip("say \"hi\"", "\"say \\\"hi\\\"\"");
	json_round_trip("back\\slash", "\"back\\\\slash\"");
	json_round_trip("a\nb\rc\td", "\"a\\nb\\rc\\td\"");
	json_round_trip("\x01\x1f", "\"\\u0001\\u001f\"");
	json_round_trip("中文 街道 😀", "\"中文 街道 😀\"");
	json_round_trip("</script>", NULL);
	json_round_trip("\x7f", NULL);
	/* every control character */
	char all[32];
	for (int i = 1; i < 32; i++)
		all[i - 1] = (char)i;
	all[31] = 0;
	json_round_trip(all, NULL);
}

static void test_json_str_appends(void **state)
{
	struct gz_buf b = GZ_BUF_INIT;
	gz_buf_adds(&b, "{\"k\":");
	gz_buf_add_json_str(&b, "v");
	gz_buf_addc(&b, '}');
	assert_string_equal(gz_buf_str(&b), "{\"k\":\"v\"}");
	gz_buf_release(&b);
}

/* Runs fn(arg) in a child and reports whether it aborted cleanly (the child exits
 * 77 if fn returns; a sanitizer-reported memory error does not count as clean). */
static bool dies(void (*fn)(void *), void *arg)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		signal(SIGFPE, SIG_DFL);
		signal(SIGILL, SIG_DFL);
		close(fds[0]);
		dup2(fds[1], 2);
		alarm(5); /* a hang is a failure too */
		fn(arg);
		_exit(77);
	}
	close(fds[1]);
	char text[16384];
	size_t len = 0;
	ssize_t r;
	while ((r = read(fds[0], text + len, sizeof(text) - 1 - len)) > 0)
		len += (size_t)r;
	text[len] = 0;
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (strstr(text, "heap-buffer-overflow") || strstr(text, "SEGV") ||
	    strstr(text, "runtime error"))
		return false;
	if (WIFEXITED(status))
		return WEXITSTATUS(status) != 77 && WEXITSTATUS(status) != 0;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		print_message("# child hung\n");
	return WIFSIGNALED(status) && WTERMSIG(status) != SIGSEGV && WTERMSIG(status) != SIGBUS &&
	       WTERMSIG(status) != SIGALRM;
}

static void grow_huge(void *arg)
{
	struct gz_buf b = GZ_BUF_INIT;
	gz_buf_adds(&b, "abc");
	size_t extra = *(size_t *)arg - b.len;
	gz_buf_grow(&b, extra);
}

/* A reservation whose size overflows must abort, not return a buffer that is too
 * small for what the caller is about to write. */
static void test_grow_overflow_aborts(void **state)
{
	size_t totals[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2 + 7};
	int bad = 0;
	for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++)
		if (!dies(grow_huge, &totals[i])) {
			print_message("# gz_buf_grow to len+extra = %#zx did not abort cleanly\n",
			              totals[i]);
			bad++;
		}
	assert_int_equal(bad, 0);
}

static void expect_buf(void (*add)(struct gz_buf *, const void *), const void *arg,
                       const char *want)
{
	struct gz_buf b = GZ_BUF_INIT;
	gz_buf_adds(&b, "<");
	add(&b, arg);
	gz_buf_adds(&b, ">");
	if (strcmp(b.data, want))
		print_error("got %s, expected %s\n", b.data, want);
	assert_string_equal(b.data, want);
	gz_buf_release(&b);
}

static void add_i64(struct gz_buf *b, const void *v)
{
	gz_buf_add_i64(b, *(const int64_t *)v);
}

static void add_real(struct gz_buf *b, const void *v)
{
	gz_buf_add_json_real(b, *(const double *)v);
}

static void add_str(struct gz_buf *b, const void *v)
{
	gz_buf_add_json_str(b, v);
}

static void test_add_i64(void **state)
{
	(void)state;
	struct {
		int64_t v;
		const char *want;
	} cases[] = {{0, "<0>"},
	             {7, "<7>"},
	             {-1, "<-1>"},
	             {1234567890123, "<1234567890123>"},
	             {INT64_MAX, "<9223372036854775807>"},
	             {INT64_MIN, "<-9223372036854775808>"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_buf(add_i64, &cases[i].v, cases[i].want);
}

/* reals as the JSON library writes them, so that lists and details agree */
static void test_add_json_real(void **state)
{
	(void)state;
	double vals[] = {0.0, 1.0,  -2.5,   39.1397, 117.2803,         1e300,
	                 0.1, 1e-7, -1e-20, 1e21,    123456789012345.0};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		json_t *j = json_real(vals[i]);
		char *text =
		    json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY);
		char want[64];
		snprintf(want, sizeof want, "<%s>", text);
		expect_buf(add_real, &vals[i], want);
		free(text);
		json_decref(j);
	}
	double nan = NAN, inf = INFINITY;
	expect_buf(add_real, &nan, "<null>");
	expect_buf(add_real, &inf, "<null>");
}

/* the escaping reads back to the same string through the JSON library */
static void test_json_str_round_trip(void **state)
{
	(void)state;
	const char *cases[] = {"",     "plain", "社区\"治理\"\\",      "a\nb\rc\td\x01\x1f",
	                       "尾\\", "\"",    "中文 mixed 混合 \x7f"};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gz_buf b = GZ_BUF_INIT;
		gz_buf_add_json_str(&b, cases[i]);
		json_error_t e;
		json_t *j = json_loads(b.data, JSON_DECODE_ANY, &e);
		assert_non_null(j);
		assert_string_equal(json_string_value(j), cases[i]);
		json_decref(j);
		gz_buf_release(&b);
	}
	expect_buf(add_str, "x\"y", "<\"x\\\"y\">");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_empty),
	    cmocka_unit_test(test_add_family),
	    cmocka_unit_test(test_growth_many_small),
	    cmocka_unit_test(test_addf),
	    cmocka_unit_test(test_reset_keeps_capacity),
	    cmocka_unit_test(test_grow_reserves),
	    cmocka_unit_test(test_detach),
	    cmocka_unit_test(test_json_str),
	    cmocka_unit_test(test_json_str_appends),
	    cmocka_unit_test(test_grow_overflow_aborts),
	    cmocka_unit_test(test_add_i64),
	    cmocka_unit_test(test_add_json_real),
	    cmocka_unit_test(test_json_str_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
