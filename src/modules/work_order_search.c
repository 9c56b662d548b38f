/* work_order_search.c - full-text search of work orders (q= of the list) and the
 * upkeep of its index.  The one backend-specific file of the module: SQLite's FTS5
 * trigram table work_orders_fts (migrations 0002 and 0003); another backend gives
 * these two functions its own way. */
#include "app.h"
#include "core/util.h"
#include "modules/work_order_internal.h"
#include <string.h>

int gz_wo_search_filter(struct gz_req *r, const char *value, struct gz_buf *where,
                        struct gz_args *args, struct gz_list_opts *o, struct gz_err *err)
{
	size_t n = gz_utf8_len(value);
	if (n == 0 || n > 100)
		return gz_fail_field(err, GZ_E_VALIDATION, "q", "q must have 1 to 100 characters");
	if (n >= 3) {
		/* one FTS5 phrase: every character literal, quotes doubled */
		struct gz_buf phrase = GZ_BUF_INIT;
		gz_buf_addc(&phrase, '"');
		for (const char *p = value; *p; p++) {
			if (*p == '"')
				gz_buf_addc(&phrase, '"');
			gz_buf_addc(&phrase, *p);
		}
		gz_buf_addc(&phrase, '"');
		/* the FTS table drives the query: it yields matches newest first, so
		 * a page needs no list of every match (60k rowids for a common term) */
		o->join = " JOIN work_orders_fts f ON f.rowid = t.id";
		o->order_col = "f.rowid";
		gz_buf_adds(where, " AND f.work_orders_fts MATCH ?");
		gz_args_text(args, gz_strdup(&r->arena, phrase.data));
		gz_buf_release(&phrase);
	} else {
		/* trigrams cannot find 1-2 characters: a plain substring match */
		char *pat = gz_alloc(&r->arena, strlen(value) * 2 + 3), *w = pat;
		*w++ = '%';
		for (const char *p = value; *p; p++) {
			if (*p == '%' || *p == '_' || *p == '\\')
				*w++ = '\\';
			*w++ = *p;
		}
		*w++ = '%';
		*w = 0;
		gz_buf_adds(where, " AND (t.title LIKE ? ESCAPE '\\' OR t.description LIKE ? "
		                   "ESCAPE '\\' OR coalesce(t.address, '') LIKE ? ESCAPE '\\')");
		gz_args_text(args, pat);
		gz_args_text(args, pat);
		gz_args_text(args, pat);
	}
	return 0;
}

/* Brings the full-text index up to date with the orders the batch changed, before it
 * commits (migration 0003 says why): out with the text an order had in the index, in
 * with the text it has now.  One FTS5 segment per batch instead of one per order. */
int gz_wo_fts_sync(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	(void)ctx;
	int64_t any = 0;
	if (gz_query_i64(c, err, &any, "SELECT EXISTS (SELECT 1 FROM work_orders_fts_pending)",
	                 "") < 0)
		return -1;
	if (!any)
		return 0;
	return gz_exec_args(c, err,
	                    "INSERT INTO work_orders_fts (work_orders_fts, rowid, title, "
	                    "description, address) SELECT 'delete', id, title, description, "
	                    "address FROM work_orders_fts_pending WHERE indexed = 1",
	                    "") ||
	               gz_exec_args(c, err,
	                            "INSERT INTO work_orders_fts (rowid, title, description, "
	                            "address) SELECT w.id, w.title, w.description, "
	                            "coalesce(w.address, '') FROM work_orders_fts_pending p "
	                            /* CROSS JOIN keeps the pending rows as the outer loop:
	                             * after ANALYZE (a bulk import runs it) the planner
	                             * otherwise scanned every order on each commit, 71% of
	                             * the writer's time (creates 880/s instead of 2,700/s) */
	                            "CROSS JOIN work_orders w ON w.id = p.id ORDER BY p.id",
	                            "") ||
	               gz_exec_args(c, err, "DELETE FROM work_orders_fts_pending", "")
	           ? -1
	           : 0;
}
