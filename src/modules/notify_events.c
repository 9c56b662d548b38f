/* notify_events.c - GET /api/v1/events: a Server-Sent Events stream per account, one
 * "notification" event per new notification of that account.
 *
 * A stream holds no server thread while it waits.  Its body callback runs on an MHD
 * pool thread only when there is something to send: it writes the pending events
 * (read with one indexed query), a heartbeat comment when one is due, or ends the
 * stream; when there is nothing, it suspends the connection and returns 0 (the MHD
 * contract for "no data yet": legal only with the connection suspended).  One
 * watcher thread resumes the suspended streams: it is woken by a commit hook on the
 * writer (a point query of max(id) after each batch) and polls max(id) once a second
 * for rows written by another process (the CLI, the sqlite3 shell); it then reads
 * which accounts the new rows are for and resumes only their streams, plus those
 * whose heartbeat or credential check is due.  So an idle stream costs a socket and
 * MHD's connection buffers (about 50 kB), not a thread; new notifications cost one query per
 * stream they concern.  The number of streams is bounded (sse_max_streams).
 *
 * The credential a stream was opened with (a session, an API key) is checked again
 * every session_cache_seconds (at least every second): after a logout, a disable or
 * a revocation the stream ends.  At shutdown (quiesce) every stream is resumed and
 * ended, because MHD must not be stopped with suspended connections. */
#include "app.h"
#include "auth/auth.h"
#include "auth/session.h" /* the hash of the session a stream was opened with */
#include "core/log.h"
#include "core/metrics.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "modules/notify.h"
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct stream {
	struct stream *prev, *next;
	struct gz_app *app;
	struct MHD_Connection *conn;
	int64_t user_id, api_key_id;
	char session_hash[GZ_SHA256_HEX]; /* "" for an API key */
	int64_t last_id;     /* the last notification sent (or before the stream's start) */
	int64_t checked_max; /* the hub's max_id when last_id was last brought up to date */
	int64_t heartbeat_at, check_at; /* monotonic ms */
	bool once;
	bool suspended; /* under hub.lock */
	struct gz_buf out;
	size_t out_pos;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct stream *streams;
	int nstreams;
	int64_t max_id;  /* the highest notification id the streams have been told of */
	int64_t hint_id; /* the highest the commit hook has seen */
	bool running, stopping, signalled;
	pthread_t thread;
	struct gz_app *app;
} hub = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static int64_t mono_ms(void)
{
	return gz_monotonic_ns() / 1000000;
}

static int64_t check_interval_ms(struct gz_app *app)
{
	int64_t ms = app->cfg.session_cache_seconds * 1000;
	return ms < 1000 ? 1000 : ms;
}

/* Is the stream's credential still good (session or key present, account enabled)?
 * An error counts as "yes": a busy database does not end streams. */
static bool credential_ok(struct stream *s)
{
	struct gz_err err;
	struct gz_conn *c = gz_db_reader(s->app->db);
	int rc = s->api_key_id
	             ? gz_query_i64(c, &err, NULL,
	                            "SELECT 1 FROM api_keys k JOIN users u ON u.id = k.user_id "
	                            "WHERE k.id = ? AND k.revoked = 0 AND u.disabled = 0",
	                            "i", s->api_key_id)
	             : gz_query_i64(c, &err, NULL,
	                            "SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id "
	                            "WHERE s.token_hash = ? AND u.disabled = 0",
	                            "t", s->session_hash);
	gz_db_reader_done(s->app->db, c);
	return rc != 0;
}

#define BATCH 100

/* Appends the account's notifications after last_id (at most BATCH) as events. */
static int load_events(struct stream *s, struct gz_err *err)
{
	struct gz_conn *c = gz_db_reader(s->app->db);
	struct gz_stmt *st =
	    gz_stmt(c,
	            "SELECT " GZ_NOTICE_COLS " FROM notifications WHERE user_id = ? "
	            "AND id > ? ORDER BY id LIMIT ?",
	            err);
	int rc = -1, n = 0;
	if (st) {
		gz_bind_i64(st, 1, s->user_id);
		gz_bind_i64(st, 2, s->last_id);
		gz_bind_i64(st, 3, BATCH);
		while ((rc = gz_step(st, err)) == 1) {
			json_t *j = gz_notice_json(st, 0);
			char *text = gz_json_dump(j);
			json_decref(j);
			s->last_id = gz_col_i64(st, 0);
			gz_buf_addf(&s->out, "id: %lld\nevent: notification\ndata: %s\n\n",
			            (long long)s->last_id, text);
			free(text);
			n++;
		}
		gz_stmt_done(st);
	}
	gz_db_reader_done(s->app->db, c);
	return rc < 0 ? -1 : n;
}

