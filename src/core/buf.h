/* buf.h - growable byte buffer.
 *
 * Invariant: b->data is always NUL-terminated at b->len (when data != NULL), so a
 * buffer can be used as a C string.  The buffer owns data until gz_buf_detach() hands
 * it to the caller, who must free() it.  Growth aborts on out-of-memory. */
#ifndef GZ_BUF_H
#define GZ_BUF_H
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>

struct gz_buf {
	char *data;
	size_t len, cap;
};

#define GZ_BUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void gz_buf_init(struct gz_buf *b);
void gz_buf_release(struct gz_buf *b); /* frees data; b is empty afterwards */
void gz_buf_reset(struct gz_buf *b);   /* len = 0, keeps capacity */
void gz_buf_grow(struct gz_buf *b, size_t extra);
void gz_buf_add(struct gz_buf *b, const void *p, size_t n);
void gz_buf_adds(struct gz_buf *b, const char *s);
void gz_buf_addc(struct gz_buf *b, char c);
void gz_buf_addf(struct gz_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gz_buf_vaddf(struct gz_buf *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal, quotes included. */
void gz_buf_add_json_str(struct gz_buf *b, const char *s);
/* Appends v in decimal. */
void gz_buf_add_i64(struct gz_buf *b, int64_t v);
/* Appends v as a JSON number the way the JSON library writes reals (15 significant
 * digits, ".0" when integral); null when v is not finite. */
void gz_buf_add_json_real(struct gz_buf *b, double v);
/* Returns the data (never NULL, NUL-terminated) and leaves b empty; caller frees. */
char *gz_buf_detach(struct gz_buf *b, size_t *len);
const char *gz_buf_str(const struct gz_buf *b); /* "" when empty */

#endif
