/* audit_routes.c - reading the audit log (admin): GET /api/v1/audit with filters,
 * keyset paging newest first and count=true; its exports (export.csv, export.xlsx:
 * the same filters, through the export engine of model/export.c); and GET
 * /api/v1/audit/verify, which walks the keyed chain and checks its head like
 * `gongzhi audit verify`.  The log itself is written by audit.c.
 *
 * The console shows the log as two: the login log (登录日志: the session entries
 * auth_routes.c writes and the second-factor events of totp.c) and the operation log
 * (操作日志: everything else).  kind=login|operation selects one of them by the
 * actions of login_actions[], the one list of what a sign-in event is. */
#include "app.h"
#include "auth/auth.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "model/export.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const params[] = {"limit",     "cursor", "count",  "kind",
                                     "actor_id",  "actor",  "action", "object_type",
                                     "object_id", "from",   "to",     NULL};

/* The actions of the login log: sessions (auth_routes.c) and the second factor
 * (totp.c). */
static const char *const login_actions[] = {
    "login",        "login_failed",  "login_locked", "login_totp_failed",  "logout", "totp_enrol",
    "totp_enabled", "totp_disabled", "totp_reset",   "totp_recovery_used", NULL};

/* The Chinese names of the actions, for the exports (the console has the same in its
 * i18n); an action not listed shows as its code. */
static const struct gz_label action_labels[] = {{"login", "登录"},
                                                {"logout", "退出登录"},
                                                {"login_failed", "登录失败（密码错误）"},
                                                {"login_locked", "登录失败（账号锁定）"},
                                                {"login_totp_failed", "登录失败（动态码错误）"},
                                                {"totp_enrol", "设置两步验证"},
                                                {"totp_enabled", "开启两步验证"},
                                                {"totp_disabled", "关闭两步验证"},
                                                {"totp_reset", "重置两步验证"},
                                                {"totp_recovery_used", "使用恢复码"},
                                                {"password", "修改密码"},
                                                {"create", "新增"},
                                                {"update", "修改"},
                                                {"archive", "归档"},
                                                {"attach", "上传附件"},
                                                {"reveal", "查看敏感信息"},
                                                {"unlock", "解锁账号"},
                                                {"seed", "初始化数据"},
                                                {"audit_rekey", "轮换审计密钥"},
                                                {"dispatch", "派单"},
                                                {"accept", "受理"},
                                                {"return", "退回"},
                                                {"start", "开始处理"},
                                                {"request_extension", "申请延期"},
                                                {"decide_extension", "审批延期"},
                                                {"escalate", "督办"},
                                                {"report", "协办反馈"},
                                                {"resolve", "办结"},
                                                {"verify", "核查"},
                                                {"callback", "回访"},
                                                {"reopen", "重新办理"},
                                                {"merge", "合并"},
                                                {"cancel", "作废"},
                                                {"comment", "备注"},
                                                {"rate", "评价"},
                                                {"publish", "发布"},
                                                {"withdraw", "撤回"},
                                                {NULL, NULL}};

static const struct gz_label object_labels[] = {{"work_order", "工单"},
                                                {"user", "账号"},
                                                {"session", "会话"},
                                                {"unit", "单位"},
                                                {"org", "组织"},
                                                {"dict_entry", "字典项"},
                                                {"dictionaries", "字典"},
                                                {"calendar", "节假日日历"},
                                                {"sla_rule", "时限规则"},
                                                {"notice", "通知公告"},
                                                {"api_key", "接口密钥"},
                                                {"audit_log", "审计日志"},
                                                {NULL, NULL}};

/* The filters of a request as " AND …" over the row "t", values in args.  Paging
 * parameters go to *limit, *cursor, *count (NULL: refused, as in the exports). */
