/* crypto.c - thin, checked wrappers over libsodium.  See crypto.h. */
#include "crypto.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned long long pw_ops;
static size_t pw_mem;

int gz_crypto_init(void)
{
	if (sodium_init() < 0)
		return -1;
	pw_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
	pw_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	return 0;
}

int gz_crypto_set_pwhash_cost(const char *name)
{
	if (strcmp(name, "interactive") == 0) {
		pw_ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		pw_mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	} else if (strcmp(name, "moderate") == 0) {
		pw_ops = crypto_pwhash_OPSLIMIT_MODERATE;
		pw_mem = crypto_pwhash_MEMLIMIT_MODERATE;
	} else if (strcmp(name, "min") == 0) {
		pw_ops = crypto_pwhash_OPSLIMIT_MIN;
		pw_mem = crypto_pwhash_MEMLIMIT_MIN;
	} else {
		return -1;
	}
	return 0;
}

void gz_random_bytes(void *p, size_t n)
{
	randombytes_buf(p, n);
}

void gz_random_token(const char *prefix, size_t nbytes, char *out, size_t outlen)
{
	unsigned char raw[64];
	if (nbytes > sizeof(raw))
		GZ_BUG("token too long");
	randombytes_buf(raw, nbytes);
	size_t pl = strlen(prefix);
	size_t need = sodium_base64_ENCODED_LEN(nbytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (pl + need > outlen)
		GZ_BUG("token buffer too small");
	memcpy(out, prefix, pl);
	sodium_bin2base64(out + pl, outlen - pl, raw, nbytes,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void gz_sha256_hex(const void *p, size_t n, char out[GZ_SHA256_HEX])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, p, n);
	sodium_bin2hex(out, GZ_SHA256_HEX, h, sizeof(h));
}

void gz_hmac_sha256_hex(const uint8_t key[GZ_KEY_BYTES], const void *p, size_t n,
                        char out[GZ_SHA256_HEX])
{
	_Static_assert(crypto_auth_hmacsha256_KEYBYTES == GZ_KEY_BYTES, "HMAC key size");
	unsigned char h[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256(h, p, n, key);
	sodium_bin2hex(out, GZ_SHA256_HEX, h, sizeof(h));
}

bool gz_str_equal_const(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}

bool gz_secret_equal(const char *a, const char *b)
{
	unsigned char ha[crypto_hash_sha256_BYTES], hb[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(ha, (const unsigned char *)a, strlen(a));
	crypto_hash_sha256(hb, (const unsigned char *)b, strlen(b));
	return sodium_memcmp(ha, hb, sizeof(ha)) == 0;
}

int gz_password_check(const char *pw, const char *field, struct gz_err *err)
{
	if (!gz_utf8_valid(pw, strlen(pw)))
		return gz_fail_field(err, GZ_E_VALIDATION, field, "password is not valid text");
	if (gz_utf8_len(pw) < 10)
		return gz_fail_field(err, GZ_E_VALIDATION, field,
		                     "password must have at least 10 characters");
	if (strlen(pw) > 256)
		return gz_fail_field(err, GZ_E_VALIDATION, field,
		                     "password must have at most 256 bytes");
	int lower = 0, upper = 0, digit = 0, other = 0;
	for (const unsigned char *p = (const unsigned char *)pw; *p; p++) {
		if (*p >= 'a' && *p <= 'z')
			lower = 1;
		else if (*p >= 'A' && *p <= 'Z')
			upper = 1;
		else if (*p >= '0' && *p <= '9')
			digit = 1;
		else
			other = 1;
	}
	if (lower + upper + digit + other < 3)
		return gz_fail_field(err, GZ_E_VALIDATION, field,
		                     "password must mix three of: lower case, upper case, digits, "
		                     "other characters");
	return 0;
}

int gz_password_hash(const char *pw, char out[GZ_PWHASH_MAX])
{
	_Static_assert(GZ_PWHASH_MAX >= crypto_pwhash_STRBYTES, "hash buffer");
	return crypto_pwhash_str_alg(out, pw, strlen(pw), pw_ops, pw_mem,
	                             crypto_pwhash_ALG_ARGON2ID13);
}

bool gz_password_verify(const char *hash, const char *pw)
{
	return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

void gz_password_generate(char out[17])
{
	static const char sets[4][27] = {"abcdefghijkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ",
	                                 "23456789", "-_.+=@"};
	for (int i = 0; i < 16; i++) {
		const char *set = sets[i < 4 ? (uint32_t)i : randombytes_uniform(3)];
		out[i] = set[randombytes_uniform((uint32_t)strlen(set))];
	}
	/* shuffle so the class order is not fixed */
	for (int i = 15; i > 0; i--) {
		int j = (int)randombytes_uniform((uint32_t)i + 1);
		char t = out[i];
		out[i] = out[j];
		out[j] = t;
	}
	out[16] = 0;
}

char *gz_seal(const uint8_t key[GZ_KEY_BYTES], const char *plain)
{
	size_t n = strlen(plain);
	size_t clen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
	unsigned char *c = gz_xmalloc(clen);
	randombytes_buf(c, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(c + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, n, c,
	                      key);
	size_t blen = sodium_base64_ENCODED_LEN(clen, sodium_base64_VARIANT_ORIGINAL);
	char *out = gz_xmalloc(blen);
	sodium_bin2base64(out, blen, c, clen, sodium_base64_VARIANT_ORIGINAL);
	free(c);
	return out;
}

char *gz_unseal(const uint8_t key[GZ_KEY_BYTES], const char *sealed)
{
	size_t slen = strlen(sealed);
	unsigned char *c = gz_xmalloc(slen);
	size_t clen;
	if (sodium_base642bin(c, slen, sealed, slen, NULL, &clen, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    clen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
		free(c);
		return NULL;
	}
	size_t n = clen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	char *plain = gz_xmalloc(n + 1);
	if (crypto_secretbox_open_easy((unsigned char *)plain, c + crypto_secretbox_NONCEBYTES,
	                               clen - crypto_secretbox_NONCEBYTES, c, key) != 0) {
		free(c);
		free(plain);
		return NULL;
	}
	plain[n] = 0;
	free(c);
	return plain;
}

void gz_keyed_hash_hex(const uint8_t key[GZ_KEY_BYTES], const char context[8], const void *p,
                       size_t n, char out[GZ_SHA256_HEX])
{
	_Static_assert(crypto_kdf_CONTEXTBYTES == 8, "kdf context");
	_Static_assert(crypto_kdf_KEYBYTES == GZ_KEY_BYTES, "kdf key");
	unsigned char sub[crypto_generichash_KEYBYTES], h[32];
	crypto_kdf_derive_from_key(sub, sizeof(sub), 1, context, key);
	crypto_generichash(h, sizeof(h), p, n, sub, sizeof(sub));
	sodium_memzero(sub, sizeof(sub));
	sodium_bin2hex(out, GZ_SHA256_HEX, h, sizeof(h));
}

int gz_key_load(const char *path, bool create, uint8_t key[GZ_KEY_BYTES], struct gz_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return gz_fail(err, GZ_E_INTERNAL, "cannot create key file %s", path);
		randombytes_buf(key, GZ_KEY_BYTES);
		ssize_t w = write(fd, key, GZ_KEY_BYTES);
		int rc = fsync(fd);
		close(fd);
		if (w != GZ_KEY_BYTES || rc)
			return gz_fail(err, GZ_E_INTERNAL, "cannot write key file %s", path);
		return 0;
	}
	if (fd < 0)
		return gz_fail(err, GZ_E_INTERNAL, "cannot read key file %s", path);
	ssize_t r = read(fd, key, GZ_KEY_BYTES);
	close(fd);
	if (r != GZ_KEY_BYTES)
		return gz_fail(err, GZ_E_INTERNAL, "key file %s must hold 32 bytes", path);
	return 0;
}
