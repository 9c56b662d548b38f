/* test_credit_code.c - unit tests for src/model/credit_code.c: GB 32100-2015
 * unified social credit codes.  The test carries its own implementation of the check
 * character (code set without I, O, Z, S, V; weights 3^i mod 31) to cross-check real
 * codes and thousands of generated ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/entity.h"
#include <stdio.h>
#include <string.h>

/* GB 32100-2015: the 31 characters, in value order. */
static const char CHARSET[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int char_value(char c)
{
	const char *p = c ? strchr(CHARSET, c) : NULL;
	return p ? (int)(p - CHARSET) : -1;
}

/* The check character for the first 17 characters, or 0 when one is not allowed.
 * Weight of position i is 3^i mod 31 (1, 3, 9, 27, 19, 26, 16, ...). */
static char reference_check(const char *c17)
{
	int sum = 0, w = 1;
	for (int i = 0; i < 17; i++) {
		int v = char_value(c17[i]);
		if (v < 0)
			return 0;
		sum += v * w;
		w = w * 3 % 31;
	}
	return CHARSET[(31 - sum % 31) % 31];
}

static void test_reference_weights(void **state)
{
	/* the standard's table, to make sure the reference above is right */
	static const int weights[17] = {1,  3,  9,  27, 19, 26, 16, 17, 20,
	                                29, 25, 13, 8,  24, 10, 30, 28};
	int w = 1;
	for (int i = 0; i < 17; i++) {
		assert_int_equal(w, weights[i]);
		w = w * 3 % 31;
	}
	assert_int_equal(strlen(CHARSET), 31);
}

/* Codes of registered organisations, their check characters confirmed by the
 * reference implementation above. */
static const char *const valid_codes[] = {
    "91350100M000100Y43", /* check character 3 */
    "91110000600037341L", /* check character L */
    "91310000775785552L", "91440300708461136T",
    "911201026005975777", /* 911201026005975779 with its correct check character */
};

static void test_valid_codes(void **state)
{
	for (size_t i = 0; i < sizeof(valid_codes) / sizeof(valid_codes[0]); i++) {
		const char *c = valid_codes[i];
		assert_int_equal(strlen(c), 18);
		assert_int_equal(reference_check(c), c[17]);
		if (!gz_credit_code_valid(c))
			fail_msg("%s rejected", c);
	}
}

/* Every other check character makes each valid code invalid. */
static void test_wrong_check_character(void **state)
{
	assert_false(gz_credit_code_valid("911201026005975779"));
	assert_false(gz_credit_code_valid("91350100M000100Y44"));
	assert_false(gz_credit_code_valid("91110000600037341K"));
	for (size_t i = 0; i < sizeof(valid_codes) / sizeof(valid_codes[0]); i++) {
		char c[19];
		memcpy(c, valid_codes[i], 19);
		for (int k = 0; k < 31; k++) {
			if (CHARSET[k] == valid_codes[i][17])
				continue;
			c[17] = CHARSET[k];
			if (gz_credit_code_valid(c))
				fail_msg("%s accepted", c);
		}
	}
}

/* Generated codes: registration authority 9, type 1, six-digit area code, nine
 * organisation characters; the right check character passes, and a changed body
 * character (check kept) fails. */
static void test_generated_codes(void **state)
{
	uint32_t x = 2463534242u;
	for (int n = 0; n < 5000; n++) {
		char c[19] = "91";
		for (int i = 2; i < 8; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			c[i] = (char)('0' + x % 10);
		}
		for (int i = 8; i < 17; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			c[i] = CHARSET[x % 31];
		}
		c[17] = reference_check(c);
		c[18] = 0;
		if (!gz_credit_code_valid(c))
			fail_msg("generated %s rejected", c);
		/* any single substitution in the body changes the check character */
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		int pos = 8 + (int)(x % 9);
		char saved = c[pos];
		c[pos] = CHARSET[(char_value(saved) + 1 + (int)(x % 30)) % 31];
		if (gz_credit_code_valid(c))
			fail_msg("%s accepted after changing position %d", c, pos);
		c[pos] = saved;
	}
}

static void test_wrong_length(void **state)
{
	assert_false(gz_credit_code_valid(""));
	assert_false(gz_credit_code_valid("91350100M000100Y4"));   /* 17 */
	assert_false(gz_credit_code_valid("91350100M000100Y433")); /* 19 */
	assert_false(gz_credit_code_valid("91350100M000100Y43 "));
	assert_false(gz_credit_code_valid(" 91350100M000100Y43"));
	/* 19 characters whose first 18 are a valid code */
	char c[40];
	snprintf(c, sizeof(c), "%s0", valid_codes[0]);
	assert_false(gz_credit_code_valid(c));
	/* an 18-digit resident id number is not a credit code */
	assert_false(gz_credit_code_valid("11010119900307777X"));
}

/* I, O, Z, S and V are not in the code set anywhere, so no check character can
 * make a code that contains one valid. */
static void test_forbidden_letters(void **state)
{
	const char forbidden[] = "IOZSV";
	for (const char *f = forbidden; *f; f++) {
		for (int pos = 0; pos < 18; pos++) {
			char c[19];
			memcpy(c, valid_codes[0], 19);
			c[pos] = *f;
			if (pos == 17) {
				if (gz_credit_code_valid(c))
					fail_msg("%s accepted", c);
				continue;
			}
			for (int k = 0; k < 31; k++) {
				c[17] = CHARSET[k];
				if (gz_credit_code_valid(c))
					fail_msg("%s accepted", c);
			}
		}
	}
}

static void test_lower_case_rejected(void **state)
{
	assert_false(gz_credit_code_valid("91350100m000100y43"));
	assert_false(gz_credit_code_valid("91110000600037341l"));
	/* lower case only in the check character */
	assert_false(gz_credit_code_valid("91440300708461136t"));
	/* other junk in an otherwise valid code */
	assert_false(gz_credit_code_valid("91350100M000100-43"));
	assert_false(gz_credit_code_valid("91350100M000100\xe4\xb8\xad"));
}

static void test_check_credit_code_reports_field(void **state)
{
	struct gz_err e;
	gz_err_clear(&e);
	assert_int_equal(gz_check_credit_code(valid_codes[1], "credit_code", &e), 0);
	assert_int_equal(gz_check_credit_code("91110000600037341K", "credit_code", &e), -1);
	assert_int_equal(e.code, GZ_E_VALIDATION);
	assert_string_equal(e.field, "credit_code");
	assert_true(strlen(e.message) > 0);
	gz_err_clear(&e);
	assert_int_equal(gz_check_credit_code("short", "uscc", &e), -1);
	assert_string_equal(e.field, "uscc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reference_weights),
	    cmocka_unit_test(test_valid_codes),
	    cmocka_unit_test(test_wrong_check_character),
	    cmocka_unit_test(test_generated_codes),
	    cmocka_unit_test(test_wrong_length),
	    cmocka_unit_test(test_forbidden_letters),
	    cmocka_unit_test(test_lower_case_rejected),
	    cmocka_unit_test(test_check_credit_code_reports_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
