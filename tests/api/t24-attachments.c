/* t24-attachments.c - attachments of work orders: POST, list and download of
 * /api/v1/work-orders/{id}/attachments[/{aid}].  One server with the demo district and
 * an upload limit of 64 KiB (GONGZHI_UPLOAD_LIMIT), so that the 413 is cheap to reach.
 * Orders are filed here by community staff of 沙柳北路社区 (shequ); each test uploads
 * bytes of its own (a tag after the image data) so content-addressing is observable. */
#include "harness.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct srv S;
static struct fixture fx;

enum { ADMIN, SHEQU, SHEQU2, JUMIN, NUSERS };
static const char *const usernames[NUSERS] = {"admin", "shequ", "shequ2", "jumin"};
static const char *tok[NUSERS];
static int64_t u_shaliu;

#define BOUNDARY "gz-t24-7MA4YWxkTrZu0gW"
#define MP_TYPE "Content-Type: multipart/form-data; boundary=" BOUNDARY

/* a 1x1 transparent PNG */
static const unsigned char png1[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
    0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0x60, 0x00, 0x02, 0x00, 0x00, 0x05, 0x00, 0x01, 0x7a, 0x5e, 0xab, 0x3f,
    0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

/* the start of a JFIF JPEG, a tiny PDF, GIF and WebP headers */
static const unsigned char jpeg1[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J',  'F',
                                      'I',  'F',  0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
                                      0x00, 0x01, 0x00, 0x00, 0xff, 0xd9};
static const char pdf1[] = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                           "2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
                           "trailer<</Root 1 0 R>>\n%%EOF\n";
static const char gif1[] = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";
static const char webp1[] = "RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10";

struct bytes {
	char *p;
	size_t n;
};

/* data followed by a tag that makes the content unique (after the image's end) */
static struct bytes tagged(const void *data, size_t n, const char *tag)
{
	struct bytes b;
	size_t t = tag ? strlen(tag) : 0;
	b.n = n + t;
	b.p = malloc(b.n + 1);
	memcpy(b.p, data, n);
	if (t)
		memcpy(b.p + n, tag, t);
	b.p[b.n] = 0;
	return b;
}

static void add(struct bytes *b, const void *p, size_t n)
{
	b->p = realloc(b->p, b->n + n + 1);
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = 0;
}

static void adds(struct bytes *b, const char *s)
{
	add(b, s, strlen(s));
}

/* A multipart body with one part: disposition parameters as given (e.g.
 * "name=\"file\"; filename=\"a.png\""), an optional part Content-Type, the bytes. */
static struct bytes multipart(const char *params, const char *ptype, const void *data, size_t n)
{
	struct bytes b = {NULL, 0};
	adds(&b, "--" BOUNDARY "\r\nContent-Disposition: form-data; ");
	adds(&b, params);
	adds(&b, "\r\n");
	if (ptype) {
		adds(&b, "Content-Type: ");
		adds(&b, ptype);
		adds(&b, "\r\n");
	}
	adds(&b, "\r\n");
	add(&b, data, n);
	adds(&b, "\r\n--" BOUNDARY "--\r\n");
	return b;
}

static struct resp *post_raw(int who, int64_t order, const char *body, size_t n,
                             const char *headers)
{
	char path[128];
	snprintf(path, sizeof(path), "/api/v1/work-orders/%lld/attachments", (long long)order);
	return api_len(&S, "POST", path, who < 0 ? NULL : tok[who], body, n, headers);
}

static struct resp *upload(int who, int64_t order, const char *params, const char *ptype,
                           const void *data, size_t n)
{
	struct bytes b = multipart(params, ptype, data, n);
	struct resp *r = post_raw(who, order, b.p, b.n, MP_TYPE);
	free(b.p);
	return r;
}

static struct resp *get_att(int who, int64_t order, int64_t aid)
{
	return apif(&S, "GET", who < 0 ? NULL : tok[who], NULL,
	            "/api/v1/work-orders/%lld/attachments/%lld", (long long)order, (long long)aid);
}

/* Files a work order as shequ; returns its id. */
static int64_t new_order(const char *title)
{
	json_t *b = json_pack("{s:s,s:s,s:s,s:s,s:I}", "title", title, "description",
	                      "楼道堆放杂物，影响通行", "category_code", "010301", "channel",
	                      "walk_in", "unit_id", (json_int_t)u_shaliu);
	char *text = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	struct resp *r = api(&S, "POST", "/api/v1/work-orders", tok[SHEQU], text, NULL);
	free(text);
	assert_status(r, 201);
	int64_t id = jint(r->json, "id");
	assert_true(id > 0);
	resp_free(r);
	return id;
}

/* sha256 of the bytes by the system's sha256sum, into out (65 bytes) */
static void sha256_of(const void *p, size_t n, char *out)
{
	char path[400], cmd[500];
	snprintf(path, sizeof(path), "%s/sha-input", S.dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	FILE *pp = popen(cmd, "r");
	assert_non_null(pp);
	assert_non_null(fgets(cmd, sizeof(cmd), pp));
	pclose(pp);
	memcpy(out, cmd, 64);
	out[64] = 0;
	unlink(path);
}

/* Entries of DATA/attachments/ab/cd that belong to sha (the file and any temp file). */
static int stored_copies(const char *sha, bool *has_file)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/attachments/%.2s/%.2s", S.data, sha, sha + 2);
	DIR *d = opendir(dir);
	*has_file = false;
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, sha) == 0)
			*has_file = true;
		if (strstr(e->d_name, sha))
			n++;
	}
	closedir(d);
	return n;
}

