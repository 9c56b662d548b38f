/* ops.c - operations endpoints: /healthz, /metrics (Prometheus text), the
 * OpenAPI document generated from the route table and entity descriptions, and the
 * console's metadata (enum values and roles, from the same descriptions).  Where
 * /metrics is served and whether it needs a token is the server's (GZ_R_METRICS). */
#include "modules/units.h"
#include "app.h"
#include "core/metrics.h"
#include "model/entity.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int healthz(struct gz_req *r, struct gz_err *err)
{
	struct gz_conn *c = gz_db_reader(r->app->db);
	int64_t one = 0;
	int rc = gz_query_i64(c, err, &one, "SELECT 1", "");
	gz_db_reader_done(r->app->db, c);
	if (rc != 1)
		return gz_reply_json(
		    r, 503, json_pack("{s:s,s:s}", "status", "degraded", "db", "unavailable"));
	return gz_reply_json(r, 200, json_pack("{s:s,s:s}", "status", "ok", "db", "ok"));
}

static int metrics(struct gz_req *r, struct gz_err *err)
{
	(void)err;
	struct gz_buf b = GZ_BUF_INIT;
	gz_metrics_render(&b);
	gz_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", gz_buf_str(&b));
	gz_buf_release(&b);
	return 0;
}

static json_t *field_schema(const struct gz_field *f)
{
	static const char *const types[] = {"integer", "number", "string", "boolean",
	                                    "string",  "string", "array",  "array"};
	json_t *s = json_pack("{s:s}", "type", types[f->type]);
	if (f->type == GZ_T_TIME)
		json_object_set_new(s, "format", json_string("date-time"));
	if (f->type == GZ_T_ENUM || f->type == GZ_T_LIST) {
		json_t *e = json_array();
		for (const char *const *v = f->values; v && *v; v++)
			json_array_append_new(e, json_string(*v));
		if (f->type == GZ_T_LIST)
			json_object_set_new(s, "items",
			                    json_pack("{s:s,s:o}", "type", "string", "enum", e));
		else
			json_object_set_new(s, "enum", e);
	}
	if (f->type == GZ_T_REFS)
		json_object_set_new(s, "items", json_pack("{s:s}", "type", "integer"));
	if (f->type == GZ_T_TEXT && f->max)
		json_object_set_new(s, "maxLength", json_integer(f->max));
	if (f->flags & GZ_F_READONLY)
		json_object_set_new(s, "readOnly", json_true());
	if (f->flags & (GZ_F_WRITE_ONLY | GZ_F_INPUT_ONLY))
		json_object_set_new(s, "writeOnly", json_true());
	if (f->flags & GZ_F_PII)
		json_object_set_new(s, "description",
		                    json_string("personal information: masked on output"));
	else if (f->flags & GZ_F_DETAIL)
		json_object_set_new(s, "description",
		                    json_string("in the single-record read only, not in lists"));
	return s;
}

static json_t *entity_schema(const struct gz_entity *e)
{
	json_t *props = json_object(), *req = json_array();
	json_object_set_new(props, "id", json_pack("{s:s,s:b}", "type", "integer", "readOnly", 1));
	json_object_set_new(props, "version",
	                    json_pack("{s:s,s:b}", "type", "integer", "readOnly", 1));
	for (const struct gz_field *f = e->fields; f->name; f++) {
		json_object_set_new(props, f->name, field_schema(f));
		if (f->flags & GZ_F_REQUIRED)
			json_array_append_new(req, json_string(f->name));
	}
	for (const struct gz_child_list *l = e->children; l && l->name; l++) {
		json_t *cprops = json_object();
		for (const struct gz_field *f = l->columns; f->name; f++)
			json_object_set_new(cprops, f->name, field_schema(f));
		/* a list continuing the one before (rows of another kind in the same array):
		 * its columns join the items' properties */
		json_t *prev = json_object_get(props, l->name);
		if (prev) {
			json_object_update_missing(
			    json_object_get(json_object_get(prev, "items"), "properties"), cprops);
			json_decref(cprops);
			continue;
		}
		json_object_set_new(props, l->name,
		                    json_pack("{s:s,s:b,s:s,s:{s:s,s:o}}", "type", "array",
		                              "readOnly", 1, "description",
		                              "in the single-record read only, not in lists",
		                              "items", "type", "object", "properties", cprops));
	}
	if (e->archivable)
		json_object_set_new(props, "archived_at",
		                    json_pack("{s:s,s:s,s:b,s:b}", "type", "string", "format",
		                              "date-time", "nullable", 1, "readOnly", 1));
	json_object_set_new(
	    props, "created_at",
	    json_pack("{s:s,s:s,s:b}", "type", "string", "format", "date-time", "readOnly", 1));
	json_object_set_new(
	    props, "updated_at",
	    json_pack("{s:s,s:s,s:b}", "type", "string", "format", "date-time", "readOnly", 1));
	return json_pack("{s:s,s:o,s:o}", "type", "object", "properties", props, "required", req);
}

