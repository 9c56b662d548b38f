/* test_schema.c - every entity description against its table, on a fresh SQLite
 * database with all migrations applied (as `gongzhi init` makes it): each stored
 * field has a column of the type its field type is stored as, a required field's
 * column is NOT NULL, a field that may be cleared is not, the implicit columns are
 * there and NOT NULL, a reference list's child table has its two columns, and a child
 * list's table has its key and plain columns and its statement runs.  So a
 * migration cannot drift from the description, nor a description from the schema.
 * It also checks the route table: every row served by the generic entity write
 * handlers carries GZ_R_WRITE and GZ_R_AUDIT; and that every scoped entity is one the
 * scope property test reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "app.h"
#include "core/crypto.h"
#include "model/entity.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];
static struct gz_db *db;

static int setup(void **state)
{
	(void)state;
	if (gz_crypto_init())
		return -1;
	snprintf(dir, sizeof dir, "/tmp/gz-test-schema-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	char url[300];
	snprintf(url, sizeof url, "sqlite:%s/s.db", dir);
	struct gz_db_opts o;
	gz_db_opts_default(&o);
	o.create = true;
	struct gz_err err;
	int applied;
	if (gz_db_open(url, &o, &db, &err) || gz_db_migrate(db, &applied, &err)) {
		fprintf(stderr, "open/migrate: %s\n", err.message);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gz_db_close(db);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct column {
	char name[64], type[32];
	bool notnull, has_default;
};

/* The columns of table (PRAGMA table_info); returns how many, 0 when no such table. */
static int columns_of(struct gz_conn *c, const char *table, struct column *out, int max)
{
	char sql[200];
	snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", table);
	struct gz_err err;
	struct gz_stmt *s = gz_stmt(c, sql, &err);
	if (!s)
		fail_msg("%s: %s", sql, err.message);
	int n = 0;
	while (n < max && gz_step(s, &err) == 1) {
		snprintf(out[n].name, sizeof out[n].name, "%s", gz_col_text(s, 1));
		snprintf(out[n].type, sizeof out[n].type, "%s", gz_col_text(s, 2));
		out[n].notnull = gz_col_i64(s, 3) != 0;
		out[n].has_default = !gz_col_null(s, 4);
		n++;
	}
	gz_stmt_done(s);
	return n;
}

static const struct column *find(const struct column *cols, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(cols[i].name, name) == 0)
			return &cols[i];
	return NULL;
}

/* The declared type a field type is stored as. */
static const char *stored_type(enum gz_ftype t)
{
	switch (t) {
	case GZ_T_INT:
	case GZ_T_BOOL:
	case GZ_T_TIME:
		return "INTEGER";
	case GZ_T_REAL:
		return "REAL";
	default:
		return "TEXT";
	}
}

