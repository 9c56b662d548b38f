/* work_order_search.c - the keyword search of work orders (q= of the list) and the
 * upkeep of its indexes.  The one backend-specific file of the module: every
 * statement of search that differs between SQLite and PostgreSQL is here, chosen by
 * gz_db_backend().
 *
 * What q finds (the same on both backends, docs/search.md):
 *   - q shaped like an order number ("GZ" followed by digits only, the two letters in
 *     any case): the order whose number is q with the letters upper-cased, and nothing
 *     else.  A full number names one order; nobody typing it wants the orders that
 *     mention it in their text.
 *   - any other q (1 to 100 code points): every order whose title, description or
 *     address contains q as a substring, ASCII letters A-Z compared case-insensitively
 *     and every other character (Chinese, digits, punctuation, non-ASCII letters such
 *     as É/é) compared exactly; and, besides these (a union), the orders whose
 *     external_id (the 12345 hotline's number) equals q exactly, case and all.
 *   Always within the account's scope, like any list filter; newest first.
 *
 * ASCII-only folding is what SQLite's lower() and LIKE do without ICU: the exact test
 * there is col LIKE '%q%' ESCAPE '\' (q's %, _ and \ escaped).  PostgreSQL's lower()
 * and ILIKE fold all of Unicode under C.UTF-8; lower(col COLLATE "C") folds ASCII only,
 * and is searched with strpos() for q folded in C (gz_contains_ascii_ci, 0013).
 *
 * How (each index only proposes candidates, a superset of the matches; the exact
 * test above, on the base row, decides):
 *   1 character:  a scan of the orders, newest first (both backends).  It stops after
 *                 a page when the character is common; a rare one reads every row.
 *   2 characters: the bigram index (migration 0013): one posting, walked newest
 *                 first, each candidate verified; but the scan when at least 1/8 of
 *                 the 64 newest orders match (it stops after a page sooner).
 *   3 and more:   SQLite: the FTS5 trigram table (migrations 0002/0003), walked newest
 *                 first; PostgreSQL: the intersection of the postings of the query's
 *                 first, middle and last bigrams, a derived table driving the join.
 *                 Verified on the row in both (FTS5 folds all of Unicode: a superset
 *                 of the ASCII-folded matches).
 *   An exact external_id: looked up first (an index of 0013); when some order has it,
 *   the query becomes "external_id = q OR (candidate AND verified)".
 *
 * The bigram index holds, for each order, every distinct pair of consecutive code
 * points of its title, description and address (each field on its own), ASCII letters
 * folded to lower case.  If q (folded) is a substring of a field (folded), each of q's
 * bigrams is one of the field's: the postings of q's bigrams hold every match.
 * PostgreSQL: the table work_order_grams (gram as UTF-8 text, order_id).  SQLite: the
 * contentless FTS5 table work_orders_bigrams, one document per order whose tokens are
 * its bigrams in hex (a table like PostgreSQL's made creates 2.4x slower and took 1.1
 * KB per order: migration 0013 says why).  It is kept up to date at the end of each commit batch
 * (gz_wo_search_sync, with the FTS5 index on SQLite): from the orders the batch
 * changed, the bigrams of the old text that the new text lacks go, those of the new
 * that the old lacked come.  Orders older than the index (migration 0013 lists them in
 * work_order_grams_todo) are indexed after start-up by a background thread in small
 * write jobs; until that list is empty the bigram paths fall back to the scan, so
 * answers are exact at every moment. */
#include "app.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "modules/work_order_internal.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- bigrams ---- */

/* A bigram as a number: the first code point in the high bits.  Two code points of
 * at most 21 bits each. */
typedef uint64_t gram_t;

static bool is_pg(struct gz_db *db)
{
	return strcmp(gz_db_backend(db), "postgresql") == 0;
}

/* The next code point of s at *i (advanced); a byte that starts no valid sequence is
 * taken as a code point of its own, so that decoding always moves on. */
