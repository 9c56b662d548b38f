/* audit.c - the append-only, keyed, anchored audit log.
 *
 * Each entry stores the hash of the previous entry and its own hash over prev_hash and
 * every field, so changing, removing or inserting an entry breaks the chain at that
 * point.  Since migration 4 the hash is an HMAC-SHA256 under the audit key, a file
 * outside the database (DATA_DIR/audit.key), over a message in which every field is
 * tagged and length-prefixed (NULL, 0 and "" all differ): whoever can write the
 * database but not read the key cannot recompute a rewritten suffix.  Entries written
 * before migration 4 (scheme 1: plain SHA-256, NULL ids hashed as 0) are verified the
 * old way, and only as a prefix of the chain; the first keyed entry's HMAC covers the
 * last old hash and with it the whole old prefix.
 *
 * Removing the last entries leaves a shorter chain that is valid in itself, so the head
 * (last id and hash) is checkpointed outside the database as well: after every commit
 * that appended entries the writer's commit hook notes the committed head, and a thread
 * of this file writes it, HMAC'd, to the head file (temp file, fsync, rename, fsync of
 * the directory) at most every CHECKPOINT_MS and at close, with a JSON log line per
 * checkpoint for an external log store.  gz_audit_verify() walks the chain and compares
 * its end with the head.  A head file that no longer matches the log is never written
 * over: the evidence stays until an operator re-anchors (gz_audit_anchor).
 *
 * Entries are appended inside the same write as the change they describe. */
#include "auth/auth.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/util.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

enum {
	SCHEME_PLAIN = 1,     /* before migration 4: SHA-256, NULL ids as 0 */
	SCHEME_KEYED = 2,     /* HMAC-SHA256 under the audit key, tagged fields */
	KEYED_SCHEMA = 4,     /* the migration that added audit_log.scheme */
	CHECKPOINT_MS = 1000, /* 2 fsyncs a second at most beside the commits' */
};

/* ---- the hashed messages ---- */

static void legacy_hash(int64_t id, int64_t at, int64_t actor_id, const char *actor,
                        const char *action, const char *otype, int64_t oid, const char *summary,
                        const char *client, const char *prev, char out[GZ_SHA256_HEX])
{
	struct gz_buf b = GZ_BUF_INIT;
	gz_buf_addf(&b, "%s\n%lld\n%lld\n%lld\n", prev, (long long)id, (long long)at,
	            (long long)actor_id);
	gz_buf_adds(&b, actor);
	gz_buf_addc(&b, '\n');
	gz_buf_adds(&b, action);
	gz_buf_addc(&b, '\n');
	gz_buf_adds(&b, otype);
	gz_buf_addf(&b, "\n%lld\n", (long long)oid);
	gz_buf_adds(&b, summary);
	gz_buf_addc(&b, '\n');
	gz_buf_adds(&b, client ? client : "");
	gz_sha256_hex(b.data, b.len, out);
	gz_buf_release(&b);
}

/* Field encodings of the keyed messages: 'N' for NULL; 'I' and 8 bytes big-endian for
 * an integer; 'T', 4 bytes big-endian length and the bytes for a text.  The fields come
 * in a fixed order, so two different rows never give the same message. */
static void put_u64(struct gz_buf *b, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--)
		gz_buf_addc(b, (char)(v >> (8 * i) & 0xff));
}

static void put_int(struct gz_buf *b, int64_t v)
{
	gz_buf_addc(b, 'I');
	put_u64(b, (uint64_t)v, 8);
}

static void put_opt_int(struct gz_buf *b, bool null, int64_t v)
{
	if (null)
		gz_buf_addc(b, 'N');
	else
		put_int(b, v);
}

static void put_text(struct gz_buf *b, const char *s)
{
	if (!s) {
		gz_buf_addc(b, 'N');
		return;
	}
	size_t n = strlen(s);
	gz_buf_addc(b, 'T');
	put_u64(b, n, 4);
	gz_buf_add(b, s, n);
}

/* One stored entry, columns as they are (NULL kept). */
struct row {
	int64_t id, at;
	bool actor_id_null;
	int64_t actor_id;
	const char *actor, *action, *object_type;
	bool object_id_null;
	int64_t object_id;
	const char *summary;
	const char *client; /* NULL when NULL */
	int64_t scheme;
	const char *prev_hash, *hash;
};

static void keyed_hash(const uint8_t key[GZ_KEY_BYTES], const struct row *r,
                       char out[GZ_SHA256_HEX])
{
	struct gz_buf b = GZ_BUF_INIT;
	gz_buf_add(&b, "gongzhi-audit-entry-v2", sizeof("gongzhi-audit-entry-v2"));
	put_int(&b, r->scheme);
	put_int(&b, r->id);
	put_int(&b, r->at);
	put_opt_int(&b, r->actor_id_null, r->actor_id);
	put_text(&b, r->actor);
	put_text(&b, r->action);
	put_text(&b, r->object_type);
	put_opt_int(&b, r->object_id_null, r->object_id);
	put_text(&b, r->summary);
	put_text(&b, r->client);
	put_text(&b, r->prev_hash);
	gz_hmac_sha256_hex(key, b.data, b.len, out);
	gz_buf_release(&b);
}

static void head_mac(const uint8_t key[GZ_KEY_BYTES], const struct gz_audit_head *h,
                     char out[GZ_SHA256_HEX])
{
	struct gz_buf b = GZ_BUF_INIT;
	gz_buf_add(&b, "gongzhi-audit-head-v1", sizeof("gongzhi-audit-head-v1"));
	put_int(&b, h->id);
	put_text(&b, h->hash);
	put_int(&b, h->at);
	gz_hmac_sha256_hex(key, b.data, b.len, out);
	gz_buf_release(&b);
}

/* ---- the process's chain state ---- */

