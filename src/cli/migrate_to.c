/* migrate_to.c - gongzhi migrate-to postgresql://…: copies the configured SQLite
 * database into an empty PostgreSQL one, so that a pilot on one machine can grow into
 * several nodes.
 *
 * The target gets the PostgreSQL schema of the same version by its own migrations;
 * then every table both schemas have is copied row by row in the order of the
 * target's foreign keys (parents first), a few hundred rows per write, with the
 * target's own triggers (append-only timelines, the keyed-only audit rule) off for the
 * copy and on again after it; foreign keys are checked throughout.  Identity
 * sequences then continue after the copied ids.  The audit chain is copied verbatim
 * (ids, hashes), so it verifies on the target with the same key; the target's head
 * checkpoint is written by migrate-to to the copy's head file.  Tables that only
 * SQLite has (its FTS5 indexes) are left: the target's bigram index is built by its
 * first server from the to-do list migrate-to fills (searches exact meanwhile).
 *
 * Knows both backends by name (sqlite_master, pg_catalog): it is the one tool that
 * moves data between them. */
#include "cli/migrate_to.h"
#include "app.h"
#include "auth/auth.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_TABLES = 128, MAX_COLS = 96, PARAMS_PER_INSERT = 4000, ROWS_MAX = 500 };

struct table {
	char name[64];
	char cols[MAX_COLS][64];
	int ncols;
	int64_t rows, copied;
	bool copy;  /* the target has it */
	bool rowid; /* not WITHOUT ROWID: copied in rowid order */
	bool done;
};

struct value {
	char type;
	int64_t i;
	double d;
	char *p; /* text or blob, owned */
	size_t n;
};

struct batch {
	const char *sql;
	struct value *v;
	int nvals;
};

static int names(struct gz_conn *c, const char *sql, const char *arg, char (*out)[64], int cap,
                 int *n, struct gz_err *err)
{
	struct gz_stmt *s = gz_stmt(c, sql, err);
	if (!s)
		return -1;
	if (arg)
		gz_bind_text(s, 1, arg);
	int rc;
	*n = 0;
	while ((rc = gz_step(s, err)) == 1 && *n < cap)
		snprintf(out[(*n)++], 64, "%s", gz_col_text(s, 0));
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
}

static int count_rows(struct gz_conn *c, const char *table, int64_t *n, struct gz_err *err)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%.63s\"", table);
	return gz_query_i64(c, err, n, sql, "") < 0 ? -1 : 0;
}

/* The source's tables and columns, each marked whether the target has it. */
static int read_tables(struct gz_db *src, struct gz_db *dst, struct table *t, int *n,
                       struct gz_err *err)
{
	static char list[MAX_TABLES][64];
	struct gz_conn *c = gz_db_reader(src);
	/* not SQLite's own, not the FTS5 virtual tables nor their shadow tables */
	int rc = names(c,
	               "SELECT name FROM sqlite_master m WHERE type = 'table' AND name NOT LIKE "
	               "'sqlite\\_%' ESCAPE '\\' AND name <> 'schema_migrations' AND sql NOT LIKE "
	               "'CREATE VIRTUAL TABLE%' AND NOT EXISTS (SELECT 1 FROM sqlite_master v "
	               "WHERE v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%' AND m.name "
	               "LIKE v.name || '\\_%' ESCAPE '\\') ORDER BY name",
	               NULL, list, MAX_TABLES, n, err);
	for (int k = 0; !rc && k < *n; k++) {
		memset(&t[k], 0, sizeof(t[k]));
		snprintf(t[k].name, sizeof(t[k].name), "%.63s", list[k]);
		rc = names(c, "SELECT name FROM pragma_table_info(?) ORDER BY cid", t[k].name,
		           t[k].cols, MAX_COLS, &t[k].ncols, err) ||
		     count_rows(c, t[k].name, &t[k].rows, err);
		int64_t without = 0;
		if (!rc)
			rc = gz_query_i64(
			         c, err, &without,
			         "SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_master WHERE "
			         "name = ?",
			         "t", t[k].name) < 0;
		t[k].rowid = !without;
	}
	gz_db_reader_done(src, c);
	if (rc)
		return -1;
	/* keep the columns the target has too (the same, schema for schema) */
	struct gz_conn *d = gz_db_reader(dst);
	static char tcols[MAX_COLS][64];
	for (int k = 0; !rc && k < *n; k++) {
		int nt = 0;
		rc =
		    names(d,
		          "SELECT column_name FROM information_schema.columns WHERE table_schema = "
		          "current_schema() AND table_name = ? ORDER BY ordinal_position",
		          t[k].name, tcols, MAX_COLS, &nt, err);
		t[k].copy = nt > 0;
		int keep = 0;
		for (int i = 0; i < t[k].ncols; i++) {
			bool has = false;
			for (int j = 0; j < nt && !has; j++)
				has = strcmp(t[k].cols[i], tcols[j]) == 0;
			if (has)
				memmove(t[k].cols[keep++], t[k].cols[i], 64);
			else if (t[k].copy)
				gz_warn("migrate-to: %s.%s has no column in the target; left",
				        t[k].name, t[k].cols[i]);
		}
		t[k].ncols = keep;
	}
	gz_db_reader_done(dst, d);
	return rc;
}

