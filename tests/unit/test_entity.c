/* test_entity.c - unit tests for src/model/entity.c and entity_http.c: the pure half
 * (gz_entity_validate against a small entity declared here: every field type, limits,
 * flags, a check function; gz_entity_field and gz_mask) and, on a real SQLite
 * database, the kit's field types no module uses yet: reference lists (written,
 * validated, scope-checked, shown, filtered with contains, read per page), child
 * lists of the detail and archive.  The rest of the database half is covered by the
 * black-box tests in tests/api. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "app.h"
#include "core/arena.h"
#include "core/crypto.h"
#include "model/entity.h"
#include "modules/units.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---- the database half: reference lists, child lists, archive ----
 *
 * A test-only entity, "gadget", on a real SQLite database with every migration: a
 * unit-scoped row with a scoped reference list of units (gadget_units), an unscoped
 * one of organisations (gadget_orgs), a child list of notes shown in the detail, and
 * archive.  The generic handlers run on requests built here (no connection: the
 * write is done in place), so the HTTP half is the one the server runs. */

static const struct gz_field gadget_fields[] = {
    {"name", GZ_T_TEXT, GZ_F_REQUIRED | GZ_F_SEARCH, 1, 40},
    {"unit_id", GZ_T_INT, GZ_F_FILTER, .ref = &gz_unit_entity},
    {"unit_ids", GZ_T_REFS, GZ_F_FILTER | GZ_F_SCOPED_REF, 0, 3, .ref = &gz_unit_entity,
     .refs_table = "gadget_units", .refs_owner = "gadget_id", .refs_col = "unit_id"},
    {"org_ids", GZ_T_REFS, GZ_F_FILTER, .ref = &gz_org_entity, .refs_table = "gadget_orgs",
     .refs_owner = "gadget_id", .refs_col = "org_id"},
    {NULL},
};

static const struct gz_field note_columns[] = {
    {"id", GZ_T_INT},
    {"at", GZ_T_TIME},
    {"body", GZ_T_TEXT},
    {NULL},
};

static const struct gz_child_list gadget_children[] = {
    {"notes", "gadget_notes", "gadget_id", note_columns, "at DESC, id DESC", 2},
    {NULL},
};

static const struct gz_entity gadget = {
    .name = "gadget",
    .table = "gadgets",
    .fields = gadget_fields,
    .perm_read = "gadgets.read",
    .perm_write = "gadgets.write",
    .unit_col = "unit_id",
    .archivable = true,
    .children = gadget_children,
};

static const struct gz_perm gadget_perms[] = {
    {"gadgets.read", GZ_ROLES_ALL, "test"},
    {"gadgets.write", GZ_ROLES_STAFF, "test"},
    {NULL},
};

static const struct gz_route r_list = {GZ_GET, "/gadgets", gz_entity_list_handler,
                                       NULL,   GZ_R_LIST,  &gadget};
static const struct gz_route r_create = {GZ_POST, "/gadgets", gz_entity_create_handler,
                                         NULL,    GZ_R_JSON,  &gadget};
static const struct gz_route r_get = {GZ_GET, "/gadgets/{id}", gz_entity_get_handler, NULL,
                                      0,      &gadget};
static const struct gz_route r_patch = {GZ_PATCH, "/gadgets/{id}", gz_entity_patch_handler,
                                        NULL,     GZ_R_JSON,       &gadget};
static const struct gz_route r_archive = {
    GZ_DELETE, "/gadgets/{id}", gz_entity_archive_handler, NULL, 0, &gadget};

static char dbdir[256];
static struct gz_arena setup_arena;
static struct gz_app app;
static struct gz_account admin, staff; /* staff: a community worker of unit 2 (/1/2/) */

static int script_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	return gz_exec_script(c, ctx, err);
}

static void run_sql(const char *sql)
{
	struct gz_err err;
	if (gz_db_write(app.db, script_fn, (void *)sql, &err))
		fail_msg("%s: %s", sql, err.message);
}

