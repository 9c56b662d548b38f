/* timefmt.h - time helpers.
 *
 * gongzhi stores times as int64 milliseconds since the Unix epoch (UTC) and shows
 * them in Asia/Shanghai (+08:00, no daylight saving since 1991).  Parsing accepts
 * any offset.  Calendar arithmetic uses proleptic Gregorian days since the epoch. */
#ifndef GZ_TIMEFMT_H
#define GZ_TIMEFMT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GZ_SHANGHAI_OFFSET_MIN 480
#define GZ_TIME_BUF 40

int64_t gz_now_ms(void);
int64_t gz_monotonic_ns(void);
/* Writes ms as ISO-8601 with offset +08:00 ("2026-11-28T14:05:00+08:00"; ".123" is
 * added when the milliseconds are not zero).  buf needs GZ_TIME_BUF bytes. */
void gz_time_format(int64_t ms, char *buf, size_t n);
/* Parses "YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM|±HHMM)?" or "YYYY-MM-DD"; a missing
 * offset means +08:00 and a date alone means its midnight in Shanghai.  Rejects
 * out-of-range fields (month 13, Feb 30, hour 24 …).  Returns false on any error. */
bool gz_time_parse(const char *s, int64_t *ms);

/* Days since 1970-01-01 <-> civil date. */
int64_t gz_days_from_civil(int y, unsigned m, unsigned d);
void gz_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);
/* 0 = Monday … 6 = Sunday */
int gz_weekday(int64_t days);
/* Parses "YYYY-MM-DD" exactly into days since epoch. */
bool gz_date_parse(const char *s, int64_t *days);
void gz_date_format(int64_t days, char *buf, size_t n); /* "YYYY-MM-DD", 11 bytes */
/* The Shanghai calendar day of an instant. */
int64_t gz_shanghai_day(int64_t ms);
/* A bound of a date range (created_from, created_to): *ms gets the instant from
 * which (from) or before which (to: an exclusive bound) the range holds.  A date
 * alone ("YYYY-MM-DD") is a whole Shanghai day: from its midnight, to the midnight
 * after it (the end date is included); a time is the instant itself.  0, or -1 when
 * value is neither. */
int gz_range_bound(const char *value, bool to, int64_t *ms);

#endif
