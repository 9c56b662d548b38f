/* entity.h - declarative entities.
 *
 * An entity is described once: its table, fields (type, flags, limits, enum values,
 * dictionary, reference, validator), permissions and scope columns.  From that
 * description this layer validates input (unknown fields -> unknown_field, each
 * error naming its field), converts rows to JSON (personal data masked), builds list
 * queries with filters, scope and keyset pagination, and creates and patches rows
 * with versions and audit entries.  Modules write C only for their business rules,
 * through the hooks. */
#ifndef GZ_ENTITY_H
#define GZ_ENTITY_H
#include "auth/auth.h"
#include "core/err.h"
#include "db/db.h"
#include "http/http.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum gz_ftype {
	GZ_T_INT,  /* JSON integer */
	GZ_T_REAL, /* JSON number */
	GZ_T_TEXT, /* JSON string */
	GZ_T_BOOL, /* JSON boolean, stored 0/1 */
	GZ_T_TIME, /* ISO-8601 string, stored as ms */
	GZ_T_ENUM, /* string from f->values */
	GZ_T_LIST, /* array of strings from f->values, stored as JSON text */
	/* array of ids of rows of f->ref, stored in a child table (no column of its own):
	 * f->refs_table holds (f->refs_owner = this row's id, f->refs_col = one id).  A
	 * write replaces the whole set; f->max bounds its size (default 100). */
	GZ_T_REFS,
};

enum gz_fflag {
	GZ_F_REQUIRED = 1 << 0,    /* must be given on create */
	GZ_F_READONLY = 1 << 1,    /* set by the server only (id, version, path …) */
	GZ_F_CREATE_ONLY = 1 << 2, /* accepted on create, refused on patch */
	GZ_F_WRITE_ONLY = 1 << 3,  /* never shown (secrets) */
	GZ_F_PII = 1 << 4,         /* personal information: sealed at rest, masked */
	GZ_F_FILTER = 1 << 5,      /* list filter ?name=value */
	GZ_F_INPUT_ONLY = 1 << 6,  /* no column: consumed by a hook (password) */
	GZ_F_SEARCH = 1 << 7,      /* matched by the list's q= (substring) */
	GZ_F_NULLABLE = 1 << 8,    /* null clears the value on patch */
	GZ_F_DETAIL = 1 << 9,      /* shown when one row is read, left out of lists */
	/* a reference (ref set) the writing account must reach: the referenced row lies
	 * in its scope by the referenced entity's scope declaration.  A row out of reach
	 * is refused with the same message as a missing one (its existence does not leak) */
	GZ_F_SCOPED_REF = 1 << 10,
};

struct gz_entity;
struct gz_list_opts;

struct gz_field {
	const char *name;
	enum gz_ftype type;
	unsigned flags;
	int64_t min, max;            /* text: length in characters; int/real: range; 0,0 none */
	const char *const *values;   /* enum/list values, NULL-terminated */
	const char *dict;            /* text: must be a code of this dictionary type */
	const struct gz_entity *ref; /* int: must be the id of a row of this entity */
	/* extra check for text values */
	int (*check)(const char *value, const char *field, struct gz_err *err);
	/* a computed field: this SQL expression over the row "t" (or
	 * a scalar subquery over it) is read instead of a column, and the field is never
	 * written (READONLY).  Each '?' in it stands for the current time in ms, which the
	 * callers of gz_entity_select() bind first (gz_entity_bind_now()): portable SQL
	 * has no clock in milliseconds, and a bound time is the same in every clause. */
	const char *expr;
	/* GZ_T_REFS: the child table and its two columns (owner row id, referenced id) */
	const char *refs_table, *refs_owner, *refs_col;
	/* the Chinese name of the field: the column header of exports (NULL: the name) */
	const char *label;
	/* enum/list: the Chinese names of values[], in the same order (NULL: the codes) */
	const char *const *value_labels;
	/* a name shown beside a reference, resolved per list page: in list rows this
	 * field is not the expr per row but one query per page over the page's distinct
	 * keys, "SELECT key, name FROM … WHERE key IN (…)" built from lookup_sql (the
	 * text up to and including "IN"), the keys being the column lookup_key of the
	 * row (an integer or text column); expr still serves single rows */
	const char *lookup_key, *lookup_sql;
	bool lookup_text_key; /* the key column is text (a dictionary code) */
};

