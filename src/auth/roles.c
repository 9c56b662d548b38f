/* roles.c - the built-in roles and the permission registry.  Modules declare their
 * permissions (name -> roles holding it); the registry is filled once at start-up
 * and read without locks afterwards. */
#include "auth/auth.h"
#include "core/util.h"
#include <string.h>

const char *const gz_role_names[GZ_ROLE_COUNT] = {
#define GZ_X(n, s, zh) s,
    GZ_ROLES(GZ_X)
#undef GZ_X
};

int gz_role_parse(const char *name)
{
	for (int i = 0; i < GZ_ROLE_COUNT; i++)
		if (strcmp(gz_role_names[i], name) == 0)
			return i;
	return -1;
}

enum { MAX_PERMS = 256 };
static const struct gz_perm *registry[MAX_PERMS];
static int nregistry;

int gz_perms_register(const struct gz_perm *rows, struct gz_err *err)
{
	for (; rows && rows->name; rows++) {
		const struct gz_perm *old = gz_perm_find(rows->name);
		if (old == rows)
			continue; /* registered by an earlier start in this process */
		if (old)
			return gz_fail(err, GZ_E_INTERNAL, "permission %s declared twice",
			               rows->name);
		if (nregistry == MAX_PERMS)
			return gz_fail(err, GZ_E_INTERNAL, "too many permissions");
		registry[nregistry++] = rows;
	}
	return 0;
}

const struct gz_perm *gz_perm_find(const char *name)
{
	for (int i = 0; i < nregistry; i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

bool gz_account_has(const struct gz_account *a, const char *perm)
{
	if (!a)
		return false;
	if (a->roles & GZ_RB(ADMIN))
		return true;
	const struct gz_perm *p = gz_perm_find(perm);
	if (!p)
		GZ_BUG("undeclared permission %s", perm);
	return (p->roles & a->roles) != 0;
}

json_t *gz_account_perms_json(const struct gz_account *a)
{
	json_t *arr = json_array();
	for (int i = 0; i < nregistry; i++)
		if (gz_account_has(a, registry[i]->name))
			json_array_append_new(arr, json_string(registry[i]->name));
	return arr;
}
