/* app.h - the application: configuration, database, keys and modules, wired once
 * by main.c and shared read-only by every request. */
#ifndef GZ_APP_H
#define GZ_APP_H
#include "core/config.h"
#include "core/crypto.h"
#include "db/db.h"
#include "http/http.h"

struct gz_app {
	struct gz_config cfg;
	struct gz_db *db;
	uint8_t key[GZ_KEY_BYTES]; /* personal-data key */
	const struct gz_module *const *modules;
	size_t nmodules;
	/* the dispatcher's check of a route's {id} row (gz_entity_route_reach) */
	int (*route_reach)(struct gz_req *r, struct gz_err *err);
	/* the abuse limits (http/ratelimit.h) while serving, NULL when off: requests
	 * per account and per address, failed logins per address, reveals of personal
	 * data per account (auth/reveal.h) */
	struct gz_ratelimit *limit_account, *limit_address, *limit_login, *limit_reveal;
};

extern const struct gz_module *const gz_modules[];
extern const size_t gz_nmodules;

/* Opens the database (creating it when create), loads the key, registers the
 * modules' permissions.  Release with gz_app_close(). */
/* The audit head checkpoint's file for the database db under cfg (audit_head_file, or
 * DATA_DIR/<db file name>.audit-head; "audit.audit-head" for PostgreSQL). */
void gz_app_audit_head_path(const struct gz_config *cfg, const char *db, char *out, size_t cap);
int gz_app_open(struct gz_app *app, bool create, struct gz_err *err);
void gz_app_close(struct gz_app *app);
/* Serves until SIGTERM/SIGINT; returns the exit status. */
int gz_app_serve(struct gz_app *app);

#endif
