/* test_lifecycle.c - unit tests for the pure half of src/model/lifecycle.c: which
 * actions an account may take on a row (state mask, readiness, permission, relation),
 * the allowed list and its to-do subset, the registry, and gz_lc_set's clauses.  The
 * write half (the actions endpoint, timeline, audit, notifications, to-do list) is
 * covered by the black-box tests t22-lifecycle and t26-notify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/lifecycle.h"
#include <jansson.h>
#include <string.h>

enum { DRAFT, PUBLISHED, WITHDRAWN };
static const char *const states[] = {"draft", "published", "withdrawn", NULL};

struct notice {
	int state;
	int64_t unit_id, owner_id;
	bool pinned;
};

static int notice_state(const void *row)
{
	return ((const struct notice *)row)->state;
}

static bool relation(unsigned rel, const struct gz_account *a, const void *row)
{
	const struct notice *n = row;
	if (rel == GZ_LC_SCOPE)
		return a->unit_id == n->unit_id;
	if (rel == GZ_LC_OWNER)
		return a->id == n->owner_id;
	return false;
}

static bool not_pinned(const void *row)
{
	return !((const struct notice *)row)->pinned;
}

static const struct gz_lc_action actions[] = {
    {"publish", 1u << DRAFT, PUBLISHED, "notices.publish", GZ_LC_SCOPE, NULL, NULL, NULL, 0, NULL,
     true},
    {"withdraw", 1u << PUBLISHED, WITHDRAWN, NULL, GZ_LC_OWNER | GZ_LC_SCOPE, not_pinned, NULL,
     NULL, 0, NULL, true},
    {"comment", ~0u, GZ_LC_SAME, NULL, GZ_LC_SCOPE},
    {NULL},
};

static const struct gz_entity notice_entity = {.name = "notice", .table = "notices"};

static const struct gz_machine machine = {
    .name = "notice",
    .entity = &notice_entity,
    .states = states,
    .actions = actions,
    .row_size = sizeof(struct notice),
    .state = notice_state,
    .relation = relation,
};

static const struct gz_perm perms[] = {
    {"notices.publish", GZ_RB(COMMUNITY), "publish notices"},
    {NULL},
};

static int setup(void **state)
{
	(void)state;
	struct gz_err err;
	return gz_perms_register(perms, &err);
}

static struct gz_account account(int64_t id, unsigned roles, int64_t unit)
{
	struct gz_account a;
	memset(&a, 0, sizeof(a));
	a.id = id;
	a.roles = roles;
	a.unit_id = unit;
	return a;
}

static bool allowed_has(json_t *arr, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) if (strcmp(json_string_value(v), name) == 0) return true;
	return false;
}

static void may_needs_state_permission_and_relation(void **state)
{
	(void)state;
	struct notice n = {DRAFT, 7, 42, false};
	struct gz_account staff = account(1, GZ_RB(COMMUNITY), 7);
	struct gz_account elsewhere = account(2, GZ_RB(COMMUNITY), 8);
	struct gz_account resident = account(42, GZ_RB(RESIDENT), 9);
	assert_true(gz_lifecycle_may(&machine, &actions[0], &staff, &n));
	assert_false(gz_lifecycle_may(&machine, &actions[0], &elsewhere, &n)); /* relation */
	assert_false(gz_lifecycle_may(&machine, &actions[0], &resident, &n));  /* permission */
	assert_false(gz_lifecycle_may(&machine, &actions[1], &staff, &n));     /* state */
	n.state = PUBLISHED;
	assert_false(gz_lifecycle_may(&machine, &actions[0], &staff, &n));
	/* either relation of the mask will do */
	assert_true(gz_lifecycle_may(&machine, &actions[1], &staff, &n));
	assert_true(gz_lifecycle_may(&machine, &actions[1], &resident, &n));
	assert_false(gz_lifecycle_may(&machine, &actions[1], &elsewhere, &n));
	/* readiness */
	n.pinned = true;
	assert_false(gz_lifecycle_may(&machine, &actions[1], &resident, &n));
	/* an unknown state allows nothing */
	n.state = -1;
	assert_false(gz_lifecycle_may(&machine, &actions[2], &staff, &n));
}

static void allowed_lists_and_tasks(void **state)
{
	(void)state;
	struct notice n = {DRAFT, 7, 42, false};
	struct gz_account staff = account(1, GZ_RB(COMMUNITY), 7);
	json_t *all = gz_lifecycle_allowed(&machine, &staff, &n, false);
	json_t *tasks = gz_lifecycle_allowed(&machine, &staff, &n, true);
	assert_int_equal(json_array_size(all), 2);
	assert_true(allowed_has(all, "publish") && allowed_has(all, "comment"));
	assert_int_equal(json_array_size(tasks), 1);
	assert_true(allowed_has(tasks, "publish"));
	json_decref(all);
	json_decref(tasks);
	n.state = WITHDRAWN;
	struct gz_account resident = account(42, GZ_RB(RESIDENT), 9);
	all = gz_lifecycle_allowed(&machine, &resident, &n, false);
	assert_int_equal(json_array_size(all), 0); /* comment needs the scope */
	json_decref(all);
}

static void registry(void **state)
{
	(void)state;
	assert_null(gz_lifecycle_of(&notice_entity));
	gz_lifecycle_register(&machine);
	gz_lifecycle_register(&machine); /* idempotent */
	assert_ptr_equal(gz_lifecycle_of(&notice_entity), &machine);
	static const struct gz_entity other = {.name = "other"};
	assert_null(gz_lifecycle_of(&other));
}

static void set_clauses(void **state)
{
	(void)state;
	struct gz_lc_ctx x;
	memset(&x, 0, sizeof(x));
	gz_buf_init(&x.set);
	gz_lc_set(&x, "a", 'i', 5, NULL);
	gz_lc_set(&x, "b", 't', 0, "text");
	gz_lc_set(&x, "c", 'n', 0, NULL);
	assert_string_equal(x.set.data, ", a = ?, b = ?, c = ?");
	assert_int_equal(x.args.n, 3);
	assert_int_equal(x.args.v[0].type, 'i');
	assert_int_equal(x.args.v[0].i, 5);
	assert_string_equal(x.args.v[1].t, "text");
	assert_int_equal(x.args.v[2].type, 'n');
	gz_buf_release(&x.set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(may_needs_state_permission_and_relation),
	    cmocka_unit_test(allowed_lists_and_tasks),
	    cmocka_unit_test(registry),
	    cmocka_unit_test(set_clauses),
	};
	return cmocka_run_group_tests_name("lifecycle", tests, setup, NULL);
}
