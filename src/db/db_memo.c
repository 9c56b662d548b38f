/* db_memo.c - the writer's memo of reference lookups (internal to src/db/).
 *
 * On PostgreSQL every statement is a round trip, and a work-order create used to look
 * up the same unit, dictionary code, SLA rule and calendar days as the 31 creates
 * before it in its batch: 11 of its 20 statements.  While a batch's transaction runs
 * (the cluster-wide write lock held, so no other node writes), the rows of a
 * gz_stmt_memo() statement are kept, keyed by its SQL and bindings, and served again
 * without a round trip.  The memo is dropped when the transaction ends or rolls back
 * to a savepoint (what a failed job wrote may be in it), and when a statement writes
 * one of the reference tables.  Outside a write (serial 0) and on SQLite, where a
 * lookup costs microseconds, gz_stmt_memo() is gz_stmt(). */
#include "core/util.h"
#include "db_backend.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The tables whose rows change rarely and only through gongzhi's writers. */
static const char *const memo_tables[] = {"units",         "dict_entries", "sla_rules",
                                          "calendar_days", "orgs",         NULL};

#define MEMO_BUCKETS 64
#define MEMO_MAX 4096 /* entries per transaction; beyond, the memo starts again */
#define MEMO_BINDS 8

struct memo_cell {
	bool null;
	char type;
	int64_t i;
	double d;
	char *t;
};

struct memo_entry {
	struct memo_entry *next;
	uint64_t h;
	char *key;
	size_t klen;
	int ncols, nrows;
	char **names;
	struct memo_cell *cells; /* nrows * ncols */
};

struct gz_memo {
	struct memo_entry *b[MEMO_BUCKETS];
	int n;
	int live;      /* memo statements reading an entry */
	bool detached; /* cleared while read: freed by the last of them */
};

struct memo_stmt {
	struct gz_stmt base;
	struct gz_conn *c;
	char *sql;
	int nbinds;
	struct {
		char type; /* 0 unbound (NULL), 'i', 'd', 't', 'n' */
		int64_t i;
		double d;
		char *t;
	} binds[MEMO_BINDS];
	struct gz_memo *memo; /* of e */
	struct memo_entry *e;
	int row;
};

bool gz_db_memo_table(const char *table)
{
	for (int i = 0; memo_tables[i]; i++)
		if (strcmp(memo_tables[i], table) == 0)
			return true;
	return false;
}

static void memo_free(struct gz_memo *m)
{
	if (!m)
		return;
	for (int b = 0; b < MEMO_BUCKETS; b++) {
		for (struct memo_entry *e = m->b[b], *next; e; e = next) {
			next = e->next;
			for (int k = 0; k < e->nrows * e->ncols; k++)
				free(e->cells[k].t);
			for (int k = 0; k < e->ncols; k++)
				free(e->names[k]);
			free(e->cells);
			free(e->names);
			free(e->key);
			free(e);
		}
	}
	free(m);
}

static void memo_clear(struct gz_conn *c)
{
	if (c->memo && c->memo->live)
		c->memo->detached = true;
	else
		memo_free(c->memo);
	c->memo = NULL;
}

void gz_conn_txn_begin(struct gz_conn *c)
{
	static _Atomic uint64_t serials;
	memo_clear(c);
	c->serial = atomic_fetch_add(&serials, 1) + 1;
}

void gz_conn_txn_end(struct gz_conn *c)
{
	memo_clear(c);
	c->serial = 0;
}

uint64_t gz_conn_txn_serial(const struct gz_conn *c)
{
	return c->serial;
}

static bool word(const char **p, const char *w)
{
	size_t n = strlen(w);
	if (strncasecmp(*p, w, n) != 0 || ((*p)[n] != ' ' && (*p)[n] != '\n' && (*p)[n] != '\t'))
		return false;
	*p += n;
	while (**p == ' ' || **p == '\n' || **p == '\t')
		(*p)++;
	return true;
}

/* Whether sql may change a reference table: INSERT INTO t, UPDATE t, DELETE FROM t
 * with t one of them; anything else that is not a plain SELECT counts as one. */
static bool writes_memo_table(const char *sql)
{
	const char *p = sql;
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '(')
		p++;
	if (word(&p, "SELECT"))
		return false;
	if (word(&p, "INSERT")) {
		if (!word(&p, "INTO"))
			return true;
	} else if (word(&p, "DELETE")) {
		if (!word(&p, "FROM"))
			return true;
	} else if (!word(&p, "UPDATE")) {
		return true; /* WITH …, DDL, scripts: assume the worst */
	}
	char t[64];
	size_t n = 0;
	while (n + 1 < sizeof(t) &&
	       ((p[n] >= 'a' && p[n] <= 'z') || p[n] == '_' || (p[n] >= '0' && p[n] <= '9')))
		t[n] = p[n], n++;
	t[n] = 0;
	return gz_db_memo_table(t);
}