/* The body callback (see struct gz_req.out_stream and the paragraph above). */
static ssize_t stream_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = ctx;
	(void)pos;
	if (s->out_pos == s->out.len) {
		gz_buf_reset(&s->out);
		s->out_pos = 0;
		int64_t now = mono_ms();
		pthread_mutex_lock(&hub.lock);
		bool stopping = hub.stopping;
		int64_t max_id = hub.max_id;
		pthread_mutex_unlock(&hub.lock);
		if (stopping)
			return GZ_STREAM_END;
		if (now >= s->check_at) {
			if (!credential_ok(s))
				return GZ_STREAM_END;
			s->check_at = now + check_interval_ms(s->app);
		}
		bool more = false;
		if (max_id > s->checked_max || s->once) {
			struct gz_err err;
			int n = load_events(s, &err);
			if (n < 0) {
				gz_warn("event stream of user %lld: %s", (long long)s->user_id,
				        err.message);
				return GZ_STREAM_ERROR;
			}
			more = n == BATCH;
			if (!more)
				s->checked_max = max_id;
		}
		if (s->out.len == 0 && s->once)
			return GZ_STREAM_END;
		if (s->out.len == 0 && now >= s->heartbeat_at)
			gz_buf_adds(&s->out, ": keep-alive\n\n");
		if (s->out.len == 0) {
			pthread_mutex_lock(&hub.lock);
			if (hub.stopping || hub.max_id > s->checked_max || more) {
				pthread_mutex_unlock(&hub.lock);
				/* changed meanwhile: send nothing now, be called again at once */
				gz_buf_adds(&s->out, ": \n\n");
			} else {
				s->suspended = true;
				MHD_suspend_connection(s->conn);
				pthread_mutex_unlock(&hub.lock);
				return 0;
			}
		}
		s->heartbeat_at = now + s->app->cfg.sse_heartbeat_seconds * 1000;
	}
	size_t n = s->out.len - s->out_pos;
	if (n > max)
		n = max;
	memcpy(buf, s->out.data + s->out_pos, n);
	s->out_pos += n;
	return (ssize_t)n;
}

static void stream_free(void *ctx)
{
	struct stream *s = ctx;
	pthread_mutex_lock(&hub.lock);
	if (s->prev)
		s->prev->next = s->next;
	else
		hub.streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	hub.nstreams--;
	pthread_mutex_unlock(&hub.lock);
	gz_buf_release(&s->out);
	free(s);
}

int gz_events_handler(struct gz_req *r, struct gz_err *err)
{
	bool once = false;
	const char *v = gz_req_query(r, "once");
	if (v && strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
		return gz_fail_field(err, GZ_E_VALIDATION, "once", "once must be true or false");
	once = v && v[0] == 't';
	int64_t after = -1;
	const char *last = gz_req_header(r, "Last-Event-ID");
	if (last && *last && (!gz_parse_i64(last, &after) || after < 0))
		return gz_fail_field(err, GZ_E_VALIDATION, "Last-Event-ID",
		                     "Last-Event-ID must be a notification id");
	if (!r->conn)
		return gz_fail(err, GZ_E_UNAVAILABLE, "event streams need the HTTP server");
	if (after < 0) { /* a new stream: from the account's latest notification on */
		struct gz_conn *c = gz_db_reader(r->app->db);
		int rc =
		    gz_query_i64(c, err, &after,
		                 "SELECT coalesce(max(id), 0) FROM notifications WHERE user_id = ?",
		                 "i", r->acct->id);
		gz_db_reader_done(r->app->db, c);
		if (rc < 0)
			return -1;
	}
	struct stream *s = gz_xcalloc(1, sizeof(*s));
	s->app = r->app;
	s->conn = r->conn;
	s->user_id = r->acct->id;
	s->api_key_id = r->acct->api_key_id;
	if (!s->api_key_id)
		snprintf(s->session_hash, sizeof(s->session_hash), "%s", gz_session_hash_of(r));
	s->last_id = after;
	s->once = once;
	int64_t now = mono_ms();
	s->check_at = now + check_interval_ms(r->app);
	s->heartbeat_at = now + r->app->cfg.sse_heartbeat_seconds * 1000;
	/* tells EventSource how soon to reconnect after the stream ends */
	gz_buf_adds(&s->out, "retry: 3000\n\n");

	pthread_mutex_lock(&hub.lock);
	bool refuse = !hub.running || hub.stopping || hub.nstreams >= r->app->cfg.sse_max_streams;
	if (!refuse) {
		s->checked_max = -1; /* the backlog after Last-Event-ID is read first */
		s->next = hub.streams;
		if (hub.streams)
			hub.streams->prev = s;
		hub.streams = s;
		hub.nstreams++;
	}
	pthread_mutex_unlock(&hub.lock);
	if (refuse) {
		gz_buf_release(&s->out);
		free(s);
		gz_reply_header(r, "Retry-After", "10");
		return gz_fail(err, GZ_E_UNAVAILABLE, "too many event streams are open; try later");
	}
	r->status = 200;
	r->out_type = "text/event-stream; charset=utf-8";
	gz_reply_header(r, "Cache-Control", "no-store");
	gz_reply_header(r, "X-Accel-Buffering", "no"); /* nginx: pass events on at once */
	r->out_stream = stream_read;
	r->out_stream_free = stream_free;
	r->out_stream_ctx = s;
	return 0;
}

/* ---- the watcher ---- */

/* On the writer after each committed batch: one point query (the rowid's maximum). */
static void on_commit(struct gz_conn *c, void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&hub.lock);
	bool serving = hub.running;
	pthread_mutex_unlock(&hub.lock);
	if (!serving) /* a CLI command (perhaps migrating a schema without the table) */
		return;
	struct gz_err err;
	int64_t max = 0;
	if (gz_query_i64(c, &err, &max, "SELECT coalesce(max(id), 0) FROM notifications", "") < 0)
		return;
	pthread_mutex_lock(&hub.lock);
	bool news = max > hub.hint_id;
	if (news) {
		hub.hint_id = max;
		hub.signalled = true;
		pthread_cond_signal(&hub.cond);
	}
	pthread_mutex_unlock(&hub.lock);
	if (news)
		gz_webhook_wake();
}