/* Orders the tables so that each comes after those its foreign keys name. */
static int order_tables(struct gz_db *dst, struct table *t, int n, int *order, struct gz_err *err)
{
	enum { MAX_FK = 512 };
	static char from[MAX_FK][64], to[MAX_FK][64];
	int nf = 0, nt = 0;
	struct gz_conn *d = gz_db_reader(dst);
	int rc = names(d,
	               "SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
	               "AND connamespace = current_schema()::regnamespace ORDER BY oid",
	               NULL, from, MAX_FK, &nf, err) ||
	         names(d,
	               "SELECT confrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
	               "AND connamespace = current_schema()::regnamespace ORDER BY oid",
	               NULL, to, MAX_FK, &nt, err);
	gz_db_reader_done(dst, d);
	if (rc || nf != nt)
		return rc ? -1 : gz_fail(err, GZ_E_INTERNAL, "the target's foreign keys changed");
	int placed = 0;
	bool done[MAX_TABLES] = {false};
	while (placed < n) {
		bool progress = false;
		for (int k = 0; k < n; k++) {
			if (done[k])
				continue;
			bool ready = true;
			for (int f = 0; f < nf && ready; f++) {
				if (strcmp(from[f], t[k].name) || strcmp(to[f], t[k].name) == 0)
					continue; /* another table's key, or one to itself */
				for (int j = 0; j < n && ready; j++)
					if (!done[j] && strcmp(t[j].name, to[f]) == 0)
						ready = false;
			}
			if (ready) {
				done[k] = true;
				order[placed++] = k;
				progress = true;
			}
		}
		if (!progress)
			return gz_fail(err, GZ_E_INTERNAL,
			               "the foreign keys of the target form a cycle");
	}
	return 0;
}

static int insert_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct batch *b = ctx;
	struct gz_stmt *s = gz_stmt(c, b->sql, err);
	if (!s)
		return -1;
	for (int i = 0; i < b->nvals; i++) {
		const struct value *v = &b->v[i];
		switch (v->type) {
		case 'i':
			gz_bind_i64(s, i + 1, v->i);
			break;
		case 'd':
			gz_bind_double(s, i + 1, v->d);
			break;
		case 't':
			gz_bind_text(s, i + 1, v->p);
			break;
		case 'b':
			gz_bind_blob(s, i + 1, v->p, v->n);
			break;
		default:
			gz_bind_null(s, i + 1);
		}
	}
	int rc = gz_step(s, err);
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
}

static char *insert_sql(const struct table *t, int rows)
{
	struct gz_buf b = GZ_BUF_INIT;
	gz_buf_addf(&b, "INSERT INTO \"%s\" (", t->name);
	for (int i = 0; i < t->ncols; i++)
		gz_buf_addf(&b, "%s\"%s\"", i ? ", " : "", t->cols[i]);
	gz_buf_adds(&b, ") VALUES ");
	for (int r = 0; r < rows; r++) {
		gz_buf_adds(&b, r ? ", (" : "(");
		for (int i = 0; i < t->ncols; i++)
			gz_buf_adds(&b, i ? ", ?" : "?");
		gz_buf_addc(&b, ')');
	}
	char *sql = gz_xstrdup(b.data);
	gz_buf_release(&b);
	return sql;
}

/* On a terminal one line, rewritten as rows arrive; in a log one line per table. */
static void progress(const struct table *t, int64_t total_done, int64_t total)
{
	if (!isatty(2) && t->copied < t->rows)
		return;
	fprintf(stderr, "\r  %-28s %9lld / %-9lld  (%3d%% of %lld rows)", t->name,
	        (long long)t->copied, (long long)t->rows,
	        total ? (int)(total_done * 100 / total) : 100, (long long)total);
	fflush(stderr);
}

