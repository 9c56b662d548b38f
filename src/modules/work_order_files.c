/* work_order_files.c - attachments of work orders: upload, list and download.
 *
 * An upload is one multipart part named "file" (parsed by http/multipart.c).  Its
 * type is decided by the first bytes alone (JPEG, PNG, GIF, WebP, PDF), never by the
 * declared type or the name.  The bytes are stored content-addressed under
 * DATA_DIR/attachments/ab/cd/<sha256>: written to a temporary file, synced and
 * renamed into place, so a file is either whole or absent and identical content is
 * stored once.  The file is stored before the row is written; a failed write leaves
 * at worst an unreferenced file, never a row without its bytes.  The row, a timeline
 * event ('attach') and an audit entry are written together in one group-commit write.
 *
 * Every route needs work_orders.read and an order the account can see
 * (gz_work_order_visible, 404 otherwise); an attachment is only found through its own
 * order.  Files are served from a file descriptor with the stored type, nosniff, and
 * a private cache lifetime; the bytes behind an id never change.  The stored name
 * carries the extension of the detected type (name_for_type). */
#include "app.h"
#include "auth/auth.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/util.h"
#include "http/idempotency.h"
#include "http/multipart.h"
#include "modules/work_order.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* The accepted types, recognised by magic bytes at offset 0 (and, for WebP, "WEBP"
 * at offset 8 of a RIFF container). */
static const struct file_type {
	const char *type, *ext;
	const char *magic;
	size_t mlen;
	const char *magic8; /* 4 bytes at offset 8, or NULL */
} file_types[] = {
    {"image/jpeg", "jpg", "\xff\xd8\xff", 3, NULL},
    {"image/png", "png", "\x89PNG\r\n\x1a\n", 8, NULL},
    {"image/gif", "gif", "GIF87a", 6, NULL},
    {"image/gif", "gif", "GIF89a", 6, NULL},
    {"image/webp", "webp", "RIFF", 4, "WEBP"},
    {"application/pdf", "pdf", "%PDF-", 5, NULL},
};

#define ACCEPTED_TYPES "JPEG, PNG, GIF or WebP image, or a PDF document"

static const struct file_type *sniff(const char *p, size_t n)
{
	for (size_t i = 0; i < GZ_ARRAY_LEN(file_types); i++) {
		const struct file_type *t = &file_types[i];
		if (n >= t->mlen && memcmp(p, t->magic, t->mlen) == 0 &&
		    (!t->magic8 || (n >= 12 && memcmp(p + 8, t->magic8, 4) == 0)))
			return t;
	}
	return NULL;
}

/* The name under which a file of type t is stored and served: the client's name with
 * the extension of the detected type, whatever the client called it ("scan.exe"
 * holding a PDF becomes "scan.pdf", "photo" holding a PNG "photo.png"); an extension
 * that names the type already is kept as written (".JPG", ".jpeg" for a JPEG).  A
 * browser or a desktop that goes by the extension then treats the file as what it
 * is.  Allocated in a. */
static char *name_for_type(struct gz_arena *a, const char *name, const struct file_type *t)
{
	const char *dot = strrchr(name, '.');
	if (dot == name)
		dot = NULL; /* ".png" is a name, not an extension */
	if (dot && (strcasecmp(dot + 1, t->ext) == 0 ||
	            (strcmp(t->ext, "jpg") == 0 && strcasecmp(dot + 1, "jpeg") == 0)))
		return gz_strdup(a, name);
	size_t base = dot ? (size_t)(dot - name) : strlen(name);
	return gz_sprintf(a, "%.*s.%s", (int)base, name, t->ext);
}

/* The type of a stored row (only sniffed types are ever stored). */
static const struct file_type *type_by_name(const char *type)
{
	for (size_t i = 0; i < GZ_ARRAY_LEN(file_types); i++)
		if (strcmp(file_types[i].type, type) == 0)
			return &file_types[i];
	return NULL;
}

/* ---- content-addressed storage ---- */

static bool sha_valid(const char *sha)
{
	size_t n = 0;
	for (; sha[n]; n++)
		if (!((sha[n] >= '0' && sha[n] <= '9') || (sha[n] >= 'a' && sha[n] <= 'f')))
			return false;
	return n == 64;
}

