/* test_arena.c - unit tests for src/core/arena.c: alignment, block growth, copies,
 * the defer list, reuse after release, and aborting (not corrupting) on sizes that
 * cannot be allocated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/arena.h"
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs fn(arg) in a child process and reports whether the child aborted cleanly
 * instead of returning.  The child exits 77 when fn returns.  A death caused by a
 * memory error (which the sanitizers report) is not a clean abort: it means the code
 * went on as if the allocation had succeeded. */
static bool dies(void (*fn)(void *), void *arg)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka's handlers would longjmp back into the runner in the child */
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
	static const char *const memory_errors[] = {"heap-buffer-overflow", "SEGV", "runtime error",
	                                            "use-after-free", "stack-buffer-overflow"};
	for (size_t i = 0; i < sizeof(memory_errors) / sizeof(memory_errors[0]); i++)
		if (strstr(text, memory_errors[i])) {
			for (char *c = text; *c; c++)
				if (*c == '\n')
					*c = ' ';
			print_message("# child died of a memory error: %.200s\n", text);
			return false;
		}
	if (WIFEXITED(status))
		return WEXITSTATUS(status) != 77 && WEXITSTATUS(status) != 0;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		print_message("# child hung\n");
	return WIFSIGNALED(status) && WTERMSIG(status) != SIGSEGV && WTERMSIG(status) != SIGBUS &&
	       WTERMSIG(status) != SIGALRM;
}

static void test_alloc_aligned_distinct_writable(void **state)
{
	struct gz_arena a;
	gz_arena_init(&a);
	assert_int_equal(a.total, 0);
	unsigned char *prev = NULL;
	for (size_t n = 1; n < 200; n++) {
		unsigned char *p = gz_alloc(&a, n);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		assert_true(p != prev);
		memset(p, (int)(n & 0xff), n);
		prev = p;
	}
	assert_true(a.total >= 199 * 200 / 2);
	gz_arena_release(&a);
	assert_int_equal(a.total, 0);
	assert_null(a.head);
}

static void test_alloc_zero(void **state)
{
	struct gz_arena a;
	gz_arena_init(&a);
	void *p = gz_alloc(&a, 0);
	assert_non_null(p);
	void *q = gz_zalloc(&a, 0);
	assert_non_null(q);
	gz_arena_release(&a);
}

/* Allocations must never overlap: fill each with its own byte, verify them all at
 * the end, across many block boundaries and a few oversize blocks. */
static void test_no_overlap_across_blocks(void **state)
{
	struct gz_arena a;
	gz_arena_init(&a);
	enum { N = 5000 };
	static unsigned char *ptr[N];
	static size_t len[N];
	unsigned seed = 12345;
	for (int i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		len[i] = (seed >> 16) % 300;
		if (i % 997 == 0)
			len[i] = 20000 + (size_t)i; /* larger than a block */
		ptr[i] = gz_alloc(&a, len[i]);
		memset(ptr[i], i & 0xff, len[i]);
	}
	for (int i = 0; i < N; i++)
		for (size_t k = 0; k < len[i]; k++)
			if (ptr[i][k] != (unsigned char)(i & 0xff))
				fail_msg("allocation %d byte %zu overwritten", i, k);
	gz_arena_release(&a);
}

static void test_large_allocation(void **state)
{
	struct gz_arena a;
	gz_arena_init(&a);
	char *small = gz_strdup(&a, "before");
	size_t big = (size_t)3 << 20;
	unsigned char *p = gz_alloc(&a, big);
	memset(p, 0x5a, big);
	char *after = gz_strdup(&a, "after");
	assert_string_equal(small, "before");
	assert_string_equal(after, "after");
	assert_int_equal(p[0], 0x5a);
	assert_int_equal(p[big - 1], 0x5a);
	assert_true(a.total >= big);
	gz_arena_release(&a);
}

static void test_zalloc_zeroes(void **state)
{
	struct gz_arena a;
	gz_arena_init(&a);
	/* dirty memory that malloc is likely to hand back after the release */
	unsigned char *p = gz_alloc(&a, 3000);
	memset(p, 0xab, 3000);
	gz_arena_release(&a);
	unsigned char *z = gz_zalloc(&a, 3000);
	for (size_t i = 0; i < 3000; i++)
		if (z[i] != 0)
			fail_msg("byte %zu is %#x", i, z[i]);
	unsigned char *z2 = gz_zalloc(&a, 100);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(z2[i], 0);
	gz_arena_release(&a);
}

