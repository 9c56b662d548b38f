/* test_timefmt.c - unit tests for src/core/timefmt.c: ISO-8601 formatting and
 * parsing (offsets, milliseconds, negative times, leap days, date-only as Shanghai
 * midnight, rejection of out-of-range fields and junk), weekdays of known dates, and
 * civil date <-> day number against an independent day count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/timefmt.h"
#include <stdio.h>
#include <string.h>

#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)

/* Parses s or fails the test naming s. */
static int64_t parse_ok(const char *s)
{
	int64_t ms = INT64_MIN;
	if (!gz_time_parse(s, &ms))
		fail_msg("gz_time_parse rejected \"%s\"", s);
	return ms;
}

static void expect_parse(const char *s, int64_t want)
{
	int64_t got = parse_ok(s);
	if (got != want)
		fail_msg("\"%s\" parsed to %lld, want %lld", s, (long long)got, (long long)want);
}

static void expect_format(int64_t ms, const char *want)
{
	char buf[GZ_TIME_BUF];
	memset(buf, 'x', sizeof(buf));
	gz_time_format(ms, buf, sizeof(buf));
	if (strcmp(buf, want) != 0)
		fail_msg("%lld formatted as \"%s\", want \"%s\"", (long long)ms, buf, want);
}

static void expect_reject(const char *s)
{
	int64_t ms = 12345;
	if (gz_time_parse(s, &ms))
		fail_msg("gz_time_parse accepted \"%s\" as %lld", s, (long long)ms);
}

static void test_format_known(void **state)
{
	expect_format(0, "1970-01-01T08:00:00+08:00");
	expect_format(INT64_C(1795845900000), "2026-11-28T14:05:00+08:00");
	expect_format(INT64_C(1795845900123), "2026-11-28T14:05:00.123+08:00");
	expect_format(INT64_C(1795845900007), "2026-11-28T14:05:00.007+08:00");
	/* 16:00Z is already the next day in Shanghai */
	expect_format(INT64_C(1795795200000) - 1, "2026-11-27T23:59:59.999+08:00");
	expect_format(INT64_C(1709179200000), "2024-02-29T12:00:00+08:00");
}

static void test_format_negative(void **state)
{
	expect_format(-1, "1970-01-01T07:59:59.999+08:00");
	expect_format(-8 * HOUR_MS, "1970-01-01T00:00:00+08:00");
	expect_format(-8 * HOUR_MS - 1, "1969-12-31T23:59:59.999+08:00");
	expect_format(INT64_C(-2208988800000), "1900-01-01T08:00:00+08:00");
	expect_format(INT64_C(-14182940000), "1969-07-21T04:17:40+08:00");
}

/* years outside four digits, and buffers too small: cut like snprintf, never overrun */
static void test_format_edges(void **state)
{
	/* 0999-01-01T00:00:00+08:00 */
	expect_format(gz_days_from_civil(999, 1, 1) * 86400000 - 8 * 3600000,
	              "0999-01-01T00:00:00+08:00");
	expect_format(gz_days_from_civil(10000, 1, 1) * 86400000 - 8 * 3600000,
	              "10000-01-01T00:00:00+08:00");
	char small[12];
	memset(small, 'x', sizeof(small));
	gz_time_format(0, small, 11);
	assert_string_equal(small, "1970-01-01");
	assert_int_equal(small[11], 'x');
	gz_time_format(INT64_C(1795845900123), small, 1);
	assert_string_equal(small, "");
}

static void test_parse_offsets(void **state)
{
	const int64_t t = INT64_C(1795845900000); /* 2026-11-28 06:05:00 UTC */
	expect_parse("2026-11-28T14:05:00+08:00", t);
	expect_parse("2026-11-28T14:05:00+0800", t);
	expect_parse("2026-11-28T06:05:00Z", t);
	expect_parse("2026-11-28T01:05:00-05:00", t);
	expect_parse("2026-11-28T01:05:00-0500", t);
	expect_parse("2026-11-28T11:35:00+0530", t);
	expect_parse("2026-11-28T11:35:00+05:30", t);
	expect_parse("2026-11-27T20:05:00-10:00", t);
	/* no offset means Shanghai; seconds may be left out */
	expect_parse("2026-11-28T14:05:00", t);
	expect_parse("2026-11-28T14:05", t);
	expect_parse("2026-11-28T06:05Z", t);
}