/* DATA_DIR/attachments/ab/cd into dir, and the file <dir>/<sha256> into path. */
static bool blob_paths(struct gz_app *app, const char *sha, char *dir, char *path, size_t n)
{
	if (!sha_valid(sha))
		return false;
	int a = snprintf(dir, n, "%s/attachments/%.2s/%.2s", app->cfg.data_dir, sha, sha + 2);
	int b = snprintf(path, n, "%s/%s", dir, sha);
	return a > 0 && (size_t)a < n && b > 0 && (size_t)b < n;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Creates dir (its parent exists); a new entry is made durable in the parent. */
static int ensure_dir(char *dir)
{
	if (mkdir(dir, 0700) == 0) {
		char *slash = strrchr(dir, '/');
		if (!slash)
			return 0;
		*slash = 0;
		int rc = fsync_dir(dir);
		*slash = '/';
		return rc;
	}
	return errno == EEXIST ? 0 : -1;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Stores p[0..n) as the file of its sha256, unless that file is already there. */
static int blob_store(struct gz_req *r, const char *sha, const char *p, size_t n,
                      struct gz_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX];
	if (!blob_paths(r->app, sha, dir, path, sizeof(dir)))
		return gz_fail(err, GZ_E_INTERNAL, "attachment path too long");
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == n)
		return 0; /* the same bytes are stored already */
	/* DATA_DIR exists (made at start-up); make attachments, ab and ab/cd */
	size_t base = strlen(r->app->cfg.data_dir) + strlen("/attachments");
	const char *what = "create a directory for";
	int fd = -1, rc = 0, saved;
	for (size_t cut = base; cut <= strlen(dir) && !rc; cut += 3) {
		char save = dir[cut];
		dir[cut] = 0;
		rc = ensure_dir(dir);
		dir[cut] = save;
	}
	if (rc)
		goto fail;
	what = "write";
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, sha) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		goto fail;
	rc = write_all(fd, p, n) || fsync(fd);
	if (close(fd) && !rc)
		rc = -1;
	if (rc || rename(tmp, path)) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		goto fail;
	}
	what = "sync the directory of";
	if (fsync_dir(dir))
		goto fail;
	return 0;
fail:
	gz_log(GZ_LOG_ERROR, r->request_id, "cannot %s attachment %s: %s", what, path,
	       strerror(errno));
	return gz_fail(err, GZ_E_INTERNAL, "cannot store the file");
}

/* ---- output ---- */

static json_t *attachment_json(int64_t order_id, int64_t id, const char *sha, const char *type,
                               int64_t size, const char *filename, int64_t created)
{
	char at[GZ_TIME_BUF], url[96];
	gz_time_format(created, at, sizeof(at));
	snprintf(url, sizeof(url), "/api/v1/work-orders/%lld/attachments/%lld", (long long)order_id,
	         (long long)id);
	return json_pack("{s:I,s:I,s:s,s:I,s:o,s:s,s:s,s:s}", "id", (json_int_t)id, "work_order_id",
	                 (json_int_t)order_id, "content_type", type, "size", (json_int_t)size,
	                 "filename", filename ? json_string(filename) : json_null(), "sha256", sha,
	                 "created_at", at, "url", url);
}

/* 0 when the request's account may see the order, else -1 (404). */
static int order_visible(struct gz_req *r, int64_t id, struct gz_err *err)
{
	struct gz_conn *c = gz_db_reader(r->app->db);
	json_t *o = gz_work_order_visible(r, c, id, err);
	gz_db_reader_done(r->app->db, c);
	json_decref(o);
	return o ? 0 : -1;
}

/* ---- POST /api/v1/work-orders/{id}/attachments ---- */

struct upload {
	struct gz_req *r;
	int64_t order_id;
	const struct file_type *type;
	char sha[GZ_SHA256_HEX];
	const char *filename; /* NULL: none */
	size_t size;
};

