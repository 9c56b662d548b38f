/* t27-notifications: the inbox (GET /api/v1/notifications, POST
 * /api/v1/notifications/read), the event stream (GET /api/v1/events) and the webhook.
 *
 * Until the lifecycle engine writes notifications, the test writes them with the
 * database's shell (sqlite3 or psql) into the running server's database: the server then
 * learns of them like of rows written by any other process, through the event
 * watcher's fallback poll and the webhook's outbox mark.  The webhook posts to a
 * small HTTP server in this process that fails every delivery twice (500) before
 * accepting it, so the retries, their backoff and the signature are checked. */
#include "harness.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SECRET "test-webhook-secret"
#define MAX_STREAMS 8

static struct srv S;
static char *shequ_tok, *shequ2_tok, *wuye_tok, *admin_tok;
static int64_t shequ_id, shequ2_id, wuye_id, wangge_id;

/* ---- the webhook receiver ---- */

struct hit {
	int64_t delivery, attempt;
	char ts[32], sig[128];
	char *body;
	double at; /* seconds, monotonic */
	int status;
};
static struct {
	int fd, port;
	pthread_t thread;
	pthread_mutex_t lock;
	struct hit hits[4096];
	int n;
} rx = {.lock = PTHREAD_MUTEX_INITIALIZER};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *header_in(const char *head, const char *name, char *out, size_t n)
{
	out[0] = 0;
	for (const char *p = head; (p = strcasestr(p, name)); p++)
		if (p[-1] == '\n' && p[strlen(name)] == ':') {
			p += strlen(name) + 1;
			while (*p == ' ')
				p++;
			size_t k = 0;
			while (p[k] && p[k] != '\r' && p[k] != '\n' && k + 1 < n)
				k++;
			memcpy(out, p, k);
			out[k] = 0;
			break;
		}
	return out;
}

static void *receiver(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(rx.fd, NULL, NULL);
		if (c < 0)
			return NULL;
		char buf[65536];
		size_t len = 0;
		char *end = NULL;
		while (!end && len < sizeof buf - 1) {
			ssize_t k = read(c, buf + len, sizeof buf - 1 - len);
			if (k <= 0)
				break;
			len += (size_t)k;
			buf[len] = 0;
			end = strstr(buf, "\r\n\r\n");
		}
		if (!end) {
			close(c);
			continue;
		}
		char v[256];
		size_t clen = (size_t)atol(header_in(buf, "Content-Length", v, sizeof v));
		size_t have = len - (size_t)(end + 4 - buf);
		while (have < clen && len < sizeof buf - 1) {
			ssize_t k = read(c, buf + len, sizeof buf - 1 - len);
			if (k <= 0)
				break;
			len += (size_t)k;
			have += (size_t)k;
		}
		buf[len] = 0;
		pthread_mutex_lock(&rx.lock);
		struct hit *h = &rx.hits[rx.n < 4095 ? rx.n++ : rx.n];
		h->delivery = atoll(header_in(buf, "X-Gongzhi-Delivery", v, sizeof v));
		h->attempt = atoll(header_in(buf, "X-Gongzhi-Attempt", v, sizeof v));
		header_in(buf, "X-Gongzhi-Timestamp", h->ts, sizeof h->ts);
		header_in(buf, "X-Gongzhi-Signature", h->sig, sizeof h->sig);
		h->body = strdup(end + 4);
		h->at = now_s();
		/* each delivery fails twice, then is accepted */
		int seen = 0;
		for (int i = 0; i < rx.n - 1; i++)
			seen += rx.hits[i].delivery == h->delivery;
		h->status = seen < 2 ? 500 : 200;
		pthread_mutex_unlock(&rx.lock);
		const char *reply = h->status == 500
		                        ? "HTTP/1.1 500 Internal Server Error\r\n"
		                          "Content-Length: 4\r\nConnection: close\r\n\r\nfail"
		                        : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
		                          "Connection: close\r\n\r\nok";
		ssize_t w = write(c, reply, strlen(reply));
		(void)w;
		close(c);
	}
}

static int receiver_start(void)
{
	rx.fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	if (bind(rx.fd, (struct sockaddr *)&sa, sizeof sa) || listen(rx.fd, 64) ||
	    getsockname(rx.fd, (struct sockaddr *)&sa, &sl))
		return -1;
	rx.port = ntohs(sa.sin_port);
	return pthread_create(&rx.thread, NULL, receiver, NULL);
}

