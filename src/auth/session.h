/* session.h - internal to src/auth: sessions and the session cache shared by
 * session.c (authentication of requests) and auth_routes.c (login, logout). */
#ifndef GZ_SESSION_H
#define GZ_SESSION_H
#include "auth/auth.h"

#define GZ_TOKEN_LEN 64

extern struct gz_auth_limits gz_auth_limits;

/* Creates a session for user_id inside a write; fills token and csrf. */
int gz_session_create(struct gz_conn *c, int64_t user_id, const char *client,
                      char token[GZ_TOKEN_LEN], char csrf[GZ_TOKEN_LEN], struct gz_err *err);
/* Deletes the session with this token hash (write) and forgets it. */
int gz_session_delete(struct gz_conn *c, const char *token_hash, struct gz_err *err);
/* Deletes every session of a user except keep_hash (NULL: all). */
int gz_session_delete_user(struct gz_conn *c, int64_t user_id, const char *keep_hash,
                           struct gz_err *err);
/* The hash of the token the request authenticated with ("" for API keys). */
const char *gz_session_hash_of(struct gz_req *r);
/* Parses a JSON array of role names into a bit mask; -1 on an unknown role. */
int gz_roles_from_json_text(const char *text, unsigned *mask);

#endif