static int audit_where(struct gz_req *r, struct gz_buf *where, struct gz_args *args, int64_t *limit,
                       int64_t *cursor, bool *count, struct gz_err *err)
{
	for (int i = 0; i < r->nquery; i++) {
		const char *k = r->query[i].key, *v = r->query[i].value;
		int64_t n;
		if (strcmp(k, "limit") == 0) {
			if (!gz_parse_i64(v, &n) || n < 1 || n > 500)
				return gz_fail_field(err, GZ_E_VALIDATION, k,
				                     "limit must be a whole number from 1 to 500");
			*limit = n;
		} else if (strcmp(k, "cursor") == 0) {
			if (v[0] != 'c' || !gz_parse_i64(v + 1, &n) || n <= 0)
				return gz_fail_field(err, GZ_E_VALIDATION, k,
				                     "cursor is not one this server returned");
			*cursor = n;
		} else if (strcmp(k, "count") == 0) {
			if (strcmp(v, "true") && strcmp(v, "false"))
				return gz_fail_field(err, GZ_E_VALIDATION, k,
				                     "count must be true or false");
			*count = strcmp(v, "true") == 0;
		} else if (strcmp(k, "kind") == 0) {
			bool login = strcmp(v, "login") == 0;
			if (!login && strcmp(v, "operation"))
				return gz_fail_field(err, GZ_E_VALIDATION, k,
				                     "kind must be login or operation");
			gz_buf_addf(where, " AND t.action %sIN (", login ? "" : "NOT ");
			for (const char *const *a = login_actions; *a; a++) {
				gz_buf_adds(where, a == login_actions ? "?" : ", ?");
				gz_args_text(args, *a);
			}
			gz_buf_adds(where, ")");
		} else if (strcmp(k, "actor_id") == 0 || strcmp(k, "object_id") == 0) {
			if (!gz_parse_i64(v, &n))
				return gz_fail_field(err, GZ_E_VALIDATION, k, "%s must be an id",
				                     k);
			gz_buf_addf(where, " AND t.%s = ?", k);
			gz_args_i64(args, n);
		} else if (strcmp(k, "from") == 0 || strcmp(k, "to") == 0) {
			/* a date is a whole Shanghai day (the end date included), a time the
			 * instant itself (to: before it) */
			if (gz_range_bound(v, k[0] == 't', &n))
				return gz_fail_field(
				    err, GZ_E_VALIDATION, k,
				    "%s must be a date (YYYY-MM-DD) or an ISO-8601 time", k);
			gz_buf_addf(where, " AND t.at %s ?", k[0] == 'f' ? ">=" : "<");
			gz_args_i64(args, n);
		} else if (strcmp(k, "actor") == 0 || strcmp(k, "action") == 0 ||
		           strcmp(k, "object_type") == 0) { /* exact text */
			gz_buf_addf(where, " AND t.%s = ?", k);
			gz_args_text(args, v);
		} else {
			return gz_fail_field(err, GZ_E_UNKNOWN_FIELD, k,
			                     "unknown query parameter '%s'", k);
		}
	}
	if (args->overflow)
		return gz_fail(err, GZ_E_BAD_REQUEST, "too many filter values");
	return 0;
}

static void buf_release(void *p)
{
	gz_buf_release(p);
}

