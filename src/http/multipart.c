/* multipart.c - finds the one file of a multipart/form-data body.
 *
 * The body is walked once: the Content-Type gives the boundary, each part is a block
 * of header lines ended by an empty line and then content up to CRLF "--" boundary,
 * and the body ends with the close delimiter "--" boundary "--" (what follows it, the
 * epilogue, is ignored, as is the preamble before the first delimiter).  Line ends
 * are CRLF as RFC 2046 requires; a body that is cut short, a delimiter followed by
 * anything but "--", padding and CRLF, or a part without a form-data disposition is
 * refused rather than guessed at.  Only Content-Disposition and
 * Content-Transfer-Encoding are read from a part; its Content-Type is ignored because
 * callers decide the type from the bytes.  Nothing is allocated and nothing is
 * copied but the file name; what the file is, is the caller's business. */
#include "http/multipart.h"
#include "core/util.h"
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#define BOUNDARY_MAX 70 /* RFC 2046 */
#define PART_NAME_MAX 64
#define RAW_NAME_MAX 1024 /* a file name as sent, path included */

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 7230 tchar: the characters of a token (header and parameter names). */
static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 2046 bchars: the characters a boundary may use (space only inside). */
static bool boundary_valid(const char *b, size_t n)
{
	if (n == 0 || n > BOUNDARY_MAX || b[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c && strchr("'()+_,-./:=? ", c))))
			return false;
	}
	return true;
}

static const char *skip_ows(const char *p, const char *end)
{
	while (p < end && is_ows(*p))
		p++;
	return p;
}

/* Whether [p, end) starts with the token tok (case-insensitive) followed by the end,
 * white space or ';'.  Advances *pp past the token when it does. */
static bool take_token(const char **pp, const char *end, const char *tok)
{
	size_t n = strlen(tok);
	const char *p = *pp;
	if ((size_t)(end - p) < n || strncasecmp(p, tok, n) != 0)
		return false;
	p += n;
	if (p < end && !is_ows(*p) && *p != ';')
		return false;
	*pp = p;
	return true;
}

/* One parameter: the name as it stands in the header, the value unquoted. */
struct param {
	const char *name;
	size_t nlen;
	char *val; /* cap bytes, NUL-terminated; may hold NUL bytes: use len */
	size_t cap, len;
	bool too_long; /* the value did not fit: val holds its beginning */
};

static void param_add(struct param *pm, char c)
{
	if (pm->len + 1 < pm->cap)
		pm->val[pm->len++] = c;
	else
		pm->too_long = true;
	pm->val[pm->len] = 0;
}

/* Reads the next "; name=value" from *pp (value a quoted-string or a run of bytes up
 * to ';' or white space).  1 when one was read, 0 at the end, -1 when malformed.  A
 * trailing ';' is tolerated.  Inside quotes a backslash escapes only '"' and '\', so
 * that a Windows path sent unescaped keeps its separators. */
static int next_param(const char **pp, const char *end, struct param *pm)
{
	const char *p = skip_ows(*pp, end);
	pm->len = 0;
	pm->too_long = false;
	pm->val[0] = 0;
	if (p == end)
		return 0;
	if (*p != ';')
		return -1;
	p = skip_ows(p + 1, end);
	if (p == end) {
		*pp = p;
		return 0;
	}
	pm->name = p;
	while (p < end && is_tchar((unsigned char)*p))
		p++;
	pm->nlen = (size_t)(p - pm->name);
	p = skip_ows(p, end);
	if (pm->nlen == 0 || p == end || *p != '=')
		return -1;
	p = skip_ows(p + 1, end);
	if (p < end && *p == '"') {
		for (p++;; p++) {
			if (p == end)
				return -1; /* unterminated */
			if (*p == '"')
				break;
			if (*p == '\\' && end - p > 1 && (p[1] == '"' || p[1] == '\\'))
				p++;
			param_add(pm, *p);
		}
		p++;
	} else {
		const char *v = p;
		while (p < end && *p != ';' && *p != '"' && !is_ows(*p))
			param_add(pm, *p++);
		if (p == v)
			return -1;
	}
	*pp = p;
	return 1;
}

