/* timefmt.c - epoch milliseconds <-> ISO-8601, civil dates (Howard Hinnant's
 * days_from_civil algorithms), Shanghai display. */
#include "timefmt.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t gz_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gz_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t gz_days_from_civil(int y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void gz_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const int64_t yy = (int64_t)yoe + era * 400;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

int gz_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday (3 when Monday is 0). */
	int64_t w = (days + 3) % 7;
	return (int)(w < 0 ? w + 7 : w);
}

static int floordiv(int64_t a, int64_t b, int64_t *rem)
{
	int64_t q = a / b, r = a % b;
	if (r < 0) {
		q--;
		r += b;
	}
	*rem = r;
	return (int)q;
}

static char *put_digits(char *w, int v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		w[i] = (char)('0' + v % 10);
	return w + width;
}

void gz_time_format(int64_t ms, char *buf, size_t n)
{
	int64_t local = ms + (int64_t)GZ_SHANGHAI_OFFSET_MIN * 60000;
	int64_t msday;
	int64_t days = local / 86400000;
	msday = local % 86400000;
	if (msday < 0) {
		msday += 86400000;
		days--;
	}
	int y;
	unsigned mo, d;
	gz_civil_from_days(days, &y, &mo, &d);
	int64_t rem;
	int hh = floordiv(msday, 3600000, &rem);
	int mi = floordiv(rem, 60000, &rem);
	int ss = floordiv(rem, 1000, &rem);
	/* by hand: this runs for every time of every listed row */
	char tmp[GZ_TIME_BUF], *w = tmp;
	if (y < 0 || y > 9999) { /* not four digits: printf handles the sign and width */
		if (rem)
			snprintf(buf, n, "%04d-%02u-%02uT%02d:%02d:%02d.%03d+08:00", y, mo, d, hh,
			         mi, ss, (int)rem);
		else
			snprintf(buf, n, "%04d-%02u-%02uT%02d:%02d:%02d+08:00", y, mo, d, hh, mi,
			         ss);
		return;
	}
	w = put_digits(w, y, 4);
	*w++ = '-';
	w = put_digits(w, (int)mo, 2);
	*w++ = '-';
	w = put_digits(w, (int)d, 2);
	*w++ = 'T';
	w = put_digits(w, hh, 2);
	*w++ = ':';
	w = put_digits(w, mi, 2);
	*w++ = ':';
	w = put_digits(w, ss, 2);
	if (rem) {
		*w++ = '.';
		w = put_digits(w, (int)rem, 3);
	}
	memcpy(w, "+08:00", 7);
	size_t len = (size_t)(w - tmp) + 6;
	if (len >= n) /* truncated, as snprintf would */
		len = n ? n - 1 : 0;
	if (n) {
		memcpy(buf, tmp, len);
		buf[len] = 0;
	}
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool valid_date(int y, int m, int d)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1 || m < 1 || m > 12 || d < 1)
		return false;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

bool gz_date_parse(const char *s, int64_t *days)
{
	int y, m, d;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) ||
	    !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d) || !valid_date(y, m, d))
		return false;
	*days = gz_days_from_civil(y, (unsigned)m, (unsigned)d);
	return true;
}

void gz_date_format(int64_t days, char *buf, size_t n)
{
	int y;
	unsigned m, d;
	gz_civil_from_days(days, &y, &m, &d);
	snprintf(buf, n, "%04d-%02u-%02u", y, m, d);
}

bool gz_time_parse(const char *s, int64_t *ms)
{
	int64_t days;
	int y, mo, d, hh = 0, mi = 0, ss = 0, frac = 0;
	size_t len = strlen(s);
	if (len == 10) {
		if (!gz_date_parse(s, &days))
			return false;
		*ms = days * 86400000 - (int64_t)GZ_SHANGHAI_OFFSET_MIN * 60000;
		return true;
	}
	if (len < 16 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
	    s[13] != ':' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
	    !digits(s + 11, 2, &hh) || !digits(s + 14, 2, &mi) || !valid_date(y, mo, d) ||
	    hh > 23 || mi > 59)
		return false;
	const char *p = s + 16;
	if (*p == ':') {
		if (!digits(p + 1, 2, &ss) || ss > 59)
			return false;
		p += 3;
		if (*p == '.') {
			p++;
			int nd = 0;
			while (*p >= '0' && *p <= '9') {
				if (nd < 3)
					frac = frac * 10 + (*p - '0');
				nd++;
				p++;
			}
			if (nd == 0 || nd > 9)
				return false;
			for (; nd < 3; nd++)
				frac *= 10;
		}
	}
	int off_min = GZ_SHANGHAI_OFFSET_MIN;
	if (*p == 'Z' || *p == 'z') {
		off_min = 0;
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		int sign = *p == '-' ? -1 : 1;
		p++;
		if (!digits(p, 2, &oh))
			return false;
		p += 2;
		if (*p == ':')
			p++;
		if (!digits(p, 2, &om) || oh > 14 || om > 59)
			return false;
		p += 2;
		off_min = sign * (oh * 60 + om);
	}
	if (*p)
		return false;
	days = gz_days_from_civil(y, (unsigned)mo, (unsigned)d);
	*ms = ((days * 86400 + hh * 3600 + mi * 60 + ss) - (int64_t)off_min * 60) * 1000 + frac;
	return true;
}

int64_t gz_shanghai_day(int64_t ms)
{
	int64_t local = ms + (int64_t)GZ_SHANGHAI_OFFSET_MIN * 60000;
	int64_t days = local / 86400000;
	if (local % 86400000 < 0)
		days--;
	return days;
}

int gz_range_bound(const char *value, bool to, int64_t *ms)
{
	int64_t day;
	if (gz_date_parse(value, &day)) {
		*ms = (day + (to ? 1 : 0)) * 86400000 - (int64_t)GZ_SHANGHAI_OFFSET_MIN * 60000;
		return 0;
	}
	return gz_time_parse(value, ms) ? 0 : -1;
}
