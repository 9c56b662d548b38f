/* fuzz_multipart.c - libFuzzer target for gz_multipart_file.
 *
 * The first byte picks a mode.  Even: the input up to the first '\n' is the
 * Content-Type, the rest is the body (in a buffer of exactly its size, so that ASan
 * sees any read past it).  On success the file must lie inside the body and the name
 * must be a sanitised one (valid UTF-8, no separators or control characters, at most
 * 100 characters, not "." or ".."); on failure the error must be one of the four the
 * header promises, with a message and field that can be sent as JSON (valid UTF-8).
 * Odd: the rest is file content and a file name; a well-formed body is built around
 * them with a boundary that does not occur in the content, and the parser must give
 * back exactly the content. */
#include "core/err.h"
#include "core/util.h"
#include "http/multipart.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void die(const char *why)
{
	fprintf(stderr, "fuzz_multipart: %s\n", why);
	abort();
}

static void check_name(const char *name, size_t fnlen)
{
	size_t n = strlen(name);
	if (n >= fnlen)
		die("name overflows its buffer");
	if (!n)
		return;
	if (!gz_utf8_valid(name, n))
		die("name is not valid UTF-8");
	if (strchr(name, '/') || strchr(name, '\\'))
		die("name keeps a path separator");
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		die("name is a dot entry");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			die("name has a control character");
	if (gz_utf8_len(name) > GZ_MULTIPART_NAME_CHARS)
		die("name is too long");
}

static void check_err(const struct gz_err *err, const char **data, size_t dlen)
{
	if (err->code != GZ_E_MEDIA_TYPE && err->code != GZ_E_BAD_REQUEST &&
	    err->code != GZ_E_UNKNOWN_FIELD && err->code != GZ_E_VALIDATION)
		die("unexpected error code");
	if (!err->message[0] || !gz_utf8_valid(err->message, strlen(err->message)))
		die("message missing or not valid UTF-8");
	if (!gz_utf8_valid(err->field, strlen(err->field)))
		die("field is not valid UTF-8");
	if (err->code != GZ_E_MEDIA_TYPE && !err->field[0])
		die("a 400 without a field");
	if (*data || dlen)
		die("failure with data");
}

static void raw_mode(const uint8_t *in, size_t size)
{
	const uint8_t *nl = memchr(in, '\n', size);
	size_t ctlen = nl ? (size_t)(nl - in) : size;
	char *ct = malloc(ctlen + 1);
	memcpy(ct, in, ctlen);
	ct[ctlen] = 0;
	size_t blen = nl ? size - ctlen - 1 : 0;
	char *body = malloc(blen ? blen : 1);
	if (blen)
		memcpy(body, nl + 1, blen);
	const char *data = (const char *)1;
	size_t dlen = 99;
	char name[GZ_MULTIPART_NAME_BUF];
	struct gz_err err;
	gz_err_clear(&err);
	int rc = gz_multipart_file(ct, body, blen, &data, &dlen, name, sizeof(name), &err);
	if (rc == 0) {
		if (!data || data < body || dlen > blen || (size_t)(data - body) > blen - dlen)
			die("file outside the body");
		const char *p = ct;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "multipart/form-data", 19) != 0)
			die("accepted another content type");
		check_name(name, sizeof(name));
	} else {
		if (rc != -1)
			die("result neither 0 nor -1");
		check_err(&err, &data, dlen);
	}
	free(ct);
	free(body);
}

static void build_mode(const uint8_t *in, size_t size)
{
	/* the name is the input up to the first NUL (at most 200 bytes), the rest content */
	const uint8_t *z = memchr(in, 0, size < 200 ? size : 200);
	size_t nlen = z ? (size_t)(z - in) : 0;
	const char *content = (const char *)in + (z ? nlen + 1 : 0);
	size_t clen = size - (size_t)(content - (const char *)in);
	char boundary[40];
	bool ok = false;
	for (unsigned k = 0; k < 64 && !ok; k++) {
		snprintf(boundary, sizeof(boundary), "----gzFuzz%08x%u",
		         (unsigned)(clen * 2654435761u), k);
		ok = !memmem(content, clen, boundary, strlen(boundary));
	}
	if (!ok)
		return;
	/* quote the name, escaping '"' and '\' and leaving out CR and LF */
	size_t cap = clen + nlen * 2 + 256;
	char *body = malloc(cap);
	int n = snprintf(body, cap,
	                 "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"",
	                 boundary);
	size_t len = (size_t)n;
	for (size_t i = 0; i < nlen; i++) {
		char c = (char)in[i];
		if (c == '\r' || c == '\n')
			continue;
		if (c == '"' || c == '\\')
			body[len++] = '\\';
		body[len++] = c;
	}
	len += (size_t)snprintf(body + len, cap - len, "\"\r\nContent-Type: image/png\r\n\r\n");
	size_t at = len;
	memcpy(body + len, content, clen);
	len += clen;
	len += (size_t)snprintf(body + len, cap - len, "\r\n--%s--\r\n", boundary);
	char ct[80];
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", boundary);
	const char *data = NULL;
	size_t dlen = 0;
	char name[GZ_MULTIPART_NAME_BUF];
	struct gz_err err;
	gz_err_clear(&err);
	if (gz_multipart_file(ct, body, len, &data, &dlen, name, sizeof(name), &err))
		die("refused a well-formed body");
	if (data != body + at || dlen != clen)
		die("did not give back the content");
	check_name(name, sizeof(name));
	free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 65536)
		return 0;
	if (data[0] & 1)
		build_mode(data + 1, size - 1);
	else
		raw_mode(data + 1, size - 1);
	return 0;
}