/* /metrics: how many streams are open, against the bound. */
static void events_metrics(struct gz_buf *out, void *ctx)
{
	struct gz_app *app = ctx;
	pthread_mutex_lock(&hub.lock);
	int n = hub.nstreams;
	pthread_mutex_unlock(&hub.lock);
	gz_buf_addf(out,
	            "# HELP gongzhi_event_streams Open event streams (GET /api/v1/events).\n"
	            "# TYPE gongzhi_event_streams gauge\ngongzhi_event_streams %d\n"
	            "# HELP gongzhi_event_streams_max The bound on open event streams "
	            "(sse_max_streams).\n"
	            "# TYPE gongzhi_event_streams_max gauge\ngongzhi_event_streams_max %lld\n",
	            n, (long long)app->cfg.sse_max_streams);
}

int gz_events_init(struct gz_app *app, struct gz_err *err)
{
	(void)err;
	static struct gz_app *registered; /* once per app (the tests open several) */
	if (registered != app) {
		gz_metrics_add_provider(events_metrics, app);
		registered = app;
	}
	gz_db_on_commit(app->db, on_commit, NULL);
	return 0;
}

/* Reads the accounts notified in (from, to] into users (at most cap; *n gets how
 * many, -1 when there are more: then every stream is woken). */
static int notified_users(struct gz_app *app, int64_t from, int64_t to, int64_t *users, int cap,
                          int *n)
{
	struct gz_err err;
	struct gz_conn *c = gz_db_reader(app->db);
	struct gz_stmt *s = gz_stmt(c,
	                            "SELECT DISTINCT user_id FROM notifications WHERE id > ? AND "
	                            "id <= ?",
	                            &err);
	int rc = -1;
	*n = 0;
	if (s) {
		gz_bind_i64(s, 1, from);
		gz_bind_i64(s, 2, to);
		while ((rc = gz_step(s, &err)) == 1) {
			if (*n == cap) {
				*n = -1;
				rc = 0;
				break;
			}
			users[(*n)++] = gz_col_i64(s, 0);
		}
		gz_stmt_done(s);
	}
	gz_db_reader_done(app->db, c);
	if (rc < 0)
		gz_warn("event watcher: %s", err.message);
	return rc < 0 ? -1 : 0;
}

#define WAKE_USERS 512