static uint32_t next_cp(const unsigned char *s, size_t n, size_t *i)
{
	unsigned c = s[*i];
	size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
	if (len <= 1 || *i + len > n) {
		(*i)++;
		return c;
	}
	uint32_t cp = c & (0x7f >> len);
	for (size_t k = 1; k < len; k++) {
		if ((s[*i + k] & 0xc0) != 0x80) {
			(*i)++;
			return c;
		}
		cp = (cp << 6) | (s[*i + k] & 0x3f);
	}
	*i += len;
	return cp;
}

static uint32_t fold(uint32_t cp)
{
	return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
}

/* Writes a bigram as UTF-8 into out (at least 9 bytes). */
static void gram_text(gram_t g, char *out)
{
	uint32_t cps[2] = {(uint32_t)(g >> 21), (uint32_t)(g & 0x1fffff)};
	char *w = out;
	for (int k = 0; k < 2; k++) {
		uint32_t cp = cps[k];
		if (cp < 0x80) {
			*w++ = (char)cp;
		} else if (cp < 0x800) {
			*w++ = (char)(0xc0 | (cp >> 6));
			*w++ = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			*w++ = (char)(0xe0 | (cp >> 12));
			*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
			*w++ = (char)(0x80 | (cp & 0x3f));
		} else {
			*w++ = (char)(0xf0 | (cp >> 18));
			*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
			*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
			*w++ = (char)(0x80 | (cp & 0x3f));
		}
	}
	*w = 0;
}

/* A growing list of bigrams (malloc'd; the writer thread has no request arena). */
struct grams {
	gram_t *v;
	size_t n, cap;
};

static void grams_add(struct grams *g, gram_t x)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->v = gz_xrealloc(g->v, g->cap * sizeof(*g->v));
	}
	g->v[g->n++] = x;
}

/* Appends the bigrams of text (folded, not yet distinct). */
static void grams_of(struct grams *g, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), i = 0;
	if (n == 0)
		return;
	uint32_t prev = fold(next_cp(s, n, &i));
	while (i < n) {
		uint32_t cp = fold(next_cp(s, n, &i));
		grams_add(g, ((gram_t)prev << 21) | cp);
		prev = cp;
	}
}

static int gram_cmp(const void *a, const void *b)
{
	gram_t x = *(const gram_t *)a, y = *(const gram_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts and drops duplicates. */
static void grams_distinct(struct grams *g)
{
	if (g->n < 2)
		return;
	qsort(g->v, g->n, sizeof(*g->v), gram_cmp);
	size_t w = 1;
	for (size_t i = 1; i < g->n; i++)
		if (g->v[i] != g->v[w - 1])
			g->v[w++] = g->v[i];
	g->n = w;
}

static bool grams_has(const struct grams *g, gram_t x)
{
	return g->n && bsearch(&x, g->v, g->n, sizeof(*g->v), gram_cmp) != NULL;
}

/* The distinct bigrams of an order's three texts. */
static void order_grams(struct grams *g, const char *title, const char *description,
                        const char *address)
{
	g->n = 0;
	grams_of(g, title);
	grams_of(g, description);
	grams_of(g, address);
	grams_distinct(g);
}

/* Postings to add or remove: (bigram, order), sorted by bigram before they are
 * written so that consecutive statements touch the same pages of the index. */
struct posting {
	gram_t gram;
	int64_t id;
};
struct postings {
	struct posting *v;
	size_t n, cap;
};

static void postings_add(struct postings *p, gram_t gram, int64_t id)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 256;
		p->v = gz_xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n].gram = gram;
	p->v[p->n++].id = id;
}

