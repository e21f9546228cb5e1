/*
 * fuzz_parse_sql.c - libFuzzer harness for the .sql formats (dbmate's
 * `-- migrate:up` / `-- migrate:down` sections, and .up.sql/.down.sql
 * pairs), followed by what the migrator does next with each body:
 * split it into statements and check its transaction control. Any text
 * a file can hold (migration_load() lets only non-empty UTF-8 without
 * NUL bytes through, so that is what is fed) must parse or fail cleanly,
 * and a parsed body must be an exact slice of the file at the offset,
 * line and column it claims, up before down, both inside the file.
 *
 * The first input byte picks the format: even, one .sql file; odd, a
 * pair whose .up.sql and .down.sql texts are the rest of the input cut
 * where the second byte says.
 *
 * tests/fuzz-smoke.sh builds it (make check, make fuzz); by hand:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
 *       fuzz/fuzz_parse_sql.c src/files/parse-sql.c src/files/parse-js.c \
 *       src/files/migration.c src/util/checksum.c src/util/fsutil.c src/util/errors.c \
 *       src/util/strbuf.c src/host/lexer.c src/host/txcontrol.c src/plan/split.c \
 *       src/host/driver.c -ldl -lcrypto -o fuzz_parse_sql
 *   mkdir -p corpus && ./fuzz_parse_sql -max_total_time=60 corpus \
 *       tests/data/fuzz/parse_sql
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

/*
 * True when text (len bytes) holds s. The parse ends the up body with a
 * NUL over the down marker, so the text is searched piece by piece.
 */
static int fuzz_holds(const char *text, size_t len, const char *s)
{
	for (size_t i = 0; i < len; i += strlen(text + i) + 1)
		if (strstr(text + i, s) != NULL)
			return 1;
	return 0;
}

/* Check a parsed body: an exact, terminated slice of its file's text. */
static void fuzz_check_body(const struct migration_body *b, const char *path,
			    const char *text, size_t len)
{
	FUZZ_ASSERT(b->sql != NULL && b->path == path);
	FUZZ_ASSERT(b->verbatim);
	FUZZ_ASSERT(b->offset <= len && b->len <= len - b->offset);
	FUZZ_ASSERT(b->sql[b->len] == '\0');
	FUZZ_ASSERT(memcmp(b->sql, text + b->offset, b->len) == 0);
	fuzz_check_position(text, b->offset, b->line, b->column);
}

/* Check a failure: a message, and a place inside the file. */
static void fuzz_check_error(const dbmigrate_error *err, const char *text,
			     size_t len)
{
	FUZZ_ASSERT(err->code == DBMIGRATE_EFILES);
	FUZZ_ASSERT(err->message != NULL && err->message[0] != '\0');
	if (err->line > 0 && text != NULL)
		FUZZ_ASSERT(err->line <= fuzz_lines(text, len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct migration m;
	dbmigrate_error err = { .code = DBMIGRATE_OK };
	size_t cut;
	dbmigrate_code rc;
	bool goose;

	if (size < 2)
		return 0;
	memset(&m, 0, sizeof m);
	m.id = fuzz_strdup("1");
	m.number = 1;
	m.name = fuzz_strdup("fuzz");
	m.label = fuzz_strdup("1_fuzz");
	if (data[0] & 1) {
		/* A pair: the down file may be absent (cut at the end). */
		cut = (size - 2) * data[1] / 255;
		m.format = MIGRATION_FORMAT_PAIR;
		m.path = fuzz_strdup("1_fuzz.up.sql");
		m.text = fuzz_text(data + 2, cut, false);
		if (cut < size - 2) {
			m.down_path = fuzz_strdup("1_fuzz.down.sql");
			m.down_text = fuzz_text(data + 2 + cut, size - 2 - cut, false);
			m.down_text_len = size - 2 - cut;
			if (m.down_text == NULL)
				goto out;
		}
		m.text_len = cut;
	} else {
		m.format = MIGRATION_FORMAT_SQL;
		m.path = fuzz_strdup("1_fuzz.sql");
		m.text = fuzz_text(data + 1, size - 1, false);
		m.text_len = size - 1;
	}
	if (m.text == NULL)
		goto out;
	/* goose's files are fuzzed by fuzz_parse_goose; here they count. */
	goose = m.format == MIGRATION_FORMAT_SQL &&
		parse_goose_detect(m.text, m.text_len);
	rc = parse_sql(&m, &err);
	if (rc != DBMIGRATE_OK) {
		fuzz_check_error(&err, m.text, m.text_len);
		goto out;
	}
	FUZZ_ASSERT(err.code == DBMIGRATE_OK);
	FUZZ_ASSERT(m.up.present);
	fuzz_check_body(&m.up, m.path, m.text, m.text_len);
	fuzz_prepare(&m, &m.up);
	if (m.no_transaction && !goose)
		FUZZ_ASSERT(fuzz_holds(m.text, m.text_len, "transaction:false"));
	if (m.down.present) {
		if (m.format == MIGRATION_FORMAT_PAIR) {
			fuzz_check_body(&m.down, m.down_path, m.down_text,
					m.down_text_len);
		} else {
			fuzz_check_body(&m.down, m.path, m.text, m.text_len);
			/* The down section follows the up section. */
			FUZZ_ASSERT(m.up.offset + m.up.len <= m.down.offset);
		}
		fuzz_prepare(&m, &m.down);
	}
out:
	errors_clear(&err);
	migration_free(&m);
	return 0;
}
