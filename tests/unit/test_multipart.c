/* test_multipart.c - unit tests for src/http/multipart.c: the Content-Type and its
 * boundary (quoted, case, limits), the body's framing (preamble, epilogue, padding,
 * CRLF, truncation, delimiters inside content), part headers (Content-Disposition
 * parameters, quoted-pairs, filename*, transfer encodings), the one "file" part rule
 * and the sanitising of file names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/multipart.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CT "multipart/form-data; boundary=XyZ"

struct got {
	int rc;
	const char *data;
	size_t dlen;
	char name[GZ_MULTIPART_NAME_BUF];
	struct gz_err err;
};

static struct got parse_ct(const char *ct, const char *body, size_t len)
{
	struct got g;
	memset(&g, 0, sizeof(g));
	gz_err_clear(&g.err);
	g.rc = gz_multipart_file(ct, body, len, &g.data, &g.dlen, g.name, sizeof(g.name), &g.err);
	return g;
}

static struct got parse(const char *body)
{
	return parse_ct(CT, body, strlen(body));
}

/* one part with the given disposition parameters and content */
static struct got part(const char *params, const char *content)
{
	static char body[4096];
	snprintf(body, sizeof(body),
	         "--XyZ\r\nContent-Disposition: form-data; %s\r\n\r\n%s\r\n--XyZ--\r\n", params,
	         content);
	return parse(body);
}

static void assert_fails(struct got g, enum gz_code code, const char *field)
{
	assert_int_equal(g.rc, -1);
	if (g.err.code != code)
		print_error("got %s: %s\n", gz_code_string(g.err.code), g.err.message);
	assert_int_equal(g.err.code, code);
	assert_true(g.err.message[0] != 0);
	if (field)
		assert_string_equal(g.err.field, field);
	assert_null(g.data);
	assert_int_equal(g.dlen, 0);
}

static void assert_file(struct got g, const char *content, const char *name)
{
	if (g.rc)
		print_error("failed: %s (%s)\n", g.err.message, g.err.field);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.dlen, strlen(content));
	assert_memory_equal(g.data, content, g.dlen);
	assert_string_equal(g.name, name);
}

/* ---- the Content-Type ---- */

static void test_content_type(void **state)
{
	(void)state;
	static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
	                           "filename=\"a.png\"\r\n\r\nDATA\r\n--XyZ--\r\n";
	size_t n = strlen(body);
	assert_file(parse_ct(CT, body, n), "DATA", "a.png");
	assert_file(parse_ct("Multipart/Form-Data;boundary=XyZ", body, n), "DATA", "a.png");
	assert_file(parse_ct("multipart/form-data; boundary=\"XyZ\"", body, n), "DATA", "a.png");
	assert_file(parse_ct("multipart/form-data; charset=utf-8; BOUNDARY=XyZ", body, n), "DATA",
	            "a.png");
	assert_file(parse_ct("  multipart/form-data ; boundary = XyZ ;", body, n), "DATA", "a.png");
	/* not multipart/form-data: 415 */
	assert_fails(parse_ct(NULL, body, n), GZ_E_MEDIA_TYPE, NULL);
	assert_fails(parse_ct("", body, n), GZ_E_MEDIA_TYPE, NULL);
	assert_fails(parse_ct("application/json", body, n), GZ_E_MEDIA_TYPE, NULL);
	assert_fails(parse_ct("multipart/mixed; boundary=XyZ", body, n), GZ_E_MEDIA_TYPE, NULL);
	assert_fails(parse_ct("multipart/form-datax; boundary=XyZ", body, n), GZ_E_MEDIA_TYPE,
	             NULL);
	assert_fails(parse_ct("multipart/form", body, n), GZ_E_MEDIA_TYPE, NULL);
	/* multipart without a usable boundary: 400 on "file" */
	assert_fails(parse_ct("multipart/form-data", body, n), GZ_E_BAD_REQUEST, "file");
	assert_fails(parse_ct("multipart/form-data; boundary=", body, n), GZ_E_BAD_REQUEST, "file");
	assert_fails(parse_ct("multipart/form-data; boundary=\"\"", body, n), GZ_E_BAD_REQUEST,
	             "file");
	assert_fails(parse_ct("multipart/form-data; boundary=\"XyZ", body, n), GZ_E_BAD_REQUEST,
	             "file");
	assert_fails(parse_ct("multipart/form-data; boundary=XyZ; boundary=XyZ", body, n),
	             GZ_E_BAD_REQUEST, "file");
	assert_fails(parse_ct("multipart/form-data; boundary=\"a\\\"b\"", body, n),
	             GZ_E_BAD_REQUEST, "file");
	assert_fails(parse_ct("multipart/form-data; boundary=\"ends in space \"", body, n),
	             GZ_E_BAD_REQUEST, "file");
	assert_fails(parse_ct("multipart/form-data; junk", body, n), GZ_E_BAD_REQUEST, "file");
	assert_fails(parse_ct("multipart/form-data x; boundary=XyZ", body, n), GZ_E_BAD_REQUEST,
	             "file");
	/* a boundary of 70 characters is the longest */
	char b70[71], ct[128], big[512];
	memset(b70, 'b', 70);
	b70[70] = 0;
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%s", b70);
	snprintf(big, sizeof(big),
	         "--%s\r\nContent-Disposition: form-data; name=file\r\n\r\nD\r\n--%s--", b70, b70);
	assert_file(parse_ct(ct, big, strlen(big)), "D", "");
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%sb", b70);
	assert_fails(parse_ct(ct, big, strlen(big)), GZ_E_BAD_REQUEST, "file");
	/* a quoted boundary may hold the characters RFC 2046 allows, space included */
	static const char sp[] = "--a b'()+_,-./:=?\r\nContent-Disposition: form-data; name=file"
	                         "\r\n\r\nX\r\n--a b'()+_,-./:=?--";
	assert_file(parse_ct("multipart/form-data; boundary=\"a b'()+_,-./:=?\"", sp, strlen(sp)),
	            "X", "");
}

