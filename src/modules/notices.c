/* notices.c - community notices (通知公告): a title and body addressed to a unit, read
 * by every account living or working below it once published.  Staff write them in
 * their subtree; the lifecycle (draft → published → withdrawn) runs on the engine.
 * Business rule here: a withdrawn notice is not edited. */
#include "app.h"
#include "model/lifecycle.h"
#include "modules/units.h"
#include <stdio.h>
#include <string.h>

static const char *const categories[] = {"notice", "announcement", "activity",
                                         "policy", "safety",       NULL};
static const char *const statuses[] = {"draft", "published", "withdrawn", NULL};
static const char *const category_labels[] = {"通知", "公告", "活动", "政策", "安全提示", NULL};
static const char *const status_labels[] = {"草稿", "已发布", "已撤回", NULL};

static int notice_before_patch(struct gz_write *w, struct gz_err *err)
{
	if (strcmp(json_string_value(json_object_get(w->before, "status")), "withdrawn") == 0)
		return gz_fail(err, GZ_E_CONFLICT, "a withdrawn notice cannot be changed");
	return 0;
}

static const struct gz_field notice_fields[] = {
    {"title", GZ_T_TEXT, GZ_F_REQUIRED | GZ_F_SEARCH, 1, 100, .label = "标题"},
    {"body", GZ_T_TEXT, GZ_F_REQUIRED | GZ_F_SEARCH | GZ_F_DETAIL, 1, 5000},
    {"unit_id", GZ_T_INT, GZ_F_REQUIRED | GZ_F_FILTER, 0, 0, NULL, NULL, &gz_unit_entity,
     .label = "发布范围"},
    /* the unit's name: a published notice reaches readers below its unit, who do not
     * read that unit itself */
    {"unit_name", GZ_T_TEXT, GZ_F_READONLY, .expr = "(SELECT name FROM units WHERE id = t.unit_id)",
     .lookup_key = "unit_id", .lookup_sql = "SELECT id, name FROM units WHERE id IN"},
    {"unit_path", GZ_T_TEXT, GZ_F_READONLY, .label = "单位路径"},
    {"category", GZ_T_ENUM, GZ_F_REQUIRED | GZ_F_FILTER, 0, 0, categories, .label = "类别",
     .value_labels = category_labels},
    {"pinned", GZ_T_BOOL, GZ_F_FILTER, .label = "置顶"},
    {"status", GZ_T_ENUM, GZ_F_READONLY | GZ_F_FILTER, 0, 0, statuses, .label = "状态",
     .value_labels = status_labels},
    {"published_at", GZ_T_TIME, GZ_F_READONLY, .label = "发布时间"},
    {"created_by", GZ_T_INT, GZ_F_READONLY, .label = "创建人编号"},
    {NULL},
};

static const struct gz_entity gz_notice_entity = {
    .name = "notice",
    .label = "通知公告",
    .table = "notices",
    .fields = notice_fields,
    .perm_read = "notices.read",
    .perm_write = "notices.write",
    .unit_col = "unit_id",
    .unit_path_col = "unit_path",
    /* published notices reach everyone whose unit lies below the notice's */
    .audience_sql = "(t.status = 'published' AND substr(?, 1, length(t.unit_path)) = "
                    "t.unit_path)",
    .creator_col = "created_by",
    .before_patch = notice_before_patch,
};

/* ---- the lifecycle: draft → published → withdrawn ---- */

enum { N_DRAFT, N_PUBLISHED, N_WITHDRAWN };

/* GZ_LC_SCOPE: the account reads the notice (its subtree's staff, or, once published,
 * anyone whose unit lies below it: the entity's audience); GZ_LC_HANDLER: it manages
 * the notice (staff of a unit above or at the notice's: the actions) */
static bool notice_relation(unsigned rel, const struct gz_account *a, const void *row)
{
	const struct gz_lc_row *n = row;
	bool manages = gz_lc_row_manages(a, n);
	if (rel == GZ_LC_HANDLER)
		return manages;
	return rel == GZ_LC_SCOPE &&
	       (manages || (n->state == N_PUBLISHED && a->unit_path[0] &&
	                    strncmp(a->unit_path, n->unit_path, strlen(n->unit_path)) == 0));
}