static int flush(struct gz_db *dst, const struct table *t, struct value *v, int rows,
                 char **sql_full, int rows_full, struct gz_err *err)
{
	char *sql = rows == rows_full ? *sql_full : insert_sql(t, rows);
	struct batch b = {sql, v, rows * t->ncols};
	int rc = gz_db_write(dst, insert_fn, &b, err);
	if (sql != *sql_full)
		free(sql);
	for (int i = 0; i < rows * t->ncols; i++) {
		free(v[i].p);
		v[i].p = NULL;
	}
	return rc;
}

static int copy_table(struct gz_db *src, struct gz_db *dst, struct table *t, int64_t *total_done,
                      int64_t total, struct gz_err *err)
{
	if (t->ncols == 0)
		return 0;
	int per = PARAMS_PER_INSERT / t->ncols;
	per = per < 1 ? 1 : per > ROWS_MAX ? ROWS_MAX : per;
	char *sql_full = insert_sql(t, per);
	struct value *v = gz_xcalloc((size_t)per * (size_t)t->ncols, sizeof(*v));
	struct gz_buf q = GZ_BUF_INIT;
	gz_buf_adds(&q, "SELECT ");
	for (int i = 0; i < t->ncols; i++)
		gz_buf_addf(&q, "%s\"%s\"", i ? ", " : "", t->cols[i]);
	/* rowid order: the order of creation, parents of a tree before their children */
	gz_buf_addf(&q, " FROM \"%s\"%s", t->name, t->rowid ? " ORDER BY rowid" : "");
	struct gz_conn *c = gz_db_reader(src);
	struct gz_stmt *s = gz_stmt(c, q.data, err);
	gz_buf_release(&q);
	int rc = s ? 0 : -1, rows = 0;
	while (s && (rc = gz_step(s, err)) == 1) {
		struct value *row = &v[rows * t->ncols];
		for (int i = 0; i < t->ncols; i++) {
			struct value *x = &row[i];
			x->type = gz_col_type(s, i);
			if (x->type == 'i') {
				x->i = gz_col_i64(s, i);
			} else if (x->type == 'd') {
				x->d = gz_col_double(s, i);
			} else if (x->type == 't') {
				x->p = gz_xstrdup(gz_col_text(s, i));
			} else if (x->type == 'b') {
				const void *p = gz_col_blob(s, i, &x->n);
				x->p = gz_xcalloc(x->n + 1, 1);
				if (x->n)
					memcpy(x->p, p, x->n);
			}
		}
		if (++rows == per) {
			if (flush(dst, t, v, rows, &sql_full, per, err)) {
				rc = -1;
				break;
			}
			t->copied += rows;
			*total_done += rows;
			rows = 0;
			progress(t, *total_done, total);
		}
	}
	gz_stmt_done(s);
	gz_db_reader_done(src, c);
	if (rc >= 0 && rows) {
		rc = flush(dst, t, v, rows, &sql_full, per, err);
		if (!rc) {
			t->copied += rows;
			*total_done += rows;
		}
	}
	if (rc >= 0)
		progress(t, *total_done, total);
	for (int i = 0; i < per * t->ncols; i++)
		free(v[i].p);
	free(v);
	free(sql_full);
	return rc < 0 ? -1 : 0;
}

static int exec_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	return gz_exec_script(c, ctx, err);
}

static int run_sql(struct gz_db *db, const char *sql, struct gz_err *err)
{
	return gz_db_write(db, exec_fn, (void *)sql, err);
}

static int after_copy_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	return ((const struct gz_module *)ctx)->after_copy(c, err);
}

/* After explicit ids: each identity sequence continues after its table's largest. */
static int reset_sequences(struct gz_db *dst, struct gz_err *err)
{
	return run_sql(
	    dst,
	    "DO $$ DECLARE r record; BEGIN FOR r IN SELECT c.relname AS t, a.attname AS col "
	    "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE a.attidentity <> '' "
	    "AND c.relnamespace = current_schema()::regnamespace LOOP "
	    "EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), "
	    "coalesce((SELECT max(%I) FROM %I), 0) + 1, false)', r.t, r.col, r.col, r.t); "
	    "END LOOP; END $$",
	    err);
}

static int set_triggers(struct gz_db *dst, const struct table *t, int n, const char *how,
                        struct gz_err *err)
{
	struct gz_buf b = GZ_BUF_INIT;
	for (int k = 0; k < n; k++)
		if (t[k].copy)
			gz_buf_addf(&b, "ALTER TABLE \"%s\" %s TRIGGER USER; ", t[k].name, how);
	int rc = b.len ? run_sql(dst, b.data, err) : 0;
	gz_buf_release(&b);
	return rc;
}

