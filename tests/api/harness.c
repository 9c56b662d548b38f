/* API test harness: see harness.h. */
#include "harness.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#ifndef GONGZHI_BIN_DEFAULT
#define GONGZHI_BIN_DEFAULT "gongzhi"
#endif

extern char **environ;

static int curl_users;

/* Servers still running: a failed assertion skips a test's srv_stop, so whatever is
 * left at exit is killed and its directory removed (after printing its log tail). */
enum { MAX_LIVE = 32 };
static struct live {
	pid_t pid;
	char dir[256], log[300];
} live[MAX_LIVE];
static bool atexit_set;

static void live_add(struct srv *s)
{
	for (int i = 0; i < MAX_LIVE; i++)
		if (live[i].pid <= 0) {
			live[i].pid = s->pid;
			snprintf(live[i].dir, sizeof live[i].dir, "%s", s->dir);
			snprintf(live[i].log, sizeof live[i].log, "%s", s->log);
			return;
		}
}

static void live_del(pid_t pid)
{
	for (int i = 0; i < MAX_LIVE; i++)
		if (live[i].pid == pid)
			live[i].pid = 0;
}

static void rm_dir(const char *dir)
{
	if (dir[0] == '/' && strstr(dir, "gongzhi-api.")) {
		char cmd[600];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0) {
		}
	}
}

/* ---- the database backend (see harness.h) ---- */

static const char *pg_base(void)
{
	const char *b = getenv("GONGZHI_TEST_PG");
	return (b && *b) ? b : NULL;
}

bool harness_pg(void)
{
	return pg_base() != NULL;
}

static bool is_pg_url(const char *url)
{
	return strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0;
}

/* the base URL (a '/' added when it has none) followed by a database name */
static void pg_url(char *out, size_t n, const char *dbname)
{
	const char *b = pg_base();
	size_t l = strlen(b);
	snprintf(out, n, "%s%s%s", b, (l > 0 && b[l - 1] == '/') ? "" : "/", dbname);
}

static const char *psql_bin(void)
{
	static const char deb[] = "/usr/lib/postgresql/15/bin/psql";
	return access(deb, X_OK) == 0 ? deb : "psql";
}

static int db_sql_v(const char *url, char *o, size_t olen, const char *fmt, va_list ap)
{
	const char *tmp = getenv("TMPDIR");
	char path[512];
	snprintf(path, sizeof path, "%s/gongzhi-sql.XXXXXX", (tmp && *tmp) ? tmp : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0) {
		fprintf(stderr, "mkstemp %s: %s\n", path, strerror(errno));
		return -1;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(path);
		return -1;
	}
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fclose(f);
	char cmd[2048];
	if (is_pg_url(url))
		/* notices (IF EXISTS …) would mix with the rows */
		snprintf(cmd, sizeof cmd,
		         "PGOPTIONS='-c client_min_messages=warning' '%s' -X -q -A -t -v "
		         "ON_ERROR_STOP=1 '%s' < '%s' 2>&1",
		         psql_bin(), url, path);
	else
		snprintf(cmd, sizeof cmd,
		         "sqlite3 -batch -bail -cmd '.timeout 5000' '%s' < '%s' 2>&1",
		         strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url, path);
	char scratch[1];
	int st = sh(o ? o : scratch, o ? olen : sizeof scratch, "%s", cmd);
	unlink(path);
	return st;
}

int db_sql_url(const char *url, char *o, size_t olen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int st = db_sql_v(url, o, olen, fmt, ap);
	va_end(ap);
	return st;
}

int db_sql(struct srv *s, char *o, size_t olen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int st = db_sql_v(s->db, o, olen, fmt, ap);
	va_end(ap);
	return st;
}

