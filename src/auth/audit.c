/* audit.c - the append-only, hash-chained audit log.
 *
 * Each entry stores the hash of the previous entry and its own hash over
 * prev_hash and every field, so changing, removing or inserting an entry breaks
 * the chain at that point; gz_audit_verify() names the first broken entry.  Entries
 * are appended inside the same write as the change they describe. */
#include "auth/auth.h"
#include "core/crypto.h"
#include "core/timefmt.h"
#include <stdio.h>
#include <string.h>

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

static void entry_hash(int64_t id, int64_t at, int64_t actor_id, const char *actor,
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

int gz_audit_append(struct gz_conn *c, const struct gz_audit *e, struct gz_err *err)
{
	char prev[GZ_SHA256_HEX] = GENESIS;
	int64_t last_id = 0;
	struct gz_stmt *s =
	    gz_stmt(c, "SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1", err);
	if (!s)
		return -1;
	int rc = gz_step(s, err);
	if (rc == 1) {
		last_id = gz_col_i64(s, 0);
		snprintf(prev, sizeof(prev), "%s", gz_col_text(s, 1));
	}
	gz_stmt_done(s);
	if (rc < 0)
		return -1;
	int64_t id = last_id + 1, at = gz_now_ms();
	int64_t actor_id = e->actor ? e->actor->id : 0;
	const char *actor = e->actor ? e->actor->username : "system";
	const char *summary = e->summary ? e->summary : "{}";
	char hash[GZ_SHA256_HEX];
	entry_hash(id, at, actor_id, actor, e->action, e->object_type, e->object_id, summary,
	           e->client, prev, hash);
	s = gz_stmt(c,
	            "INSERT INTO audit_log (id, at, actor_id, actor, action, object_type, "
	            "object_id, summary, client, prev_hash, hash) "
	            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	            err);
	if (!s)
		return -1;
	gz_bind_i64(s, 1, id);
	gz_bind_i64(s, 2, at);
	if (actor_id)
		gz_bind_i64(s, 3, actor_id);
	gz_bind_text(s, 4, actor);
	gz_bind_text(s, 5, e->action);
	gz_bind_text(s, 6, e->object_type);
	if (e->object_id)
		gz_bind_i64(s, 7, e->object_id);
	gz_bind_text(s, 8, summary);
	gz_bind_text(s, 9, e->client);
	gz_bind_text(s, 10, prev);
	gz_bind_text(s, 11, hash);
	rc = gz_step(s, err);
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
}

int gz_audit_verify(struct gz_db *db, int64_t *checked, int64_t *bad_id, struct gz_err *err)
{
	struct gz_conn *c = gz_db_reader(db);
	struct gz_stmt *s = gz_stmt(c,
	                            "SELECT id, at, coalesce(actor_id, 0), actor, action, "
	                            "object_type, coalesce(object_id, 0), summary, client, "
	                            "prev_hash, hash FROM audit_log ORDER BY id",
	                            err);
	*checked = 0;
	*bad_id = 0;
	if (!s) {
		gz_db_reader_done(db, c);
		return -1;
	}
	char prev[GZ_SHA256_HEX] = GENESIS;
	int64_t expect_id = 0;
	int rc, result = 0;
	while ((rc = gz_step(s, err)) == 1) {
		int64_t id = gz_col_i64(s, 0);
		char h[GZ_SHA256_HEX];
		entry_hash(id, gz_col_i64(s, 1), gz_col_i64(s, 2), gz_col_text(s, 3),
		           gz_col_text(s, 4), gz_col_text(s, 5), gz_col_i64(s, 6),
		           gz_col_text(s, 7), gz_col_null(s, 8) ? NULL : gz_col_text(s, 8), prev,
		           h);
		(*checked)++;
		/* ids are consecutive: a gap means a removed entry */
		if ((expect_id && id != expect_id) || strcmp(gz_col_text(s, 9), prev) != 0 ||
		    strcmp(gz_col_text(s, 10), h) != 0) {
			*bad_id = id;
			result = 1;
			break;
		}
		snprintf(prev, sizeof(prev), "%s", gz_col_text(s, 10));
		expect_id = id + 1;
	}
	gz_stmt_done(s);
	gz_db_reader_done(db, c);
	return rc < 0 ? -1 : result;
}
