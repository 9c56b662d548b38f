/* test_crypto.c - unit tests for src/core/crypto.c: the password policy, Argon2id
 * hashing at the "min" cost, sealing personal data (round trip, wrong key, tampering),
 * random tokens, SHA-256 known vectors, generated passwords and key files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/crypto.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int setup(void **state)
{
	if (gz_crypto_init() != 0)
		return -1;
	return gz_crypto_set_pwhash_cost("min");
}

static void expect_policy_fail(const char *pw)
{
	struct gz_err e;
	gz_err_clear(&e);
	if (gz_password_check(pw, "new_password", &e) != -1)
		fail_msg("policy accepted \"%s\"", pw);
	assert_int_equal(e.code, GZ_E_VALIDATION);
	assert_string_equal(e.field, "new_password");
	assert_true(strlen(e.message) > 0);
}

static void expect_policy_ok(const char *pw)
{
	struct gz_err e;
	gz_err_clear(&e);
	if (gz_password_check(pw, "password", &e) != 0)
		fail_msg("policy rejected \"%s\": %s", pw, e.message);
}

static void test_policy_too_short(void **state)
{
	expect_policy_fail("");
	expect_policy_fail("Ab1!");
	expect_policy_fail("Abcdef1!x"); /* 9 characters, four classes */
	expect_policy_fail("密码Ab1");   /* 5 characters although 9 bytes */
	expect_policy_ok("Abcdef1!xy");  /* 10 is enough */
}

static void test_policy_classes(void **state)
{
	expect_policy_fail("abcdefghijkl");      /* one class */
	expect_policy_fail("abcdefgh1234");      /* lower + digit */
	expect_policy_fail("abcdefghIJKL");      /* lower + upper */
	expect_policy_fail("ABCDEFGH!!!!");      /* upper + other */
	expect_policy_fail("1234567890!!");      /* digit + other */
	expect_policy_ok("abcdefgh12AB");        /* lower, upper, digit */
	expect_policy_ok("abcdefgh12!!");        /* lower, digit, other */
	expect_policy_ok("ABCDEFGH12!!");        /* upper, digit, other */
	expect_policy_ok("Correct-Horse-9");     /* all four */
	expect_policy_ok("社区工作人员密码Aa1"); /* non-ASCII counts as other */
}

