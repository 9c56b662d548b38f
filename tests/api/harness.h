/* API test harness: starts a gongzhi server on a free port in a temp dir and talks
 * HTTP to it with libcurl. Each t*.c test program links this file. */
#ifndef GONGZHI_TEST_HARNESS_H
#define GONGZHI_TEST_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <sys/types.h>
#include <cmocka.h>
#include <jansson.h>

/* printf into one of 64 rotating static buffers (for paths and bodies). */
const char *F(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Percent-encodes a query value (one of 4 rotating static buffers). */
const char *Q(const char *s);
/* n copies of a UTF-8 character; the caller frees. */
char *repeat(const char *ch, int n);

#define DEMO_PW "Gongzhi-Demo-2026"
#define ADMIN_PW "Admin-Pass-2026"

struct srv {
	char base[64];   /* "http://127.0.0.1:PORT" */
	char dir[256];   /* temp dir */
	char db[300];    /* "sqlite:DIR/t.db", or $GONGZHI_TEST_PG + dbname (harness_pg()) */
	char dbname[64]; /* PostgreSQL: "gz_t_<pid>_<counter>", dropped by srv_cleanup */
	char data[300];  /* DIR/data */
	int port;
	pid_t pid;
	char admin_pw[64];
	char log[300]; /* DIR/server.log */
	/* a further node of another server's database (srv_start_node): that server's data
	 * directory, whose secret key, audit key and audit head file this one uses; "" for
	 * a server of its own */
	char keys_dir[300];
};

/* ---- the database backend under test ----
 *
 * Without GONGZHI_TEST_PG every server uses sqlite:DIR/t.db.  With GONGZHI_TEST_PG set
 * to a PostgreSQL base URL ("postgresql://postgres@127.0.0.1:55432/", as
 * scripts/pg-cluster prints it), every server gets a database of its own on that
 * cluster, BASE + "gz_t_<pid>_<counter>" (`gongzhi init` creates it), dropped again
 * when the server is cleaned up or the test program exits. */

/* true on the PostgreSQL pass: suites skip() the few cases that only make sense on
 * SQLite (the .db file, its backup/restore, the SQLite fault hooks) */
bool harness_pg(void);
/* The URL of a further database of the backend under test, named after s and name
 * (lower case letters, digits, '_'): "sqlite:DIR/<name>.db" or
 * BASE + s->dbname + "_<name>" (not created; dropped with s).  One of 8 rotating
 * static buffers. */
const char *srv_db_url(struct srv *s, const char *name);
/* Runs the formatted SQL on the database at url with the backend's shell (sqlite3
 * -batch -bail with a 5 s busy timeout, or psql -X -q -A -t -v ON_ERROR_STOP=1): the
 * rows as "a|b" lines, error messages too, into o (NUL-terminated; o may be NULL).
 * The SQL goes through a file, so it may hold any quotes.  Returns the exit status
 * (0 when every statement succeeded), -1 when it could not run. */
int db_sql_url(const char *url, char *o, size_t olen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* db_sql_url() on the server's own database s->db. */
int db_sql(struct srv *s, char *o, size_t olen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The integer the formatted SQL answers on s's database (its first line); asserts the
 * statement succeeded, printing the output otherwise. */
int64_t db_int_(struct srv *s, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define db_int(s, ...) db_int_((s), __FILE__, __LINE__, __VA_ARGS__)
/* The statement that drops trigger name of table on the backend under test:
 * "DROP TRIGGER name;" or "DROP TRIGGER name ON table;" (one of 4 static buffers). */
const char *sql_drop_trigger(const char *name, const char *table);
/* Copies the database at from_url over the one at to_url (the same backend; no server
 * may use either): the file (its -wal/-shm removed) on SQLite, DROP DATABASE and
 * CREATE DATABASE … TEMPLATE on PostgreSQL.  0, or -1 with the reason on stderr. */
int db_copy(const char *from_url, const char *to_url);

/* Creates a temp dir, runs `$GONGZHI_BIN init --admin-password Admin-Pass-2026` (and
 * `demo` when demo), starts `serve` on a free 127.0.0.1 port with env
 * GONGZHI_DB=sqlite:DIR/t.db (or the PostgreSQL database, see harness_pg())
 * GONGZHI_DATA_DIR=DIR/data GONGZHI_PASSWORD_HASH=min
 * GONGZHI_THREADS=4, the abuse limits off (GONGZHI_RATE_LIMIT_ACCOUNT=0,
 * GONGZHI_RATE_LIMIT_ADDRESS=0, GONGZHI_LOGIN_ADDRESS_FAILURES=0),
 * GONGZHI_REQUIRE_TOTP_FOR= (no second factor required) plus the extra "KEY=VALUE"
 * entries (NULL-terminated array, may be NULL; a bare "KEY" unsets KEY, for the
 * server's default), waits until /healthz answers (max 10 s). 0 on success. */
int srv_start(struct srv *s, const char *const *env, bool demo);
/* Starts a further node of first's database (several gongzhi on one PostgreSQL): a temp
 * dir of its own (log, DIR/data for attachments), no `init` (first did it), the same
 * db URL, and the key files and audit head file of first's data directory
 * (GONGZHI_SECRET_KEY_FILE, GONGZHI_AUDIT_KEY_FILE, GONGZHI_AUDIT_HEAD_FILE: every node
 * seals personal data, chains the audit log and checkpoints its head alike), with the
 * base environment of srv_start plus env; run_cli() on it passes the same files.  The
 * database stays first's: srv_cleanup(s) drops nothing, so clean s up before first.
 * 0 when /healthz answers within 10 s. */
int srv_start_node(struct srv *s, const struct srv *first, const char *const *env);
/* kill -9 and waitpid (the node dies mid-write, as in a crash); 0, or -1 when it was
 * not running.  srv_restart() starts it again. */
int srv_kill(struct srv *s);
/* SIGTERM, waitpid (SIGKILL after 20 s); returns the exit status (128+signal when
 * killed by a signal, -1 when not running); removes nothing. */
int srv_stop(struct srv *s);
/* Starts `serve` again on the directory (database, data) of s after srv_stop (or stops
 * it first), on the same port when free, with the same base environment plus env;
 * waits for /healthz (max 10 s). 0 on success. */
int srv_restart(struct srv *s, const char *const *env);
/* rm -rf the temp dir; on PostgreSQL drops s's database and those srv_db_url() named */
void srv_cleanup(struct srv *s);
/* Prints the last lines of the server log to stderr. */
void srv_log_tail(struct srv *s, int lines);
/* Whether a line of the server log (every start's, restarts append) holds needle, and
 * needle2 too when it is not NULL. */
bool srv_log_has(struct srv *s, const char *needle, const char *needle2);

struct resp {
	long status;  /* HTTP status, 0 on transport failure */
	json_t *json; /* parsed body or NULL */
	char *body;   /* NUL-terminated body ("" when empty) */
	size_t len;
	char *headers; /* "Name: value\nName2: value2\n" of the final response */
};

/* body may be NULL; headers is NULL or "Name: value\nName2: value2"; token NULL =
 * anonymous, else "Authorization: Bearer <token>". Content-Type: application/json is
 * sent when body != NULL unless headers set a Content-Type (an empty "Content-Type:"
 * sends none). The path is sent as is (no dot-segment squashing). */
struct resp *api(struct srv *s, const char *method, const char *path, const char *token,
                 const char *body, const char *headers);
/* Like api() with an explicit body length (body may contain NULs). */
struct resp *api_len(struct srv *s, const char *method, const char *path, const char *token,
                     const char *body, size_t body_len, const char *headers);
/* path formatted */
struct resp *apif(struct srv *s, const char *method, const char *token, const char *body,
                  const char *path_fmt, ...) __attribute__((format(printf, 5, 6)));
/* Like apif() with extra headers. */
struct resp *apihf(struct srv *s, const char *method, const char *token, const char *body,
                   const char *headers, const char *path_fmt, ...)
    __attribute__((format(printf, 6, 7)));
void resp_free(struct resp *r);
/* case-insensitive; pointer into a static per-resp copy (valid until resp_free) or NULL.
 * The first header of that name. */
const char *resp_header(struct resp *r, const char *name);
const char *err_code(struct resp *r);  /* error.code or "" */
const char *err_field(struct resp *r); /* error.field or "" */

/* bearer token (malloc) or NULL */
char *login(struct srv *s, const char *user, const char *password);
/* Full login response (or NULL on transport failure); caller frees. */
struct resp *login_resp(struct srv *s, const char *user, const char *password);

/* runs "$GONGZHI_BIN <formatted args>" via /bin/sh with GONGZHI_DB/GONGZHI_DATA_DIR of s
 * and GONGZHI_PASSWORD_HASH=min; captures stdout+stderr into out (may be NULL);
 * returns the exit status (-1 when it could not run) */
int run_cli(struct srv *s, char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Runs the formatted shell command, its standard output into o (NUL-terminated, at most
 * olen - 1 bytes); returns its exit status, -1 when it could not run. */
int sh(char *o, size_t olen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Asserts the exit status of run_cli() (output into out), printing the output on a
 * mismatch. */
#define assert_cli(s, out, outlen, expect, ...)                                                    \
	do {                                                                                       \
		int rc_ = run_cli((s), (out), (outlen), __VA_ARGS__);                              \
		if (rc_ != (expect))                                                               \
			print_error("%s:%d: exit %d, expected %d; output:\n%s\n", __FILE__,        \
			            __LINE__, rc_, (expect), (out));                               \
		assert_int_equal(rc_, (expect));                                                   \
	} while (0)

json_t *jpath(json_t *o, const char *path);    /* "items.0.id", "error.code"; borrowed or NULL */
int64_t jint(json_t *o, const char *path);     /* 0 when absent */
const char *jstr(json_t *o, const char *path); /* "" when absent */

/* The path of the gongzhi binary ($GONGZHI_BIN or the built one). */
const char *gongzhi_bin(void);
/* A name unique within this process run: "<prefix><pid>x<counter>" (static buffer
 * rotated among 8 slots). Lower case, digits and the prefix only. */
const char *uniq(const char *prefix);
/* id of the first unit whose name matches q exactly (as admin token), 0 when none */
int64_t unit_id(struct srv *s, const char *admin_token, const char *name);
/* id of the first org whose name matches exactly, 0 when none */
int64_t org_id(struct srv *s, const char *admin_token, const char *name);
/* id of the user with that username, 0 when none */
int64_t user_id(struct srv *s, const char *admin_token, const char *username);

/* Creates an account through POST /api/v1/users with token tok: roles_json is a JSON
 * list such as "[\"resident\"]"; unit_id/org_id 0 = not sent. Returns the new id, or 0
 * (the response is printed to stderr). */
int64_t create_user(struct srv *s, const char *tok, const char *username, const char *password,
                    const char *roles_json, int64_t unit_id, int64_t org_id);
/* Sleeps ms milliseconds. */
void msleep(long ms);
/* true when haystack contains needle (NULL-safe) */
bool contains(const char *haystack, const char *needle);

/* Asserts the status and prints method/body of the response on mismatch. */
#define assert_status(r, st)                                                                       \
	do {                                                                                       \
		struct resp *r_ = (r);                                                             \
		assert_non_null(r_);                                                               \
		if (r_->status != (long)(st))                                                      \
			print_error("%s:%d: expected HTTP %ld, got %ld: %.2000s\n", __FILE__,      \
			            __LINE__, (long)(st), r_->status,                              \
			            r_->body ? r_->body : "(null)");                               \
		assert_int_equal(r_->status, (st));                                                \
	} while (0)

/* Asserts status and error code (and field when not NULL). */
#define assert_error(r, st, code, field)                                                           \
	do {                                                                                       \
		struct resp *re_ = (r);                                                            \
		assert_status(re_, st);                                                            \
		if (re_->json == NULL || !json_is_object(jpath(re_->json, "error")))               \
			print_error("%s:%d: no error object: %.2000s\n", __FILE__, __LINE__,       \
			            re_->body);                                                    \
		assert_non_null(jpath(re_->json, "error.message"));                                \
		if (strcmp(err_code(re_), (code)) != 0)                                            \
			print_error("%s:%d: body: %.2000s\n", __FILE__, __LINE__, re_->body);      \
		assert_string_equal(err_code(re_), (code));                                        \
		const char *fe_ = (field);                                                         \
		if (fe_ != NULL) {                                                                 \
			if (strcmp(err_field(re_), fe_ ? fe_ : "") != 0)                           \
				print_error("%s:%d: body: %.2000s\n", __FILE__, __LINE__,          \
				            re_->body);                                            \
			assert_string_equal(err_field(re_), fe_ ? fe_ : "");                       \
		}                                                                                  \
	} while (0)

/* ---- the standard fixture ----
 *
 * A running demo server (srv_start(…, env, true)) with a session of one account per
 * role and the ids of the demo's standard units, organisations and accounts, looked
 * up by name once: a suite starts with fixture_start() in its setup and
 * fixture_stop() in its teardown, and writes tests, not lookups. */
enum fx_account {
	/* one per role, in the order of GZ_ROLES (src/auth/auth.h) */
	FX_ADMIN,    /* admin: 区级管理员 */
	FX_JIEDAO,   /* subdistrict_staff of 东新街道 */
	FX_SHEQU,    /* community_staff of 沙柳北路社区 */
	FX_WANGGE,   /* grid_worker of 沙柳北路社区第一网格 */
	FX_HEHUOREN, /* partner of 天津金仕途信息科技有限公司 */
	FX_WUYE,     /* property of 天津鸿润物业服务有限公司 */
	FX_TIAOJIE,  /* mediator */
	FX_JUMIN,    /* resident of 沙柳北路社区 */
	/* further staff the scope tests need */
	FX_SHEQU2, /* community_staff of 凤岐里社区 */
	FX_LUSHAN, /* subdistrict_staff of 鲁山道街道 */
	FX_NACCOUNTS
};
extern const char *const fx_usernames[FX_NACCOUNTS];

struct fixture {
	struct srv *srv;           /* the suite's server (given to fixture_start) */
	char *tok[FX_NACCOUNTS];   /* session tokens (owned by the fixture) */
	int64_t uid[FX_NACCOUNTS]; /* account ids */
	/* units: the district, subdistricts, communities, compounds, buildings, a grid */
	int64_t u_district, u_dongxin, u_lushan, u_tiechang;
	int64_t u_shaliu, u_fengqi, u_songshan;
	int64_t u_shaliu_beili, u_shaliuyuan, u_fengqi_xiaoqu, u_qinglin, u_haohong, u_yuancui;
	int64_t u_beili_b1, u_fengqi_b2, u_grid1;
	/* organisations */
	int64_t o_haoan, o_hongrun, o_dongxin_wuye, o_jinshitu, o_bank_hedong, o_leling,
	    o_songshan_school, o_hospital;
};
/* Starts the demo server s with the extra environment env (as srv_start; may be
 * NULL), logs every account in and looks the standard ids up.  0, or -1 with the
 * reason on stderr (the server is stopped again). */
int fixture_start(struct fixture *fx, struct srv *s, const char *const *env);
/* The session token of a fixture account by username (NULL when not one of them). */
const char *fx_token(const struct fixture *fx, const char *username);
/* Frees the tokens, stops the server (its exit status is returned: 0 for a clean
 * stop) and removes its directory. */
int fixture_stop(struct fixture *fx);

/* POST path with body, asserts 201 (failing the test at the caller's line) and
 * returns the new id. */
int64_t post_id_(struct srv *s, const char *token, const char *path, const char *body,
                 const char *file, int line);
#define post_id(s, token, path, body) post_id_((s), (token), (path), (body), __FILE__, __LINE__)
/* The total of GET path?count=true&limit=1[&query], asserting 200. */
int64_t total_count(struct srv *s, const char *token, const char *path, const char *query);
/* GET path (an export.xlsx) as token, asserting 200, the spreadsheet content type and
 * a zip, and its first sheet read back with python3's zipfile: a JSON array of rows,
 * each an object from column letters to cell values ("A": "…"); a number cell is a
 * number, one with a style (a date) the string "date:<serial>".  New reference. */
json_t *xlsx_get(struct srv *s, const char *token, const char *path);
/* Does a list of objects hold one with this id? */
bool has_id(json_t *items, int64_t id);

/* ---- event streams (GET /api/v1/events) over a raw socket ---- */
struct sse {
	int fd;
	char buf[1 << 17]; /* what was read (the tail kept when it fills), NUL-ended */
	size_t len;
	bool closed;
};
/* Opens a stream on s as token, with Last-Event-ID last_id and query ("?once=true")
 * when not NULL. */
struct sse *sse_open(struct srv *s, const char *token, const char *last_id, const char *query);
/* Reads until needle appears (true) or ms pass or the stream ends (false). */
bool sse_wait(struct sse *e, const char *needle, int ms);
void sse_close(struct sse *e);

#endif
