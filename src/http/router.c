/* router.c - path pattern matching, URL decoding and query-string parsing.  Pure
 * functions over an arena, so they can be unit-tested and fuzzed alone. */
#include "http.h"
#include "core/util.h"
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *gz_url_decode(struct gz_arena *a, const char *s, size_t n, bool plus)
{
	char *out = gz_alloc(a, n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return NULL;
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return NULL;
			c = (char)(hi * 16 + lo);
			if (c == 0)
				return NULL;
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		} else if (c == 0) {
			return NULL;
		}
		out[o++] = c;
	}
	out[o] = 0;
	if (!gz_utf8_valid(out, o))
		return NULL;
	return out;
}

bool gz_route_match(const char *pattern, const char *path, struct gz_arena *a, struct gz_kv *params,
                    int *nparams)
{
	const char *p = pattern, *s = path;
	int np = 0;
	while (*p && *s) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (!close)
				return false;
			const char *seg_end = strchr(s, '/');
			size_t seglen = seg_end ? (size_t)(seg_end - s) : strlen(s);
			if (seglen == 0 || np >= GZ_MAX_PARAMS)
				return false;
			if (params) {
				params[np].key = gz_strndup(a, p + 1, (size_t)(close - p - 1));
				params[np].value = gz_strndup(a, s, seglen);
			}
			np++;
			p = close + 1;
			s += seglen;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	/* allow one trailing slash on the path */
	if (*s == '/' && s[1] == 0 && *p == 0)
		s++;
	if (*p || *s)
		return false;
	if (nparams)
		*nparams = np;
	return true;
}

int gz_query_parse(struct gz_arena *a, const char *qs, struct gz_kv **out, int *n,
                   struct gz_err *err)
{
	*out = NULL;
	*n = 0;
	if (!qs || !*qs)
		return 0;
	int cap = 1;
	for (const char *p = qs; *p; p++)
		if (*p == '&')
			cap++;
	if (cap > 64)
		return gz_fail(err, GZ_E_BAD_REQUEST, "too many query parameters");
	struct gz_kv *kv = gz_alloc(a, sizeof(*kv) * (size_t)cap);
	int k = 0;
	const char *p = qs;
	while (*p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len) {
			const char *eq = memchr(p, '=', len);
			size_t klen = eq ? (size_t)(eq - p) : len;
			char *key = gz_url_decode(a, p, klen, true);
			char *val =
			    eq ? gz_url_decode(a, eq + 1, len - klen - 1, true) : gz_strdup(a, "");
			if (!key || !val || !*key)
				return gz_fail(err, GZ_E_BAD_REQUEST, "malformed query string");
			kv[k].key = key;
			kv[k].value = val;
			k++;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	*out = kv;
	*n = k;
	return 0;
}

const struct gz_entity *gz_route_row(const struct gz_route *rt)
{
	if (rt->row)
		return rt->row;
	return rt->entity && strstr(rt->pattern, "{id}") ? rt->entity : NULL;
}
