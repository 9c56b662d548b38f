/* err.c - error code tables generated from GZ_ERRORS, and gz_fail(). */
#include "err.h"
#include <stdio.h>
#include <string.h>

static const int statuses[] = {
#define GZ_X(name, status, str) status,
    GZ_ERRORS(GZ_X)
#undef GZ_X
};

static const char *const strings[] = {
#define GZ_X(name, status, str) str,
    GZ_ERRORS(GZ_X)
#undef GZ_X
};

int gz_code_status(enum gz_code c)
{
	return (unsigned)c < GZ_CODE_COUNT ? statuses[c] : 500;
}

const char *gz_code_string(enum gz_code c)
{
	return (unsigned)c < GZ_CODE_COUNT ? strings[c] : "internal";
}

enum gz_code gz_code_from_string(const char *s)
{
	for (int i = 0; i < GZ_CODE_COUNT; i++)
		if (strcmp(strings[i], s) == 0)
			return (enum gz_code)i;
	return GZ_E_INTERNAL;
}

void gz_err_clear(struct gz_err *e)
{
	e->code = GZ_OK;
	e->field[0] = e->message[0] = e->allowed[0] = 0;
}

/* snprintf may stop inside a multi-byte character: drop the partial one, so the
 * message stays valid UTF-8 (JSON encoders refuse anything else). */
static void trim_utf8(char *s)
{
	size_t n = strlen(s);
	size_t i = n;
	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return;
	unsigned char lead = (unsigned char)s[i - 1];
	size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	if (lead >= 0x80 && n - (i - 1) < need)
		s[i - 1] = 0;
}

static int vfail(struct gz_err *e, enum gz_code code, const char *field, const char *fmt,
                 va_list ap)
{
	if (!e)
		return -1;
	e->code = code;
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	trim_utf8(e->field);
	trim_utf8(e->message);
	e->allowed[0] = 0;
	return -1;
}

int gz_fail(struct gz_err *e, enum gz_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(e, code, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int gz_fail_field(struct gz_err *e, enum gz_code code, const char *field, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(e, code, field, fmt, ap);
	va_end(ap);
	return -1;
}
