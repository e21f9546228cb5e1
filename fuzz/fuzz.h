/*
 * fuzz.h - what the libFuzzer harnesses of fuzz/ share: the entry
 * point's declaration, the assertion that stops a run, and the checks
 * of text positions several parsers report.
 */
#ifndef DBMIGRATE_FUZZ_H
#define DBMIGRATE_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stop the run: an invariant does not hold. */
#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

/* The statements of one split, as a driver's split() reports them
   (fuzz_span() is its callback); more than FUZZ_SPANS stops the split,
   as out of memory would. */
#define FUZZ_SPANS 512

struct fuzz_spans {
	size_t off[FUZZ_SPANS];
	size_t len[FUZZ_SPANS];
	size_t n;
};

static inline int fuzz_span(void *ctx, size_t off, size_t len)
{
	struct fuzz_spans *s = ctx;

	if (s->n == FUZZ_SPANS)
		return 1;
	s->off[s->n] = off;
	s->len[s->n++] = len;
	return 0;
}

/* A copy of a string that must not fail. */
static inline char *fuzz_strdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		abort();
	return d;
}

/* A NUL-terminated copy of p[0, n), or NULL when the bytes are not
   file text (fsutil_check_text()) or, unless empty_ok, are none. */
static inline char *fuzz_text(const uint8_t *p, size_t n, bool empty_ok)
{
	size_t bad;
	const char *why;
	char *t;

	if ((n == 0 && !empty_ok) ||
	    (n > 0 && !fsutil_check_text((const char *)p, n, &bad, &why)))
		return NULL;
	if ((t = malloc(n + 1)) == NULL)
		abort();
	memcpy(t, p, n);
	t[n] = '\0';
	return t;
}

/* The number of lines of text (a last line without '\n' counts). */
static inline unsigned fuzz_lines(const char *text, size_t len)
{
	unsigned n = 1;

	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n')
			n++;
	return n;
}

/* Check that line and column (bytes) describe text[off]. */
static inline void fuzz_check_position(const char *text, size_t off,
				       unsigned line, unsigned column)
{
	unsigned l = 1;
	size_t start = 0;

	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			l++;
			start = i + 1;
		}
	}
	FUZZ_ASSERT(line == l);
	FUZZ_ASSERT(column == off - start + 1);
}

#endif