/* A read-only list of child rows shown in a row's detail (the single-row read, never
 * a list or a write's reply) as the array name: the rows "c" of table whose column fk
 * holds the row's id and, when where is set, that meet it (a condition over "c"), in
 * order (an ORDER BY clause such as "c.at DESC, c.id DESC"), at most limit of them
 * (0: 100; a row beyond it is logged as a warning: bound the list where it is
 * written).  columns names the columns and their types (GZ_T_TIME columns are shown
 * as ISO-8601 times, GZ_F_PII ones masked); a column with an expr reads that SQL
 * expression over "c" instead (a joined name: "(SELECT name FROM orgs WHERE id =
 * c.org_id)"; a literal; a flag).  A list with the same name as the one before it
 * continues that list's array: rows of several kinds in one array (an order's
 * handler, from the order's own row, then its co-handlers).  Terminated by a row
 * with name NULL. */
struct gz_child_list {
	const char *name, *table, *fk;
	const struct gz_field *columns;
	const char *order;
	int limit;
	const char *where;
};

/* What a hook sees while a create or patch is being written. */
struct gz_write {
	const struct gz_entity *ent;
	const struct gz_account *actor;
	struct gz_conn *conn;
	struct gz_app *app;
	json_t *in;     /* validated input (hooks may add or change values) */
	json_t *before; /* the stored row as JSON on patch (unmasked), NULL on create */
	int64_t id;     /* 0 on create until inserted */
	const char *client;
	struct gz_arena *arena;
	int64_t now; /* the time of the write (created_at/updated_at); set by the layer */
};

struct gz_entity {
	const char *name;              /* "org": audit object type and messages */
	const char *label;             /* "组织": the sheet of its exports (NULL: name) */
	const char *table;             /* "orgs" */
	const struct gz_field *fields; /* terminated by a row with name NULL */
	const char *perm_read, *perm_write;
	/* scope: columns holding the row's unit id, org id, owner account id (NULL: none).
	 * A unit_col of "id" means the row is itself a unit. */
	const char *unit_col, *org_col, *owner_col;
	/* on create, the input field whose unit decides the scope (default unit_col) */
	const char *create_unit_field;
	/* a column holding the unit's path, used instead of joining units */
	const char *unit_path_col;
	/* the column recording the account that created the row, set by the layer */
	const char *creator_col;
	/* a second unit path column through which rows are reached (NULL: none) */
	const char *unit_path_col2;
	/* list scope for organisations: a predicate with '?' for the account's org
	 * (default "t.<org_col> = ?") */
	const char *org_sql;
	/* list scope for owners: a predicate with '?' for the account's id (default
	 * "t.<owner_col> = ?") */
	const char *owner_sql;
	bool global_read; /* every holder of perm_read sees every row */
	/* readers the row is addressed to besides its scope (a notice reaches those who
	 * live or work below its unit): a predicate whose every '?' stands for the
	 * account's unit path; it widens reading only, never writing */
	const char *audience_sql;
	/* the owner relation lets the owner read its row, not write it: what decides
	 * where the row sits (accounts: roles, unit, organisation) is not its owner's to
	 * change, so writes need the unit or organisation relation */
	bool owner_reads_only;
	bool order_asc; /* keyset order by id ascending (default newest first) */
	/* a record that may be withdrawn: DELETE /…/{id} sets the column archived_at
	 * (gz_entity_archive_handler), lists leave archived rows out unless archived=true
	 * (only those) or archived=any, a read still shows them with archived_at, and
	 * an archived row can no longer be changed (409) */
	bool archivable;
	/* rows of this entity are shown by name in other entities' list rows (lookup
	 * fields): a write through this layer invalidates the names cache */
	bool named;
	/* read-only child lists of the detail, terminated by a row with name NULL */
	const struct gz_child_list *children;
	/* Hooks, all optional, run in the writer inside the request's savepoint. */
	int (*before_create)(struct gz_write *w, struct gz_err *err);
	int (*before_patch)(struct gz_write *w, struct gz_err *err);
	int (*after_write)(struct gz_write *w, struct gz_err *err);
	/* Runs outside the writer before create/patch (slow work: password hashing). */
	int (*prepare)(struct gz_req *r, json_t *in, bool create, struct gz_err *err);
	/* Extra list parameters: 1 when key was handled (conditions added to where as
	 * " AND …" with values in args), 0 when not this hook's, -1 on error. */
	int (*filter)(struct gz_req *r, const char *key, const char *value, struct gz_buf *where,
	              struct gz_args *args, struct gz_list_opts *o, struct gz_err *err);
	/* Adds computed fields to one row read on its own (not to list rows, which are
	 * written straight from the columns: use GZ_F_DETAIL and expr fields there). */
	void (*decorate)(struct gz_conn *c, json_t *obj);
};

