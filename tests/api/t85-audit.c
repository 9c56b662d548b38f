/* t85-audit.c - the audit log endpoints: GET /api/v1/audit (admin only, filters,
 * keyset paging, newest first) and GET /api/v1/audit/verify. */
#include "harness.h"
#include <stdlib.h>
#include <string.h>

static struct srv S;
static char *admin_tok, *shequ_tok;

static int setup(void **state)
{
	(void)state;
	if (srv_start(&S, NULL, true))
		return -1;
	admin_tok = login(&S, "admin", ADMIN_PW);
	shequ_tok = login(&S, "shequ", DEMO_PW);
	return admin_tok && shequ_tok ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(admin_tok);
	free(shequ_tok);
	int rc = srv_stop(&S);
	srv_cleanup(&S);
	assert_int_equal(rc, 0);
	return 0;
}

static void lists_newest_first_with_filters(void **state)
{
	(void)state;
	struct resp *r =
	    api(&S, "GET", "/api/v1/audit?action=login&actor=shequ", admin_tok, NULL, NULL);
	assert_int_equal(r->status, 200);
	json_t *items = jpath(r->json, "items");
	assert_true(json_array_size(items) >= 1);
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		assert_string_equal(jstr(it, "action"), "login");
		assert_string_equal(jstr(it, "actor"), "shequ");
		assert_true(strstr(jstr(it, "at"), "+08:00") != NULL);
	}
	resp_free(r);
	/* a write shows up with its summary */
	r = api(&S, "POST", "/api/v1/orgs", admin_tok,
	        "{\"kind\":\"ngo\",\"name\":\"审计测试组织\"}", NULL);
	assert_int_equal(r->status, 201);
	int64_t org = jint(r->json, "id");
	resp_free(r);
	r = apif(&S, "GET", admin_tok, NULL, "/api/v1/audit?object_type=org&object_id=%lld",
	         (long long)org);
	assert_int_equal(r->status, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 1);
	assert_string_equal(jstr(r->json, "items.0.action"), "create");
	assert_string_equal(jstr(r->json, "items.0.summary.name"), "审计测试组织");
	resp_free(r);
}

static void pages_without_overlap(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/audit?limit=3", admin_tok, NULL, NULL);
	assert_int_equal(r->status, 200);
	int64_t first_page_last = jint(r->json, "items.2.id");
	int64_t first = jint(r->json, "items.0.id");
	assert_true(first > first_page_last);
	char cursor[64];
	snprintf(cursor, sizeof(cursor), "%s", jstr(r->json, "next_cursor"));
	resp_free(r);
	assert_true(cursor[0] == 'c');
	r = apif(&S, "GET", admin_tok, NULL, "/api/v1/audit?limit=3&cursor=%s", cursor);
	assert_int_equal(r->status, 200);
	assert_true(jint(r->json, "items.0.id") < first_page_last);
	resp_free(r);
}

static void admin_only_and_bad_input(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/audit", shequ_tok, NULL, NULL);
	assert_int_equal(r->status, 403);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/audit", NULL, NULL, NULL);
	assert_int_equal(r->status, 401);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/audit?bogus=1", admin_tok, NULL, NULL);
	assert_int_equal(r->status, 400);
	assert_string_equal(err_code(r), "unknown_field");
	assert_string_equal(err_field(r), "bogus");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/audit?from=yesterday", admin_tok, NULL, NULL);
	assert_int_equal(r->status, 400);
	assert_string_equal(err_field(r), "from");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/audit?limit=0", admin_tok, NULL, NULL);
	assert_int_equal(r->status, 400);
	assert_string_equal(err_field(r), "limit");
	resp_free(r);
}

static void verify_holds(void **state)
{
	(void)state;
	struct resp *r = api(&S, "GET", "/api/v1/audit/verify", admin_tok, NULL, NULL);
	assert_int_equal(r->status, 200);
	assert_true(json_is_true(jpath(r->json, "holds")));
	assert_true(jint(r->json, "checked") > 10);
	assert_true(json_is_null(jpath(r->json, "broken_id")));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/audit/verify", shequ_tok, NULL, NULL);
	assert_int_equal(r->status, 403);
	resp_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lists_newest_first_with_filters),
	    cmocka_unit_test(pages_without_overlap),
	    cmocka_unit_test(admin_only_and_bad_input),
	    cmocka_unit_test(verify_holds),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
