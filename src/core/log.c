/* log.c - JSON-lines logger.  Lines are built in a buffer and written with one
 * write(2), so concurrent threads never interleave inside a line. */
#include "log.h"
#include "buf.h"
#include "timefmt.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum gz_log_level min_level = GZ_LOG_INFO;
static const char *const names[] = {"debug", "info", "warn", "error"};

void gz_log_set_level(enum gz_log_level lvl)
{
	min_level = lvl;
}

int gz_log_parse_level(const char *s, enum gz_log_level *out)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum gz_log_level)i;
			return 0;
		}
	return -1;
}

static void emit(struct gz_buf *b)
{
	gz_buf_adds(b, "}\n");
	const char *p = b->data;
	size_t n = b->len;
	while (n) {
		ssize_t w = write(2, p, n);
		if (w <= 0)
			break;
		p += w;
		n -= (size_t)w;
	}
	gz_buf_release(b);
}

static void start(struct gz_buf *b)
{
	char ts[40];
	gz_time_format(gz_now_ms(), ts, sizeof(ts));
	gz_buf_adds(b, "{\"ts\":\"");
	gz_buf_adds(b, ts);
	gz_buf_adds(b, "\"");
}

void gz_log(enum gz_log_level lvl, const char *request_id, const char *fmt, ...)
{
	if (lvl < min_level)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct gz_buf b = GZ_BUF_INIT;
	start(&b);
	gz_buf_addf(&b, ",\"level\":\"%s\",\"msg\":", names[lvl]);
	gz_buf_add_json_str(&b, msg);
	if (request_id) {
		gz_buf_adds(&b, ",\"request_id\":");
		gz_buf_add_json_str(&b, request_id);
	}
	emit(&b);
}

void gz_log_raw(const char *json_fields)
{
	if (GZ_LOG_INFO < min_level)
		return;
	struct gz_buf b = GZ_BUF_INIT;
	start(&b);
	gz_buf_addc(&b, ',');
	gz_buf_adds(&b, json_fields);
	emit(&b);
}