static int db_setup(void **state)
{
	(void)state;
	if (gz_crypto_init())
		return -1;
	snprintf(dbdir, sizeof dbdir, "/tmp/gz-test-entity-XXXXXX");
	if (!mkdtemp(dbdir))
		return -1;
	char url[300];
	snprintf(url, sizeof url, "sqlite:%s/e.db", dbdir);
	struct gz_db_opts o;
	gz_db_opts_default(&o);
	o.create = true;
	struct gz_err err;
	int applied;
	gz_arena_init(&setup_arena);
	if (gz_db_open(url, &o, &app.db, &err) || gz_db_migrate(app.db, &applied, &err) ||
	    gz_perms_register(gadget_perms, &err) ||
	    gz_audit_open(app.db, gz_sprintf(&setup_arena, "%s/audit.key", dbdir),
	                  gz_sprintf(&setup_arena, "%s/e.db.audit-head", dbdir), &err)) {
		fprintf(stderr, "setup: %s\n", err.message);
		return -1;
	}
	gz_random_bytes(app.key, sizeof app.key);
	run_sql(
	    "CREATE TABLE gadgets (id INTEGER PRIMARY KEY, name TEXT NOT NULL, unit_id "
	    "INTEGER, archived_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER "
	    "NOT NULL, version INTEGER NOT NULL DEFAULT 1);"
	    "CREATE TABLE gadget_units (gadget_id INTEGER NOT NULL, unit_id INTEGER NOT NULL, "
	    "PRIMARY KEY (gadget_id, unit_id));"
	    "CREATE TABLE gadget_orgs (gadget_id INTEGER NOT NULL, org_id INTEGER NOT NULL, "
	    "PRIMARY KEY (gadget_id, org_id));"
	    "CREATE TABLE gadget_notes (id INTEGER PRIMARY KEY, gadget_id INTEGER NOT NULL, "
	    "at INTEGER NOT NULL, body TEXT NOT NULL);"
	    "INSERT INTO units (id, parent_id, kind, name, path, created_at, updated_at) VALUES "
	    "(1, NULL, 'district', 'D', '/1/', 0, 0), (2, 1, 'community', 'C2', '/1/2/', 0, 0),"
	    "(3, 1, 'community', 'C3', '/1/3/', 0, 0), (4, 2, 'grid', 'G4', '/1/2/4/', 0, 0);"
	    "INSERT INTO orgs (id, kind, name, created_at, updated_at) VALUES "
	    "(7, 'property', 'P7', 0, 0), (8, 'property', 'P8', 0, 0);");
	admin = (struct gz_account){.id = 1, .roles = GZ_RB(ADMIN)};
	staff = (struct gz_account){.id = 2, .roles = GZ_RB(COMMUNITY), .unit_id = 2};
	snprintf(staff.unit_path, sizeof staff.unit_path, "/1/2/");
	gz_path_upper(staff.unit_path, staff.unit_path_end, sizeof staff.unit_path_end);
	return 0;
}

static int db_teardown(void **state)
{
	(void)state;
	gz_db_close(app.db);
	gz_audit_close();
	gz_arena_release(&setup_arena);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dbdir);
	return system(cmd) == 0 ? 0 : -1;
}

struct call {
	int rc, status;
	struct gz_err err;
	json_t *json; /* the reply parsed (owned) */
};

/* Runs route's handler as account a with the query "k=v&…" (NULL: none), the {id}
 * parameter id (0: none) and body (JSON text, NULL: none). */
static struct call call(const struct gz_route *rt, const struct gz_account *a, int64_t id,
                        const char *query, const char *body)
{
	struct gz_req r;
	memset(&r, 0, sizeof r);
	gz_arena_init(&r.arena);
	r.app = &app;
	r.route = rt;
	r.method = rt->methods;
	r.acct = a;
	r.client = "test";
	r.out_fd = -1;
	r.path = id ? gz_sprintf(&r.arena, "/gadgets/%lld", (long long)id) : "/gadgets";
	if (id) {
		r.params[0] = (struct gz_kv){"id", gz_sprintf(&r.arena, "%lld", (long long)id)};
		r.nparams = 1;
	}
	r.query = gz_alloc(&r.arena, sizeof(struct gz_kv) * 8);
	if (query) {
		char *q = gz_strdup(&r.arena, query), *save = NULL;
		for (char *kv = strtok_r(q, "&", &save); kv && r.nquery < 8;
		     kv = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(kv, '=');
			*eq = 0;
			r.query[r.nquery++] = (struct gz_kv){kv, eq + 1};
		}
	}
	if (body)
		r.body = parse(body);
	struct call c = {0};
	gz_err_clear(&c.err);
	c.rc = rt->handler(&r, &c.err);
	c.status = c.rc ? gz_code_status(c.err.code) : r.status;
	if (!c.rc && r.json)
		c.json = json_incref(r.json);
	else if (!c.rc)
		c.json = json_loadb(r.out.data, r.out.len, 0, NULL);
	json_decref(r.json);
	json_decref(r.body);
	gz_buf_release(&r.out);
	gz_arena_release(&r.arena);
	return c;
}