static int posting_cmp(const void *a, const void *b)
{
	const struct posting *x = a, *y = b;
	if (x->gram != y->gram)
		return x->gram < y->gram ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Writes the postings CHUNK at a time: head, "(?, ?)" per posting joined by ", ",
 * tail — one statement (one round trip on PostgreSQL) for CHUNK postings; a batch of
 * 30 orders has some 1,500. */
enum { CHUNK = 200 };

static int postings_write(struct gz_conn *c, struct postings *p, const char *head, const char *tail,
                          struct gz_err *err)
{
	if (p->n == 0)
		return 0;
	qsort(p->v, p->n, sizeof(*p->v), posting_cmp);
	for (size_t i = 0; i < p->n; i += CHUNK) {
		size_t k = p->n - i < CHUNK ? p->n - i : CHUNK;
		struct gz_buf q = GZ_BUF_INIT;
		gz_buf_adds(&q, head);
		for (size_t j = 0; j < k; j++)
			gz_buf_adds(&q, j ? ", (?, ?)" : "(?, ?)");
		gz_buf_adds(&q, tail);
		struct gz_stmt *s = gz_stmt(c, gz_buf_str(&q), err);
		gz_buf_release(&q);
		if (!s)
			return -1;
		for (size_t j = 0; j < k; j++) {
			char text[9];
			gram_text(p->v[i + j].gram, text);
			gz_bind_text(s, (int)(2 * j + 1), text);
			gz_bind_i64(s, (int)(2 * j + 2), p->v[i + j].id);
		}
		int rc = gz_step_deferred(s, err);
		gz_stmt_done(s);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static const char insert_head[] = "INSERT INTO work_order_grams (gram, order_id) VALUES ";
static const char insert_tail[] = " ON CONFLICT (gram, order_id) DO NOTHING";
static const char delete_head[] = "DELETE FROM work_order_grams WHERE (gram, order_id) IN (";
static const char delete_tail[] = ")";

/* SQLite: an order's bigrams as one document of the FTS5 table work_orders_bigrams,
 * one token per bigram: its two code points as 6 hex digits each ("004e0a00753a"),
 * which the 'ascii' tokenizer keeps whole.  Malloc'd. */
static char *grams_document(const struct grams *g)
{
	char *doc = gz_xmalloc(g->n * 13 + 1), *w = doc;
	for (size_t i = 0; i < g->n; i++)
		w += sprintf(w, "%s%06x%06x", i ? " " : "", (unsigned)(g->v[i] >> 21),
		             (unsigned)(g->v[i] & 0x1fffff));
	*w = 0;
	return doc;
}

/* The FTS5 query of one bigram: the token as a phrase. */
static char *gram_query(struct gz_arena *a, gram_t g)
{
	return gz_sprintf(a, "\"%06x%06x\"", (unsigned)(g >> 21), (unsigned)(g & 0x1fffff));
}

/* SQLite: writes (or, delete true, takes out) an order's document. */
static int document_write(struct gz_conn *c, int64_t id, const char *doc, bool delete,
                          struct gz_err *err)
{
	struct gz_stmt *s =
	    gz_stmt(c,
	            delete ? "INSERT INTO work_orders_bigrams (work_orders_bigrams, "
	                     "rowid, grams) VALUES ('delete', ?, ?)"
	                   : "INSERT INTO work_orders_bigrams (rowid, grams) "
	                     "VALUES (?, ?)",
	            err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, id);
	gz_bind_text(s, 2, doc);
	int rc = gz_step(s, err);
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
}

/* SQLite: the documents to write at the end of a batch. */
struct doc_change {
	int64_t id;
	char *old, *now; /* old NULL: nothing to take out */
};

/* ---- the index upkeep ---- */

/* The bigram part of the batch-end sync: from the pending table (the orders this
 * batch inserted, indexed 0, or changed the text of, indexed 1 with the text before
 * the batch), the postings that changed. */
static int grams_sync(struct gz_conn *c, bool pg, const char *pending, struct gz_err *err)
{
	char sql[640];
	/* the pending rows drive the join (see gz_wo_search_sync); an order still on the
	 * backfill's list is not in the index yet: the backfill takes its text then */
	snprintf(sql, sizeof(sql),
	         "SELECT p.id, p.indexed, coalesce(p.title, ''), coalesce(p.description, ''), "
	         "coalesce(p.address, ''), coalesce(w.title, ''), coalesce(w.description, ''), "
	         "coalesce(w.address, ''), CASE WHEN EXISTS (SELECT 1 FROM "
	         "work_order_grams_todo d WHERE d.id = p.id) THEN 1 ELSE 0 END FROM %s p "
	         "LEFT JOIN work_orders w ON w.id = p.id ORDER BY p.id",
	         pending);
	struct gz_stmt *s = gz_stmt(c, sql, err);
	if (!s)
		return -1;
	struct grams old = {0}, now = {0};
	struct postings add = {0}, del = {0};
	struct doc_change *docs = NULL;
	size_t ndocs = 0, capdocs = 0;
	int rc;
	while ((rc = gz_step(s, err)) == 1) {
		int64_t id = gz_col_i64(s, 0);
		/* SQLite: the backfill writes the document (one only: FTS5 does not
		 * check); PostgreSQL: the postings may be written twice (ON CONFLICT), and
		 * another node's backfill may be reading the old text right now */
		if (!pg && gz_col_i64(s, 8))
			continue;
		if (gz_col_i64(s, 1))
			order_grams(&old, gz_col_text(s, 2), gz_col_text(s, 3), gz_col_text(s, 4));
		else
			old.n = 0;
		order_grams(&now, gz_col_text(s, 5), gz_col_text(s, 6), gz_col_text(s, 7));
		if (!pg) {
			if (ndocs == capdocs) {
				capdocs = capdocs ? capdocs * 2 : 64;
				docs = gz_xrealloc(docs, capdocs * sizeof(*docs));
			}
			docs[ndocs].id = id;
			docs[ndocs].old = gz_col_i64(s, 1) ? grams_document(&old) : NULL;
			docs[ndocs++].now = grams_document(&now);
			continue;
		}
		for (size_t i = 0; i < old.n; i++)
			if (!grams_has(&now, old.v[i]))
				postings_add(&del, old.v[i], id);
		for (size_t i = 0; i < now.n; i++)
			if (!grams_has(&old, now.v[i]))
				postings_add(&add, now.v[i], id);
	}
	gz_stmt_done(s);
	if (rc == 0)
		rc = postings_write(c, &del, delete_head, delete_tail, err) ||
		             postings_write(c, &add, insert_head, insert_tail, err)
		         ? -1
		         : 0;
	for (size_t i = 0; i < ndocs; i++) {
		if (rc == 0 && docs[i].old && document_write(c, docs[i].id, docs[i].old, true, err))
			rc = -1;
		if (rc == 0 && document_write(c, docs[i].id, docs[i].now, false, err))
			rc = -1;
		free(docs[i].old);
		free(docs[i].now);
	}
	free(docs);
	free(old.v);
	free(now.v);
	free(add.v);
	free(del.v);
	return rc;
}

/* SQLite: the FTS5 part, from the same pending table (migration 0003 says why):
 * out with the text an order had in the index, in with the text it has now.  One FTS5
 * segment per batch instead of one per order. */
static int fts_sync(struct gz_conn *c, struct gz_err *err)
{
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
	                            "")
	           ? -1
	           : 0;
}

/* Brings the search indexes up to date with the orders the batch changed, before it
 * commits, in the same transaction: readers never see an order without its entries.
 * ctx is the database (for its backend). */
int gz_wo_search_sync(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	bool pg = is_pg(ctx);
	/* SQLite: migration 0003's table serves both indexes; PostgreSQL: 0013's */
	const char *pending = pg ? "work_order_grams_pending" : "work_orders_fts_pending";
	int64_t any = 0;
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT CASE WHEN EXISTS (SELECT 1 FROM %s) THEN 1 ELSE 0 END",
	         pending);
	if (gz_query_i64(c, err, &any, sql, "") < 0)
		return -1;
	if (!any)
		return 0;
	if (grams_sync(c, pg, pending, err) || (!pg && fts_sync(c, err)))
		return -1;
	snprintf(sql, sizeof(sql), "DELETE FROM %s", pending);
	return gz_exec_args(c, err, sql, "");
}

/* ---- the backfill of orders older than the bigram index ---- */

/* orders per write job: about 50 bigrams each, a few ms of the writer's time */
#define BACKFILL_CHUNK 500

/* Set once work_order_grams_todo was seen empty: nothing refills it while the
 * process runs (only migration 0013, or a tool writing the file before start). */
static atomic_bool grams_complete;

static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	bool running, stop;
	struct gz_db *db;
} backfill = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct chunk_job {
	bool pg;
	int64_t orders, grams; /* out: what this job indexed */
};

