/* commands.c - gongzhi's commands (serve, init, demo, migrate, user, backup,
 * restore, audit verify/export/anchor), declared in one table like git's builtins.  Errors go to
 * stderr in one line; exit status 0 success, 1 runtime failure, 2 usage error. */
#include "cli/commands.h"
#include "cli/migrate_to.h"
#include "app.h"
#include "auth/auth.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "demo.h"
#include "modules/units.h"
#include "model/entity.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_OPTS 8

struct cli {
	struct gz_app app;
	const char *opt_names[MAX_OPTS];
	const char *opt_values[MAX_OPTS];
	int nopts;
	const char *args[8];
	int nargs;
};

struct command {
	const char *name;
	int (*run)(struct cli *c);
	const char *usage;
	const char *help;
	const char *const options[MAX_OPTS]; /* command options, without "--" */
	int nargs;                           /* positional arguments required */
	bool needs_schema;                   /* open an initialised database */
};

static int fail(const struct gz_err *err)
{
	fprintf(stderr, "gongzhi: %s\n", err->message);
	return 1;
}

static const char *opt(struct cli *c, const char *name)
{
	for (int i = 0; i < c->nopts; i++)
		if (strcmp(c->opt_names[i], name) == 0)
			return c->opt_values[i];
	return NULL;
}

static int open_app(struct cli *c, bool create, bool schema)
{
	struct gz_err err;
	if (gz_app_open(&c->app, create, &err) || (schema && gz_db_check_schema(c->app.db, &err)))
		return fail(&err);
	return 0;
}

/* ---- commands ---- */

static int cmd_serve(struct cli *c)
{
	return gz_app_serve(&c->app);
}

static int cmd_init(struct cli *c)
{
	struct gz_err err;
	int64_t v;
	if (gz_db_schema_version(c->app.db, &v, &err))
		return fail(&err);
	if (v > 0) {
		fprintf(stderr, "gongzhi: %s is already initialised (schema %lld)\n", c->app.cfg.db,
		        (long long)v);
		return 1;
	}
	const char *pw = opt(c, "admin-password");
	char generated[17];
	if (!pw) {
		gz_password_generate(generated);
		pw = generated;
	} else if (gz_password_check(pw, "admin-password", &err)) {
		return fail(&err);
	}
	int applied;
	if (gz_db_migrate(c->app.db, &applied, &err) || gz_seed_base(&c->app, &err))
		return fail(&err);
	json_t *o = json_pack("{s:s,s:s,s:s,s:[s]}", "username", "admin", "display_name",
	                      "区级管理员", "password", pw, "roles", "admin");
	int rc = gz_entity_create_json(&c->app, &gz_user_entity, NULL, o, NULL, &err);
	json_decref(o);
	if (rc)
		return fail(&err);
	/* a new chain: its head replaces any left by an earlier database of that name */
	struct gz_audit_report rep;
	if (gz_audit_anchor(c->app.db, "init", &rep, &err))
		return fail(&err);
	printf("initialised %s (schema %d)\n", c->app.cfg.db, gz_db_latest_version(c->app.db));
	if (pw == generated)
		printf("admin password (shown once): %s\n", pw);
	return 0;
}

static int cmd_demo(struct cli *c)
{
	struct gz_err err;
	if (gz_seed_demo(&c->app, &err))
		return fail(&err);
	return 0;
}

static int cmd_migrate(struct cli *c)
{
	struct gz_err err;
	int applied;
	if (gz_db_migrate(c->app.db, &applied, &err) || gz_audit_seal(c->app.db, &err))
		return fail(&err);
	printf("%d migration(s) applied; schema %d\n", applied, gz_db_latest_version(c->app.db));
	return 0;
}

static int find_user(struct cli *c, const char *username, int64_t *id)
{
	struct gz_err err;
	struct gz_conn *conn = gz_db_reader(c->app.db);
	int rc =
	    gz_query_i64(conn, &err, id, "SELECT id FROM users WHERE username = ?", "t", username);
	gz_db_reader_done(c->app.db, conn);
	if (rc < 0)
		return fail(&err);
	if (rc == 0) {
		fprintf(stderr, "gongzhi: no user named '%s'\n", username);
		return 1;
	}
	return 0;
}

