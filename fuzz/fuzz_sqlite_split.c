/*
 * fuzz_sqlite_split.c - libFuzzer harness for the SQLite driver's
 * splitter (drivers/sqlite/sq-split.c): any bytes split without reading
 * out of bounds, statements come in order inside the text, start and end
 * on a token, and the boundaries are exactly SQLite's own: each
 * statement with a semicolon is complete for sqlite3_complete(), no
 * prefix of it ending at one of its semicolons is, and a refused text
 * never completes either.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *       fuzz/fuzz_sqlite_split.c drivers/sqlite/sq-split.c \
 *       drivers/common/drvkit.c -lsqlite3 -o fuzz_sqlite_split
 *   ./fuzz_sqlite_split -max_total_time=20 tests/data/fuzz/sqlite_split
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../drivers/sqlite/sq-split.h"
#include "fuzz.h"

/* Inputs longer than this are cut: the oracle is quadratic. */
#define FUZZ_MAX 2048

/* True for the white space SQLite skips between tokens. */
static int fuzz_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* sqlite3_complete() of text[0, n) with extra appended. */
static int fuzz_complete(const char *text, size_t n, const char *extra)
{
	size_t e = strlen(extra);
	char *s = malloc(n + e + 1);
	int r;

	FUZZ_ASSERT(s != NULL);
	memcpy(s, text, n);
	memcpy(s + n, extra, e + 1);
	r = sqlite3_complete(s);
	free(s);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_spans *s = calloc(1, sizeof *s);
	struct dbmigrate_split_error err = { 0 };
	size_t len = size < FUZZ_MAX ? size : FUZZ_MAX, prev = 0;
	char *text;
	dbmigrate_code rc;

	FUZZ_ASSERT(s != NULL);
	/* sqlite3_complete() reads a C string: the text ends at a NUL, as
	   a migration file does (the core refuses NUL bytes). */
	if (memchr(data, 0, len) != NULL)
		len = (size_t)((const uint8_t *)memchr(data, 0, len) - data);
	/* Exactly len bytes, so that ASan sees a read past the end. */
	text = malloc(len ? len : 1);
	FUZZ_ASSERT(text != NULL);
	memcpy(text, data, len);
	rc = sq_split_text(text, len, fuzz_span, s, &err);
	if (rc == DBMIGRATE_EFILES) {
		FUZZ_ASSERT(err.message != NULL && err.hint != NULL);
		FUZZ_ASSERT(err.offset < len);
		/* SQLite never sees it complete either. */
		FUZZ_ASSERT(!fuzz_complete(text, len, "\n;"));
	} else if (rc == DBMIGRATE_OK) {
		for (size_t i = 0; i < s->n; i++) {
			const char *st = text + s->off[i];

			FUZZ_ASSERT(s->len[i] > 0);
			FUZZ_ASSERT(s->off[i] >= prev && s->off[i] <= len &&
				    s->len[i] <= len - s->off[i]);
			FUZZ_ASSERT(!fuzz_space(st[0]) && st[0] != ';');
			FUZZ_ASSERT(!fuzz_space(st[s->len[i] - 1]));
			FUZZ_ASSERT(fuzz_complete(st, s->len[i], ";"));
			for (size_t k = 0; k < s->len[i]; k++)
				if (st[k] == ';')
					FUZZ_ASSERT(!fuzz_complete(st, k + 1, ""));
			prev = s->off[i] + s->len[i];
		}
		/* The last statement may lack its semicolon, but no more:
		   SQLite sees the whole text complete once one is added. */
		FUZZ_ASSERT(fuzz_complete(text, len, "\n;"));
	} else {
		FUZZ_ASSERT(rc == DBMIGRATE_ENOMEM && s->n == FUZZ_SPANS);
	}
	free(text);
	free(s);
	return 0;
}
