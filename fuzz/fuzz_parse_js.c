/*
 * fuzz_parse_js.c - libFuzzer harness for the seed's .ts/.js migrations,
 * read without running JavaScript (`export const up = \`...\``). Any
 * text a file can hold (non-empty UTF-8 without NUL bytes: what
 * migration_load() lets through) must parse or fail cleanly with a place
 * inside the file. A parsed body must be what the server can be sent:
 * terminated, no NUL byte (a \0 escape must be refused, not truncate the
 * SQL), valid UTF-8 after decoding escapes; a body read verbatim must be
 * the exact text between its quotes; its offset, line and column must
 * point just after the opening quote. Then the body goes through the
 * statement splitter and the transaction-control check, as the migrator
 * does before running anything.
 *
 * tests/fuzz-smoke.sh builds it (make check, make fuzz); by hand:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *       fuzz/fuzz_parse_js.c src/files/parse-js.c src/files/parse-sql.c \
 *       src/files/migration.c src/util/checksum.c src/util/fsutil.c src/util/errors.c \
 *       src/util/strbuf.c src/host/lexer.c src/host/txcontrol.c src/plan/split.c \
 *       src/host/driver.c -ldl -lcrypto -o fuzz_parse_js
 *   mkdir -p corpus && ./fuzz_parse_js -max_total_time=60 corpus \
 *       tests/data/fuzz/parse_js
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

/* Check a parsed body against the file text it came from. */
static void fuzz_check_body(const struct migration *m,
			    const struct migration_body *b)
{
	size_t bad;
	const char *why;
	char q;

	FUZZ_ASSERT(b->sql != NULL && b->path == m->path);
	FUZZ_ASSERT(b->sql[b->len] == '\0');
	FUZZ_ASSERT(memchr(b->sql, '\0', b->len) == NULL);
	FUZZ_ASSERT(b->len == 0 || fsutil_check_text(b->sql, b->len, &bad, &why));
	/* Just after an opening quote of the file. */
	FUZZ_ASSERT(b->offset >= 1 && b->offset <= m->text_len);
	q = m->text[b->offset - 1];
	FUZZ_ASSERT(q == '`' || q == '\'' || q == '"');
	fuzz_check_position(m->text, b->offset, b->line, b->column);
	if (b->verbatim) {
		FUZZ_ASSERT(b->len <= m->text_len - b->offset);
		FUZZ_ASSERT(memcmp(b->sql, m->text + b->offset, b->len) == 0);
		FUZZ_ASSERT(m->text[b->offset + b->len] == q);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct migration m;
	dbmigrate_error err = { .code = DBMIGRATE_OK };
	const char *why;
	size_t bad;

	/* migration_load() refuses anything else before parsing. */
	if (size == 0 || !fsutil_check_text((const char *)data, size, &bad, &why))
		return 0;
	memset(&m, 0, sizeof m);
	m.id = fuzz_strdup("1");
	m.number = 1;
	m.name = fuzz_strdup("fuzz");
	m.label = fuzz_strdup("1_fuzz");
	m.path = fuzz_strdup("1_fuzz.ts");
	m.format = MIGRATION_FORMAT_JS;
	/* Exactly size + 1 bytes, so ASan sees a read past the end. */
	if ((m.text = malloc(size + 1)) == NULL)
		abort();
	memcpy(m.text, data, size);
	m.text[size] = '\0';
	m.text_len = size;
	if (parse_js(&m, &err) != DBMIGRATE_OK) {
		FUZZ_ASSERT(err.code == DBMIGRATE_EFILES);
		FUZZ_ASSERT(err.message != NULL && err.message[0] != '\0');
		FUZZ_ASSERT(err.line <= fuzz_lines(m.text, m.text_len));
	} else {
		FUZZ_ASSERT(err.code == DBMIGRATE_OK);
		FUZZ_ASSERT(m.up.present);
		fuzz_check_body(&m, &m.up);
		fuzz_prepare(&m, &m.up);
		if (m.down.sql != NULL) {
			fuzz_check_body(&m, &m.down);
			if (m.down.present)
				fuzz_prepare(&m, &m.down);
		}
		if (m.no_transaction)
			FUZZ_ASSERT(m.no_transaction_line >= 1 &&
				    m.no_transaction_line <=
					    fuzz_lines(m.text, m.text_len));
	}
	errors_clear(&err);
	migration_free(&m);
	return 0;
}
