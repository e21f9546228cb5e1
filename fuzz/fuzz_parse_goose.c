/*
 * fuzz_parse_goose.c - libFuzzer harness for goose's files (`-- +goose
 * Up` / `Down`, StatementBegin/End, NO TRANSACTION), followed by what
 * the runner does next: split each body, statement blocks whole. Any
 * file text must parse or fail cleanly at a line of the file; a parsed
 * body must be an exact slice of the file, up before down, and its
 * blocks sorted, disjoint and inside it, each one statement at most.
 *
 * tests/fuzz-smoke.sh builds it (make check, make fuzz); by hand:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *       fuzz/fuzz_parse_goose.c src/*.c -lcrypto -ldl -lpq \
 *       -o fuzz_parse_goose
 *   mkdir -p corpus && ./fuzz_parse_goose -max_total_time=60 corpus \
 *       tests/data/fuzz/parse_goose
 *
 * (The first directory receives new inputs: never the seed corpus.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "errors.h"
#include "fsutil.h"
#include "migration.h"
#include "fuzz-split.h"

/* Check a parsed body and split it as the runner would. */
static void fuzz_body(const struct migration *m, const struct migration_body *b,
		      const char *text, size_t len)
{
	size_t end = 0;

	FUZZ_ASSERT(b->present && b->verbatim);
	FUZZ_ASSERT(b->offset <= len && b->len <= len - b->offset);
	FUZZ_ASSERT(b->sql[b->len] == '\0');
	FUZZ_ASSERT(memcmp(b->sql, text + b->offset, b->len) == 0);
	fuzz_check_position(text, b->offset, b->line, b->column);
	FUZZ_ASSERT((b->nwhole == 0) == (b->whole == NULL));
	for (size_t k = 0; k < b->nwhole; k++) {
		FUZZ_ASSERT(b->whole[k].offset >= end);
		end = b->whole[k].offset + b->whole[k].len;
		FUZZ_ASSERT(end <= b->len);
	}
	fuzz_prepare(m, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct migration m;
	dbmigrate_error err = { .code = DBMIGRATE_OK };
	size_t bad;
	const char *why;
	char *copy;

	if (size == 0 || !fsutil_check_text((const char *)data, size, &bad, &why))
		return 0;
	memset(&m, 0, sizeof m);
	m.id = fuzz_strdup("1");
	m.name = fuzz_strdup("fuzz");
	m.label = fuzz_strdup("1_fuzz");
	m.path = fuzz_strdup("1_fuzz.sql");
	m.format = MIGRATION_FORMAT_SQL;
	if ((m.text = malloc(size + 1)) == NULL || (copy = malloc(size + 1)) == NULL)
		abort();
	memcpy(m.text, data, size);
	m.text[size] = '\0';
	memcpy(copy, data, size);
	copy[size] = '\0';
	m.text_len = size;
	if (parse_goose(&m, &err) != DBMIGRATE_OK) {
		FUZZ_ASSERT(err.code == DBMIGRATE_EFILES || err.code == DBMIGRATE_ENOMEM);
		FUZZ_ASSERT(err.message != NULL && err.message[0] != '\0');
		FUZZ_ASSERT(err.line <= fuzz_lines(copy, size));
		FUZZ_ASSERT(!m.up.present && !m.down.present);
	} else {
		/* Bodies are checked against the text as read. */
		fuzz_body(&m, &m.up, copy, size);
		if (m.down.present) {
			fuzz_body(&m, &m.down, copy, size);
			FUZZ_ASSERT(m.up.offset + m.up.len <= m.down.offset);
		}
	}
	/* What a tracking row kept finds blocks inside itself. */
	{
		struct migration_segment *segs;
		size_t n, end = 0;

		FUZZ_ASSERT(parse_goose_segments(copy, size, &segs, &n));
		for (size_t k = 0; k < n; k++) {
			FUZZ_ASSERT(segs[k].offset >= end);
			end = segs[k].offset + segs[k].len;
			FUZZ_ASSERT(end <= size);
		}
		free(segs);
	}
	free(copy);
	errors_clear(&err);
	migration_free(&m);
	return 0;
}