int64_t db_int_(struct srv *s, const char *file, int line, const char *fmt, ...)
{
	char sql[8192], o[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	int st = db_sql(s, o, sizeof o, "%s", sql);
	if (st != 0) {
		print_error("%s:%d: %s (exit %d):\n%s\n", file, line, sql, st, o);
		_fail(file, line);
	}
	return strtoll(o, NULL, 10);
}

/* SQL on the cluster's maintenance database */
static int pg_admin(char *o, size_t olen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int pg_admin(char *o, size_t olen, const char *fmt, ...)
{
	char url[512];
	pg_url(url, sizeof url, "postgres");
	va_list ap;
	va_start(ap, fmt);
	int st = db_sql_v(url, o, olen, fmt, ap);
	va_end(ap);
	return st;
}

/* Drops the databases the condition on datname selects (no error when none). */
static void pg_drop_where(const char *cond)
{
	char o[2048];
	if (pg_admin(o, sizeof o,
	             "SELECT format('DROP DATABASE IF EXISTS %%I WITH (FORCE)', datname) FROM "
	             "pg_database WHERE %s \\gexec",
	             cond) != 0)
		fprintf(stderr, "harness: dropping the test databases (%s) failed: %s\n", cond, o);
}

/* a server's database and those srv_db_url() named after it */
static void pg_drop_named(const char *dbname)
{
	if (harness_pg() && dbname[0])
		pg_drop_where(F("datname = '%s' OR left(datname, %zu) = '%s_'", dbname,
		                strlen(dbname) + 1, dbname));
}

/* every database of this process (at exit: servers a failed assertion left) */
static void pg_drop_all(void)
{
	if (harness_pg()) {
		const char *p = F("gz_t_%ld_", (long)getpid());
		pg_drop_where(F("left(datname, %zu) = '%s'", strlen(p), p));
	}
}

static void live_reap(void)
{
	for (int i = 0; i < MAX_LIVE; i++)
		if (live[i].pid > 0) {
			kill(live[i].pid, SIGKILL);
			waitpid(live[i].pid, NULL, 0);
			fprintf(stderr, "harness: killed server %ld left running (%s)\n",
			        (long)live[i].pid, live[i].dir);
			rm_dir(live[i].dir);
			live[i].pid = 0;
		}
	pg_drop_all();
}

const char *gongzhi_bin(void)
{
	const char *b = getenv("GONGZHI_BIN");
	return (b && *b) ? b : GONGZHI_BIN_DEFAULT;
}

const char *uniq(const char *prefix)
{
	static char slots[8][96];
	static unsigned n;
	char *out = slots[n % 8];
	snprintf(out, sizeof slots[0], "%s%ldx%u", prefix, (long)getpid(), n);
	n++;
	return out;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	socklen_t len = sizeof a;
	int port = -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

void srv_log_tail(struct srv *s, int lines)
{
	char cmd[512];
	fprintf(stderr, "---- tail of %s ----\n", s->log);
	snprintf(cmd, sizeof cmd, "tail -n %d '%s' 1>&2", lines, s->log);
	if (system(cmd) != 0) {
	}
	fprintf(stderr, "---- end of server log ----\n");
}

bool srv_log_has(struct srv *s, const char *needle, const char *needle2)
{
	FILE *f = fopen(s->log, "r");
	if (!f)
		return false;
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) && (!needle2 || strstr(line, needle2));
	fclose(f);
	return found;
}

/* A further node's key files and audit head file: those of the data directory
 * s->keys_dir, named as the server names them there (src/app.c: secret.key, audit.key,
 * <database file name>.audit-head, "audit.audit-head" on PostgreSQL). */
static void node_files(const struct srv *s, char *secret, char *akey, char *head, size_t n)
{
	const char *file = strncmp(s->db, "sqlite:", 7) == 0 ? strrchr(s->db, '/') : NULL;
	snprintf(secret, n, "%s/secret.key", s->keys_dir);
	snprintf(akey, n, "%s/audit.key", s->keys_dir);
	snprintf(head, n, "%s/%s.audit-head", s->keys_dir, file ? file + 1 : "audit");
}

static int run_cli_v(struct srv *s, char *out, size_t outlen, const char *fmt, va_list ap)
{
	char args[8192];
	vsnprintf(args, sizeof args, fmt, ap);
	char keys[2048] = "";
	if (s->keys_dir[0]) {
		char secret[400], akey[400], head[400];
		node_files(s, secret, akey, head, sizeof secret);
		snprintf(keys, sizeof keys,
		         "GONGZHI_SECRET_KEY_FILE='%s' GONGZHI_AUDIT_KEY_FILE='%s' "
		         "GONGZHI_AUDIT_HEAD_FILE='%s' ",
		         secret, akey, head);
	}
	size_t cl = strlen(args) + strlen(keys) + 2048;
	char *cmd = malloc(cl);
	if (!cmd)
		return -1;
	snprintf(cmd, cl,
	         "GONGZHI_DB='%s' GONGZHI_DATA_DIR='%s' GONGZHI_PASSWORD_HASH=min %s'%s' %s 2>&1",
	         s->db, s->data, keys, gongzhi_bin(), args);
	FILE *p = popen(cmd, "r");
	free(cmd);
	if (!p)
		return -1;
	size_t used = 0;
	char tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof tmp, p)) > 0) {
		if (out && outlen > 1 && used < outlen - 1) {
			size_t k = n < outlen - 1 - used ? n : outlen - 1 - used;
			memcpy(out + used, tmp, k);
			used += k;
		}
	}
	if (out && outlen > 0)
		out[used] = '\0';
	int st = pclose(p);
	if (st == -1)
		return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

int run_cli(struct srv *s, char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = run_cli_v(s, out, outlen, fmt, ap);
	va_end(ap);
	return rc;
}

static bool healthy(struct srv *s)
{
	struct resp *r = api(s, "GET", "/healthz", NULL, NULL, NULL);
	bool ok = r && r->status == 200;
	resp_free(r);
	return ok;
}

static int srv_start_impl(struct srv *s, const char *const *env, bool demo);

/* Starts `gongzhi serve` on s's directory and waits for /healthz (10 s).  Tries
 * up to five ports: the server exits when its port was taken meanwhile.  same_port
 * keeps s->port for the first try (a restart). */
