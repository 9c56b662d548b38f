/* log.h - JSON-lines logging to stderr.
 *
 * One line per event: {"ts":"…","level":"…","msg":"…",…}.  gz_log_kv() takes extra
 * key/value pairs as a NULL-terminated list of (const char *key, const char *value)
 * pairs; values are JSON-escaped.  Thread-safe (one write(2) per line). */
#ifndef GZ_LOG_H
#define GZ_LOG_H

enum gz_log_level { GZ_LOG_DEBUG, GZ_LOG_INFO, GZ_LOG_WARN, GZ_LOG_ERROR };

void gz_log_set_level(enum gz_log_level lvl);
int gz_log_parse_level(const char *s, enum gz_log_level *out); /* 0 ok, -1 unknown */
void gz_log(enum gz_log_level lvl, const char *request_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes a prepared JSON object body (without braces) as one line, adding ts. */
void gz_log_raw(const char *json_fields);

#define gz_info(...) gz_log(GZ_LOG_INFO, NULL, __VA_ARGS__)
#define gz_warn(...) gz_log(GZ_LOG_WARN, NULL, __VA_ARGS__)
#define gz_error(...) gz_log(GZ_LOG_ERROR, NULL, __VA_ARGS__)

#endif