static struct {
	pthread_mutex_t lock; /* everything below but io */
	pthread_cond_t cond;  /* the checkpoint thread's wake-up */
	pthread_mutex_t io;   /* one writer of the head file at a time */
	bool open;
	uint8_t key[GZ_KEY_BYTES];
	char head_path[4096];
	bool appended;                /* writer thread only: an entry since the last commit */
	struct gz_audit_head written; /* the head file's checkpoint (id 0 and "" when none) */
	int64_t committed_id;         /* the last committed entry the commit hook saw */
	char committed_hash[GZ_SHA256_HEX];
	bool conflict; /* the head file does not match the log: write no checkpoint */
	bool stopping, running;
	pthread_t thread;
} A = {.lock = PTHREAD_MUTEX_INITIALIZER,
       .cond = PTHREAD_COND_INITIALIZER,
       .io = PTHREAD_MUTEX_INITIALIZER};

static void conflict_locked(const char *why)
{
	if (!A.conflict)
		gz_error("audit: %s; no checkpoint is written over %s until it is re-anchored "
		         "('gongzhi audit verify', then 'gongzhi audit anchor')",
		         why, A.head_path);
	A.conflict = true;
}

/* ---- the head file ---- */

/* 1 read and authentic, 0 missing, -1 unreadable or wrong MAC (why in msg). */
static int head_load(const uint8_t key[GZ_KEY_BYTES], const char *path, struct gz_audit_head *h,
                     char *msg, size_t msglen)
{
	memset(h, 0, sizeof(*h));
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(msg, msglen, "cannot read the head file %.200s", path);
		return -1;
	}
	char line[1024];
	size_t n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = 0;
	json_t *o = json_loads(line, 0, NULL);
	json_t *id = json_object_get(o, "id"), *hash = json_object_get(o, "hash"),
	       *at = json_object_get(o, "at_ms"), *mac = json_object_get(o, "mac");
	if (!json_is_integer(id) || !json_is_string(hash) || !json_is_integer(at) ||
	    !json_is_string(mac) || strlen(json_string_value(hash)) != GZ_SHA256_HEX - 1 ||
	    strlen(json_string_value(mac)) != GZ_SHA256_HEX - 1) {
		json_decref(o);
		snprintf(msg, msglen, "the head file %.200s is not a checkpoint", path);
		return -1;
	}
	h->id = json_integer_value(id);
	h->at = json_integer_value(at);
	snprintf(h->hash, sizeof(h->hash), "%s", json_string_value(hash));
	snprintf(h->mac, sizeof(h->mac), "%s", json_string_value(mac));
	json_decref(o);
	char want[GZ_SHA256_HEX];
	head_mac(key, h, want);
	if (!gz_str_equal_const(want, h->mac)) {
		snprintf(msg, msglen,
		         "the head file %.200s is not authentic (forged, or written under another "
		         "audit key)",
		         path);
		return -1;
	}
	return 1;
}

/* Writes h (mac computed here) atomically and durably, then logs the checkpoint. */
static int head_store_at(const char *path, struct gz_audit_head *h, const char *event,
                         struct gz_err *err);

static int head_store(struct gz_audit_head *h, const char *event, struct gz_err *err)
{
	return head_store_at(A.head_path, h, event, err);
}

static int head_store_at(const char *path, struct gz_audit_head *h, const char *event,
                         struct gz_err *err)
{
	h->at = gz_now_ms();
	head_mac(A.key, h, h->mac);
	char at[GZ_TIME_BUF];
	gz_time_format(h->at, at, sizeof(at));
	char text[512];
	int len = snprintf(text, sizeof(text),
	                   "{\"id\":%lld,\"hash\":\"%s\",\"at\":\"%s\",\"at_ms\":%lld,"
	                   "\"mac\":\"%s\"}\n",
	                   (long long)h->id, h->hash, at, (long long)h->at, h->mac);
	char tmp[4200];
	/* per process: a command line tool may checkpoint while the server does */
	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	pthread_mutex_lock(&A.io);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && write(fd, text, (size_t)len) == len && fsync(fd) == 0;
	if (fd >= 0 && close(fd))
		ok = false;
	ok = ok && rename(tmp, path) == 0;
	if (ok) {
		/* the rename itself must reach the disk */
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s", path);
		int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ok = dfd >= 0 && fsync(dfd) == 0;
		if (dfd >= 0)
			close(dfd);
	}
	pthread_mutex_unlock(&A.io);
	if (!ok) {
		gz_error("audit: cannot write the head file %s: %s", path, strerror(errno));
		return gz_fail(err, GZ_E_INTERNAL, "cannot write the audit head file %s", path);
	}
	char fields[400];
	snprintf(fields, sizeof(fields),
	         "\"level\":\"info\",\"msg\":\"audit checkpoint\",\"event\":\"%s\","
	         "\"id\":%lld,\"hash\":\"%s\",\"mac\":\"%s\"",
	         event, (long long)h->id, h->hash, h->mac);
	gz_log_raw(fields);
	return 0;
}

/* ---- the writer side ---- */

/* The chain's end as this writer's transaction last appended it: valid while the
 * transaction's serial stays the same (gz_conn_txn_serial: the write lock is held and
 * nothing it wrote has been rolled back), which saves PostgreSQL a round trip per entry. */
static _Thread_local struct {
	uint64_t serial;
	int64_t id;
	char hash[GZ_SHA256_HEX];
} tail;

static int last_entry(struct gz_conn *c, int64_t *id, char hash[GZ_SHA256_HEX], struct gz_err *err)
{
	uint64_t serial = gz_conn_txn_serial(c);
	if (serial && tail.serial == serial) {
		*id = tail.id;
		snprintf(hash, GZ_SHA256_HEX, "%s", tail.hash);
		return 0;
	}
	struct gz_stmt *s =
	    gz_stmt(c, "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1", err);
	if (!s)
		return -1;
	int rc = gz_step(s, err);
	*id = 0;
	snprintf(hash, GZ_SHA256_HEX, "%s", GENESIS);
	if (rc == 1) {
		*id = gz_col_i64(s, 0);
		snprintf(hash, GZ_SHA256_HEX, "%s", gz_col_text(s, 1));
	}
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
}

