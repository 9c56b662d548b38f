/* test_entity.c - unit tests for the pure half of src/model/entity.c:
 * gz_entity_validate against a small entity declared here (every field type, limits,
 * flags, a check function), gz_entity_field and gz_mask.  The database half (load,
 * insert, update) is covered by the black-box tests in tests/api. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/arena.h"
#include "model/entity.h"
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const kinds[] = {"shop", "factory", "office", NULL};
static const char *const tags[] = {"food", "retail", "service", NULL};

static const struct gz_field shop_fields[] = {
    {"name", GZ_T_TEXT, GZ_F_REQUIRED | GZ_F_SEARCH, 1, 10},
    {"kind", GZ_T_ENUM, GZ_F_REQUIRED | GZ_F_FILTER, 0, 0, kinds},
    {"phone", GZ_T_TEXT, GZ_F_PII, 0, 20},
    {"staff", GZ_T_INT, 0, 0, 1000},
    {"floor", GZ_T_INT, 0, -5, 80},
    {"open", GZ_T_BOOL, 0},
    {"opened_at", GZ_T_TIME, 0},
    {"tags", GZ_T_LIST, 0, 0, 0, tags},
    {"score", GZ_T_REAL, 0, 0, 100},
    {"note", GZ_T_TEXT, GZ_F_NULLABLE, 0, 50},
    {"credit_code", GZ_T_TEXT, GZ_F_CREATE_ONLY, 0, 0, NULL, NULL, NULL, gz_check_credit_code},
    {"path", GZ_T_TEXT, GZ_F_READONLY},
    {NULL},
};

static const struct gz_entity shop = {
    .name = "shop",
    .table = "test_shops",
    .fields = shop_fields,
    .perm_read = "shop.read",
    .perm_write = "shop.write",
};

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!j)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return j;
}

/* Validates text and returns the normalised object (caller decrefs), failing the
 * test if validation fails. */
static json_t *validate_ok(const char *text, bool create)
{
	json_t *in = parse(text);
	json_t *out = NULL;
	struct gz_err e;
	gz_err_clear(&e);
	if (gz_entity_validate(&shop, in, create, &out, &e) != 0)
		fail_msg("%s %s rejected: %s (%s: %s)", create ? "create" : "patch", text,
		         gz_code_string(e.code), e.field, e.message);
	assert_non_null(out);
	assert_true(json_is_object(out));
	assert_ptr_not_equal(out, in);
	json_decref(in);
	return out;
}

/* Validation must fail with code (or any 400 when code is GZ_OK) naming field. */
static void validate_fails(const char *text, bool create, enum gz_code code, const char *field)
{
	json_t *in = parse(text);
	json_t *out = NULL;
	struct gz_err e;
	gz_err_clear(&e);
	int rc = gz_entity_validate(&shop, in, create, &out, &e);
	if (rc != -1)
		fail_msg("%s %s accepted", create ? "create" : "patch", text);
	if (code != GZ_OK && e.code != code)
		fail_msg("%s: code %s, want %s", text, gz_code_string(e.code),
		         gz_code_string(code));
	assert_int_equal(gz_code_status(e.code), 400);
	if (field && strcmp(e.field, field) != 0)
		fail_msg("%s: field \"%s\", want \"%s\"", text, e.field, field);
	assert_true(strlen(e.message) > 0);
	json_decref(out); /* NULL is fine */
	json_decref(in);
}

#define BASE "\"name\":\"街角小店 24h\",\"kind\":\"shop\""

