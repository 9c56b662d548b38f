/* buf.c - growable byte buffer.  See buf.h for the invariants. */
#include "buf.h"
#include "util.h"
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void gz_buf_init(struct gz_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void gz_buf_release(struct gz_buf *b)
{
	free(b->data);
	gz_buf_init(b);
}

void gz_buf_reset(struct gz_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

void gz_buf_grow(struct gz_buf *b, size_t extra)
{
	if (extra > SIZE_MAX / 2 - b->len)
		GZ_BUG("buffer size overflow");
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = gz_xrealloc(b->data, cap);
	b->cap = cap;
}

void gz_buf_add(struct gz_buf *b, const void *p, size_t n)
{
	gz_buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

void gz_buf_adds(struct gz_buf *b, const char *s)
{
	gz_buf_add(b, s, strlen(s));
}

void gz_buf_addc(struct gz_buf *b, char c)
{
	gz_buf_add(b, &c, 1);
}

void gz_buf_vaddf(struct gz_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		GZ_BUG("bad format");
	gz_buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void gz_buf_addf(struct gz_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	gz_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void gz_buf_add_json_str(struct gz_buf *b, const char *s)
{
	gz_buf_addc(b, '"');
	const unsigned char *p = (const unsigned char *)s, *run = p;
	for (;; p++) {
		unsigned char c = *p;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		/* copy the plain run before this character in one go */
		gz_buf_add(b, run, (size_t)(p - run));
		run = p + 1;
		switch (c) {
		case 0:
			gz_buf_addc(b, '"');
			return;
		case '"':
			gz_buf_add(b, "\\\"", 2);
			break;
		case '\\':
			gz_buf_add(b, "\\\\", 2);
			break;
		case '\n':
			gz_buf_add(b, "\\n", 2);
			break;
		case '\r':
			gz_buf_add(b, "\\r", 2);
			break;
		case '\t':
			gz_buf_add(b, "\\t", 2);
			break;
		default:
			gz_buf_addf(b, "\\u%04x", c);
		}
	}
}

void gz_buf_add_i64(struct gz_buf *b, int64_t v)
{
	char tmp[24], *w = tmp + sizeof(tmp);
	/* through unsigned, so that INT64_MIN negates without overflow */
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do
		*--w = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--w = '-';
	gz_buf_add(b, w, (size_t)(tmp + sizeof(tmp) - w));
}

void gz_buf_add_json_real(struct gz_buf *b, double v)
{
	/* as jansson writes it with JSON_REAL_PRECISION(15): a fraction or exponent
	 * always present, so that the value reads back as a real */
	char tmp[40];
	if (!isfinite(v)) {
		gz_buf_adds(b, "null");
		return;
	}
	snprintf(tmp, sizeof(tmp), "%.15g", v);
	char *e = strchr(tmp, 'e');
	if (e) { /* "1e+300" -> "1e300", "1e-07" -> "1e-7" */
		char *from = e + 1, *to = e + 1;
		if (*from == '+')
			from++;
		else if (*from == '-')
			*to++ = *from++;
		while (*from == '0' && from[1])
			from++;
		memmove(to, from, strlen(from) + 1);
	}
	gz_buf_adds(b, tmp);
	if (!strpbrk(tmp, ".e"))
		gz_buf_add(b, ".0", 2);
}

char *gz_buf_detach(struct gz_buf *b, size_t *len)
{
	if (!b->data)
		gz_buf_grow(b, 0), b->data[0] = 0;
	char *p = b->data;
	if (len)
		*len = b->len;
	gz_buf_init(b);
	return p;
}

const char *gz_buf_str(const struct gz_buf *b)
{
	return b->data ? b->data : "";
}