/* 1 when the entry id has hash, 0 when it has another or is missing, -1 error. */
static int entry_is(struct gz_conn *c, int64_t id, const char *hash, struct gz_err *err)
{
	if (id == 0)
		return 1;
	struct gz_stmt *s = gz_stmt(c, "SELECT hash FROM audit_log WHERE id = ?", err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, id);
	int rc = gz_step(s, err);
	int same = rc == 1 && strcmp(gz_col_text(s, 0), hash) == 0;
	gz_stmt_done(s);
	return rc < 0 ? -1 : same;
}

int gz_audit_append(struct gz_conn *c, const struct gz_audit *e, struct gz_err *err)
{
	if (!A.open)
		GZ_BUG("audit entry before gz_audit_open");
	char prev[GZ_SHA256_HEX];
	int64_t last_id;
	if (last_entry(c, &last_id, prev, err))
		return -1;
	struct row r = {
	    .id = last_id + 1,
	    .at = gz_now_ms(),
	    .actor_id_null = !e->actor || !e->actor->id,
	    .actor_id = e->actor ? e->actor->id : 0,
	    .actor = e->actor ? e->actor->username : "system",
	    .action = e->action,
	    .object_type = e->object_type,
	    .object_id_null = !e->object_id,
	    .object_id = e->object_id,
	    .summary = e->summary ? e->summary : "{}",
	    .client = e->client,
	    .scheme = SCHEME_KEYED,
	    .prev_hash = prev,
	};
	char hash[GZ_SHA256_HEX];
	keyed_hash(A.key, &r, hash);
	struct gz_stmt *s = gz_stmt(c,
	                            "INSERT INTO audit_log (id, at, actor_id, actor, action, "
	                            "object_type, object_id, summary, client, prev_hash, hash, "
	                            "scheme) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	                            err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, r.id);
	gz_bind_i64(s, 2, r.at);
	if (!r.actor_id_null)
		gz_bind_i64(s, 3, r.actor_id);
	gz_bind_text(s, 4, r.actor);
	gz_bind_text(s, 5, r.action);
	gz_bind_text(s, 6, r.object_type);
	if (!r.object_id_null)
		gz_bind_i64(s, 7, r.object_id);
	gz_bind_text(s, 8, r.summary);
	gz_bind_text(s, 9, r.client);
	gz_bind_text(s, 10, prev);
	gz_bind_text(s, 11, hash);
	gz_bind_i64(s, 12, r.scheme);
	int rc = gz_step_deferred(s, err);
	gz_stmt_done(s);
	if (rc < 0)
		return -1;
	A.appended = true;
	tail.serial = gz_conn_txn_serial(c);
	tail.id = r.id;
	snprintf(tail.hash, sizeof(tail.hash), "%s", hash);
	return 0;
}

/* The commit hook: notes the committed head and wakes the checkpoint thread.  Reads on
 * the writer connection after COMMIT, so what it sees is committed (and on disk with
 * synchronous=FULL); two point queries, no file I/O. */
static void on_commit(struct gz_conn *c, void *ctx)
{
	(void)ctx;
	if (!A.appended)
		return;
	A.appended = false;
	struct gz_err e;
	int64_t id;
	char hash[GZ_SHA256_HEX];
	if (last_entry(c, &id, hash, &e)) {
		gz_error("audit: cannot read the head: %s", e.message);
		return;
	}
	pthread_mutex_lock(&A.lock);
	struct gz_audit_head w = A.written;
	bool conflict = A.conflict;
	pthread_mutex_unlock(&A.lock);
	/* the checkpointed entry must still be there: the log is append-only */
	int same = conflict || id < w.id ? 0 : entry_is(c, w.id, w.hash, &e);
	pthread_mutex_lock(&A.lock);
	if (!conflict && same == 0)
		conflict_locked("the checkpointed head is no longer in the audit log");
	if (same >= 0 && id > A.committed_id) {
		A.committed_id = id;
		snprintf(A.committed_hash, sizeof(A.committed_hash), "%s", hash);
		pthread_cond_signal(&A.cond);
	}
	pthread_mutex_unlock(&A.lock);
}

static bool checkpoint_due_locked(void)
{
	return !A.conflict && A.committed_id > A.written.id;
}

static void timespec_in(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static void *checkpoint_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&A.lock);
	for (;;) {
		while (!A.stopping && !checkpoint_due_locked())
			pthread_cond_wait(&A.cond, &A.lock);
		if (A.stopping)
			break;
		struct gz_audit_head h = {.id = A.committed_id};
		snprintf(h.hash, sizeof(h.hash), "%s", A.committed_hash);
		pthread_mutex_unlock(&A.lock);
		struct gz_err e;
		int rc = head_store(&h, "audit_checkpoint", &e);
		pthread_mutex_lock(&A.lock);
		if (rc == 0 && !A.conflict && h.id > A.written.id)
			A.written = h;
		/* at most one checkpoint per CHECKPOINT_MS: commits go on meanwhile */
		struct timespec until;
		timespec_in(&until, CHECKPOINT_MS);
		while (!A.stopping && pthread_cond_timedwait(&A.cond, &A.lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&A.lock);
	return NULL;
}

/* Writes the committed head now when it is not checkpointed yet (the first keyed entry
 * must not wait for the thread: until a head exists, verify reports no_head). */
static int checkpoint_now(struct gz_err *err)
{
	pthread_mutex_lock(&A.lock);
	bool due = checkpoint_due_locked();
	struct gz_audit_head h = {.id = A.committed_id};
	snprintf(h.hash, sizeof(h.hash), "%s", A.committed_hash);
	pthread_mutex_unlock(&A.lock);
	if (!due)
		return 0;
	if (head_store(&h, "audit_checkpoint", err))
		return -1;
	pthread_mutex_lock(&A.lock);
	if (h.id > A.written.id)
		A.written = h;
	pthread_mutex_unlock(&A.lock);
	return 0;
}

struct seal_ctx {
	bool sealed;
};

static int seal_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct seal_ctx *sc = ctx;
	struct gz_stmt *s =
	    gz_stmt(c, "SELECT id, scheme FROM audit_log ORDER BY id DESC LIMIT 1", err);
	if (!s)
		return -1;
	int rc = gz_step(s, err);
	int64_t id = rc == 1 ? gz_col_i64(s, 0) : 0, scheme = rc == 1 ? gz_col_i64(s, 1) : 0;
	gz_stmt_done(s);
	if (rc < 0)
		return -1;
	if (rc == 0 || scheme != SCHEME_PLAIN)
		return 0;
	char summary[160];
	snprintf(summary, sizeof(summary),
	         "{\"reason\":\"keyed audit chain\",\"legacy_entries\":%lld}", (long long)id);
	struct gz_audit a = {NULL, "audit_rekey", "audit_log", id, summary, "gongzhi"};
	if (gz_audit_append(c, &a, err))
		return -1;
	sc->sealed = true;
	return 0;
}

int gz_audit_seal(struct gz_db *db, struct gz_err *err)
{
	int64_t v;
	if (gz_db_schema_version(db, &v, err))
		return -1;
	if (v < KEYED_SCHEMA)
		return 0;
	struct seal_ctx sc = {false};
	if (gz_db_write(db, seal_fn, &sc, err))
		return -1;
	if (!sc.sealed)
		return 0;
	gz_info("audit: the entries of the unkeyed scheme are sealed by a keyed entry");
	return checkpoint_now(err);
}

int gz_audit_open(struct gz_db *db, const char *key_path, const char *head_path, struct gz_err *err)
{
	if (A.open)
		GZ_BUG("gz_audit_open twice");
	int64_t v, keyed = 0;
	if (gz_db_schema_version(db, &v, err))
		return -1;
	if (v >= KEYED_SCHEMA) {
		struct gz_conn *c = gz_db_reader(db);
		int rc = gz_query_i64(c, err, &keyed,
		                      "SELECT count(*) FROM audit_log WHERE scheme = 2", "");
		gz_db_reader_done(db, c);
		if (rc < 0)
			return -1;
	}
	if (keyed > 0 && access(key_path, F_OK) != 0)
		return gz_fail(err, GZ_E_CONFLICT,
		               "the audit key %s is missing but the audit log has %lld keyed "
		               "entries: restore the key from its backup (a new key could not "
		               "verify them)",
		               key_path, (long long)keyed);
	if (gz_key_load(key_path, true, A.key, err))
		return -1;
	snprintf(A.head_path, sizeof(A.head_path), "%s", head_path);
	A.conflict = A.stopping = false;
	A.appended = false;
	A.committed_id = 0;
	A.committed_hash[0] = 0;
	char msg[320];
	int loaded = head_load(A.key, head_path, &A.written, msg, sizeof(msg));
	if (loaded < 0) {
		memset(&A.written, 0, sizeof(A.written));
		conflict_locked(msg);
	} else if (loaded == 0 && keyed > 0) {
		conflict_locked("the head file is missing but the log has keyed entries");
	} else if (loaded == 1 && v > 0) {
		struct gz_conn *c = gz_db_reader(db);
		int rc = entry_is(c, A.written.id, A.written.hash, err);
		gz_db_reader_done(db, c);
		if (rc < 0)
			return -1;
		if (rc == 0)
			conflict_locked("the head file names an entry the audit log does not have");
	}
	A.open = true;
	gz_db_on_commit(db, on_commit, NULL);
	if (pthread_create(&A.thread, NULL, checkpoint_main, NULL)) {
		A.open = false;
		return gz_fail(err, GZ_E_INTERNAL, "cannot start the audit checkpoint thread");
	}
	A.running = true;
	return gz_audit_seal(db, err);
}

void gz_audit_close(void)
{
	if (!A.open)
		return;
	pthread_mutex_lock(&A.lock);
	A.stopping = true;
	pthread_cond_signal(&A.cond);
	pthread_mutex_unlock(&A.lock);
	if (A.running)
		pthread_join(A.thread, NULL);
	A.running = false;
	/* the clean-shutdown checkpoint: every write has committed by now */
	if (checkpoint_due_locked()) {
		struct gz_audit_head h = {.id = A.committed_id};
		snprintf(h.hash, sizeof(h.hash), "%s", A.committed_hash);
		struct gz_err e;
		if (head_store(&h, "audit_checkpoint", &e) == 0)
			A.written = h;
	}
	A.open = false;
	memset(A.key, 0, sizeof(A.key));
}

/* ---- verification ---- */

struct walk {
	char prev[GZ_SHA256_HEX];
	int64_t expect_id; /* 0: the first entry (id 1, or the one after the export's start) */
	bool keyed_seen;
};

/* Checks one entry against the walk so far.  NULL when it fits, else the problem word
 * with a sentence in msg. */
static const char *check_row(struct walk *w, const uint8_t key[GZ_KEY_BYTES], const struct row *r,
                             char *msg, size_t n)
{
	if (r->id != w->expect_id) {
		if (r->id > w->expect_id)
			snprintf(msg, n,
			         "entry %lld follows entry %lld: entries %lld to %lld are missing",
			         (long long)r->id, (long long)w->expect_id - 1,
			         (long long)w->expect_id, (long long)r->id - 1);
		else
			snprintf(msg, n, "entry %lld is out of order (expected %lld)",
			         (long long)r->id, (long long)w->expect_id);
		return "gap";
	}
	if (strcmp(r->prev_hash, w->prev) != 0) {
		snprintf(msg, n, "entry %lld does not link to the entry before it",
		         (long long)r->id);
		return "link";
	}
	char h[GZ_SHA256_HEX];
	if (r->scheme == SCHEME_PLAIN) {
		if (w->keyed_seen) {
			snprintf(msg, n, "entry %lld is of the unkeyed scheme after keyed entries",
			         (long long)r->id);
			return "legacy_after_keyed";
		}
		legacy_hash(r->id, r->at, r->actor_id, r->actor, r->action, r->object_type,
		            r->object_id, r->summary, r->client, r->prev_hash, h);
	} else if (r->scheme == SCHEME_KEYED) {
		w->keyed_seen = true;
		keyed_hash(key, r, h);
	} else {
		snprintf(msg, n, "entry %lld has an unknown scheme %lld", (long long)r->id,
		         (long long)r->scheme);
		return "scheme";
	}
	if (!gz_str_equal_const(h, r->hash)) {
		snprintf(
		    msg, n,
		    "entry %lld does not match its hash%s: it was changed after it was written",
		    (long long)r->id, r->scheme == SCHEME_KEYED ? " under the audit key" : "");
		if (r->scheme == SCHEME_KEYED)
			snprintf(msg + strlen(msg), n - strlen(msg),
			         " (or the audit key is not the one it was written with)");
		return "changed";
	}
	snprintf(w->prev, sizeof(w->prev), "%s", r->hash);
	w->expect_id = r->id + 1;
	return NULL;
}

static void read_row(struct gz_stmt *s, struct row *r)
{
	r->id = gz_col_i64(s, 0);
	r->at = gz_col_i64(s, 1);
	r->actor_id_null = gz_col_null(s, 2);
	r->actor_id = gz_col_i64(s, 2);
	r->actor = gz_col_text(s, 3);
	r->action = gz_col_text(s, 4);
	r->object_type = gz_col_text(s, 5);
	r->object_id_null = gz_col_null(s, 6);
	r->object_id = gz_col_i64(s, 6);
	r->summary = gz_col_text(s, 7);
	r->client = gz_col_null(s, 8) ? NULL : gz_col_text(s, 8);
	r->prev_hash = gz_col_text(s, 9);
	r->hash = gz_col_text(s, 10);
	r->scheme = gz_col_i64(s, 11);
}

#define ROW_COLUMNS                                                                                \
	"id, at, actor_id, actor, action, object_type, object_id, summary, client, prev_hash, "    \
	"hash, scheme"

static void broken(struct gz_audit_report *rep, int64_t id, const char *problem)
{
	rep->broken_id = id;
	rep->problem = problem;
}

/* Walks the whole log; with_head compares it with the head file too. */
static int verify(struct gz_db *db, bool with_head, struct gz_audit_report *rep, struct gz_err *err)
{
	memset(rep, 0, sizeof(*rep));
	if (!A.open)
		GZ_BUG("audit verify before gz_audit_open");
	char head_msg[320] = "";
	int loaded = 0;
	if (with_head) {
		loaded = head_load(A.key, A.head_path, &rep->head, head_msg, sizeof(head_msg));
		rep->has_head = loaded == 1;
	}
	struct gz_conn *c = gz_db_reader(db);
	struct gz_stmt *s = gz_stmt(c, "SELECT " ROW_COLUMNS " FROM audit_log ORDER BY id", err);
	if (!s) {
		gz_db_reader_done(db, c);
		return -1;
	}
	struct walk w = {GENESIS, 1, false};
	int rc;
	int64_t keyed = 0;
	while ((rc = gz_step(s, err)) == 1) {
		struct row r;
		read_row(s, &r);
		rep->checked++;
		const char *p = check_row(&w, A.key, &r, rep->message, sizeof(rep->message));
		if (p) {
			broken(rep, r.id, p);
			break;
		}
		if (r.scheme == SCHEME_PLAIN)
			rep->legacy++;
		else
			keyed++;
		rep->last_id = r.id;
		if (rep->has_head && r.id == rep->head.id && strcmp(r.hash, rep->head.hash) != 0) {
			snprintf(rep->message, sizeof(rep->message),
			         "entry %lld is not the one checkpointed in %.200s: the log was "
			         "rewritten "
			         "from there",
			         (long long)r.id, A.head_path);
			broken(rep, r.id, "head_mismatch");
			break;
		}
	}
	gz_stmt_done(s);
	gz_db_reader_done(db, c);
	if (rc < 0)
		return -1;
	if (rep->problem)
		return 1;
	if (loaded < 0) {
		snprintf(rep->message, sizeof(rep->message), "%s", head_msg);
		broken(rep, 0, "head_forged");
		return 1;
	}
	if (rep->has_head) {
		if (rep->last_id < rep->head.id) {
			snprintf(rep->message, sizeof(rep->message),
			         "the log ends at entry %lld but %.120s checkpointed entry %lld: "
			         "entries "
			         "%lld to %lld were removed",
			         (long long)rep->last_id, A.head_path, (long long)rep->head.id,
			         (long long)rep->last_id + 1, (long long)rep->head.id);
			broken(rep, rep->last_id + 1, "truncated");
			return 1;
		}
		rep->unanchored = rep->last_id - rep->head.id;
	} else if (with_head && keyed > 0) {
		snprintf(rep->message, sizeof(rep->message),
		         "the head file %.200s is missing: whether entries after %lld were removed "
		         "cannot be told",
		         A.head_path, (long long)rep->last_id);
		broken(rep, 0, "no_head");
		return 1;
	} else {
		rep->unanchored = rep->last_id;
	}
	return 0;
}

/* The head a checkpoint of entry id holds (the genesis hash for an empty log). */
static int head_at(struct gz_db *db, int64_t id, struct gz_audit_head *h, struct gz_err *err)
{
	memset(h, 0, sizeof(*h));
	h->id = id;
	snprintf(h->hash, sizeof(h->hash), "%s", GENESIS);
	if (!id)
		return 0;
	struct gz_conn *c = gz_db_reader(db);
	struct gz_stmt *s = gz_stmt(c, "SELECT hash FROM audit_log WHERE id = ?", err);
	int rc = -1;
	if (s) {
		gz_bind_i64(s, 1, id);
		rc = gz_step(s, err);
		if (rc == 1)
			snprintf(h->hash, sizeof(h->hash), "%s", gz_col_text(s, 0));
		gz_stmt_done(s);
	}
	gz_db_reader_done(db, c);
	if (rc != 1)
		return rc < 0 ? -1
		              : gz_fail(err, GZ_E_CONFLICT, "entry %lld vanished", (long long)id);
	return 0;
}

int gz_audit_verify(struct gz_db *db, struct gz_audit_report *rep, struct gz_err *err)
{
	return verify(db, true, rep, err);
}

int gz_audit_verify_chain(struct gz_db *db, struct gz_audit_report *rep, struct gz_err *err)
{
	return verify(db, false, rep, err);
}

int gz_audit_anchor_copy(struct gz_db *db, const char *head_path, struct gz_audit_report *rep,
                         struct gz_err *err)
{
	if (verify(db, false, rep, err))
		return -1;
	if (rep->problem)
		return 1;
	struct gz_audit_head h;
	if (head_at(db, rep->last_id, &h, err))
		return -1;
	if (head_store_at(head_path, &h, "audit_checkpoint", err))
		return -1;
	rep->has_head = true;
	rep->head = h;
	rep->unanchored = 0;
	return 0;
}

json_t *gz_audit_report_json(const struct gz_audit_report *rep)
{
	json_t *head = json_null();
	if (rep->has_head) {
		char at[GZ_TIME_BUF];
		gz_time_format(rep->head.at, at, sizeof(at));
		head = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)rep->head.id, "hash",
		                 rep->head.hash, "at", at);
	}
	return json_pack("{s:b,s:I,s:o,s:o,s:o,s:I,s:I,s:o,s:I}", "holds", rep->problem == NULL,
	                 "checked", (json_int_t)rep->checked, "broken_id",
	                 rep->problem && rep->broken_id ? json_integer(rep->broken_id)
	                                                : json_null(),
	                 "problem", rep->problem ? json_string(rep->problem) : json_null(),
	                 "message", rep->problem ? json_string(rep->message) : json_null(),
	                 "last_id", (json_int_t)rep->last_id, "legacy", (json_int_t)rep->legacy,
	                 "head", head, "unanchored", (json_int_t)rep->unanchored);
}

