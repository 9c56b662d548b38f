/* units.c - the unit tree.  A unit's path is materialised ('/1/4/9/') so that
 * "inside unit X" is one indexed range test; kinds nest district > subdistrict >
 * community > compound > building, with grids under communities or compounds.
 * Units do not move (parent_id is fixed at creation). */
#include "modules/units.h"
#include "app.h"
#include "model/entity.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kinds[] = {"district", "subdistrict", "community", "compound",
                                    "building", "grid",        NULL};

/* Which parent kinds each kind may hang under. */
static bool parent_allowed(const char *kind, const char *parent)
{
	static const struct {
		const char *kind, *parents;
	} rules[] = {
	    {"subdistrict", " district "},    {"community", " subdistrict "},
	    {"compound", " community "},      {"building", " compound "},
	    {"grid", " community compound "},
	};
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].kind, kind) == 0) {
			char needle[32];
			snprintf(needle, sizeof(needle), " %s ", parent);
			return strstr(rules[i].parents, needle) != NULL;
		}
	return false;
}

static int unit_before_create(struct gz_write *w, struct gz_err *err)
{
	const char *kind = json_string_value(json_object_get(w->in, "kind"));
	json_t *parent = json_object_get(w->in, "parent_id");
	if (strcmp(kind, "district") == 0) {
		if (parent)
			return gz_fail_field(err, GZ_E_VALIDATION, "parent_id",
			                     "a district has no parent");
	} else {
		if (!parent)
			return gz_fail_field(err, GZ_E_VALIDATION, "parent_id",
			                     "parent_id is required for a %s", kind);
		struct gz_stmt *s =
		    gz_stmt_memo(w->conn, "SELECT kind FROM units WHERE id = ?", err);
		if (!s)
			return -1;
		gz_bind_i64(s, 1, json_integer_value(parent));
		int rc = gz_step(s, err);
		bool ok = rc == 1 && parent_allowed(kind, gz_col_text(s, 0));
		char pkind[32];
		snprintf(pkind, sizeof(pkind), "%s", rc == 1 ? gz_col_text(s, 0) : "");
		gz_stmt_done(s);
		if (rc < 0)
			return -1;
		if (!ok)
			return gz_fail_field(err, GZ_E_VALIDATION, "parent_id",
			                     "a %s cannot be placed under a %s", kind, pkind);
	}
	/* the real path needs the id: set after the insert */
	json_object_set_new(w->in, "path", json_string("/pending/"));
	return 0;
}

static int unit_after_write(struct gz_write *w, struct gz_err *err)
{
	if (w->before)
		return 0;
	json_t *parent = json_object_get(w->in, "parent_id");
	int rc = parent ? gz_exec_args(w->conn, err,
	                               "UPDATE units SET path = (SELECT path FROM units WHERE id "
	                               "= ?) || ? || '/' WHERE id = ?",
	                               "iii", (int64_t)json_integer_value(parent), w->id, w->id)
	                : gz_exec_args(w->conn, err,
	                               "UPDATE units SET path = '/' || ? || '/' "
	                               "WHERE id = ?",
	                               "ii", w->id, w->id);
	json_object_del(w->in, "path");
	return rc;
}

static const struct gz_field unit_fields[] = {
    {"parent_id", GZ_T_INT, GZ_F_CREATE_ONLY | GZ_F_FILTER, 0, 0, NULL, NULL, &gz_unit_entity},
    {"kind", GZ_T_ENUM, GZ_F_REQUIRED | GZ_F_CREATE_ONLY | GZ_F_FILTER, 0, 0, kinds},
    {"name", GZ_T_TEXT, GZ_F_REQUIRED | GZ_F_SEARCH, 1, 100},
    {"code", GZ_T_TEXT, GZ_F_FILTER | GZ_F_NULLABLE, 1, 32},
    {"path", GZ_T_TEXT, GZ_F_READONLY},
    {"address", GZ_T_TEXT, GZ_F_NULLABLE, 0, 200},
    {"lat", GZ_T_REAL, GZ_F_NULLABLE, -90, 90},
    {"lng", GZ_T_REAL, GZ_F_NULLABLE, -180, 180},
    {"sort", GZ_T_INT, 0, -1000000, 1000000},
    {NULL},
};

const struct gz_entity gz_unit_entity = {
    .name = "unit",
    .table = "units",
    .named = true,
    .fields = unit_fields,
    .perm_read = "units.read",
    .perm_write = "units.write",
    .unit_col = "id",
    .create_unit_field = "parent_id",
    .order_asc = true,
    .before_create = unit_before_create,
    .after_write = unit_after_write,
};

