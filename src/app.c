/* app.c - the module list and the application's life: open (database, key,
 * permissions), serve (until SIGTERM/SIGINT, then a graceful stop), close. */
#include "app.h"
#include "auth/auth.h"
#include "core/log.h"
#include "model/entity.h"
#include "model/lifecycle.h"
#include "http/server.h"
#include "modules/notify.h"
#include "modules/sla.h"
#include "modules/units.h"
#include "modules/work_order.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Every module of gongzhi, in the order their routes are matched (the first match
 * wins: work-order statistics come before work orders so that
 * /work-orders/export.csv is not taken for /work-orders/{id}). */
const struct gz_module *const gz_modules[] = {
    &gz_ops_module,
    &gz_auth_module,
    &gz_totp_module, /* the second factor (its routes are under /auth/totp) */
    &gz_users_module,
    &gz_api_keys_module,
    &gz_audit_module,
    &gz_units_module,
    &gz_orgs_module,
    &gz_dicts_module,
    &gz_calendar_module,
    &gz_sla_module,
    &gz_work_order_stats_module,
    &gz_work_orders_module,
    &gz_work_order_files_module,
    &gz_notifications_module,
    &gz_notices_module,
    &gz_todo_module, /* the to-do list over every lifecycle machine */
};
const size_t gz_nmodules = sizeof(gz_modules) / sizeof(gz_modules[0]);

static int mkdir_p(const char *dir)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(tmp, 0700) && errno != EEXIST)
				return -1;
			*p = '/';
		}
	return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

/* The audit chain's key and head file live outside the database: the key beside the
 * secret key, the head in the data directory, named after the database file so that
 * databases sharing a data directory (a restored copy, a test's second database) keep
 * their heads apart. */
void gz_app_audit_head_path(const struct gz_config *cfg, const char *db, char *out, size_t cap)
{
	if (*cfg->audit_head_file) {
		snprintf(out, cap, "%s", cfg->audit_head_file);
	} else {
		const char *path = gz_config_sqlite_path(db);
		const char *base = path ? strrchr(path, '/') : NULL;
		snprintf(out, cap, "%s/%s.audit-head", cfg->data_dir,
		         path ? (base ? base + 1 : path) : "audit");
	}
}

static int open_audit(struct gz_app *app, struct gz_err *err)
{
	char keyfile[4096], head[4096];
	if (*app->cfg.audit_key_file)
		snprintf(keyfile, sizeof(keyfile), "%s", app->cfg.audit_key_file);
	else
		snprintf(keyfile, sizeof(keyfile), "%s/audit.key", app->cfg.data_dir);
	gz_app_audit_head_path(&app->cfg, app->cfg.db, head, sizeof(head));
	return gz_audit_open(app->db, keyfile, head, err);
}

int gz_app_open(struct gz_app *app, bool create, struct gz_err *err)
{
	app->modules = gz_modules;
	app->nmodules = gz_nmodules;
	app->route_reach = gz_entity_route_reach;
	enum gz_log_level lvl;
	if (gz_log_parse_level(app->cfg.log_level, &lvl))
		return gz_fail_field(err, GZ_E_VALIDATION, "log_level",
		                     "log_level must be debug, info, warn or error");
	gz_log_set_level(lvl);
	if (gz_crypto_set_pwhash_cost(app->cfg.password_hash))
		return gz_fail_field(err, GZ_E_VALIDATION, "password_hash",
		                     "password_hash must be interactive, moderate or min");
	struct gz_auth_limits lim = {
	    app->cfg.session_idle_seconds * 1000, app->cfg.lockout_failures,
	    app->cfg.lockout_window_seconds * 1000, app->cfg.lockout_seconds * 1000,
	    app->cfg.session_cache_seconds * 1000};
	gz_auth_configure(&lim);
	if (gz_totp_configure(app->cfg.require_totp_for, err))
		return -1;
	for (size_t i = 0; i < app->nmodules; i++)
		if (gz_perms_register(app->modules[i]->perms, err))
			return -1;
	if (mkdir_p(app->cfg.data_dir))
		return gz_fail(err, GZ_E_INTERNAL, "cannot create the data directory %s",
		               app->cfg.data_dir);
	char keyfile[4096];
	if (*app->cfg.secret_key_file)
		snprintf(keyfile, sizeof(keyfile), "%s", app->cfg.secret_key_file);
	else
		snprintf(keyfile, sizeof(keyfile), "%s/secret.key", app->cfg.data_dir);
	if (gz_key_load(keyfile, true, app->key, err))
		return -1;
	struct gz_db_opts o;
	gz_db_opts_default(&o);
	o.read_connections = (int)app->cfg.read_connections;
	o.batch_max = (int)app->cfg.commit_batch_max;
	o.synchronous = app->cfg.synchronous;
	o.create = create;
	if (gz_db_open(app->cfg.db, &o, &app->db, err))
		return -1;
	for (size_t i = 0; i < app->nmodules; i++)
		if (app->modules[i]->init && app->modules[i]->init(app, err))
			return -1;
	return open_audit(app, err);
}

void gz_app_close(struct gz_app *app)
{
	gz_db_close(app->db);
	app->db = NULL;
	gz_audit_close(); /* after the last commit: writes the final checkpoint */
	gz_auth_shutdown();
}

int gz_app_serve(struct gz_app *app)
{
	struct gz_err err;
	if (gz_db_check_schema(app->db, &err)) {
		fprintf(stderr, "gongzhi: %s\n", err.message);
		return 1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct gz_server *srv;
	if (gz_server_start(app, &srv, &err)) {
		fprintf(stderr, "gongzhi: %s\n", err.message);
		return 1;
	}
	for (size_t i = 0; i < app->nmodules; i++)
		if (app->modules[i]->start && app->modules[i]->start(app, &err)) {
			fprintf(stderr, "gongzhi: %s\n", err.message);
			gz_server_stop(srv, 1000);
			return 1;
		}
	gz_info("serving on http://%s (database %s, %lld threads)", app->cfg.listen, app->cfg.db,
	        (long long)app->cfg.threads);
	int sig = 0;
	sigwait(&set, &sig);
	gz_info("signal %d: finishing in-flight requests", sig);
	for (size_t i = 0; i < app->nmodules; i++)
		if (app->modules[i]->quiesce)
			app->modules[i]->quiesce(app);
	gz_server_stop(srv, 10000);
	for (size_t i = app->nmodules; i-- > 0;)
		if (app->modules[i]->stop)
			app->modules[i]->stop(app);
	gz_info("stopped");
	return 0;
}