const struct gz_field *gz_entity_field(const struct gz_entity *e, const char *name);

/* Validates a JSON object against the entity (pure: no database).  create selects
 * the create rules (required fields) or patch rules (no read-only or create-only
 * fields).  On success *out is a new object with normalised values (times as ms,
 * bools as 0/1 integers).  Errors name the field. */
int gz_entity_validate(const struct gz_entity *e, json_t *in, bool create, json_t **out,
                       struct gz_err *err);

/* Checks references, dictionaries and scope of validated input (needs the database). */
int gz_entity_check_refs(const struct gz_entity *e, struct gz_conn *c, const struct gz_account *a,
                         json_t *in, struct gz_err *err);

/* The row with id as JSON for output (masked), with its GZ_T_REFS arrays but not its
 * child lists (gz_entity_load_children), or NULL with not_found.  Applies the read
 * scope of a (NULL: no check).  New reference. */
json_t *gz_entity_load(const struct gz_entity *e, struct gz_conn *c, struct gz_app *app,
                       const struct gz_account *a, int64_t id, bool unmasked, struct gz_err *err);

/* Appends to sql the condition (in parentheses, over the row "t" and, for entities
 * with a unit_col but no unit_path_col, its unit "su") under which account a reaches a
 * row of e — the one scope definition, used by lists, the row check, statistics and
 * exports alike.  Values go to args. */
void gz_entity_scope_sql(const struct gz_entity *e, const struct gz_account *a, struct gz_buf *sql,
                         struct gz_args *args);
/* Whether account a reaches the row id of e by e's scope declaration (unit subtree,
 * organisation, owner: gz_entity_scope_sql() on that row), whatever e's permissions and
 * global_read say: 0 when it does; -1 with not_found when the row is missing or out
 * of reach (the same message for both, from gz_entity_not_found()), or on error. */
int gz_entity_reach(const struct gz_entity *e, struct gz_conn *c, const struct gz_account *a,
                    int64_t id, struct gz_err *err);
/* The one not-found error of an object: "no <entity> with id N", the same text for
 * a missing row and for one outside the account's scope.  Returns -1. */
int gz_entity_not_found(const struct gz_entity *e, int64_t id, struct gz_err *err);
/* The dispatcher's row check (struct gz_app.route_reach): for a route acting on the
 * {id} row of an entity (gz_route_row()), 404 unless the account may read that row. */
int gz_entity_route_reach(struct gz_req *r, struct gz_err *err);

/* Creates a row from validated input inside a write; *id receives the new id.
 * Audited.  Runs the hooks. */
int gz_entity_insert(struct gz_write *w, struct gz_err *err);
/* Patches the row w->id with validated input; expected_version > 0 enforces it (412). */
int gz_entity_update(struct gz_write *w, int64_t expected_version, struct gz_err *err);

/* Archives the row w->id (an archivable entity): sets archived_at, audited as
 * "archive", with the scope checks of a patch; expected_version > 0 enforces it.
 * *changed is false when the row was archived already (nothing written). */
int gz_entity_archive(struct gz_write *w, int64_t expected_version, bool *changed,
                      struct gz_err *err);

/* Programmatic create (CLI, demo): validate, check, insert, audit; returns the new id. */
int gz_entity_create_json(struct gz_app *app, const struct gz_entity *e,
                          const struct gz_account *actor, json_t *in, int64_t *id,
                          struct gz_err *err);

/* Appends "<columns> FROM <table> t [JOIN units su]": the row layout
 * that gz_entity_row_json() reads, or with list the shorter layout of list rows (no
 * GZ_F_DETAIL fields, no scope columns) that gz_entity_row_write() reads.  Returns
 * the number of '?' the computed fields put in the select list: parameters 1..n are
 * the current time (gz_entity_bind_now()), the caller's own come after them. */
int gz_entity_select(const struct gz_entity *e, struct gz_buf *sql, bool list);
/* Binds now to parameters 1..n of s (n from gz_entity_select()). */
void gz_entity_bind_now(struct gz_stmt *s, int n, int64_t now);
/* The current row of a statement made with gz_entity_select() as output JSON
 * (personal data masked unless unmasked); fills scope when given.  New reference. */
