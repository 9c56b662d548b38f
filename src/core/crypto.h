/* crypto.h - the libsodium-backed primitives gongzhi uses: random tokens, SHA-256,
 * Argon2id password hashes and the password policy, secretbox for personal data.
 *
 * gz_crypto_init() must run once before any other function here. */
#ifndef GZ_CRYPTO_H
#define GZ_CRYPTO_H
#include "err.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GZ_KEY_BYTES 32
#define GZ_SHA256_HEX 65 /* 64 hex digits and NUL */
#define GZ_PWHASH_MAX 128

int gz_crypto_init(void);
/* Sets the Argon2id cost: "interactive" (default), "moderate" or "min" (tests). */
int gz_crypto_set_pwhash_cost(const char *name);
/* Writes a random URL-safe token of nbytes of entropy (base64url, no padding) after
 * prefix into out; out needs strlen(prefix) + nbytes*4/3 + 2 bytes. */
void gz_random_token(const char *prefix, size_t nbytes, char *out, size_t outlen);
void gz_random_bytes(void *p, size_t n);
/* Hex SHA-256 of n bytes. */
void gz_sha256_hex(const void *p, size_t n, char out[GZ_SHA256_HEX]);
/* Hex HMAC-SHA256 of n bytes under key (libsodium's crypto_auth_hmacsha256). */
void gz_hmac_sha256_hex(const uint8_t key[GZ_KEY_BYTES], const void *p, size_t n,
                        char out[GZ_SHA256_HEX]);
/* Compares two strings in time independent of where they differ (MACs). */
bool gz_str_equal_const(const char *a, const char *b);
/* Are the two strings equal?  In time independent of where they differ and of their
 * lengths (both are hashed first), for comparing a secret with what a client sent. */
bool gz_secret_equal(const char *a, const char *b);

/* Password policy: at least 10 characters and three of the four classes (lower,
 * upper, digit, other).  Fails with validation_failed naming field. */
int gz_password_check(const char *pw, const char *field, struct gz_err *err);
/* Argon2id hash in the libsodium string format. */
int gz_password_hash(const char *pw, char out[GZ_PWHASH_MAX]);
bool gz_password_verify(const char *hash, const char *pw);
/* Generates a password that satisfies the policy (16 characters). */
void gz_password_generate(char out[17]);

/* Authenticated encryption of personal data with the key: the output is
 * base64(nonce || ciphertext) in a malloc'd string (caller frees). */
char *gz_seal(const uint8_t key[GZ_KEY_BYTES], const char *plain);
/* Reverses gz_seal; NULL when the text was not sealed by this key. Caller frees. */
char *gz_unseal(const uint8_t key[GZ_KEY_BYTES], const char *sealed);
/* Keyed hex hash (BLAKE2b-256) of n bytes under a sub-key derived from key for
 * context (8 characters, e.g. "recovery"): for short secrets with enough entropy of
 * their own (recovery codes), where a slow password hash would add nothing. */
void gz_keyed_hash_hex(const uint8_t key[GZ_KEY_BYTES], const char context[8], const void *p,
                       size_t n, char out[GZ_SHA256_HEX]);
/* Reads a 32-byte key file, creating it (mode 0600) when create and it is missing. */
int gz_key_load(const char *path, bool create, uint8_t key[GZ_KEY_BYTES], struct gz_err *err);

#endif
