/* work_order_detail.c - one work order as the detail shows it: the row, a page of its
 * timeline, its handlers and co-handlers, its attachments and the actions the
 * reading account may take.  Every part loads or the whole fails (500): a detail
 * with a part silently missing would tell a handler that nobody else is on it. */
#include "app.h"
#include "core/timefmt.h"
#include "modules/work_order_internal.h"
#include <stdio.h>

bool gz_wo_sees_internal(const struct gz_account *a)
{
	return a->roles & (GZ_ROLES_STAFF | GZ_RB(GRID));
}

/* The name of the handler (organisation or unit), then the co-handlers. */
static json_t *handlers(struct gz_conn *c, int64_t id, json_t *order, struct gz_err *err)
{
	json_t *arr = json_array();
	int64_t horg = json_integer_value(json_object_get(order, "handler_org_id"));
	int64_t hunit = json_integer_value(json_object_get(order, "handler_unit_id"));
	int rc = 0;
	if (horg || hunit) {
		struct gz_stmt *s = gz_stmt(c,
		                            horg ? "SELECT name FROM orgs WHERE id = ?"
		                                 : "SELECT name FROM units WHERE id = ?",
		                            err);
		if (!s)
			goto fail;
		gz_bind_i64(s, 1, horg ? horg : hunit);
		if ((rc = gz_step(s, err)) == 1)
			json_array_append_new(
			    arr, json_pack("{s:s,s:o,s:o,s:s}", "role", "handler", "org_id",
			                   horg ? json_integer(horg) : json_null(), "unit_id",
			                   hunit ? json_integer(hunit) : json_null(), "name",
			                   gz_col_text(s, 0)));
		gz_stmt_done(s);
		if (rc < 0)
			goto fail;
	}
	struct gz_stmt *s =
	    gz_stmt(c,
	            "SELECT h.org_id, o.name, h.added_at, h.reported_at, "
	            "h.report_note FROM work_order_handlers h JOIN orgs o ON "
	            "o.id = h.org_id WHERE h.work_order_id = ? ORDER BY h.added_at, "
	            "h.org_id",
	            err);
	if (!s)
		goto fail;
	gz_bind_i64(s, 1, id);
	while ((rc = gz_step(s, err)) == 1) {
		char added[GZ_TIME_BUF], rep[GZ_TIME_BUF];
		gz_time_format(gz_col_i64(s, 2), added, sizeof(added));
		bool reported = !gz_col_null(s, 3);
		if (reported)
			gz_time_format(gz_col_i64(s, 3), rep, sizeof(rep));
		json_array_append_new(
		    arr,
		    json_pack("{s:s,s:I,s:s,s:s,s:b,s:o,s:o}", "role", "co_handler", "org_id",
		              (json_int_t)gz_col_i64(s, 0), "name", gz_col_text(s, 1), "added_at",
		              added, "reported", reported, "reported_at",
		              reported ? json_string(rep) : json_null(), "report_note",
		              gz_col_null(s, 4) ? json_null() : json_string(gz_col_text(s, 4))));
	}
	gz_stmt_done(s);
	if (rc < 0)
		goto fail;
	return arr;
fail:
	json_decref(arr);
	return NULL;
}

static json_t *attachments(struct gz_conn *c, int64_t id, struct gz_err *err)
{
	json_t *arr = json_array();
	struct gz_stmt *s = gz_stmt(c,
	                            "SELECT id, content_type, size, filename, created_at FROM "
	                            "work_order_attachments WHERE work_order_id = ? ORDER BY id",
	                            err);
	if (!s) {
		json_decref(arr);
		return NULL;
	}
	gz_bind_i64(s, 1, id);
	int rc;
	while ((rc = gz_step(s, err)) == 1) {
		char at[GZ_TIME_BUF], url[96];
		gz_time_format(gz_col_i64(s, 4), at, sizeof(at));
		snprintf(url, sizeof(url), "/api/v1/work-orders/%lld/attachments/%lld",
		         (long long)id, (long long)gz_col_i64(s, 0));
		json_array_append_new(
		    arr, json_pack("{s:I,s:s,s:I,s:o,s:s,s:s}", "id", (json_int_t)gz_col_i64(s, 0),
		                   "content_type", gz_col_text(s, 1), "size",
		                   (json_int_t)gz_col_i64(s, 2), "filename",
		                   gz_col_null(s, 3) ? json_null() : json_string(gz_col_text(s, 3)),
		                   "created_at", at, "url", url));
	}
	gz_stmt_done(s);
	if (rc < 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

json_t *gz_wo_detail(struct gz_req *r, struct gz_conn *c, int64_t id, bool scoped,
                     int64_t timeline_limit, struct gz_err *err)
{
	/* unscoped: after an action that took the order out of the actor's reach (a
	 * handler returning it), the actor still gets the result of what it did */
	json_t *o = gz_entity_load(&gz_work_order_entity, c, r->app, scoped ? r->acct : NULL, id,
	                           false, err);
	if (!o)
		return NULL;
	gz_wo_decorate(c, o);
	struct gz_wo_order ord;
	int64_t next;
	json_t *tl =
	    gz_lifecycle_timeline(c, &gz_work_order_machine, id, gz_wo_sees_internal(r->acct), 0,
	                          timeline_limit, &next, err);
	json_t *hs = tl ? handlers(c, id, o, err) : NULL;
	json_t *att = hs ? attachments(c, id, err) : NULL;
	if (!att || gz_wo_order_load(c, id, &ord, err)) {
		json_decref(tl);
		json_decref(hs);
		json_decref(att);
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "timeline", tl);
	json_object_set_new(o, "timeline_next_cursor", gz_lifecycle_cursor(next));
	json_object_set_new(o, "handlers", hs);
	json_object_set_new(o, "attachments", att);
	json_object_set_new(o, "allowed_actions",
	                    gz_lifecycle_allowed(&gz_work_order_machine, r->acct, &ord, false));
	return o;
}

json_t *gz_work_order_visible(struct gz_req *r, struct gz_conn *c, int64_t id, struct gz_err *err)
{
	json_t *o = gz_entity_load(&gz_work_order_entity, c, r->app, r->acct, id, false, err);
	if (o)
		gz_wo_decorate(c, o);
	return o;
}

int gz_wo_get_handler(struct gz_req *r, struct gz_err *err)
{
	int64_t id, tl_limit;
	if (gz_req_id(r, "id", &id, err) ||
	    gz_lifecycle_page_limit(r, "timeline_limit", &tl_limit, err))
		return -1;
	struct gz_conn *c = gz_db_reader(r->app->db);
	json_t *o = gz_wo_detail(r, c, id, true, tl_limit, err);
	gz_db_reader_done(r->app->db, c);
	if (!o)
		return -1;
	gz_reply_header(r, "ETag",
	                gz_sprintf(&r->arena, "\"%lld\"",
	                           (long long)json_integer_value(json_object_get(o, "version"))));
	return gz_reply_json(r, 200, o);
}