json_t *gz_entity_row_json(const struct gz_entity *e, struct gz_stmt *s, struct gz_app *app,
                           bool unmasked, struct gz_row_scope *scope, struct gz_arena *a);
/* The current row of a statement made with gz_entity_select(e, sql, true) appended to b
 * as a JSON object, masked: the same keys and values as gz_entity_row_json() less the
 * GZ_F_DETAIL fields, written without building a tree (lists are the hot path). */
void gz_entity_row_write(const struct gz_entity *e, struct gz_stmt *s, struct gz_app *app,
                         struct gz_arena *a, struct gz_buf *b);

/* The child-list arrays (e->children) of the row id, set on obj in their order: one
 * query per list.  0, or -1 with err (the caller answers no part: a detail with a
 * part missing would mislead).  gz_entity_load() sets the GZ_T_REFS arrays itself;
 * the child lists are for the detail read only (gz_entity_get_handler,
 * gz_lifecycle_detail), which call this. */
int gz_entity_load_children(const struct gz_entity *e, struct gz_conn *c, struct gz_app *app,
                            int64_t id, json_t *obj, struct gz_err *err);
/* The GZ_T_REFS arrays (less the GZ_F_DETAIL ones) of the rows ids[0..n) of a list
 * page, as one query per reference field: out[i] receives ",\"<field>\":[…]" for
 * each field (arena text).  0, or -1 with err. */
int gz_entity_page_refs(const struct gz_entity *e, struct gz_conn *c, const int64_t *ids, int n,
                        char **out, struct gz_arena *a, struct gz_err *err);
/* The names of a list page's lookup fields (struct gz_field.lookup_sql): NULL when
 * the entity has none, else a collector for up to limit rows (arena memory).  Each
 * row's keys are recorded with gz_entity_lookups_row() as it is read;
 * gz_entity_lookups_resolve() then reads the names with one query per field over the
 * page's distinct keys (0, or -1 with err), and gz_entity_lookups_append() writes
 * ",\"<field>\":\"<name>\"|null" for each lookup field of a row. */
struct gz_page_lookups;
struct gz_page_lookups *gz_entity_lookups_new(const struct gz_entity *e, int limit,
                                              struct gz_arena *a);
void gz_entity_lookups_row(struct gz_page_lookups *p, struct gz_stmt *s, struct gz_arena *a);
int gz_entity_lookups_resolve(struct gz_page_lookups *p, struct gz_conn *c, struct gz_arena *a,
                              struct gz_err *err);
void gz_entity_lookups_append(const struct gz_page_lookups *p, int row, struct gz_buf *b);
/* Starts a new generation of the names cache of list pages (the layer calls it on
 * every write of a named entity; call it after changing names behind its back).
 * Cached names live NAMES_TTL_MS (5 s) at most: what other nodes change shows by then. */
void gz_entity_names_changed(void);
/* Whether the entity has GZ_T_REFS fields shown in list rows (not GZ_F_DETAIL). */
bool gz_entity_has_refs(const struct gz_entity *e);

/* Masks personal data for display: "13812345678" -> "138****5678". Arena copy. */
char *gz_mask(struct gz_arena *a, const char *s);

/* The WHERE clause of a list request (" WHERE …": path parameters, query filters,
 * the entity's filter hook, the account's scope) and the paging options. */
struct gz_list_opts {
	int64_t limit, cursor;
	bool count;
	/* set by a filter hook: a join driving the query (" JOIN … f ON f.rowid = t.id")
	 * and the column in whose descending order it yields rows (default t.id).  The
	 * join comes right after the FROM table in every statement built with it, before
	 * the WHERE: its parameters, if any, are the first of the args. */
	const char *join, *order_col;
	/* the time of the request (ms): the filters and the computed fields of one list
	 * compare with the same instant */
	int64_t now;
};
int gz_entity_where(struct gz_req *r, const struct gz_entity *e, struct gz_buf *where,
                    struct gz_args *args, struct gz_list_opts *o, struct gz_err *err);
/* Appends " AND <the account's list scope>" of e over the row "t" (nothing for a
 * global_read entity): the rows gz_scope_check() lets r's account read.  Rows of an
 * entity without unit_path_col need "LEFT JOIN units su ON su.id = t.<unit_col>". */
void gz_entity_scope_where(struct gz_req *r, const struct gz_entity *e, struct gz_buf *where,
                           struct gz_args *args);