/* One write job: indexes the first orders of the todo list and takes them off it. */
static int backfill_chunk(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct chunk_job *j = ctx;
	j->orders = j->grams = 0;
	struct gz_stmt *s =
	    gz_stmt(c,
	            "SELECT d.id, coalesce(w.title, ''), coalesce(w.description, ''), "
	            "coalesce(w.address, '') FROM work_order_grams_todo d "
	            "LEFT JOIN work_orders w ON w.id = d.id ORDER BY d.id LIMIT 500",
	            err);
	if (!s)
		return -1;
	struct grams g = {0};
	struct postings add = {0};
	struct doc_change *docs = gz_xcalloc(BACKFILL_CHUNK, sizeof(*docs));
	size_t ndocs = 0;
	int64_t last = 0;
	int rc;
	while ((rc = gz_step(s, err)) == 1) {
		last = gz_col_i64(s, 0);
		order_grams(&g, gz_col_text(s, 1), gz_col_text(s, 2), gz_col_text(s, 3));
		j->grams += (int64_t)g.n;
		if (j->pg) {
			for (size_t i = 0; i < g.n; i++)
				postings_add(&add, g.v[i], last);
		} else if (ndocs < BACKFILL_CHUNK) {
			docs[ndocs].id = last;
			docs[ndocs++].now = grams_document(&g);
		}
		j->orders++;
	}
	gz_stmt_done(s);
	/* PostgreSQL, ON CONFLICT: an order changed since 0013 was indexed by the batch
	 * sync already */
	if (rc == 0 && j->orders)
		rc = postings_write(c, &add, insert_head, insert_tail, err);
	for (size_t i = 0; i < ndocs; i++) {
		if (rc == 0 && document_write(c, docs[i].id, docs[i].now, false, err))
			rc = -1;
		free(docs[i].now);
	}
	if (rc == 0 && j->orders &&
	    gz_exec_args(c, err, "DELETE FROM work_order_grams_todo WHERE id <= ?", "i", last))
		rc = -1;
	free(docs);
	free(g.v);
	free(add.v);
	return rc;
}