static int setup(void **state)
{
	(void)state;
	static const char *const env[] = {"GONGZHI_UPLOAD_LIMIT=65536", NULL};
	if (fixture_start(&fx, &S, env))
		return -1;
	for (int i = 0; i < NUSERS; i++)
		tok[i] = fx_token(&fx, usernames[i]);
	u_shaliu = fx.u_shaliu;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	int rc = fixture_stop(&fx);
	assert_int_equal(rc, 0);
	return 0;
}

/* ---- tests ---- */

static void att_unauthenticated(void **state)
{
	(void)state;
	int64_t o = new_order("附件：未登录");
	struct resp *r =
	    upload(-1, o, "name=\"file\"; filename=\"a.png\"", "image/png", png1, sizeof(png1));
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = apif(&S, "GET", NULL, NULL, "/api/v1/work-orders/%lld/attachments", (long long)o);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
	r = get_att(-1, o, 1);
	assert_error(r, 401, "unauthenticated", NULL);
	resp_free(r);
}

static void att_upload_png(void **state)
{
	(void)state;
	int64_t o = new_order("附件：现场照片");
	struct bytes png = tagged(png1, sizeof(png1), "upload_png");
	struct resp *r =
	    upload(SHEQU, o, "name=\"file\"; filename=\"现场照片.png\"", "image/png", png.p, png.n);
	assert_status(r, 201);
	int64_t aid = jint(r->json, "id");
	assert_true(aid > 0);
	assert_int_equal(jint(r->json, "work_order_id"), o);
	assert_string_equal(jstr(r->json, "content_type"), "image/png");
	assert_int_equal(jint(r->json, "size"), (int64_t)png.n);
	assert_string_equal(jstr(r->json, "filename"), "现场照片.png");
	char sha[65];
	sha256_of(png.p, png.n, sha);
	assert_string_equal(jstr(r->json, "sha256"), sha);
	assert_true(contains(jstr(r->json, "created_at"), "+08:00"));
	char url[128];
	snprintf(url, sizeof(url), "/api/v1/work-orders/%lld/attachments/%lld", (long long)o,
	         (long long)aid);
	assert_string_equal(jstr(r->json, "url"), url);
	assert_non_null(resp_header(r, "Location"));
	assert_string_equal(resp_header(r, "Location"), url);
	resp_free(r);

	/* the stored file is the bytes, under its hash */
	bool has_file;
	assert_int_equal(stored_copies(sha, &has_file), 1);
	assert_true(has_file);

	/* download: identical bytes, the stored type, inline with the name */
	r = get_att(SHEQU, o, aid);
	assert_status(r, 200);
	assert_int_equal(r->len, png.n);
	assert_memory_equal(r->body, png.p, png.n);
	assert_string_equal(resp_header(r, "Content-Type"), "image/png");
	assert_string_equal(resp_header(r, "X-Content-Type-Options"), "nosniff");
	assert_string_equal(resp_header(r, "Content-Disposition"),
	                    "inline; filename*=UTF-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.png");
	assert_true(contains(r->headers, "Cache-Control: private, max-age=3600"));
	resp_free(r);

	/* HEAD answers the same headers without the body */
	r = api(&S, "HEAD", url, tok[SHEQU], NULL, NULL);
	assert_status(r, 200);
	assert_int_equal(r->len, 0);
	assert_string_equal(resp_header(r, "Content-Type"), "image/png");
	resp_free(r);

	/* the list and the order's detail show it */
	r = apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/work-orders/%lld/attachments", (long long)o);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 1);
	assert_int_equal(jint(r->json, "items.0.id"), aid);
	assert_string_equal(jstr(r->json, "items.0.sha256"), sha);
	assert_string_equal(jstr(r->json, "items.0.filename"), "现场照片.png");
	assert_string_equal(jstr(r->json, "items.0.url"), url);
	resp_free(r);
	r = apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/work-orders/%lld", (long long)o);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "attachments.0.id"), aid);
	assert_string_equal(jstr(r->json, "attachments.0.url"), url);

	/* the timeline gained an 'attach' event */
	json_t *ev = NULL, *e;
	size_t i;
	json_array_foreach(jpath(r->json, "timeline"), i, e)
	{
		if (strcmp(jstr(e, "action"), "attach") == 0)
			ev = e;
	}
	assert_non_null(ev);
	assert_string_equal(jstr(ev, "from_status"), "new");
	assert_true(json_is_null(jpath(ev, "to_status")));
	assert_true(json_is_null(jpath(ev, "note")));
	assert_int_equal(jint(ev, "data.attachment_id"), aid);
	assert_string_equal(jstr(ev, "data.filename"), "现场照片.png");
	assert_string_equal(jstr(ev, "data.content_type"), "image/png");
	assert_int_equal(jint(ev, "data.size"), (int64_t)png.n);
	assert_true(jint(ev, "actor.id") > 0);
	resp_free(r);
	free(png.p);
}