static void test_policy_bad_text(void **state)
{
	expect_policy_fail("Abcdefgh1\xff\xfe!"); /* invalid UTF-8 */
	char longpw[300];
	memset(longpw, 'a', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = 0;
	longpw[0] = 'A';
	longpw[1] = '1';
	expect_policy_fail(longpw); /* more than 256 bytes */
}

static void test_hash_verify(void **state)
{
	char h1[GZ_PWHASH_MAX], h2[GZ_PWHASH_MAX];
	assert_int_equal(gz_password_hash("Correct-Horse-9", h1), 0);
	assert_int_equal(strncmp(h1, "$argon2id$", 10), 0);
	assert_true(gz_password_verify(h1, "Correct-Horse-9"));
	assert_false(gz_password_verify(h1, "Correct-Horse-8"));
	assert_false(gz_password_verify(h1, "correct-Horse-9"));
	assert_false(gz_password_verify(h1, ""));
	assert_false(gz_password_verify("not a hash", "Correct-Horse-9"));
	/* salted: the same password hashes differently, both verify */
	assert_int_equal(gz_password_hash("Correct-Horse-9", h2), 0);
	assert_string_not_equal(h1, h2);
	assert_true(gz_password_verify(h2, "Correct-Horse-9"));
	/* non-ASCII passwords */
	assert_int_equal(gz_password_hash("社区工作人员密码Aa1", h2), 0);
	assert_true(gz_password_verify(h2, "社区工作人员密码Aa1"));
	assert_false(gz_password_verify(h2, "社区工作人员密码Aa2"));
}

static void test_pwhash_cost_names(void **state)
{
	assert_int_equal(gz_crypto_set_pwhash_cost("fast"), -1);
	assert_int_equal(gz_crypto_set_pwhash_cost(""), -1);
	assert_int_equal(gz_crypto_set_pwhash_cost("interactive"), 0);
	assert_int_equal(gz_crypto_set_pwhash_cost("moderate"), 0);
	assert_int_equal(gz_crypto_set_pwhash_cost("min"), 0);
	/* a hash made at "min" still verifies after the cost changes */
	char h[GZ_PWHASH_MAX];
	assert_int_equal(gz_password_hash("Abcdefgh12", h), 0);
	assert_int_equal(gz_crypto_set_pwhash_cost("interactive"), 0);
	assert_true(gz_password_verify(h, "Abcdefgh12"));
	assert_int_equal(gz_crypto_set_pwhash_cost("min"), 0);
}

static void fill_key(uint8_t key[GZ_KEY_BYTES], uint8_t seed)
{
	for (int i = 0; i < GZ_KEY_BYTES; i++)
		key[i] = (uint8_t)(seed + i * 7);
}

static void test_seal_round_trip(void **state)
{
	uint8_t key[GZ_KEY_BYTES];
	fill_key(key, 1);
	const char *plains[] = {"13812345678", "", "身份证 110101199003077777",
	                        "a much longer text that spans several base64 blocks ......"};
	for (size_t i = 0; i < sizeof(plains) / sizeof(plains[0]); i++) {
		char *s = gz_seal(key, plains[i]);
		assert_non_null(s);
		if (*plains[i])
			assert_null(strstr(s, plains[i]));
		char *p = gz_unseal(key, s);
		assert_non_null(p);
		assert_string_equal(p, plains[i]);
		free(p);
		free(s);
	}
	/* random nonce: sealing twice differs */
	char *a = gz_seal(key, "13812345678"), *b = gz_seal(key, "13812345678");
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void test_seal_wrong_key(void **state)
{
	uint8_t k1[GZ_KEY_BYTES], k2[GZ_KEY_BYTES];
	fill_key(k1, 1);
	fill_key(k2, 1);
	k2[31] ^= 1;
	char *s = gz_seal(k1, "secret");
	assert_null(gz_unseal(k2, s));
	free(s);
}

static char flip_b64(char c)
{
	return c == 'A' ? 'B' : 'A';
}

static void test_seal_tamper(void **state)
{
	uint8_t key[GZ_KEY_BYTES];
	fill_key(key, 9);
	char *s = gz_seal(key, "13812345678 张三");
	size_t n = strlen(s);
	/* change one character at every position that is not padding */
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=')
			continue;
		char *t = strdup(s);
		assert_non_null(t);
		t[i] = flip_b64(t[i]);
		char *p = gz_unseal(key, t);
		if (p) {
			/* the last character may only carry padding bits: then the decoded
			 * bytes are unchanged and the plain text must be too */
			assert_true(i >= n - 3);
			assert_string_equal(p, "13812345678 张三");
			free(p);
		}
		free(t);
	}
	/* truncated, garbage, empty, trailing junk */
	char *t = strdup(s);
	assert_non_null(t);
	t[n / 2] = 0;
	assert_null(gz_unseal(key, t));
	free(t);
	assert_null(gz_unseal(key, ""));
	assert_null(gz_unseal(key, "!!!not base64!!!"));
	assert_null(gz_unseal(key, "AAAA"));
	char *junk = malloc(n + 3);
	assert_non_null(junk);
	snprintf(junk, n + 3, "%s!!", s);
	assert_null(gz_unseal(key, junk));
	free(junk);
	free(s);
}

static int url_safe(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

static void test_random_tokens(void **state)
{
	enum { N = 200 };
	static char tok[N][64];
	for (int i = 0; i < N; i++) {
		gz_random_token("gzs_", 32, tok[i], sizeof(tok[i]));
		assert_int_equal(strncmp(tok[i], "gzs_", 4), 0);
		assert_int_equal(strlen(tok[i]), 4 + 43); /* ceil(32 * 4 / 3) */
		assert_true(url_safe(tok[i] + 4));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(tok[i], tok[j]);
	}
	/* the buffer size documented in the header is enough */
	char small[2 + 16 * 4 / 3 + 2];
	gz_random_token("k_", 16, small, sizeof(small));
	assert_int_equal(strlen(small), 2 + 22);
	char none[40];
	gz_random_token("", 24, none, sizeof(none));
	assert_int_equal(strlen(none), 32);
	assert_true(url_safe(none));
}

static void test_random_bytes(void **state)
{
	uint8_t a[32], b[32], zero[32] = {0};
	gz_random_bytes(a, sizeof(a));
	gz_random_bytes(b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
}

static void test_sha256_vectors(void **state)
{
	char out[GZ_SHA256_HEX];
	gz_sha256_hex("abc", 3, out);
	assert_string_equal(out,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	gz_sha256_hex("", 0, out);
	assert_string_equal(out,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	gz_sha256_hex(m, strlen(m), out);
	assert_string_equal(out,
	                    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* n is honoured: bytes after n do not count */
	gz_sha256_hex("abcdef", 3, out);
	assert_string_equal(out,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_generated_password(void **state)
{
	char prev[17] = "";
	for (int i = 0; i < 200; i++) {
		char pw[17];
		memset(pw, 'x', sizeof(pw));
		gz_password_generate(pw);
		assert_int_equal(strlen(pw), 16);
		struct gz_err e;
		gz_err_clear(&e);
		if (gz_password_check(pw, "password", &e) != 0)
			fail_msg("generated \"%s\" fails the policy: %s", pw, e.message);
		assert_string_not_equal(pw, prev);
		memcpy(prev, pw, sizeof(pw));
	}
}

static void test_key_file(void **state)
{
	char dir[] = "/tmp/gz_test_key_XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256], shortp[256];
	snprintf(path, sizeof(path), "%s/secret.key", dir);
	snprintf(shortp, sizeof(shortp), "%s/short.key", dir);
	struct gz_err e;
	gz_err_clear(&e);
	uint8_t k1[GZ_KEY_BYTES], k2[GZ_KEY_BYTES];

	/* missing and not created */
	assert_int_equal(gz_key_load(path, false, k1, &e), -1);
	assert_int_equal(e.code, GZ_E_INTERNAL);

	/* created 0600 with 32 bytes, then read back unchanged */
	assert_int_equal(gz_key_load(path, true, k1, &e), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, GZ_KEY_BYTES);
	assert_int_equal(gz_key_load(path, true, k2, &e), 0);
	assert_memory_equal(k1, k2, GZ_KEY_BYTES);
	assert_int_equal(gz_key_load(path, false, k2, &e), 0);
	assert_memory_equal(k1, k2, GZ_KEY_BYTES);

	/* a file of the wrong size is refused, not padded */
	FILE *f = fopen(shortp, "w");
	assert_non_null(f);
	fputs("too short", f);
	fclose(f);
	assert_int_equal(gz_key_load(shortp, true, k2, &e), -1);

	unlink(path);
	unlink(shortp);
	rmdir(dir);
}

/* gz_secret_equal: equal strings only, whatever their lengths. */
static void test_secret_equal(void **state)
{
	(void)state;
	assert_true(gz_secret_equal("scrape-0123456789abcdef", "scrape-0123456789abcdef"));
	assert_true(gz_secret_equal("", ""));
	assert_false(gz_secret_equal("scrape-0123456789abcdef", "scrape-0123456789abcdeF"));
	assert_false(gz_secret_equal("scrape-0123456789abcdef", "scrape-0123456789abcde"));
	assert_false(gz_secret_equal("scrape-0123456789abcde", "scrape-0123456789abcdef"));
	assert_false(gz_secret_equal("", "a"));
	assert_false(gz_secret_equal("Xcrape-0123456789abcdef", "scrape-0123456789abcdef"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_policy_too_short),  cmocka_unit_test(test_policy_classes),
	    cmocka_unit_test(test_policy_bad_text),   cmocka_unit_test(test_hash_verify),
	    cmocka_unit_test(test_pwhash_cost_names), cmocka_unit_test(test_seal_round_trip),
	    cmocka_unit_test(test_seal_wrong_key),    cmocka_unit_test(test_seal_tamper),
	    cmocka_unit_test(test_random_tokens),     cmocka_unit_test(test_random_bytes),
	    cmocka_unit_test(test_sha256_vectors),    cmocka_unit_test(test_generated_password),
	    cmocka_unit_test(test_key_file),          cmocka_unit_test(test_secret_equal),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
