/* users.c - accounts as a declarative entity.  Business rules: the password is
 * checked against the policy and hashed before the write (never stored or shown in
 * clear); an account may grant only roles up to its own rank; partner and property
 * accounts belong to an organisation; a change of roles, unit or status drops the
 * user's cached sessions, and disabling ends them.
 *
 * Account scope: an account reads its own account, but writes only accounts whose
 * unit lies in its subtree (owner_reads_only), before and after the change; nobody
 * changes their own roles, unit, organisation or disabled flag; an account is bound
 * only to an organisation the actor reaches (GZ_F_SCOPED_REF: registered in its
 * subtree, or its own).  Admin reaches everything but itself.  The CLI (no actor) is
 * the operator's and may do anything. */
#include "app.h"
#include "core/crypto.h"
#include "model/entity.h"
#include "modules/units.h"
#include <stdio.h>
#include <string.h>

static const char *const role_values[] = {
#define GZ_X(n, s, zh) s,
    GZ_ROLES(GZ_X)
#undef GZ_X
        NULL};

static const char *const role_labels[] = {
#define GZ_X(n, s, zh) zh,
    GZ_ROLES(GZ_X)
#undef GZ_X
        NULL};

static int check_username(const char *v, const char *field, struct gz_err *err)
{
	for (const char *p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-' || *p == '.'))
			return gz_fail_field(err, GZ_E_VALIDATION, field,
			                     "username may hold only a-z, 0-9, _ - .");
	return 0;
}

static int user_prepare(struct gz_req *r, json_t *in, bool create, struct gz_err *err)
{
	(void)create;
	json_t *pw = json_object_get(in, "password");
	if (!pw)
		return 0;
	if (gz_password_check(json_string_value(pw), "password", err))
		return -1;
	char hash[GZ_PWHASH_MAX];
	if (gz_password_hash(json_string_value(pw), hash))
		return gz_fail(err, GZ_E_INTERNAL, "cannot hash the password");
	json_object_set_new(in, "password_hash", json_string(hash));
	json_object_set_new(in, "password_changed_at", json_integer(0));
	(void)r;
	return 0;
}

/* admin > subdistrict staff > community staff > the rest */
static int rank(unsigned roles)
{
	if (roles & GZ_RB(ADMIN))
		return 3;
	if (roles & GZ_RB(SUBDISTRICT))
		return 2;
	if (roles & GZ_RB(COMMUNITY))
		return 1;
	return 0;
}

static int check_roles(struct gz_write *w, json_t *merged, struct gz_err *err)
{
	unsigned mask = 0;
	json_t *roles = json_object_get(merged, "roles");
	const char *text = json_is_string(roles) ? json_string_value(roles) : NULL;
	char *dumped = NULL;
	if (!text && json_is_array(roles))
		text = dumped = json_dumps(roles, JSON_COMPACT);
	int rc = text ? gz_roles_from_json_text(text, &mask) : -1;
	free(dumped);
	if (rc)
		return gz_fail_field(err, GZ_E_VALIDATION, "roles", "roles are not valid");
	if (w->actor && rank(mask) > rank(w->actor->roles))
		return gz_fail_field(err, GZ_E_FORBIDDEN, "roles",
		                     "you may not grant a role above your own");
	json_t *org = json_object_get(merged, "org_id");
	if ((mask & (GZ_RB(PARTNER) | GZ_RB(PROPERTY))) && !json_is_integer(org))
		return gz_fail_field(err, GZ_E_VALIDATION, "org_id",
		                     "partner and property accounts need org_id");
	json_t *unit = json_object_get(merged, "unit_id");
	if ((mask & (GZ_RB(SUBDISTRICT) | GZ_RB(COMMUNITY) | GZ_RB(GRID))) &&
	    !json_is_integer(unit))
		return gz_fail_field(err, GZ_E_VALIDATION, "unit_id",
		                     "staff and grid accounts need unit_id");
	return 0;
}

static int user_before_create(struct gz_write *w, struct gz_err *err)
{
	if (!json_object_get(w->in, "password_hash"))
		return gz_fail_field(err, GZ_E_VALIDATION, "password", "password is required");
	return check_roles(w, w->in, err);
}

static unsigned roles_mask(json_t *roles)
{
	unsigned mask = 0;
	char *dumped = json_is_array(roles) ? json_dumps(roles, JSON_COMPACT) : NULL;
	const char *text = dumped ? dumped : json_string_value(roles);
	if (text)
		gz_roles_from_json_text(text, &mask);
	free(dumped);
	return mask;
}

/* What decides an account's reach is never its own to change: another account (of
 * a rank and scope that allow it) does it.  Values sent unchanged are accepted, so a
 * form may send the whole account back. */
static int check_self(struct gz_write *w, struct gz_err *err)
{
	static const char *const locked[] = {"roles", "unit_id", "org_id", "disabled", NULL};
	if (!w->actor || w->actor->id != w->id)
		return 0;
	for (const char *const *k = locked; *k; k++) {
		json_t *now = json_object_get(w->in, *k), *was = json_object_get(w->before, *k);
		if (!now)
			continue;
		bool same;
		if (strcmp(*k, "roles") == 0)
			same = roles_mask(now) == roles_mask(was);
		else if (strcmp(*k, "disabled") == 0)
			same = (json_integer_value(now) != 0) == json_is_true(was);
		else
			same = json_is_null(now)
			           ? json_is_null(was)
			           : json_is_integer(was) &&
			                 json_integer_value(was) == json_integer_value(now);
		if (!same)
			return gz_fail_field(err, GZ_E_FORBIDDEN, *k,
			                     "you cannot change your own %s: another administrator "
			                     "does that",
			                     strcmp(*k, "unit_id") == 0  ? "unit"
			                     : strcmp(*k, "org_id") == 0 ? "organisation"
			                                                 : *k);
	}
	return 0;
}

static int user_before_patch(struct gz_write *w, struct gz_err *err)
{
	if (check_self(w, err))
		return -1;
	/* an account may hold a role above the actor's: then only a peer may change it */
	unsigned old = roles_mask(json_object_get(w->before, "roles"));
	if (w->actor && rank(old) > rank(w->actor->roles))
		return gz_fail(err, GZ_E_FORBIDDEN,
		               "you may not change an account above your rank");
	json_t *merged = json_deep_copy(w->before);
	json_object_update(merged, w->in);
	int rc = check_roles(w, merged, err);
	json_decref(merged);
	return rc;
}

static int user_after_write(struct gz_write *w, struct gz_err *err)
{
	if (!w->before)
		return 0;
	gz_auth_forget_user(w->id);
	if (json_integer_value(json_object_get(w->in, "disabled")) ||
	    json_object_get(w->in, "password_hash"))
		return gz_session_delete_user(w->conn, w->id, NULL, err);
	return 0;
}

static const struct gz_field user_fields[] = {
    {"username", GZ_T_TEXT, GZ_F_REQUIRED | GZ_F_CREATE_ONLY | GZ_F_FILTER | GZ_F_SEARCH, 3, 64,
     NULL, NULL, NULL, check_username, .label = "用户名"},
    {"display_name", GZ_T_TEXT, GZ_F_REQUIRED | GZ_F_SEARCH, 1, 64, .label = "姓名"},
    {"password", GZ_T_TEXT, GZ_F_INPUT_ONLY | GZ_F_WRITE_ONLY, 1, 256},
    {"roles", GZ_T_LIST, GZ_F_REQUIRED | GZ_F_FILTER, 0, 0, role_values, .label = "角色",
     .value_labels = role_labels},
    {"unit_id", GZ_T_INT, GZ_F_FILTER | GZ_F_NULLABLE, 0, 0, NULL, NULL, &gz_unit_entity,
     .label = "所属单位"},
    /* an account is bound only to an organisation tied to the actor's subtree */
    {"org_id", GZ_T_INT, GZ_F_FILTER | GZ_F_NULLABLE | GZ_F_SCOPED_REF, 0, 0, NULL, NULL,
     &gz_org_entity, .label = "所属组织"},
    {"phone", GZ_T_TEXT, GZ_F_PII | GZ_F_NULLABLE, 0, 30, NULL, NULL, NULL, gz_check_phone,
     .label = "手机号码"},
    {"disabled", GZ_T_BOOL, GZ_F_FILTER, .label = "已停用"},
    /* set by a successful login, in the write that creates the session */
    {"last_login_at", GZ_T_TIME, GZ_F_READONLY, .label = "最后登录时间"},
    {NULL},
};

const struct gz_entity gz_user_entity = {
    .name = "user",
    .label = "用户",
    .table = "users",
    .named = true,
    .fields = user_fields,
    .perm_read = "users.read",
    .perm_write = "users.write",
    .unit_col = "unit_id",
    .org_col = "org_id",
    .owner_col = "id",
    .owner_reads_only = true,
    .prepare = user_prepare,
    .before_create = user_before_create,
    .before_patch = user_before_patch,
    .after_write = user_after_write,
};

static const struct gz_route routes[] = {
    GZ_ENTITY_ROUTE_EXPORT("/api/v1/users", &gz_user_entity, "users.read",
                           "The accounts of the list's filters and scope"),
    GZ_ENTITY_ROUTES(
        "/api/v1/users", &gz_user_entity, "users.read", "users.write",
        "List accounts in scope (filters: username, roles, unit_id, org_id, disabled, within, q)",
        "Create an account", "Get an account",
        "Change an account (roles, unit, organisation, disabled, password)"),
    {0, NULL},
};

static const struct gz_perm perms[] = {
    {"users.read", GZ_ROLES_STAFF | GZ_RB(PARTNER) | GZ_RB(PROPERTY), "see accounts in scope"},
    {"users.write", GZ_ROLES_STAFF, "create and change accounts in scope"},
    {NULL},
};

static const struct gz_entity *const entities[] = {&gz_user_entity, NULL};

const struct gz_module gz_users_module = {"users", routes, perms, entities, NULL};
