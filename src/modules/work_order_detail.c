/* work_order_detail.c - what one work order's detail shows besides its row: the child
 * lists of the entity (its handler and co-handlers, its attachments), declared here
 * and read by the entity layer, and who sees the internal events of its timeline.
 * The detail itself is the lifecycle engine's (gz_lifecycle_detail): the row, a page
 * of the timeline, these lists and the actions the reading account may take; every
 * part loads or the whole fails (500): a detail with a part silently missing would
 * tell a handler that nobody else is on it. */
#include "app.h"
#include "modules/work_order_internal.h"

bool gz_wo_sees_internal(const struct gz_account *a)
{
	return a->roles & (GZ_ROLES_STAFF | GZ_RB(GRID));
}

/* The handler, from the order's own row: its organisation or else its unit, by name */
static const struct gz_field handler_columns[] = {
    {"role", GZ_T_TEXT, .expr = "'handler'"},
    {"org_id", GZ_T_INT, .expr = "c.handler_org_id"},
    {"unit_id", GZ_T_INT, .expr = "c.handler_unit_id"},
    {"name", GZ_T_TEXT,
     .expr = "CASE WHEN c.handler_org_id IS NOT NULL THEN (SELECT name FROM orgs WHERE id = "
             "c.handler_org_id) ELSE (SELECT name FROM units WHERE id = c.handler_unit_id) "
             "END"},
    {NULL},
};

/* then the co-handling organisations, in the order they were added */
static const struct gz_field co_handler_columns[] = {
    {"role", GZ_T_TEXT, .expr = "'co_handler'"},
    {"org_id", GZ_T_INT},
    {"name", GZ_T_TEXT, .expr = "(SELECT name FROM orgs WHERE id = c.org_id)"},
    {"added_at", GZ_T_TIME},
    {"reported", GZ_T_BOOL, .expr = "CASE WHEN c.reported_at IS NULL THEN 0 ELSE 1 END"},
    {"reported_at", GZ_T_TIME},
    {"report_note", GZ_T_TEXT},
    {NULL},
};

static const struct gz_field attachment_columns[] = {
    {"id", GZ_T_INT},
    {"content_type", GZ_T_TEXT},
    {"size", GZ_T_INT},
    {"filename", GZ_T_TEXT},
    {"created_at", GZ_T_TIME},
    {"url", GZ_T_TEXT,
     .expr = "'/api/v1/work-orders/' || c.work_order_id || '/attachments/' || c.id"},
    {NULL},
};

/* attachments: uploads are not counted, so the bound is far above any real order's */
const struct gz_child_list gz_wo_children[] = {
    {"handlers", "work_orders", "id", handler_columns, NULL, 1,
     "c.handler_org_id IS NOT NULL OR c.handler_unit_id IS NOT NULL"},
    {"handlers", "work_order_handlers", "work_order_id", co_handler_columns, "c.added_at, c.org_id",
     GZ_WO_MAX_CO},
    {"attachments", "work_order_attachments", "work_order_id", attachment_columns, "c.id", 1000},
    {NULL},
};

json_t *gz_work_order_visible(struct gz_req *r, struct gz_conn *c, int64_t id, struct gz_err *err)
{
	json_t *o = gz_entity_load(&gz_work_order_entity, c, r->app, r->acct, id, false, err);
	if (o)
		gz_wo_decorate(c, o);
	return o;
}