static int spawn(struct srv *s, const char *const *env, bool same_port)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		if (attempt > 0 || !same_port || s->port <= 0)
			s->port = free_port();
		if (s->port <= 0)
			return -1;
		snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
		char listen[64];
		snprintf(listen, sizeof listen, "127.0.0.1:%d", s->port);
		pid_t pid = fork();
		if (pid < 0)
			return -1;
		if (pid == 0) {
			int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
			if (fd >= 0) {
				dup2(fd, 1);
				dup2(fd, 2);
				close(fd);
			}
			int nul = open("/dev/null", O_RDONLY);
			if (nul >= 0) {
				dup2(nul, 0);
				close(nul);
			}
			if (chdir(s->dir) != 0)
				_exit(127);
			setenv("GONGZHI_DB", s->db, 1);
			setenv("GONGZHI_DATA_DIR", s->data, 1);
			setenv("GONGZHI_PASSWORD_HASH", "min", 1);
			setenv("GONGZHI_THREADS", "4", 1);
			setenv("GONGZHI_LISTEN", listen, 1);
			/* the abuse limits are off unless a suite turns them on (t65-limits):
			 * every suite hammers its server from one address and few accounts */
			setenv("GONGZHI_RATE_LIMIT_ACCOUNT", "0", 1);
			setenv("GONGZHI_RATE_LIMIT_ADDRESS", "0", 1);
			setenv("GONGZHI_LOGIN_ADDRESS_FAILURES", "0", 1);
			/* the suites log in as admin; only t15-totp tests the default "admin" */
			setenv("GONGZHI_REQUIRE_TOTP_FOR", "", 1);
			if (s->keys_dir[0]) { /* a further node: the first one's key files */
				char secret[400], akey[400], head[400];
				node_files(s, secret, akey, head, sizeof secret);
				setenv("GONGZHI_SECRET_KEY_FILE", secret, 1);
				setenv("GONGZHI_AUDIT_KEY_FILE", akey, 1);
				setenv("GONGZHI_AUDIT_HEAD_FILE", head, 1);
			}
			for (const char *const *e = env; e && *e; e++) {
				const char *eq = strchr(*e, '=');
				if (!eq) {
					unsetenv(*e); /* a bare NAME: the server's default */
					continue;
				}
				char name[256];
				size_t nl = (size_t)(eq - *e);
				if (nl >= sizeof name)
					continue;
				memcpy(name, *e, nl);
				name[nl] = '\0';
				setenv(name, eq + 1, 1);
			}
			const char *bin = gongzhi_bin();
			execl(bin, bin, "serve", (char *)NULL);
			fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
			_exit(127);
		}
		s->pid = pid;
		live_add(s);
		bool died = false;
		for (int i = 0; i < 200; i++) {
			int st;
			if (waitpid(pid, &st, WNOHANG) == pid) {
				died = true;
				live_del(pid);
				s->pid = -1;
				fprintf(stderr, "gongzhi serve exited early (status %d)\n",
				        WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
				break;
			}
			if (healthy(s))
				return 0;
			sleep_ms(50);
		}
		if (!died) {
			fprintf(stderr, "gongzhi serve did not answer /healthz within 10 s\n");
			srv_log_tail(s, 40);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			live_del(pid);
			s->pid = -1;
			return -1;
		}
		/* it exited: most likely the port was taken meanwhile; try another */
	}
	srv_log_tail(s, 40);
	return -1;
}

int srv_start(struct srv *s, const char *const *env, bool demo)
{
	int rc = srv_start_impl(s, env, demo);
	if (rc != 0 && s->dir[0]) {
		/* the log tail has been printed; nothing else is worth keeping */
		rm_dir(s->dir);
		pg_drop_named(s->dbname);
	}
	return rc;
}

/* A fresh s with a temp dir of its own (the start of every server). */
static int srv_prepare(struct srv *s)
{
	memset(s, 0, sizeof *s);
	s->pid = -1;
	if (!atexit_set) {
		atexit(live_reap);
		atexit_set = true;
	}
	if (curl_users++ == 0)
		curl_global_init(CURL_GLOBAL_ALL);
	const char *tmp = getenv("TMPDIR");
	snprintf(s->dir, sizeof s->dir, "%s/gongzhi-api.XXXXXX", (tmp && *tmp) ? tmp : "/tmp");
	if (!mkdtemp(s->dir)) {
		fprintf(stderr, "mkdtemp %s: %s\n", s->dir, strerror(errno));
		s->dir[0] = '\0';
		return -1;
	}
	return 0;
}

static int srv_start_impl(struct srv *s, const char *const *env, bool demo)
{
	if (srv_prepare(s))
		return -1;
	if (harness_pg()) {
		static unsigned dbs;
		snprintf(s->dbname, sizeof s->dbname, "gz_t_%ld_%u", (long)getpid(), dbs++);
		pg_url(s->db, sizeof s->db, s->dbname);
	} else {
		snprintf(s->db, sizeof s->db, "sqlite:%s/t.db", s->dir);
	}
	snprintf(s->data, sizeof s->data, "%s/data", s->dir);
	snprintf(s->log, sizeof s->log, "%s/server.log", s->dir);
	snprintf(s->admin_pw, sizeof s->admin_pw, "%s", ADMIN_PW);

	static char out[16384];
	int rc = run_cli(s, out, sizeof out, "init --admin-password '%s'", ADMIN_PW);
	if (rc != 0) {
		fprintf(stderr, "gongzhi init failed (%d): %s\n", rc, out);
		return -1;
	}
	if (demo) {
		rc = run_cli(s, out, sizeof out, "demo");
		if (rc != 0) {
			fprintf(stderr, "gongzhi demo failed (%d): %s\n", rc, out);
			return -1;
		}
	}

	return spawn(s, env, false);
}

int srv_start_node(struct srv *s, const struct srv *first, const char *const *env)
{
	if (srv_prepare(s))
		return -1;
	snprintf(s->db, sizeof s->db, "%s", first->db);
	s->dbname[0] = '\0'; /* first's: dropped with first */
	snprintf(s->data, sizeof s->data, "%s/data", s->dir);
	snprintf(s->log, sizeof s->log, "%s/server.log", s->dir);
	snprintf(s->admin_pw, sizeof s->admin_pw, "%s", first->admin_pw);
	snprintf(s->keys_dir, sizeof s->keys_dir, "%s",
	         first->keys_dir[0] ? first->keys_dir : first->data);
	int rc = spawn(s, env, false);
	if (rc != 0)
		rm_dir(s->dir);
	return rc;
}