/* ---- framing ---- */

static void test_framing(void **state)
{
	(void)state;
	/* preamble and epilogue are ignored; padding after a delimiter is allowed */
	assert_file(parse("preamble\r\n--XyZ  \t\r\nContent-Disposition: form-data; "
	                  "name=\"file\"\r\n\r\nDATA\r\n--XyZ--\r\nepilogue --XyZ junk"),
	            "DATA", "");
	/* no CRLF after the close delimiter */
	assert_file(parse("--XyZ\r\nContent-Disposition: form-data; name=file\r\n\r\nA\r\n--XyZ--"),
	            "A", "");
	/* content may hold CRLF, "--", the boundary without its CRLF-- prefix, and NULs */
	assert_file(part("name=file", "a\r\n--Xy\r\n-XyZ\r\nx--XyZ\r\n"),
	            "a\r\n--Xy\r\n-XyZ\r\nx--XyZ\r\n", "");
	static const char nul[] =
	    "--XyZ\r\nContent-Disposition: form-data; name=file\r\n\r\n\0\1\0\r\n--XyZ--";
	struct got g = parse_ct(CT, nul, sizeof(nul) - 1);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.dlen, 3);
	assert_memory_equal(g.data, "\0\1\0", 3);
	/* an empty file is a file (the caller refuses it) */
	assert_file(part("name=\"file\"; filename=\"e.png\"", ""), "", "e.png");
	/* other part headers are ignored, names in any case */
	assert_file(parse("--XyZ\r\ncontent-type: image/png\r\nX-Other: 1\r\n"
	                  "CONTENT-DISPOSITION: Form-Data; NAME=\"file\"\r\n\r\nB\r\n--XyZ--"),
	            "B", "");
	/* the data points into the body */
	static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=file\r\n\r\n"
	                           "PAYLOAD\r\n--XyZ--\r\n";
	g = parse(body);
	assert_int_equal(g.rc, 0);
	assert_ptr_equal(g.data, body + strlen(body) - strlen("PAYLOAD\r\n--XyZ--\r\n"));
}