/* ---- the database, through its shell (sqlite3 or psql: db_sql()) ---- */

#define sql_int(q) db_int(&S, "%s", (q))

/* Writes a notification for user (as the lifecycle engine will); returns its id. */
static int64_t notify(int64_t user, const char *title)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	long long ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	return db_int(&S,
	              "INSERT INTO notifications (user_id, kind, object_type, object_id, "
	              "title, body, created_at) VALUES (%lld, 'work_order.dispatch', "
	              "'work_order', 42, '%s', 'body of %s', %lld) RETURNING id;",
	              (long long)user, title, title, ms);
}

/* the server's settings (again at each restart) */
static const char *env[] = {NULL, /* the webhook's URL, once the receiver listens */
                            "GONGZHI_NOTIFY_WEBHOOK_SECRET=" SECRET,
                            "GONGZHI_NOTIFY_WEBHOOK_BACKOFF_SECONDS=1",
                            "GONGZHI_SESSION_CACHE_SECONDS=1",
                            "GONGZHI_SSE_HEARTBEAT_SECONDS=1",
                            "GONGZHI_SSE_MAX_STREAMS=8",
                            NULL};

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0 || receiver_start())
		return -1;
	static char url[128];
	snprintf(url, sizeof url, "GONGZHI_NOTIFY_WEBHOOK_URL=http://127.0.0.1:%d/hook", rx.port);
	env[0] = url;
	if (srv_start(&S, env, true))
		return -1;
	admin_tok = login(&S, "admin", ADMIN_PW);
	shequ_tok = login(&S, "shequ", DEMO_PW);
	wuye_tok = login(&S, "wuye", DEMO_PW);
	if (!admin_tok || !shequ_tok || !wuye_tok)
		return -1;
	/* the inbox tests' account staffs a community of its own: no demo order (and so
	 * no SLA warning of the scanner, which depends on today's date) reaches it */
	int64_t sub = unit_id(&S, admin_tok, "鲁山道街道");
	int64_t community = sub ? post_id(&S, admin_tok, "/api/v1/units",
	                                  F("{\"kind\":\"community\",\"name\":\"收件箱测试社区\","
	                                    "\"parent_id\":%lld}",
	                                    (long long)sub))
	                        : 0;
	shequ2_id = community ? create_user(&S, admin_tok, "inbox", "Inbox-Pass-2026",
	                                    "[\"community_staff\"]", community, 0)
	                      : 0;
	shequ2_tok = shequ2_id ? login(&S, "inbox", "Inbox-Pass-2026") : NULL;
	if (!shequ2_tok)
		return -1;
	shequ_id = user_id(&S, admin_tok, "shequ");
	wuye_id = user_id(&S, admin_tok, "wuye");
	wangge_id = user_id(&S, admin_tok, "wangge");
	return shequ_id && shequ2_id && wuye_id && wangge_id ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(admin_tok);
	free(shequ_tok);
	free(shequ2_tok);
	free(wuye_tok);
	int rc = srv_stop(&S);
	if (rc)
		srv_log_tail(&S, 60);
	srv_cleanup(&S);
	assert_int_equal(rc, 0);
	return 0;
}

/* ---- the inbox ---- */