int srv_kill(struct srv *s)
{
	if (s->pid <= 0)
		return -1;
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	live_del(s->pid);
	s->pid = -1;
	return 0;
}

int srv_stop(struct srv *s)
{
	if (s->pid <= 0)
		return -1;
	kill(s->pid, SIGTERM);
	int st = 0;
	pid_t w = 0;
	for (int i = 0; i < 400; i++) { /* 20 s */
		w = waitpid(s->pid, &st, WNOHANG);
		if (w == s->pid || w < 0)
			break;
		sleep_ms(50);
	}
	if (w != s->pid) {
		fprintf(stderr, "gongzhi serve ignored SIGTERM for 20 s; killing it\n");
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &st, 0);
	}
	live_del(s->pid);
	s->pid = -1;
	int rc;
	if (WIFEXITED(st))
		rc = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		rc = 128 + WTERMSIG(st);
	else
		rc = -1;
	if (rc != 0) {
		fprintf(stderr, "gongzhi serve exit status %d\n", rc);
		srv_log_tail(s, 60);
	}
	return rc;
}

void srv_cleanup(struct srv *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		live_del(s->pid);
		s->pid = -1;
	}
	/* the server's own errors (a 500's cause) are lost with its directory: keep the
	 * first few in the test's output */
	if (s->log[0] && s->dir[0]) {
		char cmd[1024];
		snprintf(
		    cmd, sizeof cmd,
		    "n=$(grep -c '\"level\":\"error\"' '%s' 2>/dev/null); [ \"${n:-0}\" -gt 0 ] "
		    "&& { echo \"harness: the server logged $n error(s), the first:\"; grep "
		    "'\"level\":\"error\"' '%s' | head -8; } 1>&2",
		    s->log, s->log);
		if (system(cmd) != 0) {
		}
	}
	/* GONGZHI_TEST_SERVER_LOGS=FILE: every server's log is appended there (debugging) */
	const char *keep = getenv("GONGZHI_TEST_SERVER_LOGS");
	if (keep && *keep && s->dir[0]) {
		char cmd[1024];
		snprintf(cmd, sizeof cmd, "cat '%s' >> '%s' 2>/dev/null", s->log, keep);
		if (system(cmd) != 0)
			fprintf(stderr, "harness: cannot append the server log to %s\n", keep);
	}
	rm_dir(s->dir);
	s->dir[0] = '\0';
	pg_drop_named(s->dbname);
	s->dbname[0] = '\0';
	if (curl_users > 0 && --curl_users == 0)
		curl_global_cleanup();
}

const char *srv_db_url(struct srv *s, const char *name)
{
	static char bufs[8][400];
	static unsigned n;
	char *b = bufs[n++ % 8];
	if (harness_pg() && s->dbname[0])
		pg_url(b, sizeof bufs[0], F("%s_%s", s->dbname, name));
	else
		snprintf(b, sizeof bufs[0], "sqlite:%s/%s.db", s->dir, name);
	return b;
}

const char *sql_drop_trigger(const char *name, const char *table)
{
	static char bufs[4][256];
	static unsigned n;
	char *b = bufs[n++ % 4];
	if (harness_pg())
		snprintf(b, sizeof bufs[0], "DROP TRIGGER %s ON %s;", name, table);
	else
		snprintf(b, sizeof bufs[0], "DROP TRIGGER %s;", name);
	return b;
}

int db_copy(const char *from_url, const char *to_url)
{
	char o[2048];
	int st;
	if (is_pg_url(from_url) != is_pg_url(to_url)) {
		fprintf(stderr, "db_copy: %s and %s are not of one backend\n", from_url, to_url);
		return -1;
	}
	if (is_pg_url(from_url)) {
		const char *from = strrchr(from_url, '/'), *to = strrchr(to_url, '/');
		if (!from || !to || !from[1] || !to[1])
			return -1;
		st = pg_admin(o, sizeof o,
		              "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE);\n"
		              "CREATE DATABASE \"%s\" TEMPLATE \"%s\";",
		              to + 1, to + 1, from + 1);
	} else {
		const char *from = from_url + (strncmp(from_url, "sqlite:", 7) == 0 ? 7 : 0);
		const char *to = to_url + (strncmp(to_url, "sqlite:", 7) == 0 ? 7 : 0);
		st = sh(o, sizeof o, "rm -f '%s-wal' '%s-shm' && cp -p '%s' '%s' 2>&1", to, to,
		        from, to);
	}
	if (st != 0)
		fprintf(stderr, "db_copy %s -> %s: exit %d: %s\n", from_url, to_url, st, o);
	return st == 0 ? 0 : -1;
}

/* ---- HTTP ---- */