static int notice_recipients(unsigned kind, struct gz_lc_ctx *x, const struct gz_notice_msg *m,
                             struct gz_err *err)
{
	(void)kind, (void)x, (void)m, (void)err;
	return 0; /* a notice is read on the pages, not pushed to every resident */
}

static int apply_publish(struct gz_lc_ctx *x, struct gz_err *err)
{
	(void)err;
	gz_lc_set(x, "published_at", 'i', x->now, NULL);
	return 0;
}

static bool staff_sees_internal(const struct gz_account *a)
{
	return a && (a->roles & GZ_ROLES_STAFF);
}

#define NS(n) (1u << (n))
static const struct gz_lc_action notice_actions[] = {
    {"publish", NS(N_DRAFT), N_PUBLISHED, "notices.write", GZ_LC_HANDLER, NULL, NULL, apply_publish,
     0, NULL, true},
    {"withdraw", NS(N_PUBLISHED), N_WITHDRAWN, "notices.write", GZ_LC_HANDLER, NULL, NULL, NULL, 0,
     NULL},
    {NULL},
};

static const struct gz_machine notice_machine = {
    .name = "notice",
    .entity = &gz_notice_entity,
    .states = statuses,
    .actions = notice_actions,
    .events_table = "notice_events",
    .events_fk = "notice_id",
    .label_col = "title",
    .relation = notice_relation,
    .recipients = notice_recipients,
    .sees_internal = staff_sees_internal,
};

static int notices_init(struct gz_app *app, struct gz_err *err)
{
	(void)app, (void)err;
	gz_lifecycle_register(&notice_machine);
	return 0;
}

static const char *const timeline_params[] = {"timeline_limit", NULL};
static const char *const page_params[] = {"cursor", "limit", NULL};

static const struct gz_route routes[] = {
    GZ_ENTITY_ROUTE_EXPORT("/api/v1/notices", &gz_notice_entity, "notices.read",
                           "The notices of the list's filters and audience"),
    GZ_ENTITY_ROUTE_LIST("/api/v1/notices", &gz_notice_entity, "notices.read",
                         "Notices in scope and the published ones addressed to the account's "
                         "unit (filters: status, category, pinned, unit_id, within, q)"),
    GZ_ENTITY_ROUTE_CREATE("/api/v1/notices", &gz_notice_entity, "notices.write",
                           gz_entity_create_handler, "Write a notice (a draft)"),
    {GZ_GET, "/api/v1/notices/{id}", gz_lifecycle_get_handler, "notices.read", 0, &gz_notice_entity,
     "A notice with its timeline and allowed actions", timeline_params},
    GZ_ENTITY_ROUTE_PATCH("/api/v1/notices", &gz_notice_entity, "notices.write",
                          gz_entity_patch_handler, "Change a notice that is not withdrawn"),
    {GZ_POST, "/api/v1/notices/{id}/actions", gz_lifecycle_actions_handler, "notices.read",
     GZ_R_JSON | GZ_R_WRITE | GZ_R_AUDIT, NULL, "publish or withdraw a notice", timeline_params,
     .row = &gz_notice_entity},
    {GZ_GET, "/api/v1/notices/{id}/timeline", gz_lifecycle_timeline_handler, "notices.read", 0,
     NULL, "Older timeline events of a notice", page_params, .row = &gz_notice_entity},
    {0, NULL},
};

static const struct gz_perm perms[] = {
    {"notices.read", GZ_ROLES_ALL, "read the notices addressed to one's unit"},
    {"notices.write", GZ_ROLES_STAFF, "write, publish and withdraw notices in scope"},
    {NULL},
};

static const struct gz_entity *const entities[] = {&gz_notice_entity, NULL};

const struct gz_module gz_notices_module = {"notices", routes, perms, entities, notices_init};