static void test_malformed(void **state)
{
	(void)state;
	static const char *const bodies[] = {
	    "",
	    "no boundary at all",
	    "--XyZ",
	    "--XyZ\r\n",
	    "--XyZ\r\nContent-Disposition: form-data; name=file\r\n",
	    "--XyZ\r\nContent-Disposition: form-data; name=file\r\n\r\nDATA",
	    "--XyZ\r\nContent-Disposition: form-data; name=file\r\n\r\nDATA\r\n--XyZ",
	    "--XyZ\r\nContent-Disposition: form-data; name=file\r\n\r\nDATA\r\n--XyZ-",
	    /* bare LF line ends */
	    "--XyZ\nContent-Disposition: form-data; name=file\n\nDATA\n--XyZ--\n",
	    /* the boundary followed by other text */
	    "--XyZ\r\nContent-Disposition: form-data; name=file\r\n\r\nA\r\n--XyZW\r\n--XyZ--",
	    "--XyZx\r\nContent-Disposition: form-data; name=file\r\n\r\nA\r\n--XyZ--",
	    /* part headers */
	    "--XyZ\r\n\r\nDATA\r\n--XyZ--",
	    "--XyZ\r\nContent-Type: image/png\r\n\r\nDATA\r\n--XyZ--",
	    "--XyZ\r\nContent-Disposition: attachment; name=file\r\n\r\nD\r\n--XyZ--",
	    "--XyZ\r\nContent-Disposition: form-data\r\n\r\nD\r\n--XyZ--",
	    "--XyZ\r\nContent-Disposition: form-data; filename=a.png\r\n\r\nD\r\n--XyZ--",
	    "--XyZ\r\nContent-Disposition: form-data; name=file; name=file\r\n\r\nD\r\n--XyZ--",
	    "--XyZ\r\nContent-Disposition: form-data; name=file; filename=a; filename=b\r\n\r\n"
	    "D\r\n--XyZ--",
	    "--XyZ\r\nContent-Disposition: form-data; name=\"file\r\n\r\nD\r\n--XyZ--",
	    "--XyZ\r\nContent-Disposition: form-data; name=\r\n\r\nD\r\n--XyZ--",
	    "--XyZ\r\nContent-Disposition: form-data; =file\r\n\r\nD\r\n--XyZ--",
	    "--XyZ\r\nContent-Disposition: form-data name=file\r\n\r\nD\r\n--XyZ--",
	    "--XyZ\r\nContent-Disposition: form-data; name=file\r\nContent-Disposition: "
	    "form-data; name=file\r\n\r\nD\r\n--XyZ--",
	    "--XyZ\r\nNo colon here\r\nContent-Disposition: form-data; name=file\r\n\r\nD\r\n"
	    "--XyZ--",
	    "--XyZ\r\n: empty name\r\nContent-Disposition: form-data; "
	    "name=file\r\n\r\nD\r\n--XyZ--",
	    "--XyZ\r\nBad Name: x\r\nContent-Disposition: form-data; name=file\r\n\r\nD\r\n--XyZ--",
	    "--XyZ\r\nContent-Disposition: form-data; name=file\r\nContent-Transfer-Encoding: "
	    "base64\r\n\r\nRA==\r\n--XyZ--",
	    "--XyZ\r\nContent-Disposition: form-data; name=file\r\nContent-Transfer-Encoding: "
	    "binary x\r\n\r\nD\r\n--XyZ--",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct got g = parse(bodies[i]);
		if (g.rc != -1 || g.err.code != GZ_E_BAD_REQUEST)
			print_error("body %zu: rc %d code %s\n", i, g.rc,
			            gz_code_string(g.err.code));
		assert_fails(g, GZ_E_BAD_REQUEST, "file");
	}
	/* allowed transfer encodings */
	assert_file(parse("--XyZ\r\nContent-Disposition: form-data; name=file\r\n"
	                  "Content-Transfer-Encoding: Binary\r\n\r\nD\r\n--XyZ--"),
	            "D", "");
	assert_file(parse("--XyZ\r\nContent-Disposition: form-data; name=file\r\n"
	                  "Content-Transfer-Encoding: 8bit\r\n\r\nD\r\n--XyZ--"),
	            "D", "");
}

/* ---- the one file part ---- */

static void test_parts(void **state)
{
	(void)state;
	/* no part at all */
	assert_fails(parse("--XyZ--\r\n"), GZ_E_VALIDATION, "file");
	/* another part: unknown_field naming it */
	assert_fails(part("name=\"note\"", "hello"), GZ_E_UNKNOWN_FIELD, "note");
	assert_fails(part("name=\"File\"", "hello"), GZ_E_UNKNOWN_FIELD, "File");
	assert_fails(part("name=\"files\"; filename=\"a.png\"", "x"), GZ_E_UNKNOWN_FIELD, "files");
	assert_fails(part("name=\"\"", "x"), GZ_E_BAD_REQUEST, "file");
	/* a name that cannot stand in a reply is reported without it */
	char params[256] = "name=\"";
	memset(params + 6, 'n', 100);
	strcpy(params + 106, "\"");
	assert_fails(part(params, "x"), GZ_E_BAD_REQUEST, "file");
	assert_fails(part("name=\"\xff\"", "x"), GZ_E_BAD_REQUEST, "file");
	/* before or after the file */
	assert_fails(parse("--XyZ\r\nContent-Disposition: form-data; name=file\r\n\r\nA\r\n"
	                   "--XyZ\r\nContent-Disposition: form-data; name=other\r\n\r\nB\r\n"
	                   "--XyZ--"),
	             GZ_E_UNKNOWN_FIELD, "other");
	/* two files */
	assert_fails(parse("--XyZ\r\nContent-Disposition: form-data; name=file\r\n\r\nA\r\n"
	                   "--XyZ\r\nContent-Disposition: form-data; name=file\r\n\r\nB\r\n"
	                   "--XyZ--"),
	             GZ_E_VALIDATION, "file");
	/* a well-formed file followed by a broken part is refused */
	assert_fails(parse("--XyZ\r\nContent-Disposition: form-data; name=file\r\n\r\nA\r\n"
	                   "--XyZ\r\n\r\nB\r\n--XyZ--"),
	             GZ_E_BAD_REQUEST, "file");
}

