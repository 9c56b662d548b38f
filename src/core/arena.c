/* arena.c - bump allocator in growing blocks, plus a defer list.  See arena.h. */
#include "arena.h"
#include "util.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gz_arena_block {
	struct gz_arena_block *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
};

struct gz_defer {
	struct gz_defer *next;
	void (*fn)(void *);
	void *p;
};

enum { BLOCK_MIN = 4096 - sizeof(struct gz_arena_block) };

void gz_arena_init(struct gz_arena *a)
{
	a->head = NULL;
	a->defers = NULL;
	a->total = 0;
}

void gz_arena_release(struct gz_arena *a)
{
	while (a->defers) {
		struct gz_defer *d = a->defers;
		a->defers = d->next;
		d->fn(d->p);
	}
	while (a->head) {
		struct gz_arena_block *b = a->head;
		a->head = b->next;
		free(b);
	}
	a->total = 0;
}

void *gz_alloc(struct gz_arena *a, size_t n)
{
	if (n > SIZE_MAX / 2)
		GZ_BUG("arena allocation of %zu bytes", n);
	size_t need = (n + 15) & ~(size_t)15;
	struct gz_arena_block *b = a->head;
	if (!b || b->size - b->used < need) {
		size_t size = need > BLOCK_MIN ? need : BLOCK_MIN;
		if (b && b->size * 2 > size && b->size < (1u << 20))
			size = b->size * 2;
		b = gz_xmalloc(sizeof(*b) + size);
		b->size = size;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += need;
	a->total += need;
	return p;
}

void *gz_zalloc(struct gz_arena *a, size_t n)
{
	void *p = gz_alloc(a, n);
	memset(p, 0, n);
	return p;
}

char *gz_strndup(struct gz_arena *a, const char *s, size_t n)
{
	if (!s)
		return NULL;
	char *p = gz_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *gz_strdup(struct gz_arena *a, const char *s)
{
	return s ? gz_strndup(a, s, strlen(s)) : NULL;
}

char *gz_vsprintf(struct gz_arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		GZ_BUG("bad format");
	char *p = gz_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *gz_sprintf(struct gz_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = gz_vsprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void gz_defer(struct gz_arena *a, void (*fn)(void *), void *p)
{
	struct gz_defer *d = gz_alloc(a, sizeof(*d));
	d->fn = fn;
	d->p = p;
	d->next = a->defers;
	a->defers = d;
}
