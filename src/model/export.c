/* export.c - the engine of every export.csv and export.xlsx (export.h): the walk over
 * windows of ids, the CSV writer (RFC 4180, BOM, formula guard), the workbook writer
 * (libxlsxwriter in constant memory, times as Excel dates in Shanghai time, a new
 * sheet every 1 048 575 rows) and the streamed reply.  What the columns are and how a
 * row becomes cells is the caller's (work_order_stats.c, audit_routes.c, the entity
 * exports of entity_http.c). */
#include "model/export.h"
#include "app.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

const char *gz_label_of(const struct gz_label *t, const char *code)
{
	for (; t && t->code; t++)
		if (strcmp(t->code, code) == 0)
			return t->zh;
	return code;
}

void gz_export_from(struct gz_buf *sql, const char *table)
{
	/* CROSS JOIN fixes the order of the loops, and the LIMIT (which changes nothing)
	 * keeps the subquery from being merged into the outer query */
	gz_buf_addf(sql,
	            " FROM (SELECT id FROM %s WHERE id > ? AND id <= ? ORDER BY id LIMIT %d) w "
	            "CROSS JOIN %s t",
	            table, GZ_EXPORT_WINDOW, table);
}

struct gz_export;
typedef void (*write_fn)(struct gz_export *x, const struct gz_export_cell *cells);

/* The export's state.  It owns everything it uses: it outlives the request. */
struct gz_export {
	struct gz_export_spec spec;
	struct gz_app *app;
	char request_id[24];
	char *sql;
	struct gz_args args;      /* the filters and scope; text in owned[] */
	char *owned[GZ_ARGS_MAX]; /* copies of the text arguments */
	int now_params;
	int64_t now;
	int64_t last_id;       /* the end of the last window read */
	int64_t end_id;        /* the last id when the export began; -1 unknown */
	bool done;             /* the last window reached end_id */
	struct gz_arena arena; /* per window */
	struct gz_export_cell *cells;
	write_fn write;
	/* CSV: formatted bytes of the current window, and how many were handed on */
	struct gz_buf out;
	size_t sent;
	/* Excel: the workbook while it is written, then the finished file being sent */
	lxw_workbook *book;
	lxw_worksheet *sheet;
	lxw_format *bold, *date;
	lxw_row_t sheet_row; /* the next row of the current sheet */
	int sheets;
	char path[4096]; /* the temporary file, "" once unlinked */
	FILE *file;
	bool failed; /* a cell could not be written */
};

static void export_free(void *ctx)
{
	struct gz_export *x = ctx;
	free(x->sql);
	for (int i = 0; i < GZ_ARGS_MAX; i++)
		free(x->owned[i]);
	free(x->cells);
	gz_buf_release(&x->out);
	gz_arena_release(&x->arena);
	if (x->book)
		workbook_close(x->book); /* an error path: the file is removed below */
	if (x->file)
		fclose(x->file);
	if (x->path[0])
		unlink(x->path);
	if (x->spec.ctx_free)
		x->spec.ctx_free((void *)x->spec.ctx);
	free(x);
}

/* ---- CSV ---- */

/* Appends one RFC 4180 field: quoted when it holds a comma, quote, CR or LF, with
 * quotes doubled.  guard: the text comes from the public; a leading = + - @ would
 * make a spreadsheet run it as a formula, so it is prefixed with an apostrophe. */