static void att_other_types(void **state)
{
	(void)state;
	int64_t o = new_order("附件：多种类型");
	static const struct {
		const void *data;
		size_t n;
		const char *name, *type, *ext;
	} cases[] = {
	    {jpeg1, sizeof(jpeg1), "photo.jpg", "image/jpeg", "jpg"},
	    {pdf1, sizeof(pdf1) - 1, "情况说明.pdf", "application/pdf", "pdf"},
	    {gif1, sizeof(gif1) - 1, "a.gif", "image/gif", "gif"},
	    {webp1, sizeof(webp1) - 1, "a.webp", "image/webp", "webp"},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct bytes b = tagged(cases[k].data, cases[k].n, "other_types");
		char params[128];
		snprintf(params, sizeof(params), "name=\"file\"; filename=\"%s\"", cases[k].name);
		struct resp *r = upload(SHEQU, o, params, "application/octet-stream", b.p, b.n);
		assert_status(r, 201);
		assert_string_equal(jstr(r->json, "content_type"), cases[k].type);
		int64_t aid = jint(r->json, "id");
		resp_free(r);
		r = get_att(SHEQU, o, aid);
		assert_status(r, 200);
		assert_string_equal(resp_header(r, "Content-Type"), cases[k].type);
		assert_int_equal(r->len, b.n);
		assert_memory_equal(r->body, b.p, b.n);
		resp_free(r);
		free(b.p);
	}
	struct resp *r =
	    apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/work-orders/%lld/attachments", (long long)o);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 4);
	resp_free(r);
}

static void att_type_by_content(void **state)
{
	(void)state;
	int64_t o = new_order("附件：按内容判断类型");
	/* a text file named .png and declared image/png */
	static const char text[] = "this is not an image, whatever its name says\n";
	struct resp *r = upload(SHEQU, o, "name=\"file\"; filename=\"fake.png\"", "image/png", text,
	                        sizeof(text) - 1);
	assert_error(r, 415, "unsupported_media_type", "file");
	const char *msg = jstr(r->json, "error.message");
	assert_true(contains(msg, "image/jpeg") && contains(msg, "image/png") &&
	            contains(msg, "image/gif") && contains(msg, "image/webp") &&
	            contains(msg, "application/pdf"));
	resp_free(r);
	/* an SVG (XML that browsers run scripts in) is not accepted either */
	static const char svg[] = "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)"
	                          "</script></svg>";
	r = upload(SHEQU, o, "name=\"file\"; filename=\"x.svg\"", "image/svg+xml", svg,
	           sizeof(svg) - 1);
	assert_error(r, 415, "unsupported_media_type", "file");
	resp_free(r);
	/* a PNG declared as a PDF and named .pdf is stored and served as a PNG */
	struct bytes png = tagged(png1, sizeof(png1), "declared_pdf");
	r = upload(SHEQU, o, "name=\"file\"; filename=\"report.pdf\"", "application/pdf", png.p,
	           png.n);
	assert_status(r, 201);
	assert_string_equal(jstr(r->json, "content_type"), "image/png");
	assert_string_equal(jstr(r->json, "filename"), "report.png"); /* named by its type */
	int64_t aid = jint(r->json, "id");
	resp_free(r);
	r = get_att(SHEQU, o, aid);
	assert_status(r, 200);
	assert_string_equal(resp_header(r, "Content-Type"), "image/png");
	assert_string_equal(resp_header(r, "Content-Disposition"),
	                    "inline; filename*=UTF-8''report.png");
	resp_free(r);
	free(png.p);
	/* only the "text" was refused: one attachment */
	r = apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/work-orders/%lld/attachments", (long long)o);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 1);
	resp_free(r);
}

