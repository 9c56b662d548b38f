/* session.h - internal to src/auth: sessions and the session cache shared by
 * session.c (authentication of requests) and auth_routes.c (login, logout). */
#ifndef GZ_SESSION_H
#define GZ_SESSION_H
#include "auth/auth.h"
#include "core/crypto.h"

extern struct gz_auth_limits gz_auth_limits;

/* Creates a session for user_id inside a write; fills token and csrf. */
int gz_session_create(struct gz_conn *c, int64_t user_id, const char *client,
                      char token[GZ_TOKEN_LEN], char csrf[GZ_TOKEN_LEN], struct gz_err *err);
/* Deletes the session with this token hash (write) and forgets it. */
int gz_session_delete(struct gz_conn *c, const char *token_hash, struct gz_err *err);
/* The hash of the token the request authenticated with ("" for API keys). */
const char *gz_session_hash_of(struct gz_req *r);

/* The second factor at login (auth/totp.c).  gz_totp_login_check runs before the
 * login's write, once the password is right: it reads the account's TOTP state and the
 * body's totp_code / recovery_code; 0 with t filled (t->ok: no second factor is needed
 * or the code fits), -1 with totp_required when one is needed and none was sent, or
 * validation_failed for a malformed field.  gz_totp_login_consume runs inside the
 * login's write: it spends the code (a TOTP step only once, later than the last one
 * used; a recovery code only once) and clears *ok when it was spent already. */
struct gz_totp_login {
	enum { GZ_TOTP_NONE, GZ_TOTP_CODE, GZ_TOTP_RECOVERY } kind;
	bool ok;
	int64_t step;                 /* GZ_TOTP_CODE: the step the code belongs to */
	char recovery[GZ_SHA256_HEX]; /* GZ_TOTP_RECOVERY: the code's keyed hash */
};
int gz_totp_login_check(struct gz_app *app, int64_t user_id, json_t *body, struct gz_totp_login *t,
                        struct gz_err *err);
int gz_totp_login_consume(struct gz_conn *c, int64_t user_id, const char *username,
                          const char *client, const struct gz_totp_login *t, bool *ok,
                          struct gz_err *err);

#endif
