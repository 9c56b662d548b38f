/* fuzz_router.c - libFuzzer target for gz_url_decode and gz_route_match.
 *
 * The input is a request path as the server sees it.  It is decoded both ways
 * (with and without '+' as space) and checked against an independent decoder, then
 * the decoded path is matched against a fixed table of route patterns; a match must
 * rebuild the path exactly from the pattern and the captured parameters.  An arena
 * is used per input and released at the end, so leaks show up in LeakSanitizer. */
#include "core/arena.h"
#include "http/http.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const patterns[] = {
    "/",
    "/api/v1/units",
    "/api/v1/units/{id}",
    "/api/v1/units/{id}/tree",
    "/api/v1/dicts/{type}",
    "/api/v1/dicts/{type}/{id}",
    "/api/v1/calendar/{year}",
    "/api/v1/work-orders/{id}/comments/{cid}",
    "/{a}/{b}/{c}/{d}",
    "/{a}/{b}/{c}/{d}/{e}", /* one parameter too many: never matches */
    "/x/{id}-{rev}",
    "/broken/{id",
};

/* Well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF),
 * written independently of gz_utf8_valid. */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t len;
		unsigned min, cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2, min = 0x80, cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, min = 0x800, cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, min = 0x10000, cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3fu);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* What gz_url_decode refuses besides bad escapes: NUL and control characters other
 * than tab, CR and LF (util.h), and DEL. */
static bool text_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == 0 || s[i] == 0x7f ||
		    (s[i] < 0x20 && s[i] != '\t' && s[i] != '\r' && s[i] != '\n'))
			return false;
	return utf8_ok(s, n);
}

static int hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reference decoder: out gets the bytes; false on a malformed escape. */
static bool ref_decode(const unsigned char *s, size_t n, bool plus, unsigned char *out,
                       size_t *outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (n - i < 3 || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0)
				return false;
			out[o++] = (unsigned char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
			i += 2;
		} else if (s[i] == '+' && plus) {
			out[o++] = ' ';
		} else {
			out[o++] = s[i];
		}
	}
	*outlen = o;
	return true;
}

static void check_decode(struct gz_arena *a, const uint8_t *data, size_t size, bool plus,
                         unsigned char *ref)
{
	size_t reflen = 0;
	bool ref_ok = ref_decode(data, size, plus, ref, &reflen) && text_ok(ref, reflen);
	char *got = gz_url_decode(a, (const char *)data, size, plus);
	if (!got) {
		if (ref_ok) {
			fprintf(stderr, "gz_url_decode refused a valid input\n");
			abort();
		}
		return;
	}
	if (!ref_ok || strlen(got) != reflen || memcmp(got, ref, reflen) != 0) {
		fprintf(stderr, "gz_url_decode disagrees with the reference decoder\n");
		abort();
	}
}

/* On a match, substituting the parameters back into the pattern must give the path
 * (less at most one trailing slash). */
static void check_match(struct gz_arena *a, const char *pattern, const char *path)
{
	struct gz_kv params[GZ_MAX_PARAMS + 1];
	memset(params, 0, sizeof(params));
	int np = -1;
	if (!gz_route_match(pattern, path, a, params, &np))
		return;
	if (np < 0 || np > GZ_MAX_PARAMS || params[GZ_MAX_PARAMS].key) {
		fprintf(stderr, "bad parameter count %d for %s\n", np, pattern);
		abort();
	}
	size_t cap = strlen(pattern) + strlen(path) + 2;
	char *rebuilt = gz_alloc(a, cap);
	size_t o = 0;
	int k = 0;
	for (const char *p = pattern; *p;) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (!close || k >= np)
				abort();
			size_t klen = (size_t)(close - p - 1);
			const char *v = params[k].value;
			if (strlen(params[k].key) != klen ||
			    memcmp(params[k].key, p + 1, klen) != 0 || !*v || strchr(v, '/')) {
				fprintf(stderr, "bad parameter %d for %s\n", k, pattern);
				abort();
			}
			size_t vlen = strlen(v);
			if (o + vlen >= cap)
				abort();
			memcpy(rebuilt + o, v, vlen);
			o += vlen;
			k++;
			p = close + 1;
		} else {
			if (o + 1 >= cap)
				abort();
			rebuilt[o++] = *p++;
		}
	}
	rebuilt[o] = 0;
	if (k != np)
		abort();
	size_t plen = strlen(path);
	bool same = strcmp(rebuilt, path) == 0 ||
	            (plen == o + 1 && path[o] == '/' && memcmp(rebuilt, path, o) == 0);
	if (!same) {
		fprintf(stderr, "%s matched %s but rebuilds as %s\n", pattern, path, rebuilt);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	struct gz_arena a;
	gz_arena_init(&a);
	unsigned char *ref = gz_alloc(&a, size + 1);
	check_decode(&a, data, size, false, ref);
	check_decode(&a, data, size, true, ref);

	/* route the decoded path as the server does, and the raw text too */
	const char *decoded = gz_url_decode(&a, (const char *)data, size, false);
	char *raw = gz_strndup(&a, (const char *)data, size); /* stops at a NUL for strcmp */
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		if (decoded)
			check_match(&a, patterns[i], decoded);
		check_match(&a, patterns[i], raw);
	}
	gz_arena_release(&a);
	return 0;
}
