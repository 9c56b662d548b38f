/* idempotency.h - Idempotency-Key on POST: the first response of an account's key is
 * stored in the same transaction as the change it reports, and replayed for 24 h. */
#ifndef GZ_IDEMPOTENCY_H
#define GZ_IDEMPOTENCY_H
#include "db/db.h"
#include "http/http.h"

/* Before the handler: replays a stored response.  1 replayed, 0 not found, -1 error. */
int gz_idem_replay(struct gz_req *r, struct gz_err *err);
/* Runs fn as a write (see gz_req_write_async: the handler returns 0 right after,
 * and the reply is finished once the batch commits); fn gets a copy of the size bytes
 * at ctx, kept in the request's arena, as its context.  When fn succeeds and the
 * request carries a key, the response fn set on r is stored within the same
 * savepoint.  A concurrent first use of the same key loses and gets the winner's
 * response. */
int gz_req_write(struct gz_req *r, gz_write_fn fn, const void *ctx, size_t size,
                 struct gz_err *err);

#endif
