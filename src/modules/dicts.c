/* dicts.c - dictionaries: coded entries by type (category, resident_tag,
 * activity_type, service_type, dispute_type, …), trees through parent_code. */
#include "modules/units.h"
#include "model/entity.h"
#include <string.h>

static int check_code(const char *v, const char *field, struct gz_err *err)
{
	for (const char *p = v; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == '-' || *p == '.'))
			return gz_fail_field(err, GZ_E_VALIDATION, field,
			                     "%s may hold only letters, digits and _ - .", field);
	return 0;
}

static int check_type(const char *v, const char *field, struct gz_err *err)
{
	for (const char *p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
			return gz_fail_field(err, GZ_E_VALIDATION, field,
			                     "a dictionary type is lower-case letters and _");
	return 0;
}

static int dict_before_create(struct gz_write *w, struct gz_err *err)
{
	json_t *parent = json_object_get(w->in, "parent_code");
	if (!parent)
		return 0;
	int64_t n = 0;
	if (gz_query_i64(w->conn, err, &n,
	                 "SELECT count(*) FROM dict_entries WHERE type = ? AND code = ?", "tt",
	                 json_string_value(json_object_get(w->in, "type")),
	                 json_string_value(parent)) < 0)
		return -1;
	if (!n)
		return gz_fail_field(err, GZ_E_VALIDATION, "parent_code",
		                     "parent_code: no entry '%s' in this dictionary",
		                     json_string_value(parent));
	return 0;
}

static const struct gz_field dict_fields[] = {
    {"type", GZ_T_TEXT, GZ_F_REQUIRED | GZ_F_CREATE_ONLY | GZ_F_FILTER, 1, 32, NULL, NULL, NULL,
     check_type, .label = "字典类型"},
    {"code", GZ_T_TEXT, GZ_F_REQUIRED | GZ_F_CREATE_ONLY | GZ_F_FILTER, 1, 32, NULL, NULL, NULL,
     check_code, .label = "编码"},
    {"name", GZ_T_TEXT, GZ_F_REQUIRED | GZ_F_SEARCH, 1, 50, .label = "名称"},
    {"name_en", GZ_T_TEXT, GZ_F_NULLABLE | GZ_F_SEARCH, 0, 100, .label = "英文名称"},
    {"parent_code", GZ_T_TEXT, GZ_F_CREATE_ONLY | GZ_F_FILTER, 1, 32, NULL, NULL, NULL, check_code,
     .label = "上级编码"},
    {"sort", GZ_T_INT, 0, -1000000, 1000000, .label = "排序"},
    {"disabled", GZ_T_BOOL, GZ_F_FILTER, .label = "已停用"},
    {NULL},
};

const struct gz_entity gz_dict_entity = {
    .name = "dict_entry",
    .label = "字典",
    .table = "dict_entries",
    .named = true,
    .fields = dict_fields,
    .perm_read = "dicts.read",
    .perm_write = "dicts.write",
    .global_read = true,
    .order_asc = true,
    .before_create = dict_before_create,
};

static const struct gz_route routes[] = {
    GZ_ENTITY_ROUTE_EXPORT("/api/v1/dicts/{type}", &gz_dict_entity, "dicts.read",
                           "The entries of a dictionary (the list's filters)"),
    GZ_ENTITY_ROUTES("/api/v1/dicts/{type}", &gz_dict_entity, "dicts.read", "dicts.write",
                     "Entries of a dictionary (filters: code, parent_code, disabled, q)",
                     "Add an entry to a dictionary", "Get a dictionary entry",
                     "Change a dictionary entry (name, sort, disabled)"),
    {0, NULL},
};

static const struct gz_perm perms[] = {
    {"dicts.read", GZ_ROLES_ALL, "read dictionaries"},
    {"dicts.write", GZ_RB(ADMIN), "maintain dictionaries"},
    {NULL},
};

static const struct gz_entity *const entities[] = {&gz_dict_entity, NULL};

const struct gz_module gz_dicts_module = {"dicts", routes, perms, entities, NULL};