void gz_conn_memo_note_sql(struct gz_conn *c, const char *sql)
{
	if (c->memo && writes_memo_table(sql))
		memo_clear(c);
}

/* ---- the memo statement ---- */

#define MS(s) ((struct memo_stmt *)(s))

static void ms_done(struct gz_stmt *s)
{
	struct memo_stmt *m = MS(s);
	if (m->memo && --m->memo->live == 0 && m->memo->detached)
		memo_free(m->memo);
	for (int i = 0; i < m->nbinds; i++)
		free(m->binds[i].t);
	free(m->sql);
	free(m);
}

static void *bind_slot(struct gz_stmt *s, int i)
{
	struct memo_stmt *m = MS(s);
	if (i < 1 || i > MEMO_BINDS)
		GZ_BUG("memo statement: parameter %d of at most %d", i, MEMO_BINDS);
	if (m->e)
		GZ_BUG("memo statement bound after its first step");
	if (i > m->nbinds)
		m->nbinds = i;
	free(m->binds[i - 1].t);
	m->binds[i - 1].t = NULL;
	return &m->binds[i - 1];
}

static void ms_bind_i64(struct gz_stmt *s, int i, int64_t v)
{
	bind_slot(s, i);
	MS(s)->binds[i - 1].type = 'i';
	MS(s)->binds[i - 1].i = v;
}

static void ms_bind_double(struct gz_stmt *s, int i, double v)
{
	bind_slot(s, i);
	MS(s)->binds[i - 1].type = 'd';
	MS(s)->binds[i - 1].d = v;
}

static void ms_bind_text(struct gz_stmt *s, int i, const char *v)
{
	bind_slot(s, i);
	MS(s)->binds[i - 1].type = v ? 't' : 'n';
	MS(s)->binds[i - 1].t = v ? gz_xstrdup(v) : NULL;
}

static void ms_bind_null(struct gz_stmt *s, int i)
{
	bind_slot(s, i);
	MS(s)->binds[i - 1].type = 'n';
}

static void ms_bind_blob(struct gz_stmt *s, int i, const void *p, size_t n)
{
	(void)s, (void)i, (void)p, (void)n;
	GZ_BUG("memo statements take no blobs");
}

static void key_add(char **k, size_t *n, size_t *cap, const void *p, size_t len)
{
	while (*n + len > *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*k = gz_xrealloc(*k, *cap);
	}
	memcpy(*k + *n, p, len);
	*n += len;
}

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

/* Runs the real statement and keeps its rows as e. */
static struct memo_entry *fill(struct memo_stmt *m, struct gz_err *err)
{
	const struct gz_db_ops *o = m->c->ops;
	struct gz_stmt *s = o->stmt(m->c, m->sql, err);
	if (!s)
		return NULL;
	for (int i = 0; i < m->nbinds; i++) {
		switch (m->binds[i].type) {
		case 'i':
			o->bind_i64(s, i + 1, m->binds[i].i);
			break;
		case 'd':
			o->bind_double(s, i + 1, m->binds[i].d);
			break;
		case 't':
			o->bind_text(s, i + 1, m->binds[i].t);
			break;
		default:
			o->bind_null(s, i + 1);
		}
	}
	struct memo_entry *e = gz_xcalloc(1, sizeof(*e));
	int rc, cap = 0;
	while ((rc = o->step(s, err)) == 1) {
		if (!e->names) {
			e->ncols = o->col_count(s);
			e->names = gz_xcalloc((size_t)e->ncols + 1, sizeof(char *));
			for (int k = 0; k < e->ncols; k++)
				e->names[k] = gz_xstrdup(o->col_name(s, k));
		}
		if (e->nrows == cap) {
			cap = cap ? cap * 2 : 1;
			e->cells = gz_xrealloc(
			    e->cells, (size_t)cap * (size_t)e->ncols * sizeof(*e->cells) + 1);
		}
		for (int k = 0; k < e->ncols; k++) {
			struct memo_cell *x = &e->cells[e->nrows * e->ncols + k];
			x->null = o->col_null(s, k);
			x->type = o->col_type(s, k);
			x->i = o->col_i64(s, k);
			x->d = o->col_double(s, k);
			x->t = gz_xstrdup(o->col_text(s, k));
		}
		e->nrows++;
	}
	o->stmt_done(s);
	if (rc < 0) {
		for (int k = 0; k < e->nrows * e->ncols; k++)
			free(e->cells[k].t);
		for (int k = 0; k < e->ncols; k++)
			free(e->names[k]);
		free(e->names);
		free(e->cells);
		free(e);
		return NULL;
	}
	return e;
}