static int int_opt(struct cli *c, const char *name, json_t *o, const char *field)
{
	const char *v = opt(c, name);
	int64_t n;
	if (!v)
		return 0;
	if (!gz_parse_i64(v, &n)) {
		fprintf(stderr, "gongzhi: --%s must be a number\n", name);
		return 2;
	}
	json_object_set_new(o, field, json_integer(n));
	return 0;
}

struct unlock {
	int64_t id;
	const char *username;
	bool was_locked; /* out */
};

/* Clears the account's failed logins and lock; audited as the command line's. */
static int unlock_fn(struct gz_conn *conn, void *ctx, struct gz_err *err)
{
	struct unlock *u = ctx;
	int64_t until = 0;
	if (gz_query_i64(conn, err, &until,
	                 "SELECT locked_until FROM login_attempts WHERE username = ?", "t",
	                 u->username) < 0 ||
	    gz_exec_args(conn, err, "DELETE FROM login_attempts WHERE username = ?", "t",
	                 u->username))
		return -1;
	u->was_locked = until > gz_now_ms();
	json_t *sum = json_pack("{s:s,s:b}", "username", u->username, "was_locked", u->was_locked);
	char *text = gz_json_dump(sum);
	json_decref(sum);
	struct gz_audit a = {NULL, "unlock", "user", u->id, text, "cli"};
	int rc = gz_audit_append(conn, &a, err);
	free(text);
	return rc;
}

static int cmd_user(struct cli *c)
{
	const char *sub = c->args[0];
	const char *username = opt(c, "username");
	struct gz_err err;
	if (!username) {
		fprintf(stderr, "gongzhi: user %s needs --username\n", sub);
		return 2;
	}
	if (strcmp(sub, "add") == 0) {
		const char *role = opt(c, "role"), *pw = opt(c, "password");
		if (!role || !pw) {
			fprintf(stderr, "gongzhi: user add needs --role and --password\n");
			return 2;
		}
		const char *name = opt(c, "display-name");
		json_t *o = json_pack("{s:s,s:s,s:s,s:[s]}", "username", username, "display_name",
		                      name ? name : username, "password", pw, "roles", role);
		int rc = int_opt(c, "unit-id", o, "unit_id");
		if (!rc)
			rc = int_opt(c, "org-id", o, "org_id");
		if (rc) {
			json_decref(o);
			return rc;
		}
		int64_t id;
		rc = gz_entity_create_json(&c->app, &gz_user_entity, NULL, o, &id, &err);
		json_decref(o);
		if (rc) {
			if (*err.field)
				fprintf(stderr, "gongzhi: %s (%s)\n", err.message, err.field);
			else
				fprintf(stderr, "gongzhi: %s\n", err.message);
			return 1;
		}
		printf("created user %s (id %lld)\n", username, (long long)id);
		return 0;
	}
	int64_t id;
	if (find_user(c, username, &id))
		return 1;
	if (strcmp(sub, "passwd") == 0) {
		const char *pw = opt(c, "password");
		if (!pw) {
			fprintf(stderr, "gongzhi: user passwd needs --password\n");
			return 2;
		}
		if (gz_user_set_password(c->app.db, NULL, id, pw, "cli", &err))
			return fail(&err);
		printf("password of %s changed\n", username);
		return 0;
	}
	if (strcmp(sub, "unlock") == 0) {
		struct unlock u = {id, username, false};
		if (gz_db_write(c->app.db, unlock_fn, &u, &err))
			return fail(&err);
		if (u.was_locked)
			printf("user %s unlocked\n", username);
		else
			printf("user %s was not locked; its failed logins are cleared\n", username);
		return 0;
	}
	if (strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0) {
		json_t *o = json_pack("{s:b}", "disabled", strcmp(sub, "disable") == 0);
		json_t *vals;
		int rc = gz_entity_validate(&gz_user_entity, o, false, &vals, &err);
		json_decref(o);
		if (rc)
			return fail(&err);
		struct gz_arena arena;
		gz_arena_init(&arena);
		struct gz_write w = {&gz_user_entity, NULL,  NULL, &c->app, vals, NULL, id,
		                     "cli",           &arena};
		extern int gz_cli_update(struct gz_app *, struct gz_write *, struct gz_err *);
		rc = gz_cli_update(&c->app, &w, &err);
		json_decref(vals);
		gz_arena_release(&arena);
		if (rc)
			return fail(&err);
		printf("user %s %sd\n", username, sub);
		return 0;
	}
	if (strcmp(sub, "totp-reset") == 0) {
		/* a lost phone: the account logs in with its password again (and enrols anew
		 * at the next login when require_totp_for names one of its roles) */
		if (gz_totp_reset(c->app.db, NULL, id, "cli", &err))
			return fail(&err);
		printf("second factor of %s reset: the old codes and recovery codes no longer "
		       "work\n",
		       username);
		return 0;
	}
	fprintf(stderr,
	        "gongzhi: unknown user command '%s' (add, passwd, disable, enable, unlock, "
	        "totp-reset)\n",
	        sub);
	return 2;
}