struct resp_priv {
	struct resp r;     /* first: a struct resp * is a struct resp_priv * */
	char *hdr_scratch; /* resp_header's copy */
	size_t body_cap, hdr_len, hdr_cap;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct resp_priv *rp = ud;
	size_t k = size * n;
	if (rp->r.len + k + 1 > rp->body_cap) {
		size_t cap = rp->body_cap ? rp->body_cap * 2 : 4096;
		while (cap < rp->r.len + k + 1)
			cap *= 2;
		char *nb = realloc(rp->r.body, cap);
		if (!nb)
			return 0;
		rp->r.body = nb;
		rp->body_cap = cap;
	}
	memcpy(rp->r.body + rp->r.len, p, k);
	rp->r.len += k;
	rp->r.body[rp->r.len] = '\0';
	return k;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct resp_priv *rp = ud;
	size_t k = size * n;
	if (k >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new response (after 100 etc.) */
		rp->hdr_len = 0;
		if (rp->r.headers)
			rp->r.headers[0] = '\0';
		return k;
	}
	size_t l = k;
	while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == '\n'))
		l--;
	if (l == 0)
		return k;
	if (rp->hdr_len + l + 2 > rp->hdr_cap) {
		size_t cap = rp->hdr_cap ? rp->hdr_cap * 2 : 1024;
		while (cap < rp->hdr_len + l + 2)
			cap *= 2;
		char *nh = realloc(rp->r.headers, cap);
		if (!nh)
			return 0;
		rp->r.headers = nh;
		rp->hdr_cap = cap;
	}
	memcpy(rp->r.headers + rp->hdr_len, p, l);
	rp->hdr_len += l;
	rp->r.headers[rp->hdr_len++] = '\n';
	rp->r.headers[rp->hdr_len] = '\0';
	return k;
}

static bool has_header(const char *headers, const char *name)
{
	size_t nl = strlen(name);
	for (const char *l = headers; l && *l;) {
		while (*l == ' ' || *l == '\t')
			l++;
		if (strncasecmp(l, name, nl) == 0 && l[nl] == ':')
			return true;
		const char *nxt = strchr(l, '\n');
		if (!nxt)
			break;
		l = nxt + 1;
	}
	return false;
}

struct resp *api_len(struct srv *s, const char *method, const char *path, const char *token,
                     const char *body, size_t body_len, const char *headers)
{
	struct resp_priv *rp = calloc(1, sizeof *rp);
	if (!rp)
		return NULL;
	rp->r.body = calloc(1, 1);
	rp->body_cap = 1;
	CURL *c = curl_easy_init();
	if (!c || !rp->r.body) {
		if (c)
			curl_easy_cleanup(c);
		return &rp->r;
	}
	size_t ul = strlen(s->base) + strlen(path) + 1;
	char *url = malloc(ul);
	snprintf(url, ul, "%s%s", s->base, path);

	struct curl_slist *hl = NULL;
	char line[4096];
	if (token) {
		snprintf(line, sizeof line, "Authorization: Bearer %s", token);
		hl = curl_slist_append(hl, line);
	}
	if (body && !has_header(headers, "Content-Type"))
		hl = curl_slist_append(hl, "Content-Type: application/json");
	if (!has_header(headers, "Expect"))
		hl = curl_slist_append(hl, "Expect:");
	if (headers) {
		const char *l = headers;
		while (*l) {
			const char *e = strchr(l, '\n');
			size_t n = e ? (size_t)(e - l) : strlen(l);
			if (n > 0 && n < sizeof line) {
				memcpy(line, l, n);
				line[n] = '\0';
				if (line[n - 1] == '\r')
					line[n - 1] = '\0';
				if (line[0])
					hl = curl_slist_append(hl, line);
			}
			if (!e)
				break;
			l = e + 1;
		}
	}

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rp);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, rp);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else {
		if (body) {
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		}
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	CURLcode cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rp->r.status);
	else
		rp->r.status = 0;
	curl_easy_cleanup(c);
	curl_slist_free_all(hl);
	free(url);
	if (rp->r.len > 0)
		rp->r.json = json_loadb(rp->r.body, rp->r.len, JSON_DECODE_ANY, NULL);
	return &rp->r;
}

struct resp *api(struct srv *s, const char *method, const char *path, const char *token,
                 const char *body, const char *headers)
{
	return api_len(s, method, path, token, body, body ? strlen(body) : 0, headers);
}

static struct resp *apiv(struct srv *s, const char *method, const char *token, const char *body,
                         const char *headers, const char *fmt, va_list ap)
{
	char path[8192];
	vsnprintf(path, sizeof path, fmt, ap);
	return api(s, method, path, token, body, headers);
}

struct resp *apif(struct srv *s, const char *method, const char *token, const char *body,
                  const char *path_fmt, ...)
{
	va_list ap;
	va_start(ap, path_fmt);
	struct resp *r = apiv(s, method, token, body, NULL, path_fmt, ap);
	va_end(ap);
	return r;
}

struct resp *apihf(struct srv *s, const char *method, const char *token, const char *body,
                   const char *headers, const char *path_fmt, ...)
{
	va_list ap;
	va_start(ap, path_fmt);
	struct resp *r = apiv(s, method, token, body, headers, path_fmt, ap);
	va_end(ap);
	return r;
}

void resp_free(struct resp *r)
{
	if (!r)
		return;
	struct resp_priv *rp = (struct resp_priv *)r;
	json_decref(r->json);
	free(r->body);
	free(r->headers);
	free(rp->hdr_scratch);
	free(rp);
}

const char *resp_header(struct resp *r, const char *name)
{
	if (!r || !r->headers)
		return NULL;
	struct resp_priv *rp = (struct resp_priv *)r;
	size_t nl = strlen(name);
	for (const char *l = r->headers; *l;) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		if (n > nl && strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
			const char *v = l + nl + 1;
			const char *end = l + n;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			free(rp->hdr_scratch);
			rp->hdr_scratch = strndup(v, (size_t)(end - v));
			return rp->hdr_scratch;
		}
		if (!e)
			break;
		l = e + 1;
	}
	return NULL;
}

