/* test_err.c - unit tests for src/core/err.c: every error code maps to the HTTP
 * status and code string of the API contract, strings map back to codes, and
 * gz_fail / gz_fail_field fill the error and return -1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include <string.h>

/* The API contract table, written out independently of GZ_ERRORS. */
static const struct {
	enum gz_code code;
	int status;
	const char *str;
} contract[] = {
    {GZ_OK, 200, "ok"},
    {GZ_E_BAD_REQUEST, 400, "bad_request"},
    {GZ_E_INVALID_JSON, 400, "invalid_json"},
    {GZ_E_VALIDATION, 400, "validation_failed"},
    {GZ_E_UNKNOWN_FIELD, 400, "unknown_field"},
    {GZ_E_UNAUTHENTICATED, 401, "unauthenticated"},
    {GZ_E_TOTP_REQUIRED, 401, "totp_required"},
    {GZ_E_FORBIDDEN, 403, "forbidden"},
    {GZ_E_CSRF, 403, "csrf_failed"},
    {GZ_E_TOTP_ENROLMENT, 403, "totp_enrolment_required"},
    {GZ_E_NOT_FOUND, 404, "not_found"},
    {GZ_E_METHOD, 405, "method_not_allowed"},
    {GZ_E_CONFLICT, 409, "conflict"},
    {GZ_E_TRANSITION, 409, "invalid_transition"},
    {GZ_E_PRECONDITION, 412, "precondition_failed"},
    {GZ_E_TOO_LARGE, 413, "payload_too_large"},
    {GZ_E_URI_TOO_LONG, 414, "uri_too_long"},
    {GZ_E_MEDIA_TYPE, 415, "unsupported_media_type"},
    {GZ_E_LOCKED, 423, "account_locked"},
    {GZ_E_RATE_LIMITED, 429, "rate_limited"},
    {GZ_E_HEADERS_TOO_LARGE, 431, "headers_too_large"},
    {GZ_E_INTERNAL, 500, "internal"},
    {GZ_E_UNAVAILABLE, 503, "unavailable"},
    {GZ_E_STORAGE, 507, "insufficient_storage"},
};
#define NCONTRACT (sizeof(contract) / sizeof(contract[0]))

static void test_contract_table(void **state)
{
	for (size_t i = 0; i < NCONTRACT; i++) {
		if (gz_code_status(contract[i].code) != contract[i].status)
			fail_msg("%s: status %d, want %d", contract[i].str,
			         gz_code_status(contract[i].code), contract[i].status);
		assert_string_equal(gz_code_string(contract[i].code), contract[i].str);
	}
}

/* Every code in the enum is in the contract table: adding a code without adding it
 * to the contract fails here. */
static void test_every_code_in_contract(void **state)
{
	assert_int_equal(GZ_CODE_COUNT, NCONTRACT);
	for (int c = 0; c < GZ_CODE_COUNT; c++) {
		int found = 0;
		for (size_t i = 0; i < NCONTRACT; i++)
			found += contract[i].code == (enum gz_code)c;
		if (found != 1)
			fail_msg("code %d (%s) appears %d times in the contract", c,
			         gz_code_string((enum gz_code)c), found);
	}
}

static void test_strings_unique_and_round_trip(void **state)
{
	for (int a = 0; a < GZ_CODE_COUNT; a++) {
		const char *s = gz_code_string((enum gz_code)a);
		assert_non_null(s);
		assert_true(strlen(s) > 0);
		for (const char *p = s; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
				fail_msg("code string %s has '%c'", s, *p);
		for (int b = a + 1; b < GZ_CODE_COUNT; b++)
			assert_string_not_equal(s, gz_code_string((enum gz_code)b));
		assert_int_equal(gz_code_from_string(s), a);
	}
}

static void test_unknown_and_out_of_range(void **state)
{
	assert_int_equal(gz_code_from_string("no_such_code"), GZ_E_INTERNAL);
	assert_int_equal(gz_code_from_string(""), GZ_E_INTERNAL);
	assert_int_equal(gz_code_from_string("NOT_FOUND"), GZ_E_INTERNAL);
	assert_int_equal(gz_code_status((enum gz_code)GZ_CODE_COUNT), 500);
	assert_string_equal(gz_code_string((enum gz_code)GZ_CODE_COUNT), "internal");
	assert_int_equal(gz_code_status((enum gz_code) - 1), 500);
	assert_string_equal(gz_code_string((enum gz_code)1000), "internal");
}

static void test_fail_fills_and_returns(void **state)
{
	struct gz_err e;
	gz_err_clear(&e);
	strcpy(e.field, "stale");
	strcpy(e.allowed, "[\"x\"]");
	int rc = gz_fail(&e, GZ_E_NOT_FOUND, "work order %lld", (long long)42);
	assert_int_equal(rc, -1);
	assert_int_equal(e.code, GZ_E_NOT_FOUND);
	assert_string_equal(e.message, "work order 42");
	assert_string_equal(e.field, "");
	assert_string_equal(e.allowed, "");
	assert_int_equal(gz_code_status(e.code), 404);
}

static void test_fail_field_names_field(void **state)
{
	struct gz_err e;
	gz_err_clear(&e);
	int rc = gz_fail_field(&e, GZ_E_VALIDATION, "title", "%s is too long (%d > %d)", "title",
	                       300, 200);
	assert_int_equal(rc, -1);
	assert_int_equal(e.code, GZ_E_VALIDATION);
	assert_string_equal(e.field, "title");
	assert_string_equal(e.message, "title is too long (300 > 200)");
	/* a NULL field is "" */
	gz_fail_field(&e, GZ_E_BAD_REQUEST, NULL, "x");
	assert_string_equal(e.field, "");
	assert_int_equal(e.code, GZ_E_BAD_REQUEST);
}

static void test_fail_null_err(void **state)
{
	assert_int_equal(gz_fail(NULL, GZ_E_INTERNAL, "ignored %d", 1), -1);
	assert_int_equal(gz_fail_field(NULL, GZ_E_VALIDATION, "f", "ignored"), -1);
}

static void test_fail_truncates_safely(void **state)
{
	struct gz_err e;
	gz_err_clear(&e);
	char longfield[200], longmsg[1000];
	memset(longfield, 'f', sizeof(longfield) - 1);
	longfield[sizeof(longfield) - 1] = 0;
	memset(longmsg, 'm', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = 0;
	gz_fail_field(&e, GZ_E_VALIDATION, longfield, "%s", longmsg);
	assert_int_equal(strlen(e.field), sizeof(e.field) - 1);
	assert_int_equal(strlen(e.message), sizeof(e.message) - 1);
	assert_int_equal(strncmp(e.field, longfield, sizeof(e.field) - 1), 0);
}

static void test_clear(void **state)
{
	struct gz_err e;
	memset(&e, 'x', sizeof(e));
	gz_err_clear(&e);
	assert_int_equal(e.code, GZ_OK);
	assert_string_equal(e.field, "");
	assert_string_equal(e.message, "");
	assert_string_equal(e.allowed, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_contract_table),
	    cmocka_unit_test(test_every_code_in_contract),
	    cmocka_unit_test(test_strings_unique_and_round_trip),
	    cmocka_unit_test(test_unknown_and_out_of_range),
	    cmocka_unit_test(test_fail_fills_and_returns),
	    cmocka_unit_test(test_fail_field_names_field),
	    cmocka_unit_test(test_fail_null_err),
	    cmocka_unit_test(test_fail_truncates_safely),
	    cmocka_unit_test(test_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