/* Problems of one entity, appended to out; returns how many. */
static int check_entity(struct gz_conn *c, const struct gz_entity *e, char *out, size_t n)
{
	struct column cols[96];
	int nc = columns_of(c, e->table, cols, 96), bad = 0;
	size_t len = strlen(out);
#define PROBLEM(...)                                                                               \
	do {                                                                                       \
		len += (size_t)snprintf(out + len, len < n ? n - len : 0, __VA_ARGS__);            \
		bad++;                                                                             \
	} while (0)
	if (nc == 0) {
		PROBLEM("%s: no table %s\n", e->name, e->table);
		return bad;
	}
	static const char *const implicit[] = {"id", "version", "created_at", "updated_at"};
	for (size_t i = 0; i < 4; i++) {
		const struct column *col = find(cols, nc, implicit[i]);
		if (!col || strcmp(col->type, "INTEGER") != 0)
			PROBLEM("%s: %s.%s missing or not INTEGER\n", e->name, e->table,
			        implicit[i]);
		else if (i && !col->notnull)
			PROBLEM("%s: %s.%s may be NULL\n", e->name, e->table, implicit[i]);
	}
	for (const struct gz_field *f = e->fields; f->name; f++) {
		if (f->type == GZ_T_REFS) {
			struct column kids[16];
			int nk = columns_of(c, f->refs_table, kids, 16);
			if (!nk)
				PROBLEM("%s.%s: no table %s\n", e->name, f->name, f->refs_table);
			else if (!find(kids, nk, f->refs_owner) || !find(kids, nk, f->refs_col))
				PROBLEM("%s.%s: %s lacks %s or %s\n", e->name, f->name,
				        f->refs_table, f->refs_owner, f->refs_col);
			continue;
		}
		if ((f->flags & GZ_F_INPUT_ONLY) || f->expr)
			continue;
		const struct column *col = find(cols, nc, f->name);
		if (!col) {
			PROBLEM("%s.%s: no column in %s\n", e->name, f->name, e->table);
			continue;
		}
		if (strcmp(col->type, stored_type(f->type)) != 0)
			PROBLEM("%s.%s: column is %s, the field is stored as %s\n", e->name,
			        f->name, col->type, stored_type(f->type));
		if ((f->flags & GZ_F_REQUIRED) && !col->notnull)
			PROBLEM("%s.%s: required but the column may be NULL\n", e->name, f->name);
		if ((f->flags & GZ_F_NULLABLE) && col->notnull)
			PROBLEM("%s.%s: may be cleared but the column is NOT NULL\n", e->name,
			        f->name);
	}
	/* a child list's table has its key and its plain columns, of their types; its
	 * statement (computed columns, condition, order) runs on the schema */
	for (const struct gz_child_list *l = e->children; l && l->name; l++) {
		struct column kids[64];
		int nk = columns_of(c, l->table, kids, 64);
		if (!nk) {
			PROBLEM("%s.%s: no table %s\n", e->name, l->name, l->table);
			continue;
		}
		if (!find(kids, nk, l->fk))
			PROBLEM("%s.%s: %s lacks %s\n", e->name, l->name, l->table, l->fk);
		for (const struct gz_field *f = l->columns; f->name; f++) {
			const struct column *col = f->expr ? NULL : find(kids, nk, f->name);
			if (!f->expr && !col)
				PROBLEM("%s.%s.%s: no column in %s\n", e->name, l->name, f->name,
				        l->table);
			else if (col && strcmp(col->type, stored_type(f->type)) != 0)
				PROBLEM("%s.%s.%s: column is %s, shown as stored %s\n", e->name,
				        l->name, f->name, col->type, stored_type(f->type));
		}
	}
	if (e->children) {
		struct gz_err err;
		json_t *o = json_object();
		if (gz_entity_load_children(e, c, NULL, 1, o, &err))
			PROBLEM("%s: a child list's statement fails: %s\n", e->name, err.message);
		json_decref(o);
	}
	if (e->archivable) {
		const struct column *col = find(cols, nc, "archived_at");
		if (!col || strcmp(col->type, "INTEGER") != 0 || col->notnull)
			PROBLEM("%s: archivable but %s.archived_at is missing, not INTEGER or NOT "
			        "NULL\n",
			        e->name, e->table);
	}
#undef PROBLEM
	return bad;
}

static void entities_match_tables(void **state)
{
	(void)state;
	struct gz_conn *c = gz_db_reader(db);
	char problems[4096] = "";
	int bad = 0, checked = 0;
	for (size_t m = 0; m < gz_nmodules; m++)
		for (const struct gz_entity *const *e = gz_modules[m]->entities; e && *e; e++) {
			bad += check_entity(c, *e, problems, sizeof problems);
			checked++;
		}
	gz_db_reader_done(db, c);
	if (bad)
		fail_msg("%d mismatches:\n%s", bad, problems);
	assert_true(checked >= 7); /* units, orgs, users, api keys, dicts, sla, work orders */
}

/* The checker itself finds drift: a description with a column the table lacks, a
 * wrong type, and NOT NULL disagreements. */
static const struct gz_field drift_fields[] = {
    {"kind", GZ_T_INT, GZ_F_REQUIRED},  /* TEXT in the table */
    {"code", GZ_T_TEXT, GZ_F_REQUIRED}, /* may be NULL in the table */
    {"name", GZ_T_TEXT, GZ_F_NULLABLE}, /* NOT NULL in the table */
    {"no_such_column", GZ_T_TEXT, 0},   /* absent */
    {"tags", GZ_T_REFS, 0, .refs_table = "units", .refs_owner = "id", .refs_col = "nope"},
    {NULL},
};
static const struct gz_field drift_child_columns[] = {
    {"name", GZ_T_INT},            /* TEXT in the table */
    {"no_such_column", GZ_T_TEXT}, /* absent */
    {NULL},
};
static const struct gz_child_list drift_children[] = {
    {"kids", "units", "parent_id", drift_child_columns},
    {"ghosts", "no_such_table", "parent_id", drift_child_columns},
    {NULL},
};
static const struct gz_entity drift = {
    .name = "drift", .table = "units", .fields = drift_fields, .children = drift_children};