static int update_fn(struct gz_conn *conn, void *ctx, struct gz_err *err)
{
	struct gz_write *w = ctx;
	w->conn = conn;
	return gz_entity_update(w, 0, err);
}

int gz_cli_update(struct gz_app *app, struct gz_write *w, struct gz_err *err);
int gz_cli_update(struct gz_app *app, struct gz_write *w, struct gz_err *err)
{
	return gz_db_write(app->db, update_fn, w, err);
}

static int cmd_migrate_to(struct cli *c)
{
	struct gz_err err;
	char head[4096];
	gz_app_audit_head_path(&c->app.cfg, c->args[0], head, sizeof(head));
	if (gz_migrate_to(c->app.db, c->args[0], head, &err))
		return fail(&err);
	printf("serve it with --db '%s' (the same data directory: its keys seal the personal "
	       "data and the audit chain)\n",
	       c->args[0]);
	return 0;
}

static int cmd_backup(struct cli *c)
{
	struct gz_err err;
	if (gz_db_backup(c->app.db, c->args[0], &err))
		return fail(&err);
	printf("backup written to %s\n", c->args[0]);
	return 0;
}

static void print_report(const struct gz_audit_report *rep);

static int cmd_restore(struct cli *c)
{
	struct gz_err err;
	if (gz_db_restore(c->app.db, c->args[0], &err))
		return fail(&err);
	printf("restored %s from %s\n", c->app.cfg.db, c->args[0]);
	/* the restored log is shorter than the one checkpointed: anchor it anew (logged) */
	struct gz_audit_report rep;
	int rc = gz_audit_anchor(c->app.db, "restore", &rep, &err);
	if (rc < 0)
		return fail(&err);
	if (rc) {
		print_report(&rep);
		printf("the backup's audit chain is broken: no head checkpoint written\n");
		return 1;
	}
	return 0;
}

static void print_report(const struct gz_audit_report *rep)
{
	if (rep->problem) {
		if (rep->broken_id)
			printf("audit chain broken at entry %lld: %s (%lld entries checked)\n",
			       (long long)rep->broken_id, rep->message, (long long)rep->checked);
		else
			printf("audit chain broken: %s (%lld entries checked)\n", rep->message,
			       (long long)rep->checked);
		return;
	}
	printf("audit chain holds: %lld entries", (long long)rep->checked);
	if (rep->legacy)
		printf(" (%lld of them unkeyed, from before the keyed scheme)",
		       (long long)rep->legacy);
	if (rep->has_head)
		printf(
		    "; head checkpointed at entry %lld, %lld entries after it not yet anchored\n",
		    (long long)rep->head.id, (long long)rep->unanchored);
	else
		printf("; no head checkpoint yet\n");
}

static int audit_verify(struct cli *c)
{
	struct gz_err err;
	struct gz_audit_report rep;
	const char *file = opt(c, "export");
	int rc;
	if (file) {
		FILE *f = fopen(file, "r");
		if (!f) {
			fprintf(stderr, "gongzhi: cannot read %s\n", file);
			return 1;
		}
		rc = gz_audit_check_export(f, &rep, &err);
		fclose(f);
	} else {
		rc = gz_audit_verify(c->app.db, &rep, &err);
	}
	if (rc < 0)
		return fail(&err);
	if (file && !rc) {
		printf("audit export holds: %lld entries", (long long)rep.checked);
		if (rep.has_head)
			printf("; its head checkpoint (entry %lld) is authentic",
			       (long long)rep.head.id);
		printf("\n");
		return 0;
	}
	print_report(&rep);
	return rc ? 1 : 0;
}

