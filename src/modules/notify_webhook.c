/* notify_webhook.c - outbound delivery of notifications to notify_webhook_url (an SMS
 * gateway, a WeCom or DingTalk group robot, or a relay in front of them).
 *
 * One background thread, running only when the URL is set: it copies the
 * notifications written after the outbox mark into notification_outbox (in one
 * write, so a row is queued exactly once, whoever wrote the notification: the server
 * or another process), then POSTs the due rows one by one.  A 2xx reply marks a row
 * delivered; anything else (a status, a timeout, a refused connection) is retried
 * after notify_webhook_backoff_seconds, doubling each time up to an hour, until
 * notify_webhook_max_attempts, when the row is marked failed.  The state is in the
 * database, so deliveries survive restarts; a delivery interrupted by a crash may be
 * sent twice (at least once: X-Gongzhi-Delivery lets the receiver drop repeats).
 *
 * libcurl is the client because real gateways and robots (qyapi.weixin.qq.com,
 * oapi.dingtalk.com) are https only: TLS, proxies and redirects are not ours to write.
 *
 * The body (Content-Type: application/json) carries the robots' text message format
 * (msgtype, text.content) so a WeCom/DingTalk robot URL works as is, the notification,
 * and the account to reach: id, username, display name and the phone masked
 * (138****5678) - a gateway that sends SMS maps the username to a number in its own
 * directory; the full number never leaves the server.  When notify_webhook_secret is
 * set, X-Gongzhi-Signature is "sha256=" + hex HMAC-SHA256 under the secret of
 * X-Gongzhi-Timestamp + "." + body (the timestamp in Unix seconds, to refuse replays). */
#include "app.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "model/entity.h"
#include "modules/notify.h"
#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool running, signalled;
	bool curl; /* curl_global_init done (once per process) */
	pthread_t thread;
	struct gz_app *app;
	_Atomic bool stop;
} wh = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

void gz_webhook_wake(void)
{
	pthread_mutex_lock(&wh.lock);
	wh.signalled = true;
	pthread_cond_signal(&wh.cond);
	pthread_mutex_unlock(&wh.lock);
}

/* Queues the notifications after the mark (500 at a time). */
static int enqueue_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	(void)ctx;
	int64_t mark = 0, now = gz_now_ms();
	int rc = gz_query_i64(c, err, &mark,
	                      "SELECT last_notification_id FROM notification_outbox_mark", "");
	if (rc < 0)
		return -1;
	if (rc == 0) /* first start with a webhook: what was written before is not sent */
		return gz_exec_args(
		    c, err,
		    "INSERT INTO notification_outbox_mark (id, last_notification_id) "
		    "SELECT 1, coalesce(max(id), 0) FROM notifications",
		    "");
	int64_t top = 0;
	if (gz_query_i64(
	        c, err, &top,
	        "SELECT coalesce(max(id), 0) FROM (SELECT id FROM notifications WHERE id > ? "
	        "ORDER BY id LIMIT 500) batch",
	        "i", mark) < 0)
		return -1;
	if (top <= mark)
		return 0;
	if (gz_exec_args(c, err,
	                 "INSERT INTO notification_outbox (notification_id, "
	                 "next_attempt_at, created_at) SELECT id, ?, ? FROM notifications "
	                 "WHERE id > ? AND id <= ? ON CONFLICT (notification_id) DO NOTHING",
	                 "iiii", now, now, mark, top))
		return -1;
	return gz_exec_args(c, err, "UPDATE notification_outbox_mark SET last_notification_id = ?",
	                    "i", top);
}

struct outcome {
	int64_t id, now, next;
	bool delivered, failed;
	char error[200];
};

static int outcome_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct outcome *o = ctx;
	if (o->delivered)
		return gz_exec_args(c, err,
		                    "UPDATE notification_outbox SET attempts = attempts + 1, "
		                    "delivered_at = ?, last_error = NULL WHERE id = ?",
		                    "ii", o->now, o->id);
	if (gz_exec_args(c, err,
	                 "UPDATE notification_outbox SET attempts = attempts + 1, "
	                 "next_attempt_at = ?, last_error = ? WHERE id = ?",
	                 "iti", o->next, o->error, o->id))
		return -1;
	if (!o->failed)
		return 0;
	return gz_exec_args(c, err, "UPDATE notification_outbox SET failed_at = ? WHERE id = ?",
	                    "ii", o->now, o->id);
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