static void checker_finds_drift(void **state)
{
	(void)state;
	struct gz_conn *c = gz_db_reader(db);
	char problems[2048] = "";
	int bad = check_entity(c, &drift, problems, sizeof problems);
	gz_db_reader_done(db, c);
	if (bad != 9)
		fail_msg("%d problems:\n%s", bad, problems);
	assert_non_null(strstr(problems, "drift.kind: column is TEXT"));
	assert_non_null(strstr(problems, "drift.code: required"));
	assert_non_null(strstr(problems, "drift.name: may be cleared"));
	assert_non_null(strstr(problems, "drift.no_such_column: no column"));
	assert_non_null(strstr(problems, "drift.tags: units lacks"));
	assert_non_null(strstr(problems, "drift.kids.name: column is TEXT"));
	assert_non_null(strstr(problems, "drift.kids.no_such_column: no column in units"));
	assert_non_null(strstr(problems, "drift.ghosts: no table no_such_table"));
	assert_non_null(strstr(problems, "drift: a child list's statement fails"));
}

static void entity_write_routes_are_flagged(void **state)
{
	(void)state;
	int seen = 0;
	for (size_t m = 0; m < gz_nmodules; m++)
		for (const struct gz_route *rt = gz_modules[m]->routes; rt && rt->pattern; rt++) {
			if (rt->handler != gz_entity_create_handler &&
			    rt->handler != gz_entity_patch_handler)
				continue;
			seen++;
			if ((rt->flags & (GZ_R_WRITE | GZ_R_AUDIT)) != (GZ_R_WRITE | GZ_R_AUDIT))
				fail_msg("%s lacks GZ_R_WRITE|GZ_R_AUDIT", rt->pattern);
		}
	assert_true(seen >= 8);
}

/* Every route that changes stored state says so (GZ_R_WRITE: the OpenAPI document's
 * x-write, the console's and the matrix's reading of it), and one that writes an audit
 * entry on success says that too (GZ_R_AUDIT).  A POST, PUT, PATCH or DELETE without
 * GZ_R_WRITE must be one of the few that write nothing a client owns. */
static void mutating_routes_are_flagged(void **state)
{
	(void)state;
	char bad[2048] = "";
	size_t len = 0;
	for (size_t m = 0; m < gz_nmodules; m++)
		for (const struct gz_route *rt = gz_modules[m]->routes; rt && rt->pattern; rt++) {
			unsigned mut = rt->methods & (GZ_POST | GZ_PUT | GZ_PATCH | GZ_DELETE);
			if (!mut || (rt->flags & GZ_R_WRITE))
				continue;
			const char *name = mut & GZ_POST    ? "POST"
			                   : mut & GZ_PUT   ? "PUT"
			                   : mut & GZ_PATCH ? "PATCH"
			                                    : "DELETE";
			len += (size_t)snprintf(bad + len, len < sizeof bad ? sizeof bad - len : 0,
			                        "  %s %s\n", name, rt->pattern);
		}
	if (len)
		fail_msg("mutating routes without GZ_R_WRITE:\n%s", bad);
}

/* The scope property test (tests/api/t91-scope.c) reads every scoped entity: those
 * whose rows not every reader sees (not global_read) by a unit, organisation or owner
 * relation.  A new one must get its test there, and be named here. */
static void scoped_entities_have_a_property_test(void **state)
{
	(void)state;
	static const char *const tested[] = {"work_order", "user", "unit", "api_key", "notice"};
	size_t nt = sizeof tested / sizeof tested[0], found = 0;
	for (size_t m = 0; m < gz_nmodules; m++)
		for (const struct gz_entity *const *e = gz_modules[m]->entities; e && *e; e++) {
			if ((*e)->global_read ||
			    !((*e)->unit_col || (*e)->org_col || (*e)->owner_col))
				continue;
			bool known = false;
			for (size_t i = 0; i < nt && !known; i++)
				known = strcmp(tested[i], (*e)->name) == 0;
			if (!known)
				fail_msg("entity %s is scoped but not in tests/api/t91-scope.c",
				         (*e)->name);
			found++;
		}
	assert_int_equal(found, nt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(entities_match_tables),
	    cmocka_unit_test(checker_finds_drift),
	    cmocka_unit_test(entity_write_routes_are_flagged),
	    cmocka_unit_test(scoped_entities_have_a_property_test),
	    cmocka_unit_test(mutating_routes_are_flagged),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