static bool backfill_stopping(void)
{
	pthread_mutex_lock(&backfill.lock);
	bool stop = backfill.stop;
	pthread_mutex_unlock(&backfill.lock);
	return stop;
}

static void *backfill_main(void *arg)
{
	(void)arg;
	int64_t orders = 0, grams = 0, t0 = gz_now_ms(), next_log = 100000;
	struct gz_err err;
	while (!backfill_stopping()) {
		struct chunk_job j = {.pg = is_pg(backfill.db)};
		if (gz_db_write(backfill.db, backfill_chunk, &j, &err)) {
			gz_warn("search index: backfill stopped after %lld orders: %s",
			        (long long)orders, err.message);
			return NULL;
		}
		if (j.orders == 0) {
			atomic_store(&grams_complete, true);
			if (orders)
				gz_info(
				    "search index: bigrams of %lld orders written (%lld bigrams) "
				    "in %.1f s",
				    (long long)orders, (long long)grams,
				    (double)(gz_now_ms() - t0) / 1000.0);
			return NULL;
		}
		orders += j.orders;
		grams += j.grams;
		if (orders >= next_log) {
			gz_info("search index: bigrams of %lld orders written so far",
			        (long long)orders);
			next_log += 100000;
		}
	}
	return NULL;
}

int gz_wo_search_after_copy(struct gz_conn *c, struct gz_err *err)
{
	return gz_exec_args(c, err,
	                    "INSERT INTO work_order_grams_todo (id) SELECT id FROM work_orders "
	                    "ON CONFLICT DO NOTHING",
	                    "");
}

