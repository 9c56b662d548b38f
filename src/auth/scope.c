/* scope.c - the one access decision: role x permission x scope.
 *
 * An account may use a permission when one of its roles holds it; on a row, it must
 * also reach the row: admin reaches everything; an account with a unit reaches rows
 * whose unit lies in its unit's subtree; an account with an organisation reaches
 * rows of that organisation; every account reaches the rows it owns.  Only staff and
 * grid workers reach by unit: a partner's, property company's, mediator's or
 * resident's unit says where it works or lives, not what it may see.
 * gz_scope_sql() states the same rule as SQL; keep the two side by side. */
#include "auth/auth.h"
#include <stdio.h>
#include <string.h>

#define UNIT_ROLES (GZ_ROLES_STAFF | GZ_RB(GRID))

static bool reaches(const struct gz_account *a, const struct gz_row_scope *row)
{
	if (a->roles & GZ_RB(ADMIN))
		return true;
	if ((a->roles & UNIT_ROLES) && a->unit_path[0] && row->unit_path &&
	    strncmp(row->unit_path, a->unit_path, strlen(a->unit_path)) == 0)
		return true;
	if ((a->roles & UNIT_ROLES) && a->unit_path[0] && row->unit_path2 &&
	    strncmp(row->unit_path2, a->unit_path, strlen(a->unit_path)) == 0)
		return true;
	if (a->org_id && row->org_id == a->org_id)
		return true;
	for (int i = 0; a->org_id && i < row->nmore; i++)
		if (row->more_orgs[i] == a->org_id)
			return true;
	if (row->owner_id && row->owner_id == a->id)
		return true;
	if (row->creator_id && row->creator_id == a->id)
		return true;
	return false;
}

int gz_scope_check(const struct gz_account *a, const char *perm, const struct gz_row_scope *row,
                   bool hide, struct gz_err *err)
{
	if (!a)
		return gz_fail(err, GZ_E_UNAUTHENTICATED, "authentication required");
	if (perm && !gz_account_has(a, perm))
		return gz_fail(err, GZ_E_FORBIDDEN, "your role does not allow this (%s)", perm);
	if (!row || reaches(a, row))
		return 0;
	if (hide)
		return gz_fail(err, GZ_E_NOT_FOUND, "not found");
	return gz_fail(err, GZ_E_FORBIDDEN, "outside your area of responsibility");
}

void gz_path_upper(const char *path, char *out, size_t n)
{
	/* paths end in '/', and '0' follows '/' in ASCII: every string starting with
	 * "/1/5/" sorts before "/1/50", and "/1/50/…" does not start with "/1/5/". */
	snprintf(out, n, "%s", path);
	size_t len = strlen(out);
	if (len && out[len - 1] == '/')
		out[len - 1] = '0';
}

void gz_scope_sql(const struct gz_account *a, const char *unit_path_expr,
                  const char *unit_path_expr2, const char *org_expr, const char *owner_expr,
                  struct gz_buf *sql, struct gz_args *args)
{
	if (a->roles & GZ_RB(ADMIN)) {
		gz_buf_adds(sql, "(1=1)");
		return;
	}
	gz_buf_adds(sql, "(1=0");
	if ((a->roles & UNIT_ROLES) && a->unit_path[0] && unit_path_expr) {
		gz_buf_addf(sql, " OR (%s >= ? AND %s < ?)", unit_path_expr, unit_path_expr);
		gz_args_text(args, a->unit_path);
		gz_args_text(args, a->unit_path_end);
	}
	if ((a->roles & UNIT_ROLES) && a->unit_path[0] && unit_path_expr2) {
		gz_buf_addf(sql, " OR (%s >= ? AND %s < ?)", unit_path_expr2, unit_path_expr2);
		gz_args_text(args, a->unit_path);
		gz_args_text(args, a->unit_path_end);
	}
	if (a->org_id && org_expr && strchr(org_expr, '?')) {
		gz_buf_addf(sql, " OR %s", org_expr);
		for (const char *p = strchr(org_expr, '?'); p; p = strchr(p + 1, '?'))
			gz_args_i64(args, a->org_id);
	} else if (a->org_id && org_expr) {
		gz_buf_addf(sql, " OR %s = ?", org_expr);
		gz_args_i64(args, a->org_id);
	}
	if (owner_expr && strchr(owner_expr, '?')) {
		gz_buf_addf(sql, " OR %s", owner_expr);
		for (const char *p = strchr(owner_expr, '?'); p; p = strchr(p + 1, '?'))
			gz_args_i64(args, a->id);
	} else if (owner_expr) {
		gz_buf_addf(sql, " OR %s = ?", owner_expr);
		gz_args_i64(args, a->id);
	}
	gz_buf_adds(sql, ")");
}