static int upload_fn(struct gz_conn *c, void *ctx, struct gz_err *err)
{
	struct upload *u = ctx;
	struct gz_req *r = u->r;
	/* again inside the write: the status to record, and the order still visible */
	json_t *o = gz_work_order_visible(r, c, u->order_id, err);
	if (!o)
		return -1;
	char status[32];
	snprintf(status, sizeof(status), "%s", json_string_value(json_object_get(o, "status")));
	json_decref(o);
	int64_t now = gz_now_ms(), aid = 0;
	if (gz_query_i64(c, err, &aid,
	                 "INSERT INTO work_order_attachments (work_order_id, sha256, content_type, "
	                 "size, filename, uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
	                 "RETURNING id",
	                 "ittitii", u->order_id, u->sha, u->type->type, (int64_t)u->size,
	                 u->filename, r->acct->id, now) != 1)
		return -1;
	json_t *data = json_pack("{s:I,s:o,s:s,s:I}", "attachment_id", (json_int_t)aid, "filename",
	                         u->filename ? json_string(u->filename) : json_null(),
	                         "content_type", u->type->type, "size", (json_int_t)u->size);
	char *text = gz_json_dump(data);
	int rc = gz_exec_args(c, err,
	                      "INSERT INTO work_order_events (work_order_id, at, actor_id, "
	                      "actor_name, action, from_status, to_status, note, data, internal) "
	                      "VALUES (?, ?, ?, ?, 'attach', ?, NULL, NULL, ?, 0)",
	                      "iiittt", u->order_id, now, r->acct->id, r->acct->display_name,
	                      status, text);
	free(text);
	if (!rc) {
		json_object_set_new(data, "sha256", json_string(u->sha));
		text = gz_json_dump(data);
		struct gz_audit a = {r->acct, "attach", "work_order", u->order_id, text, r->client};
		rc = gz_audit_append(c, &a, err);
		free(text);
	}
	json_decref(data);
	if (rc)
		return -1;
	json_t *out = attachment_json(u->order_id, aid, u->sha, u->type->type, (int64_t)u->size,
	                              u->filename, now);
	gz_reply_header(r, "Location",
	                gz_strdup(&r->arena, json_string_value(json_object_get(out, "url"))));
	return gz_reply_json(r, 201, out);
}

static int upload_handler(struct gz_req *r, struct gz_err *err)
{
	struct upload u = {.r = r};
	if (gz_req_id(r, "id", &u.order_id, err) || order_visible(r, u.order_id, err))
		return -1;
	const char *data;
	char name[GZ_MULTIPART_NAME_BUF];
	if (gz_multipart_file(r->content_type, r->raw_body.data, r->raw_body.len, &data, &u.size,
	                      name, sizeof(name), err))
		return -1;
	if (u.size == 0)
		return gz_fail_field(err, GZ_E_VALIDATION, "file", "the file is empty");
	u.type = sniff(data, u.size);
	if (!u.type)
		return gz_fail_field(err, GZ_E_MEDIA_TYPE, "file",
		                     "the file must be a " ACCEPTED_TYPES
		                     " (image/jpeg, image/png, image/gif, image/webp, "
		                     "application/pdf; checked by content)");
	gz_sha256_hex(data, u.size, u.sha);
	u.filename = name[0] ? name_for_type(&r->arena, name, u.type) : NULL;
	if (blob_store(r, u.sha, data, u.size, err))
		return -1;
	return gz_req_write(r, upload_fn, &u, sizeof(u), err);
}

/* ---- GET /api/v1/work-orders/{id}/attachments ---- */

static int list_handler(struct gz_req *r, struct gz_err *err)
{
	int64_t id;
	if (gz_req_id(r, "id", &id, err))
		return -1;
	struct gz_conn *c = gz_db_reader(r->app->db);
	json_t *o = gz_work_order_visible(r, c, id, err), *items = NULL;
	struct gz_stmt *s = NULL;
	if (o)
		s = gz_stmt(c,
		            "SELECT id, sha256, content_type, size, filename, created_at FROM "
		            "work_order_attachments WHERE work_order_id = ? ORDER BY id",
		            err);
	int rc = -1;
	if (s) {
		items = json_array();
		gz_bind_i64(s, 1, id);
		while ((rc = gz_step(s, err)) == 1)
			json_array_append_new(
			    items, attachment_json(id, gz_col_i64(s, 0), gz_col_text(s, 1),
			                           gz_col_text(s, 2), gz_col_i64(s, 3),
			                           gz_col_null(s, 4) ? NULL : gz_col_text(s, 4),
			                           gz_col_i64(s, 5)));
		gz_stmt_done(s);
	}
	json_decref(o);
	gz_db_reader_done(r->app->db, c);
	if (rc < 0) {
		json_decref(items);
		return -1;
	}
	return gz_reply_json(r, 200, json_pack("{s:o}", "items", items));
}