int gz_wo_search_start(struct gz_app *app, struct gz_err *err)
{
	int64_t todo = 0;
	struct gz_conn *c = gz_db_reader(app->db);
	int rc = gz_query_i64(c, err, &todo, "SELECT count(*) FROM work_order_grams_todo", "");
	gz_db_reader_done(app->db, c);
	if (rc < 0)
		return -1;
	if (todo == 0) {
		atomic_store(&grams_complete, true);
		return 0;
	}
	gz_info("search index: %lld orders to add to the bigram index; 2-character searches "
	        "scan the orders until then",
	        (long long)todo);
	backfill.db = app->db;
	backfill.stop = false;
	if (pthread_create(&backfill.thread, NULL, backfill_main, NULL))
		return gz_fail(err, GZ_E_INTERNAL, "cannot start the search index backfill");
	backfill.running = true;
	return 0;
}

void gz_wo_search_stop(struct gz_app *app)
{
	(void)app;
	if (!backfill.running)
		return;
	pthread_mutex_lock(&backfill.lock);
	backfill.stop = true;
	pthread_mutex_unlock(&backfill.lock);
	pthread_join(backfill.thread, NULL);
	backfill.running = false;
}

/* Whether the bigram index holds every order (else its users scan). */
static int grams_ready(struct gz_req *r, bool *ready, struct gz_err *err)
{
	if (atomic_load(&grams_complete)) {
		*ready = true;
		return 0;
	}
	int64_t any = 0;
	struct gz_conn *c = gz_db_reader(r->app->db);
	int rc = gz_query_i64(
	    c, err, &any,
	    "SELECT CASE WHEN EXISTS (SELECT 1 FROM work_order_grams_todo) THEN 1 ELSE 0 END", "");
	gz_db_reader_done(r->app->db, c);
	if (rc < 0)
		return -1;
	*ready = !any;
	if (*ready)
		atomic_store(&grams_complete, true);
	return 0;
}

/* ---- the filter ---- */

/* Puts text parameters before the others: those of a driving join, which precedes
 * the WHERE in every statement built from the list options (gz_list_opts). */
static void args_prepend_text(struct gz_args *a, const char *const *v, int m)
{
	if (a->n + m > GZ_ARGS_MAX) {
		a->overflow = true;
		return;
	}
	memmove(&a->v[m], &a->v[0], (size_t)a->n * sizeof(a->v[0]));
	for (int k = 0; k < m; k++) {
		memset(&a->v[k], 0, sizeof(a->v[k]));
		a->v[k].type = 't';
		a->v[k].t = v[k];
	}
	a->n += m;
}

/* the newest orders a 2-character query reads to decide between scan and index */
#define DENSE_PROBE 64

