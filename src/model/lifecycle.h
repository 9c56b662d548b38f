/* lifecycle.h - state machines declared as rows, and what the engine makes of them.
 *
 * A machine is a table of actions.  Each row names the action, the states it starts
 * from, the state it leads to (or an apply hook that picks it), who may take it (a
 * permission and a relation of the account to the row, which the module's relation
 * callback decides), the body fields it takes (struct gz_field descriptors, validated
 * like entity input), an optional apply hook for the business rule, and whom it
 * notifies (a mask of recipient kinds the module resolves into accounts).
 *
 * From the machine the engine gives: the POST /…/{id}/actions handler (the machine is
 * found from the route's row entity), If-Match, the append-only timeline row per
 * action, the audit entry, the allowed actions of an account (for details and the
 * 409 invalid_transition with "allowed"), the notifications (written in the same
 * transaction, never to the actor), a timeline page handler, and GET /api/v1/todo
 * over every registered machine.  Modules write only their business rules. */
#ifndef GZ_LIFECYCLE_H
#define GZ_LIFECYCLE_H
#include "model/entity.h"
#include "modules/notify.h"

/* Relations of an account to a row; the module's relation callback decides them.  An
 * action is open to an account that holds its permission (if any) and has one of the
 * relations of its mask. */
enum gz_lc_rel {
	GZ_LC_SCOPE = 1 << 0,      /* the row is in the account's scope (reads it) */
	GZ_LC_HANDLER = 1 << 1,    /* the account handles the row (its organisation/unit) */
	GZ_LC_CO_HANDLER = 1 << 2, /* a co-handler that has not reported yet */
	GZ_LC_OWNER = 1 << 3,      /* the row's owner / requester */
	GZ_LC_CREATOR = 1 << 4,    /* the account that created the row */
};

/* Recipient kinds of a notification; the module's recipients callback resolves them. */
enum gz_lc_notify {
	GZ_LC_N_HANDLER = 1 << 0,     /* the handler organisation's accounts / the unit's staff */
	GZ_LC_N_CO_HANDLERS = 1 << 1, /* co-handlers (those the action added) */
	GZ_LC_N_REQUESTER = 1 << 2,   /* the requester's account */
	GZ_LC_N_DISPATCHER = 1 << 3,  /* the account that last dispatched the row */
	GZ_LC_N_CREATOR = 1 << 4,     /* the creator, and the staff of the row's community */
	GZ_LC_N_APPROVERS = 1 << 5,   /* whoever may decide a pending request (extension) */
};

#define GZ_LC_SAME (-1) /* the action leaves the state as it is */

struct gz_machine;
struct gz_lc_action;

/* What an apply hook sees and changes while an action is being written. */
struct gz_lc_ctx {
	struct gz_req *r;
	struct gz_conn *c;
	const struct gz_machine *m;
	const struct gz_lc_action *action;
	const struct gz_account *acct;
	int64_t id;
	int from;     /* the state before */
	int to;       /* the state after: the row's to, which apply may change */
	void *row;    /* the module's row as loaded before the action */
	void *after;  /* the row reloaded after the update (notifications), or NULL */
	json_t *body; /* validated body (normalised: bools 0/1), "action"/"note" left out */
	json_t *data; /* the event's data, for apply to fill (owned by the engine) */
	const char *note;
	bool internal;   /* the event is shown to staff only */
	unsigned notify; /* recipients: the row's mask, which apply may change */
	int64_t now;
	struct gz_buf set;   /* ", col = ?" clauses of the UPDATE */
	struct gz_args args; /* their values */
};

/* Adds ", col = ?" to the update with an integer (type 'i'), text ('t') or NULL ('n'). */
void gz_lc_set(struct gz_lc_ctx *x, const char *col, char type, int64_t i, const char *t);

struct gz_lc_action {
	const char *name;
	unsigned from;    /* mask of states (1u << state) */
	int to;           /* state, or GZ_LC_SAME */
	const char *perm; /* permission needed besides the route's, NULL none */
	unsigned rel;     /* relations of which the account needs one */
	/* further precondition on the row, NULL none */
	bool (*ready)(const void *row);
	const struct gz_field *fields; /* body fields besides action and note, NULL none */
	int (*apply)(struct gz_lc_ctx *x, struct gz_err *err);
	unsigned notify;    /* recipients (enum gz_lc_notify) */
	const char *notice; /* the notification's title, before the row's label */
	bool task;          /* an allowed action of this row makes the row a to-do item */
	bool note_required; /* the note is the action's content (a comment) */
};

/* The row of a machine that declares no load of its own: its state (from the
 * "status" column), its unit path (the entity's unit_path_col) and a label (the
 * machine's label_col).  The module's relation callback reads it. */
struct gz_lc_row {
	int64_t id;
	int state;
	char unit_path[256];
	char label[160];
};
/* Whether a manages a generic row: its unit lies in a's subtree (admin: always). */
bool gz_lc_row_manages(const struct gz_account *a, const struct gz_lc_row *row);