static void inbox_pages_newest_first(void **state)
{
	(void)state;
	int64_t ids[7];
	for (int i = 0; i < 7; i++)
		ids[i] = notify(shequ2_id, F("page-%d", i));
	int64_t other = notify(wuye_id, "not-shequ2");
	int64_t seen[8];
	int n = 0;
	const char *cursor = NULL;
	for (int page = 0; page < 4; page++) {
		struct resp *r = cursor ? apif(&S, "GET", shequ2_tok, NULL,
		                               "/api/v1/notifications?limit=3&cursor=%s", cursor)
		                        : api(&S, "GET", "/api/v1/notifications?limit=3",
		                              shequ2_tok, NULL, NULL);
		assert_status(r, 200);
		assert_int_equal(jint(r->json, "unread"), 7);
		assert_null(jpath(r->json, "total"));
		json_t *items = jpath(r->json, "items");
		for (size_t i = 0; i < json_array_size(items); i++) {
			json_t *it = json_array_get(items, i);
			assert_true(n < 8);
			seen[n++] = jint(it, "id");
			assert_string_equal(jstr(it, "kind"), "work_order.dispatch");
			assert_string_equal(jstr(it, "object_type"), "work_order");
			assert_int_equal(jint(it, "object_id"), 42);
			assert_true(json_is_false(jpath(it, "read")));
			assert_true(contains(jstr(it, "created_at"), "T"));
			assert_true(contains(jstr(it, "body"), "body of page-"));
		}
		json_t *next = jpath(r->json, "next_cursor");
		static char cbuf[64];
		cursor = json_is_string(next) ? strcpy(cbuf, json_string_value(next)) : NULL;
		resp_free(r);
		if (!cursor)
			break;
	}
	assert_int_equal(n, 7);
	for (int i = 0; i < 7; i++)
		assert_int_equal(seen[i], ids[6 - i]); /* newest first, no overlap, no gap */
	for (int i = 0; i < n; i++)
		assert_true(seen[i] != other);
}

static void inbox_unread_count_and_mark_read(void **state)
{
	(void)state;
	struct resp *r =
	    api(&S, "POST", "/api/v1/notifications/read", shequ2_tok, "{\"all\":true}", NULL);
	assert_status(r, 204);
	resp_free(r);
	int64_t a = notify(shequ2_id, "mark-a"), b = notify(shequ2_id, "mark-b");
	int64_t c = notify(shequ2_id, "mark-c");
	int64_t theirs = notify(wuye_id, "mark-theirs");
	r = api(&S, "GET", "/api/v1/notifications?unread=true&count=true", shequ2_tok, NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "unread"), 3);
	assert_int_equal(jint(r->json, "total"), 3);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 3);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/notifications?count=true&limit=1", shequ2_tok, NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "total"), 10); /* 7 read + 3 unread */
	resp_free(r);

	/* another account's id among them: ignored, answered like the rest */
	r = apif(
	    &S, "POST", shequ2_tok,
	    F("{\"ids\":[%lld,%lld,%lld,999999]}", (long long)a, (long long)b, (long long)theirs),
	    "/api/v1/notifications/read");
	assert_status(r, 204);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/notifications?unread=true", shequ2_tok, NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "unread"), 1);
	assert_int_equal(jint(r->json, "items.0.id"), c);
	resp_free(r);
	assert_int_equal(
	    sql_int(F("SELECT CASE WHEN read_at IS NULL THEN 1 ELSE 0 END FROM notifications "
	              "WHERE id = %lld",
	              (long long)theirs)),
	    1);
	r = api(&S, "GET", "/api/v1/notifications?limit=500", wuye_tok, NULL, NULL);
	assert_status(r, 200);
	assert_true(has_id(jpath(r->json, "items"), theirs));
	assert_false(has_id(jpath(r->json, "items"), a));
	json_t *items = jpath(r->json, "items");
	for (size_t i = 0; i < json_array_size(items); i++)
		if (jint(json_array_get(items, i), "id") == theirs)
			assert_true(json_is_false(jpath(json_array_get(items, i), "read")));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/notifications?limit=2", shequ2_tok, NULL, NULL);
	assert_true(json_is_false(jpath(r->json, "items.0.read"))); /* c */
	assert_true(json_is_true(jpath(r->json, "items.1.read")));  /* b */
	resp_free(r);
	r = api(&S, "POST", "/api/v1/notifications/read", shequ2_tok, "{\"all\":true}", NULL);
	assert_status(r, 204);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/notifications", shequ2_tok, NULL, NULL);
	assert_int_equal(jint(r->json, "unread"), 0);
	resp_free(r);
}

