/* metrics.c - request counters by route and status, a duration histogram, the
 * commit batch histogram, and module-provided gauges in Prometheus text format. */
#include "metrics.h"
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

void gz_histogram_observe(struct gz_histogram *h, double v)
{
	int i = 0;
	while (i < h->nbuckets && v > h->bounds[i])
		i++;
	atomic_fetch_add(&h->counts[i], 1);
	atomic_fetch_add(&h->sum_micro, (uint64_t)(v * 1e6));
	atomic_fetch_add(&h->total, 1);
}

void gz_histogram_render(struct gz_histogram *h, const char *labels, struct gz_buf *out)
{
	gz_buf_addf(out, "# HELP %s %s\n# TYPE %s histogram\n", h->name, h->help, h->name);
	uint64_t cum = 0;
	const char *sep = labels && *labels ? "," : "";
	labels = labels ? labels : "";
	for (int i = 0; i < h->nbuckets; i++) {
		cum += atomic_load(&h->counts[i]);
		gz_buf_addf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", h->name, labels, sep,
		            h->bounds[i], (unsigned long long)cum);
	}
	cum += atomic_load(&h->counts[h->nbuckets]);
	gz_buf_addf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", h->name, labels, sep,
	            (unsigned long long)cum);
	gz_buf_addf(out, "%s_sum%s%s%s %.6f\n", h->name, *labels ? "{" : "", labels,
	            *labels ? "}" : "", (double)atomic_load(&h->sum_micro) / 1e6);
	gz_buf_addf(out, "%s_count%s%s%s %llu\n", h->name, *labels ? "{" : "", labels,
	            *labels ? "}" : "", (unsigned long long)cum);
}

static struct gz_histogram duration = {
    "gongzhi_http_request_duration_seconds",
    "Time from request to response",
    12,
    {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5},
    {0},
    0,
    0};
static struct gz_histogram batches = {"gongzhi_db_commit_batch_size",
                                      "Requests committed in one transaction",
                                      10,
                                      {1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
                                      {0},
                                      0,
                                      0};

enum { MAX_SLOTS = 512 };
struct slot {
	const char *route; /* interned: route patterns are static strings */
	int status;
	_Atomic uint64_t count;
};
static struct slot slots[MAX_SLOTS];
static _Atomic int nslots;
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;

void gz_metrics_request(const char *route, int status, double seconds)
{
	gz_histogram_observe(&duration, seconds);
	int n = atomic_load(&nslots);
	for (int i = 0; i < n; i++)
		if (slots[i].status == status && slots[i].route == route) {
			atomic_fetch_add(&slots[i].count, 1);
			return;
		}
	pthread_mutex_lock(&slot_lock);
	n = atomic_load(&nslots);
	int i;
	for (i = 0; i < n; i++)
		if (slots[i].status == status && slots[i].route == route)
			break;
	if (i == n && n < MAX_SLOTS) {
		slots[n].route = route;
		slots[n].status = status;
		atomic_store(&nslots, n + 1);
	}
	if (i < MAX_SLOTS)
		atomic_fetch_add(&slots[i].count, 1);
	pthread_mutex_unlock(&slot_lock);
}

void gz_metrics_commit_batch(int size)
{
	gz_histogram_observe(&batches, size);
}

struct provider {
	gz_metrics_fn fn;
	void *ctx;
};
static struct provider providers[16];
static int nproviders;

void gz_metrics_add_provider(gz_metrics_fn fn, void *ctx)
{
	if (nproviders < 16)
		providers[nproviders++] = (struct provider){fn, ctx};
}

void gz_metrics_render(struct gz_buf *out)
{
	gz_buf_adds(out, "# HELP gongzhi_http_requests_total Requests by route and status\n"
	                 "# TYPE gongzhi_http_requests_total counter\n");
	int n = atomic_load(&nslots);
	for (int i = 0; i < n; i++)
		gz_buf_addf(out, "gongzhi_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
		            slots[i].route, slots[i].status,
		            (unsigned long long)atomic_load(&slots[i].count));
	gz_histogram_render(&duration, NULL, out);
	gz_histogram_render(&batches, NULL, out);
	for (int i = 0; i < nproviders; i++)
		providers[i].fn(out, providers[i].ctx);
}
