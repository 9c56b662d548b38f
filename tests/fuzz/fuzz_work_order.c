/* fuzz_work_order.c - libFuzzer target for the work-order create body and the list
 * query string.
 *
 * The first byte chooses: even, the rest is a create (or patch) body validated
 * against the real work-order entity, as POST /api/v1/work-orders does after the
 * dispatcher parsed it; odd, the rest is a query string parsed by the router and fed
 * to the work-order list filters that need no database (category_code, overdue,
 * status, channel …), which must either add a condition or fail with a 400.  q and
 * unit_id read the database (q: whether an order has q as its external id, whether
 * the bigram index is complete, how many of the newest orders hold a pair) and are
 * left to the API tests (t21, t29: quotes, FTS5 operators and LIKE wildcards taken
 * literally).  A filter
 * may never write SQL text from the input: every value goes through the args list. */
#include "core/arena.h"
#include "core/buf.h"
#include "core/util.h"
#include "db/db.h"
#include "http/http.h"
#include "model/entity.h"
#include "modules/work_order.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_object_seed(1);
	return 0;
}

static void body(const uint8_t *data, size_t size)
{
	json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!in)
		return;
	for (int create = 0; create < 2; create++) {
		json_t *out = NULL;
		struct gz_err err;
		if (gz_entity_validate(&gz_work_order_entity, in, create, &out, &err) == 0) {
			if (!json_is_object(out))
				abort();
			json_decref(out);
		} else if (gz_code_status(err.code) != 400) {
			fprintf(stderr, "unexpected status %d\n", gz_code_status(err.code));
			abort();
		}
	}
	json_decref(in);
}

static void query(const uint8_t *data, size_t size)
{
	struct gz_req r;
	memset(&r, 0, sizeof(r));
	gz_arena_init(&r.arena);
	char *qs = gz_strndup(&r.arena, (const char *)data, size);
	if (strlen(qs) != size) { /* a NUL byte: not a query string */
		gz_arena_release(&r.arena);
		return;
	}
	struct gz_kv *kv;
	int n;
	struct gz_err err;
	if (gz_query_parse(&r.arena, qs, &kv, &n, &err) == 0) {
		for (int i = 0; i < n; i++) {
			if (strcmp(kv[i].key, "unit_id") == 0 || strcmp(kv[i].key, "q") == 0)
				continue; /* look the database up */
			struct gz_buf where = GZ_BUF_INIT;
			struct gz_args args = {0};
			struct gz_list_opts lo = {0};
			int rc = gz_work_order_entity.filter(&r, kv[i].key, kv[i].value, &where,
			                                     &args, &lo, &err);
			if (rc < 0 && gz_code_status(err.code) != 400)
				abort();
			/* values are bound, never spliced into the SQL: the same filter with
			 * another value of as many characters gives the same SQL text */
			if (rc > 0) {
				size_t ncp = gz_utf8_len(kv[i].value);
				char *other = gz_alloc(&r.arena, ncp + 1);
				memset(other, 'x', ncp);
				other[ncp] = 0;
				struct gz_buf where2 = GZ_BUF_INIT;
				struct gz_args args2 = {0};
				struct gz_list_opts lo2 = {0};
				int rc2 = gz_work_order_entity.filter(&r, kv[i].key, other, &where2,
				                                      &args2, &lo2, &err);
				if (rc2 > 0 && strcmp(gz_buf_str(&where), gz_buf_str(&where2)) != 0)
					abort();
				gz_buf_release(&where2);
			}
			gz_buf_release(&where);
		}
	}
	gz_arena_release(&r.arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0)
		body(data + 1, size - 1);
	else
		query(data + 1, size - 1);
	return 0;
}