static void inbox_bad_input_and_no_login(void **state)
{
	(void)state;
	static const char *const bad_q[][2] = {
	    {"limit=0", "limit"},   {"limit=501", "limit"},   {"limit=x", "limit"},
	    {"cursor=5", "cursor"}, {"cursor=c-1", "cursor"}, {"unread=yes", "unread"},
	    {"count=1", "count"},
	};
	for (size_t i = 0; i < sizeof bad_q / sizeof bad_q[0]; i++) {
		struct resp *r =
		    apif(&S, "GET", shequ_tok, NULL, "/api/v1/notifications?%s", bad_q[i][0]);
		assert_error(r, 400, "validation_failed", bad_q[i][1]);
		resp_free(r);
	}
	struct resp *r = api(&S, "GET", "/api/v1/notifications?user_id=1", shequ_tok, NULL, NULL);
	assert_error(r, 400, "unknown_field", "user_id");
	resp_free(r);
	static const char *const bad_b[][3] = {
	    {"{}", "validation_failed", "ids"},
	    {"{\"ids\":[1],\"all\":true}", "validation_failed", "all"},
	    {"{\"all\":false}", "validation_failed", "all"},
	    {"{\"ids\":\"1\"}", "validation_failed", "ids"},
	    {"{\"ids\":[0]}", "validation_failed", "ids"},
	    {"{\"ids\":[\"1\"]}", "validation_failed", "ids"},
	    {"{\"user_id\":1,\"all\":true}", "unknown_field", "user_id"},
	};
	for (size_t i = 0; i < sizeof bad_b / sizeof bad_b[0]; i++) {
		r = api(&S, "POST", "/api/v1/notifications/read", shequ_tok, bad_b[i][0], NULL);
		assert_error(r, 400, bad_b[i][1], bad_b[i][2]);
		resp_free(r);
	}
	r = api(&S, "GET", "/api/v1/notifications", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "POST", "/api/v1/notifications/read", NULL, "{\"all\":true}", NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/events?once=true", NULL, NULL, NULL);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = api(&S, "GET", "/api/v1/events?once=maybe", shequ_tok, NULL, NULL);
	assert_error(r, 400, "validation_failed", "once");
	resp_free(r);
	r = api(&S, "GET", "/api/v1/events?once=true", shequ_tok, NULL, "Last-Event-ID: abc");
	assert_error(r, 400, "validation_failed", "Last-Event-ID");
	resp_free(r);
}

/* ---- the event stream, through a plain socket ---- */

static void events_deliver_and_resume(void **state)
{
	(void)state;
	struct sse *e = sse_open(&S, shequ_tok, NULL, NULL);
	assert_true(sse_wait(e, "retry: 3000", 3000));
	assert_true(contains(e->buf, "HTTP/1.1 200"));
	assert_true(contains(e->buf, "text/event-stream"));
	int64_t before = notify(shequ_id, "before-stream-but-after-open");
	assert_true(
	    sse_wait(e, F("id: %lld\nevent: notification\ndata: {", (long long)before), 4000));
	int64_t theirs = notify(wuye_id, "someone-else");
	int64_t n1 = notify(shequ_id, "live-one");
	assert_true(sse_wait(e, F("id: %lld\n", (long long)n1), 4000));
	assert_true(contains(e->buf, "\"title\":\"live-one\""));
	assert_true(contains(e->buf, "\"object_type\":\"work_order\""));
	assert_false(contains(e->buf, F("id: %lld\n", (long long)theirs)));
	assert_false(contains(e->buf, "someone-else"));
	/* idle: heartbeat comments (sse_heartbeat_seconds=1) */
	assert_true(sse_wait(e, ": keep-alive", 3000));
	sse_close(e);

	/* disconnected: two more; the reconnect with Last-Event-ID gets exactly them */
	int64_t n2 = notify(shequ_id, "missed-two"), n3 = notify(shequ_id, "missed-three");
	e = sse_open(&S, shequ_tok, F("%lld", (long long)n1), "?once=true");
	assert_false(sse_wait(e, "never-there", 4000)); /* once: the stream ends */
	assert_true(e->closed);
	char *p2 = strstr(e->buf, F("id: %lld\n", (long long)n2));
	char *p3 = strstr(e->buf, F("id: %lld\n", (long long)n3));
	assert_non_null(p2);
	assert_non_null(p3);
	assert_true(p2 < p3);
	assert_false(contains(e->buf, F("id: %lld\n", (long long)n1)));
	assert_false(contains(e->buf, F("id: %lld\n", (long long)theirs)));
	sse_close(e);
	/* and a live stream resumed from the same id gets them too, then stays open */
	e = sse_open(&S, shequ_tok, F("%lld", (long long)n1), NULL);
	assert_true(sse_wait(e, F("id: %lld\n", (long long)n3), 4000));
	assert_false(e->closed);
	sse_close(e);
}

static void events_end_on_logout_and_disable(void **state)
{
	(void)state;
	char *tok = login(&S, "shequ", DEMO_PW);
	assert_non_null(tok);
	struct sse *e = sse_open(&S, tok, NULL, NULL);
	assert_true(sse_wait(e, "retry:", 3000));
	struct resp *r = api(&S, "POST", "/api/v1/auth/logout", tok, NULL, NULL);
	assert_status(r, 204);
	resp_free(r);
	double t0 = now_s();
	assert_false(sse_wait(e, "never-there", 5000));
	assert_true(e->closed);
	assert_true(now_s() - t0 < 4.0); /* session_cache_seconds=1, plus a watcher tick */
	sse_close(e);
	free(tok);

	/* a disabled account's stream ends too */
	int64_t uid =
	    create_user(&S, admin_tok, uniq("sse"), "Sse-User-Pass-2026", "[\"resident\"]", 0, 0);
	assert_true(uid > 0);
	r = apif(&S, "GET", admin_tok, NULL, "/api/v1/users/%lld", (long long)uid);
	char *uname = strdup(jstr(r->json, "username"));
	resp_free(r);
	tok = login(&S, uname, "Sse-User-Pass-2026");
	assert_non_null(tok);
	e = sse_open(&S, tok, NULL, NULL);
	assert_true(sse_wait(e, "retry:", 3000));
	sql_int(F("UPDATE users SET disabled = 1 WHERE id = %lld; SELECT 1;", (long long)uid));
	t0 = now_s();
	assert_false(sse_wait(e, "never-there", 5000));
	assert_true(e->closed);
	assert_true(now_s() - t0 < 4.0);
	sse_close(e);
	free(tok);
	free(uname);
}

/* Open streams hold no server thread (GONGZHI_THREADS=4 in the harness): with twice
 * as many streams open, requests are still answered at once; one stream more than
 * sse_max_streams is refused with 503. */
static void events_bounded_and_threadless(void **state)
{
	(void)state;
	msleep(2500); /* the earlier streams' sockets are found closed at a heartbeat */
	struct sse *e[MAX_STREAMS];
	for (int i = 0; i < MAX_STREAMS; i++) {
		e[i] = sse_open(&S, shequ_tok, NULL, NULL);
		assert_true(sse_wait(e[i], "retry:", 3000));
	}
	double t0 = now_s();
	for (int i = 0; i < 20; i++) {
		struct resp *r =
		    api(&S, "GET", "/api/v1/notifications?limit=1", shequ_tok, NULL, NULL);
		assert_status(r, 200);
		resp_free(r);
	}
	double took = now_s() - t0;
	print_message("# 20 requests with %d streams open on 4 threads: %.3f s\n", MAX_STREAMS,
	              took);
	assert_true(took < 2.0);
	struct resp *r = api(&S, "GET", "/metrics", NULL, NULL, NULL);
	assert_status(r, 200);
	assert_true(contains(r->body, F("gongzhi_event_streams %d\n", MAX_STREAMS)));
	assert_true(contains(r->body, F("gongzhi_event_streams_max %d\n", MAX_STREAMS)));
	resp_free(r);
	r = api(&S, "GET", "/api/v1/events?once=true", shequ_tok, NULL, NULL);
	assert_error(r, 503, "unavailable", NULL);
	assert_non_null(resp_header(r, "Retry-After"));
	resp_free(r);
	/* a new notification reaches every stream */
	int64_t n = notify(shequ_id, "to-all-streams");
	for (int i = 0; i < MAX_STREAMS; i++) {
		assert_true(sse_wait(e[i], F("id: %lld\n", (long long)n), 4000));
		sse_close(e[i]);
	}
}

/* ---- the webhook ---- */

static bool verify_sig(const struct hit *h)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)SECRET, strlen(SECRET));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)h->ts, strlen(h->ts));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)h->body, strlen(h->body));
	crypto_auth_hmacsha256_final(&st, mac);
	char hex[2 * sizeof mac + 1];
	sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
	return strncmp(h->sig, "sha256=", 7) == 0 && strcmp(h->sig + 7, hex) == 0;
}

