/* test_totp.c - unit tests for src/core/totp.c: the RFC 6238 Appendix B vectors
 * (SHA-1, SHA-256, SHA-512, 8 digits), the RFC 4648 section 10 base32 vectors both
 * ways, decoding leniency and refusals, and the ±1-step window of gz_totp_match.
 * Also the keyed hash of src/core/crypto.c used for recovery codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/crypto.h"
#include "core/totp.h"
#include <stdio.h>
#include <string.h>

/* RFC 6238 Appendix B: the seeds are ASCII "1234567890" repeated to the hash's size */
static const char seed20[] = "12345678901234567890";
static const char seed32[] = "12345678901234567890123456789012";
static const char seed64[] = "1234567890123456789012345678901234567890123456789012345678901234";

static const struct {
	int64_t t;
	const char *sha1, *sha256, *sha512;
} rfc6238[] = {
    {59, "94287082", "46119246", "90693936"},
    {1111111109, "07081804", "68084774", "25091201"},
    {1111111111, "14050471", "67062674", "99943326"},
    {1234567890, "89005924", "91819424", "93441116"},
    {2000000000, "69279037", "90698825", "38618901"},
    {20000000000, "65353130", "77737706", "47863826"},
};

static void rfc6238_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc6238) / sizeof(rfc6238[0]); i++) {
		char out[9];
		assert_int_equal(gz_totp_code((const uint8_t *)seed20, 20, rfc6238[i].t, 30, 8,
		                              GZ_TOTP_SHA1, out),
		                 0);
		assert_string_equal(out, rfc6238[i].sha1);
		assert_int_equal(gz_totp_code((const uint8_t *)seed32, 32, rfc6238[i].t, 30, 8,
		                              GZ_TOTP_SHA256, out),
		                 0);
		assert_string_equal(out, rfc6238[i].sha256);
		assert_int_equal(gz_totp_code((const uint8_t *)seed64, 64, rfc6238[i].t, 30, 8,
		                              GZ_TOTP_SHA512, out),
		                 0);
		assert_string_equal(out, rfc6238[i].sha512);
	}
}

static void six_digits_are_the_low_digits(void **state)
{
	(void)state;
	/* the 6-digit code is the 8-digit one modulo 10^6 (RFC 4226 truncation) */
	char out[7];
	assert_int_equal(gz_totp_code((const uint8_t *)seed20, 20, 59, 30, 6, GZ_TOTP_SHA1, out),
	                 0);
	assert_string_equal(out, "287082");
	assert_int_equal(
	    gz_totp_code((const uint8_t *)seed20, 20, 1111111109, 30, 6, GZ_TOTP_SHA1, out), 0);
	assert_string_equal(out, "081804"); /* leading zero kept */
}

static void bad_arguments(void **state)
{
	(void)state;
	char out[10];
	assert_int_equal(gz_totp_code((const uint8_t *)seed20, 20, 59, 30, 5, GZ_TOTP_SHA1, out),
	                 -1);
	assert_int_equal(gz_totp_code((const uint8_t *)seed20, 20, 59, 30, 9, GZ_TOTP_SHA1, out),
	                 -1);
	assert_int_equal(gz_totp_code((const uint8_t *)seed20, 20, 59, 0, 6, GZ_TOTP_SHA1, out),
	                 -1);
	assert_int_equal(gz_totp_code((const uint8_t *)seed20, 20, -1, 30, 6, GZ_TOTP_SHA1, out),
	                 -1);
}

/* RFC 4648 section 10 */
static const char *const b32_plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const b32_text[] = {
    "", "MY======", "MZXQ====", "MZXW6===", "MZXW6YQ=", "MZXW6YTB", "MZXW6YTBOI======"};
static const char *const b32_nopad[] = {"",        "MY",       "MZXQ",      "MZXW6",
                                        "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI"};

static void base32_encode_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < 7; i++) {
		char out[GZ_BASE32_LEN(6)];
		int n =
		    gz_base32_encode(b32_plain[i], strlen(b32_plain[i]), true, out, sizeof(out));
		assert_int_equal(n, (int)strlen(b32_text[i]));
		assert_string_equal(out, b32_text[i]);
		n = gz_base32_encode(b32_plain[i], strlen(b32_plain[i]), false, out, sizeof(out));
		assert_int_equal(n, (int)strlen(b32_nopad[i]));
		assert_string_equal(out, b32_nopad[i]);
	}
	char small[8];
	assert_int_equal(gz_base32_encode("foobar", 6, true, small, sizeof(small)), -1);
}

