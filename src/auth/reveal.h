/* reveal.h - the audited reveal of one personal-data field.
 *
 * Personal data is sealed at rest and masked in every answer (model/entity.c).  Staff
 * who must act on it — call a requester back — ask for one value of one row with a
 * purpose; the reveal is then a ledger entry of the audit chain (action "reveal":
 * who, which object, which field, why) written before the value is answered, and
 * each account may reveal at most reveal_per_hour values an hour.  A module reveals
 * through gz_reveal_handle() from its own route: the route declares the row (.row),
 * so the dispatcher has already answered 404 for a row outside the account's scope,
 * and the route's permission says who may reveal. */
#ifndef GZ_REVEAL_H
#define GZ_REVEAL_H
#include "http/http.h"
#include "model/entity.h"

struct gz_app;

/* Opens the stored value of a field: a new malloc'd plain text, or NULL when it
 * cannot be opened (another key, damaged). */
typedef char *(*gz_reveal_open_fn)(const struct gz_app *app, const char *stored);

/* The default opener: gz_unseal() under the application's personal-data key. */
char *gz_reveal_unseal(const struct gz_app *app, const char *stored);

/* What may be revealed of an entity: the fields (GZ_F_PII fields of the entity,
 * NULL-terminated) and how their stored text is opened (NULL: gz_reveal_unseal). */
struct gz_reveal_spec {
	const struct gz_entity *entity;
	const char *const *fields;
	gz_reveal_open_fn open;
};

/* POST …/{id}/reveal with {"field": one of spec->fields, "purpose": 1..200
 * characters}: 200 {"field", "value"} (value null when the row has none), after the
 * audit entry is committed.  400 naming field or purpose (unknown body fields too),
 * 404 when the row is missing, 429 past the account's hourly reveals.  The caller
 * has checked permission and scope (the route's perm and .row). */
int gz_reveal_handle(struct gz_req *r, const struct gz_reveal_spec *spec, struct gz_err *err);

#endif