static int audit_export(struct cli *c)
{
	const char *from = opt(c, "from"), *to = opt(c, "to"), *file = opt(c, "out");
	int64_t f, t;
	if (!from || !to) {
		fprintf(stderr, "gongzhi: audit export needs --from and --to\n");
		return 2;
	}
	if (!gz_time_parse(from, &f) || !gz_time_parse(to, &t)) {
		fprintf(stderr, "gongzhi: --%s must be a date (YYYY-MM-DD) or an ISO-8601 time\n",
		        gz_time_parse(from, &f) ? "to" : "from");
		return 2;
	}
	if (t <= f) {
		fprintf(stderr, "gongzhi: --to must be after --from\n");
		return 2;
	}
	FILE *out = stdout;
	if (file) {
		if (access(file, F_OK) == 0) {
			fprintf(stderr, "gongzhi: %s already exists\n", file);
			return 1;
		}
		out = fopen(file, "w");
		if (!out) {
			fprintf(stderr, "gongzhi: cannot write %s\n", file);
			return 1;
		}
	}
	struct gz_err err;
	int64_t n;
	int rc = gz_audit_export(c->app.db, f, t, out, &n, &err);
	if (file && fclose(out) != 0 && rc == 0)
		rc = gz_fail(&err, GZ_E_INTERNAL, "cannot write %s", file);
	if (rc)
		return fail(&err);
	struct gz_audit_report rep;
	if (gz_audit_verify(c->app.db, &rep, &err) < 0)
		return fail(&err);
	fprintf(stderr, "exported %lld audit entries%s%s\n", (long long)n, file ? " to " : "",
	        file ? file : "");
	if (rep.problem) {
		fprintf(stderr, "gongzhi: warning: ");
		fflush(stderr);
		print_report(&rep);
		return 1;
	}
	return 0;
}

static int audit_anchor(struct cli *c)
{
	struct gz_err err;
	struct gz_audit_report rep;
	int rc = gz_audit_anchor(c->app.db, "anchor", &rep, &err);
	if (rc < 0)
		return fail(&err);
	if (rc) {
		print_report(&rep);
		printf("nothing anchored: the chain itself is broken\n");
		return 1;
	}
	printf("audit head re-anchored at entry %lld\n", (long long)rep.head.id);
	return 0;
}

static int cmd_audit(struct cli *c)
{
	if (strcmp(c->args[0], "verify") == 0)
		return audit_verify(c);
	if (strcmp(c->args[0], "export") == 0)
		return audit_export(c);
	if (strcmp(c->args[0], "anchor") == 0)
		return audit_anchor(c);
	fprintf(stderr, "gongzhi: unknown audit command '%s' (verify, export, anchor)\n",
	        c->args[0]);
	return 2;
}