/* The roles that may call a route (the authorisation matrix reads them): those
 * holding its permission, every role when it needs none beyond a login. */
static json_t *route_roles(const struct gz_route *rt)
{
	json_t *roles = json_array();
	const struct gz_perm *p = rt->perm ? gz_perm_find(rt->perm) : NULL;
	for (int i = 0; i < GZ_ROLE_COUNT; i++)
		if (!rt->perm || i == GZ_ROLE_ADMIN || (p && (p->roles & (1u << i))))
			json_array_append_new(roles, json_string(gz_role_names[i]));
	return roles;
}

static int openapi(struct gz_req *r, struct gz_err *err)
{
	(void)err;
	json_t *paths = json_object(), *schemas = json_object();
	static const char *const methods[] = {"get", "post", "put", "patch", "delete"};
	for (size_t m = 0; m < r->app->nmodules; m++)
		for (const struct gz_route *rt = r->app->modules[m]->routes; rt && rt->pattern;
		     rt++) {
			json_t *item = json_object_get(paths, rt->pattern);
			if (!item) {
				item = json_object();
				json_object_set_new(paths, rt->pattern, item);
			}
			for (int b = 0; b < 5; b++) {
				if (!(rt->methods & (1u << b)))
					continue;
				json_t *op = json_pack("{s:s,s:[s]}", "summary",
				                       rt->summary ? rt->summary : "", "tags",
				                       r->app->modules[m]->name);
				if (rt->perm)
					json_object_set_new(op, "x-permission",
					                    json_string(rt->perm));
				if (rt->flags & GZ_R_PUBLIC)
					json_object_set_new(op, "security", json_array());
				else
					json_object_set_new(op, "x-roles", route_roles(rt));
				if (rt->flags & GZ_R_WRITE)
					json_object_set_new(op, "x-write", json_true());
				if (rt->flags & GZ_R_AUDIT)
					json_object_set_new(op, "x-audit", json_true());
				if (gz_route_row(rt))
					json_object_set_new(op, "x-row",
					                    json_string(gz_route_row(rt)->name));
				json_t *params = json_array();
				for (const char *p = strchr(rt->pattern, '{'); p;
				     p = strchr(p + 1, '{')) {
					const char *close = strchr(p, '}');
					json_array_append_new(
					    params,
					    json_pack("{s:s%,s:s,s:b,s:{s:s}}", "name", p + 1,
					              (size_t)(close - p - 1), "in", "path",
					              "required", 1, "schema", "type", "string"));
				}
				json_object_set_new(op, "parameters", params);
				json_t *ok = json_pack("{s:s}", "description", "success");
				char ref[128];
				snprintf(ref, sizeof(ref), "#/components/schemas/%s",
				         rt->entity ? rt->entity->name : "");
				if (rt->flags & GZ_R_FILE) {
					/* an export: a file of the entity's rows, not its JSON */
					bool xlsx = strstr(rt->pattern, ".xlsx") != NULL;
					json_object_set_new(
					    ok, "content",
					    json_pack("{s:{s:{s:s,s:s}}}",
					              xlsx ? "application/vnd.openxmlformats-"
					                     "officedocument.spreadsheetml.sheet"
					                   : "text/csv",
					              "schema", "type", "string", "format",
					              "binary"));
					if (rt->entity)
						json_object_set_new(op, "x-rows",
						                    json_string(rt->entity->name));
				} else if (rt->entity) {
					json_object_set_new(schemas, rt->entity->name,
					                    entity_schema(rt->entity));
					json_object_set_new(ok, "content",
					                    json_pack("{s:{s:{s:s}}}",
					                              "application/json", "schema",
					                              "$ref", ref));
				}
				json_object_set_new(
				    op, "responses",
				    json_pack("{s:o,s:{s:s}}", b == 1 ? "201" : "200", ok,
				              "default", "$ref", "#/components/responses/Error"));
				if ((rt->flags & GZ_R_JSON) && rt->entity)
					json_object_set_new(op, "requestBody",
					                    json_pack("{s:b,s:{s:{s:{s:s}}}}",
					                              "required", 1, "content",
					                              "application/json", "schema",
					                              "$ref", ref));
				json_object_set_new(item, methods[b], op);
			}
		}
	json_t *error = json_pack(
	    "{s:s,s:{s:{s:{s:s,s:{s:{s:s,s:{s:{s:s},s:{s:s},s:{s:s},s:{s:s}}}}}}}}", "description",
	    "the one error shape", "content", "application/json", "schema", "type", "object",
	    "properties", "error", "type", "object", "properties", "code", "type", "string",
	    "message", "type", "string", "field", "type", "string", "allowed", "type", "array");
	json_t *doc = json_pack(
	    "{s:s,s:{s:s,s:s,s:s},s:[{s:s}],s:o,s:{s:o,s:{s:o},s:{s:{s:s,s:s},s:{s:s,s:s,s:s}}},"
	    "s:[{s:[]},{s:[]}]}",
	    "openapi", "3.0.3", "info", "title", "gongzhi API", "version", "1", "description",
	    "共治 community co-governance platform", "servers", "url", "/", "paths", paths,
	    "components", "schemas", schemas, "responses", "Error", error, "securitySchemes",
	    "bearer", "type", "http", "scheme", "bearer", "cookie", "type", "apiKey", "in",
	    "cookie", "name", "gz_session", "security", "bearer", "cookie");
	return gz_reply_json(r, 200, doc);
}

