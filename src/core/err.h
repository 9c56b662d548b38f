/* err.h - the one error type.
 *
 * GZ_ERRORS lists every error code once: enum name, HTTP status, code string of the
 * API contract.  Functions return 0 on success and -1 after filling a struct gz_err
 * (see gz_fail), the way git's error() reads.  The message is for the client and is
 * never built from SQL text or errno: those go to the log. */
#ifndef GZ_ERR_H
#define GZ_ERR_H
#include <stdarg.h>

#define GZ_ERRORS(X)                                                                               \
	X(GZ_OK, 200, "ok")                                                                        \
	X(GZ_E_BAD_REQUEST, 400, "bad_request")                                                    \
	X(GZ_E_INVALID_JSON, 400, "invalid_json")                                                  \
	X(GZ_E_VALIDATION, 400, "validation_failed")                                               \
	X(GZ_E_UNKNOWN_FIELD, 400, "unknown_field")                                                \
	X(GZ_E_UNAUTHENTICATED, 401, "unauthenticated")                                            \
	X(GZ_E_TOTP_REQUIRED, 401, "totp_required")                                                \
	X(GZ_E_FORBIDDEN, 403, "forbidden")                                                        \
	X(GZ_E_CSRF, 403, "csrf_failed")                                                           \
	X(GZ_E_TOTP_ENROLMENT, 403, "totp_enrolment_required")                                     \
	X(GZ_E_NOT_FOUND, 404, "not_found")                                                        \
	X(GZ_E_METHOD, 405, "method_not_allowed")                                                  \
	X(GZ_E_CONFLICT, 409, "conflict")                                                          \
	X(GZ_E_TRANSITION, 409, "invalid_transition")                                              \
	X(GZ_E_PRECONDITION, 412, "precondition_failed")                                           \
	X(GZ_E_TOO_LARGE, 413, "payload_too_large")                                                \
	X(GZ_E_URI_TOO_LONG, 414, "uri_too_long")                                                  \
	X(GZ_E_MEDIA_TYPE, 415, "unsupported_media_type")                                          \
	X(GZ_E_LOCKED, 423, "account_locked")                                                      \
	X(GZ_E_RATE_LIMITED, 429, "rate_limited")                                                  \
	X(GZ_E_HEADERS_TOO_LARGE, 431, "headers_too_large")                                        \
	X(GZ_E_INTERNAL, 500, "internal")                                                          \
	X(GZ_E_UNAVAILABLE, 503, "unavailable")                                                    \
	X(GZ_E_STORAGE, 507, "insufficient_storage")

enum gz_code {
#define GZ_X(name, status, str) name,
	GZ_ERRORS(GZ_X)
#undef GZ_X
	    GZ_CODE_COUNT
};

struct gz_err {
	enum gz_code code;
	char field[64];    /* the field at fault, "" when none */
	char message[256]; /* for the client */
	char allowed[256]; /* JSON array text for invalid_transition, "" otherwise */
};

int gz_code_status(enum gz_code c);
const char *gz_code_string(enum gz_code c);
/* Finds a code by its string; GZ_E_INTERNAL when unknown. */
enum gz_code gz_code_from_string(const char *s);

void gz_err_clear(struct gz_err *e);
/* Fills e (may be NULL) and returns -1. */
int gz_fail(struct gz_err *e, enum gz_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, naming the field at fault. */
int gz_fail_field(struct gz_err *e, enum gz_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