int gz_audit_anchor(struct gz_db *db, const char *reason, struct gz_audit_report *rep,
                    struct gz_err *err)
{
	int64_t v;
	if (gz_db_schema_version(db, &v, err))
		return -1;
	/* a database from before the keyed scheme (a restored old backup): the head starts
	 * empty, and `gongzhi migrate` seals the old entries and checkpoints the seal */
	int rc = v < KEYED_SCHEMA ? (memset(rep, 0, sizeof(*rep)), 0) : verify(db, false, rep, err);
	if (rc)
		return rc;
	char old_msg[320];
	struct gz_audit_head old;
	int had = head_load(A.key, A.head_path, &old, old_msg, sizeof(old_msg));
	/* the last entry verified (a server may append meanwhile: those wait for the next
	 * checkpoint) */
	struct gz_audit_head h;
	if (head_at(db, rep->last_id, &h, err))
		return -1;
	char fields[600];
	snprintf(fields, sizeof(fields),
	         "\"level\":\"warn\",\"msg\":\"audit head re-anchored\",\"event\":"
	         "\"audit_reanchor\",\"reason\":\"%s\",\"old_id\":%lld,\"old_hash\":\"%s\","
	         "\"old_head\":\"%s\"",
	         reason, (long long)old.id, had == 1 ? old.hash : "",
	         had == 1   ? "authentic"
	         : had == 0 ? "missing"
	                    : "not authentic");
	gz_log_raw(fields);
	if (head_store(&h, "audit_checkpoint", err))
		return -1;
	pthread_mutex_lock(&A.lock);
	A.written = h;
	A.conflict = false;
	if (A.committed_id < h.id) {
		A.committed_id = h.id;
		snprintf(A.committed_hash, sizeof(A.committed_hash), "%s", h.hash);
	}
	pthread_mutex_unlock(&A.lock);
	rep->has_head = true;
	rep->head = h;
	rep->unanchored = 0;
	return 0;
}

