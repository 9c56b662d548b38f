/* export.h - streamed exports of a list's rows as CSV (UTF-8 with BOM, for Excel) or
 * as an Excel workbook (.xlsx), the one engine behind every export.csv/export.xlsx.
 *
 * A caller describes the columns (Chinese headers, widths), gives a statement that
 * reads one window of ids (gz_export_from()) with the list's filters and scope, and
 * a row function that turns the current result row into cells (text, number or
 * time; personal data masked by the row function).  The engine walks the table's ids
 * in windows of GZ_EXPORT_WINDOW up to the last id when the export began, borrowing a
 * read connection per window and giving it back before a byte is sent: a million
 * rows cost the memory of one window, and a slow client holds no connection.  The CSV
 * is sent while it is read; the workbook is written in libxlsxwriter's
 * constant_memory mode into an unlinked temporary file (a zip's directory comes at
 * its end), then sent from it.  Text from the public is guarded against formula
 * injection in the CSV (an Excel string cell is never a formula). */
#ifndef GZ_EXPORT_H
#define GZ_EXPORT_H
#include "db/db.h"
#include "http/http.h"
#include <stdbool.h>
#include <stdint.h>

#define GZ_EXPORT_WINDOW 2000 /* ids per batch */

enum gz_export_format { GZ_EXPORT_CSV, GZ_EXPORT_XLSX };

struct gz_export_column {
	const char *header; /* shown in the first row (Chinese) */
	double width;       /* Excel column width in characters; 0: 14 */
};

enum gz_cell_kind { GZ_CELL_EMPTY, GZ_CELL_TEXT, GZ_CELL_NUMBER, GZ_CELL_TIME };

/* One cell of a row.  text lives until the end of the window (the export's arena or
 * the statement's row); guard: the text comes from the public (CSV formula guard). */
struct gz_export_cell {
	enum gz_cell_kind kind;
	const char *text;
	bool guard;
	double number;
	int64_t time; /* ms */
};

/* Fills cells[0..ncolumns) from the current row of s.  a: released after each window
 * (masked copies); app: the key for unsealing personal data; ctx: the spec's ctx. */
typedef void (*gz_export_row_fn)(const void *ctx, struct gz_stmt *s, struct gz_app *app,
                                 struct gz_arena *a, struct gz_export_cell *cells);

struct gz_export_spec {
	const char *table;    /* the table whose ids are walked (its max(id) ends the walk) */
	const char *filename; /* "work-orders": the download is work-orders.csv / .xlsx */
	const char *sheet;    /* the sheet's name ("工单"); further sheets "工单2" … */
	const struct gz_export_column *columns;
	int ncolumns;
	gz_export_row_fn row;
	const void *ctx; /* for row; owned by the caller unless ctx_free is set */
	/* frees ctx (and the spec, when it lives in ctx) with the export, NULL: nothing */
	void (*ctx_free)(void *ctx);
};

/* Appends the FROM clause of one window: "(SELECT id FROM <table> WHERE id > ? AND
 * id <= ? ORDER BY id LIMIT GZ_EXPORT_WINDOW) w CROSS JOIN <table> t".  The window
 * drives the query through the primary key (a filter with an index of its own would
 * otherwise make every window read and sort all the remaining matches); the rows of
 * the statement must be those with t.id = w.id, in t.id order. */
void gz_export_from(struct gz_buf *sql, const char *table);

/* Answers r with the export: sql is a statement made with gz_export_from() whose
 * parameters are now_params copies of now (computed fields in the select list), the
 * window's two bounds, then args (text copied: args may live in the request).  The
 * first window is read before the reply starts, so a failing query still gets a
 * proper error status.  0 when the reply is set (the engine then owns spec->ctx
 * through ctx_free), or -1 with err (ctx freed too). */
int gz_export_reply(struct gz_req *r, const struct gz_export_spec *spec,
                    enum gz_export_format format, const char *sql, int now_params, int64_t now,
                    const struct gz_args *args, struct gz_err *err);

/* Chinese display names of enumerated codes, for exports and the console. */
struct gz_label {
	const char *code, *zh;
};
/* The label of code in t (terminated by a row with code NULL), or code itself. */
const char *gz_label_of(const struct gz_label *t, const char *code);

#endif