static void test_parse_ms(void **state)
{
	const int64_t t = INT64_C(1795845900000);
	expect_parse("2026-11-28T14:05:00.123+08:00", t + 123);
	expect_parse("2026-11-28T06:05:00.999Z", t + 999);
	expect_parse("2026-11-28T06:05:00.001Z", t + 1);
	expect_parse("2026-11-28T06:05:00.000Z", t);
	expect_parse("2026-11-28T06:05:59.500Z", t + 59500);
}

static void test_parse_negative(void **state)
{
	expect_parse("1970-01-01T00:00:00Z", 0);
	expect_parse("1969-12-31T23:59:59.999Z", -1);
	expect_parse("1970-01-01T07:59:59.999+08:00", -1);
	expect_parse("1900-01-01T00:00:00Z", INT64_C(-2208988800000));
	expect_parse("1969-07-20T20:17:40Z", INT64_C(-14182940000));
	expect_parse("0001-01-01T00:00:00Z", INT64_C(-62135596800000));
}

static void test_round_trip(void **state)
{
	/* format then parse gives the instant back, over a wide range and odd values */
	int64_t samples[] = {0,
	                     1,
	                     -1,
	                     999,
	                     -999,
	                     INT64_C(1795845900123),
	                     INT64_C(-2208988800001),
	                     INT64_C(951782400000),    /* 2000-02-29T00:00Z */
	                     INT64_C(253402300799999), /* 9999-12-31T23:59:59.999Z */
	                     INT64_C(-62135596800000) + 8 * 3600000};
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		char buf[GZ_TIME_BUF];
		gz_time_format(samples[i], buf, sizeof(buf));
		if (samples[i] == INT64_C(253402300799999))
			continue; /* year 10000 in Shanghai: not representable in 4 digits */
		expect_parse(buf, samples[i]);
	}
	/* a pseudo-random walk through 1901..2099 at odd milliseconds */
	uint64_t x = 88172645463325252u;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int64_t ms = (int64_t)(x % UINT64_C(6311390400000)) - INT64_C(2177452800000);
		char buf[GZ_TIME_BUF];
		gz_time_format(ms, buf, sizeof(buf));
		int64_t back = 0;
		if (!gz_time_parse(buf, &back) || back != ms)
			fail_msg("%lld -> \"%s\" -> %lld", (long long)ms, buf, (long long)back);
	}
}

static void test_leap_days(void **state)
{
	expect_parse("2024-02-29T12:00:00+08:00", INT64_C(1709179200000));
	expect_parse("2000-02-29T00:00:00Z", INT64_C(951782400000));
	expect_parse("2024-03-01T00:00:00+08:00", parse_ok("2024-02-29T00:00:00+08:00") + DAY_MS);
	expect_parse("2023-03-01T00:00:00+08:00", parse_ok("2023-02-28T00:00:00+08:00") + DAY_MS);
	expect_reject("2026-02-29T00:00:00Z");
	expect_reject("2026-02-30T00:00:00Z");
	expect_reject("1900-02-29T00:00:00Z"); /* divisible by 100, not by 400 */
	expect_reject("2100-02-29");
	int64_t ms;
	assert_true(gz_time_parse("2000-02-29", &ms));
	assert_true(gz_time_parse("2400-02-29", &ms));
}

