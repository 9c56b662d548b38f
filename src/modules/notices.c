/* notices.c - community notices (通知公告): a title and body addressed to a unit, read
 * by every account living or working below it once published.  Staff write them in
 * their subtree; the lifecycle (draft → published → withdrawn) runs on the engine.
 * Business rules here: the notice keeps its unit's path (scope and audience), the
 * creator is recorded, a withdrawn notice is not edited. */
#include "app.h"
#include "model/lifecycle.h"
#include "modules/units.h"
#include <stdio.h>
#include <string.h>

static const char *const categories[] = {"notice", "announcement", "activity",
                                         "policy", "safety",       NULL};
static const char *const statuses[] = {"draft", "published", "withdrawn", NULL};

/* the path of the notice's unit, stored with it */
static int set_unit_path(struct gz_write *w, struct gz_err *err)
{
	json_t *u = json_object_get(w->in, "unit_id");
	if (!json_is_integer(u))
		return 0;
	struct gz_stmt *s = gz_stmt(w->conn, "SELECT path FROM units WHERE id = ?", err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, json_integer_value(u));
	int rc = gz_step(s, err);
	if (rc == 1)
		json_object_set_new(w->in, "unit_path", json_string(gz_col_text(s, 0)));
	gz_stmt_done(s);
	if (rc == 0)
		return gz_fail_field(err, GZ_E_VALIDATION, "unit_id",
		                     "unit_id: no unit with id %lld",
		                     (long long)json_integer_value(u));
	return rc < 0 ? -1 : 0;
}

static int notice_before_create(struct gz_write *w, struct gz_err *err)
{
	if (w->actor)
		json_object_set_new(w->in, "created_by", json_integer(w->actor->id));
	return set_unit_path(w, err);
}

static int notice_before_patch(struct gz_write *w, struct gz_err *err)
{
	if (strcmp(json_string_value(json_object_get(w->before, "status")), "withdrawn") == 0)
		return gz_fail(err, GZ_E_CONFLICT, "a withdrawn notice cannot be changed");
	return set_unit_path(w, err);
}

static const struct gz_field notice_fields[] = {
    {"title", GZ_T_TEXT, GZ_F_REQUIRED | GZ_F_SEARCH, 1, 100},
    {"body", GZ_T_TEXT, GZ_F_REQUIRED | GZ_F_SEARCH | GZ_F_DETAIL, 1, 5000},
    {"unit_id", GZ_T_INT, GZ_F_REQUIRED | GZ_F_FILTER, 0, 0, NULL, NULL, &gz_unit_entity},
    {"unit_path", GZ_T_TEXT, GZ_F_READONLY},
    {"category", GZ_T_ENUM, GZ_F_REQUIRED | GZ_F_FILTER, 0, 0, categories},
    {"pinned", GZ_T_BOOL, GZ_F_FILTER},
    {"status", GZ_T_ENUM, GZ_F_READONLY | GZ_F_FILTER, 0, 0, statuses},
    {"published_at", GZ_T_TIME, GZ_F_READONLY},
    {"created_by", GZ_T_INT, GZ_F_READONLY},
    {NULL},
};

static const struct gz_entity gz_notice_entity = {
    .name = "notice",
    .table = "notices",
    .fields = notice_fields,
    .perm_read = "notices.read",
    .perm_write = "notices.write",
    .unit_col = "unit_id",
    .unit_path_col = "unit_path",
    /* published notices reach everyone whose unit lies below the notice's */
    .audience_sql = "(t.status = 'published' AND substr(?, 1, length(t.unit_path)) = "
                    "t.unit_path)",
    .before_create = notice_before_create,
    .before_patch = notice_before_patch,
};

/* ---- the lifecycle: draft → published → withdrawn ---- */

enum { N_DRAFT, N_PUBLISHED, N_WITHDRAWN };

struct notice_row {
	int64_t id;
	int status;
	char unit_path[256];
	char title[128];
};

static int notice_load(struct gz_conn *c, int64_t id, void *row, struct gz_err *err)
{
	struct notice_row *n = row;
	struct gz_stmt *s =
	    gz_stmt(c, "SELECT status, unit_path, title FROM notices WHERE id = ?", err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, id);
	int rc = gz_step(s, err);
	if (rc == 1) {
		n->id = id;
		n->status = strcmp(gz_col_text(s, 0), "published") == 0   ? N_PUBLISHED
		            : strcmp(gz_col_text(s, 0), "withdrawn") == 0 ? N_WITHDRAWN
		                                                          : N_DRAFT;
		snprintf(n->unit_path, sizeof(n->unit_path), "%s", gz_col_text(s, 1));
		snprintf(n->title, sizeof(n->title), "%s", gz_col_text(s, 2));
	}
	gz_stmt_done(s);
	return rc < 0 ? -1 : rc ? 0 : gz_entity_not_found(&gz_notice_entity, id, err);
}

