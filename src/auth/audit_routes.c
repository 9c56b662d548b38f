/* audit_routes.c - reading the audit log (admin): GET /api/v1/audit with filters
 * and keyset paging, newest first, and GET /api/v1/audit/verify, which walks the keyed
 * chain and checks its head like `gongzhi audit verify`.  The log itself is written by audit.c. */
#include "app.h"
#include "auth/auth.h"
#include "core/timefmt.h"
#include "core/util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const params[] = {"limit",       "cursor",    "actor_id", "actor", "action",
                                     "object_type", "object_id", "from",     "to",    NULL};

static int list_handler(struct gz_req *r, struct gz_err *err)
{
	struct gz_buf sql = GZ_BUF_INIT;
	struct gz_args args = {0};
	int64_t limit = 50, cursor = 0;
	gz_buf_adds(&sql,
	            "SELECT id, at, actor_id, actor, action, object_type, object_id, summary, "
	            "client FROM audit_log WHERE 1=1");
	for (int i = 0; i < r->nquery; i++) {
		const char *k = r->query[i].key, *v = r->query[i].value;
		int64_t n;
		if (strcmp(k, "limit") == 0) {
			if (!gz_parse_i64(v, &limit) || limit < 1 || limit > 500) {
				gz_buf_release(&sql);
				return gz_fail_field(err, GZ_E_VALIDATION, k,
				                     "limit must be a whole number from 1 to 500");
			}
		} else if (strcmp(k, "cursor") == 0) {
			if (v[0] != 'c' || !gz_parse_i64(v + 1, &cursor) || cursor <= 0) {
				gz_buf_release(&sql);
				return gz_fail_field(err, GZ_E_VALIDATION, k,
				                     "cursor is not one this server returned");
			}
		} else if (strcmp(k, "actor_id") == 0 || strcmp(k, "object_id") == 0) {
			if (!gz_parse_i64(v, &n)) {
				gz_buf_release(&sql);
				return gz_fail_field(err, GZ_E_VALIDATION, k, "%s must be an id",
				                     k);
			}
			gz_buf_addf(&sql, " AND %s = ?", k);
			gz_args_i64(&args, n);
		} else if (strcmp(k, "from") == 0 || strcmp(k, "to") == 0) {
			if (!gz_time_parse(v, &n)) {
				gz_buf_release(&sql);
				return gz_fail_field(err, GZ_E_VALIDATION, k,
				                     "%s must be an ISO-8601 time", k);
			}
			gz_buf_addf(&sql, " AND at %s ?", k[0] == 'f' ? ">=" : "<");
			gz_args_i64(&args, n);
		} else { /* actor, action, object_type: exact text */
			gz_buf_addf(&sql, " AND %s = ?", k);
			gz_args_text(&args, v);
		}
	}
	if (cursor) {
		gz_buf_adds(&sql, " AND id < ?");
		gz_args_i64(&args, cursor);
	}
	gz_buf_adds(&sql, " ORDER BY id DESC LIMIT ?");
	gz_args_i64(&args, limit + 1);
	if (args.overflow) {
		gz_buf_release(&sql);
		return gz_fail(err, GZ_E_BAD_REQUEST, "too many filter values");
	}
	struct gz_conn *c = gz_db_reader(r->app->db);
	struct gz_stmt *s = gz_stmt(c, sql.data, err);
	gz_buf_release(&sql);
	json_t *items = json_array();
	int rc = -1, n = 0;
	int64_t last = 0;
	if (s) {
		gz_args_bind(s, &args, 1);
		while ((rc = gz_step(s, err)) == 1) {
			if (n++ == limit)
				break;
			char at[GZ_TIME_BUF];
			gz_time_format(gz_col_i64(s, 1), at, sizeof(at));
			json_t *summary = json_loads(gz_col_text(s, 7), 0, NULL);
			last = gz_col_i64(s, 0);
			json_array_append_new(
			    items,
			    json_pack(
			        "{s:I,s:s,s:o,s:s,s:s,s:s,s:o,s:o,s:o}", "id", (json_int_t)last,
			        "at", at, "actor_id",
			        gz_col_null(s, 2) ? json_null() : json_integer(gz_col_i64(s, 2)),
			        "actor", gz_col_text(s, 3), "action", gz_col_text(s, 4),
			        "object_type", gz_col_text(s, 5), "object_id",
			        gz_col_null(s, 6) ? json_null() : json_integer(gz_col_i64(s, 6)),
			        "summary", summary ? summary : json_object(), "client",
			        gz_col_null(s, 8) ? json_null() : json_string(gz_col_text(s, 8))));
		}
		gz_stmt_done(s);
	}
	gz_db_reader_done(r->app->db, c);
	if (rc < 0) {
		json_decref(items);
		return -1;
	}
	json_t *next =
	    n > limit ? json_string(gz_sprintf(&r->arena, "c%lld", (long long)last)) : json_null();
	return gz_reply_json(r, 200, json_pack("{s:o,s:o}", "items", items, "next_cursor", next));
}

static int verify_handler(struct gz_req *r, struct gz_err *err)
{
	struct gz_audit_report rep;
	if (gz_audit_verify(r->app->db, &rep, err) < 0)
		return -1;
	return gz_reply_json(r, 200, gz_audit_report_json(&rep));
}

static const struct gz_route routes[] = {
    {GZ_GET, "/api/v1/audit", list_handler, "audit.read", 0, NULL,
     "The audit log, newest first (filters: actor_id, actor, action, object_type, object_id, "
     "from, to)",
     params},
    {GZ_GET, "/api/v1/audit/verify", verify_handler, "audit.read", 0, NULL,
     "Walk the audit log's keyed hash chain and compare its end with the head checkpoint"},
    {0, NULL},
};

static const struct gz_perm perms[] = {
    {"audit.read", GZ_RB(ADMIN), "read and verify the audit log"},
    {NULL},
};

const struct gz_module gz_audit_module = {"audit", routes, perms, NULL, NULL};