static int64_t create_gadget(const struct gz_account *a, const char *body)
{
	struct call c = call(&r_create, a, 0, NULL, body);
	if (c.rc)
		fail_msg("create %s: %s", body, c.err.message);
	assert_int_equal(c.status, 201);
	int64_t id = json_integer_value(json_object_get(c.json, "id"));
	json_decref(c.json);
	return id;
}

static void assert_ids(json_t *arr, const char *want)
{
	char *got = json_dumps(arr, JSON_COMPACT);
	if (!got || strcmp(got, want) != 0)
		fail_msg("ids %s, wanted %s", got ? got : "(none)", want);
	free(got);
}

static void test_refs_written_and_shown(void **state)
{
	(void)state;
	int64_t id = create_gadget(&admin, "{\"name\":\"a\",\"unit_id\":2,\"unit_ids\":[4,2],"
	                                   "\"org_ids\":[7]}");
	struct call c = call(&r_get, &admin, id, NULL, NULL);
	assert_int_equal(c.rc, 0);
	assert_ids(json_object_get(c.json, "unit_ids"), "[2,4]");
	assert_ids(json_object_get(c.json, "org_ids"), "[7]");
	json_decref(c.json);
	/* a patch replaces the set; a field not given keeps its set */
	c = call(&r_patch, &admin, id, NULL, "{\"unit_ids\":[3]}");
	assert_int_equal(c.rc, 0);
	assert_ids(json_object_get(c.json, "unit_ids"), "[3]");
	assert_ids(json_object_get(c.json, "org_ids"), "[7]");
	assert_int_equal(json_integer_value(json_object_get(c.json, "version")), 2);
	json_decref(c.json);
	c = call(&r_patch, &admin, id, NULL, "{\"org_ids\":[]}");
	assert_int_equal(c.rc, 0);
	assert_ids(json_object_get(c.json, "org_ids"), "[]");
	json_decref(c.json);
	/* the audit entry of the patch has the set before and after */
	struct gz_conn *cn = gz_db_reader(app.db);
	int64_t n = 0;
	struct gz_err err;
	assert_int_equal(
	    gz_query_i64(cn, &err, &n,
	                 "SELECT count(*) FROM audit_log WHERE object_type = 'gadget' "
	                 "AND object_id = ? AND summary LIKE '%\"unit_ids\":[[2,4],[3]]%'",
	                 "i", id),
	    1);
	gz_db_reader_done(app.db, cn);
	assert_int_equal(n, 1);
}

static void test_refs_validated(void **state)
{
	(void)state;
	struct {
		const char *body, *field;
	} bad[] = {
	    {"{\"name\":\"b\",\"unit_ids\":[2,2]}", "unit_ids"},     /* twice */
	    {"{\"name\":\"b\",\"unit_ids\":[0]}", "unit_ids"},       /* not an id */
	    {"{\"name\":\"b\",\"unit_ids\":\"2\"}", "unit_ids"},     /* not a list */
	    {"{\"name\":\"b\",\"unit_ids\":[2,3,4,1]}", "unit_ids"}, /* more than max 3 */
	    {"{\"name\":\"b\",\"unit_ids\":[2,999]}", "unit_ids"},   /* no such unit */
	    {"{\"name\":\"b\",\"org_ids\":[7,9]}", "org_ids"},       /* no such org */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct call c = call(&r_create, &admin, 0, NULL, bad[i].body);
		if (c.rc != -1)
			fail_msg("accepted %s", bad[i].body);
		assert_int_equal(c.err.code, GZ_E_VALIDATION);
		assert_string_equal(c.err.field, bad[i].field);
	}
	/* nothing of the refused creates was written */
	struct gz_conn *cn = gz_db_reader(app.db);
	int64_t n = -1;
	struct gz_err err;
	gz_query_i64(cn, &err, &n, "SELECT count(*) FROM gadgets WHERE name = 'b'", "");
	gz_db_reader_done(app.db, cn);
	assert_int_equal(n, 0);
}

static void test_refs_scoped(void **state)
{
	(void)state;
	/* a community worker of unit 2 may list units of its subtree (2, 4), not unit 3,
	 * and unit 3 is refused like a missing one */
	int64_t id = create_gadget(&staff, "{\"name\":\"s\",\"unit_ids\":[4]}");
	struct call c = call(&r_create, &staff, 0, NULL, "{\"name\":\"s2\",\"unit_ids\":[2,3]}");
	assert_int_equal(c.rc, -1);
	assert_int_equal(c.err.code, GZ_E_VALIDATION);
	assert_string_equal(c.err.field, "unit_ids");
	assert_string_equal(c.err.message, "unit_ids: no unit with id 3");
	c = call(&r_patch, &staff, id, NULL, "{\"unit_ids\":[3]}");
	assert_int_equal(c.rc, -1);
	assert_string_equal(c.err.message, "unit_ids: no unit with id 3");
	/* the unscoped list takes any existing organisation */
	c = call(&r_patch, &staff, id, NULL, "{\"org_ids\":[8,7]}");
	assert_int_equal(c.rc, 0);
	assert_ids(json_object_get(c.json, "org_ids"), "[7,8]");
	json_decref(c.json);
}

