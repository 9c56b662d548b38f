/* multipart.h - the one file of a multipart/form-data upload (RFC 7578, RFC 2046).
 *
 * A pure function over a body already in memory: no allocation, no I/O, so it can be
 * unit-tested and fuzzed.  It knows nothing of what the file is; callers check the
 * bytes themselves (type by content, size, emptiness). */
#ifndef GZ_MULTIPART_H
#define GZ_MULTIPART_H
#include "core/err.h"
#include <stddef.h>

/* Longest file name kept, in characters; filename needs 4 bytes per character + 1. */
#define GZ_MULTIPART_NAME_CHARS 100
#define GZ_MULTIPART_NAME_BUF (GZ_MULTIPART_NAME_CHARS * 4 + 1)

/* Finds the single part named "file" in body[0..len) sent with the given
 * Content-Type header value (NULL when absent).
 *
 * On success returns 0, *data points into body (not copied, not NUL-terminated) and
 * *dlen is the file's length (0 for an empty file: the caller decides).  filename
 * (fnlen bytes, at least 1) receives the sanitised file name from the part's
 * Content-Disposition (a usable filename*=UTF-8''… wins over filename=): only the last path
 * component is kept, and the name must be valid UTF-8 without control characters,
 * at most GZ_MULTIPART_NAME_CHARS characters, not "." or "..", and fit in fnlen;
 * otherwise, or when no name was sent, filename is "" (no name).  The part's own
 * Content-Type is ignored.
 *
 * body may be NULL when len is 0.  Errors (-1, err filled; *data NULL, *dlen 0,
 * filename ""):
 *   unsupported_media_type (415): content_type is not multipart/form-data;
 *   bad_request (400, field "file"): no usable boundary, a malformed or truncated body
 *     (delimiters and part headers must end in CRLF), a part without a form-data
 *     Content-Disposition and name, a content encoding other than 7bit/8bit/binary;
 *   unknown_field (400, field = the part's name): a part other than "file" (bad_request
 *     on "file" when that name is not short, printable UTF-8);
 *   validation_failed (400, field "file"): no "file" part, or more than one. */
int gz_multipart_file(const char *content_type, const char *body, size_t len, const char **data,
                      size_t *dlen, char *filename, size_t fnlen, struct gz_err *err);

#endif