static int abort_on_stop(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)ctx, (void)a, (void)b, (void)c, (void)d;
	return atomic_load(&wh.stop) ? 1 : 0;
}

/* POSTs body; 0 on a 2xx reply, else -1 with why in error. */
static int post(struct gz_app *app, int64_t delivery, int64_t attempt, const char *body,
                char *error, size_t errlen)
{
	CURL *h = curl_easy_init();
	if (!h) {
		snprintf(error, errlen, "cannot start an HTTP client");
		return -1;
	}
	struct curl_slist *hdr = NULL;
	char line[256];
	hdr = curl_slist_append(hdr, "Content-Type: application/json; charset=utf-8");
	hdr = curl_slist_append(hdr, "Expect:");
	snprintf(line, sizeof(line), "X-Gongzhi-Delivery: %lld", (long long)delivery);
	hdr = curl_slist_append(hdr, line);
	snprintf(line, sizeof(line), "X-Gongzhi-Attempt: %lld", (long long)attempt);
	hdr = curl_slist_append(hdr, line);
	const char *secret = app->cfg.notify_webhook_secret;
	if (*secret) {
		char ts[32];
		snprintf(ts, sizeof(ts), "%lld", (long long)(gz_now_ms() / 1000));
		crypto_auth_hmacsha256_state st;
		unsigned char mac[crypto_auth_hmacsha256_BYTES];
		crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
		crypto_auth_hmacsha256_final(&st, mac);
		char hex[2 * sizeof(mac) + 1];
		sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
		snprintf(line, sizeof(line), "X-Gongzhi-Timestamp: %s", ts);
		hdr = curl_slist_append(hdr, line);
		snprintf(line, sizeof(line), "X-Gongzhi-Signature: sha256=%s", hex);
		hdr = curl_slist_append(hdr, line);
	}
	curl_easy_setopt(h, CURLOPT_URL, app->cfg.notify_webhook_url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)app->cfg.notify_webhook_timeout_seconds);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "gongzhi-webhook/1");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
	CURLcode rc = curl_easy_perform(h);
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK) {
		snprintf(error, errlen, "%s", curl_easy_strerror(rc));
		return -1;
	}
	if (status < 200 || status > 299) {
		snprintf(error, errlen, "HTTP %ld", status);
		return -1;
	}
	return 0;
}

struct due {
	int64_t id, attempts;
	char *body;
};

#define DUE_MAX 20

/* The payload of one outbox row (see the paragraph above).  Caller frees. */
static char *payload(struct gz_app *app, struct gz_stmt *s)
{
	/* columns: outbox id, attempts, notification (8), user id, username, display name,
	 * phone (sealed) */
	json_t *n = gz_notice_json(s, 2);
	json_object_del(n, "read");
	struct gz_arena a;
	gz_arena_init(&a);
	const char *sealed = gz_col_text(s, 13);
	char *phone = *sealed ? gz_unseal(app->key, sealed) : NULL;
	const char *masked = phone ? gz_mask(&a, phone) : NULL;
	const char *title = gz_col_text(s, 6), *body = gz_col_text(s, 7);
	char *content = gz_sprintf(&a, "%s%s%s", title, *body ? "\n" : "", body);
	json_t *j =
	    json_pack("{s:s,s:{s:s},s:o,s:{s:I,s:s,s:s,s:o}}", "msgtype", "text", "text", "content",
	              content, "notification", n, "account", "id", (json_int_t)gz_col_i64(s, 10),
	              "username", gz_col_text(s, 11), "display_name", gz_col_text(s, 12),
	              "phone_masked", masked ? json_string(masked) : json_null());
	char *text = gz_json_dump(j);
	json_decref(j);
	free(phone);
	gz_arena_release(&a);
	return text;
}

