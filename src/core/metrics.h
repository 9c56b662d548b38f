/* metrics.h - process-wide counters and histograms, rendered as Prometheus text.
 *
 * Metrics are registered at start-up (not thread-safe) and updated with atomics from
 * any thread afterwards.  Labels are fixed at registration: a counter family with
 * per-label-set slots found by linear search over a small array. */
#ifndef GZ_METRICS_H
#define GZ_METRICS_H
#include "buf.h"
#include <stdint.h>

#define GZ_HIST_MAX_BUCKETS 16

struct gz_histogram {
	const char *name, *help;
	int nbuckets;
	double bounds[GZ_HIST_MAX_BUCKETS];
	_Atomic uint64_t counts[GZ_HIST_MAX_BUCKETS + 1];
	_Atomic uint64_t sum_micro; /* sum in millionths */
	_Atomic uint64_t total;
};

void gz_histogram_observe(struct gz_histogram *h, double v);
void gz_histogram_render(struct gz_histogram *h, const char *labels, struct gz_buf *out);

/* Requests by (route, status): count and duration. */
void gz_metrics_request(const char *route, int status, double seconds);
/* Group-commit batch sizes. */
void gz_metrics_commit_batch(int size);
/* Additional text providers (a module's gauges), called on every scrape. */
typedef void (*gz_metrics_fn)(struct gz_buf *out, void *ctx);
void gz_metrics_add_provider(gz_metrics_fn fn, void *ctx);
void gz_metrics_render(struct gz_buf *out);

#endif