static void test_valid_create_normalises(void **state)
{
	json_t *out = validate_ok("{" BASE ",\"phone\":\"13812345678\",\"staff\":12,\"floor\":-2,"
	                          "\"open\":true,\"opened_at\":\"2026-11-28T14:05:00+08:00\","
	                          "\"tags\":[\"food\",\"retail\"],\"score\":87.5,"
	                          "\"note\":\"两个人\",\"credit_code\":\"91350100M000100Y43\"}",
	                          true);
	assert_string_equal(json_string_value(json_object_get(out, "name")), "街角小店 24h");
	assert_string_equal(json_string_value(json_object_get(out, "kind")), "shop");
	assert_string_equal(json_string_value(json_object_get(out, "phone")), "13812345678");
	assert_int_equal(json_integer_value(json_object_get(out, "staff")), 12);
	assert_int_equal(json_integer_value(json_object_get(out, "floor")), -2);
	assert_true(json_is_integer(json_object_get(out, "open")));
	assert_int_equal(json_integer_value(json_object_get(out, "open")), 1);
	assert_true(json_is_integer(json_object_get(out, "opened_at")));
	assert_int_equal(json_integer_value(json_object_get(out, "opened_at")), 1795845900000);
	assert_true(json_number_value(json_object_get(out, "score")) == 87.5);
	assert_string_equal(json_string_value(json_object_get(out, "credit_code")),
	                    "91350100M000100Y43");
	assert_non_null(json_object_get(out, "tags"));
	json_decref(out);
}

static void test_unknown_field(void **state)
{
	validate_fails("{" BASE ",\"colour\":\"red\"}", true, GZ_E_UNKNOWN_FIELD, "colour");
	validate_fails("{\"colour\":\"red\"}", false, GZ_E_UNKNOWN_FIELD, "colour");
	validate_fails("{\"Name\":\"x\"}", false, GZ_E_UNKNOWN_FIELD, "Name");
	validate_fails("{\"\":1}", false, GZ_E_UNKNOWN_FIELD, "");
}

static void test_missing_required(void **state)
{
	validate_fails("{\"kind\":\"shop\"}", true, GZ_E_VALIDATION, "name");
	validate_fails("{\"name\":\"x\"}", true, GZ_E_VALIDATION, "kind");
	validate_fails("{}", true, GZ_E_VALIDATION, NULL);
	/* null is not a value for a required field */
	validate_fails("{\"name\":null,\"kind\":\"shop\"}", true, GZ_E_VALIDATION, "name");
	/* a patch need not repeat required fields */
	json_t *out = validate_ok("{\"staff\":3}", false);
	assert_null(json_object_get(out, "name"));
	assert_int_equal(json_integer_value(json_object_get(out, "staff")), 3);
	json_decref(out);
}

static void test_wrong_json_type(void **state)
{
	validate_fails("{" BASE ",\"staff\":\"12\"}", true, GZ_E_VALIDATION, "staff");
	validate_fails("{" BASE ",\"staff\":1.5}", true, GZ_E_VALIDATION, "staff");
	validate_fails("{" BASE ",\"staff\":true}", true, GZ_E_VALIDATION, "staff");
	validate_fails("{\"name\":5,\"kind\":\"shop\"}", true, GZ_E_VALIDATION, "name");
	validate_fails("{\"name\":[\"x\"],\"kind\":\"shop\"}", true, GZ_E_VALIDATION, "name");
	validate_fails("{\"name\":\"x\",\"kind\":1}", true, GZ_E_VALIDATION, "kind");
	validate_fails("{" BASE ",\"open\":\"true\"}", true, GZ_E_VALIDATION, "open");
	validate_fails("{" BASE ",\"open\":1}", true, GZ_E_VALIDATION, "open");
	validate_fails("{" BASE ",\"opened_at\":1795845900000}", true, GZ_E_VALIDATION,
	               "opened_at");
	validate_fails("{" BASE ",\"tags\":\"food\"}", true, GZ_E_VALIDATION, "tags");
	validate_fails("{" BASE ",\"tags\":[1]}", true, GZ_E_VALIDATION, "tags");
	validate_fails("{" BASE ",\"score\":\"50\"}", true, GZ_E_VALIDATION, "score");
	validate_fails("{" BASE ",\"phone\":{}}", true, GZ_E_VALIDATION, "phone");
}

static void test_not_an_object(void **state)
{
	const char *bad[] = {"[]", "[{\"name\":\"x\"}]", "\"text\"", "42", "null"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_error_t jerr;
		json_t *in = json_loads(bad[i], JSON_DECODE_ANY, &jerr);
		assert_non_null(in);
		json_t *out = NULL;
		struct gz_err e;
		gz_err_clear(&e);
		assert_int_equal(gz_entity_validate(&shop, in, true, &out, &e), -1);
		assert_int_equal(gz_code_status(e.code), 400);
		assert_null(out);
		json_decref(in);
	}
}

