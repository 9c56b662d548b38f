/* util.h - process-wide helpers: checked allocation and GZ_BUG for programmer errors. */
#ifndef GZ_UTIL_H
#define GZ_UTIL_H
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

/* Programmer mistake: print where, abort.  Never used for bad input. */
#define GZ_BUG(...) gz_bug(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void gz_bug(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* malloc/calloc/realloc/strdup that abort on out-of-memory. */
void *gz_xmalloc(size_t n);
void *gz_xcalloc(size_t n, size_t size);
void *gz_xrealloc(void *p, size_t n);
char *gz_xstrdup(const char *s);

/* Parses a whole decimal int64 (optional sign, no spaces); false on anything else. */
bool gz_parse_i64(const char *s, int64_t *out);
bool gz_str_has_prefix(const char *s, const char *prefix);
/* Checks that s[0..n) is well-formed UTF-8 without NUL and without C0 controls
 * other than tab, CR and LF. */
bool gz_utf8_valid(const char *s, size_t n);
/* Number of code points in valid UTF-8 text. */
size_t gz_utf8_len(const char *s);

#define GZ_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
