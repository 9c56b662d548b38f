/* config.c - the settings table and the three loaders (file, environment, flags). */
#include "config.h"
#include "util.h"
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { STR, INT };

struct setting {
	const char *name;
	enum kind kind;
	size_t offset;
	const char *def;
	int64_t min, max;
	const char *help;
};

#define S(n, d, h)                                                                                 \
	{                                                                                          \
#n, STR, offsetof(struct gz_config, n), d, 0, 0, h                                 \
	}
#define I(n, d, lo, hi, h)                                                                         \
	{                                                                                          \
#n, INT, offsetof(struct gz_config, n), d, lo, hi, h                               \
	}

static const struct setting settings[] = {
    S(config, "", "configuration file (default ./gongzhi.conf when present)"),
    S(db, "sqlite:gongzhi.db", "database: sqlite:/path/file.db or postgresql://…"),
    S(listen, "127.0.0.1:8080", "address:port to serve on"),
    S(metrics_listen, "", "address:port serving /metrics alone (default: on listen)"),
    S(metrics_token, "", "bearer token /metrics requires (default: none)"),
    S(trusted_proxies, "",
      "comma list of proxy addresses whose X-Forwarded-For/-Proto are believed"),
    S(cookie_secure, "auto",
      "session cookie Secure: auto (when https via a trusted proxy) | always | never"),
    S(data_dir, "data", "directory for attachments and the secret key"),
    S(web_dir, "web/dist", "directory of the built console"),
    S(secret_key_file, "", "key for personal data (default DATA_DIR/secret.key)"),
    S(audit_key_file, "", "key of the audit chain's HMACs (default DATA_DIR/audit.key)"),
    S(audit_head_file, "",
      "checkpoint of the audit chain's head (default DATA_DIR/<db file name>.audit-head)"),
    S(log_level, "info", "debug | info | warn | error"),
    I(threads, "16", 1, 256, "HTTP worker threads (each serves one request at a time)"),
    I(read_connections, "8", 1, 256, "database read connections"),
    I(body_limit, "1048576", 1024, 1 << 30, "largest JSON body in bytes"),
    I(upload_limit, "10485760", 1024, 1 << 30, "largest upload in bytes"),
    I(session_idle_seconds, "1800", 1, 86400 * 30, "idle time before a session expires"),
    I(session_cache_seconds, "5", 0, 3600, "how long a session is trusted from memory"),
    I(lockout_failures, "5", 1, 1000, "failed logins that lock an account"),
    I(lockout_window_seconds, "900", 1, 86400, "window in which failures are counted"),
    I(lockout_seconds, "1800", 1, 86400 * 7, "how long a locked account stays locked"),
    I(rate_limit_account, "50", 0, 1000000,
      "requests per second an account may make, sustained (0: no limit)"),
    I(rate_limit_account_burst, "300", 1, 10000000,
      "requests an account may make at once above the sustained rate"),
    I(rate_limit_address, "100", 0, 1000000,
      "requests per second a client address may make, sustained (0: no limit)"),
    I(rate_limit_address_burst, "600", 1, 10000000,
      "requests a client address may make at once above the sustained rate"),
    I(rate_limit_entries, "16384", 64, 1 << 24,
      "accounts and addresses each limit remembers (fixed memory, about 30 bytes each)"),
    I(login_address_failures, "20", 0, 1000000,
      "failed logins a client address may make per window, any usernames (0: no limit)"),
    I(login_address_window_seconds, "900", 1, 86400, "window of login_address_failures"),
    I(sla_scan_seconds, "60", 1, 86400, "how often the SLA scanner looks for overdue work orders"),
    I(score_weight_response, "30", 0, 100,
      "weight in percent of the response rate in the work-order score"),
    I(score_weight_resolution, "35", 0, 100,
      "weight in percent of the resolution rate in the work-order score"),
    I(score_weight_satisfaction, "35", 0, 100,
      "weight in percent of the satisfaction rate in the work-order score"),
    I(stats_min_orders, "5", 0, 1000000,
      "statistics rows with fewer orders are marked too_few, their rates null (rankings)"),
    I(reveal_per_hour, "60", 0, 100000,
      "reveals of personal data (a requester's phone) an account may make per hour (0: no "
      "limit)"),
    I(sse_max_streams, "256", 0, 100000,
      "open event streams (GET /api/v1/events) at most; more are answered 503"),
    I(sse_heartbeat_seconds, "15", 1, 3600, "comment line sent on an idle event stream"),
    S(notify_webhook_url, "", "URL notifications are POSTed to (SMS gateway, robot); empty: off"),
    S(notify_webhook_secret, "",
      "key of the webhook's X-Gongzhi-Signature (HMAC-SHA256); empty: unsigned"),
    I(notify_webhook_backoff_seconds, "10", 1, 86400,
      "wait before the first retry of a failed delivery (doubling, at most 1 h)"),
    I(notify_webhook_max_attempts, "12", 1, 1000, "deliveries tried before giving up"),
    I(notify_webhook_timeout_seconds, "10", 1, 300, "time allowed for one delivery"),
    I(commit_batch_max, "256", 1, 100000, "requests committed together at most"),
    S(password_hash, "interactive", "Argon2id cost: interactive | moderate | min"),
    S(synchronous, "FULL", "SQLite synchronous: FULL (a 201 is on disk) | NORMAL"),
    S(require_totp_for, "admin",
      "roles that must use a second factor (TOTP), comma list; empty for none"),
};