static void test_text_length_in_characters(void **state)
{
	/* ten Chinese characters are 30 bytes but within max 10 */
	json_t *out = validate_ok("{\"name\":\"一二三四五六七八九十\",\"kind\":\"shop\"}", true);
	assert_string_equal(json_string_value(json_object_get(out, "name")),
	                    "一二三四五六七八九十");
	json_decref(out);
	validate_fails("{\"name\":\"一二三四五六七八九十一\",\"kind\":\"shop\"}", true,
	               GZ_E_VALIDATION, "name");
	out = validate_ok("{\"name\":\"abcdefghij\",\"kind\":\"shop\"}", true);
	json_decref(out);
	validate_fails("{\"name\":\"abcdefghijk\",\"kind\":\"shop\"}", true, GZ_E_VALIDATION,
	               "name");
	/* min 1 */
	validate_fails("{\"name\":\"\",\"kind\":\"shop\"}", true, GZ_E_VALIDATION, "name");
	/* emoji are one character each */
	out = validate_ok("{\"name\":\"😀😀😀😀😀😀😀😀😀😀\",\"kind\":\"shop\"}", true);
	json_decref(out);
}

static void test_text_control_characters(void **state)
{
	validate_fails("{\"name\":\"a\\u0000b\",\"kind\":\"shop\"}", true, GZ_E_VALIDATION, NULL);
	validate_fails("{\"name\":\"a\\u0001b\",\"kind\":\"shop\"}", true, GZ_E_VALIDATION, "name");
}

static void test_enum(void **state)
{
	validate_fails("{\"name\":\"x\",\"kind\":\"farm\"}", true, GZ_E_VALIDATION, "kind");
	validate_fails("{\"name\":\"x\",\"kind\":\"Shop\"}", true, GZ_E_VALIDATION, "kind");
	validate_fails("{\"name\":\"x\",\"kind\":\"\"}", true, GZ_E_VALIDATION, "kind");
	json_t *out = validate_ok("{\"kind\":\"office\"}", false);
	assert_string_equal(json_string_value(json_object_get(out, "kind")), "office");
	json_decref(out);
}

static void test_int_range(void **state)
{
	validate_fails("{\"staff\":-1}", false, GZ_E_VALIDATION, "staff");
	validate_fails("{\"staff\":1001}", false, GZ_E_VALIDATION, "staff");
	validate_fails("{\"floor\":-6}", false, GZ_E_VALIDATION, "floor");
	validate_fails("{\"floor\":81}", false, GZ_E_VALIDATION, "floor");
	validate_fails("{\"staff\":9223372036854775807}", false, GZ_E_VALIDATION, "staff");
	const char *ok[] = {"{\"staff\":0}", "{\"staff\":1000}", "{\"floor\":-5}",
	                    "{\"floor\":80}"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		json_decref(validate_ok(ok[i], false));
}

static void test_real_range(void **state)
{
	validate_fails("{\"score\":100.01}", false, GZ_E_VALIDATION, "score");
	validate_fails("{\"score\":-0.5}", false, GZ_E_VALIDATION, "score");
	json_t *out = validate_ok("{\"score\":100}", false); /* an integer is a number */
	assert_true(json_number_value(json_object_get(out, "score")) == 100.0);
	json_decref(out);
}

static void test_list(void **state)
{
	validate_fails("{\"tags\":[\"food\",\"weapons\"]}", false, GZ_E_VALIDATION, "tags");
	validate_fails("{\"tags\":[\"food\",null]}", false, GZ_E_VALIDATION, "tags");
	json_t *out = validate_ok("{\"tags\":[]}", false);
	json_decref(out);
	out = validate_ok("{\"tags\":[\"service\",\"food\"]}", false);
	json_t *t = json_object_get(out, "tags");
	assert_non_null(t);
	/* stored as JSON text (entity.h): whatever the form, it reads back as the list */
	json_t *list =
	    json_is_string(t) ? json_loads(json_string_value(t), 0, NULL) : json_incref(t);
	assert_non_null(list);
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_array_get(list, 0)), "service");
	assert_string_equal(json_string_value(json_array_get(list, 1)), "food");
	json_decref(list);
	json_decref(out);
}

