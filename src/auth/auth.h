/* auth.h - identity, roles and permissions, the one scope decision, sessions and
 * the audit log.
 *
 * Access is role x permission x scope.  Permissions are declared by modules (struct
 * gz_perm rows naming the roles that hold them); gz_scope_check() is the only place
 * that decides whether an account may use a permission on a row, and gz_scope_sql()
 * expresses the same rule as a WHERE clause for lists.  No handler re-implements
 * either. */
#ifndef GZ_AUTH_H
#define GZ_AUTH_H
#include "core/buf.h"
#include "core/crypto.h"
#include "core/err.h"
#include "db/db.h"
#include "http/http.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define GZ_ROLES(X)                                                                                \
	X(ADMIN, "admin", "区级管理员")                                                            \
	X(SUBDISTRICT, "subdistrict_staff", "街道工作人员")                                        \
	X(COMMUNITY, "community_staff", "社区工作人员")                                            \
	X(GRID, "grid_worker", "网格员")                                                           \
	X(PARTNER, "partner", "合伙人")                                                            \
	X(PROPERTY, "property", "物业")                                                            \
	X(MEDIATOR, "mediator", "调解员")                                                          \
	X(RESIDENT, "resident", "居民")

enum gz_role {
#define GZ_X(n, s, zh) GZ_ROLE_##n,
	GZ_ROLES(GZ_X)
#undef GZ_X
	    GZ_ROLE_COUNT
};
#define GZ_RB(n) (1u << GZ_ROLE_##n)
#define GZ_ROLES_ALL ((1u << GZ_ROLE_COUNT) - 1)
#define GZ_ROLES_STAFF (GZ_RB(ADMIN) | GZ_RB(SUBDISTRICT) | GZ_RB(COMMUNITY))

extern const char *const gz_role_names[GZ_ROLE_COUNT];
int gz_role_parse(const char *name); /* -1 when unknown */

/* The authenticated principal of a request (a copy: valid for the request). */
struct gz_account {
	int64_t id;
	char username[64];
	char display_name[128];
	unsigned roles;
	int64_t unit_id;         /* 0 when none */
	char unit_path[192];     /* materialised path of the unit, "" when none */
	char unit_path_end[192]; /* gz_path_upper(unit_path): end of the subtree range */
	int64_t org_id;          /* 0 when none */
	int64_t api_key_id;      /* 0 unless authenticated by an API key */
	bool totp_enabled;       /* the account has a second factor (TOTP) */
	bool totp_enrol;         /* holds a role of require_totp_for without one: a session reaches
	                          * only the GZ_R_TOTP_SETUP routes (API keys are not held back) */
	char csrf[64];
};

/* ---- permissions ---- */
/* Builds the registry from the modules' permission rows (at start-up). Fails on a
 * permission declared twice. */
int gz_perms_register(const struct gz_perm *rows, struct gz_err *err);
const struct gz_perm *gz_perm_find(const char *name);
bool gz_account_has(const struct gz_account *a, const char *perm);
/* The permission names the account holds, as a JSON array (new reference). */
json_t *gz_account_perms_json(const struct gz_account *a);

/* ---- scope: the one decision ---- */
/* Where a row sits: its unit's materialised path (NULL when the row has no unit), the
 * organisation it belongs or is assigned to (0 none), the account that owns it (0). */
struct gz_row_scope {
	const char *unit_path;
	int64_t org_id;
	int64_t owner_id;
	const int64_t *more_orgs; /* further organisations the row is assigned to */
	int nmore;
	int64_t creator_id;     /* the account that created the row (reaches it like its owner) */
	const char *unit_path2; /* a second unit the row is reached through (the handler's) */
};
/* Decides whether a may use perm on row (row NULL: the permission alone).
 * 0: allowed.  -1: err is forbidden (403), or not_found (404) when hide is set and the
 * account holds the permission but the row is outside its scope. */
int gz_scope_check(const struct gz_account *a, const char *perm, const struct gz_row_scope *row,
                   bool hide, struct gz_err *err);
/* Appends to sql a condition (in parentheses) that holds exactly for the rows
 * gz_scope_check() would allow, given SQL expressions for the row's unit path, org id
 * and owner id (NULL when the entity has none); values go to args.  An org_expr that
 * contains '?' is a whole predicate, each '?' standing for the account's org id (for
 * rows assigned to several organisations). */