static void base32_decode_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < 7; i++) {
		uint8_t out[8];
		int n = gz_base32_decode(b32_text[i], out, sizeof(out));
		assert_int_equal(n, (int)strlen(b32_plain[i]));
		assert_memory_equal(out, b32_plain[i], (size_t)n);
		n = gz_base32_decode(b32_nopad[i], out, sizeof(out));
		assert_int_equal(n, (int)strlen(b32_plain[i]));
		assert_memory_equal(out, b32_plain[i], (size_t)n);
	}
	/* what people type from a screen: lower case, groups of four */
	uint8_t out[8];
	assert_int_equal(gz_base32_decode("mzxw 6ytb oi", out, sizeof(out)), 6);
	assert_memory_equal(out, "foobar", 6);
	/* not base32: a digit outside 2-7, a length no byte count gives */
	assert_int_equal(gz_base32_decode("MZ1W6YTB", out, sizeof(out)), -1);
	assert_int_equal(gz_base32_decode("MZXW6YTBO", out, sizeof(out)), -1);
	/* too long for the buffer */
	assert_int_equal(gz_base32_decode("MZXW6YTBOI", out, 5), -1);
}

static void base32_round_trip_of_a_secret(void **state)
{
	(void)state;
	uint8_t key[GZ_TOTP_SECRET_BYTES], back[GZ_TOTP_SECRET_BYTES];
	for (int round = 0; round < 50; round++) {
		gz_random_bytes(key, sizeof(key));
		char text[GZ_BASE32_LEN(GZ_TOTP_SECRET_BYTES)];
		assert_int_equal(gz_base32_encode(key, sizeof(key), false, text, sizeof(text)), 32);
		assert_int_equal(gz_base32_decode(text, back, sizeof(back)), GZ_TOTP_SECRET_BYTES);
		assert_memory_equal(key, back, sizeof(key));
	}
}

static void match_window(void **state)
{
	(void)state;
	const uint8_t *k = (const uint8_t *)seed20;
	int64_t now = 1111111111; /* step 37037037 */
	char c[7];
	int64_t step = 0;
	for (int d = -1; d <= 1; d++) {
		assert_int_equal(gz_totp_code(k, 20, now + d * 30, 30, 6, GZ_TOTP_SHA1, c), 0);
		assert_true(gz_totp_match(k, 20, now, c, &step));
		assert_int_equal(step, gz_totp_step(now) + d);
	}
	/* two steps away: refused */
	assert_int_equal(gz_totp_code(k, 20, now + 60, 30, 6, GZ_TOTP_SHA1, c), 0);
	step = -7;
	assert_false(gz_totp_match(k, 20, now, c, &step));
	assert_int_equal(step, -7);
	assert_int_equal(gz_totp_code(k, 20, now - 60, 30, 6, GZ_TOTP_SHA1, c), 0);
	assert_false(gz_totp_match(k, 20, now, c, &step));
	/* malformed codes never match */
	assert_int_equal(gz_totp_code(k, 20, now, 30, 6, GZ_TOTP_SHA1, c), 0);
	char longer[8];
	snprintf(longer, sizeof(longer), "%s0", c);
	assert_false(gz_totp_match(k, 20, now, longer, &step));
	assert_false(gz_totp_match(k, 20, now, c + 1, &step));
	assert_false(gz_totp_match(k, 20, now, "12a456", &step));
	assert_false(gz_totp_match(k, 20, now, "", &step));
	/* a different key gives a different code */
	assert_false(gz_totp_match((const uint8_t *)"abcdefghijabcdefghij", 20, now, c, &step));
}

static void keyed_hash(void **state)
{
	(void)state;
	uint8_t k1[GZ_KEY_BYTES], k2[GZ_KEY_BYTES];
	memset(k1, 1, sizeof(k1));
	memset(k2, 2, sizeof(k2));
	char a[GZ_SHA256_HEX], b[GZ_SHA256_HEX], c[GZ_SHA256_HEX], d[GZ_SHA256_HEX];
	gz_keyed_hash_hex(k1, "recovery", "abcde12345", 10, a);
	gz_keyed_hash_hex(k1, "recovery", "abcde12345", 10, b);
	gz_keyed_hash_hex(k2, "recovery", "abcde12345", 10, c);
	gz_keyed_hash_hex(k1, "othrctxt", "abcde12345", 10, d);
	assert_int_equal(strlen(a), 64);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c); /* another server key */
	assert_string_not_equal(a, d); /* another purpose */
	gz_keyed_hash_hex(k1, "recovery", "abcde12346", 10, b);
	assert_string_not_equal(a, b);
}

int main(void)
{
	if (gz_crypto_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rfc6238_vectors),
	    cmocka_unit_test(six_digits_are_the_low_digits),
	    cmocka_unit_test(bad_arguments),
	    cmocka_unit_test(base32_encode_vectors),
	    cmocka_unit_test(base32_decode_vectors),
	    cmocka_unit_test(base32_round_trip_of_a_secret),
	    cmocka_unit_test(match_window),
	    cmocka_unit_test(keyed_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