const char *err_code(struct resp *r)
{
	return r ? jstr(r->json, "error.code") : "";
}

const char *err_field(struct resp *r)
{
	return r ? jstr(r->json, "error.field") : "";
}

struct resp *login_resp(struct srv *s, const char *user, const char *password)
{
	json_t *b = json_pack("{s:s, s:s}", "username", user, "password", password);
	char *body = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	struct resp *r = api(s, "POST", "/api/v1/auth/login", NULL, body, NULL);
	free(body);
	return r;
}

char *login(struct srv *s, const char *user, const char *password)
{
	struct resp *r = login_resp(s, user, password);
	char *tok = NULL;
	if (r && r->status == 200 && jstr(r->json, "token")[0])
		tok = strdup(jstr(r->json, "token"));
	else if (r)
		fprintf(stderr, "login %s failed: %ld %s\n", user, r->status, r->body);
	resp_free(r);
	return tok;
}

/* ---- JSON ---- */

json_t *jpath(json_t *o, const char *path)
{
	if (!o || !path)
		return NULL;
	const char *p = path;
	json_t *cur = o;
	char seg[256];
	while (*p && cur) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof seg)
			return NULL;
		memcpy(seg, p, n);
		seg[n] = '\0';
		if (json_is_array(cur)) {
			char *end;
			long i = strtol(seg, &end, 10);
			if (*end || end == seg || i < 0)
				return NULL;
			cur = json_array_get(cur, (size_t)i);
		} else if (json_is_object(cur)) {
			cur = json_object_get(cur, seg);
		} else {
			return NULL;
		}
		if (!dot)
			break;
		p = dot + 1;
	}
	return cur;
}

int64_t jint(json_t *o, const char *path)
{
	json_t *v = jpath(o, path);
	if (json_is_integer(v))
		return (int64_t)json_integer_value(v);
	if (json_is_real(v))
		return (int64_t)json_real_value(v);
	return 0;
}

const char *jstr(json_t *o, const char *path)
{
	const char *v = json_string_value(jpath(o, path));
	return v ? v : "";
}

/* ---- lookups ---- */

static int64_t find_by(struct srv *s, const char *tok, const char *coll, const char *key,
                       const char *name)
{
	char *q = curl_easy_escape(NULL, name, 0);
	struct resp *r = apif(s, "GET", tok, NULL, "/api/v1/%s?q=%s&limit=500", coll, q);
	curl_free(q);
	int64_t id = 0;
	json_t *items = jpath(r->json, "items");
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		if (strcmp(jstr(it, key), name) == 0) {
			id = jint(it, "id");
			break;
		}
	}
	resp_free(r);
	return id;
}

int64_t unit_id(struct srv *s, const char *admin_token, const char *name)
{
	return find_by(s, admin_token, "units", "name", name);
}

int64_t org_id(struct srv *s, const char *admin_token, const char *name)
{
	return find_by(s, admin_token, "orgs", "name", name);
}

int64_t user_id(struct srv *s, const char *admin_token, const char *username)
{
	return find_by(s, admin_token, "users", "username", username);
}

int64_t create_user(struct srv *s, const char *tok, const char *username, const char *password,
                    const char *roles_json, int64_t unit, int64_t org)
{
	json_t *roles = json_loads(roles_json, 0, NULL);
	json_t *b =
	    json_pack("{s:s, s:s, s:s, s:o}", "username", username, "display_name", username,
	              "password", password, "roles", roles ? roles : json_array());
	if (unit)
		json_object_set_new(b, "unit_id", json_integer(unit));
	if (org)
		json_object_set_new(b, "org_id", json_integer(org));
	char *body = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	struct resp *r = api(s, "POST", "/api/v1/users", tok, body, NULL);
	free(body);
	int64_t id = 0;
	if (r->status == 201)
		id = jint(r->json, "id");
	else
		fprintf(stderr, "create_user %s: %ld %s\n", username, r->status, r->body);
	resp_free(r);
	return id;
}

void msleep(long ms)
{
	sleep_ms(ms);
}

bool contains(const char *haystack, const char *needle)
{
	return haystack && needle && strstr(haystack, needle) != NULL;
}

/* ---- restart on the same directory ---- */

int srv_restart(struct srv *s, const char *const *env)
{
	if (!s->dir[0])
		return -1;
	if (s->pid > 0 && srv_stop(s) != 0)
		return -1;
	if (curl_users == 0) {
		curl_global_init(CURL_GLOBAL_ALL);
		curl_users++;
	}
	return spawn(s, env, true);
}

const char *F(const char *fmt, ...)
{
	static char bufs[64][4096];
	static unsigned n;
	char *b = bufs[n++ % 64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, sizeof bufs[0], fmt, ap);
	va_end(ap);
	return b;
}

const char *Q(const char *s)
{
	static char bufs[4][1024];
	static unsigned n;
	char *b = bufs[n++ % 4], *o = b;
	for (const unsigned char *p = (const unsigned char *)s; *p && o < b + sizeof bufs[0] - 4;
	     p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')
			*o++ = (char)*p;
		else
			o += sprintf(o, "%%%02X", *p);
	}
	*o = 0;
	return b;
}