static const struct command commands[] = {
    {"serve",
     cmd_serve,
     "serve [--listen ADDR] [--data-dir DIR] [--web-dir DIR]",
     "serve the API and the console",
     {NULL},
     0,
     true},
    {"init",
     cmd_init,
     "init [--admin-password P]",
     "create the database and the account admin (prints a generated password)",
     {"admin-password"},
     0,
     false},
    {"demo",
     cmd_demo,
     "demo",
     "fill an initialised database with the demo district",
     {NULL},
     0,
     true},
    {"migrate", cmd_migrate, "migrate", "apply pending schema migrations", {NULL}, 0, false},
    {"migrate-to",
     cmd_migrate_to,
     "migrate-to postgresql://…",
     "copy this SQLite database into an empty PostgreSQL one (a pilot grows into several "
     "nodes)",
     {NULL},
     1,
     true},
    {"user",
     cmd_user,
     "user add --username U --role R [--unit-id N] [--org-id N] [--display-name N] "
     "--password P\n       gongzhi user passwd --username U --password P\n"
     "       gongzhi user disable|enable --username U\n"
     "       gongzhi user unlock --username U\n"
     "       gongzhi user totp-reset --username U",
     "manage accounts",
     {"username", "role", "unit-id", "org-id", "password", "display-name"},
     1,
     true},
    {"backup",
     cmd_backup,
     "backup FILE",
     "write an online, consistent copy of the database",
     {NULL},
     1,
     true},
    {"restore",
     cmd_restore,
     "restore FILE",
     "replace the database with a backup (stop the server first)",
     {NULL},
     1,
     false},
    {"audit",
     cmd_audit,
     "audit verify [--export FILE]\n"
     "       gongzhi audit export --from DATE --to DATE [--out FILE]\n"
     "       gongzhi audit anchor",
     "verify the keyed audit chain and its head checkpoint, export a period, re-anchor",
     {"export", "from", "to", "out"},
     1,
     true},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: gongzhi COMMAND [options]\n\ncommands:\n");
	for (size_t i = 0; i < GZ_ARRAY_LEN(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'gongzhi COMMAND --help' shows a command's options.\n");
}

static void command_help(const struct command *cmd)
{
	printf("usage: gongzhi %s\n\n%s\n\n", cmd->usage, cmd->help);
	gz_config_print_help();
}

static bool command_option(const struct command *cmd, const char *name)
{
	for (int i = 0; i < MAX_OPTS && cmd->options[i]; i++)
		if (strcmp(cmd->options[i], name) == 0)
			return true;
	return false;
}

int gz_cli_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const struct command *cmd = NULL;
	for (size_t i = 0; i < GZ_ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].name, argv[1]) == 0)
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "gongzhi: unknown command '%s' (see gongzhi --help)\n", argv[1]);
		return 2;
	}
	struct cli c;
	memset(&c, 0, sizeof(c));
	gz_config_defaults(&c.app.cfg);
	struct gz_config flags;
	gz_config_defaults(&flags);
	const char *flag_names[32];
	const char *flag_values[32];
	int nflags = 0, status = 0;
	struct gz_err err;

	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			command_help(cmd);
			gz_config_release(&flags);
			gz_config_release(&c.app.cfg);
			return 0;
		}
		if (strncmp(a, "--", 2) != 0) {
			if (c.nargs == 8) {
				fprintf(stderr, "gongzhi: too many arguments\n");
				status = 2;
				goto out;
			}
			c.args[c.nargs++] = a;
			continue;
		}
		char name[64];
		const char *value;
		const char *eq = strchr(a + 2, '=');
		if (eq) {
			snprintf(name, sizeof(name), "%.*s", (int)(eq - a - 2), a + 2);
			value = eq + 1;
		} else {
			snprintf(name, sizeof(name), "%s", a + 2);
			if (i + 1 >= argc) {
				fprintf(stderr, "gongzhi: --%s needs a value\n", name);
				status = 2;
				goto out;
			}
			value = argv[++i];
		}
		if (command_option(cmd, name)) {
			if (c.nopts < MAX_OPTS) {
				c.opt_names[c.nopts] = cmd->options[0] ? gz_xstrdup(name) : NULL;
				c.opt_values[c.nopts++] = value;
			}
		} else if (gz_config_known(name) && nflags < 32) {
			flag_names[nflags] = gz_xstrdup(name);
			flag_values[nflags++] = value;
		} else {
			fprintf(stderr,
			        "gongzhi: unknown option --%s for %s (see gongzhi %s --help)\n",
			        name, cmd->name, cmd->name);
			status = 2;
			goto out;
		}
	}
	if (c.nargs != cmd->nargs) {
		fprintf(stderr, "usage: gongzhi %s\n", cmd->usage);
		status = 2;
		goto out;
	}
	/* precedence: defaults < file < environment < flags */
	const char *conf = getenv("GONGZHI_CONFIG");
	for (int i = 0; i < nflags; i++)
		if (strcmp(flag_names[i], "config") == 0)
			conf = flag_values[i];
	if (gz_config_load_file(&c.app.cfg, conf ? conf : "gongzhi.conf", conf != NULL, &err) ||
	    gz_config_load_env(&c.app.cfg, &err)) {
		status = fail(&err) ? 2 : 0;
		goto out;
	}
	for (int i = 0; i < nflags; i++)
		if (gz_config_set(&c.app.cfg, flag_names[i], flag_values[i], &err)) {
			fprintf(stderr, "gongzhi: %s\n", err.message);
			status = 2;
			goto out;
		}
	if (gz_crypto_init()) {
		fprintf(stderr, "gongzhi: cannot initialise libsodium\n");
		status = 1;
		goto out;
	}
	bool create = strcmp(cmd->name, "init") == 0 || strcmp(cmd->name, "restore") == 0;
	if (strcmp(cmd->name, "restore") == 0 && gz_db_check_backup(c.args[0], &err)) {
		status = fail(&err); /* before the target is created: a bad backup leaves nothing */
		goto out;
	}
	status = open_app(&c, create, cmd->needs_schema);
	if (!status)
		status = cmd->run(&c);
	gz_app_close(&c.app);
out:
	for (int i = 0; i < nflags; i++)
		free((char *)flag_names[i]);
	for (int i = 0; i < c.nopts; i++)
		free((char *)c.opt_names[i]);
	gz_config_release(&flags);
	gz_config_release(&c.app.cfg);
	return status;
}