/* The hits whose payload is notification id, in order; returns how many. */
static int hits_of(int64_t id, struct hit *out, int cap)
{
	int n = 0;
	pthread_mutex_lock(&rx.lock);
	for (int i = 0; i < rx.n && n < cap; i++) {
		json_t *j = json_loads(rx.hits[i].body, 0, NULL);
		if (j && jint(j, "notification.id") == id)
			out[n++] = rx.hits[i];
		json_decref(j);
	}
	pthread_mutex_unlock(&rx.lock);
	return n;
}

static void webhook_retries_and_signs(void **state)
{
	(void)state;
	int64_t id = notify(wangge_id, "webhook-dispatch");
	struct hit h[8];
	int n = 0;
	for (int i = 0; i < 150 && (n = hits_of(id, h, 8)) < 3; i++)
		msleep(100);
	assert_int_equal(n, 3);
	msleep(1500);
	assert_int_equal(hits_of(id, h, 8), 3); /* accepted: not sent again */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(h[i].attempt, i + 1);
		assert_int_equal(h[i].delivery, h[0].delivery);
		assert_true(verify_sig(&h[i]));
		assert_int_equal(h[i].status, i < 2 ? 500 : 200);
	}
	/* backoff 1 s, then 2 s */
	assert_true(h[1].at - h[0].at > 0.9);
	assert_true(h[2].at - h[1].at > 1.9);
	json_t *j = json_loads(h[2].body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(jstr(j, "msgtype"), "text");
	assert_true(contains(jstr(j, "text.content"), "webhook-dispatch"));
	assert_string_equal(jstr(j, "notification.title"), "webhook-dispatch");
	assert_string_equal(jstr(j, "notification.kind"), "work_order.dispatch");
	assert_int_equal(jint(j, "account.id"), wangge_id);
	assert_string_equal(jstr(j, "account.username"), "wangge");
	json_decref(j);
	/* a forged body does not verify */
	struct hit forged = h[2];
	forged.body = "{\"msgtype\":\"text\"}";
	assert_false(verify_sig(&forged));
	assert_int_equal(
	    sql_int(F("SELECT attempts * 10 + CASE WHEN delivered_at IS NULL THEN 0 ELSE 1 END "
	              "FROM notification_outbox "
	              "WHERE notification_id = %lld",
	              (long long)id)),
	    31);
}