static void test_read_only_rejected(void **state)
{
	validate_fails("{" BASE ",\"path\":\"/1/2/\"}", true, GZ_OK, "path");
	validate_fails("{\"path\":\"/1/2/\"}", false, GZ_OK, "path");
	/* the implicit columns are read-only too */
	validate_fails("{" BASE ",\"id\":7}", true, GZ_OK, "id");
	validate_fails("{\"version\":3}", false, GZ_OK, "version");
	validate_fails("{\"created_at\":\"2026-01-01\"}", false, GZ_OK, "created_at");
	validate_fails("{\"updated_at\":\"2026-01-01\"}", false, GZ_OK, "updated_at");
}

static void test_create_only(void **state)
{
	json_t *out = validate_ok("{" BASE ",\"credit_code\":\"91110000600037341L\"}", true);
	json_decref(out);
	validate_fails("{\"credit_code\":\"91110000600037341L\"}", false, GZ_OK, "credit_code");
}

static void test_check_function(void **state)
{
	validate_fails("{" BASE ",\"credit_code\":\"91110000600037341K\"}", true, GZ_E_VALIDATION,
	               "credit_code");
	validate_fails("{" BASE ",\"credit_code\":\"911100006000\"}", true, GZ_E_VALIDATION,
	               "credit_code");
}

static void test_time(void **state)
{
	json_t *out = validate_ok("{\"opened_at\":\"2026-11-28\"}", false);
	assert_int_equal(json_integer_value(json_object_get(out, "opened_at")), 1795795200000);
	json_decref(out);
	out = validate_ok("{\"opened_at\":\"1969-12-31T23:59:59.999Z\"}", false);
	assert_int_equal(json_integer_value(json_object_get(out, "opened_at")), -1);
	json_decref(out);
	validate_fails("{\"opened_at\":\"2026-02-30\"}", false, GZ_E_VALIDATION, "opened_at");
	validate_fails("{\"opened_at\":\"tomorrow\"}", false, GZ_E_VALIDATION, "opened_at");
}

static void test_bool(void **state)
{
	json_t *out = validate_ok("{\"open\":false}", false);
	assert_true(json_is_integer(json_object_get(out, "open")));
	assert_int_equal(json_integer_value(json_object_get(out, "open")), 0);
	json_decref(out);
	out = validate_ok("{\"open\":true}", false);
	assert_int_equal(json_integer_value(json_object_get(out, "open")), 1);
	json_decref(out);
}

static void test_null(void **state)
{
	/* a nullable field may be cleared on patch */
	json_t *out = validate_ok("{\"note\":null}", false);
	json_t *v = json_object_get(out, "note");
	assert_non_null(v);
	assert_true(json_is_null(v));
	json_decref(out);
	/* a field that is not nullable cannot */
	validate_fails("{\"staff\":null}", false, GZ_E_VALIDATION, "staff");
	validate_fails("{\"name\":null}", false, GZ_E_VALIDATION, "name");
}

static void test_input_not_modified(void **state)
{
	json_t *in = parse("{" BASE ",\"open\":true,\"opened_at\":\"2026-11-28\"}");
	json_t *copy = json_deep_copy(in);
	json_t *out = NULL;
	struct gz_err e;
	gz_err_clear(&e);
	assert_int_equal(gz_entity_validate(&shop, in, true, &out, &e), 0);
	assert_true(json_equal(in, copy));
	json_decref(out);
	json_decref(copy);
	json_decref(in);
}

