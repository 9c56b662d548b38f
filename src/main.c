/* main.c - gongzhi's entry point: everything is a command (see cli/commands.c). */
#include "cli/commands.h"
#include <malloc.h>

int main(int argc, char **argv)
{
	/* Large blocks (FTS5 doclists of common terms, export buffers) straight from and
	 * back to the kernel: glibc otherwise raises this threshold after the first such
	 * free, and every thread's arena keeps megabytes it no longer uses (measured: the
	 * resident size grew by 12 MB over a search benchmark). */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
	/* glibc gives every thread that meets lock contention an arena of its own (up to
	 * 8 per core), each keeping its freed memory, so the resident size would grow with
	 * the machine's cores.  Four arenas bound it whatever the core count; on 2 cores
	 * bench/soak-memory ends within 1 MB of glibc's default side by side (16 HTTP
	 * threads, the writer, the checkpointer; docs/benchmarks.md). */
	mallopt(M_ARENA_MAX, 4);
	return gz_cli_main(argc, argv);
}
