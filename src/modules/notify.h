/* notify.h - writing to the accounts' inboxes.
 *
 * Modules (and the lifecycle engine, from the notify declarations of its action rows)
 * call these inside a write: the notification rows commit or roll back with the
 * change they announce.  Reading the inbox, live delivery (SSE) and outbound
 * delivery (the outbox) are notifications.c's business, not the callers'. */
#ifndef GZ_NOTIFY_H
#define GZ_NOTIFY_H
#include "core/err.h"
#include "db/db.h"
#include <jansson.h>
#include <stdint.h>

struct gz_notice_msg {
	const char *kind;        /* the event: "work_order.dispatch", "work_order.sla_breach" */
	const char *object_type; /* entity name of the row it is about ("work_order"), or NULL */
	int64_t object_id;       /* 0: none */
	const char *title;       /* one line, shown in the bell and the phone's list */
	const char *body;        /* more text, or NULL */
};

/* Notifies the accounts users[0..n) (duplicates and 0 entries skipped; disabled
 * accounts skipped).  except: an account not to notify (the actor: nobody is told of
 * what they did themselves), 0 none.  Runs inside a write.  0, or -1 with err. */
int gz_notify_users(struct gz_conn *c, const int64_t *users, int n, int64_t except,
                    const struct gz_notice_msg *m, struct gz_err *err);
/* Notifies every enabled account bound to organisation org_id (its handlers). */
int gz_notify_org(struct gz_conn *c, int64_t org_id, int64_t except, const struct gz_notice_msg *m,
                  struct gz_err *err);
/* Notifies the enabled accounts holding permission perm whose unit subtree contains
 * unit_path (e.g. the subdistrict staff who may approve an extension of an order in
 * that unit). */
int gz_notify_unit_perm(struct gz_conn *c, const char *unit_path, const char *perm, int64_t except,
                        const struct gz_notice_msg *m, struct gz_err *err);

extern const struct gz_module gz_notifications_module;

/* ---- inside the notifications module (notifications.c, notify_events.c,
 * notify_webhook.c) ---- */
struct gz_app;
struct gz_req;
/* One notification row (id, kind, object_type, object_id, title, body, created_at,
 * read_at: the columns in that order from column first) as the JSON item of the inbox
 * and the event stream.  New reference. */
json_t *gz_notice_json(struct gz_stmt *s, int first);
#define GZ_NOTICE_COLS "id, kind, object_type, object_id, title, body, created_at, read_at"

/* Event streams (notify_events.c): GET /api/v1/events, and the watcher thread that
 * wakes them when notifications commit. */
int gz_events_handler(struct gz_req *r, struct gz_err *err);
int gz_events_init(struct gz_app *app, struct gz_err *err);
int gz_events_start(struct gz_app *app, struct gz_err *err);
void gz_events_quiesce(struct gz_app *app);
void gz_events_stop(struct gz_app *app);

/* The webhook (notify_webhook.c): a thread that copies notifications into the outbox
 * and posts them to notify_webhook_url; a no-op when that is empty. */
int gz_webhook_init(struct gz_app *app, struct gz_err *err);
int gz_webhook_start(struct gz_app *app, struct gz_err *err);
void gz_webhook_stop(struct gz_app *app);
/* Wakes the delivery thread (after a commit that wrote notifications). */
void gz_webhook_wake(void);

#endif