static void test_entity_field(void **state)
{
	const struct gz_field *f = gz_entity_field(&shop, "staff");
	assert_non_null(f);
	assert_ptr_equal(f, &shop_fields[3]);
	assert_int_equal(f->type, GZ_T_INT);
	assert_ptr_equal(gz_entity_field(&shop, "path"), &shop_fields[11]);
	assert_null(gz_entity_field(&shop, "nope"));
	assert_null(gz_entity_field(&shop, ""));
	assert_null(gz_entity_field(&shop, "Staff"));
}

static int only_stars(const char *s)
{
	for (; *s; s++)
		if (*s != '*')
			return 0;
	return 1;
}

/* The mask tests allocate from an arena that the teardown releases, also when an
 * assertion jumps out of the test. */
static int arena_setup(void **state)
{
	static struct gz_arena arena;
	gz_arena_init(&arena);
	*state = &arena;
	return 0;
}

static int arena_teardown(void **state)
{
	gz_arena_release(*state);
	return 0;
}

static void test_mask(void **state)
{
	struct gz_arena *a = *state;
	const char *phone = "13812345678";
	char *m = gz_mask(a, phone);
	assert_string_equal(m, "138****5678");
	assert_ptr_not_equal(m, phone);
	assert_string_equal(phone, "13812345678");
	/* an 18-character id number keeps the same ends */
	m = gz_mask(a, "110101199003077777");
	assert_int_equal(strncmp(m, "110", 3), 0);
	assert_int_equal(strcmp(m + strlen(m) - 4, "7777"), 0);
	assert_null(strstr(m, "19900307"));
	/* short strings are masked completely */
	const char *shorts[] = {"a", "ab", "张三", "abc", "1234", "欧阳娜娜", "123456"};
	for (size_t i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++) {
		m = gz_mask(a, shorts[i]);
		assert_non_null(m);
		assert_true(strlen(m) > 0);
		if (!only_stars(m))
			fail_msg("gz_mask(\"%s\") = \"%s\"", shorts[i], m);
	}
}

/* Masking must hide something whatever the length: a value that comes out in full
 * (with stars added) is not masked. */
static void test_mask_never_reveals_all(void **state)
{
	struct gz_arena *a = *state;
	const char *digits = "98765432109876543210";
	for (size_t len = 1; len <= 20; len++) {
		char s[32];
		memcpy(s, digits, len);
		s[len] = 0;
		char *m = gz_mask(a, s);
		size_t shown = 0;
		for (const char *p = m; *p; p++)
			shown += *p != '*';
		if (shown >= len)
			fail_msg("gz_mask(\"%s\") = \"%s\" shows all %zu characters", s, m, len);
	}
	/* the same for Chinese text: a seven-character name or address */
	char *m = gz_mask(a, "北京市朝阳区街");
	assert_non_null(strstr(m, "*"));
	assert_null(strstr(m, "北京市朝阳区街"));
	size_t shown = 0;
	for (const char *p = m; *p; p++)
		shown += ((unsigned char)*p & 0xc0) != 0x80 && *p != '*';
	if (shown >= 7)
		fail_msg("gz_mask of a 7-character name shows all of it: \"%s\"", m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_create_normalises),
	    cmocka_unit_test(test_unknown_field),
	    cmocka_unit_test(test_missing_required),
	    cmocka_unit_test(test_wrong_json_type),
	    cmocka_unit_test(test_not_an_object),
	    cmocka_unit_test(test_text_length_in_characters),
	    cmocka_unit_test(test_text_control_characters),
	    cmocka_unit_test(test_enum),
	    cmocka_unit_test(test_int_range),
	    cmocka_unit_test(test_real_range),
	    cmocka_unit_test(test_list),
	    cmocka_unit_test(test_read_only_rejected),
	    cmocka_unit_test(test_create_only),
	    cmocka_unit_test(test_check_function),
	    cmocka_unit_test(test_time),
	    cmocka_unit_test(test_bool),
	    cmocka_unit_test(test_null),
	    cmocka_unit_test(test_input_not_modified),
	    cmocka_unit_test(test_entity_field),
	    cmocka_unit_test_setup_teardown(test_mask, arena_setup, arena_teardown),
	    cmocka_unit_test_setup_teardown(test_mask_never_reveals_all, arena_setup,
	                                    arena_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