static int notice_state(const void *row)
{
	return ((const struct notice_row *)row)->status;
}

/* GZ_LC_SCOPE: the account reads the notice (its subtree's staff, or, once published,
 * anyone whose unit lies below it: the entity's audience); GZ_LC_HANDLER: it manages
 * the notice (staff of a unit above or at the notice's: the actions) */
static bool notice_relation(unsigned rel, const struct gz_account *a, const void *row)
{
	const struct notice_row *n = row;
	struct gz_row_scope sc = {.unit_path = n->unit_path};
	bool manages = gz_scope_check(a, NULL, &sc, false, NULL) == 0;
	if (rel == GZ_LC_HANDLER)
		return manages;
	if (rel != GZ_LC_SCOPE)
		return false;
	return manages || (n->status == N_PUBLISHED && a->unit_path[0] &&
	                   strncmp(a->unit_path, n->unit_path, strlen(n->unit_path)) == 0);
}

static int notice_recipients(unsigned kind, struct gz_lc_ctx *x, const struct gz_notice_msg *m,
                             struct gz_err *err)
{
	(void)kind, (void)x, (void)m, (void)err;
	return 0; /* a notice is read on the pages, not pushed to every resident */
}

static const char *notice_label(const void *row, struct gz_arena *a)
{
	return gz_strdup(a, ((const struct notice_row *)row)->title);
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

static json_t *notice_detail(struct gz_req *r, struct gz_conn *c, int64_t id, bool scoped,
                             int64_t timeline_limit, struct gz_err *err);

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
    .row_size = sizeof(struct notice_row),
    .load = notice_load,
    .state = notice_state,
    .relation = notice_relation,
    .recipients = notice_recipients,
    .label = notice_label,
    .detail = notice_detail,
    .sees_internal = staff_sees_internal,
};

static json_t *notice_detail(struct gz_req *r, struct gz_conn *c, int64_t id, bool scoped,
                             int64_t timeline_limit, struct gz_err *err)
{
	json_t *o =
	    gz_entity_load(&gz_notice_entity, c, r->app, scoped ? r->acct : NULL, id, false, err);
	struct notice_row row;
	int64_t next = 0;
	json_t *tl =
	    o && !notice_load(c, id, &row, err)
	        ? gz_lifecycle_timeline(c, &notice_machine, id, staff_sees_internal(r->acct), 0,
	                                timeline_limit, &next, err)
	        : NULL;
	if (!tl) { /* no partial answers */
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "timeline", tl);
	json_object_set_new(o, "timeline_next_cursor", gz_lifecycle_cursor(next));
	json_object_set_new(o, "allowed_actions",
	                    gz_lifecycle_allowed(&notice_machine, r->acct, &row, false));
	return o;
}

static int get_handler(struct gz_req *r, struct gz_err *err)
{
	int64_t id, limit;
	if (gz_req_id(r, "id", &id, err) ||
	    gz_lifecycle_page_limit(r, "timeline_limit", &limit, err))
		return -1;
	struct gz_conn *c = gz_db_reader(r->app->db);
	json_t *o = notice_detail(r, c, id, true, limit, err);
	gz_db_reader_done(r->app->db, c);
	if (!o)
		return -1;
	gz_reply_header(r, "ETag",
	                gz_sprintf(&r->arena, "\"%lld\"",
	                           (long long)json_integer_value(json_object_get(o, "version"))));
	return gz_reply_json(r, 200, o);
}

static int notices_init(struct gz_app *app, struct gz_err *err)
{
	(void)app, (void)err;
	gz_lifecycle_register(&notice_machine);
	return 0;
}

static const char *const timeline_params[] = {"timeline_limit", NULL};
static const char *const page_params[] = {"cursor", "limit", NULL};

static const struct gz_route routes[] = {
    {GZ_GET, "/api/v1/notices", gz_entity_list_handler, "notices.read", GZ_R_LIST,
     &gz_notice_entity,
     "Notices in scope, and the published ones addressed to the account's unit (filters: "
     "status, category, pinned, unit_id, within, q)"},
    {GZ_POST, "/api/v1/notices", gz_entity_create_handler, "notices.write", GZ_R_JSON,
     &gz_notice_entity, "Write a notice (a draft)"},
    {GZ_GET, "/api/v1/notices/{id}", get_handler, "notices.read", 0, &gz_notice_entity,
     "A notice with its timeline and allowed actions", timeline_params},
    {GZ_PATCH, "/api/v1/notices/{id}", gz_entity_patch_handler, "notices.write", GZ_R_JSON,
     &gz_notice_entity, "Change a notice that is not withdrawn"},
    {GZ_POST, "/api/v1/notices/{id}/actions", gz_lifecycle_actions_handler, "notices.read",
     GZ_R_JSON, NULL, "publish or withdraw a notice", timeline_params, .row = &gz_notice_entity},
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