/* The ids of a list reply's items and the reference list field of each. */
static void list_ids(const struct call *c, const char *field, char *out, size_t n)
{
	size_t len = 0, i;
	json_t *it;
	out[0] = 0;
	json_array_foreach(json_object_get(c->json, "items"), i, it)
	{
		char *refs = json_dumps(json_object_get(it, field), JSON_COMPACT | JSON_ENCODE_ANY);
		len += (size_t)snprintf(out + len, n - len, "%s%lld:%s", i ? " " : "",
		                        (long long)json_integer_value(json_object_get(it, "id")),
		                        refs ? refs : "-");
		free(refs);
	}
}

static void test_refs_in_lists_and_contains(void **state)
{
	(void)state;
	run_sql("DELETE FROM gadgets; DELETE FROM gadget_units; DELETE FROM gadget_orgs;");
	int64_t a = create_gadget(&admin, "{\"name\":\"la\",\"unit_id\":2,\"org_ids\":[7,8]}");
	int64_t b = create_gadget(&admin, "{\"name\":\"lb\",\"unit_id\":3,\"org_ids\":[8]}");
	int64_t c3 = create_gadget(&admin, "{\"name\":\"lc\",\"unit_id\":2}");
	char got[512], want[512];
	struct call c = call(&r_list, &admin, 0, NULL, NULL);
	assert_int_equal(c.rc, 0);
	list_ids(&c, "org_ids", got, sizeof got);
	snprintf(want, sizeof want, "%lld:[] %lld:[8] %lld:[7,8]", (long long)c3, (long long)b,
	         (long long)a);
	assert_string_equal(got, want);
	json_decref(c.json);
	/* contains */
	c = call(&r_list, &admin, 0, "org_ids=8", NULL);
	list_ids(&c, "org_ids", got, sizeof got);
	snprintf(want, sizeof want, "%lld:[8] %lld:[7,8]", (long long)b, (long long)a);
	assert_string_equal(got, want);
	json_decref(c.json);
	c = call(&r_list, &admin, 0, "org_ids=7&count=true", NULL);
	list_ids(&c, "org_ids", got, sizeof got);
	snprintf(want, sizeof want, "%lld:[7,8]", (long long)a);
	assert_string_equal(got, want);
	assert_int_equal(json_integer_value(json_object_get(c.json, "total")), 1);
	json_decref(c.json);
	c = call(&r_list, &admin, 0, "org_ids=x", NULL);
	assert_int_equal(c.rc, -1);
	assert_string_equal(c.err.field, "org_ids");
	/* pages: each page carries its own rows' lists */
	c = call(&r_list, &admin, 0, "limit=2", NULL);
	list_ids(&c, "org_ids", got, sizeof got);
	snprintf(want, sizeof want, "%lld:[] %lld:[8]", (long long)c3, (long long)b);
	assert_string_equal(got, want);
	char cursor[32];
	snprintf(cursor, sizeof cursor, "limit=2&cursor=%s",
	         json_string_value(json_object_get(c.json, "next_cursor")));
	json_decref(c.json);
	c = call(&r_list, &admin, 0, cursor, NULL);
	list_ids(&c, "org_ids", got, sizeof got);
	snprintf(want, sizeof want, "%lld:[7,8]", (long long)a);
	assert_string_equal(got, want);
	json_decref(c.json);
	/* the staff of unit 2 sees its own rows only */
	c = call(&r_list, &staff, 0, "org_ids=8", NULL);
	list_ids(&c, "org_ids", got, sizeof got);
	snprintf(want, sizeof want, "%lld:[7,8]", (long long)a);
	assert_string_equal(got, want);
	json_decref(c.json);
}

