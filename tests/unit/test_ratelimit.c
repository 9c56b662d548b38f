/* test_ratelimit.c - unit tests for src/http/ratelimit.c: the token bucket (burst,
 * refill, Retry-After in whole seconds, peek takes nothing), a limit that is off
 * (NULL), keys kept apart, the fixed size under a flood of keys, eviction of the
 * least telling entries (a drained bucket survives a flood), and exact counting
 * from several threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/crypto.h"
#include "http/ratelimit.h"
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define SEC 1000000000LL
#define T0 (1000 * SEC) /* any monotonic time */

static void bucket_burst_and_refill(void **state)
{
	(void)state;
	struct gz_ratelimit *rl = gz_ratelimit_new(2, 3, 64); /* 2 per second, burst 3 */
	for (int i = 0; i < 3; i++)
		assert_int_equal(gz_ratelimit_take_at(rl, "a", 1, T0), 0);
	/* empty: half a token a quarter-second later, so one second to wait */
	assert_int_equal(gz_ratelimit_take_at(rl, "a", 1, T0), 1);
	assert_int_equal(gz_ratelimit_take_at(rl, "a", 1, T0 + SEC / 4), 1);
	/* a refused take takes nothing: at 0.5 s there is exactly one token */
	assert_int_equal(gz_ratelimit_take_at(rl, "a", 1, T0 + SEC / 2), 0);
	assert_int_equal(gz_ratelimit_take_at(rl, "a", 1, T0 + SEC / 2), 1);
	/* refills up to the burst, not beyond */
	for (int i = 0; i < 3; i++)
		assert_int_equal(gz_ratelimit_take_at(rl, "a", 1, T0 + 100 * SEC), 0);
	assert_int_equal(gz_ratelimit_take_at(rl, "a", 1, T0 + 100 * SEC), 1);
	gz_ratelimit_free(rl);
}

static void retry_after_whole_seconds(void **state)
{
	(void)state;
	/* 20 per 900 s: one back every 45 s */
	struct gz_ratelimit *rl = gz_ratelimit_new(20.0 / 900, 20, 64);
	for (int i = 0; i < 20; i++)
		assert_int_equal(gz_ratelimit_take_at(rl, "10.0.0.1", 8, T0), 0);
	assert_int_equal(gz_ratelimit_peek_at(rl, "10.0.0.1", 8, T0), 45);
	assert_int_equal(gz_ratelimit_peek_at(rl, "10.0.0.1", 8, T0 + 44 * SEC + SEC / 2), 1);
	assert_int_equal(gz_ratelimit_peek_at(rl, "10.0.0.1", 8, T0 + 45 * SEC), 0);
	gz_ratelimit_free(rl);
}

static void peek_takes_nothing(void **state)
{
	(void)state;
	struct gz_ratelimit *rl = gz_ratelimit_new(1, 1, 64);
	for (int i = 0; i < 10; i++)
		assert_int_equal(gz_ratelimit_peek_at(rl, "k", 1, T0), 0);
	/* a peek at an unknown key remembers nothing */
	assert_int_equal(gz_ratelimit_used(rl), 0);
	assert_int_equal(gz_ratelimit_take_at(rl, "k", 1, T0), 0);
	assert_int_equal(gz_ratelimit_peek_at(rl, "k", 1, T0), 1);
	assert_int_equal(gz_ratelimit_take_at(rl, "k", 1, T0), 1);
	gz_ratelimit_free(rl);
}

static void off_allows_everything(void **state)
{
	(void)state;
	assert_null(gz_ratelimit_new(0, 10, 64));
	assert_null(gz_ratelimit_new(-1, 10, 64));
	for (int i = 0; i < 1000; i++)
		assert_int_equal(gz_ratelimit_take(NULL, "x", 1), 0);
	assert_int_equal(gz_ratelimit_peek(NULL, "x", 1), 0);
	assert_int_equal(gz_ratelimit_capacity(NULL), 0);
	gz_ratelimit_free(NULL);
}

static void keys_apart(void **state)
{
	(void)state;
	struct gz_ratelimit *rl = gz_ratelimit_new(1, 2, 64);
	int64_t a = 7, b = 8;
	assert_int_equal(gz_ratelimit_take_at(rl, &a, sizeof(a), T0), 0);
	assert_int_equal(gz_ratelimit_take_at(rl, &a, sizeof(a), T0), 0);
	assert_int_equal(gz_ratelimit_take_at(rl, &a, sizeof(a), T0), 1);
	assert_int_equal(gz_ratelimit_take_at(rl, &b, sizeof(b), T0), 0);
	/* the real clock works too */
	assert_int_equal(gz_ratelimit_take(rl, "c", 1), 0);
	gz_ratelimit_free(rl);
}

static void fixed_size_under_a_flood(void **state)
{
	(void)state;
	struct gz_ratelimit *rl = gz_ratelimit_new(1, 5, 100);
	size_t cap = gz_ratelimit_capacity(rl);
	assert_true(cap >= 100 && cap <= 256);
	char key[32];
	for (int i = 0; i < 100000; i++) {
		snprintf(key, sizeof key, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		assert_int_equal(gz_ratelimit_take_at(rl, key, strlen(key), T0 + i), 0);
	}
	assert_true(gz_ratelimit_used(rl) <= cap);
	assert_int_equal(gz_ratelimit_capacity(rl), cap);
	gz_ratelimit_free(rl);
}

/* An attacker who drained its bucket cannot get a fresh one by flooding the table
 * with new keys: those are fuller than its bucket and go first. */
static void drained_bucket_survives_a_flood(void **state)
{
	(void)state;
	struct gz_ratelimit *rl = gz_ratelimit_new(0.001, 5, 64);
	for (int i = 0; i < 5; i++)
		assert_int_equal(gz_ratelimit_take_at(rl, "attacker", 8, T0), 0);
	assert_true(gz_ratelimit_take_at(rl, "attacker", 8, T0) > 0);
	char key[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof key, "flood-%d", i);
		gz_ratelimit_take_at(rl, key, strlen(key), T0 + 1);
	}
	assert_true(gz_ratelimit_take_at(rl, "attacker", 8, T0 + 2) > 0);
	gz_ratelimit_free(rl);
}

struct race {
	struct gz_ratelimit *rl;
	int allowed;
};

static void *racer(void *p)
{
	struct race *r = p;
	for (int i = 0; i < 5000; i++)
		if (gz_ratelimit_take_at(r->rl, "shared", 6, T0) == 0)
			r->allowed++;
	return NULL;
}

static void counts_exactly_across_threads(void **state)
{
	(void)state;
	struct gz_ratelimit *rl = gz_ratelimit_new(1, 7000, 64);
	pthread_t t[4];
	struct race r[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct race){rl, 0};
		pthread_create(&t[i], NULL, racer, &r[i]);
	}
	int total = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		total += r[i].allowed;
	}
	assert_int_equal(total, 7000);
	gz_ratelimit_free(rl);
}

int main(void)
{
	if (gz_crypto_init())
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(bucket_burst_and_refill),
	    cmocka_unit_test(retry_after_whole_seconds),
	    cmocka_unit_test(peek_takes_nothing),
	    cmocka_unit_test(off_allows_everything),
	    cmocka_unit_test(keys_apart),
	    cmocka_unit_test(fixed_size_under_a_flood),
	    cmocka_unit_test(drained_bucket_survives_a_flood),
	    cmocka_unit_test(counts_exactly_across_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
