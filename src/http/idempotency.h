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
/* Builds a write's reply: reads what it needs through c and sets r's reply.  ctx is
 * the write's context (the copy fn got).  committed is false when it runs inside the
 * write's savepoint (its failure then fails the write), true when it runs after the
 * commit (the change is done: a failure there must still answer success). */
typedef int (*gz_reply_fn)(struct gz_req *r, struct gz_conn *c, void *ctx, bool committed,
                           struct gz_err *err);
/* Like gz_req_write, with the reply built by reply: after the commit on the server
 * thread through a read connection, so that the writer's batch is not held up by the
 * reply's reads — except when the request carries an Idempotency-Key, whose stored
 * response must be written in the same savepoint as the change. */
int gz_req_write_reply(struct gz_req *r, gz_write_fn fn, const void *ctx, size_t size,
                       gz_reply_fn reply, struct gz_err *err);

#endif