static bool param_is(const struct param *pm, const char *name)
{
	return pm->nlen == strlen(name) && strncasecmp(pm->name, name, pm->nlen) == 0;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes an RFC 8187 ext-value "UTF-8'lang'%E4%B8%AD.png" in place.  false when it
 * is not UTF-8 or the escapes are broken. */
static bool ext_value_decode(char *s, size_t *n)
{
	const char *q1 = memchr(s, '\'', *n);
	if (!q1 || q1 - s != 5 || strncasecmp(s, "UTF-8", 5) != 0)
		return false;
	const char *q2 = memchr(q1 + 1, '\'', *n - (size_t)(q1 + 1 - s));
	if (!q2)
		return false;
	size_t o = 0;
	for (size_t i = (size_t)(q2 + 1 - s); i < *n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if (*n - i < 3 || hexval((unsigned char)s[i + 1]) < 0 ||
			    hexval((unsigned char)s[i + 2]) < 0)
				return false;
			c = (unsigned char)(hexval((unsigned char)s[i + 1]) * 16 +
			                    hexval((unsigned char)s[i + 2]));
			i += 2;
		}
		s[o++] = (char)c;
	}
	s[o] = 0;
	*n = o;
	return true;
}

/* Keeps the last path component of raw[0..n) in out when it is a presentable name:
 * valid UTF-8, no control, bidi-override or C1 characters, 1 to
 * GZ_MULTIPART_NAME_CHARS characters, not "." or ".."; else out is "". */
static void sanitise_name(const char *raw, size_t n, char *out, size_t outlen)
{
	out[0] = 0;
	const char *s = raw;
	for (size_t i = 0; i < n; i++)
		if (raw[i] == '/' || raw[i] == '\\')
			s = raw + i + 1;
	size_t len = n - (size_t)(s - raw);
	if (len == 0 || len >= outlen || !gz_utf8_valid(s, len))
		return;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return;
	size_t chars = 0;
	for (size_t i = 0; i < len; chars++) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t k = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		cp = k == 1 ? c : k == 2 ? c & 0x1fu : k == 3 ? c & 0x0fu : c & 0x07u;
		for (size_t j = 1; j < k; j++)
			cp = cp << 6 | ((unsigned char)s[i + j] & 0x3fu);
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			return;
		i += k;
	}
	if (chars > GZ_MULTIPART_NAME_CHARS)
		return;
	memcpy(out, s, len);
	out[len] = 0;
}

static int malformed(struct gz_err *err, const char *why)
{
	return gz_fail_field(err, GZ_E_BAD_REQUEST, "file", "malformed multipart body: %s", why);
}

/* The boundary of a multipart/form-data Content-Type into b (BOUNDARY_MAX + 1). */
static int parse_content_type(const char *ct, char *b, size_t *blen, struct gz_err *err)
{
	if (!ct)
		return gz_fail(err, GZ_E_MEDIA_TYPE, "send the file as multipart/form-data");
	const char *end = ct + strlen(ct);
	const char *p = skip_ows(ct, end);
	if (!take_token(&p, end, "multipart/form-data"))
		return gz_fail(err, GZ_E_MEDIA_TYPE, "send the file as multipart/form-data");
	struct param pm = {.val = b, .cap = BOUNDARY_MAX + 1};
	char other[8];
	struct param skip = {.val = other, .cap = sizeof(other)};
	bool found = false;
	for (;;) {
		/* read every parameter into the small buffer first, then boundary again */
		const char *at = p;
		int rc = next_param(&p, end, &skip);
		if (rc < 0)
			return gz_fail_field(err, GZ_E_BAD_REQUEST, "file",
			                     "malformed Content-Type parameters");
		if (rc == 0)
			break;
		if (!param_is(&skip, "boundary"))
			continue;
		if (found)
			return gz_fail_field(err, GZ_E_BAD_REQUEST, "file",
			                     "the Content-Type has two boundaries");
		found = true;
		next_param(&at, end, &pm);
		if (pm.too_long || !boundary_valid(pm.val, pm.len))
			return gz_fail_field(err, GZ_E_BAD_REQUEST, "file",
			                     "the multipart boundary must be 1 to 70 characters "
			                     "of RFC 2046");
		*blen = pm.len;
	}
	if (!found)
		return gz_fail_field(err, GZ_E_BAD_REQUEST, "file",
		                     "the Content-Type has no multipart boundary");
	return 0;
}

