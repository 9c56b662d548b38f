/* fuzz_entity.c - libFuzzer target for gz_entity_validate.
 *
 * The input is a request body.  It is parsed as the server would (jansson,
 * JSON_REJECT_DUPLICATES) and validated against a sample entity with every field
 * type, for both create and patch.  On success the output must hold only declared,
 * writable fields in their normalised JSON types, and the required ones on create;
 * on failure the error must be a 400.  Strings of the input also go through gz_mask
 * (arena per input).  Everything is released, so leaks show up in LeakSanitizer. */
#include "core/arena.h"
#include "model/entity.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kinds[] = {"shop", "factory", "office", NULL};
static const char *const tags[] = {"food", "retail", "service", NULL};

static const struct gz_field fields[] = {
    {"name", GZ_T_TEXT, GZ_F_REQUIRED | GZ_F_SEARCH, 1, 40},
    {"kind", GZ_T_ENUM, GZ_F_REQUIRED | GZ_F_FILTER, 0, 0, kinds},
    {"phone", GZ_T_TEXT, GZ_F_PII, 0, 20},
    {"staff", GZ_T_INT, 0, 0, 1000},
    {"floor", GZ_T_INT, 0, -5, 80},
    {"open", GZ_T_BOOL, 0},
    {"opened_at", GZ_T_TIME, GZ_F_NULLABLE},
    {"tags", GZ_T_LIST, 0, 0, 0, tags},
    {"required_tags", GZ_T_LIST, GZ_F_REQUIRED, 0, 0, tags},
    {"score", GZ_T_REAL, 0, 0, 100},
    {"note", GZ_T_TEXT, GZ_F_NULLABLE, 0, 50},
    {"credit_code", GZ_T_TEXT, GZ_F_CREATE_ONLY, 0, 0, NULL, NULL, NULL, gz_check_credit_code},
    {"secret", GZ_T_TEXT, GZ_F_INPUT_ONLY | GZ_F_WRITE_ONLY, 0, 0},
    {"path", GZ_T_TEXT, GZ_F_READONLY},
    {NULL},
};

static const struct gz_entity sample = {
    .name = "shop",
    .table = "fuzz_shops",
    .fields = fields,
    .perm_read = "shop.read",
    .perm_write = "shop.write",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_object_seed(1); /* reproducible hash order */
	return 0;
}

static void die(const char *why, const char *key)
{
	fprintf(stderr, "fuzz_entity: %s (%s)\n", why, key ? key : "-");
	abort();
}

static void check_output(json_t *out, bool create)
{
	if (!json_is_object(out))
		die("output is not an object", NULL);
	const char *key;
	json_t *v;
	json_object_foreach(out, key, v)
	{
		const struct gz_field *f = gz_entity_field(&sample, key);
		if (!f)
			die("undeclared field in output", key);
		if (f->flags & GZ_F_READONLY)
			die("read-only field in output", key);
		if (!create && (f->flags & GZ_F_CREATE_ONLY))
			die("create-only field in a patch", key);
		if (json_is_null(v)) {
			if (create || !(f->flags & GZ_F_NULLABLE))
				die("null for a field that cannot be cleared", key);
			continue;
		}
		switch (f->type) {
		case GZ_T_INT:
		case GZ_T_BOOL:
		case GZ_T_TIME:
			if (!json_is_integer(v))
				die("not normalised to an integer", key);
			if (f->type == GZ_T_BOOL && json_integer_value(v) != 0 &&
			    json_integer_value(v) != 1)
				die("bool not 0 or 1", key);
			if (f->type == GZ_T_INT && (f->min || f->max) &&
			    (json_integer_value(v) < f->min || json_integer_value(v) > f->max))
				die("int out of range", key);
			break;
		case GZ_T_REAL:
			if (!json_is_number(v))
				die("real not a number", key);
			break;
		case GZ_T_ENUM: {
			bool found = false;
			for (const char *const *e = f->values; *e; e++)
				found |= json_is_string(v) && strcmp(*e, json_string_value(v)) == 0;
			if (!found)
				die("enum value not allowed", key);
			break;
		}
		case GZ_T_TEXT:
			if (!json_is_string(v) ||
			    strlen(json_string_value(v)) != json_string_length(v))
				die("text not a NUL-free string", key);
			break;
		case GZ_T_LIST:
			if (!json_is_string(v) && !json_is_array(v))
				die("list neither text nor array", key);
			break;
		case GZ_T_REFS: /* an array of positive ids, each once */
			if (!json_is_array(v))
				die("reference list not an array", key);
			for (size_t i = 0; i < json_array_size(v); i++)
				if (!json_is_integer(json_array_get(v, i)) ||
				    json_integer_value(json_array_get(v, i)) <= 0)
					die("reference list holds a non-id", key);
			break;
		}
	}
	if (create)
		for (const struct gz_field *f = fields; f->name; f++)
			if ((f->flags & GZ_F_REQUIRED) && !json_object_get(out, f->name))
				die("required field missing after create validation", f->name);
}

static void validate(json_t *in, bool create)
{
	json_t *out = NULL;
	struct gz_err err;
	gz_err_clear(&err);
	int rc = gz_entity_validate(&sample, in, create, &out, &err);
	if (rc == 0) {
		if (!out)
			die("success without output", NULL);
		check_output(out, create);
		json_decref(out);
	} else {
		if (rc != -1 || out)
			die("failure with output", NULL);
		if (gz_code_status(err.code) != 400 || !err.message[0])
			die("failure that is not a 400 with a message", err.field);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	json_error_t jerr;
	json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!in)
		return 0;
	json_t *copy = json_deep_copy(in);
	validate(in, true);
	validate(in, false);
	if (!json_equal(in, copy))
		die("validation changed its input", NULL);
	json_decref(copy);

	struct gz_arena a;
	gz_arena_init(&a);
	if (json_is_object(in)) {
		const char *key;
		json_t *v;
		json_object_foreach(in, key, v)
		{
			if (!json_is_string(v))
				continue;
			const char *s = json_string_value(v);
			char *m = gz_mask(&a, s);
			if (!m)
				die("gz_mask returned NULL", key);
			/* it cuts by characters: the result is still valid UTF-8 */
			json_t *check = json_string(m);
			if (!check)
				die("gz_mask cut a character in half", key);
			json_decref(check);
			/* a value of eight or more characters (without stars of its own)
			 * never comes back unchanged */
			size_t chars = 0;
			for (const char *p = s; *p; p++)
				chars += ((unsigned char)*p & 0xc0) != 0x80;
			if (chars >= 8 && !strchr(s, '*') && strcmp(m, s) == 0)
				die("gz_mask returned its input unmasked", key);
		}
	}
	gz_arena_release(&a);
	json_decref(in);
	return 0;
}