/* "GZ" (any case) and digits only */
static bool number_shaped(const char *q)
{
	if ((q[0] != 'G' && q[0] != 'g') || (q[1] != 'Z' && q[1] != 'z') || !q[2])
		return false;
	for (const char *p = q + 2; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* The exact test of the match (the head of this file), three parameters.  SQLite:
 * LIKE folds ASCII letters only (no ICU), exactly the definition, and reads a row
 * faster than instr(lower(…)), which copies each text; the parameter is the LIKE
 * pattern.  PostgreSQL: gz_contains_ascii_ci() of migration 0013 (strpos in
 * lower(hay COLLATE "C"), which folds ASCII only, where lower() and ILIKE fold every
 * script); the parameter is q folded.  A function declared costly, so that the
 * planner tests the candidates the index yields, not every order: with the
 * expression inline it verified all 125k orders in a sequential scan and hashed them
 * (11 s for "电梯故障"; 9 ms as it is). */
static const char verify_sqlite[] =
    "(t.title LIKE ? ESCAPE '\\' OR t.description LIKE ? ESCAPE '\\' OR "
    "coalesce(t.address, '') LIKE ? ESCAPE '\\')";
static const char verify_pg[] =
    "(gz_contains_ascii_ci(t.title, ?) OR gz_contains_ascii_ci(t.description, ?) OR "
    "gz_contains_ascii_ci(coalesce(t.address, ''), ?))";

/* q as a LIKE pattern: %q%, with %, _ and \ taken literally */
static char *like_pattern(struct gz_arena *a, const char *q)
{
	char *pat = gz_alloc(a, strlen(q) * 2 + 3), *w = pat;
	*w++ = '%';
	for (const char *p = q; *p; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			*w++ = '\\';
		*w++ = *p;
	}
	*w++ = '%';
	*w = 0;
	return pat;
}

int gz_wo_search_filter(struct gz_req *r, const char *value, struct gz_buf *where,
                        struct gz_args *args, struct gz_list_opts *o, struct gz_err *err)
{
	size_t len = strlen(value);
	if (!gz_utf8_valid(value, len))
		return gz_fail_field(err, GZ_E_VALIDATION, "q", "q must be UTF-8 text");
	size_t n = gz_utf8_len(value);
	if (n == 0 || n > 100)
		return gz_fail_field(err, GZ_E_VALIDATION, "q", "q must have 1 to 100 characters");
	if (number_shaped(value)) {
		char *num = gz_strdup(&r->arena, value);
		num[0] = 'G';
		num[1] = 'Z';
		gz_buf_adds(where, " AND t.number = ?");
		gz_args_text(args, num);
		return 0;
	}
	bool pg = is_pg(r->app->db);
	char *folded = gz_strdup(&r->arena, value);
	for (char *p = folded; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);

	/* an exact external id turns the driving index into one alternative of two */
	int64_t external = 0;
	struct gz_conn *c = gz_db_reader(r->app->db);
	int rc = gz_query_i64(
	    c, err, &external,
	    "SELECT CASE WHEN EXISTS (SELECT 1 FROM work_orders WHERE external_id = ?) "
	    "THEN 1 ELSE 0 END",
	    "t", value);
	gz_db_reader_done(r->app->db, c);
	if (rc < 0)
		return -1;
	/* ready: the bigram index serves this query (complete, and not a dense pair) */
	bool ready = true;
	if (n == 2 || (n >= 3 && pg))
		if (grams_ready(r, &ready, err))
			return -1;
	const char *test = pg ? folded : like_pattern(&r->arena, value);
	/* A pair that many of the newest orders hold is found faster by the scan, which
	 * stops after a page, than through its long posting (FTS5 reads a posting of
	 * 100k orders whole to walk it backwards: "st" on the Boston data, 1,028 req/s
	 * against the scan's 2,170).  Both give the same answer. */
	if (n == 2 && ready && !external) {
		int64_t dense = 0;
		struct gz_conn *pc = gz_db_reader(r->app->db);
		rc = gz_query_i64(pc, err, &dense,
		                  gz_sprintf(&r->arena,
		                             "SELECT count(*) FROM (SELECT title, description, "
		                             "address FROM work_orders ORDER BY id DESC LIMIT "
		                             "%d) t WHERE %s",
		                             DENSE_PROBE, pg ? verify_pg : verify_sqlite),
		                  "ttt", test, test, test);
		gz_db_reader_done(r->app->db, pc);
		if (rc < 0)
			return -1;
		if (dense >= DENSE_PROBE / 8)
			ready = false;
	}

	/* the candidates: a driving join (yields the matches newest first, so a page
	 * needs no list of every match: 60k ids for a common term) or a condition */
	struct gz_buf cand = GZ_BUF_INIT;
	const char *cand_args[3] = {NULL};
	int ncand = 0;
	if (n == 2 && ready && !pg) {
		/* SQLite: the FTS5 table of bigram documents, walked newest first */
		struct grams g = {0};
		grams_of(&g, folded);
		cand_args[ncand++] = gram_query(&r->arena, g.v[0]);
		free(g.v);
		if (external) {
			gz_buf_adds(&cand, "t.id IN (SELECT rowid FROM work_orders_bigrams WHERE "
			                   "work_orders_bigrams MATCH ?)");
		} else {
			o->join = " JOIN work_orders_bigrams b ON b.rowid = t.id";
			o->order_col = "b.rowid";
			gz_buf_adds(&cand, "b.work_orders_bigrams MATCH ?");
		}
	} else if (n == 2 && ready) {
		struct grams g = {0};
		grams_of(&g, folded);
		char *text = gz_alloc(&r->arena, 9);
		gram_text(g.v[0], text);
		free(g.v);
		cand_args[ncand++] = text;
		if (external) {
			gz_buf_adds(
			    &cand,
			    "t.id IN (SELECT order_id FROM work_order_grams WHERE gram = ?)");
		} else {
			/* PostgreSQL: "+ 0" keeps the posting as the outer loop; on t.id
			 * itself the planner merge-joined with every order, newest first,
			 * verifying each (0.6 s for an absent pair at 125k orders) */
			o->join = " JOIN work_order_grams g ON t.id = g.order_id + 0";
			o->order_col = "g.order_id";
			gz_buf_adds(&cand, "g.gram = ?");
		}
	} else if (n >= 3 && !pg) {
		/* one FTS5 phrase: every character literal, quotes doubled */
		struct gz_buf phrase = GZ_BUF_INIT;
		gz_buf_addc(&phrase, '"');
		for (const char *p = value; *p; p++) {
			if (*p == '"')
				gz_buf_addc(&phrase, '"');
			gz_buf_addc(&phrase, *p);
		}
		gz_buf_addc(&phrase, '"');
		cand_args[ncand++] = gz_strdup(&r->arena, phrase.data);
		gz_buf_release(&phrase);
		if (external) {
			gz_buf_adds(&cand, "t.id IN (SELECT rowid FROM work_orders_fts WHERE "
			                   "work_orders_fts MATCH ?)");
		} else {
			o->join = " JOIN work_orders_fts f ON f.rowid = t.id";
			o->order_col = "f.rowid";
			gz_buf_adds(&cand, "f.work_orders_fts MATCH ?");
		}
	} else if (n >= 3 && ready) {
		/* PostgreSQL: the orders holding the first, the middle and the last bigram.
		 * As a derived table that drives the join: the intersection is made from
		 * the postings alone before any order is read.  With "t.id IN (…)" in the
		 * WHERE the planner walked the orders newest first and verified each
		 * (4.9 s for "bicycle" at 125k orders), or verified 45k rows before it
		 * applied the third posting (2.3 s for "boston ma"). */
		struct grams g = {0};
		grams_of(&g, folded);
		size_t pick[3] = {0, (g.n - 1) / 2, g.n - 1};
		struct gz_buf sub = GZ_BUF_INIT;
		const char *sub_args[3];
		int nsub = 0;
		for (int k = 0; k < 3; k++) {
			bool dup = false;
			for (int m = 0; m < k; m++)
				dup = dup || g.v[pick[m]] == g.v[pick[k]];
			if (dup)
				continue;
			char *text = gz_alloc(&r->arena, 9);
			gram_text(g.v[pick[k]], text);
			if (nsub)
				gz_buf_adds(&sub, " INTERSECT ");
			gz_buf_adds(&sub, "SELECT order_id FROM work_order_grams WHERE gram = ?");
			sub_args[nsub++] = text;
		}
		free(g.v);
		if (external) {
			gz_buf_addf(&cand, "t.id IN (%s)", sub.data);
			for (int k = 0; k < nsub; k++)
				cand_args[ncand++] = sub_args[k];
		} else {
			o->join = gz_sprintf(&r->arena, " JOIN (%s) g ON t.id = g.order_id + 0",
			                     sub.data);
			o->order_col = "g.order_id";
			args_prepend_text(args, sub_args, nsub);
		}
		gz_buf_release(&sub);
	}
	/* else: 1 character, or the bigram index still being filled: a scan */

	gz_buf_adds(where, " AND ");
	if (external) {
		gz_buf_adds(where, "(t.external_id = ? OR ");
		gz_args_text(args, value);
	}
	if (ncand) {
		gz_buf_addf(where, "(%s AND ", cand.data);
		for (int k = 0; k < ncand; k++)
			gz_args_text(args, cand_args[k]);
	}
	gz_buf_adds(where, pg ? verify_pg : verify_sqlite);
	for (int k = 0; k < 3; k++)
		gz_args_text(args, test);
	if (ncand)
		gz_buf_adds(where, ")");
	if (external)
		gz_buf_adds(where, ")");
	gz_buf_release(&cand);
	return 0;
}