/* What a part's headers say. */
struct part {
	bool disposition;
	char name[PART_NAME_MAX];
	size_t name_len;
	bool name_long, has_name;
	char raw[RAW_NAME_MAX]; /* filename= as sent */
	size_t raw_len;
	bool raw_ok;            /* a filename= that fit */
	char ext[RAW_NAME_MAX]; /* filename*= decoded */
	size_t ext_len;
	bool ext_ok;
};

static int parse_disposition(const char *v, const char *end, struct part *pt, struct gz_err *err)
{
	const char *p = v;
	if (!take_token(&p, end, "form-data"))
		return malformed(err, "a part's Content-Disposition is not form-data");
	char buf[RAW_NAME_MAX];
	struct param pm = {.val = buf, .cap = sizeof(buf)};
	bool seen_fn = false, seen_ext = false;
	int rc;
	while ((rc = next_param(&p, end, &pm)) == 1) {
		if (param_is(&pm, "name")) {
			if (pt->has_name)
				return malformed(err, "a part has two names");
			pt->has_name = true;
			pt->name_long = pm.too_long || pm.len >= sizeof(pt->name);
			pt->name_len = pt->name_long ? 0 : pm.len;
			memcpy(pt->name, pm.val, pt->name_len);
			pt->name[pt->name_len] = 0;
		} else if (param_is(&pm, "filename")) {
			if (seen_fn)
				return malformed(err, "a part has two filenames");
			seen_fn = true;
			pt->raw_ok = !pm.too_long;
			pt->raw_len = pm.too_long ? 0 : pm.len;
			memcpy(pt->raw, pm.val, pt->raw_len);
		} else if (param_is(&pm, "filename*")) {
			if (seen_ext)
				return malformed(err, "a part has two filename* parameters");
			seen_ext = true;
			pt->ext_len = pm.len;
			memcpy(pt->ext, pm.val, pm.len);
			pt->ext_ok = !pm.too_long && ext_value_decode(pt->ext, &pt->ext_len);
		}
	}
	if (rc < 0)
		return malformed(err, "a part's Content-Disposition parameters");
	if (!pt->has_name)
		return malformed(err, "a part has no name");
	pt->disposition = true;
	return 0;
}

/* Reads a part's header lines from *pp up to and past the empty line. */
static int parse_headers(const char **pp, const char *end, struct part *pt, struct gz_err *err)
{
	const char *p = *pp;
	for (;;) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (!eol)
			return malformed(err, "the part headers are cut short");
		if (eol == p)
			break;
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p)
			return malformed(err, "a part header line has no name");
		for (const char *q = p; q < colon; q++)
			if (!is_tchar((unsigned char)*q))
				return malformed(err, "a part header has a malformed name");
		const char *v = skip_ows(colon + 1, eol), *vend = eol;
		while (vend > v && is_ows(vend[-1]))
			vend--;
		size_t nlen = (size_t)(colon - p);
		if (nlen == 19 && strncasecmp(p, "Content-Disposition", nlen) == 0) {
			if (pt->disposition)
				return malformed(err, "a part has two Content-Disposition headers");
			if (parse_disposition(v, vend, pt, err))
				return -1;
		} else if (nlen == 25 && strncasecmp(p, "Content-Transfer-Encoding", nlen) == 0) {
			const char *q = v;
			if (!(take_token(&q, vend, "binary") || take_token(&q, vend, "8bit") ||
			      take_token(&q, vend, "7bit")) ||
			    q != vend)
				return gz_fail_field(err, GZ_E_BAD_REQUEST, "file",
				                     "send the file as binary: no "
				                     "Content-Transfer-Encoding");
		}
		p = eol + 2;
	}
	*pp = p + 2;
	return 0;
}