/* ---- export ---- */

static json_t *jtext(const char *s)
{
	if (!s)
		return json_null();
	json_t *t = json_string(s);
	return t ? t : json_string_nocheck(s); /* not UTF-8: kept byte for byte */
}

static json_t *row_json(const struct row *r)
{
	char at[GZ_TIME_BUF];
	gz_time_format(r->at, at, sizeof(at));
	json_t *o = json_pack("{s:s,s:I,s:s,s:I}", "type", "entry", "id", (json_int_t)r->id, "at",
	                      at, "at_ms", (json_int_t)r->at);
	json_object_set_new(o, "actor_id",
	                    r->actor_id_null ? json_null() : json_integer(r->actor_id));
	json_object_set_new(o, "actor", jtext(r->actor));
	json_object_set_new(o, "action", jtext(r->action));
	json_object_set_new(o, "object_type", jtext(r->object_type));
	json_object_set_new(o, "object_id",
	                    r->object_id_null ? json_null() : json_integer(r->object_id));
	json_object_set_new(o, "summary", jtext(r->summary));
	json_object_set_new(o, "client", jtext(r->client));
	json_object_set_new(o, "scheme", json_integer(r->scheme));
	json_object_set_new(o, "prev_hash", jtext(r->prev_hash));
	json_object_set_new(o, "hash", jtext(r->hash));
	return o;
}

