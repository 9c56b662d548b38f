/* totp.h - one-time passwords (TOTP, RFC 6238, over HOTP, RFC 4226) and RFC 4648
 * base32, the encoding authenticator apps take secrets in.
 *
 * The HMAC and the truncation come from liboath; this file fixes gongzhi's choices
 * (30-second steps, 6 digits, one step of clock drift either way) and finds which
 * step a code belongs to, so that the caller can refuse a step already used.  It
 * knows nothing of accounts or storage. */
#ifndef GZ_TOTP_H
#define GZ_TOTP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GZ_TOTP_SECRET_BYTES 20 /* 160 bits, RFC 4226's recommended key length */
#define GZ_TOTP_STEP_SECONDS 30
#define GZ_TOTP_DIGITS 6
#define GZ_TOTP_WINDOW 1 /* steps accepted before and after the current one */
/* base32 text of n bytes, with padding and NUL */
#define GZ_BASE32_LEN(n) ((((n) + 4) / 5) * 8 + 1)

enum gz_totp_hash { GZ_TOTP_SHA1, GZ_TOTP_SHA256, GZ_TOTP_SHA512 };

/* RFC 4648 base32 of n bytes into out (outlen >= GZ_BASE32_LEN(n)); pad adds the '='
 * padding (otpauth URIs leave it out).  Returns the length written, -1 when out is
 * too small. */
int gz_base32_encode(const void *p, size_t n, bool pad, char *out, size_t outlen);
/* Decodes base32 text (case-insensitive; spaces and missing padding are accepted)
 * into out.  Returns the number of bytes, -1 when the text is not base32 or does not
 * fit in max bytes. */
int gz_base32_decode(const char *text, uint8_t *out, size_t max);

/* The TOTP code of key (n bytes) at Unix time t (seconds) with step_seconds and
 * digits (6..8), written with its leading zeros into out (digits + 1 bytes).
 * Returns 0, -1 on bad arguments. */
int gz_totp_code(const uint8_t *key, size_t n, int64_t t, unsigned step_seconds, unsigned digits,
                 enum gz_totp_hash hash, char *out);
/* The step number of Unix time t with gongzhi's step length. */
int64_t gz_totp_step(int64_t t);
/* Checks a 6-digit code against key at Unix time now, allowing GZ_TOTP_WINDOW steps of
 * drift either way, with gongzhi's settings (SHA-1, 30 s, 6 digits: what every
 * authenticator app does).  Returns true and the matching step in *step; false when
 * the code is malformed or matches none.  Compares in constant time. */
bool gz_totp_match(const uint8_t *key, size_t n, int64_t now, const char *code, int64_t *step);

#endif
