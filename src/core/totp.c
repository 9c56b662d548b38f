/* totp.c - TOTP codes and base32 on top of liboath (see totp.h).  liboath is used
 * because it is well kept in Debian and has the HMAC-SHA1 every authenticator app
 * uses, which libsodium lacks.  Steps are computed here, not by liboath's validators,
 * so that the caller learns which step matched and can refuse a step used before. */
#include "totp.h"
#include <liboath/oath.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;

static void oath_start(void)
{
	oath_init();
}

int gz_base32_encode(const void *p, size_t n, bool pad, char *out, size_t outlen)
{
	pthread_once(&oath_once, oath_start);
	if (outlen < GZ_BASE32_LEN(n))
		return -1;
	char *text = NULL;
	size_t len = 0;
	if (n == 0) {
		out[0] = 0;
		return 0;
	}
	if (oath_base32_encode(p, n, &text, &len) != OATH_OK || !text)
		return -1;
	if (!pad)
		while (len > 0 && text[len - 1] == '=')
			len--;
	memcpy(out, text, len);
	out[len] = 0;
	free(text);
	return (int)len;
}

int gz_base32_decode(const char *text, uint8_t *out, size_t max)
{
	pthread_once(&oath_once, oath_start);
	if (!*text)
		return 0;
	char *bin = NULL;
	size_t len = 0;
	if (oath_base32_decode(text, strlen(text), &bin, &len) != OATH_OK || !bin) {
		free(bin);
		return -1;
	}
	int rc = -1;
	if (len <= max) {
		memcpy(out, bin, len);
		rc = (int)len;
	}
	sodium_memzero(bin, len);
	free(bin);
	return rc;
}

int gz_totp_code(const uint8_t *key, size_t n, int64_t t, unsigned step_seconds, unsigned digits,
                 enum gz_totp_hash hash, char *out)
{
	pthread_once(&oath_once, oath_start);
	if (digits < 6 || digits > 8 || step_seconds == 0 || t < 0)
		return -1;
	int flags = hash == GZ_TOTP_SHA256   ? OATH_TOTP_HMAC_SHA256
	            : hash == GZ_TOTP_SHA512 ? OATH_TOTP_HMAC_SHA512
	                                     : 0;
	return oath_totp_generate2((const char *)key, n, (time_t)t, step_seconds, 0, digits, flags,
	                           out) == OATH_OK
	           ? 0
	           : -1;
}

int64_t gz_totp_step(int64_t t)
{
	return t / GZ_TOTP_STEP_SECONDS;
}

bool gz_totp_match(const uint8_t *key, size_t n, int64_t now, const char *code, int64_t *step)
{
	if (strlen(code) != GZ_TOTP_DIGITS)
		return false;
	for (const char *p = code; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	int64_t now_step = gz_totp_step(now);
	bool found = false;
	/* every step of the window is computed, so the time taken says nothing */
	for (int64_t d = -GZ_TOTP_WINDOW; d <= GZ_TOTP_WINDOW; d++) {
		char want[GZ_TOTP_DIGITS + 1];
		int64_t s = now_step + d;
		if (s < 0 || gz_totp_code(key, n, s * GZ_TOTP_STEP_SECONDS, GZ_TOTP_STEP_SECONDS,
		                          GZ_TOTP_DIGITS, GZ_TOTP_SHA1, want))
			continue;
		if (sodium_memcmp(want, code, GZ_TOTP_DIGITS) == 0 && !found) {
			found = true;
			*step = s;
		}
	}
	return found;
}