static const struct setting *find(const char *name)
{
	char norm[64];
	size_t i;
	for (i = 0; name[i] && i < sizeof(norm) - 1; i++)
		norm[i] = name[i] == '-' ? '_' : (char)tolower((unsigned char)name[i]);
	norm[i] = 0;
	for (size_t k = 0; k < GZ_ARRAY_LEN(settings); k++)
		if (strcmp(settings[k].name, norm) == 0)
			return &settings[k];
	return NULL;
}

bool gz_config_known(const char *name)
{
	return find(name) != NULL;
}

static int apply(struct gz_config *c, const struct setting *s, const char *value,
                 struct gz_err *err)
{
	char *base = (char *)c;
	if (s->kind == STR) {
		char **slot = (char **)(base + s->offset);
		free(*slot);
		*slot = gz_xstrdup(value);
		return 0;
	}
	int64_t v;
	if (!gz_parse_i64(value, &v) || v < s->min || v > s->max)
		return gz_fail_field(err, GZ_E_VALIDATION, s->name,
		                     "%s must be a whole number from %lld to %lld", s->name,
		                     (long long)s->min, (long long)s->max);
	*(int64_t *)(base + s->offset) = v;
	return 0;
}

void gz_config_defaults(struct gz_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t k = 0; k < GZ_ARRAY_LEN(settings); k++)
		if (apply(c, &settings[k], settings[k].def, NULL))
			GZ_BUG("bad default for %s", settings[k].name);
}

void gz_config_release(struct gz_config *c)
{
	for (size_t k = 0; k < GZ_ARRAY_LEN(settings); k++)
		if (settings[k].kind == STR)
			free(*(char **)((char *)c + settings[k].offset));
	memset(c, 0, sizeof(*c));
}

int gz_config_set(struct gz_config *c, const char *name, const char *value, struct gz_err *err)
{
	const struct setting *s = find(name);
	if (!s)
		return gz_fail_field(err, GZ_E_UNKNOWN_FIELD, name, "unknown setting '%s'", name);
	return apply(c, s, value, err);
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

int gz_config_load_file(struct gz_config *c, const char *path, bool required, struct gz_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		if (!required)
			return 0;
		return gz_fail(err, GZ_E_BAD_REQUEST, "cannot read configuration file %s", path);
	}
	char line[4096];
	int lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *p = trim(line);
		if (!*p || *p == '#')
			continue;
		char *eq = strchr(p, '=');
		if (!eq) {
			fclose(f);
			return gz_fail(err, GZ_E_BAD_REQUEST, "%s:%d: expected name = value", path,
			               lineno);
		}
		*eq = 0;
		char *name = trim(p), *value = trim(eq + 1);
		if (gz_config_set(c, name, value, err)) {
			fclose(f);
			char msg[sizeof(err->message)], field[sizeof(err->field)];
			snprintf(msg, sizeof(msg), "%s", err->message);
			snprintf(field, sizeof(field), "%s", err->field);
			return gz_fail_field(err, err->code, field, "%s:%d: %s", path, lineno, msg);
		}
	}
	fclose(f);
	return 0;
}

int gz_config_load_env(struct gz_config *c, struct gz_err *err)
{
	for (size_t k = 0; k < GZ_ARRAY_LEN(settings); k++) {
		char env[80] = "GONGZHI_";
		size_t n = strlen(env);
		for (const char *p = settings[k].name; *p && n < sizeof(env) - 1; p++)
			env[n++] = (char)toupper((unsigned char)*p);
		env[n] = 0;
		const char *v = getenv(env);
		if (v && apply(c, &settings[k], v, err))
			return -1;
	}
	return 0;
}

void gz_config_print_help(void)
{
	printf("Settings (file: name = value; environment: GONGZHI_NAME; flag: --name):\n");
	for (size_t k = 0; k < GZ_ARRAY_LEN(settings); k++) {
		char flag[64];
		snprintf(flag, sizeof(flag), "%s", settings[k].name);
		for (char *p = flag; *p; p++)
			if (*p == '_')
				*p = '-';
		printf("  --%-24s %s (default: %s)\n", flag, settings[k].help,
		       *settings[k].def ? settings[k].def : "none");
	}
}

const char *gz_config_sqlite_path(const char *db)
{
	if (gz_str_has_prefix(db, "sqlite://"))
		return db + 9;
	if (gz_str_has_prefix(db, "sqlite:"))
		return db + 7;
	if (gz_str_has_prefix(db, "postgres"))
		return NULL;
	return db; /* a bare path */
}