/* GET /units/{id}/tree: the subtree as nested children, in path order. */
static int tree_handler(struct gz_req *r, struct gz_err *err)
{
	int64_t id;
	if (gz_req_id(r, "id", &id, err))
		return -1;
	struct gz_conn *c = gz_db_reader(r->app->db);
	json_t *root = gz_entity_load(&gz_unit_entity, c, r->app, r->acct, id, false, err);
	int rc = root ? 0 : -1;
	if (root) {
		const char *path = json_string_value(json_object_get(root, "path"));
		char end[256];
		gz_path_upper(path, end, sizeof(end));
		json_t *byid = json_object();
		char key[32];
		snprintf(key, sizeof(key), "%lld", (long long)id);
		json_object_set_new(root, "children", json_array());
		json_object_set(byid, key, root);
		/* rows in sibling order; a node is linked to its parent after all are read,
		 * so the order of each children list is the order of the rows */
		struct gz_stmt *s = gz_stmt(c,
		                            "SELECT id, parent_id, kind, name, code, path, sort "
		                            "FROM units WHERE path > ? AND path < ? "
		                            "ORDER BY sort, id LIMIT 20001",
		                            err);
		json_t *order = json_array();
		if (s) {
			gz_bind_text(s, 1, path);
			gz_bind_text(s, 2, end);
			while ((rc = gz_step(s, err)) == 1 && json_array_size(order) < 20000) {
				json_t *node = json_pack(
				    "{s:I,s:I,s:s,s:s,s:s,s:I,s:[]}", "id",
				    (json_int_t)gz_col_i64(s, 0), "parent_id",
				    (json_int_t)gz_col_i64(s, 1), "kind", gz_col_text(s, 2), "name",
				    gz_col_text(s, 3), "path", gz_col_text(s, 5), "sort",
				    (json_int_t)gz_col_i64(s, 6), "children");
				json_object_set_new(node, "code",
				                    gz_col_null(s, 4)
				                        ? json_null()
				                        : json_string(gz_col_text(s, 4)));
				snprintf(key, sizeof(key), "%lld", (long long)gz_col_i64(s, 0));
				json_object_set(byid, key, node);
				json_array_append_new(order, node);
			}
			gz_stmt_done(s);
			if (rc >= 0)
				rc = 0;
		} else {
			rc = -1;
		}
		size_t i;
		json_t *node;
		json_array_foreach(order, i, node)
		{
			snprintf(key, sizeof(key), "%lld",
			         (long long)json_integer_value(json_object_get(node, "parent_id")));
			json_t *parent = json_object_get(byid, key);
			if (parent)
				json_array_append(json_object_get(parent, "children"), node);
		}
		json_decref(order);
		json_decref(byid);
		if (rc == 0)
			gz_reply_json(r, 200, root);
		else
			json_decref(root);
	}
	gz_db_reader_done(r->app->db, c);
	return rc < 0 ? -1 : 0;
}

static const struct gz_route routes[] = {
    GZ_ENTITY_ROUTES("/api/v1/units", &gz_unit_entity, "units.read", "units.write",
                     "List units (filters: parent_id, kind, code, within, q)", "Create a unit",
                     "Get a unit", "Change a unit"),
    {GZ_GET, "/api/v1/units/{id}/tree", tree_handler, "units.read", 0, &gz_unit_entity,
     "The subtree below a unit as nested children"},
    {0, NULL},
};

static const struct gz_perm perms[] = {
    {"units.read", GZ_ROLES_ALL & ~GZ_RB(RESIDENT), "see units in scope"},
    {"units.write", GZ_ROLES_STAFF, "create and change units in scope"},
    {NULL},
};

static const struct gz_entity *const entities[] = {&gz_unit_entity, NULL};

const struct gz_module gz_units_module = {"units", routes, perms, entities, NULL};

/* ---- the community and subdistrict above a unit ---- */

int gz_unit_place(struct gz_conn *c, int64_t unit_id, char *path, size_t n, int64_t *community,
                  int64_t *subdistrict, char *kind, size_t kn, struct gz_err *err)
{
	struct gz_stmt *s = gz_stmt_memo(c, "SELECT path, kind FROM units WHERE id = ?", err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, unit_id);
	int rc = gz_step(s, err);
	if (rc == 1) {
		snprintf(path, n, "%s", gz_col_text(s, 0));
		snprintf(kind, kn, "%s", gz_col_text(s, 1));
	}
	gz_stmt_done(s);
	if (rc <= 0)
		return rc < 0 ? -1
		              : gz_fail_field(err, GZ_E_VALIDATION, "unit_id",
		                              "unit_id: no unit with id %lld", (long long)unit_id);
	*community = *subdistrict = 0;
	/* walk the ids of the path: /1/2/5/30/ */
	for (const char *p = path + 1; *p;) {
		int64_t id = strtoll(p, NULL, 10);
		s = gz_stmt_memo(c, "SELECT kind FROM units WHERE id = ?", err);
		if (!s)
			return -1;
		gz_bind_i64(s, 1, id);
		if ((rc = gz_step(s, err)) == 1) {
			if (strcmp(gz_col_text(s, 0), "community") == 0)
				*community = id;
			else if (strcmp(gz_col_text(s, 0), "subdistrict") == 0)
				*subdistrict = id;
		}
		gz_stmt_done(s);
		if (rc < 0)
			return -1;
		const char *slash = strchr(p, '/');
		if (!slash)
			break;
		p = slash + 1;
	}
	return 0;
}