/* Reads an entry written by row_json; strings are borrowed from o.  false when a field
 * is missing or of the wrong type. */
static bool row_from_json(json_t *o, struct row *r)
{
	json_t *v[12];
	static const char *const names[] = {"id",     "at_ms",       "actor_id",  "actor",
	                                    "action", "object_type", "object_id", "summary",
	                                    "client", "scheme",      "prev_hash", "hash"};
	for (int i = 0; i < 12; i++)
		v[i] = json_object_get(o, names[i]);
	if (!json_is_integer(v[0]) || !json_is_integer(v[1]) || !json_is_integer(v[9]))
		return false;
	if (!(json_is_null(v[2]) || json_is_integer(v[2])) ||
	    !(json_is_null(v[6]) || json_is_integer(v[6])) ||
	    !(json_is_null(v[8]) || json_is_string(v[8])))
		return false;
	for (int i = 3; i <= 11; i++)
		if ((i == 3 || i == 4 || i == 5 || i == 7 || i == 10 || i == 11) &&
		    !json_is_string(v[i]))
			return false;
	*r = (struct row){
	    .id = json_integer_value(v[0]),
	    .at = json_integer_value(v[1]),
	    .actor_id_null = json_is_null(v[2]),
	    .actor_id = json_integer_value(v[2]),
	    .actor = json_string_value(v[3]),
	    .action = json_string_value(v[4]),
	    .object_type = json_string_value(v[5]),
	    .object_id_null = json_is_null(v[6]),
	    .object_id = json_integer_value(v[6]),
	    .summary = json_string_value(v[7]),
	    .client = json_is_null(v[8]) ? NULL : json_string_value(v[8]),
	    .scheme = json_integer_value(v[9]),
	    .prev_hash = json_string_value(v[10]),
	    .hash = json_string_value(v[11]),
	};
	if (r->actor_id_null)
		r->actor_id = 0;
	if (r->object_id_null)
		r->object_id = 0;
	return true;
}