struct gz_args;
void gz_scope_sql(const struct gz_account *a, const char *unit_path_expr,
                  const char *unit_path_expr2, const char *org_expr, const char *owner_expr,
                  struct gz_buf *sql, struct gz_args *args);
/* The exclusive upper bound of a path prefix range: "/1/5/" -> "/1/50". */
void gz_path_upper(const char *path, char *out, size_t n);

/* ---- audit ---- */
struct gz_audit {
	const struct gz_account *actor; /* NULL: the system */
	const char *action;             /* create, update, login, login_failed, … */
	const char *object_type;        /* entity name */
	int64_t object_id;
	const char *summary; /* JSON text, NULL for "{}"; personal data masked */
	const char *client;
};
/* Appends one entry chained to the previous one, its hash an HMAC under the audit key
 * (gz_audit_open() must have run).  Runs inside a write. */
int gz_audit_append(struct gz_conn *c, const struct gz_audit *e, struct gz_err *err);

/* The head of the chain as checkpointed outside the database (the head file). */
struct gz_audit_head {
	int64_t id;               /* the last entry anchored; 0: the log was empty */
	char hash[GZ_SHA256_HEX]; /* its hash */
	int64_t at;               /* when the checkpoint was written (ms) */
	char mac[GZ_SHA256_HEX];  /* HMAC of id, hash and at under the audit key */
};

/* What gz_audit_verify() found. */
struct gz_audit_report {
	int64_t checked;   /* entries read */
	int64_t legacy;    /* of them, entries of the old unkeyed scheme (before migration 4) */
	int64_t last_id;   /* the log's last entry, 0 when empty */
	int64_t broken_id; /* the first broken or missing entry; 0 when it holds or the
	                    * problem is not one entry's (no_head, head_forged) */
	/* NULL when the chain holds, else one word: changed (an entry's hash does not match
	 * its fields under the key), link (prev_hash is not the previous entry's hash), gap
	 * (ids not consecutive), legacy_after_keyed, scheme (unknown scheme), truncated (the
	 * log ends before the checkpointed head), head_mismatch (the entry at the head's id
	 * is not the one checkpointed), no_head (keyed entries but no head file),
	 * head_forged (the head file's MAC is wrong: forged, or another key) */
	const char *problem;
	char message[400]; /* one sentence on the problem, "" when it holds */
	bool has_head;
	struct gz_audit_head head; /* valid when has_head */
	int64_t unanchored;        /* entries after the checkpointed head */
};

/* Starts the audit chain of db: reads the 32-byte key file (creating it, mode 0600, when
 * it is missing and the log has no keyed entry yet; when it has, fails: those entries
 * could never be verified again, the key must come back from its backup), reads the
 * head file at head_path and checks it against the log, registers the commit hook that notes the
 * committed head, starts the thread that writes the head file (at most once a second), and, when
 * the log's last entry predates the keyed scheme, appends the keyed entry that seals the old
 * prefix. A head file that does not match the log is logged as an error and left untouched (no
 * checkpoint is written over the evidence); gz_audit_verify() reports it. */
int gz_audit_open(struct gz_db *db, const char *key_path, const char *head_path,
                  struct gz_err *err);
/* Stops the thread and writes the last committed head.  Call after gz_db_close(), so
 * that every queued write has committed.  A no-op when not open. */
void gz_audit_close(void);
/* Appends the keyed audit_rekey entry when the log's last entry is of the old scheme
 * (after `gongzhi migrate`; gz_audit_open() does it too).  0 or -1. */
int gz_audit_seal(struct gz_db *db, struct gz_err *err);
/* Walks the chain and compares it with the head file.  Returns 0 when it holds; 1
 * when it does not (rep says where and why); -1 on error. */
int gz_audit_verify(struct gz_db *db, struct gz_audit_report *rep, struct gz_err *err);
/* The chain alone, without the head checkpoint (a copy of the database elsewhere). */
int gz_audit_verify_chain(struct gz_db *db, struct gz_audit_report *rep, struct gz_err *err);
/* Verifies the chain of a copy of the database (migrate-to) and writes its head
 * checkpoint to head_path; 1 (nothing written) when the chain does not hold. */