/* Reads the due rows; *n gets how many. */
static int due_rows(struct gz_app *app, struct due *d, int *n, struct gz_err *err)
{
	struct gz_conn *c = gz_db_reader(app->db);
	struct gz_stmt *s = gz_stmt(
	    c,
	    "SELECT o.id, o.attempts, n.id, n.kind, n.object_type, n.object_id, n.title, n.body, "
	    "n.created_at, n.read_at, u.id, u.username, u.display_name, coalesce(u.phone, '') "
	    "FROM notification_outbox o JOIN notifications n ON n.id = o.notification_id "
	    "JOIN users u ON u.id = n.user_id WHERE o.delivered_at IS NULL AND o.failed_at IS "
	    "NULL AND o.next_attempt_at <= ? ORDER BY o.next_attempt_at, o.id LIMIT ?",
	    err);
	int rc = -1;
	*n = 0;
	if (s) {
		gz_bind_i64(s, 1, gz_now_ms());
		gz_bind_i64(s, 2, DUE_MAX);
		while ((rc = gz_step(s, err)) == 1) {
			d[*n].id = gz_col_i64(s, 0);
			d[*n].attempts = gz_col_i64(s, 1);
			d[*n].body = payload(app, s);
			(*n)++;
		}
		gz_stmt_done(s);
	}
	gz_db_reader_done(app->db, c);
	return rc < 0 ? -1 : 0;
}

static int64_t backoff_ms(struct gz_app *app, int64_t attempts)
{
	int64_t ms = app->cfg.notify_webhook_backoff_seconds * 1000;
	for (int64_t i = 1; i < attempts && ms < 3600 * 1000; i++)
		ms *= 2;
	return ms > 3600 * 1000 ? 3600 * 1000 : ms;
}

/* One round: queue, then deliver what is due.  Returns how many were due. */
static int round_once(struct gz_app *app)
{
	struct gz_err err;
	if (gz_db_write(app->db, enqueue_fn, NULL, &err)) {
		gz_warn("webhook: cannot queue notifications: %s", err.message);
		return 0;
	}
	struct due d[DUE_MAX];
	int n = 0;
	if (due_rows(app, d, &n, &err)) {
		gz_warn("webhook: %s", err.message);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		struct outcome o = {.id = d[i].id};
		if (!atomic_load(&wh.stop)) {
			o.delivered = post(app, d[i].id, d[i].attempts + 1, d[i].body, o.error,
			                   sizeof(o.error)) == 0;
			o.now = gz_now_ms();
			o.next = o.now + backoff_ms(app, d[i].attempts + 1);
			o.failed = !o.delivered &&
			           d[i].attempts + 1 >= app->cfg.notify_webhook_max_attempts;
			if (!o.delivered)
				gz_warn("webhook: delivery %lld attempt %lld: %s",
				        (long long)d[i].id, (long long)d[i].attempts + 1, o.error);
			if (gz_db_write(app->db, outcome_fn, &o, &err))
				gz_warn("webhook: cannot record delivery %lld: %s",
				        (long long)d[i].id, err.message);
		}
		free(d[i].body);
	}
	return n;
}

static void *deliverer(void *arg)
{
	struct gz_app *app = arg;
	while (!atomic_load(&wh.stop)) {
		int n = round_once(app);
		pthread_mutex_lock(&wh.lock);
		if (!wh.signalled && !atomic_load(&wh.stop) && n < DUE_MAX) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&wh.cond, &wh.lock, &ts);
		}
		wh.signalled = false;
		pthread_mutex_unlock(&wh.lock);
	}
	return NULL;
}

int gz_webhook_init(struct gz_app *app, struct gz_err *err)
{
	const char *url = app->cfg.notify_webhook_url;
	if (!*url || wh.curl)
		return 0;
	if (!gz_str_has_prefix(url, "http://") && !gz_str_has_prefix(url, "https://"))
		return gz_fail_field(err, GZ_E_VALIDATION, "notify_webhook_url",
		                     "notify_webhook_url must be an http:// or https:// URL");
	/* here, not in start: it loads the TLS library, which takes a while, and start
	 * runs while the server already answers */
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return gz_fail(err, GZ_E_INTERNAL, "cannot start libcurl");
	wh.curl = true;
	return 0;
}

int gz_webhook_start(struct gz_app *app, struct gz_err *err)
{
	if (!*app->cfg.notify_webhook_url || !wh.curl)
		return 0;
	wh.app = app;
	atomic_store(&wh.stop, false);
	if (pthread_create(&wh.thread, NULL, deliverer, app))
		return gz_fail(err, GZ_E_INTERNAL, "cannot start the webhook thread");
	wh.running = true;
	/* not the URL itself: a robot's URL holds its key */
	gz_info("notifications are delivered to the webhook (notify_webhook_url)");
	return 0;
}

void gz_webhook_stop(struct gz_app *app)
{
	(void)app;
	if (!wh.running)
		return;
	atomic_store(&wh.stop, true);
	gz_webhook_wake();
	pthread_join(wh.thread, NULL);
	wh.running = false;
}