struct gz_machine {
	const char *name;                   /* "work_order": the to-do type and audit object */
	const struct gz_entity *entity;     /* the row's entity (table, scope, not found) */
	const char *const *states;          /* state names, indexed by state */
	const struct gz_lc_action *actions; /* terminated by a row with name NULL */
	const char *events_table;           /* "work_order_events" */
	const char *events_fk;              /* "work_order_id" */
	const char *due_col;                /* column ordering the to-do list (ms), NULL: id */
	/* the generic row (struct gz_lc_row) is used when load is NULL: then row_size,
	 * state and label may be NULL too, and label_col names the label's column */
	const char *label_col;
	size_t row_size;
	/* Loads the row (the module's struct of row_size bytes): 0, or -1 with not_found */
	int (*load)(struct gz_conn *c, int64_t id, void *row, struct gz_err *err);
	int (*state)(const void *row);
	/* Whether account a has relation rel (one bit) to the row. */
	bool (*relation)(unsigned rel, const struct gz_account *a, const void *row);
	/* Resolves one recipient kind into notifications (gz_notify_*, except the actor). */
	int (*recipients)(unsigned kind, struct gz_lc_ctx *x, const struct gz_notice_msg *m,
	                  struct gz_err *err);
	/* A short label of the row for titles ("GZ20261207000001 路灯不亮"), arena copy. */
	const char *(*label)(const void *row, struct gz_arena *a);
	int64_t (*due_at)(const void *row); /* ms, 0 none */
	/* Around every action inside the write (aggregates), NULL none. */
	int (*before)(struct gz_lc_ctx *x, struct gz_err *err);
	int (*after)(struct gz_lc_ctx *x, struct gz_err *err);
	/* Who sees internal events. */
	bool (*sees_internal)(const struct gz_account *a);
};

/* Adds a machine to the registry (the to-do list and the route lookup); idempotent. */
void gz_lifecycle_register(const struct gz_machine *m);
/* The machine of an entity, NULL when none. */
const struct gz_machine *gz_lifecycle_of(const struct gz_entity *e);

/* Whether a may take action ac on row (state, readiness, permission, relation). */
bool gz_lifecycle_may(const struct gz_machine *m, const struct gz_lc_action *ac,
                      const struct gz_account *a, const void *row);
/* The names of the actions a may take on row, as a JSON array (new reference);
 * tasks_only keeps the to-do actions. */
json_t *gz_lifecycle_allowed(const struct gz_machine *m, const struct gz_account *a,
                             const void *row, bool tasks_only);

/* One timeline event.  actor NULL: the system. */
struct gz_lc_event {
	int64_t row_id;
	const struct gz_account *actor;
	const char *action, *from, *to, *note;
	json_t *data; /* borrowed, may be NULL */
	bool internal;
};
/* Appends an event to the machine's timeline (inside a write). */
int gz_lifecycle_event(struct gz_conn *c, const struct gz_machine *m, const struct gz_lc_event *ev,
                       struct gz_err *err);
/* A page of the timeline before event before (0: from the newest): the limit latest
 * events, oldest first; *next the id of the oldest shown when older ones exist, else
 * 0.  internal: include staff-only events.  New reference, NULL on error. */
json_t *gz_lifecycle_timeline(struct gz_conn *c, const struct gz_machine *m, int64_t id,
                              bool internal, int64_t before, int64_t limit, int64_t *next,
                              struct gz_err *err);
/* "c<id>" or null. New reference. */
json_t *gz_lifecycle_cursor(int64_t next);
/* A page size from query parameter name: 1..500, 50 when absent. */
int gz_lifecycle_page_limit(struct gz_req *r, const char *name, int64_t *limit, struct gz_err *err);
/* The If-Match header as a version: 0 when absent; 400 when it is not an ETag. */
int gz_req_if_match(struct gz_req *r, int64_t *version, struct gz_err *err);

/* Notifies the recipients of mask about row x (title: notice + label); the actor
 * (x->acct, NULL for the system) is never notified. */
int gz_lifecycle_notify(struct gz_lc_ctx *x, unsigned mask, const char *kind, const char *notice,
                        struct gz_err *err);

/* The detail of row id, the GET …/{id} reply and the one sent after an action: the
 * entity's row (decorated) with its latest timeline events (internal ones for those
 * m->sees_internal admits), timeline_next_cursor, the entity's child lists and
 * allowed_actions; scoped applies the reading account's scope (unscoped after an
 * action: the actor sees what it did).  New reference, NULL with err (no partial
 * answers: a part that fails to load fails the whole). */
json_t *gz_lifecycle_detail(const struct gz_machine *m, struct gz_req *r, struct gz_conn *c,
                            int64_t id, bool scoped, int64_t timeline_limit, struct gz_err *err);

/* Route handlers; the machine is the one of the route's row entity. */
int gz_lifecycle_get_handler(struct gz_req *r, struct gz_err *err);      /* GET …/{id} (detail) */
int gz_lifecycle_actions_handler(struct gz_req *r, struct gz_err *err);  /* POST …/{id}/actions */
int gz_lifecycle_timeline_handler(struct gz_req *r, struct gz_err *err); /* GET …/{id}/timeline */
int gz_lifecycle_todo_handler(struct gz_req *r, struct gz_err *err);     /* GET /api/v1/todo */

extern const struct gz_module gz_todo_module;

#endif