/* GET /api/v1/meta: what the console would otherwise copy into JavaScript — every
 * entity's enumerated fields with their values in the server's order, and the roles
 * with their Chinese names.  Built from the same descriptions that validate input,
 * so the console cannot offer a value the server refuses. */
static int meta(struct gz_req *r, struct gz_err *err)
{
	(void)err;
	static const char *const role_labels[] = {
#define GZ_X(n, s, zh) zh,
	    GZ_ROLES(GZ_X)
#undef GZ_X
	};
	json_t *roles = json_array(), *enums = json_object();
	for (int i = 0; i < GZ_ROLE_COUNT; i++)
		json_array_append_new(roles, json_pack("{s:s,s:s}", "name", gz_role_names[i],
		                                       "label", role_labels[i]));
	for (size_t m = 0; m < r->app->nmodules; m++)
		for (const struct gz_entity *const *e = r->app->modules[m]->entities; e && *e;
		     e++) {
			json_t *fields = NULL;
			for (const struct gz_field *f = (*e)->fields; f->name; f++) {
				if ((f->type != GZ_T_ENUM && f->type != GZ_T_LIST) || !f->values)
					continue;
				json_t *vals = json_array();
				for (const char *const *v = f->values; *v; v++)
					json_array_append_new(vals, json_string(*v));
				if (!fields)
					fields = json_object();
				json_object_set_new(fields, f->name, vals);
			}
			if (fields)
				json_object_set_new(enums, (*e)->name, fields);
		}
	return gz_reply_json(r, 200, json_pack("{s:o,s:o}", "roles", roles, "enums", enums));
}

static const struct gz_route routes[] = {
    {GZ_GET, "/healthz", healthz, NULL, GZ_R_PUBLIC | GZ_R_UNLIMITED, NULL,
     "Liveness and database check"},
    {GZ_GET, "/metrics", metrics, NULL, GZ_R_PUBLIC | GZ_R_UNLIMITED | GZ_R_METRICS, NULL,
     "Prometheus metrics (on metrics_listen when set; Bearer metrics_token when set)"},
    {GZ_GET, "/api/v1/openapi.json", openapi, NULL, GZ_R_PUBLIC, NULL, "This OpenAPI document"},
    {GZ_GET, "/api/v1/meta", meta, NULL, 0, NULL,
     "Enumerated values of every entity and the roles with their names (for the console)"},
    {0, NULL},
};

const struct gz_module gz_ops_module = {"ops", routes, NULL, NULL, NULL};