static void test_child_list(void **state)
{
	(void)state;
	int64_t id = create_gadget(&admin, "{\"name\":\"n\"}");
	char sql[400];
	snprintf(sql, sizeof sql,
	         "INSERT INTO gadget_notes (gadget_id, at, body) VALUES (%lld, 1000, 'first'), "
	         "(%lld, 3000, 'third'), (%lld, 2000, 'second'), (%lld + 1000, 5000, 'other')",
	         (long long)id, (long long)id, (long long)id, (long long)id);
	run_sql(sql);
	struct call c = call(&r_get, &admin, id, NULL, NULL);
	assert_int_equal(c.rc, 0);
	json_t *notes = json_object_get(c.json, "notes");
	assert_int_equal(json_array_size(notes), 2); /* limit 2, newest first */
	assert_string_equal(json_string_value(json_object_get(json_array_get(notes, 0), "body")),
	                    "third");
	assert_string_equal(json_string_value(json_object_get(json_array_get(notes, 1), "body")),
	                    "second");
	const char *at = json_string_value(json_object_get(json_array_get(notes, 0), "at"));
	assert_non_null(at);
	assert_non_null(strstr(at, "1970-01-01T")); /* a time, not ms */
	json_decref(c.json);
	/* lists do not carry the detail's child lists */
	c = call(&r_list, &admin, 0, "q=n", NULL);
	assert_null(json_object_get(json_array_get(json_object_get(c.json, "items"), 0), "notes"));
	json_decref(c.json);
}

static void test_archive(void **state)
{
	(void)state;
	run_sql("DELETE FROM gadgets;");
	int64_t keep = create_gadget(&admin, "{\"name\":\"keep\",\"unit_id\":2}");
	int64_t gone = create_gadget(&admin, "{\"name\":\"gone\",\"unit_id\":2}");
	/* out of reach: the staff of unit 2 cannot archive a row of unit 3 (404) */
	int64_t other = create_gadget(&admin, "{\"name\":\"other\",\"unit_id\":3}");
	struct call c = call(&r_archive, &staff, other, NULL, NULL);
	assert_int_equal(c.rc, -1);
	assert_int_equal(c.err.code, GZ_E_NOT_FOUND);
	c = call(&r_archive, &staff, gone, NULL, NULL);
	assert_int_equal(c.rc, 0);
	assert_int_equal(c.status, 200);
	assert_true(json_is_string(json_object_get(c.json, "archived_at")));
	assert_int_equal(json_integer_value(json_object_get(c.json, "version")), 2);
	json_decref(c.json);
	/* again: the row as it is, no second write */
	c = call(&r_archive, &staff, gone, NULL, NULL);
	assert_int_equal(c.rc, 0);
	assert_int_equal(json_integer_value(json_object_get(c.json, "version")), 2);
	json_decref(c.json);
	char got[512], want[512];
	c = call(&r_list, &admin, 0, NULL, NULL);
	list_ids(&c, "archived_at", got, sizeof got);
	snprintf(want, sizeof want, "%lld:null %lld:null", (long long)other, (long long)keep);
	assert_string_equal(got, want);
	json_decref(c.json);
	c = call(&r_list, &admin, 0, "archived=true&count=true", NULL);
	assert_int_equal(json_array_size(json_object_get(c.json, "items")), 1);
	assert_int_equal(json_integer_value(json_object_get(c.json, "total")), 1);
	json_decref(c.json);
	c = call(&r_list, &admin, 0, "archived=any", NULL);
	assert_int_equal(json_array_size(json_object_get(c.json, "items")), 3);
	json_decref(c.json);
	c = call(&r_list, &admin, 0, "archived=maybe", NULL);
	assert_int_equal(c.rc, -1);
	assert_string_equal(c.err.field, "archived");
	/* a read still shows it; a change is refused */
	c = call(&r_get, &staff, gone, NULL, NULL);
	assert_int_equal(c.rc, 0);
	assert_true(json_is_string(json_object_get(c.json, "archived_at")));
	json_decref(c.json);
	c = call(&r_patch, &admin, gone, NULL, "{\"name\":\"back\"}");
	assert_int_equal(c.rc, -1);
	assert_int_equal(c.err.code, GZ_E_CONFLICT);
	/* audited once */
	struct gz_conn *cn = gz_db_reader(app.db);
	int64_t n = 0;
	struct gz_err err;
	gz_query_i64(cn, &err, &n,
	             "SELECT count(*) FROM audit_log WHERE action = 'archive' AND object_id = ?",
	             "i", gone);
	gz_db_reader_done(app.db, cn);
	assert_int_equal(n, 1);
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
	const struct CMUnitTest db_tests[] = {
	    cmocka_unit_test(test_refs_written_and_shown),
	    cmocka_unit_test(test_refs_validated),
	    cmocka_unit_test(test_refs_scoped),
	    cmocka_unit_test(test_refs_in_lists_and_contains),
	    cmocka_unit_test(test_child_list),
	    cmocka_unit_test(test_archive),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	return failed + cmocka_run_group_tests(db_tests, db_setup, db_teardown);
}