/* The stored name carries the extension of the detected type, whatever the client
 * called the file; the download's Content-Type and Content-Disposition follow. */
static void att_name_follows_type(void **state)
{
	(void)state;
	int64_t o = new_order("附件：文件名随类型");
	static const struct {
		const void *data;
		size_t n;
		const char *name, *stored, *type;
	} cases[] = {
	    {png1, sizeof(png1), "report.pdf", "report.png", "image/png"},
	    {png1, sizeof(png1), "noext", "noext.png", "image/png"},
	    {png1, sizeof(png1), "a.b.html", "a.b.png", "image/png"},
	    {png1, sizeof(png1), "photo.", "photo.png", "image/png"},
	    {png1, sizeof(png1), "PHOTO.PNG", "PHOTO.PNG", "image/png"},
	    {jpeg1, sizeof(jpeg1), "IMG_1.JPG", "IMG_1.JPG", "image/jpeg"},
	    {jpeg1, sizeof(jpeg1), "img.jpeg", "img.jpeg", "image/jpeg"},
	    {jpeg1, sizeof(jpeg1), "img.png", "img.jpg", "image/jpeg"},
	    {jpeg1, sizeof(jpeg1), ".png", ".png.jpg", "image/jpeg"},
	    {pdf1, sizeof(pdf1) - 1, "scan.exe", "scan.pdf", "application/pdf"},
	    {pdf1, sizeof(pdf1) - 1, "现场.jpg", "现场.pdf", "application/pdf"},
	    {gif1, sizeof(gif1) - 1, "anim.svg", "anim.gif", "image/gif"},
	    {webp1, sizeof(webp1) - 1, "pic.html", "pic.webp", "image/webp"},
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	int64_t ids[16];
	for (size_t k = 0; k < n; k++) {
		char tag[32];
		snprintf(tag, sizeof(tag), "name_type_%zu", k);
		struct bytes b = tagged(cases[k].data, cases[k].n, tag);
		char params[128];
		snprintf(params, sizeof(params), "name=\"file\"; filename=\"%s\"", cases[k].name);
		struct resp *r = upload(SHEQU, o, params, "application/octet-stream", b.p, b.n);
		assert_status(r, 201);
		if (strcmp(jstr(r->json, "filename"), cases[k].stored))
			print_error("%s -> %s\n", cases[k].name, jstr(r->json, "filename"));
		assert_string_equal(jstr(r->json, "filename"), cases[k].stored);
		assert_string_equal(jstr(r->json, "content_type"), cases[k].type);
		ids[k] = jint(r->json, "id");
		resp_free(r);
		r = get_att(SHEQU, o, ids[k]);
		assert_status(r, 200);
		assert_string_equal(resp_header(r, "Content-Type"), cases[k].type);
		const char *cd = resp_header(r, "Content-Disposition");
		assert_non_null(cd);
		const char *ext = strrchr(cases[k].stored, '.');
		/* the served name ends in the stored name's extension, %-encoded as needed */
		assert_true(strlen(cd) > strlen(ext));
		assert_string_equal(cd + strlen(cd) - strlen(ext), ext);
		assert_true(contains(cd, "inline; filename*=UTF-8''"));
		resp_free(r);
		free(b.p);
	}
	/* the list shows the stored names */
	struct resp *r =
	    apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/work-orders/%lld/attachments", (long long)o);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), n);
	for (size_t k = 0; k < n; k++) {
		char path[32];
		snprintf(path, sizeof(path), "items.%zu.filename", k);
		assert_string_equal(jstr(r->json, path), cases[k].stored);
		snprintf(path, sizeof(path), "items.%zu.id", k);
		assert_int_equal(jint(r->json, path), ids[k]);
	}
	resp_free(r);
	r = get_att(SHEQU, o, ids[10]);
	assert_string_equal(resp_header(r, "Content-Disposition"),
	                    "inline; filename*=UTF-8''%E7%8E%B0%E5%9C%BA.pdf");
	resp_free(r);
}

static void att_same_content_once(void **state)
{
	(void)state;
	int64_t o1 = new_order("附件：相同内容一"), o2 = new_order("附件：相同内容二");
	struct bytes png = tagged(png1, sizeof(png1), "same_content");
	struct resp *a =
	    upload(SHEQU, o1, "name=\"file\"; filename=\"one.png\"", NULL, png.p, png.n);
	struct resp *b =
	    upload(SHEQU, o1, "name=\"file\"; filename=\"two.png\"", NULL, png.p, png.n);
	struct resp *c =
	    upload(SHEQU, o2, "name=\"file\"; filename=\"three.png\"", NULL, png.p, png.n);
	assert_status(a, 201);
	assert_status(b, 201);
	assert_status(c, 201);
	assert_string_equal(jstr(a->json, "sha256"), jstr(b->json, "sha256"));
	assert_string_equal(jstr(a->json, "sha256"), jstr(c->json, "sha256"));
	assert_true(jint(a->json, "id") != jint(b->json, "id"));
	assert_string_equal(jstr(b->json, "filename"), "two.png");
	bool has_file;
	assert_int_equal(stored_copies(jstr(a->json, "sha256"), &has_file), 1);
	assert_true(has_file);
	/* each row serves the bytes */
	struct resp *d = get_att(SHEQU, o2, jint(c->json, "id"));
	assert_status(d, 200);
	assert_int_equal(d->len, png.n);
	assert_memory_equal(d->body, png.p, png.n);
	resp_free(a);
	resp_free(b);
	resp_free(c);
	resp_free(d);
	free(png.p);
}

static void att_bad_requests(void **state)
{
	(void)state;
	int64_t o = new_order("附件：错误请求");
	struct bytes png = tagged(png1, sizeof(png1), "bad_requests");
	struct bytes mp = multipart("name=\"file\"; filename=\"a.png\"", NULL, png.p, png.n);
	/* wrong or missing request content type */
	struct resp *r = post_raw(SHEQU, o, mp.p, mp.n, "Content-Type: image/png");
	assert_error(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	r = post_raw(SHEQU, o, "{\"file\":\"x\"}", 12, NULL); /* application/json */
	assert_error(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	r = post_raw(SHEQU, o, mp.p, mp.n, "Content-Type:");
	assert_error(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	r = post_raw(SHEQU, o, mp.p, mp.n, "Content-Type: multipart/mixed; boundary=" BOUNDARY);
	assert_error(r, 415, "unsupported_media_type", NULL);
	resp_free(r);
	/* multipart without a boundary, or with another one than the body's */
	r = post_raw(SHEQU, o, mp.p, mp.n, "Content-Type: multipart/form-data");
	assert_error(r, 400, "bad_request", "file");
	resp_free(r);
	r = post_raw(SHEQU, o, mp.p, mp.n, "Content-Type: multipart/form-data; boundary=other");
	assert_error(r, 400, "bad_request", "file");
	resp_free(r);
	/* a body cut short */
	r = post_raw(SHEQU, o, mp.p, mp.n - 10, MP_TYPE);
	assert_error(r, 400, "bad_request", "file");
	resp_free(r);
	/* no body at all */
	r = post_raw(SHEQU, o, "", 0, MP_TYPE);
	assert_error(r, 400, "bad_request", "file");
	resp_free(r);
	/* no parts: no file */
	static const char none[] = "--" BOUNDARY "--\r\n";
	r = post_raw(SHEQU, o, none, sizeof(none) - 1, MP_TYPE);
	assert_error(r, 400, "validation_failed", "file");
	resp_free(r);
	/* a part with another name instead of the file */
	r = upload(SHEQU, o, "name=\"photo\"; filename=\"a.png\"", NULL, png.p, png.n);
	assert_error(r, 400, "unknown_field", "photo");
	resp_free(r);
	/* a part without form-data disposition */
	static const char nodisp[] = "--" BOUNDARY "\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n"
	                             "\x1a\n\r\n--" BOUNDARY "--\r\n";
	r = post_raw(SHEQU, o, nodisp, sizeof(nodisp) - 1, MP_TYPE);
	assert_error(r, 400, "bad_request", "file");
	resp_free(r);
	/* two files */
	struct bytes two = {NULL, 0};
	add(&two, mp.p, mp.n - strlen("--\r\n"));
	adds(&two, "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.png\"\r\n\r\n");
	add(&two, png.p, png.n);
	adds(&two, "\r\n--" BOUNDARY "--\r\n");
	r = post_raw(SHEQU, o, two.p, two.n, MP_TYPE);
	assert_error(r, 400, "validation_failed", "file");
	resp_free(r);
	free(two.p);
	/* an empty file */
	r = upload(SHEQU, o, "name=\"file\"; filename=\"empty.png\"", "image/png", "", 0);
	assert_error(r, 400, "validation_failed", "file");
	resp_free(r);
	/* a query parameter the route does not take */
	r = apihf(&S, "POST", tok[SHEQU], NULL, MP_TYPE, "/api/v1/work-orders/%lld/attachments?x=1",
	          (long long)o);
	assert_error(r, 400, "unknown_field", "x");
	resp_free(r);
	/* nothing was stored */
	r = apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/work-orders/%lld/attachments", (long long)o);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 0);
	resp_free(r);
	/* the multipart as sent by browsers and curl works on the same order */
	r = post_raw(SHEQU, o, mp.p, mp.n, MP_TYPE);
	assert_status(r, 201);
	resp_free(r);
	free(mp.p);
	free(png.p);
}

static void att_file_names(void **state)
{
	(void)state;
	int64_t o = new_order("附件：文件名");
	static const struct {
		const char *params;
		const char *want; /* NULL: no name */
	} cases[] = {
	    {"name=\"file\"; filename=\"C:\\Users\\li\\Desktop\\现场.png\"", "现场.png"},
	    {"name=\"file\"; filename=\"../../etc/passwd.png\"", "passwd.png"},
	    {"name=\"file\"; filename=\"dir/\"", NULL},
	    {"name=\"file\"; filename=\"a\tb.png\"", NULL},
	    {"name=\"file\"", NULL},
	    {"name=\"file\"; filename=\"\"", NULL},
	    {"name=\"file\"; filename=\"plain.png\"; filename*=UTF-8''%E5%9B%BE.png", "图.png"},
	    {"name=\"file\"; filename=\"\xff\xfe.png\"", NULL},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char tag[32];
		snprintf(tag, sizeof(tag), "names%zu", k);
		struct bytes png = tagged(png1, sizeof(png1), tag);
		struct resp *r = upload(SHEQU, o, cases[k].params, NULL, png.p, png.n);
		assert_status(r, 201);
		if (cases[k].want)
			assert_string_equal(jstr(r->json, "filename"), cases[k].want);
		else
			assert_true(json_is_null(jpath(r->json, "filename")));
		int64_t aid = jint(r->json, "id");
		resp_free(r);
		free(png.p);
		if (cases[k].want)
			continue;
		/* a download without a stored name gets one made of the id */
		r = get_att(SHEQU, o, aid);
		assert_status(r, 200);
		char want[96];
		snprintf(want, sizeof(want), "inline; filename*=UTF-8''attachment-%lld.png",
		         (long long)aid);
		assert_string_equal(resp_header(r, "Content-Disposition"), want);
		resp_free(r);
	}
	/* 100 characters are kept, 101 are not */
	char name[512] = "name=\"file\"; filename=\"";
	for (int k = 0; k < 96; k++)
		strcat(name, "图");
	strcat(name, ".png\"");
	struct bytes png = tagged(png1, sizeof(png1), "names100");
	struct resp *r = upload(SHEQU, o, name, NULL, png.p, png.n);
	assert_status(r, 201);
	assert_int_equal(strlen(jstr(r->json, "filename")), 96 * 3 + 4);
	resp_free(r);
	free(png.p);
	name[strlen(name) - 5] = 0;
	strcat(name, "x.png\"");
	png = tagged(png1, sizeof(png1), "names101");
	r = upload(SHEQU, o, name, NULL, png.p, png.n);
	assert_status(r, 201);
	assert_true(json_is_null(jpath(r->json, "filename")));
	resp_free(r);
	free(png.p);
}

static void att_too_large(void **state)
{
	(void)state;
	int64_t o = new_order("附件：过大");
	/* just under the limit (64 KiB with the multipart framing) works */
	size_t n = 60000;
	char *big = calloc(1, n);
	memcpy(big, png1, sizeof(png1));
	struct resp *r = upload(SHEQU, o, "name=\"file\"; filename=\"big.png\"", NULL, big, n);
	assert_status(r, 201);
	assert_int_equal(jint(r->json, "size"), (int64_t)n);
	resp_free(r);
	free(big);
	/* over it: 413 before the body is read */
	n = 70000;
	big = calloc(1, n);
	memcpy(big, png1, sizeof(png1));
	big[n - 1] = 1;
	r = upload(SHEQU, o, "name=\"file\"; filename=\"huge.png\"", NULL, big, n);
	assert_error(r, 413, "payload_too_large", NULL);
	resp_free(r);
	/* and a chunked body that grows past it */
	struct bytes mp = multipart("name=\"file\"; filename=\"huge.png\"", NULL, big, n);
	r = post_raw(SHEQU, o, mp.p, mp.n, MP_TYPE "\nTransfer-Encoding: chunked");
	assert_error(r, 413, "payload_too_large", NULL);
	resp_free(r);
	free(mp.p);
	free(big);
	r = apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/work-orders/%lld/attachments", (long long)o);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 1);
	resp_free(r);
}

static void att_scope(void **state)
{
	(void)state;
	int64_t o = new_order("附件：可见范围"), o2 = new_order("附件：另一工单");
	struct bytes png = tagged(png1, sizeof(png1), "scope");
	struct resp *r = upload(SHEQU, o, "name=\"file\"; filename=\"s.png\"", NULL, png.p, png.n);
	assert_status(r, 201);
	int64_t aid = jint(r->json, "id");
	resp_free(r);
	/* another community's staff and a resident who did not file it see nothing */
	int who[] = {SHEQU2, JUMIN};
	for (size_t k = 0; k < 2; k++) {
		r = upload(who[k], o, "name=\"file\"; filename=\"x.png\"", NULL, png.p, png.n);
		assert_error(r, 404, "not_found", NULL);
		resp_free(r);
		r = apif(&S, "GET", tok[who[k]], NULL, "/api/v1/work-orders/%lld/attachments",
		         (long long)o);
		assert_error(r, 404, "not_found", NULL);
		resp_free(r);
		r = get_att(who[k], o, aid);
		assert_error(r, 404, "not_found", NULL);
		resp_free(r);
	}
	/* an attachment is only found through its own order */
	r = get_att(SHEQU, o2, aid);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = get_att(SHEQU, o, aid + 100000);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/work-orders/%lld/attachments/abc",
	         (long long)o);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	r = upload(SHEQU, 99999999, "name=\"file\"; filename=\"x.png\"", NULL, png.p, png.n);
	assert_error(r, 404, "not_found", NULL);
	resp_free(r);
	/* the district admin sees it */
	r = get_att(ADMIN, o, aid);
	assert_status(r, 200);
	assert_int_equal(r->len, png.n);
	resp_free(r);
	free(png.p);
	/* only GET and POST */
	r = apif(&S, "DELETE", tok[SHEQU], NULL, "/api/v1/work-orders/%lld/attachments/%lld",
	         (long long)o, (long long)aid);
	assert_error(r, 405, "method_not_allowed", NULL);
	resp_free(r);
}

static void att_idempotency(void **state)
{
	(void)state;
	int64_t o = new_order("附件：幂等");
	struct bytes png = tagged(png1, sizeof(png1), "idempotency");
	struct bytes mp = multipart("name=\"file\"; filename=\"i.png\"", NULL, png.p, png.n);
	const char *h = MP_TYPE "\nIdempotency-Key: t24-attach-1";
	struct resp *a = post_raw(SHEQU, o, mp.p, mp.n, h);
	struct resp *b = post_raw(SHEQU, o, mp.p, mp.n, h);
	assert_status(a, 201);
	assert_status(b, 201);
	assert_int_equal(jint(a->json, "id"), jint(b->json, "id"));
	assert_non_null(resp_header(b, "Idempotent-Replayed"));
	assert_string_equal(resp_header(b, "Location"), jstr(a->json, "url"));
	resp_free(a);
	resp_free(b);
	struct resp *r =
	    apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/work-orders/%lld/attachments", (long long)o);
	assert_int_equal(json_array_size(jpath(r->json, "items")), 1);
	resp_free(r);
	free(mp.p);
	free(png.p);
}

/* No partial details: when any part of an order's detail (the timeline page, the
 * handler, the co-handlers, the attachments: the entity's child lists) fails to load,
 * GET /work-orders/{id} answers 500, never a 200 with the part missing.  Each part's
 * statement is made to fail in turn by the SQLite fault hook (GONGZHI_TEST_FAULT), the
 * server restarted for each; SQLite test builds only.  The detail an action answers is
 * read after its commit: its failure leaves the action done. */
static void att_detail_all_or_nothing(void **state)
{
	(void)state;
	if (harness_pg())
		skip(); /* the fault hook is SQLite's (db_sqlite.c) */
	int64_t o = new_order("附件：详情不缺项");
	struct bytes png = tagged(png1, sizeof png1, "detail-all-or-nothing");
	struct resp *r = upload(SHEQU, o, "name=\"file\"; filename=\"a.png\"", NULL, png.p, png.n);
	free(png.p);
	assert_status(r, 201);
	resp_free(r);
	int64_t org = fx.o_hongrun;
	r = apif(&S, "POST", tok[SHEQU],
	         F("{\"action\":\"escalate\",\"co_handler_org_ids\":[%lld]}", (long long)org),
	         "/api/v1/work-orders/%lld/actions", (long long)o);
	assert_status(r, 200);
	assert_int_equal(json_array_size(jpath(r->json, "handlers")), 1);
	assert_int_equal(json_array_size(jpath(r->json, "attachments")), 1);
	resp_free(r);
	static const char *const parts[] = {
	    "internal FROM work_order_events WHERE", /* the timeline page */
	    "FROM work_orders c WHERE",              /* the handler */
	    "FROM work_order_handlers c WHERE",      /* the co-handlers */
	    "FROM work_order_attachments c WHERE",   /* the attachments */
	};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		const char *env[] = {"GONGZHI_UPLOAD_LIMIT=65536",
		                     F("GONGZHI_TEST_FAULT=%s:ioerr:1", parts[i]), NULL};
		assert_int_equal(srv_restart(&S, env), 0);
		r = apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/work-orders/%lld", (long long)o);
		if (!srv_log_has(&S, "test fault armed", NULL)) {
			resp_free(r);
			skip(); /* a build without test hooks */
		}
		if (r->status != 500)
			print_error("%s: %ld %.300s\n", parts[i], r->status, r->body);
		assert_error(r, 500, "internal", NULL);
		resp_free(r);
		assert_true(srv_log_has(&S, "test fault fires", parts[i]));
	}
	/* an action's reply is the detail read after the commit, off the writer: when
	 * that read fails the action is still done and answers 200 with the order's id */
	const char *env_tl[] = {"GONGZHI_UPLOAD_LIMIT=65536",
	                        F("GONGZHI_TEST_FAULT=%s:ioerr:1", parts[0]), NULL};
	assert_int_equal(srv_restart(&S, env_tl), 0);
	r = apif(&S, "POST", tok[SHEQU], "{\"action\":\"comment\",\"note\":\"回复在提交之后读\"}",
	         "/api/v1/work-orders/%lld/actions", (long long)o);
	assert_status(r, 200);
	assert_int_equal(jint(r->json, "id"), o);
	assert_null(jpath(r->json, "timeline"));
	resp_free(r);
	const char *env[] = {"GONGZHI_UPLOAD_LIMIT=65536", "GONGZHI_TEST_FAULT", NULL};
	assert_int_equal(srv_restart(&S, env), 0);
	r = apif(&S, "GET", tok[SHEQU], NULL, "/api/v1/work-orders/%lld", (long long)o);
	assert_status(r, 200);
	json_t *tl = jpath(r->json, "timeline"); /* oldest first: the comment is last */
	assert_true(json_array_size(tl) > 0);
	assert_string_equal(jstr(json_array_get(tl, json_array_size(tl) - 1), "note"),
	                    "回复在提交之后读");
	assert_string_equal(jstr(r->json, "handlers.0.role"), "co_handler");
	assert_int_equal(jint(r->json, "handlers.0.org_id"), org);
	assert_int_equal(json_array_size(jpath(r->json, "attachments")), 1);
	assert_true(json_array_size(jpath(r->json, "timeline")) >= 3);
	resp_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(att_unauthenticated),   cmocka_unit_test(att_upload_png),
	    cmocka_unit_test(att_other_types),       cmocka_unit_test(att_type_by_content),
	    cmocka_unit_test(att_name_follows_type), cmocka_unit_test(att_same_content_once),
	    cmocka_unit_test(att_bad_requests),      cmocka_unit_test(att_file_names),
	    cmocka_unit_test(att_too_large),         cmocka_unit_test(att_scope),
	    cmocka_unit_test(att_idempotency),       cmocka_unit_test(att_detail_all_or_nothing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
