/* ratelimit.c - the token-bucket table of ratelimit.h.  It knows keys as bytes only;
 * what they name (an account id, an address) and what is done over the limit (a 429
 * with Retry-After) are the callers' business. */
#include "http/ratelimit.h"
#include "core/timefmt.h"
#include "core/util.h"
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>

#define WAYS 8

struct bucket {
	uint64_t key; /* hash of the key; 0 = empty */
	int64_t last_ns;
	double tokens; /* at last_ns */
};

struct set {
	pthread_mutex_t lock;
	struct bucket b[WAYS];
};

struct gz_ratelimit {
	double rate, burst;
	size_t nsets; /* a power of two */
	struct set *sets;
	unsigned char hash_key[crypto_shorthash_KEYBYTES];
};

struct gz_ratelimit *gz_ratelimit_new(double rate, double burst, size_t entries)
{
	if (!(rate > 0))
		return NULL;
	struct gz_ratelimit *rl = gz_xcalloc(1, sizeof(*rl));
	rl->rate = rate;
	rl->burst = burst < 1 ? 1 : burst;
	rl->nsets = 1;
	while (rl->nsets * WAYS < entries)
		rl->nsets <<= 1;
	rl->sets = gz_xcalloc(rl->nsets, sizeof(*rl->sets));
	for (size_t i = 0; i < rl->nsets; i++)
		pthread_mutex_init(&rl->sets[i].lock, NULL);
	randombytes_buf(rl->hash_key, sizeof(rl->hash_key));
	return rl;
}

void gz_ratelimit_free(struct gz_ratelimit *rl)
{
	if (!rl)
		return;
	for (size_t i = 0; i < rl->nsets; i++)
		pthread_mutex_destroy(&rl->sets[i].lock);
	free(rl->sets);
	free(rl);
}

size_t gz_ratelimit_capacity(const struct gz_ratelimit *rl)
{
	return rl ? rl->nsets * WAYS : 0;
}

size_t gz_ratelimit_used(struct gz_ratelimit *rl)
{
	size_t n = 0;
	for (size_t i = 0; rl && i < rl->nsets; i++) {
		pthread_mutex_lock(&rl->sets[i].lock);
		for (int w = 0; w < WAYS; w++)
			n += rl->sets[i].b[w].key != 0;
		pthread_mutex_unlock(&rl->sets[i].lock);
	}
	return n;
}

/* The bucket's tokens at now (refilled, capped at burst). */
static double level(const struct gz_ratelimit *rl, const struct bucket *b, int64_t now_ns)
{
	double elapsed = now_ns > b->last_ns ? (double)(now_ns - b->last_ns) / 1e9 : 0;
	double t = b->tokens + elapsed * rl->rate;
	return t > rl->burst ? rl->burst : t;
}

static int64_t account(struct gz_ratelimit *rl, const void *key, size_t n, int64_t now_ns,
                       bool take)
{
	if (!rl)
		return 0;
	uint64_t h;
	crypto_shorthash((unsigned char *)&h, key, n, rl->hash_key);
	if (!h)
		h = 1;
	struct set *s = &rl->sets[h & (rl->nsets - 1)];
	pthread_mutex_lock(&s->lock);
	struct bucket *b = NULL, *victim = NULL;
	double victim_level = -1;
	for (int w = 0; w < WAYS && !b; w++) {
		struct bucket *x = &s->b[w];
		if (x->key == h) {
			b = x;
			break;
		}
		/* the entry that tells least: an empty one, else the fullest bucket,
		 * else the one seen longest ago */
		double lv = x->key ? level(rl, x, now_ns) : rl->burst + 1;
		if (lv > victim_level || (lv == victim_level && x->last_ns < victim->last_ns)) {
			victim = x;
			victim_level = lv;
		}
	}
	double tokens;
	if (b) {
		tokens = level(rl, b, now_ns);
	} else {
		b = victim;
		tokens = rl->burst;
	}
	int64_t wait = 0;
	if (tokens >= 1) {
		if (take)
			tokens -= 1;
	} else {
		/* less a nanosecond's worth: 1 / (20 / 900.) must be 45, not 46 */
		wait = (int64_t)ceil((1 - tokens) / rl->rate - 1e-9);
		if (wait < 1)
			wait = 1;
	}
	/* a peek at an unknown key stores nothing: it would only evict another */
	if (take || b->key == h) {
		b->key = h;
		b->tokens = tokens;
		b->last_ns = now_ns;
	}
	pthread_mutex_unlock(&s->lock);
	return wait;
}

int64_t gz_ratelimit_take_at(struct gz_ratelimit *rl, const void *key, size_t n, int64_t now_ns)
{
	return account(rl, key, n, now_ns, true);
}

int64_t gz_ratelimit_peek_at(struct gz_ratelimit *rl, const void *key, size_t n, int64_t now_ns)
{
	return account(rl, key, n, now_ns, false);
}

int64_t gz_ratelimit_take(struct gz_ratelimit *rl, const void *key, size_t n)
{
	return account(rl, key, n, gz_monotonic_ns(), true);
}

int64_t gz_ratelimit_peek(struct gz_ratelimit *rl, const void *key, size_t n)
{
	return account(rl, key, n, gz_monotonic_ns(), false);
}
