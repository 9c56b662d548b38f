/* t91-meta.c - GET /api/v1/meta: the enumerated values of every entity and the roles
 * with their Chinese names, for the console.  The values must be exactly those the
 * OpenAPI document gives for the same fields (both come from the entity
 * descriptions, and the console reads this one instead of copying them), and the
 * server must refuse a value the metadata does not list.  Written on the standard
 * fixture: the setup is two lines. */
#include "harness.h"
#include <stdio.h>
#include <stdlib.h>

static struct srv S;
static struct fixture fx;

static int setup(void **state)
{
	(void)state;
	return fixture_start(&fx, &S, NULL);
}

static int teardown(void **state)
{
	(void)state;
	return fixture_stop(&fx) == 0 ? 0 : -1;
}

static void meta_needs_login(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/meta", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
}

static void meta_roles(void **state)
{
	(void)state;
	static const char *const names[] = {"admin",       "subdistrict_staff", "community_staff",
	                                    "grid_worker", "partner",           "property",
	                                    "mediator",    "resident"};
	static const char *const labels[] = {"区级管理员", "街道工作人员", "社区工作人员", "网格员",
	                                     "合伙人",     "物业",         "调解员",       "居民"};
	/* every account reads it (the console of each role needs it) */
	for (int k = 0; k < FX_NACCOUNTS; k++) {
		struct resp *r = api(&S, "GET", "/api/v1/meta", fx.tok[k], NULL, NULL);
		assert_status(r, 200);
		json_t *roles = jpath(r->json, "roles");
		assert_int_equal(json_array_size(roles), 8);
		for (size_t i = 0; i < 8; i++) {
			assert_string_equal(jstr(json_array_get(roles, i), "name"), names[i]);
			assert_string_equal(jstr(json_array_get(roles, i), "label"), labels[i]);
		}
		/* the account's roles field takes exactly the role names */
		json_t *vals = jpath(r->json, "enums.user.roles");
		assert_int_equal(json_array_size(vals), 8);
		for (size_t i = 0; i < 8; i++)
			assert_string_equal(json_string_value(json_array_get(vals, i)), names[i]);
		resp_free(r);
	}
}

static void meta_matches_openapi(void **state)
{
	(void)state;
	struct resp *m = api(&S, "GET", "/api/v1/meta", fx.tok[FX_SHEQU], NULL, NULL);
	struct resp *o = api(&S, "GET", "/api/v1/openapi.json", NULL, NULL, NULL);
	assert_status(m, 200);
	assert_status(o, 200);
	json_t *enums = jpath(m->json, "enums");
	const char *ent, *field;
	json_t *fields, *vals;
	int n = 0;
	json_object_foreach(enums, ent, fields)
	{
		json_object_foreach(fields, field, vals)
		{
			json_t *schema =
			    jpath(o->json, F("components.schemas.%s.properties.%s", ent, field));
			if (!schema)
				continue; /* an entity no route serves (none today) */
			json_t *want = json_object_get(schema, "enum");
			if (!want)
				want = jpath(schema, "items.enum");
			if (!json_equal(want, vals))
				fail_msg("%s.%s: meta and OpenAPI disagree", ent, field);
			n++;
		}
	}
	/* the lists the console used to copy are there, in the server's order */
	assert_string_equal(json_string_value(json_array_get(jpath(enums, "work_order.status"), 0)),
	                    "new");
	assert_int_equal(json_array_size(jpath(enums, "work_order.channel")), 7);
	assert_int_equal(json_array_size(jpath(enums, "work_order.priority")), 4);
	assert_int_equal(json_array_size(jpath(enums, "org.kind")) > 0, 1);
	assert_true(n >= 6);
	resp_free(m);
	resp_free(o);
}

static void meta_values_are_the_accepted_ones(void **state)
{
	(void)state;
	struct resp *m = api(&S, "GET", "/api/v1/meta", fx.tok[FX_ADMIN], NULL, NULL);
	assert_status(m, 200);
	size_t i;
	json_t *v;
	/* every organisation kind the metadata lists is accepted ... */
	json_array_foreach(jpath(m->json, "enums.org.kind"), i, v)
	{
		struct resp *r =
		    api(&S, "GET", F("/api/v1/orgs?kind=%s&limit=1", json_string_value(v)),
		        fx.tok[FX_ADMIN], NULL, NULL);
		assert_status(r, 200);
		resp_free(r);
	}
	resp_free(m);
	/* ... and one it does not list is refused naming the field */
	struct resp *r = api(&S, "POST", "/api/v1/orgs", fx.tok[FX_ADMIN],
	                     F("{\"kind\":\"no_such_kind\",\"name\":\"%s\"}", uniq("meta")), NULL);
	assert_error(r, 400, "validation_failed", "kind");
	resp_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(meta_needs_login),
	    cmocka_unit_test(meta_roles),
	    cmocka_unit_test(meta_matches_openapi),
	    cmocka_unit_test(meta_values_are_the_accepted_ones),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
