/* config.h - configuration from defaults, the file gongzhi.conf, the environment
 * (GONGZHI_<NAME>) and command-line flags (--name), later sources winning.
 *
 * Every setting is declared once in config.c's table with its name, type, default and
 * help; the file format is "name = value" lines with '#' comments.  Names use '_' in
 * the file and the environment and '-' on the command line (--data-dir). */
#ifndef GZ_CONFIG_H
#define GZ_CONFIG_H
#include "err.h"
#include <stdbool.h>
#include <stdint.h>

struct gz_config {
	char *config;          /* path of the file read, "" for none */
	char *db;              /* sqlite:/path or postgresql://… */
	char *listen;          /* host:port */
	char *metrics_listen;  /* host:port for /metrics alone, "" to serve it on listen */
	char *metrics_token;   /* bearer token /metrics requires, "" for none */
	char *trusted_proxies; /* comma list of addresses whose X-Forwarded-* count */
	char *cookie_secure;   /* auto | always | never */
	char *data_dir;        /* attachments, secret key */
	char *web_dir;         /* console build (web/dist) */
	char *secret_key_file; /* 32-byte key for personal data; default DATA_DIR/secret.key */
	char *audit_key_file;  /* 32-byte key of the audit HMACs; default DATA_DIR/audit.key */
	char *audit_head_file; /* audit head checkpoint; default DATA_DIR/<db name>.audit-head */
	char *log_level;
	int64_t threads;          /* HTTP worker threads */
	int64_t read_connections; /* database read pool size */
	int64_t body_limit;       /* bytes of JSON body */
	int64_t upload_limit;     /* bytes of multipart body */
	int64_t session_idle_seconds;
	int64_t session_cache_seconds;
	int64_t lockout_failures;
	int64_t lockout_window_seconds;
	int64_t lockout_seconds;

	/* abuse limits (http/ratelimit.h): sustained requests per second and burst, 0 off;
	 * how many keys each limit remembers; failed logins per address and window */
	int64_t rate_limit_account, rate_limit_account_burst;
	int64_t rate_limit_address, rate_limit_address_burst;
	int64_t rate_limit_entries;
	int64_t login_address_failures, login_address_window_seconds;

	int64_t sse_max_streams, sse_heartbeat_seconds; /* event streams (notify_events.c) */
	/* the notification webhook (notify_webhook.c): "" url for none */
	char *notify_webhook_url, *notify_webhook_secret;
	int64_t notify_webhook_backoff_seconds, notify_webhook_max_attempts;
	int64_t notify_webhook_timeout_seconds;
	int64_t commit_batch_max; /* requests per group commit */
	int64_t sla_scan_seconds; /* how often overdue work orders are looked for */
	/* weights (percent) of the three rates in the work-order score */
	int64_t score_weight_response, score_weight_resolution, score_weight_satisfaction;
	/* statistics rows of fewer orders are marked too_few, without rates */
	int64_t stats_min_orders;
	/* reveals of personal data an account may make per hour (0: no limit) */
	int64_t reveal_per_hour;
	char *password_hash; /* interactive | moderate | min (tests) */
	char *synchronous;   /* FULL (default) | NORMAL */
	/* role names that must use a second factor (comma list, "" for none) */
	char *require_totp_for;
};

/* Fills c with defaults.  Strings are heap copies freed by gz_config_release(). */
void gz_config_defaults(struct gz_config *c);
void gz_config_release(struct gz_config *c);
/* Sets one setting by name ('-' and '_' equivalent).  Fails naming the setting:
 * unknown_field when the name is unknown, validation_failed when the value does not
 * parse or is out of range. */
int gz_config_set(struct gz_config *c, const char *name, const char *value, struct gz_err *err);
/* Reads "name = value" lines; a missing file is an error only when required. */
int gz_config_load_file(struct gz_config *c, const char *path, bool required, struct gz_err *err);
/* Applies GONGZHI_* variables from the environment. */
int gz_config_load_env(struct gz_config *c, struct gz_err *err);
/* Is name a setting?  (For the command-line parser.) */
bool gz_config_known(const char *name);
/* Prints every setting with its default and help text. */
void gz_config_print_help(void);
/* The file path behind a sqlite: URL, or NULL when db is not SQLite. */
const char *gz_config_sqlite_path(const char *db);

#endif