/* ---- GET /api/v1/work-orders/{id}/attachments/{aid} ---- */

/* RFC 8187 ext-value of a UTF-8 name: attr-chars as they are, the rest %XX. */
static char *disposition(struct gz_arena *a, const char *name)
{
	static const char attr[] = "!#$&+-.^_`|~";
	struct gz_buf b = GZ_BUF_INIT;
	gz_buf_adds(&b, "inline; filename*=UTF-8''");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(attr, *p))
			gz_buf_addc(&b, (char)*p);
		else
			gz_buf_addf(&b, "%%%02X", *p);
	}
	char *out = gz_strdup(a, b.data);
	gz_buf_release(&b);
	return out;
}

static int download_handler(struct gz_req *r, struct gz_err *err)
{
	int64_t id, aid;
	if (gz_req_id(r, "id", &id, err) || gz_req_id(r, "aid", &aid, err))
		return -1;
	struct gz_conn *c = gz_db_reader(r->app->db);
	json_t *o = gz_work_order_visible(r, c, id, err);
	struct gz_stmt *s = NULL;
	if (o)
		s = gz_stmt(
		    c,
		    "SELECT sha256, content_type, size, filename FROM work_order_attachments "
		    "WHERE id = ? AND work_order_id = ?",
		    err);
	int rc = -1;
	char *sha = NULL, *name = NULL;
	const struct file_type *type = NULL;
	int64_t size = 0;
	if (s) {
		gz_bind_i64(s, 1, aid);
		gz_bind_i64(s, 2, id);
		rc = gz_step(s, err);
		if (rc == 1) {
			sha = gz_strdup(&r->arena, gz_col_text(s, 0));
			type = type_by_name(gz_col_text(s, 1));
			size = gz_col_i64(s, 2);
			if (!gz_col_null(s, 3))
				name = gz_strdup(&r->arena, gz_col_text(s, 3));
		}
		gz_stmt_done(s);
	}
	json_decref(o);
	gz_db_reader_done(r->app->db, c);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return gz_fail(err, GZ_E_NOT_FOUND, "no attachment %lld of work order %lld",
		               (long long)aid, (long long)id);
	char dir[PATH_MAX], path[PATH_MAX];
	if (!type || !blob_paths(r->app, sha, dir, path, sizeof(dir)))
		return gz_fail(err, GZ_E_INTERNAL, "attachment %lld has a bad stored type or hash",
		               (long long)aid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size != size) {
		gz_log(GZ_LOG_ERROR, r->request_id, "attachment %lld: %s is missing or damaged",
		       (long long)aid, path);
		if (fd >= 0)
			close(fd);
		return gz_fail(err, GZ_E_INTERNAL, "the file of attachment %lld is missing",
		               (long long)aid);
	}
	/* rows stored before names followed the type get the same treatment here */
	name = name ? name_for_type(&r->arena, name, type)
	            : gz_sprintf(&r->arena, "attachment-%lld.%s", (long long)aid, type->ext);
	r->out_fd = fd; /* the server closes it */
	r->out_fd_size = (uint64_t)st.st_size;
	r->out_type = type->type;
	r->status = 200;
	gz_reply_header(r, "Content-Disposition", disposition(&r->arena, name));
	gz_reply_header(r, "Cache-Control", "private, max-age=3600");
	return 0;
}

static const struct gz_route routes[] = {
    {GZ_POST, "/api/v1/work-orders/{id}/attachments", upload_handler, "work_orders.read",
     GZ_R_UPLOAD | GZ_R_WRITE | GZ_R_AUDIT, NULL,
     "Attach a file (multipart part 'file': JPEG, PNG, GIF, WebP or PDF, checked by content)",
     .row = &gz_work_order_entity},
    {GZ_GET, "/api/v1/work-orders/{id}/attachments", list_handler, "work_orders.read", 0, NULL,
     "A work order's attachments", .row = &gz_work_order_entity},
    {GZ_GET, "/api/v1/work-orders/{id}/attachments/{aid}", download_handler, "work_orders.read", 0,
     NULL, "An attachment's bytes", .row = &gz_work_order_entity},
    {0, NULL},
};

const struct gz_module gz_work_order_files_module = {"work_order_files", routes, NULL, NULL, NULL};
