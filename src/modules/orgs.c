/* orgs.c - organisations: partners, property companies, departments, enterprises,
 * schools, hospitals, banks, shops, NGOs.  The unified social credit code is
 * checked when given; the contact phone is personal information. */
#include "modules/units.h"
#include "model/entity.h"
#include <string.h>

static const char *const kinds[] = {"partner",    "property_company",
                                    "department", "enterprise",
                                    "school",     "hospital",
                                    "bank",       "shop",
                                    "ngo",        "other",
                                    NULL};
static const char *const kind_labels[] = {"合伙人", "物业公司", "职能部门", "企业", "学校", "医院",
                                          "银行",   "商户",     "社会组织", "其他", NULL};

int gz_check_phone(const char *v, const char *field, struct gz_err *err)
{
	size_t digits = 0;
	for (const char *p = v; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (!strchr("+- ()", *p))
			return gz_fail_field(err, GZ_E_VALIDATION, field,
			                     "%s may hold only digits, spaces and + - ( )", field);
	}
	if (digits < 5 || digits > 20)
		return gz_fail_field(err, GZ_E_VALIDATION, field, "%s must have 5 to 20 digits",
		                     field);
	return 0;
}

static const struct gz_field org_fields[] = {
    {"kind", GZ_T_ENUM, GZ_F_REQUIRED | GZ_F_FILTER, 0, 0, kinds, .label = "类型",
     .value_labels = kind_labels},
    {"name", GZ_T_TEXT, GZ_F_REQUIRED | GZ_F_SEARCH, 1, 100, .label = "名称"},
    {"credit_code", GZ_T_TEXT, GZ_F_FILTER | GZ_F_NULLABLE, 0, 18, NULL, NULL, NULL,
     gz_check_credit_code, .label = "统一社会信用代码"},
    {"unit_id", GZ_T_INT, GZ_F_FILTER | GZ_F_NULLABLE, 0, 0, NULL, NULL, &gz_unit_entity,
     .label = "所属单位"},
    /* the unit's name for every reader: organisations are read by all roles, most of
     * whom cannot read the unit they belong to (a community's staff, partners) */
    {"unit_name", GZ_T_TEXT, GZ_F_READONLY, .expr = "(SELECT name FROM units WHERE id = t.unit_id)",
     .lookup_key = "unit_id", .lookup_sql = "SELECT id, name FROM units WHERE id IN"},
    {"contact_name", GZ_T_TEXT, GZ_F_NULLABLE, 0, 50, .label = "联系人"},
    {"contact_phone", GZ_T_TEXT, GZ_F_PII | GZ_F_NULLABLE, 0, 30, NULL, NULL, NULL, gz_check_phone,
     .label = "联系电话"},
    {"address", GZ_T_TEXT, GZ_F_NULLABLE, 0, 200, .label = "地址"},
    {"description", GZ_T_TEXT, GZ_F_NULLABLE, 0, 2000, .label = "简介"},
    {NULL},
};

const struct gz_entity gz_org_entity = {
    .name = "org",
    .label = "组织",
    .table = "orgs",
    .named = true,
    .fields = org_fields,
    .perm_read = "orgs.read",
    .perm_write = "orgs.write",
    .unit_col = "unit_id",
    .org_col = "id",
    .global_read = true,
    /* an organisation that leaves (a property company replaced) is withdrawn, not
     * deleted: its work orders and accounts keep naming it */
    .archivable = true,
};

static const struct gz_route routes[] = {
    GZ_ENTITY_ROUTE_EXPORT("/api/v1/orgs", &gz_org_entity, "orgs.read",
                           "The organisations of the list's filters"),
    GZ_ENTITY_ROUTES("/api/v1/orgs", &gz_org_entity, "orgs.read", "orgs.write",
                     "List organisations (filters: kind, credit_code, unit_id, within, q)",
                     "Register an organisation", "Get an organisation", "Change an organisation"),
    GZ_ENTITY_ROUTE_ARCHIVE("/api/v1/orgs", &gz_org_entity, "orgs.write",
                            "Withdraw an organisation (sets archived_at; lists leave it out "
                            "unless archived=true or any)"),
    {0, NULL},
};

static const struct gz_perm perms[] = {
    {"orgs.read", GZ_ROLES_ALL & ~GZ_RB(RESIDENT), "see organisations"},
    {"orgs.write", GZ_ROLES_STAFF, "register and change organisations in scope"},
    {NULL},
};

static const struct gz_entity *const entities[] = {&gz_org_entity, NULL};

const struct gz_module gz_orgs_module = {"orgs", routes, perms, entities, NULL};