static int list_handler(struct gz_req *r, struct gz_err *err)
{
	struct gz_buf *where = gz_zalloc(&r->arena, sizeof(*where)),
	              *sql = gz_zalloc(&r->arena, sizeof(*sql));
	gz_defer(&r->arena, buf_release, where);
	gz_defer(&r->arena, buf_release, sql);
	struct gz_args args = {0};
	int64_t limit = 50, cursor = 0, total = -1;
	bool count = false;
	if (audit_where(r, where, &args, &limit, &cursor, &count, err))
		return -1;
	gz_buf_adds(sql, "SELECT t.id, t.at, t.actor_id, t.actor, t.action, t.object_type, "
	                 "t.object_id, t.summary, t.client FROM audit_log t WHERE 1=1");
	gz_buf_add(sql, where->data, where->len);
	if (cursor)
		gz_buf_adds(sql, " AND t.id < ?");
	gz_buf_adds(sql, " ORDER BY t.id DESC LIMIT ?");
	struct gz_conn *c = gz_db_reader(r->app->db);
	struct gz_stmt *s = gz_stmt(c, sql->data, err);
	json_t *items = json_array();
	int rc = -1, n = 0;
	int64_t last = 0;
	if (s) {
		gz_args_bind(s, &args, 1);
		int p = args.n + 1;
		if (cursor)
			gz_bind_i64(s, p++, cursor);
		gz_bind_i64(s, p, limit + 1);
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
	if (rc >= 0 && count) { /* the same filters, no cursor */
		struct gz_buf csql = GZ_BUF_INIT;
		gz_buf_adds(&csql, "SELECT count(*) FROM audit_log t WHERE 1=1");
		gz_buf_add(&csql, where->data, where->len);
		s = gz_stmt(c, csql.data, err);
		gz_buf_release(&csql);
		rc = -1;
		if (s) {
			gz_args_bind(s, &args, 1);
			if ((rc = gz_step(s, err)) == 1)
				total = gz_col_i64(s, 0);
			gz_stmt_done(s);
		}
	}
	gz_db_reader_done(r->app->db, c);
	if (rc < 0) {
		json_decref(items);
		return -1;
	}
	json_t *next =
	    n > limit ? json_string(gz_sprintf(&r->arena, "c%lld", (long long)last)) : json_null();
	json_t *o = json_pack("{s:o,s:o}", "items", items, "next_cursor", next);
	if (total >= 0)
		json_object_set_new(o, "total", json_integer(total));
	return gz_reply_json(r, 200, o);
}

/* ---- the exports ---- */

static const struct gz_export_column export_columns[] = {
    {"编号", 10},     {"时间", 20},     {"操作人", 16}, {"操作人编号", 10}, {"操作", 20},
    {"对象类型", 12}, {"对象编号", 10}, {"内容", 60},   {"客户端", 18}};

static void export_row(const void *ctx, struct gz_stmt *s, struct gz_app *app, struct gz_arena *a,
                       struct gz_export_cell *c)
{
	(void)ctx, (void)app, (void)a;
	c[0] = (struct gz_export_cell){.kind = GZ_CELL_NUMBER, .number = (double)gz_col_i64(s, 0)};
	c[1] = (struct gz_export_cell){.kind = GZ_CELL_TIME, .time = gz_col_i64(s, 1)};
	/* names and summaries come from the public (usernames, titles): guarded */
	c[2] =
	    (struct gz_export_cell){.kind = GZ_CELL_TEXT, .text = gz_col_text(s, 3), .guard = true};
	if (!gz_col_null(s, 2))
		c[3] = (struct gz_export_cell){.kind = GZ_CELL_NUMBER,
		                               .number = (double)gz_col_i64(s, 2)};
	c[4] = (struct gz_export_cell){.kind = GZ_CELL_TEXT,
	                               .text = gz_label_of(action_labels, gz_col_text(s, 4))};
	c[5] = (struct gz_export_cell){.kind = GZ_CELL_TEXT,
	                               .text = gz_label_of(object_labels, gz_col_text(s, 5))};
	if (!gz_col_null(s, 6))
		c[6] = (struct gz_export_cell){.kind = GZ_CELL_NUMBER,
		                               .number = (double)gz_col_i64(s, 6)};
	/* the summary as written: the entity layer masks personal data before it is
	 * logged (audit.c never holds a clear phone number) */
	c[7] =
	    (struct gz_export_cell){.kind = GZ_CELL_TEXT, .text = gz_col_text(s, 7), .guard = true};
	c[8] = (struct gz_export_cell){.kind = GZ_CELL_TEXT,
	                               .text = gz_col_null(s, 8) ? "" : gz_col_text(s, 8)};
}

static int export_reply(struct gz_req *r, enum gz_export_format format, struct gz_err *err)
{
	struct gz_buf *where = gz_zalloc(&r->arena, sizeof(*where)),
	              *sql = gz_zalloc(&r->arena, sizeof(*sql));
	gz_defer(&r->arena, buf_release, where);
	gz_defer(&r->arena, buf_release, sql);
	struct gz_args args = {0};
	int64_t limit = 0, cursor = 0; /* accepted and ignored: the export is everything */
	bool count = false;
	if (audit_where(r, where, &args, &limit, &cursor, &count, err))
		return -1;
	/* the login log and the operation log are named apart (file and sheet) */
	const char *kind = "";
	for (int i = 0; i < r->nquery; i++)
		if (strcmp(r->query[i].key, "kind") == 0)
			kind = r->query[i].value;
	bool login = strcmp(kind, "login") == 0, ops = strcmp(kind, "operation") == 0;
	struct gz_export_spec spec = {
	    .table = "audit_log",
	    .filename = login ? "login-log"
	                : ops ? "operation-log"
	                      : "audit-log",
	    .sheet = login ? "登录日志"
	             : ops ? "操作日志"
	                   : "审计日志",
	    .columns = export_columns,
	    .ncolumns = (int)GZ_ARRAY_LEN(export_columns),
	    .row = export_row,
	};
	gz_buf_adds(sql, "SELECT t.id, t.at, t.actor_id, t.actor, t.action, t.object_type, "
	                 "t.object_id, t.summary, t.client");
	gz_export_from(sql, "audit_log");
	gz_buf_adds(sql, " WHERE t.id = w.id");
	gz_buf_add(sql, where->data, where->len);
	gz_buf_adds(sql, " ORDER BY t.id");
	return gz_export_reply(r, &spec, format, sql->data, 0, 0, &args, err);
}

static int export_csv_handler(struct gz_req *r, struct gz_err *err)
{
	return export_reply(r, GZ_EXPORT_CSV, err);
}

static int export_xlsx_handler(struct gz_req *r, struct gz_err *err)
{
	return export_reply(r, GZ_EXPORT_XLSX, err);
}

static int verify_handler(struct gz_req *r, struct gz_err *err)
{
	struct gz_audit_report rep;
	if (gz_audit_verify(r->app->db, &rep, err) < 0)
		return -1;
	return gz_reply_json(r, 200, gz_audit_report_json(&rep));
}

#define AUDIT_FILTERS                                                                              \
	"kind (login: sign-ins, sign-outs, lockouts and second-factor events; operation: "         \
	"everything else), actor_id, actor, action, object_type, object_id, from, to (dates "      \
	"of whole Shanghai days, the end date included, or times)"

static const struct gz_route routes[] = {
    {GZ_GET, "/api/v1/audit", list_handler, "audit.read", GZ_R_LIST, NULL,
     "The audit log, newest first, count=true adds total (filters: " AUDIT_FILTERS ")", params},
    {GZ_GET, "/api/v1/audit/export.csv", export_csv_handler, "audit.read", GZ_R_LIST | GZ_R_FILE,
     NULL,
     "The audit log entries of the list's filters as CSV for Excel (UTF-8 with BOM, "
     "Chinese headers and action names), oldest first, streamed",
     params},
    {GZ_GET, "/api/v1/audit/export.xlsx", export_xlsx_handler, "audit.read", GZ_R_LIST | GZ_R_FILE,
     NULL,
     "The audit log entries of the list's filters as an Excel workbook (times as Excel dates "
     "in Shanghai time), oldest first, written in constant memory",
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