/* Generic route handlers: the route's entity field names the entity. */
int gz_entity_list_handler(struct gz_req *r, struct gz_err *err);
int gz_entity_get_handler(struct gz_req *r, struct gz_err *err);
int gz_entity_create_handler(struct gz_req *r, struct gz_err *err);
int gz_entity_patch_handler(struct gz_req *r, struct gz_err *err);
/* GET …/export.csv and …/export.xlsx of the route's entity: the rows of the list's
 * filters and scope (gz_entity_where; limit and cursor ignored), every column of a
 * list row but the write-only ones, headed by the fields' labels, references shown by
 * the name of the row named, dictionary codes by their names, enumerations by their
 * value labels, personal data masked; streamed through model/export.c. */
int gz_entity_export_csv_handler(struct gz_req *r, struct gz_err *err);
int gz_entity_export_xlsx_handler(struct gz_req *r, struct gz_err *err);
/* DELETE of an archivable entity: sets archived_at (once: a second call answers the
 * row as it is), audited as "archive"; the reply is the row. */
int gz_entity_archive_handler(struct gz_req *r, struct gz_err *err);

/* The route rows of an entity's collection at base ("/api/v1/orgs"): one macro per
 * row, so that a module replacing one handler (a create that adds to the reply) still
 * declares the others in one line each; GZ_ENTITY_ROUTES gives all four.  rperm and
 * wperm are the permissions of reads and writes (string literals: a static table
 * cannot read them from the entity); the summaries go to the OpenAPI document. */
/* clang-format off */
#define GZ_ENTITY_ROUTE_LIST(base, ent, rperm, summary) \
	{GZ_GET, base, gz_entity_list_handler, rperm, GZ_R_LIST, ent, summary}
#define GZ_ENTITY_ROUTE_CREATE(base, ent, wperm, handler, summary) \
	{GZ_POST, base, handler, wperm, GZ_R_JSON | GZ_R_WRITE | GZ_R_AUDIT, ent, summary}
#define GZ_ENTITY_ROUTE_GET(base, ent, rperm, summary) \
	{GZ_GET, base "/{id}", gz_entity_get_handler, rperm, 0, ent, summary}
#define GZ_ENTITY_ROUTE_PATCH(base, ent, wperm, handler, summary) \
	{GZ_PATCH, base "/{id}", handler, wperm, GZ_R_JSON | GZ_R_WRITE | GZ_R_AUDIT, ent, summary}
#define GZ_ENTITY_ROUTE_ARCHIVE(base, ent, wperm, summary) \
	{GZ_DELETE, base "/{id}", gz_entity_archive_handler, wperm, GZ_R_WRITE | GZ_R_AUDIT, ent, summary}
/* the two export rows (export.csv, export.xlsx); before base "/{id}" in the table */
#define GZ_ENTITY_ROUTE_EXPORT(base, ent, rperm, summary) \
	{GZ_GET, base "/export.csv", gz_entity_export_csv_handler, rperm, GZ_R_LIST | GZ_R_FILE, ent, \
	 summary ", as CSV for Excel (UTF-8 with BOM), streamed"}, \
	{GZ_GET, base "/export.xlsx", gz_entity_export_xlsx_handler, rperm, GZ_R_LIST | GZ_R_FILE, ent, \
	 summary ", as an Excel workbook (Chinese headers, times as Excel dates in Shanghai time), " \
	 "written in constant memory"}
#define GZ_ENTITY_ROUTES(base, ent, rperm, wperm, list_s, create_s, get_s, patch_s) \
	GZ_ENTITY_ROUTE_LIST(base, ent, rperm, list_s), \
	GZ_ENTITY_ROUTE_CREATE(base, ent, wperm, gz_entity_create_handler, create_s), \
	GZ_ENTITY_ROUTE_GET(base, ent, rperm, get_s), \
	GZ_ENTITY_ROUTE_PATCH(base, ent, wperm, gz_entity_patch_handler, patch_s)
/* clang-format on */

/* GB 32100-2015 unified social credit code: 18 characters, check character valid. */
bool gz_credit_code_valid(const char *code);
int gz_check_credit_code(const char *value, const char *field, struct gz_err *err);
/* A phone number: 5 to 20 digits with spaces and + - ( ) (orgs.c); a field check
 * (struct gz_field.check). */
int gz_check_phone(const char *value, const char *field, struct gz_err *err);

#endif