/* What the target's migrations seeded (dictionaries, SLA rules) gives way to the
 * source's rows, which carry the same seed as it stands now. */
static int empty_tables(struct gz_db *dst, const struct table *t, int n, struct gz_err *err)
{
	struct gz_buf b = GZ_BUF_INIT;
	for (int k = 0; k < n; k++)
		if (t[k].copy)
			gz_buf_addf(&b, "%s\"%s\"", b.len ? ", " : "TRUNCATE ", t[k].name);
	int rc = b.len ? run_sql(dst, b.data, err) : 0;
	gz_buf_release(&b);
	return rc;
}

int gz_migrate_to(struct gz_db *src, const char *url, const char *head_path, struct gz_err *err)
{
	if (strcmp(gz_db_backend(src), "sqlite"))
		return gz_fail(err, GZ_E_BAD_REQUEST,
		               "migrate-to copies a SQLite database (this one is %s)",
		               gz_db_backend(src));
	if (!gz_db_url_is_pg(url))
		return gz_fail(err, GZ_E_BAD_REQUEST,
		               "migrate-to needs a postgresql://… URL of an empty database");
	if (gz_db_check_schema(src, err))
		return -1;
	struct gz_db_opts o;
	gz_db_opts_default(&o);
	o.create = true;
	o.read_connections = 1;
	struct gz_db *dst = NULL;
	if (gz_db_open(url, &o, &dst, err))
		return -1;
	int rc = -1;
	int64_t ntables = 0;
	struct gz_conn *d = gz_db_reader(dst);
	int q =
	    gz_query_i64(d, err, &ntables,
	                 "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()", "");
	gz_db_reader_done(dst, d);
	if (q < 0)
		goto out;
	if (ntables) {
		gz_fail(
		    err, GZ_E_CONFLICT,
		    "the target database is not empty (%lld tables): migrate-to fills a new one",
		    (long long)ntables);
		goto out;
	}
	int applied = 0;
	if (gz_db_migrate(dst, &applied, err))
		goto out;
	fprintf(stderr, "target schema: %d migrations applied\n", applied);
	static struct table t[MAX_TABLES];
	int n = 0, order[MAX_TABLES];
	if (read_tables(src, dst, t, &n, err) || order_tables(dst, t, n, order, err))
		goto out;
	int64_t total = 0, done = 0;
	for (int k = 0; k < n; k++)
		if (t[k].copy)
			total += t[k].rows;
	if (set_triggers(dst, t, n, "DISABLE", err) || empty_tables(dst, t, n, err))
		goto out;
	for (int k = 0; k < n; k++) {
		struct table *x = &t[order[k]];
		if (!x->copy) {
			fprintf(stderr, "  %-28s %9lld rows: SQLite's alone, left\n", x->name,
			        (long long)x->rows);
			continue;
		}
		int cr = copy_table(src, dst, x, &done, total, err);
		fprintf(stderr, "\n");
		if (cr)
			goto out;
	}
	if (set_triggers(dst, t, n, "ENABLE", err) || reset_sequences(dst, err))
		goto out;
	/* every table as many rows as the source */
	d = gz_db_reader(dst);
	int bad = 0;
	for (int k = 0; k < n && !bad; k++) {
		int64_t have = 0;
		if (!t[k].copy)
			continue;
		bad = count_rows(d, t[k].name, &have, err);
		if (!bad && have != t[k].rows)
			bad = gz_fail(err, GZ_E_INTERNAL,
			              "%s: %lld rows in the source, %lld in the target", t[k].name,
			              (long long)t[k].rows, (long long)have);
	}
	gz_db_reader_done(dst, d);
	/* what the modules keep differently on the target (the bigram index of work
	 * orders: an FTS5 table on SQLite, left; built by the first server from its to-do
	 * list, searches staying exact meanwhile) */
	for (size_t k = 0; k < gz_nmodules && !bad; k++)
		if (gz_modules[k]->after_copy)
			bad = gz_db_write(dst, after_copy_fn, (void *)gz_modules[k], err);
	if (bad)
		goto out;
	struct gz_audit_report rep;
	int anchored = gz_audit_anchor_copy(dst, head_path, &rep, err);
	if (anchored < 0)
		goto out;
	if (anchored) {
		gz_fail(err, GZ_E_INTERNAL, "the copied audit chain does not verify: %s",
		        rep.message);
		goto out;
	}
	printf("copied %lld rows of %d tables to %s; the audit chain verifies (%lld entries), its "
	       "head checkpoint is in %s\n",
	       (long long)done, n, url, (long long)rep.checked, head_path);
	rc = 0;
out:
	gz_db_close(dst);
	return rc;
}