/* The entry id as JSON (null when there is none). */
static json_t *entry_json(struct gz_conn *c, int64_t id, struct gz_err *err, int *rc)
{
	struct gz_stmt *s = gz_stmt(c, "SELECT " ROW_COLUMNS " FROM audit_log WHERE id = ?", err);
	if (!s) {
		*rc = -1;
		return NULL;
	}
	gz_bind_i64(s, 1, id);
	json_t *o = json_null();
	*rc = gz_step(s, err);
	if (*rc == 1) {
		struct row r;
		read_row(s, &r);
		json_decref(o);
		o = row_json(&r);
	}
	gz_stmt_done(s);
	return o;
}

static int put_line(FILE *out, json_t *o, struct gz_err *err)
{
	char *t = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	int ok = t && fputs(t, out) >= 0 && fputc('\n', out) != EOF;
	free(t);
	return ok ? 0 : gz_fail(err, GZ_E_INTERNAL, "cannot write the export");
}

int gz_audit_export(struct gz_db *db, int64_t from, int64_t to, FILE *out, int64_t *count,
                    struct gz_err *err)
{
	struct gz_audit_report rep;
	if (verify(db, true, &rep, err) < 0)
		return -1;
	*count = 0;
	struct gz_conn *c = gz_db_reader(db);
	/* the period as a run of consecutive ids: from the first entry at or after from to
	 * the last one before to, so that the slice has no holes even if the clock stepped */
	int64_t first = 0, last = 0, end = 0;
	int rc =
	    gz_query_i64(c, err, &first, "SELECT min(id) FROM audit_log WHERE at >= ?", "i", from);
	if (rc >= 0)
		rc = gz_query_i64(c, err, &last, "SELECT max(id) FROM audit_log WHERE at < ?", "i",
		                  to);
	if (rc >= 0)
		rc = gz_query_i64(c, err, &end, "SELECT coalesce(max(id), 0) FROM audit_log", "");
	if (rc < 0) {
		gz_db_reader_done(db, c);
		return -1;
	}
	if (first == 0)
		first = end + 1;
	if (last < first)
		last = first - 1;
	json_t *before = entry_json(c, first - 1, err, &rc);
	if (rc < 0) {
		gz_db_reader_done(db, c);
		return -1;
	}
	char f[GZ_TIME_BUF], t[GZ_TIME_BUF], now[GZ_TIME_BUF];
	gz_time_format(from, f, sizeof(f));
	gz_time_format(to, t, sizeof(t));
	gz_time_format(gz_now_ms(), now, sizeof(now));
	json_t *head = json_null();
	if (rep.has_head) {
		char at[GZ_TIME_BUF];
		gz_time_format(rep.head.at, at, sizeof(at));
		head = json_pack("{s:I,s:s,s:s,s:I,s:s}", "id", (json_int_t)rep.head.id, "hash",
		                 rep.head.hash, "at", at, "at_ms", (json_int_t)rep.head.at, "mac",
		                 rep.head.mac);
	}
	json_t *hdr = json_pack(
	    "{s:s,s:i,s:s,s:s,s:I,s:I,s:s,s:I,s:I,s:o,s:o,s:o}", "type", "gongzhi_audit_export",
	    "version", 1, "from", f, "to", t, "from_ms", (json_int_t)from, "to_ms", (json_int_t)to,
	    "exported_at", now, "first_id", (json_int_t)first, "last_id", (json_int_t)last,
	    "before", before, "head", head, "chain", gz_audit_report_json(&rep));
	rc = put_line(out, hdr, err);
	struct gz_stmt *s = NULL;
	if (rc == 0) {
		s = gz_stmt(c,
		            "SELECT " ROW_COLUMNS " FROM audit_log WHERE id >= ? AND id <= ? "
		            "ORDER BY id",
		            err);
		rc = s ? 0 : -1;
	}
	if (s) {
		gz_bind_i64(s, 1, first);
		gz_bind_i64(s, 2, last);
		int st;
		while (rc == 0 && (st = gz_step(s, err)) == 1) {
			struct row r;
			read_row(s, &r);
			rc = put_line(out, row_json(&r), err);
			(*count)++;
		}
		if (rc == 0 && st < 0)
			rc = -1;
		gz_stmt_done(s);
	}
	if (rc == 0) {
		int st;
		json_t *after = entry_json(c, last + 1, err, &st);
		rc = st < 0 ? -1
		            : put_line(out,
		                       json_pack("{s:s,s:I,s:o}", "type", "end", "count",
		                                 (json_int_t)*count, "after", after),
		                       err);
	}
	gz_db_reader_done(db, c);
	if (rc == 0 && fflush(out) != 0)
		rc = gz_fail(err, GZ_E_INTERNAL, "cannot write the export");
	return rc;
}

