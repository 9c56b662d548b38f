/* static.c - the console's files from web_dir: content type by extension, long
 * cache for hashed assets, no-cache for index.html, index.html for client-side
 * routes, and a built-in placeholder page when the console is not built.  Paths are
 * decoded and then checked: no "..", no hidden files, and the resolved file must lie
 * inside web_dir.  Every answer carries the console's Content-Security-Policy. */
#include "app.h"
#include "http/server.h"
#include "core/util.h"
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char placeholder[] =
    "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>共治 gongzhi</title><style>body{font-family:sans-serif;max-width:40em;"
    "margin:4em auto;padding:0 1em;color:#222}code{background:#f3f3f3;padding:0 .3em}"
    "</style></head><body><h1>共治 gongzhi</h1>"
    "<p>社区共治平台服务已启动。管理后台尚未构建。</p>"
    "<p>The gongzhi server is running; the web console has not been built yet.</p>"
    "<ul><li>API: <code>/api/v1/</code> (<a href=\"/api/v1/openapi.json\">OpenAPI</a>)</li>"
    "<li>Health: <a href=\"/healthz\">/healthz</a></li>"
    "<li>Metrics: <a href=\"/metrics\">/metrics</a></li></ul></body></html>\n";

static const char *content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {".html", "text/html; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".mjs", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".json", "application/json"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".jpg", "image/jpeg"},
	    {".jpeg", "image/jpeg"},
	    {".gif", "image/gif"},
	    {".webp", "image/webp"},
	    {".ico", "image/x-icon"},
	    {".woff", "font/woff"},
	    {".woff2", "font/woff2"},
	    {".ttf", "font/ttf"},
	    {".txt", "text/plain; charset=utf-8"},
	    {".map", "application/json"},
	    {".pdf", "application/pdf"},
	};
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');
	if (dot && (!slash || dot > slash))
		for (size_t i = 0; i < GZ_ARRAY_LEN(types); i++)
			if (strcasecmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

static bool safe_path(const char *p)
{
	if (p[0] != '/')
		return false;
	for (const char *seg = p; seg; seg = strchr(seg + 1, '/')) {
		const char *s = seg + 1;
		if (s[0] == '.')
			return false; /* "..", ".env", ".git" */
	}
	return strchr(p, '\\') == NULL;
}

static int open_file(const char *root, const char *rel, struct gz_req *r, bool *found)
{
	char path[PATH_MAX], real[PATH_MAX];
	*found = false;
	if (snprintf(path, sizeof(path), "%s%s", root, rel) >= (int)sizeof(path))
		return -1;
	if (!realpath(path, real))
		return -1;
	size_t rl = strlen(root);
	if (strncmp(real, root, rl) != 0 || (real[rl] != '/' && real[rl] != 0))
		return -1;
	struct stat st;
	if (stat(real, &st) || !S_ISREG(st.st_mode))
		return -1;
	int fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	*found = true;
	r->out_fd = fd;
	r->out_fd_size = (uint64_t)st.st_size;
	r->out_type = content_type(real);
	return 0;
}

/* The console's policy: its own scripts only; inline styles because Element Plus sets
 * them; images also from data: and blob: URLs (previews of attachments). */
static const char console_csp[] =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'";

int gz_static_serve(struct gz_app *app, struct gz_req *r, struct gz_err *err)
{
	gz_reply_header(r, "Content-Security-Policy", console_csp);
	if (!safe_path(r->path))
		return gz_fail(err, GZ_E_NOT_FOUND, "no such file");
	char root[PATH_MAX];
	bool found = false;
	bool have_root = realpath(app->cfg.web_dir, root) != NULL;
	bool asset = gz_str_has_prefix(r->path, "/assets/");
	if (have_root && strcmp(r->path, "/") != 0)
		open_file(root, r->path, r, &found);
	if (found) {
		gz_reply_header(r, "Cache-Control",
		                asset ? "public, max-age=31536000, immutable" : "no-cache");
		r->status = 200;
		return 0;
	}
	/* a missing asset is a 404; any other path is a route of the console */
	const char *last = strrchr(r->path, '/');
	if (asset || (last && strchr(last, '.')))
		return gz_fail(err, GZ_E_NOT_FOUND, "no such file");
	if (have_root)
		open_file(root, "/index.html", r, &found);
	gz_reply_header(r, "Cache-Control", "no-cache");
	if (found) {
		r->status = 200;
		return 0;
	}
	return gz_reply_text(r, 200, "text/html; charset=utf-8", placeholder);
}