static void csv_field(struct gz_buf *b, const char *s, bool guard)
{
	bool formula =
	    guard && (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r');
	bool quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		gz_buf_addc(b, '"');
	if (formula)
		gz_buf_addc(b, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			gz_buf_addc(b, '"');
		gz_buf_addc(b, *p);
	}
	if (quote)
		gz_buf_addc(b, '"');
}

static void csv_row(struct gz_export *x, const struct gz_export_cell *cells)
{
	for (int i = 0; i < x->spec.ncolumns; i++) {
		const struct gz_export_cell *c = &cells[i];
		if (c->kind == GZ_CELL_TEXT) {
			csv_field(&x->out, c->text ? c->text : "", c->guard);
		} else if (c->kind == GZ_CELL_NUMBER) {
			gz_buf_addf(&x->out, "%.15g", c->number);
		} else if (c->kind == GZ_CELL_TIME) {
			/* whole seconds: milliseconds only clutter a spreadsheet */
			char t[GZ_TIME_BUF];
			gz_time_format(c->time - c->time % 1000, t, sizeof(t));
			gz_buf_adds(&x->out, t);
		}
		gz_buf_adds(&x->out, i == x->spec.ncolumns - 1 ? "\r\n" : ",");
	}
}

/* ---- Excel ---- */

/* A new sheet with the header row (a sheet holds at most 1 048 576 rows: a longer
 * export goes on in <sheet>2, <sheet>3 …). */
static void xlsx_sheet(struct gz_export *x)
{
	char name[64];
	x->sheets++;
	if (x->sheets == 1)
		snprintf(name, sizeof(name), "%s", x->spec.sheet);
	else
		snprintf(name, sizeof(name), "%s%d", x->spec.sheet, x->sheets);
	x->sheet = workbook_add_worksheet(x->book, name);
	if (!x->sheet) {
		x->failed = true;
		return;
	}
	for (int i = 0; i < x->spec.ncolumns; i++) {
		double w = x->spec.columns[i].width;
		worksheet_set_column(x->sheet, (lxw_col_t)i, (lxw_col_t)i, w > 0 ? w : 14, NULL);
	}
	for (int i = 0; i < x->spec.ncolumns; i++)
		if (worksheet_write_string(x->sheet, 0, (lxw_col_t)i, x->spec.columns[i].header,
		                           x->bold))
			x->failed = true;
	worksheet_freeze_panes(x->sheet, 1, 0);
	x->sheet_row = 1;
}

static void xlsx_row(struct gz_export *x, const struct gz_export_cell *cells)
{
	if (x->failed)
		return;
	if (!x->sheet || x->sheet_row >= LXW_ROW_MAX)
		xlsx_sheet(x);
	if (x->failed)
		return;
	for (int i = 0; i < x->spec.ncolumns; i++) {
		const struct gz_export_cell *c = &cells[i];
		lxw_error e = LXW_NO_ERROR;
		lxw_col_t col = (lxw_col_t)i;
		if (c->kind == GZ_CELL_TEXT && c->text && *c->text) {
			/* a string cell is never a formula: no guard needed */
			e = worksheet_write_string(x->sheet, x->sheet_row, col, c->text, NULL);
		} else if (c->kind == GZ_CELL_NUMBER) {
			e = worksheet_write_number(x->sheet, x->sheet_row, col, c->number, NULL);
		} else if (c->kind == GZ_CELL_TIME) {
			/* an Excel date: the Shanghai wall-clock time (Excel has no zones) */
			int64_t local_s =
			    (c->time + (int64_t)GZ_SHANGHAI_OFFSET_MIN * 60000) / 1000;
			e = worksheet_write_unixtime(x->sheet, x->sheet_row, col, local_s, x->date);
		}
		if (e != LXW_NO_ERROR)
			x->failed = true;
	}
	x->sheet_row++;
}

/* ---- the walk ---- */

/* Formats the rows of the next window of ids.  The read connection is borrowed for
 * this window only. */
static int export_batch(struct gz_export *x, struct gz_err *err)
{
	struct gz_conn *c = gz_db_reader(x->app->db);
	int rc = 0;
	if (x->end_id < 0) {
		char sql[160];
		snprintf(sql, sizeof(sql), "SELECT coalesce(max(id), 0) FROM %s", x->spec.table);
		if (gz_query_i64(c, err, &x->end_id, sql, "") < 0)
			rc = -1;
	}
	int64_t hi = x->last_id + GZ_EXPORT_WINDOW;
	if (!rc && hi > x->end_id)
		hi = x->end_id;
	struct gz_stmt *s = rc ? NULL : gz_stmt(c, x->sql, err);
	if (s) {
		int p = 1;
		for (; p <= x->now_params; p++)
			gz_bind_i64(s, p, x->now);
		gz_bind_i64(s, p++, x->last_id);
		gz_bind_i64(s, p++, hi);
		gz_args_bind(s, &x->args, p);
		while ((rc = gz_step(s, err)) == 1) {
			memset(x->cells, 0, sizeof(*x->cells) * (size_t)x->spec.ncolumns);
			x->spec.row(x->spec.ctx, s, x->app, &x->arena, x->cells);
			x->write(x, x->cells);
		}
		gz_stmt_done(s);
	}
	gz_db_reader_done(x->app->db, c);
	gz_arena_release(&x->arena);
	if (rc < 0 || !s)
		return -1;
	x->last_id = hi;
	x->done = hi >= x->end_id;
	return 0;
}

static ssize_t csv_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
	struct gz_export *x = ctx;
	(void)pos;
	while (x->sent == x->out.len) {
		if (x->done)
			return GZ_STREAM_END;
		gz_buf_reset(&x->out);
		x->sent = 0;
		struct gz_err err;
		gz_err_clear(&err);
		if (export_batch(x, &err)) {
			/* the status line is gone: all that is left is to cut the body short */
			gz_log(GZ_LOG_ERROR, x->request_id, "%s export failed after id %lld: %s",
			       x->spec.filename, (long long)x->last_id, err.message);
			return GZ_STREAM_ERROR;
		}
	}
	size_t n = x->out.len - x->sent;
	if (n > max)
		n = max;
	memcpy(buf, x->out.data + x->sent, n);
	x->sent += n;
	return (ssize_t)n;
}