char *repeat(const char *ch, int n)
{
	size_t l = strlen(ch);
	char *s = malloc(l * (size_t)n + 1);
	for (int i = 0; i < n; i++)
		memcpy(s + l * (size_t)i, ch, l);
	s[l * (size_t)n] = 0;
	return s;
}

int64_t post_id_(struct srv *s, const char *token, const char *path, const char *body,
                 const char *file, int line)
{
	struct resp *r = api(s, "POST", path, token, body, NULL);
	bool ok = r && r->status == 201;
	if (!ok)
		print_error("%s:%d: POST %s %s: %ld %s\n", file, line, path, body,
		            r ? r->status : 0, r ? r->body : "");
	int64_t id = ok ? jint(r->json, "id") : 0;
	resp_free(r);
	if (!ok)
		_fail(file, line);
	return id;
}

int64_t total_count(struct srv *s, const char *token, const char *path, const char *query)
{
	struct resp *r = apif(s, "GET", token, NULL, "%s?count=true&limit=1%s%s", path,
	                      *query ? "&" : "", query);
	assert_int_equal(r->status, 200);
	assert_true(json_is_integer(jpath(r->json, "total")));
	int64_t t = jint(r->json, "total");
	resp_free(r);
	return t;
}

bool has_id(json_t *items, int64_t id)
{
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		if (jint(it, "id") == id)
			return true;
	}
	return false;
}

/* ---- the standard fixture ---- */

const char *const fx_usernames[FX_NACCOUNTS] = {"admin", "jiedao",  "shequ", "wangge", "hehuoren",
                                                "wuye",  "tiaojie", "jumin", "shequ2", "lushan"};

/* Every row of a list (all pages) into a name -> id object (new reference). */
static json_t *ids_by(struct srv *s, const char *tok, const char *path, const char *key)
{
	json_t *out = json_object();
	char cursor[64] = "";
	for (int page = 0; page < 100; page++) {
		struct resp *r = apif(s, "GET", tok, NULL, "%s?limit=500%s%s", path,
		                      cursor[0] ? "&cursor=" : "", cursor);
		if (!r || r->status != 200) {
			fprintf(stderr, "fixture: GET %s: %ld\n", path, r ? r->status : 0L);
			resp_free(r);
			json_decref(out);
			return NULL;
		}
		size_t i;
		json_t *it;
		json_array_foreach(jpath(r->json, "items"), i, it)
		{
			const char *name = jstr(it, key);
			if (!json_object_get(out, name)) /* the first of a name, as unit_id() */
				json_object_set_new(out, name, json_integer(jint(it, "id")));
		}
		const char *next = jstr(r->json, "next_cursor");
		snprintf(cursor, sizeof cursor, "%s", next);
		resp_free(r);
		if (!cursor[0])
			return out;
	}
	return out;
}

int fixture_start(struct fixture *fx, struct srv *s, const char *const *env)
{
	memset(fx, 0, sizeof(*fx));
	fx->srv = s;
	if (srv_start(s, env, true))
		return -1;
	for (int i = 0; i < FX_NACCOUNTS; i++) {
		fx->tok[i] = login(fx->srv, fx_usernames[i], i == FX_ADMIN ? ADMIN_PW : DEMO_PW);
		if (!fx->tok[i])
			goto fail;
	}
	const char *a = fx->tok[FX_ADMIN];
	json_t *units = ids_by(fx->srv, a, "/api/v1/units", "name"),
	       *orgs = ids_by(fx->srv, a, "/api/v1/orgs", "name"),
	       *users = ids_by(fx->srv, a, "/api/v1/users", "username");
	struct {
		int64_t *id;
		json_t **from;
		const char *name;
	} want[] = {
	    {&fx->u_district, &units, "河东区"},
	    {&fx->u_dongxin, &units, "东新街道"},
	    {&fx->u_lushan, &units, "鲁山道街道"},
	    {&fx->u_tiechang, &units, "天津铁厂街道"},
	    {&fx->u_shaliu, &units, "沙柳北路社区"},
	    {&fx->u_fengqi, &units, "凤岐里社区"},
	    {&fx->u_songshan, &units, "嵩山道社区"},
	    {&fx->u_shaliu_beili, &units, "沙柳北里"},
	    {&fx->u_shaliuyuan, &units, "沙柳园"},
	    {&fx->u_fengqi_xiaoqu, &units, "凤岐里小区"},
	    {&fx->u_qinglin, &units, "清霖园"},
	    {&fx->u_haohong, &units, "皓鸿园"},
	    {&fx->u_yuancui, &units, "远翠东里小区"},
	    {&fx->u_beili_b1, &units, "沙柳北里1号楼"},
	    {&fx->u_fengqi_b2, &units, "凤岐里2号楼"},
	    {&fx->u_grid1, &units, "沙柳北路社区第一网格"},
	    {&fx->o_haoan, &orgs, "天津皓安物业管理有限公司"},
	    {&fx->o_hongrun, &orgs, "天津鸿润物业服务有限公司"},
	    {&fx->o_dongxin_wuye, &orgs, "天津东新宜居物业服务有限公司"},
	    {&fx->o_jinshitu, &orgs, "天津金仕途信息科技有限公司"},
	    {&fx->o_bank_hedong, &orgs, "中国银行天津河东支行"},
	    {&fx->o_leling, &orgs, "乐龄智慧养老服务大厅"},
	    {&fx->o_songshan_school, &orgs, "嵩山道小学"},
	    {&fx->o_hospital, &orgs, "武警特色医学中心"},
	};
	int missing = !units || !orgs || !users;
	for (size_t i = 0; !missing && i < sizeof want / sizeof want[0]; i++) {
		*want[i].id =
		    (int64_t)json_integer_value(json_object_get(*want[i].from, want[i].name));
		if (!*want[i].id) {
			fprintf(stderr, "fixture: no demo unit or organisation %s\n", want[i].name);
			missing = 1;
		}
	}
	for (int i = 0; !missing && i < FX_NACCOUNTS; i++) {
		fx->uid[i] = (int64_t)json_integer_value(json_object_get(users, fx_usernames[i]));
		if (!fx->uid[i]) {
			fprintf(stderr, "fixture: no demo account %s\n", fx_usernames[i]);
			missing = 1;
		}
	}
	json_decref(units);
	json_decref(orgs);
	json_decref(users);
	if (!missing)
		return 0;
fail:
	fixture_stop(fx);
	return -1;
}

