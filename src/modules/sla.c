/* sla.c - SLA rules (an entity the admin maintains) and the deadline arithmetic on
 * the working-day calendar of calendar.c. */
#include "modules/sla.h"
#include "core/timefmt.h"
#include "model/entity.h"
#include "modules/calendar.h"
#include <string.h>

#define DAY_MS 86400000LL
#define OFFSET_MS ((int64_t)GZ_SHANGHAI_OFFSET_MIN * 60000)

int gz_sla_rule(struct gz_conn *c, const char *category, const char *priority,
                int64_t *accept_hours, int64_t *resolve_workdays, struct gz_err *err)
{
	struct gz_stmt *s = gz_stmt(c,
	                            "SELECT accept_hours, resolve_workdays FROM sla_rules "
	                            "WHERE priority = ? AND substr(?, 1, length(category_code)) = "
	                            "category_code ORDER BY length(category_code) DESC LIMIT 1",
	                            err);
	if (!s)
		return -1;
	gz_bind_text(s, 1, priority);
	gz_bind_text(s, 2, category);
	int rc = gz_step(s, err);
	if (rc == 1) {
		*accept_hours = gz_col_i64(s, 0);
		*resolve_workdays = gz_col_i64(s, 1);
	}
	gz_stmt_done(s);
	if (rc == 0) {
		/* no rule at all for this priority: the national default */
		*accept_hours = 4;
		*resolve_workdays = 5;
	}
	return rc < 0 ? -1 : 0;
}

int gz_workdays_after(struct gz_conn *c, int64_t day, int64_t n, int64_t *out, struct gz_err *err)
{
	int64_t d = day, k = 0;
	while (k < n) {
		d++;
		int w = gz_calendar_is_workday(c, d, err);
		if (w < 0)
			return -1;
		k += w;
		if (d - day > 3660)
			return gz_fail(err, GZ_E_INTERNAL, "the calendar has no working days");
	}
	*out = d;
	return 0;
}

static int64_t end_of_day(int64_t day)
{
	return (day + 1) * DAY_MS - OFFSET_MS;
}

int gz_sla_deadlines(struct gz_conn *c, const char *category, const char *priority,
                     int64_t created_ms, int64_t *accept_due, int64_t *resolve_due,
                     struct gz_err *err)
{
	int64_t hours, days, last;
	if (gz_sla_rule(c, category, priority, &hours, &days, err) ||
	    gz_workdays_after(c, gz_shanghai_day(created_ms), days, &last, err))
		return -1;
	*accept_due = created_ms + hours * 3600000;
	*resolve_due = end_of_day(last);
	return 0;
}

int gz_sla_extend(struct gz_conn *c, int64_t resolve_due, int64_t n, int64_t *out,
                  struct gz_err *err)
{
	int64_t last;
	if (gz_workdays_after(c, gz_shanghai_day(resolve_due - 1), n, &last, err))
		return -1;
	*out = end_of_day(last);
	return 0;
}

static const char *const priorities[] = {"urgent", "high", "normal", "low", NULL};

static int sla_before_create(struct gz_write *w, struct gz_err *err)
{
	json_t *code = json_object_get(w->in, "category_code");
	if (!code) {
		json_object_set_new(w->in, "category_code", json_string(""));
		return 0;
	}
	int64_t n = 0;
	if (gz_query_i64(w->conn, err, &n,
	                 "SELECT count(*) FROM dict_entries WHERE type = 'category' AND code = ?",
	                 "t", json_string_value(code)) < 0)
		return -1;
	if (!n && *json_string_value(code))
		return gz_fail_field(err, GZ_E_VALIDATION, "category_code",
		                     "category_code: '%s' is not a category",
		                     json_string_value(code));
	return 0;
}

static const struct gz_field sla_fields[] = {
    {"category_code", GZ_T_TEXT, GZ_F_CREATE_ONLY | GZ_F_FILTER, 0, 32},
    {"priority", GZ_T_ENUM, GZ_F_REQUIRED | GZ_F_CREATE_ONLY | GZ_F_FILTER, 0, 0, priorities},
    {"accept_hours", GZ_T_INT, GZ_F_REQUIRED, 1, 720},
    {"resolve_workdays", GZ_T_INT, GZ_F_REQUIRED, 1, 60},
    {NULL},
};

static const struct gz_entity sla_entity = {
    .name = "sla_rule",
    .table = "sla_rules",
    .fields = sla_fields,
    .perm_read = "sla.read",
    .perm_write = "sla.write",
    .global_read = true,
    .order_asc = true,
    .before_create = sla_before_create,
};

static const struct gz_route routes[] = {
    {GZ_GET, "/api/v1/sla-rules", gz_entity_list_handler, "sla.read", GZ_R_LIST, &sla_entity,
     "SLA rules (filters: category_code, priority)"},
    {GZ_POST, "/api/v1/sla-rules", gz_entity_create_handler, "sla.write", GZ_R_JSON, &sla_entity,
     "Add an SLA rule for a category prefix and priority"},
    {GZ_GET, "/api/v1/sla-rules/{id}", gz_entity_get_handler, "sla.read", 0, &sla_entity,
     "Get an SLA rule"},
    {GZ_PATCH, "/api/v1/sla-rules/{id}", gz_entity_patch_handler, "sla.write", GZ_R_JSON,
     &sla_entity, "Change an SLA rule's hours or working days"},
    {0, NULL},
};

static const struct gz_perm perms[] = {
    {"sla.read", GZ_ROLES_ALL, "read SLA rules"},
    {"sla.write", GZ_RB(ADMIN), "maintain SLA rules"},
    {NULL},
};

static const struct gz_entity *const entities[] = {&sla_entity, NULL};

const struct gz_module gz_sla_module = {"sla", routes, perms, entities, NULL};