/* Whether a part name can stand in an error reply (the field holds 63 bytes). */
static bool name_presentable(const struct part *pt)
{
	if (pt->name_long || pt->name_len == 0 || pt->name_len > 40)
		return false;
	if (!gz_utf8_valid(pt->name, pt->name_len))
		return false;
	for (size_t i = 0; i < pt->name_len; i++)
		if ((unsigned char)pt->name[i] < 0x20)
			return false;
	return true;
}

static int parse_body(const char *content_type, const char *body, size_t len, const char **data,
                      size_t *dlen, char *filename, size_t fnlen, struct gz_err *err)
{
	/* delim is CRLF "--" boundary; the first delimiter may lack the CRLF */
	char delim[4 + BOUNDARY_MAX + 1] = "\r\n--";
	size_t blen = 0;
	if (parse_content_type(content_type, delim + 4, &blen, err))
		return -1;
	size_t dl = 4 + blen;
	if (!body)
		body = "";
	const char *end = body + len, *p;
	if (len >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0) {
		p = body + dl - 2;
	} else {
		p = memmem(body, len, delim, dl);
		if (!p)
			return malformed(err, "no boundary");
		p += dl;
	}
	bool found = false;
	for (;;) {
		/* just past a delimiter: "--" ends the body, else padding and CRLF */
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;
		p = skip_ows(p, end);
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			return malformed(err, end - p < 2 ? "the body is cut short"
			                                  : "a boundary is followed by other text");
		p += 2;
		struct part pt;
		memset(&pt, 0, sizeof(pt));
		if (parse_headers(&p, end, &pt, err))
			return -1;
		if (!pt.disposition)
			return malformed(err, "a part has no Content-Disposition");
		const char *q = memmem(p, (size_t)(end - p), delim, dl);
		if (!q)
			return malformed(err, "the body is cut short (no closing boundary)");
		if (pt.name_len != 4 || memcmp(pt.name, "file", 4) != 0) {
			if (!name_presentable(&pt))
				return malformed(err,
				                 "a part other than 'file' (with an unreadable "
				                 "name)");
			return gz_fail_field(err, GZ_E_UNKNOWN_FIELD, pt.name,
			                     "unknown part '%s': send one part named 'file'",
			                     pt.name);
		}
		if (found)
			return gz_fail_field(err, GZ_E_VALIDATION, "file",
			                     "send one file at a time");
		found = true;
		*data = p;
		*dlen = (size_t)(q - p);
		if (filename && fnlen) {
			if (pt.ext_ok)
				sanitise_name(pt.ext, pt.ext_len, filename, fnlen);
			if (!filename[0] && pt.raw_ok)
				sanitise_name(pt.raw, pt.raw_len, filename, fnlen);
		}
		p = q + dl;
	}
	if (!found)
		return gz_fail_field(err, GZ_E_VALIDATION, "file", "file is required");
	return 0;
}

int gz_multipart_file(const char *content_type, const char *body, size_t len, const char **data,
                      size_t *dlen, char *filename, size_t fnlen, struct gz_err *err)
{
	if (filename && fnlen)
		filename[0] = 0;
	*data = NULL;
	*dlen = 0;
	if (parse_body(content_type, body, len, data, dlen, filename, fnlen, err) == 0)
		return 0;
	/* a file found before a later fault is not handed out */
	*data = NULL;
	*dlen = 0;
	if (filename && fnlen)
		filename[0] = 0;
	return -1;
}