static void test_strdup_strndup(void **state)
{
	struct gz_arena a;
	gz_arena_init(&a);
	const char *src = "社区网格 grid";
	char *d = gz_strdup(&a, src);
	assert_string_equal(d, src);
	assert_ptr_not_equal(d, src);
	assert_null(gz_strdup(&a, NULL));
	assert_null(gz_strndup(&a, NULL, 3));
	char *n = gz_strndup(&a, "abcdef", 3);
	assert_string_equal(n, "abc");
	char *e = gz_strndup(&a, "abcdef", 0);
	assert_string_equal(e, "");
	/* strndup copies exactly n bytes even past an embedded NUL-free prefix */
	char *w = gz_strndup(&a, "xy", 2);
	assert_int_equal(w[2], 0);
	gz_arena_release(&a);
}

static char *call_vsprintf(struct gz_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = gz_vsprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

static void test_sprintf(void **state)
{
	struct gz_arena a;
	gz_arena_init(&a);
	assert_string_equal(gz_sprintf(&a, "%s-%d-%lld", "wo", 42, (long long)-7), "wo-42--7");
	assert_string_equal(gz_sprintf(&a, "%s", ""), "");
	char *big = gz_sprintf(&a, "%10000d|", 5);
	assert_int_equal(strlen(big), 10001);
	assert_int_equal(big[9999], '5');
	assert_int_equal(big[10000], '|');
	assert_string_equal(call_vsprintf(&a, "%s=%u", "k", 7u), "k=7");
	gz_arena_release(&a);
}

static int order[8];
static int norder;

static void record(void *p)
{
	order[norder++] = *(int *)p;
}

static void test_defer_reverse_order_once(void **state)
{
	struct gz_arena a;
	gz_arena_init(&a);
	static int v[3] = {1, 2, 3};
	norder = 0;
	for (int i = 0; i < 3; i++)
		gz_defer(&a, record, &v[i]);
	assert_int_equal(norder, 0);
	gz_arena_release(&a);
	assert_int_equal(norder, 3);
	assert_int_equal(order[0], 3);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 1);
	/* a second release runs nothing again */
	gz_arena_release(&a);
	assert_int_equal(norder, 3);
}

static void test_defer_free_heap(void **state)
{
	/* the usual use: hand a heap object to the arena (ASan reports a leak if not run) */
	struct gz_arena a;
	gz_arena_init(&a);
	char *heap = malloc(64);
	assert_non_null(heap);
	strcpy(heap, "owned by the arena");
	gz_defer(&a, free, heap);
	gz_arena_release(&a);
}

static void test_reuse_after_release(void **state)
{
	struct gz_arena a;
	gz_arena_init(&a);
	for (int round = 0; round < 3; round++) {
		norder = 0;
		static int v = 9;
		gz_defer(&a, record, &v);
		char *s = gz_sprintf(&a, "round %d", round);
		assert_true(a.total > 0);
		char want[16];
		snprintf(want, sizeof(want), "round %d", round);
		assert_string_equal(s, want);
		gz_arena_release(&a);
		assert_int_equal(norder, 1);
		assert_int_equal(a.total, 0);
		assert_null(a.defers);
	}
}

static void alloc_huge(void *arg)
{
	struct gz_arena a;
	gz_arena_init(&a);
	size_t n = *(size_t *)arg;
	/* returning at all means the arena claims to have handed out n bytes */
	(void)gz_alloc(&a, n);
}

/* A size that cannot be allocated must abort (GZ_BUG or out-of-memory), never return
 * a pointer to a block smaller than asked for. */
static void test_huge_sizes_abort(void **state)
{
	size_t sizes[] = {SIZE_MAX, SIZE_MAX - 3, SIZE_MAX - 15, SIZE_MAX - 31, SIZE_MAX / 2 + 1};
	int bad = 0;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (!dies(alloc_huge, &sizes[i])) {
			print_message("# gz_alloc(%#zx) did not abort cleanly\n", sizes[i]);
			bad++;
		}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alloc_aligned_distinct_writable),
	    cmocka_unit_test(test_alloc_zero),
	    cmocka_unit_test(test_no_overlap_across_blocks),
	    cmocka_unit_test(test_large_allocation),
	    cmocka_unit_test(test_zalloc_zeroes),
	    cmocka_unit_test(test_strdup_strndup),
	    cmocka_unit_test(test_sprintf),
	    cmocka_unit_test(test_defer_reverse_order_once),
	    cmocka_unit_test(test_defer_free_heap),
	    cmocka_unit_test(test_reuse_after_release),
	    cmocka_unit_test(test_huge_sizes_abort),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