static ssize_t file_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
	struct gz_export *x = ctx;
	(void)pos;
	size_t n = fread(buf, 1, max, x->file);
	if (n)
		return (ssize_t)n;
	if (ferror(x->file)) {
		gz_log(GZ_LOG_ERROR, x->request_id, "%s export: reading the file failed",
		       x->spec.filename);
		return GZ_STREAM_ERROR;
	}
	return GZ_STREAM_END;
}

static void attach(struct gz_req *r, struct gz_export *x, const char *type, const char *ext)
{
	r->status = 200;
	r->out_type = type;
	r->out_stream = ext[0] == 'c' ? csv_read : file_read;
	r->out_stream_free = export_free;
	r->out_stream_ctx = x;
	gz_reply_header(
	    r, "Content-Disposition",
	    gz_sprintf(&r->arena, "attachment; filename=\"%s.%s\"", x->spec.filename, ext));
}

static int csv_begin(struct gz_req *r, struct gz_export *x, struct gz_err *err)
{
	/* the first window now: an error still gets a proper status */
	gz_buf_adds(&x->out, "\xEF\xBB\xBF"); /* the BOM: Excel then reads the file as UTF-8 */
	for (int i = 0; i < x->spec.ncolumns; i++) {
		gz_buf_adds(&x->out, x->spec.columns[i].header);
		gz_buf_adds(&x->out, i == x->spec.ncolumns - 1 ? "\r\n" : ",");
	}
	if (export_batch(x, err))
		return -1;
	attach(r, x, "text/csv; charset=utf-8", "csv");
	return 0;
}

/* The workbook: created with mkstemp in TMPDIR (default /tmp), written window by
 * window, closed, opened again for reading and unlinked at once: the open descriptor
 * is what is sent, and nothing is left on disk whatever becomes of the response. */
static int xlsx_begin(struct gz_req *r, struct gz_export *x, struct gz_err *err)
{
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(x->path, sizeof(x->path), "%s/gongzhi-export-XXXXXX", tmp);
	int fd = mkstemp(x->path);
	if (fd < 0) {
		x->path[0] = 0;
		return gz_fail(err, GZ_E_INTERNAL, "cannot create the export file");
	}
	close(fd);
	lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = (char *)tmp};
	x->book = workbook_new_opt(x->path, &opt);
	if (!x->book)
		return gz_fail(err, GZ_E_INTERNAL, "cannot start the workbook");
	x->bold = workbook_add_format(x->book);
	format_set_bold(x->bold);
	x->date = workbook_add_format(x->book);
	format_set_num_format(x->date, "yyyy-mm-dd hh:mm:ss");
	xlsx_sheet(x); /* the header even when no row matches */
	while (!x->done && !x->failed)
		if (export_batch(x, err))
			return -1;
	lxw_error e = workbook_close(x->book);
	x->book = NULL;
	if (x->failed || e != LXW_NO_ERROR) {
		gz_log(GZ_LOG_ERROR, r->request_id, "%s xlsx export: %s", x->spec.filename,
		       e != LXW_NO_ERROR ? lxw_strerror(e) : "a cell could not be written");
		return gz_fail(err, GZ_E_INTERNAL, "the workbook could not be written");
	}
	x->file = fopen(x->path, "rb");
	unlink(x->path);
	x->path[0] = 0;
	if (!x->file)
		return gz_fail(err, GZ_E_INTERNAL, "cannot read the export file");
	attach(r, x, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx");
	return 0;
}

int gz_export_reply(struct gz_req *r, const struct gz_export_spec *spec,
                    enum gz_export_format format, const char *sql, int now_params, int64_t now,
                    const struct gz_args *args, struct gz_err *err)
{
	struct gz_export *x = gz_xcalloc(1, sizeof(*x));
	x->spec = *spec;
	x->app = r->app;
	snprintf(x->request_id, sizeof(x->request_id), "%s", r->request_id);
	x->sql = gz_xstrdup(sql);
	x->now_params = now_params;
	x->now = now;
	x->end_id = -1;
	x->cells = gz_xcalloc((size_t)spec->ncolumns, sizeof(*x->cells));
	x->write = format == GZ_EXPORT_CSV ? csv_row : xlsx_row;
	gz_arena_init(&x->arena);
	x->args = *args;
	for (int i = 0; i < args->n; i++)
		if (args->v[i].type == 't' && args->v[i].t)
			x->args.v[i].t = x->owned[i] = gz_xstrdup(args->v[i].t);
	int rc = format == GZ_EXPORT_CSV ? csv_begin(r, x, err) : xlsx_begin(r, x, err);
	if (rc)
		export_free(x);
	return rc;
}
