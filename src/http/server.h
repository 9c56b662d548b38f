/* server.h - starting and stopping the HTTP server, and serving static files. */
#ifndef GZ_SERVER_H
#define GZ_SERVER_H
#include "http/http.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct gz_server;
extern bool gz_access_log_enabled;

/* Starts listening on app->cfg.listen with the routes of app's modules. */
int gz_server_start(struct gz_app *app, struct gz_server **out, struct gz_err *err);
/* Stops accepting, waits up to grace_ms for in-flight requests, frees s. */
void gz_server_stop(struct gz_server *s, int grace_ms);
size_t gz_server_routes(struct gz_server *s, const struct gz_route ***routes);
/* Serves a file of the console (web_dir), the SPA's index.html for unknown paths, or
 * the built-in placeholder page when no console is built. */
int gz_static_serve(struct gz_app *app, struct gz_req *r, struct gz_err *err);

#endif
