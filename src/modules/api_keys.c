/* api_keys.c - API keys for integrations (an Open311 client, a district platform).
 * A key acts as the account it belongs to; it is shown once at creation and stored
 * only as a hash.  Revoking (PATCH revoked=true) takes effect at once. */
#include "app.h"
#include "core/crypto.h"
#include "model/entity.h"
#include "modules/units.h"
#include <string.h>

static int key_prepare(struct gz_req *r, json_t *in, bool create, struct gz_err *err)
{
	(void)err;
	if (!create)
		return 0;
	char *key = gz_alloc(&r->arena, GZ_TOKEN_LEN);
	gz_random_token("gzk_", 32, key, GZ_TOKEN_LEN);
	char hash[GZ_SHA256_HEX];
	gz_sha256_hex(key, strlen(key), hash);
	json_object_set_new(in, "key_hash", json_string(hash));
	json_object_set_new(in, "prefix", json_stringn(key, 10));
	if (!json_object_get(in, "user_id") && r->acct)
		json_object_set_new(in, "user_id", json_integer(r->acct->id));
	if (r->acct)
		json_object_set_new(in, "created_by", json_integer(r->acct->id));
	r->handler_ctx = key;
	return 0;
}

static int key_before_patch(struct gz_write *w, struct gz_err *err)
{
	if (json_is_false(json_object_get(w->before, "revoked")) ||
	    !json_object_get(w->in, "revoked"))
		return 0;
	if (json_integer_value(json_object_get(w->in, "revoked")) == 0)
		return gz_fail_field(err, GZ_E_CONFLICT, "revoked",
		                     "a revoked key stays revoked: create a new one");
	return 0;
}

static int key_after_write(struct gz_write *w, struct gz_err *err)
{
	(void)err;
	if (w->before)
		gz_auth_forget_user(json_integer_value(json_object_get(w->before, "user_id")));
	return 0;
}

extern const struct gz_entity gz_api_key_entity;

static const struct gz_field key_fields[] = {
    {"name", GZ_T_TEXT, GZ_F_REQUIRED | GZ_F_SEARCH, 1, 64},
    {"prefix", GZ_T_TEXT, GZ_F_READONLY},
    {"user_id", GZ_T_INT, GZ_F_CREATE_ONLY | GZ_F_FILTER, 0, 0, NULL, NULL, &gz_user_entity},
    {"revoked", GZ_T_BOOL, GZ_F_FILTER},
    {NULL},
};

const struct gz_entity gz_api_key_entity = {
    .name = "api_key",
    .table = "api_keys",
    .fields = key_fields,
    .perm_read = "api_keys.manage",
    .perm_write = "api_keys.manage",
    .owner_col = "user_id",
    .prepare = key_prepare,
    .before_patch = key_before_patch,
    .after_write = key_after_write,
};

/* the key itself, shown in this reply only (never stored, not even for a replay) */
static int show_key(struct gz_req *r, struct gz_err *err)
{
	(void)err;
	if (r->handler_ctx && r->json && r->status == 201)
		json_object_set_new(r->json, "key", json_string(r->handler_ctx));
	return 0;
}

static int create_key(struct gz_req *r, struct gz_err *err)
{
	if (gz_entity_create_handler(r, err))
		return -1;
	return gz_req_then(r, show_key, err);
}

static const struct gz_route routes[] = {
    GZ_ENTITY_ROUTE_LIST("/api/v1/api-keys", &gz_api_key_entity, "api_keys.manage",
                         "List API keys (never the keys themselves)"),
    GZ_ENTITY_ROUTE_CREATE("/api/v1/api-keys", &gz_api_key_entity, "api_keys.manage", create_key,
                           "Create an API key: the key is shown once"),
    GZ_ENTITY_ROUTE_GET("/api/v1/api-keys", &gz_api_key_entity, "api_keys.manage",
                        "Get an API key's record"),
    GZ_ENTITY_ROUTE_PATCH("/api/v1/api-keys", &gz_api_key_entity, "api_keys.manage",
                          gz_entity_patch_handler, "Rename or revoke an API key"),
    {0, NULL},
};

static const struct gz_perm perms[] = {
    {"api_keys.manage", GZ_RB(ADMIN), "create and revoke API keys"},
    {NULL},
};

static const struct gz_entity *const entities[] = {&gz_api_key_entity, NULL};

const struct gz_module gz_api_keys_module = {"api_keys", routes, perms, entities, NULL};