/* Checks one entry of an export on its own (its hash) and, when w is not NULL, against
 * the walk. */
static const char *check_export_row(struct walk *w, const struct row *r, char *msg, size_t n)
{
	if (w)
		return check_row(w, A.key, r, msg, n);
	struct walk alone = {"", r->id, false};
	snprintf(alone.prev, sizeof(alone.prev), "%s", r->prev_hash);
	return check_row(&alone, A.key, r, msg, n);
}

int gz_audit_check_export(FILE *in, struct gz_audit_report *rep, struct gz_err *err)
{
	memset(rep, 0, sizeof(*rep));
	if (!A.open)
		GZ_BUG("audit check before gz_audit_open");
	char *line = NULL;
	size_t cap = 0;
	json_t *hdr = NULL;
	struct walk w = {GENESIS, 1, false};
	int result = -1;
	bool ended = false;
	int64_t lines = 0;
	while (getline(&line, &cap, in) > 0) {
		lines++;
		json_t *o = json_loads(line, 0, NULL);
		const char *type = json_string_value(json_object_get(o, "type"));
		struct row r;
		if (!type || ended) {
			json_decref(o);
			gz_fail(err, GZ_E_VALIDATION, "line %lld is not part of an audit export",
			        (long long)lines);
			goto out;
		}
		if (!hdr) {
			if (strcmp(type, "gongzhi_audit_export") != 0) {
				json_decref(o);
				gz_fail(err, GZ_E_VALIDATION,
				        "not an audit export (no header line)");
				goto out;
			}
			hdr = o;
			json_t *before = json_object_get(hdr, "before");
			if (json_is_object(before)) {
				if (!row_from_json(before, &r)) {
					gz_fail(err, GZ_E_VALIDATION,
					        "the header's entry is malformed");
					goto out;
				}
				const char *p =
				    check_export_row(NULL, &r, rep->message, sizeof(rep->message));
				if (p) {
					broken(rep, r.id, p);
					result = 1;
					goto out;
				}
				snprintf(w.prev, sizeof(w.prev), "%s", r.hash);
				w.expect_id = r.id + 1;
				w.keyed_seen = r.scheme == SCHEME_KEYED;
			}
			continue;
		}
		bool end = strcmp(type, "end") == 0;
		json_t *e = end ? json_object_get(o, "after") : o;
		if (end) {
			ended = true;
			if (json_integer_value(json_object_get(o, "count")) != rep->checked) {
				json_decref(o);
				snprintf(
				    rep->message, sizeof(rep->message),
				    "the export holds %lld entries, its trailer says otherwise",
				    (long long)rep->checked);
				broken(rep, w.expect_id, "gap");
				result = 1;
				goto out;
			}
			if (json_is_null(e)) {
				json_decref(o);
				continue;
			}
		}
		if (!(end || strcmp(type, "entry") == 0) || !row_from_json(e, &r)) {
			json_decref(o);
			gz_fail(err, GZ_E_VALIDATION, "line %lld is not an audit entry",
			        (long long)lines);
			goto out;
		}
		const char *p = check_export_row(&w, &r, rep->message, sizeof(rep->message));
		json_decref(o);
		if (p) {
			broken(rep, r.id, p);
			result = 1;
			goto out;
		}
		if (!end) {
			rep->checked++;
			rep->last_id = r.id;
			if (r.scheme == SCHEME_PLAIN)
				rep->legacy++;
		}
	}
	if (!hdr || !ended) {
		gz_fail(err, GZ_E_VALIDATION, "the export is incomplete (no %s line)",
		        hdr ? "end" : "header");
		goto out;
	}
	json_t *head = json_object_get(hdr, "head");
	if (json_is_object(head)) {
		struct gz_audit_head h = {json_integer_value(json_object_get(head, "id"))};
		h.at = json_integer_value(json_object_get(head, "at_ms"));
		const char *hash = json_string_value(json_object_get(head, "hash"));
		const char *mac = json_string_value(json_object_get(head, "mac"));
		snprintf(h.hash, sizeof(h.hash), "%s", hash ? hash : "");
		char want[GZ_SHA256_HEX];
		head_mac(A.key, &h, want);
		if (!mac || !gz_str_equal_const(want, mac)) {
			snprintf(rep->message, sizeof(rep->message),
			         "the export's head checkpoint is not authentic under this key");
			broken(rep, 0, "head_forged");
			result = 1;
			goto out;
		}
		rep->has_head = true;
		rep->head = h;
		snprintf(rep->head.mac, sizeof(rep->head.mac), "%s", mac);
	}
	result = 0;
out:
	free(line);
	json_decref(hdr);
	return result;
}
