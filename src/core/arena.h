/* arena.h - per-request bump allocator.
 *
 * A request owns one arena; everything allocated from it is released at once by
 * gz_arena_release().  Allocation never fails: on out-of-memory the process aborts,
 * as a half-built reply is worse than a restart.  Not thread-safe: one arena, one
 * thread.  Resources that are not memory go on the defer list and are released, in
 * reverse order, by gz_arena_release(). */
#ifndef GZ_ARENA_H
#define GZ_ARENA_H
#include <stddef.h>
#include <stdarg.h>

struct gz_arena_block;
struct gz_defer;

struct gz_arena {
	struct gz_arena_block *head;
	struct gz_defer *defers;
	size_t total; /* bytes handed out, for tests and metrics */
};

void gz_arena_init(struct gz_arena *a);
/* Frees every block and runs the defer list (last added first).  The arena is empty
 * and may be reused afterwards. */
void gz_arena_release(struct gz_arena *a);
/* Returns n bytes aligned for any type; never NULL.  n == 0 returns a valid pointer. */
void *gz_alloc(struct gz_arena *a, size_t n);
void *gz_zalloc(struct gz_arena *a, size_t n);
char *gz_strdup(struct gz_arena *a, const char *s); /* s NULL -> NULL */
char *gz_strndup(struct gz_arena *a, const char *s, size_t n);
char *gz_sprintf(struct gz_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *gz_vsprintf(struct gz_arena *a, const char *fmt, va_list ap);
/* Runs fn(p) when the arena is released. */
void gz_defer(struct gz_arena *a, void (*fn)(void *), void *p);

#endif