static int ms_step(struct gz_stmt *s, struct gz_err *err)
{
	struct memo_stmt *m = MS(s);
	if (!m->e) {
		char *key = NULL;
		size_t n = 0, cap = 0;
		key_add(&key, &n, &cap, m->sql, strlen(m->sql) + 1);
		for (int i = 0; i < m->nbinds; i++) {
			char head[32];
			int hl;
			switch (m->binds[i].type) {
			case 'i':
				hl = snprintf(head, sizeof(head), "i%lld;",
				              (long long)m->binds[i].i);
				break;
			case 'd':
				hl = snprintf(head, sizeof(head), "d%.17g;", m->binds[i].d);
				break;
			case 't':
				hl = snprintf(head, sizeof(head), "t%zu;", strlen(m->binds[i].t));
				break;
			default:
				hl = snprintf(head, sizeof(head), "n;");
			}
			key_add(&key, &n, &cap, head, (size_t)hl);
			if (m->binds[i].type == 't')
				key_add(&key, &n, &cap, m->binds[i].t, strlen(m->binds[i].t));
		}
		uint64_t h = fnv(key, n);
		struct gz_memo *memo = m->c->memo;
		struct memo_entry *e = NULL;
		if (memo)
			for (e = memo->b[h % MEMO_BUCKETS]; e; e = e->next)
				if (e->h == h && e->klen == n && memcmp(e->key, key, n) == 0)
					break;
		if (!e) {
			if (!(e = fill(m, err))) {
				free(key);
				return -1;
			}
			if (memo && memo->n >= MEMO_MAX)
				memo_clear(m->c), memo = NULL;
			if (!memo)
				memo = m->c->memo = gz_xcalloc(1, sizeof(*memo));
			e->h = h, e->key = key, e->klen = n;
			e->next = memo->b[h % MEMO_BUCKETS];
			memo->b[h % MEMO_BUCKETS] = e;
			memo->n++;
		} else {
			free(key);
		}
		m->e = e;
		m->memo = memo;
		memo->live++;
		m->row = -1;
	}
	if (m->row < m->e->nrows)
		m->row++;
	return m->row < m->e->nrows ? 1 : 0;
}

static const struct memo_cell *cell(struct gz_stmt *s, int i)
{
	struct memo_stmt *m = MS(s);
	if (!m->e || m->row < 0 || m->row >= m->e->nrows || i < 0 || i >= m->e->ncols)
		GZ_BUG("memo statement: column %d read without a row", i);
	return &m->e->cells[m->row * m->e->ncols + i];
}

static int ms_col_count(struct gz_stmt *s)
{
	return MS(s)->e ? MS(s)->e->ncols : 0;
}

static const char *ms_col_name(struct gz_stmt *s, int i)
{
	struct memo_stmt *m = MS(s);
	return m->e && i >= 0 && i < m->e->ncols ? m->e->names[i] : "";
}

static bool ms_col_null(struct gz_stmt *s, int i)
{
	return cell(s, i)->null;
}

static char ms_col_type(struct gz_stmt *s, int i)
{
	return cell(s, i)->type;
}

static int64_t ms_col_i64(struct gz_stmt *s, int i)
{
	return cell(s, i)->i;
}

static double ms_col_double(struct gz_stmt *s, int i)
{
	return cell(s, i)->d;
}

static const char *ms_col_text(struct gz_stmt *s, int i)
{
	return cell(s, i)->t ? cell(s, i)->t : "";
}

static const void *ms_col_blob(struct gz_stmt *s, int i, size_t *n)
{
	(void)s, (void)i, (void)n;
	GZ_BUG("memo statements keep no blobs");
}

static const struct gz_db_ops memo_ops = {
    .name = "memo",
    .stmt_done = ms_done,
    .bind_i64 = ms_bind_i64,
    .bind_double = ms_bind_double,
    .bind_text = ms_bind_text,
    .bind_blob = ms_bind_blob,
    .bind_null = ms_bind_null,
    .step = ms_step,
    .col_count = ms_col_count,
    .col_name = ms_col_name,
    .col_null = ms_col_null,
    .col_type = ms_col_type,
    .col_i64 = ms_col_i64,
    .col_double = ms_col_double,
    .col_text = ms_col_text,
    .col_blob = ms_col_blob,
};

struct gz_stmt *gz_stmt_memo(struct gz_conn *c, const char *sql, struct gz_err *err)
{
	if (!c->serial)
		return gz_stmt(c, sql, err);
	struct memo_stmt *m = gz_xcalloc(1, sizeof(*m));
	m->base.ops = &memo_ops;
	m->c = c;
	m->sql = gz_xstrdup(sql);
	return &m->base;
}
