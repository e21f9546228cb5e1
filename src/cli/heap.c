/*
 * heap.c - ready the allocator for a run over a big migrations directory.
 *
 * A run over 10,000 migrations allocates about 10 MB in small blocks:
 * names, paths, checksums, tracking rows, libpq's results. The kernel
 * hands that memory out one page at a time, on the first write to each
 * page. On the virtual machines CI and many clouds use, such a page
 * fault costs 10-15 us instead of well under one (bench/run measured 12
 * us here): 2,500 faults were a quarter of `status`'s CPU time. One
 * madvise(MADV_POPULATE_WRITE) maps the same pages in one system call,
 * about 0.7 us a page.
 *
 * So, before a command that reads the directory, and only when the
 * directory is big enough for it to matter, the CLI (the process's
 * owner: the library never tunes the process) sets glibc's malloc to
 *  - one arena, so that the library's loading thread allocates from the
 *    same heap as the thread that connects;
 *  - no mmap'ed blocks below HEAP_MAX, and no trimming of the heap, so
 *    that big arrays and freed memory come from the populated heap;
 * and populates a heap of about 32 bytes per byte of the directory's
 * size (ext4 spends about 33 bytes an entry; 10 MB for 10,000 files),
 * at most HEAP_MAX. Elsewhere (not glibc, or a kernel before 5.14) it
 * does nothing: the run is the same, only slower to fault its pages in.
 * Nor under AddressSanitizer, whose malloc is its own.
 *
 * The populated range asks for transparent huge pages first
 * (MADV_HUGEPAGE; honoured when the system's THP mode is "madvise" or
 * "always"). On the same VMs a TLB miss is dear too: with the heap in
 * 2 MiB pages, populating it took 0.9 ms instead of 2.2, touching 100,000
 * small blocks 9 ms instead of 16, and `status` over 10,000 files 82 ms
 * instead of 90, for the same peak RSS (the range is populated either
 * way). Where THP is off the request is ignored. Where free memory is
 * fragmented, the kernel compacts some to find the five or so huge
 * pages (with defrag "madvise", the default) and falls back to small
 * pages when it cannot: a one-off cost in a command that runs once.
 *
 * Measured against its removal (heap_prepare() returning at once) with
 * bench/compare, paired runs on a busy 2-core VM, 2026-12-07: without it
 * `status` over 10,000 files took 1.46x as long (median of the paired
 * ratios, IQR 1.34-1.68, 21 pairs; 1.54x in a second run of 21); `up`
 * and `down` of 1,000 migrations were within the noise (0.96x and
 * 1.03x, 11 pairs). Kept for status. Part of the win may be the one
 * arena shared with the loading thread, which measured within the noise
 * and is to go: measure again when it does.
 */
#include "cli.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

/* AddressSanitizer brings its own malloc, which ignores mallopt(). */
#if defined(__SANITIZE_ADDRESS__)
#define HEAP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_ASAN 1
#endif
#endif

#if defined(__GLIBC__) && !defined(HEAP_ASAN)
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

/* What heap_prepare() needs: glibc's mallopt() and Linux 5.14's
   MADV_POPULATE_WRITE, without AddressSanitizer's malloc. */
#if defined(__GLIBC__) && !defined(HEAP_ASAN) && defined(M_ARENA_MAX) && \
	defined(MADV_POPULATE_WRITE)
#define HEAP_TUNABLE 1
#endif

/* Populate nothing below this: a small project has nothing to gain. */
#define HEAP_MIN ((size_t)2 << 20)
/* Nor more than this. */
#define HEAP_MAX ((size_t)32 << 20)
/* Bytes of heap per byte of directory size. */
#define HEAP_PER_DIR_BYTE 32

#ifdef HEAP_TUNABLE
/* The heap to populate for directory dir: 0 when the directory is
   small (or missing). */
static size_t heap_estimate(const char *dir)
{
	struct stat st;
	size_t want;

	if (dir == NULL || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_size <= 0)
		return 0;
	if ((uintmax_t)st.st_size > HEAP_MAX / HEAP_PER_DIR_BYTE)
		return HEAP_MAX;
	want = (size_t)st.st_size * HEAP_PER_DIR_BYTE;
	return want < HEAP_MIN ? 0 : want;
}
#endif

size_t heap_prepare(const char *dir, bool *huge)
{
#ifdef HEAP_TUNABLE
	size_t want = heap_estimate(dir), page;
	long ps = sysconf(_SC_PAGESIZE);
	uintptr_t lo, hi;
	char *block;

	*huge = false;
	if (want == 0 || ps <= 0)
		return 0;
	page = (size_t)ps;
	if (mallopt(M_ARENA_MAX, 1) == 0 ||
	    mallopt(M_MMAP_THRESHOLD, (int)HEAP_MAX) == 0 ||
	    mallopt(M_TRIM_THRESHOLD, (int)(2 * HEAP_MAX)) == 0)
		return 0;
	/* Grow the heap by want, populate it, give it back to malloc. */
	block = malloc(want);
	if (block == NULL)
		return 0;
	lo = ((uintptr_t)block + page - 1) & ~(uintptr_t)(page - 1);
	hi = ((uintptr_t)block + want) & ~(uintptr_t)(page - 1);
	if (hi <= lo) {
		free(block);
		return 0;
	}
#ifdef MADV_HUGEPAGE
	/* Fails (EINVAL) where the kernel has no THP: small pages then. */
	*huge = madvise((void *)lo, hi - lo, MADV_HUGEPAGE) == 0;
#endif
	if (madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) != 0)
		want = 0; /* an older kernel: pages fault in as before */
	free(block);
	return want;
#else
	(void)dir;
	*huge = false;
	return 0;
#endif
}