/* The outbox is in the database: a notification written while the server is down
 * is delivered after it starts again. */
static void webhook_survives_restart(void **state)
{
	(void)state;
	int rc = srv_stop(&S);
	if (rc)
		srv_log_tail(&S, 60);
	assert_int_equal(rc, 0);
	int64_t id = notify(wangge_id, "written-while-down");
	assert_int_equal(srv_restart(&S, env), 0);
	free(shequ_tok);
	shequ_tok = login(&S, "shequ", DEMO_PW);
	struct hit h[8];
	int n = 0;
	for (int i = 0; i < 150 && (n = hits_of(id, h, 8)) < 3; i++)
		msleep(100);
	assert_int_equal(n, 3);
	assert_int_equal(h[2].status, 200);
}

/* Shutdown ends open streams at once instead of waiting the grace period out. */
static void shutdown_with_open_stream(void **state)
{
	(void)state;
	struct sse *e = sse_open(&S, shequ_tok, NULL, NULL);
	assert_true(sse_wait(e, "retry:", 3000));
	double t0 = now_s();
	assert_int_equal(srv_stop(&S), 0);
	double took = now_s() - t0;
	print_message("# stop with an open event stream: %.3f s\n", took);
	assert_true(took < 5.0);
	assert_false(sse_wait(e, "never-there", 2000));
	assert_true(e->closed);
	sse_close(e);
	assert_int_equal(srv_restart(&S, env), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(inbox_pages_newest_first),
	    cmocka_unit_test(inbox_unread_count_and_mark_read),
	    cmocka_unit_test(inbox_bad_input_and_no_login),
	    cmocka_unit_test(events_deliver_and_resume),
	    cmocka_unit_test(events_end_on_logout_and_disable),
	    cmocka_unit_test(events_bounded_and_threadless),
	    cmocka_unit_test(webhook_retries_and_signs),
	    cmocka_unit_test(webhook_survives_restart),
	    cmocka_unit_test(shutdown_with_open_stream),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