static void test_date_only_is_shanghai_midnight(void **state)
{
	expect_parse("2026-11-28", INT64_C(1795795200000));
	expect_parse("2026-11-28", parse_ok("2026-11-28T00:00:00+08:00"));
	expect_parse("2026-11-28", parse_ok("2026-11-27T16:00:00Z"));
	expect_parse("1970-01-01", -8 * HOUR_MS);
	char buf[GZ_TIME_BUF];
	gz_time_format(parse_ok("2026-11-28"), buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-28T00:00:00+08:00");
}

static void test_rejects(void **state)
{
	const char *bad[] = {
	    "",
	    "garbage",
	    "2026",
	    "2026-11",
	    "2026-13-01",
	    "2026-00-10",
	    "2026-11-00",
	    "2026-11-31",
	    "2026-12-32",
	    "2026-13-01T00:00:00Z",
	    "2026-02-30T10:00:00+08:00",
	    "2026-04-31T10:00:00+08:00",
	    "2026-11-28T24:00:00+08:00",
	    "2026-11-28T23:60:00+08:00",
	    "2026-11-28T23:59:60+08:00",
	    "2026-11-28T1:05:00+08:00",
	    "2026-1-28T10:05:00+08:00",
	    "26-11-28T10:05:00+08:00",
	    "2026/11/28T10:05:00+08:00",
	    "2026-11-28T10-05-00+08:00",
	    "2026-11-28T10:05:00+08:00x",
	    "2026-11-28T10:05:00Zjunk",
	    "2026-11-28T10:05:00 ",
	    " 2026-11-28T10:05:00",
	    "2026-11-28x",
	    "2026-11-28 ",
	    "2026-11-28T",
	    "2026-11-28T10",
	    "2026-11-28T10:",
	    "2026-11-28T10:5",
	    "2026-11-28T10:05:",
	    "2026-11-28T10:05:0",
	    "2026-11-28T10:05:00.",
	    "2026-11-28T10:05:00.+08:00",
	    "2026-11-28T10:05:00+8:00",
	    "2026-11-28T10:05:00+08:",
	    "2026-11-28T10:05:00+08:0",
	    "2026-11-28T10:05:00+08:60",
	    "2026-11-28T10:05:00+24:00",
	    "2026-11-28T10:05:00+",
	    "2026-11-28T10:05:00Z+08:00",
	    "2026-11-28T10:05:00.12a",
	    "0000-01-01",
	    "abcd-ef-gh",
	    "+2026-11-28",
	    "-2026-11-28",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_reject(bad[i]);
}

static void test_weekday_known(void **state)
{
	/* 0 = Monday ... 6 = Sunday */
	static const struct {
		int y;
		unsigned m, d;
		int wd;
	} known[] = {
	    {1970, 1, 1, 3},   /* Thursday */
	    {1969, 12, 31, 2}, /* Wednesday */
	    {2026, 11, 28, 5}, /* Saturday */
	    {2000, 2, 29, 1},  /* Tuesday */
	    {1969, 7, 20, 6},  /* Sunday */
	    {1900, 1, 1, 0},   /* Monday */
	    {1949, 10, 1, 5},  /* Saturday */
	    {2024, 2, 29, 3},  /* Thursday */
	    {1, 1, 1, 0},      /* proleptic Gregorian: Monday */
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		int64_t days = gz_days_from_civil(known[i].y, known[i].m, known[i].d);
		int wd = gz_weekday(days);
		if (wd != known[i].wd)
			fail_msg("%04d-%02u-%02u: weekday %d, want %d", known[i].y, known[i].m,
			         known[i].d, wd, known[i].wd);
	}
	/* consecutive days cycle through the week, also before the epoch */
	for (int64_t d = -1000; d < 1000; d++)
		assert_int_equal(gz_weekday(d + 1), (gz_weekday(d) + 1) % 7);
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int y, unsigned m)
{
	static const unsigned md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return md[m - 1] + (m == 2 && is_leap(y));
}

/* An independent day count: walk day by day from 1970-01-01 in both directions and
 * compare with both conversions. */
static void test_civil_days_against_walk(void **state)
{
	int y = 1970;
	unsigned m = 1, d = 1;
	for (int64_t z = 0; z <= 200000; z++) { /* to the year 2517 */
		if (gz_days_from_civil(y, m, d) != z)
			fail_msg("days_from_civil(%d-%u-%u) != %lld", y, m, d, (long long)z);
		int cy;
		unsigned cm, cd;
		gz_civil_from_days(z, &cy, &cm, &cd);
		if (cy != y || cm != m || cd != d)
			fail_msg("civil_from_days(%lld) = %d-%u-%u, want %d-%u-%u", (long long)z,
			         cy, cm, cd, y, m, d);
		if (++d > month_days(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
	y = 1970, m = 1, d = 1;
	for (int64_t z = 0; z >= -800000; z--) { /* to the year -221 */
		int cy;
		unsigned cm, cd;
		gz_civil_from_days(z, &cy, &cm, &cd);
		if (cy != y || cm != m || cd != d || gz_days_from_civil(y, m, d) != z)
			fail_msg("day %lld: got %d-%u-%u, want %d-%u-%u", (long long)z, cy, cm, cd,
			         y, m, d);
		if (--d == 0) {
			if (--m == 0) {
				m = 12;
				y--;
			}
			d = month_days(y, m);
		}
	}
}

static void test_civil_round_trip_wide(void **state)
{
	/* +-5 million years, sparsely */
	for (int64_t z = -1800000000; z <= 1800000000; z += 7919) {
		int y;
		unsigned m, d;
		gz_civil_from_days(z, &y, &m, &d);
		assert_in_range(m, 1, 12);
		assert_in_range(d, 1, month_days(y, m));
		if (gz_days_from_civil(y, m, d) != z)
			fail_msg("round trip of day %lld via %d-%u-%u", (long long)z, y, m, d);
	}
}

static void test_date_parse_format(void **state)
{
	int64_t days = 0;
	assert_true(gz_date_parse("1970-01-01", &days));
	assert_int_equal(days, 0);
	assert_true(gz_date_parse("2026-11-28", &days));
	assert_int_equal(days, 20785);
	assert_true(gz_date_parse("1969-12-31", &days));
	assert_int_equal(days, -1);
	char buf[11];
	gz_date_format(20785, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-28");
	gz_date_format(-1, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31");
	gz_date_format(gz_days_from_civil(2024, 2, 29), buf, sizeof(buf));
	assert_string_equal(buf, "2024-02-29");
	const char *bad[] = {"2026-02-30", "2026-13-01",  "2026-11-28T00:00", "2026-11-2",
	                     "",           "2026-11-28 ", "x026-11-28"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		days = 777;
		if (gz_date_parse(bad[i], &days))
			fail_msg("gz_date_parse accepted \"%s\"", bad[i]);
	}
}

static void test_shanghai_day(void **state)
{
	int64_t d1128 = gz_days_from_civil(2026, 11, 28);
	assert_int_equal(gz_shanghai_day(parse_ok("2026-11-28T00:00:00+08:00")), d1128);
	assert_int_equal(gz_shanghai_day(parse_ok("2026-11-28T23:59:59.999+08:00")), d1128);
	assert_int_equal(gz_shanghai_day(parse_ok("2026-11-28T16:00:00Z")), d1128 + 1);
	assert_int_equal(gz_shanghai_day(parse_ok("2026-11-28T15:59:59.999Z")), d1128);
	assert_int_equal(gz_shanghai_day(0), 0);
	assert_int_equal(gz_shanghai_day(-1), 0);
	assert_int_equal(gz_shanghai_day(-8 * HOUR_MS), 0);
	assert_int_equal(gz_shanghai_day(-8 * HOUR_MS - 1), -1);
	assert_int_equal(gz_shanghai_day(INT64_C(-2208988800000)), gz_days_from_civil(1900, 1, 1));
}

static void test_clocks(void **state)
{
	int64_t now = gz_now_ms();
	/* after 2024-01-01 and before 2100-01-01 */
	assert_true(now > INT64_C(1704067200000));
	assert_true(now < INT64_C(4102444800000));
	int64_t a = gz_monotonic_ns(), b = gz_monotonic_ns();
	assert_true(b >= a);
	assert_true(a > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_known),
	    cmocka_unit_test(test_format_negative),
	    cmocka_unit_test(test_format_edges),
	    cmocka_unit_test(test_parse_offsets),
	    cmocka_unit_test(test_parse_ms),
	    cmocka_unit_test(test_parse_negative),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_leap_days),
	    cmocka_unit_test(test_date_only_is_shanghai_midnight),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_weekday_known),
	    cmocka_unit_test(test_civil_days_against_walk),
	    cmocka_unit_test(test_civil_round_trip_wide),
	    cmocka_unit_test(test_date_parse_format),
	    cmocka_unit_test(test_shanghai_day),
	    cmocka_unit_test(test_clocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
