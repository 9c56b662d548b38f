/* ratelimit.h - token buckets by key (an account, a client address) in a table of
 * fixed size, for the abuse limits: requests per account and per address (checked
 * by the dispatcher) and failed logins per address (auth_routes.c).
 *
 * A bucket holds up to burst tokens and refills at rate tokens per second; each
 * counted event takes one.  The table never grows: it has a fixed number of entries
 * in sets of eight, and a new key takes the entry of its set that tells least (the
 * fullest bucket, that is one that has not been drained lately), so a flood of new
 * keys forgets idle clients first and the clients being limited last.  Keys are
 * hashed with a secret per-process key (SipHash), so no client can aim at a set.
 * Every function is thread-safe (a lock per set).  A NULL table is a limit that is
 * off: it allows everything. */
#ifndef GZ_RATELIMIT_H
#define GZ_RATELIMIT_H
#include <stddef.h>
#include <stdint.h>

struct gz_ratelimit;

/* A table of about entries buckets (rounded up to a power-of-two number of sets of
 * eight) refilling at rate tokens per second up to burst (at least 1).  Returns NULL
 * when rate <= 0 (the limit is off).  Aborts when out of memory. */
struct gz_ratelimit *gz_ratelimit_new(double rate, double burst, size_t entries);
/* Frees the table; NULL is fine. */
void gz_ratelimit_free(struct gz_ratelimit *rl);
/* Takes a token from key's bucket (n bytes).  Returns 0 when there was one, else the
 * whole seconds (>= 1) until there will be; nothing is taken then. */
int64_t gz_ratelimit_take(struct gz_ratelimit *rl, const void *key, size_t n);
/* Like gz_ratelimit_take without taking: 0 when a token is there. */
int64_t gz_ratelimit_peek(struct gz_ratelimit *rl, const void *key, size_t n);
/* The same two at a given time of gz_monotonic_ns() (for tests). */
int64_t gz_ratelimit_take_at(struct gz_ratelimit *rl, const void *key, size_t n, int64_t now_ns);
int64_t gz_ratelimit_peek_at(struct gz_ratelimit *rl, const void *key, size_t n, int64_t now_ns);
/* How many entries the table has (fixed at creation); 0 for NULL. */
size_t gz_ratelimit_capacity(const struct gz_ratelimit *rl);
/* How many keys it currently remembers (for tests). */
size_t gz_ratelimit_used(struct gz_ratelimit *rl);

#endif
