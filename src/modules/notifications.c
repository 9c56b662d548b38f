/* notifications.c - the accounts' inboxes: writing notifications inside the write
 * that causes them (gz_notify_*, see notify.h).  Owns the table notifications. */
#include "modules/notify.h"
#include "auth/auth.h"
#include "core/timefmt.h"
#include "core/util.h"
#include <stdlib.h>
#include <string.h>

int gz_roles_from_json_text(const char *text, unsigned *mask);

static int insert_one(struct gz_conn *c, int64_t user, const struct gz_notice_msg *m, int64_t now,
                      struct gz_err *err)
{
	struct gz_stmt *s =
	    gz_stmt(c,
	            "INSERT INTO notifications (user_id, kind, object_type, "
	            "object_id, title, body, created_at) SELECT id, ?, ?, ?, ?, ?, ? "
	            "FROM users WHERE id = ? AND disabled = 0",
	            err);
	if (!s)
		return -1;
	gz_bind_text(s, 1, m->kind);
	if (m->object_type)
		gz_bind_text(s, 2, m->object_type);
	else
		gz_bind_null(s, 2);
	if (m->object_id)
		gz_bind_i64(s, 3, m->object_id);
	else
		gz_bind_null(s, 3);
	gz_bind_text(s, 4, m->title);
	if (m->body)
		gz_bind_text(s, 5, m->body);
	else
		gz_bind_null(s, 5);
	gz_bind_i64(s, 6, now);
	gz_bind_i64(s, 7, user);
	int rc = gz_step(s, err);
	gz_stmt_done(s);
	return rc < 0 ? -1 : 0;
}

int gz_notify_users(struct gz_conn *c, const int64_t *users, int n, int64_t except,
                    const struct gz_notice_msg *m, struct gz_err *err)
{
	int64_t now = gz_now_ms();
	for (int i = 0; i < n; i++) {
		if (!users[i] || users[i] == except)
			continue;
		bool seen = false;
		for (int j = 0; j < i && !seen; j++)
			seen = users[j] == users[i];
		if (!seen && insert_one(c, users[i], m, now, err))
			return -1;
	}
	return 0;
}

/* Collects the ids a query yields (first column) into a growing array. */
static int collect(struct gz_stmt *s, int64_t **ids, int *n, const char *perm, struct gz_err *err)
{
	int rc, cap = 0;
	const struct gz_perm *p = perm ? gz_perm_find(perm) : NULL;
	while ((rc = gz_step(s, err)) == 1) {
		if (p) {
			unsigned mask = 0;
			gz_roles_from_json_text(gz_col_text(s, 1), &mask);
			if (!(mask & (p->roles | GZ_RB(ADMIN))))
				continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*ids = gz_xrealloc(*ids, (size_t)cap * sizeof(**ids));
		}
		(*ids)[(*n)++] = gz_col_i64(s, 0);
	}
	return rc < 0 ? -1 : 0;
}

static int notify_query(struct gz_conn *c, const char *sql, const char *text, int64_t num,
                        const char *perm, int64_t except, const struct gz_notice_msg *m,
                        struct gz_err *err)
{
	struct gz_stmt *s = gz_stmt(c, sql, err);
	if (!s)
		return -1;
	if (text)
		gz_bind_text(s, 1, text);
	else
		gz_bind_i64(s, 1, num);
	int64_t *ids = NULL;
	int n = 0;
	int rc = collect(s, &ids, &n, perm, err);
	gz_stmt_done(s);
	if (!rc)
		rc = gz_notify_users(c, ids, n, except, m, err);
	free(ids);
	return rc;
}

int gz_notify_org(struct gz_conn *c, int64_t org_id, int64_t except, const struct gz_notice_msg *m,
                  struct gz_err *err)
{
	if (!org_id)
		return 0;
	return notify_query(c, "SELECT id FROM users WHERE org_id = ? AND disabled = 0", NULL,
	                    org_id, NULL, except, m, err);
}

int gz_notify_unit_perm(struct gz_conn *c, const char *unit_path, const char *perm, int64_t except,
                        const struct gz_notice_msg *m, struct gz_err *err)
{
	if (!unit_path || !*unit_path)
		return 0;
	/* accounts whose unit's path is a prefix of the row's: the subtree holds it */
	return notify_query(c,
	                    "SELECT u.id, u.roles FROM users u JOIN units su ON su.id = u.unit_id "
	                    "WHERE u.disabled = 0 AND substr(?1, 1, length(su.path)) = su.path",
	                    unit_path, 0, perm, except, m, err);
}