static void *watcher(void *arg)
{
	struct gz_app *app = arg;
	static int64_t users[WAKE_USERS];
	struct MHD_Connection **wake = NULL;
	int wake_cap = 0;
	pthread_mutex_lock(&hub.lock);
	while (hub.running) {
		if (!hub.signalled) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&hub.cond, &hub.lock, &ts);
		}
		hub.signalled = false;
		if (!hub.running)
			break;
		int nstreams = hub.nstreams;
		int64_t from = hub.max_id, to = hub.hint_id;
		pthread_mutex_unlock(&hub.lock);

		if (nstreams > 0) { /* the fallback: rows committed by another process */
			struct gz_err err;
			int64_t max = 0;
			struct gz_conn *c = gz_db_reader(app->db);
			if (gz_query_i64(c, &err, &max,
			                 "SELECT coalesce(max(id), 0) FROM notifications",
			                 "") > 0 &&
			    max > to)
				to = max;
			gz_db_reader_done(app->db, c);
		}
		int n = 0;
		if (to > from && nstreams > 0 &&
		    notified_users(app, from, to, users, WAKE_USERS, &n))
			to = from; /* try again next time */

		pthread_mutex_lock(&hub.lock);
		if (to > hub.hint_id)
			hub.hint_id = to;
		bool news = to > hub.max_id;
		if (news)
			hub.max_id = to;
		int64_t now = mono_ms();
		int nwake = 0;
		if (hub.nstreams > wake_cap) {
			wake_cap = hub.nstreams;
			wake = gz_xrealloc(wake, (size_t)wake_cap * sizeof(*wake));
		}
		for (struct stream *s = hub.streams; s; s = s->next) {
			if (!s->suspended)
				continue;
			bool due = hub.stopping || now >= s->heartbeat_at || now >= s->check_at;
			if (news && !due) {
				bool mine = n < 0;
				for (int i = 0; i < n && !mine; i++)
					mine = users[i] == s->user_id;
				if (mine)
					due = true;
				else if (s->checked_max == from)
					s->checked_max = hub.max_id; /* nothing new for it */
			}
			if (due) {
				s->suspended = false; /* from here it is ours to resume */
				wake[nwake++] = s->conn;
			}
		}
		/* resumed outside the lock: MHD takes its own locks there, and a stream
		 * marked not suspended is neither suspended again nor freed before */
		pthread_mutex_unlock(&hub.lock);
		for (int i = 0; i < nwake; i++)
			MHD_resume_connection(wake[i]);
		pthread_mutex_lock(&hub.lock);
	}
	pthread_mutex_unlock(&hub.lock);
	free(wake);
	return NULL;
}

/* Another node committed notifications (PostgreSQL LISTEN): the watcher looks. */
static void on_signal(void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&hub.lock);
	hub.signalled = true;
	pthread_cond_signal(&hub.cond);
	pthread_mutex_unlock(&hub.lock);
	gz_webhook_wake();
}

int gz_events_start(struct gz_app *app, struct gz_err *err)
{
	static struct gz_db *listening; /* once per database (the tests open several) */
	if (listening != app->db) {
		if (gz_db_listen(app->db, "notifications", on_signal, NULL, err))
			return -1;
		listening = app->db;
	}
	struct gz_conn *c = gz_db_reader(app->db);
	int64_t max = 0;
	int rc = gz_query_i64(c, err, &max, "SELECT coalesce(max(id), 0) FROM notifications", "");
	gz_db_reader_done(app->db, c);
	if (rc < 0)
		return -1;
	pthread_mutex_lock(&hub.lock);
	hub.app = app;
	hub.max_id = hub.hint_id = max;
	hub.running = true;
	hub.stopping = false;
	pthread_mutex_unlock(&hub.lock);
	if (pthread_create(&hub.thread, NULL, watcher, app)) {
		hub.running = false;
		return gz_fail(err, GZ_E_INTERNAL, "cannot start the event watcher");
	}
	return 0;
}

void gz_events_quiesce(struct gz_app *app)
{
	(void)app;
	pthread_mutex_lock(&hub.lock);
	hub.stopping = true;
	int n = 0;
	struct MHD_Connection **wake = gz_xcalloc((size_t)hub.nstreams + 1, sizeof(*wake));
	for (struct stream *s = hub.streams; s; s = s->next)
		if (s->suspended) {
			s->suspended = false;
			wake[n++] = s->conn;
		}
	pthread_mutex_unlock(&hub.lock);
	for (int i = 0; i < n; i++)
		MHD_resume_connection(wake[i]);
	free(wake);
}

void gz_events_stop(struct gz_app *app)
{
	(void)app;
	pthread_mutex_lock(&hub.lock);
	bool was = hub.running;
	hub.running = false;
	hub.stopping = true;
	pthread_cond_signal(&hub.cond);
	pthread_mutex_unlock(&hub.lock);
	if (was)
		pthread_join(hub.thread, NULL);
}