int gz_audit_anchor_copy(struct gz_db *db, const char *head_path, struct gz_audit_report *rep,
                         struct gz_err *err);
/* The report as JSON: holds, checked, broken_id, problem, message, last_id, legacy,
 * head {id, hash, at} or null, unanchored (new reference). */
json_t *gz_audit_report_json(const struct gz_audit_report *rep);
/* Re-anchors: verifies the chain on its own (ignoring the head file) and, when it
 * holds, writes the head file at the log's last entry and logs the old and new head
 * with reason (init, restore, anchor).  1 when the chain is broken (nothing written). */
int gz_audit_anchor(struct gz_db *db, const char *reason, struct gz_audit_report *rep,
                    struct gz_err *err);
/* Writes the entries of [from, to) (ms) as JSON lines to out: a header with the entry
 * just before the period, the head file's checkpoint and the chain's verification, one
 * line per entry with every stored column, and a trailer with the entry just after.
 * *count gets the number of entries.  0 or -1. */
int gz_audit_export(struct gz_db *db, int64_t from, int64_t to, FILE *out, int64_t *count,
                    struct gz_err *err);
/* Verifies an export with the audit key: every entry's hash, the links from the entry
 * before the period to the one after it, consecutive ids, the head's MAC.  0 holds, 1
 * broken (rep: broken_id, problem, message), -1 when the file is not an export. */
int gz_audit_check_export(FILE *in, struct gz_audit_report *rep, struct gz_err *err);

/* ---- sessions and credentials ---- */
#define GZ_TOKEN_LEN 64 /* session tokens and API keys, with their NUL */
struct gz_auth_limits {
	int64_t idle_ms, lockout_failures, lockout_window_ms, lockout_ms;
	int64_t cache_ms; /* how long a cached session is trusted before it is re-read */
};
void gz_auth_configure(const struct gz_auth_limits *l);
/* Reads the request's credentials (Bearer token, API key or gz_session cookie).  Sets
 * r->acct when valid.  Returns -1 (401) when credentials were sent but are invalid or
 * expired, 0 otherwise (anonymous included). */
int gz_auth_request(struct gz_req *r, struct gz_err *err);
/* Deletes every session of a user except keep_hash (NULL: all), inside a write. */
int gz_session_delete_user(struct gz_conn *c, int64_t user_id, const char *keep_hash,
                           struct gz_err *err);
/* Parses a JSON array of role names into a bit mask; -1 on an unknown role. */
int gz_roles_from_json_text(const char *text, unsigned *mask);
/* Drops cached sessions of a user (after its roles, unit or status change). */
void gz_auth_forget_user(int64_t user_id);
void gz_auth_shutdown(void);
/* Loads an account by user id (for the CLI and tests). 1 found, 0 none, -1 error. */
int gz_account_load(struct gz_conn *c, int64_t user_id, struct gz_account *a, struct gz_err *err);
/* Whether password is the account's: 1 yes, 0 no (or no such account), -1 error. */
int gz_user_password_ok(struct gz_db *db, int64_t user_id, const char *password,
                        struct gz_err *err);
/* Hashes and stores a new password after the policy check (CLI and endpoints). */
int gz_user_set_password(struct gz_db *db, const struct gz_account *actor, int64_t user_id,
                         const char *password, const char *client, struct gz_err *err);

/* ---- second factor (TOTP) ---- */
/* Sets the roles that must enrol a second factor from a comma list of role names
 * ("admin,subdistrict_staff"; "" for none).  Fails naming require_totp_for on an
 * unknown role.  At start-up, before serving. */
int gz_totp_configure(const char *role_list, struct gz_err *err);
/* The roles that must enrol, as a bit mask of enum gz_role. */
unsigned gz_totp_roles(void);
/* Turns the second factor of user_id off and drops its recovery codes (the CLI's
 * totp-reset, for a lost phone); audited with actor (NULL: the system).  Fails with
 * not_found when there is no such user. */
int gz_totp_reset(struct gz_db *db, const struct gz_account *actor, int64_t user_id,
                  const char *client, struct gz_err *err);

extern const struct gz_module gz_auth_module;
extern const struct gz_module gz_totp_module;
extern const struct gz_module gz_audit_module;

#endif