const char *fx_token(const struct fixture *fx, const char *username)
{
	for (int i = 0; i < FX_NACCOUNTS; i++)
		if (strcmp(fx_usernames[i], username) == 0)
			return fx->tok[i];
	return NULL;
}

int fixture_stop(struct fixture *fx)
{
	for (int i = 0; i < FX_NACCOUNTS; i++) {
		free(fx->tok[i]);
		fx->tok[i] = NULL;
	}
	int rc = srv_stop(fx->srv);
	srv_cleanup(fx->srv);
	return rc;
}

int sh(char *o, size_t olen, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t n = fread(o, 1, olen - 1, p);
	o[n] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- event streams ---- */

static double sse_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct sse *sse_open(struct srv *s, const char *token, const char *last_id, const char *query)
{
	struct sse *e = calloc(1, sizeof *e);
	assert_non_null(e);
	e->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)s->port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(connect(e->fd, (struct sockaddr *)&sa, sizeof sa), 0);
	const char *req =
	    F("GET /api/v1/events%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	      "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n"
	      "Connection: close\r\n%s\r\n",
	      query ? query : "", token, last_id ? F("Last-Event-ID: %s\r\n", last_id) : "");
	assert_int_equal(write(e->fd, req, strlen(req)), (ssize_t)strlen(req));
	return e;
}

bool sse_wait(struct sse *e, const char *needle, int ms)
{
	double until = sse_now() + ms / 1000.0;
	while (!strstr(e->buf, needle)) {
		if (e->closed)
			return false;
		int left = (int)((until - sse_now()) * 1000);
		if (left <= 0)
			return false;
		struct pollfd p = {e->fd, POLLIN, 0};
		if (poll(&p, 1, left) <= 0)
			continue;
		if (e->len + 1 >= sizeof e->buf) { /* keep the tail */
			memmove(e->buf, e->buf + e->len / 2, e->len - e->len / 2 + 1);
			e->len -= e->len / 2;
		}
		ssize_t k = read(e->fd, e->buf + e->len, sizeof e->buf - 1 - e->len);
		if (k <= 0) {
			e->closed = true;
			continue;
		}
		e->len += (size_t)k;
		e->buf[e->len] = 0;
	}
	return true;
}

void sse_close(struct sse *e)
{
	close(e->fd);
	free(e);
}

json_t *xlsx_get(struct srv *s, const char *token, const char *path)
{
	struct resp *r = api(s, "GET", path, token, NULL, NULL);
	assert_status(r, 200);
	assert_true(contains(resp_header(r, "Content-Type"), "spreadsheetml"));
	assert_true(r->len > 4 && memcmp(r->body, "PK", 2) == 0); /* a zip */
	char file[400];
	snprintf(file, sizeof file, "%s/read.xlsx", s->dir);
	FILE *f = fopen(file, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(r->body, 1, r->len, f), r->len);
	fclose(f);
	resp_free(r);
	static char out[1 << 20];
	int st = sh(out, sizeof out,
	            "python3 -c '\n"
	            "import json, re, sys, zipfile, html\n"
	            "x = zipfile.ZipFile(sys.argv[1]).read(\"xl/worksheets/sheet1.xml\").decode()\n"
	            "rows = []\n"
	            "for row in re.findall(r\"<row [^>]*>(.*?)</row>\", x, re.S):\n"
	            "  d = {}\n"
	            "  for a, body in re.findall(r\"<c ([^>]*?)(?:/>|>(.*?)</c>)\", row, re.S):\n"
	            "    col = re.match(r\"r=.([A-Z]+)\", a).group(1)\n"
	            "    t = re.search(r\"<t[^>]*>(.*?)</t>\", body or \"\", re.S)\n"
	            "    v = re.search(r\"<v>(.*?)</v>\", body or \"\")\n"
	            "    if t: d[col] = html.unescape(t.group(1))\n"
	            "    elif v and \" s=\" in \" \" + a: d[col] = \"date:\" + v.group(1)\n"
	            "    elif v: d[col] = float(v.group(1))\n"
	            "  rows.append(d)\n"
	            "print(json.dumps(rows, ensure_ascii=False))' '%s' 2>&1",
	            file);
	if (st != 0)
		print_error("python3: %.2000s\n", out);
	assert_int_equal(st, 0);
	json_t *j = json_loads(out, 0, NULL);
	assert_non_null(j);
	return j;
}