/* ---- file names ---- */

static void test_file_names(void **state)
{
	(void)state;
	static const struct {
		const char *params, *want;
	} cases[] = {
	    {"name=file; filename=a.png", "a.png"},
	    {"name=\"file\"; filename=\"现场 照片.jpg\"", "现场 照片.jpg"},
	    {"name=file; filename=\"with \\\"quotes\\\".png\"", "with \"quotes\".png"},
	    {"name=file; filename=\"back\\\\slash.png\"", "slash.png"},
	    {"name=file; filename=\"C:\\Users\\li\\a.png\"", "a.png"},
	    {"name=file; filename=\"/etc/passwd\"", "passwd"},
	    {"name=file; filename=\"../../x.pdf\"", "x.pdf"},
	    {"name=file; filename=\"dir/\"", ""},
	    {"name=file; filename=\"..\"", ""},
	    {"name=file; filename=\".\"", ""},
	    {"name=file; filename=\"a/..\"", ""},
	    {"name=file; filename=\".hidden\"", ".hidden"},
	    {"name=file; filename=\"\"", ""},
	    {"name=file", ""},
	    {"name=file; filename=\"tab\there\"", ""},
	    {"name=file; filename=\"del\x7f\"", ""},
	    {"name=file; filename=\"\xc2\x85next-line\"", ""},
	    {"name=file; filename=\"gpj.\xe2\x80\xae"
	     "exe\"",
	     ""},
	    {"name=file; filename=\"bad\xff.png\"", ""},
	    {"name=file; filename=\"over\xc0\xaf.png\"", ""},
	    /* filename* (RFC 8187) wins when usable */
	    {"name=file; filename=\"a.png\"; filename*=UTF-8''%E5%9B%BE%20x.png", "图 x.png"},
	    {"name=file; filename*=utf-8'zh'%E5%9B%BE.png; filename=\"a.png\"", "图.png"},
	    {"name=file; filename=\"a.png\"; filename*=ISO-8859-1''%E9.png", "a.png"},
	    {"name=file; filename=\"a.png\"; filename*=UTF-8''%E9.png", "a.png"},
	    {"name=file; filename=\"a.png\"; filename*=UTF-8''%zz.png", "a.png"},
	    {"name=file; filename=\"a.png\"; filename*=UTF-8''x%00.png", "a.png"},
	    {"name=file; filename=\"a.png\"; filename*=UTF-8''..%2F..%2Fb.png", "b.png"},
	    {"name=file; filename*=UTF-8'no-second-quote", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct got g = part(cases[i].params, "D");
		if (g.rc || strcmp(g.name, cases[i].want))
			print_error("case %zu: rc %d name '%s' (%s)\n", i, g.rc, g.name,
			            g.err.message);
		assert_file(g, "D", cases[i].want);
	}
	/* 100 characters are kept, 101 are not; length counts characters, not bytes */
	char params[1024], want[512];
	strcpy(params, "name=file; filename=\"");
	want[0] = 0;
	for (int k = 0; k < 100; k++)
		strcat(want, "图");
	strcat(params, want);
	strcat(params, "\"");
	assert_file(part(params, "D"), "D", want);
	params[strlen(params) - 1] = 0;
	strcat(params, "x\"");
	assert_file(part(params, "D"), "D", "");
	/* a file name longer than the caller's buffer is dropped, not cut */
	struct got g;
	memset(&g, 0, sizeof(g));
	static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=file; "
	                           "filename=\"abcdefgh.png\"\r\n\r\nD\r\n--XyZ--";
	char small[8] = "junk";
	g.rc = gz_multipart_file(CT, body, strlen(body), &g.data, &g.dlen, small, sizeof(small),
	                         &g.err);
	assert_int_equal(g.rc, 0);
	assert_string_equal(small, "");
	/* a very long raw path keeps nothing */
	static char longp[3000];
	strcpy(longp, "name=file; filename=\"");
	for (int k = 0; k < 1100; k++)
		strcat(longp, "d/");
	strcat(longp, "a.png\"");
	assert_file(part(longp, "D"), "D", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_content_type), cmocka_unit_test(test_framing),
	    cmocka_unit_test(test_malformed),    cmocka_unit_test(test_parts),
	    cmocka_unit_test(test_file_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
