/* fuzz_query.c - libFuzzer target for gz_query_parse.
 *
 * The input is a query string (the part after '?').  On success every key and value
 * must be well-formed UTF-8 without NUL and equal what an independent splitter and
 * decoder make of the same text; keys must not be empty and there are at most 64
 * pairs.  On failure the error must be bad_request and the reference must see a
 * reason (a malformed piece, or more than 64 pieces).  An arena per input. */
#include "core/arena.h"
#include "core/err.h"
#include "http/http.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t len;
		unsigned min, cp;
		if (c < 0x80) {
			if (c == 0)
				return false;
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

/* Decodes s[0..n) with '+' as space into out; false when it is not acceptable text
 * (bad escape, NUL, control characters other than tab/CR/LF, DEL, bad UTF-8). */
static bool ref_decode(const char *s, size_t n, char *out, size_t *outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if (n - i < 3 || hex((unsigned char)s[i + 1]) < 0 ||
			    hex((unsigned char)s[i + 2]) < 0)
				return false;
			c = (unsigned char)(hex((unsigned char)s[i + 1]) * 16 +
			                    hex((unsigned char)s[i + 2]));
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c == 0 || c == 0x7f || (c < 0x20 && c != '\t' && c != '\r' && c != '\n'))
			return false;
		out[o++] = (char)c;
	}
	out[o] = 0;
	*outlen = o;
	return utf8_ok((const unsigned char *)out, o);
}

static void die(const char *why, const char *qs)
{
	fprintf(stderr, "fuzz_query: %s (query \"%.200s\")\n", why, qs);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	struct gz_arena a;
	gz_arena_init(&a);
	char *qs = gz_strndup(&a, (const char *)data, size);
	size_t len = strlen(qs); /* the parser sees a C string */

	/* the reference: split on '&', skip empty pieces, split each on the first '=' */
	size_t pieces = 1;
	for (size_t i = 0; i < len; i++)
		pieces += qs[i] == '&';
	struct gz_kv *ref = gz_alloc(&a, sizeof(*ref) * pieces);
	char *buf = gz_alloc(&a, len * 2 + pieces * 2 + 2);
	size_t nref = 0, used = 0;
	bool ref_ok = true;
	for (size_t i = 0; i < len && ref_ok;) {
		size_t j = i;
		while (j < len && qs[j] != '&')
			j++;
		if (j > i) {
			const char *eq = memchr(qs + i, '=', j - i);
			size_t klen = eq ? (size_t)(eq - (qs + i)) : j - i;
			size_t kl = 0, vl = 0;
			char *k = buf + used;
			if (!ref_decode(qs + i, klen, k, &kl) || kl == 0) {
				ref_ok = false;
				break;
			}
			used += kl + 1;
			char *v = buf + used;
			if (eq && !ref_decode(eq + 1, j - i - klen - 1, v, &vl)) {
				ref_ok = false;
				break;
			}
			if (!eq)
				v[0] = 0;
			used += vl + 1;
			ref[nref].key = k;
			ref[nref].value = v;
			nref++;
		}
		i = j + 1;
	}

	struct gz_err err;
	gz_err_clear(&err);
	struct gz_kv *kv = NULL;
	int n = -1;
	int rc = gz_query_parse(&a, qs, &kv, &n, &err);
	if (rc == 0) {
		if (!ref_ok)
			die("accepted a query the reference refuses", qs);
		if (n < 0 || n > 64 || (size_t)n != nref || (n > 0 && !kv))
			die("wrong number of pairs", qs);
		for (int i = 0; i < n; i++) {
			if (!kv[i].key || !kv[i].value || !*kv[i].key)
				die("missing or empty key", qs);
			if (!utf8_ok((const unsigned char *)kv[i].key, strlen(kv[i].key)) ||
			    !utf8_ok((const unsigned char *)kv[i].value, strlen(kv[i].value)))
				die("key or value is not valid UTF-8", qs);
			if (strcmp(kv[i].key, ref[i].key) || strcmp(kv[i].value, ref[i].value))
				die("pair differs from the reference", qs);
		}
	} else {
		if (rc != -1 || err.code != GZ_E_BAD_REQUEST || !err.message[0])
			die("failure without a bad_request error", qs);
		if (ref_ok && pieces <= 64)
			die("refused a query the reference accepts", qs);
	}
	gz_arena_release(&a);
	return 0;
}
